#!/usr/bin/env python3
"""OTA end to end: the firmware's huaweicloud_ota against the IoTDA emulator.

Starts the emulator, runs tests/emulator/device_ota.py on the firmware, and
acts as the cloud application through the v5 REST API: uploads a package
(the emulator's stand-in for OBS), CreateOtaPackage, CreateBatchTask, then
ShowBatchTask until the device's reports settle the subtask. Scenarios:
  success         downloaded, verified, installed, progress reported, task Success
  tampered        the object changed after the package was created: SHA-256
                  mismatch, task Fail, the installed file untouched
  resumed         the connection is cut mid-download: resumed with Range, Success
  https           the download over TLS (a test CA, an HTTPS front to the
                  emulator made here): Success; a certificate for another
                  name: failure reported, nothing installed
  expired token   tokens expire on arrival: 401, failure reported, task Fail
  invalid token   an event with a wrong token: 401, failure reported
  bad events      malformed $ota events: a clear error on the error callback
  lwip            the device again over the double of QuecPython's lwIP
                  sockets (tests/firmware/lwip): a cut download resumed, Success
With --demo only the first two, narrated. Prints "N passed, N failed".

usage: test_ota_e2e.py MICROPYTHON EMULATOR [--demo]
"""
import http.server
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from lib.emulator import Emulator  # noqa: E402
DEV = "ota_device_1"
SECRET = "ota-secret"
PROJECT = "local"


class Run:
    def __init__(self, mp, emu, demo):
        self.demo = demo
        self.passed = self.failed = 0
        self.work = tempfile.mkdtemp(prefix="iotda-ota-")
        self.path = os.path.join(self.work, "firmware.bin")
        cfg = os.path.join(self.work, "iotda.toml")
        with open(cfg, "w") as f:
            f.write('mqtt = "127.0.0.1:0"\nhttp = "127.0.0.1:0"\nproject_id = "%s"\n'
                    '[[device]]\ndevice_id = "%s"\nsecret = "%s"\nproduct_id = "ota_product"\n'
                    % (PROJECT, DEV, SECRET))
        self.emulator = Emulator(emu, ["--config", cfg], self.work)
        addrs = self.emulator.addrs
        self.http = "http://" + addrs["http"]
        self.ca_der = self.make_pki()
        self.mp = mp
        self.env = dict(os.environ, E2E_DEVICE=DEV, E2E_SECRET=SECRET, OTA_PATH=self.path,
                        E2E_MQTT_PORT=addrs["mqtt"].rsplit(":", 1)[1], OTA_CA=self.ca_der)
        self.lines = []
        self.start_device(self.env)

    def start_device(self, env):
        self.device = subprocess.Popen([self.mp, os.path.join(HERE, "device_ota.py")], env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, args=(self.device,), daemon=True).start()

    def make_pki(self):
        """A test CA and a certificate for DNS:localhost (openssl); the CA as DER."""
        d = self.work

        def sh(*a):
            subprocess.run(a, cwd=d, check=True, capture_output=True)
        ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
        sh("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
           "-subj", "/CN=ota test CA")
        sh("openssl", "req", *ec, "-keyout", "web.key", "-out", "web.csr", "-subj", "/CN=localhost")
        with open(os.path.join(d, "web.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost\n")
        sh("openssl", "x509", "-req", "-in", "web.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
           "-CAcreateserial", "-out", "web.pem", "-days", "2", "-extfile", "web.ext")
        sh("openssl", "x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der")
        return os.path.join(d, "ca.der")

    def https_front(self):
        """An HTTPS server on localhost passing GETs (token, Range) to the
        emulator: the emulator's own listener is plain HTTP. Its port."""
        upstream = self.http

        class Front(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                h = {k: self.headers[k] for k in ("Authorization", "Range") if self.headers[k]}
                req = urllib.request.Request(upstream + self.path, headers=h)
                try:
                    r = urllib.request.urlopen(req, timeout=10)
                except urllib.error.HTTPError as e:
                    r = e
                body = r.read()
                self.send_response(r.status if hasattr(r, "status") else r.code)
                for k in ("Content-Type", "Content-Range", "Accept-Ranges"):
                    if r.headers.get(k):
                        self.send_header(k, r.headers[k])
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.work, "web.pem"), os.path.join(self.work, "web.key"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.front = srv
        return srv.server_address[1]

    def _read(self, device):
        for line in device.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            if self.demo:
                print("  device| " + line, flush=True)

    def say(self, msg):
        print(msg, flush=True)

    def check(self, cond, what):
        print("%s %s" % ("PASS" if cond else "FAIL", what), flush=True)
        if cond:
            self.passed += 1
        else:
            self.failed += 1

    def call(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.http + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                st, v = r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            st, v = e.code, json.loads(e.read() or b"null")
        if self.demo and not path.endswith("/uplinks"):
            print("  cloud | %s %s -> %d %s" % (method, path, st, self._brief(v)), flush=True)
        return st, v

    @staticmethod
    def _brief(v):
        if isinstance(v, dict) and "batchtask" in v:
            d = v["task_details"][0] if v["task_details"] else {}
            return "task %s, %s: %s %s" % (v["batchtask"]["status"], d.get("target"), d.get("status"),
                                          d.get("error") or d.get("output") or "")
        if isinstance(v, dict) and "task_id" in v:
            return "task_id %s, %s" % (v["task_id"], v["status"])
        if isinstance(v, dict) and "package_id" in v:
            return "package_id %s, version %s" % (v["package_id"], v["version"])
        return json.dumps(v)[:100]

    def v5(self, method, path, body=None):
        return self.call(method, "/v5/iot/%s%s" % (PROJECT, path), body)

    def wait_line(self, pred, start, timeout=20):
        t0 = time.time()
        while time.time() - t0 < timeout:
            for line in self.lines[start:]:
                if pred(line):
                    return line
            time.sleep(0.05)
        return None

    def package(self, version, data, key):
        st, v = self.call("PUT", "/emulator/obs/ota-bucket/" + key, raw=data)
        assert st == 200, (st, v)
        st, pkg = self.v5("POST", "/ota-upgrades/packages", {
            "app_id": "emulator", "package_type": "firmwarePackage", "product_id": "ota_product",
            "version": version, "description": "test package",
            "file_location": {"obs_location": {"region_name": "local", "bucket_name": "ota-bucket",
                                               "object_key": key}}})
        self.check(st == 201 and pkg["version"] == version and len(pkg["package_id"]) <= 36,
                   "CreateOtaPackage %s: 201, package %s" % (version, pkg.get("package_id")))
        return pkg["package_id"]

    def task(self, package_id, name):
        st, t = self.v5("POST", "/batchtasks", {"task_name": name, "task_type": "firmwareUpgrade",
                                                "targets": [DEV], "document": {"package_id": package_id}})
        self.check(st == 201 and t["task_type"] == "firmwareUpgrade" and len(t["task_id"]) == 24,
                   "CreateBatchTask %s: 201, task %s" % (name, t.get("task_id")))
        return t["task_id"]

    def settle(self, task_id, timeout=20):
        demo, self.demo = self.demo, False  # the polls are noise: show the last
        try:
            t0 = time.time()
            while time.time() - t0 < timeout:
                st, v = self.v5("GET", "/batchtasks/" + task_id)
                if st == 200 and v["batchtask"]["status"] != "Processing":
                    break
                time.sleep(0.1)
        finally:
            self.demo = demo
        return self.v5("GET", "/batchtasks/" + task_id)[1]

    def uplinks(self, kind):
        st, v = self.call("GET", "/emulator/devices/%s/uplinks" % DEV)
        out = []
        for u in v.get("uplinks", []):
            try:
                body = json.loads(u["payload"])
            except ValueError:
                continue
            for s in body.get("services", []):
                if s.get("event_type") == kind:
                    out.append(s["paras"])
        return out

    def installed(self):
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except OSError:
            return None

    def no_part(self):
        return not os.path.exists(self.path + ".part")

    def emulator_lines(self, pattern):
        return re.findall(pattern, self.emulator.log_text())

    def upgrade(self, version, data, key, name):
        """Package + task; (task result, device 'done' line)."""
        mark = len(self.lines)
        pid = self.package(version, data, key)
        tid = self.task(pid, name)
        line = self.wait_line(lambda l: l.startswith("OTA done ") and l.endswith(" " + version), mark)
        return pid, self.settle(tid), line, mark

    # -- scenarios

    def success(self):
        self.say("== success: v2.0, 20000 bytes")
        data = os.urandom(20000)
        _, res, line, _ = self.upgrade("2.0", data, "fw/v2.0.bin", "upgrade_v2")
        self.check(line == "OTA done 0 firmware_upgrade 2.0", "device: done 0 (%s)" % line)
        self.check(res["batchtask"]["status"] == "Success" and res["task_details"][0]["status"] == "Success",
                   "ShowBatchTask: Success (%s)" % res["task_details"])
        self.check(self.installed() == data and self.no_part(), "the package is installed, no .part left")
        prog = [p.get("progress") for p in self.uplinks("upgrade_progress_report") if p.get("version") == "2.0"]
        self.check(prog[-1:] == [100] and len(prog) >= 5 and prog == sorted(prog),
                   "progress reported as it downloads: %s" % prog)
        st, d = self.v5("GET", "/devices/" + DEV)
        self.check(d.get("fw_version") == "2.0" and d.get("sw_version") == "app-1.0",
                   "the device reports fw 2.0 (sw unchanged): %s/%s" % (d.get("fw_version"), d.get("sw_version")))
        return data

    def tampered(self, installed):
        self.say("== tampered: v3.0, the object changed after the package was created")
        mark = len(self.lines)
        good = os.urandom(12000)
        pid = self.package("3.0", good, "fw/v3.0.bin")
        bad = bytearray(good)
        bad[6000] ^= 0x01
        st, _ = self.call("PUT", "/emulator/obs/ota-bucket/fw/v3.0.bin", raw=bytes(bad))
        tid = self.task(pid, "upgrade_v3_tampered")
        line = self.wait_line(lambda l: l.startswith("OTA done ") and l.endswith(" 3.0"), mark)
        res = self.settle(tid)
        self.check(line == "OTA done 7 firmware_upgrade 3.0", "device: done 7, check failed (%s)" % line)
        err = self.wait_line(lambda l: "SHA-256" in l and l.startswith("OTA error"), mark, 2)
        self.check(err is not None, "error callback: %s" % err)
        det = res["task_details"][0]
        self.check(res["batchtask"]["status"] == "Fail" and det["status"] == "Fail"
                   and det.get("error", {}).get("error_code") == "7",
                   "ShowBatchTask: Fail, error %s" % det.get("error"))
        self.check(self.installed() == installed and self.no_part(),
                   "nothing installed: the previous package is untouched, no .part left")

    def resumed(self):
        self.say("== resumed: v4.0, the connection dropped after 5000 bytes")
        st, _ = self.call("POST", "/emulator/ota/settings", {"drop_after_bytes": 5000, "count": 1})
        data = os.urandom(16000)
        _, res, line, _ = self.upgrade("4.0", data, "fw/v4.0.bin", "upgrade_v4_resumed")
        self.check(line == "OTA done 0 firmware_upgrade 4.0", "device: done 0 (%s)" % line)
        self.check(res["batchtask"]["status"] == "Success", "ShowBatchTask: Success")
        self.check(self.installed() == data and self.no_part(), "the resumed package is installed whole")
        self.check(len(self.emulator_lines(r"ota download \S+ bytes 5000-15999/16000")) == 1,
                   "the second request asked for bytes=5000-")

    def https(self):
        port = self.https_front()
        self.say("== https: v4.1 through an HTTPS front on localhost:%d (test CA verified)" % port)
        st, v = self.call("POST", "/emulator/ota/settings", {"base_url": "https://localhost:%d" % port})
        self.check(st == 200 and v["base_url"] == "https://localhost:%d" % port, "events point to the HTTPS front")
        data = os.urandom(9000)
        _, res, line, _ = self.upgrade("4.1", data, "fw/v4.1.bin", "upgrade_v41_https")
        self.check(line == "OTA done 0 firmware_upgrade 4.1", "device: done 0 over TLS (%s)" % line)
        self.check(res["batchtask"]["status"] == "Success", "ShowBatchTask: Success")
        self.check(self.installed() == data and self.no_part(), "the package is installed")
        self.say("== https: v4.2, the certificate is for localhost, the URL says 127.0.0.1")
        self.call("POST", "/emulator/ota/settings", {"base_url": "https://127.0.0.1:%d" % port})
        _, res, line, mark = self.upgrade("4.2", os.urandom(3000), "fw/v4.2.bin", "upgrade_v42_badname")
        self.call("POST", "/emulator/ota/settings", {"base_url": self.http})
        self.check(line == "OTA done 6 firmware_upgrade 4.2", "device: done 6, download failed (%s)" % line)
        err = self.wait_line(lambda l: l.startswith("OTA error") and " 4.2: " in l, mark, 2)
        self.check(err is not None, "error callback: %s" % err)
        self.check(res["batchtask"]["status"] == "Fail", "ShowBatchTask: Fail (%s)" % res["task_details"][0].get("error"))
        self.check(self.installed() == data and self.no_part(), "nothing installed")
        self.front.shutdown()
        self.front.server_close()

    def expired(self):
        self.say("== expired token: v5.0, tokens expire on arrival")
        self.call("POST", "/emulator/ota/settings", {"token_ttl_secs": 0})
        before = self.installed()
        _, res, line, mark = self.upgrade("5.0", os.urandom(3000), "fw/v5.0.bin", "upgrade_v5_expired")
        self.call("POST", "/emulator/ota/settings", {"token_ttl_secs": 86400})
        self.check(line == "OTA done 6 firmware_upgrade 5.0", "device: done 6, download failed (%s)" % line)
        err = self.wait_line(lambda l: l.startswith("OTA error") and "HTTP 401" in l, mark, 2)
        self.check(err is not None, "error callback: %s" % err)
        det = res["task_details"][0]
        self.check(res["batchtask"]["status"] == "Fail" and "401" in det.get("error", {}).get("error_msg", ""),
                   "ShowBatchTask: Fail, error %s" % det.get("error"))
        self.check(self.installed() == before and self.no_part(), "nothing installed, no .part left")

    def event(self, paras, event_type="firmware_upgrade"):
        body = {"object_device_id": DEV, "services": [
            {"service_id": "$ota", "event_type": event_type, "paras": paras}]}
        st, v = self.call("POST", "/emulator/devices/%s/events/down" % DEV, body)
        assert st == 200 and v["status"] == "DELIVERED", (st, v)

    def invalid_token(self, pid):
        self.say("== invalid token: an upgrade event with a token the platform never issued")
        mark = len(self.lines)
        before = self.installed()
        self.event({"version": "6.0", "url": "%s/emulator/ota/files/%s" % (self.http, pid),
                    "file_size": 16000, "access_token": "0" * 64, "expires": 86400, "sign": "a" * 64})
        line = self.wait_line(lambda l: l.startswith("OTA done ") and l.endswith(" 6.0"), mark)
        self.check(line == "OTA done 6 firmware_upgrade 6.0", "device: done 6 (%s)" % line)
        err = self.wait_line(lambda l: l.startswith("OTA error") and "HTTP 401" in l, mark, 2)
        self.check(err is not None, "error callback: %s" % err)
        rep = [p for p in self.uplinks("upgrade_progress_report") if p.get("version") == "6.0"]
        self.check(len(rep) == 1 and rep[0]["result_code"] == 6 and "401" in rep[0].get("description", ""),
                   "failure reported to the platform: %s" % rep)
        self.check(self.installed() == before and self.no_part(), "nothing installed")

    def bad_events(self):
        self.say("== bad events")
        good = {"version": "7.0", "url": self.http + "/x", "file_size": 1, "sign": "a" * 64}
        cases = [
            ("paras not an object", [1, 2], "firmware_upgrade: paras must be an object"),
            ("no url", dict(good, url=None), "firmware_upgrade: url must be a non-empty string"),
            ("ftp url", dict(good, url="ftp://h/x"), "firmware_upgrade: url must be http:// or https://"),
            ("short sign", dict(good, sign="abc"), "firmware_upgrade: sign must be 64 hex digits"),
            ("file_size a string", dict(good, file_size="1"), "firmware_upgrade: file_size must be an int"),
            ("token with a newline", dict(good, access_token="a\r\nX: y"),
             "firmware_upgrade: access_token must be a non-empty string without spaces"),
            ("no version", dict(good, version=""), "firmware_upgrade: version must be a non-empty string"),
        ]
        for what, paras, expect in cases:
            mark = len(self.lines)
            self.event(paras)
            err = self.wait_line(lambda l: l.startswith("OTA error"), mark, 5)
            self.check(err is not None and expect in err, "%s: %s" % (what, err))
        mark = len(self.lines)
        self.event({}, "firmware_downgrade")
        err = self.wait_line(lambda l: l.startswith("OTA error"), mark, 5)
        self.check(err is not None and "unknown event_type firmware_downgrade" in err, "unknown event: %s" % err)
        n = len(self.uplinks("version_report"))
        self.event({}, "version_query")
        t0 = time.time()
        while time.time() - t0 < 5 and len(self.uplinks("version_report")) == n:
            time.sleep(0.05)
        vr = self.uplinks("version_report")
        self.check(len(vr) == n + 1 and vr[-1].get("fw_version") == "4.1",
                   "version_query answered: %s" % vr[-1:])
        rep = [p for p in self.uplinks("upgrade_progress_report") if p.get("version") == "7.0"]
        self.check(len(rep) >= 1 and all(p["result_code"] == 255 for p in rep),
                   "bad events with a version are reported as failed (%d)" % len(rep))

    def lwip(self):
        self.say("== lwip: v8.0 over the double of QuecPython's lwIP sockets (no readline(), the peer's "
                 "close read as ENOTCONN), the connection cut after 3000 bytes")
        self.close_device()
        mark = len(self.lines)
        self.start_device(dict(self.env, E2E_LWIP="1", MICROPYPATH=os.path.join(
            os.path.dirname(HERE), "firmware", "lwip") + ":.frozen"))
        ready = self.wait_line(lambda l: l == "OTA ready", mark)
        self.check(ready is not None, "the device started over the lwIP double")
        self.call("POST", "/emulator/ota/settings", {"drop_after_bytes": 3000, "count": 1})
        data = os.urandom(12000)
        _, res, line, _ = self.upgrade("8.0", data, "fw/v8.0.bin", "upgrade_v8_lwip")
        self.check(line == "OTA done 0 firmware_upgrade 8.0", "device: done 0 (%s)" % line)
        self.check(res["batchtask"]["status"] == "Success", "ShowBatchTask: Success (%s)" % res["task_details"])
        self.check(self.installed() == data and self.no_part(), "the resumed package is installed whole")
        self.check(len(self.emulator_lines(r"ota download \S+ bytes 3000-11999/12000")) == 1,
                   "the second request asked for bytes=3000-")

    def run(self):
        ready = self.wait_line(lambda l: l == "OTA ready", 0)
        assert ready, "device did not start:\n" + "\n".join(self.lines)
        if self.demo:
            self.say("emulator REST at %s; device %s runs fw 1.0; packages install to %s"
                     % (self.http, DEV, self.path))
        installed = self.success()
        self.tampered(installed)
        if self.demo:
            return
        self.resumed()
        self.https()
        self.expired()
        st, pk = self.v5("GET", "/ota-upgrades/packages?package_type=firmwarePackage")
        pid = [p for p in pk["packages"] if p["version"] == "4.0"][0]["package_id"]
        self.invalid_token(pid)
        self.bad_events()
        st, v = self.v5("GET", "/ota-upgrades/packages/" + pid)
        self.check(st == 200 and v["version"] == "4.0", "ShowOtaPackage: 200")
        st, v = self.v5("DELETE", "/ota-upgrades/packages/" + pid)
        st2, v2 = self.v5("GET", "/ota-upgrades/packages/" + pid)
        self.check(st == 204 and st2 == 404, "DeleteOtaPackage: 204, then 404")
        self.lwip()

    def close_device(self):
        open(self.path + ".stop", "w").close()
        try:
            self.device.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.device.kill()
        os.remove(self.path + ".stop")

    def close(self):
        self.close_device()
        self.emulator.stop()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    demo = "--demo" in sys.argv
    mp, emu = (os.path.abspath(a) for a in args[:2])
    r = Run(mp, emu, demo)
    try:
        r.run()
    except Exception as e:  # noqa: BLE001: a crash is a failure, with its reason
        r.check(False, "crashed: %r" % e)
    finally:
        r.close()
    if r.failed or not demo:
        if r.failed:
            print("--- device output\n" + "\n".join(r.lines[-60:]))
            print("--- emulator log (end)\n" + "\n".join(r.emulator.log_text().splitlines()[-60:]))
    print("%d passed, %d failed" % (r.passed, r.failed))
    sys.exit(1 if r.failed else 0)


if __name__ == "__main__":
    main()
