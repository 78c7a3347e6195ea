#!/usr/bin/env python3
"""The optional huaweicloud services on the firmware against the IoTDA
emulator, end to end: gateway sub-devices (huaweicloud_gateway), file
upload/download (huaweicloud_files), device logs and SDK info
(huaweicloud_log), remote configuration (huaweicloud_config).

Starts the emulator (free ports, one gateway device), runs
tests/emulator/device_services.py on the firmware, and plays the platform's
side through the v5 REST API and the emulator's /emulator endpoints.
Prints "N passed, N failed"; about 5 s.

usage: test_services_e2e.py MICROPYTHON EMULATOR
"""
import hashlib
import json
import os
import shutil
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
DEV = "e2e_gw"
SECRET = "gw-secret"
PROJECT = "local"


def file_server(stored, cert=None, key=None):
    """A thread serving PUT (kept in `stored`) and GET on a free port, over
    TLS when given a certificate."""
    import http.server
    import ssl

    class H(http.server.BaseHTTPRequestHandler):
        def do_PUT(self):
            stored[self.path.split("?")[0]] = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            body = stored.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main():
    mp, emu = (os.path.abspath(a) for a in sys.argv[1:3])
    work = tempfile.mkdtemp(prefix="iotda-services-")
    cfg = os.path.join(work, "iotda.toml")
    with open(cfg, "w") as f:
        f.write('mqtt = "127.0.0.1:0"\nhttp = "127.0.0.1:0"\nproject_id = "%s"\nsync_timeout_secs = 5\n'
                '[[device]]\ndevice_id = "%s"\nsecret = "%s"\n' % (PROJECT, DEV, SECRET))
    up = bytes((i * 7 + 3) % 251 for i in range(5000))  # 5000 bytes: many 256-byte chunks
    down = bytes((i * 13) % 256 for i in range(3001))
    with open(os.path.join(work, "up.txt"), "wb") as f:
        f.write(up)
    tls_dir = os.path.join(work, "tls")  # the emulator's test CA, for the HTTPS part
    emulator = Emulator(emu, ["--config", cfg, "--tls-generate", tls_dir, "--mqtts", "127.0.0.1:0"], work)
    addrs = emulator.addrs
    passed = failed = 0
    device = None
    lines = []
    try:
        http = "http://" + addrs["http"]
        v5 = "%s/v5/iot/%s" % (http, PROJECT)

        def call(method, url, body=None, raw=False):
            data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
            req = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    text = r.read()
                    return r.status, (text if raw else json.loads(text or b"null"))
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read() or b"null")

        # the file the device will download, placed before it starts
        st, _ = call("PUT", "%s/emulator/files/%s_down.bin" % (http, DEV), down)
        assert st == 201, st

        env = dict(os.environ, E2E_DEVICE=DEV, E2E_SECRET=SECRET, E2E_WORK=work,
                   E2E_MQTT_PORT=addrs["mqtt"].rsplit(":", 1)[1])
        device = subprocess.Popen([mp, os.path.join(HERE, "device_services.py")], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=lambda: [lines.append(l.rstrip("\n")) for l in device.stdout],
                         daemon=True).start()

        def line(tag, timeout=15):
            t0 = time.time()
            while time.time() - t0 < timeout:
                ended = device.poll() is not None  # then its last lines are read below
                for l in list(lines):
                    if l.startswith("SVC %s" % tag):
                        return l[len("SVC %s" % tag):].strip()
                if ended and time.time() - t0 > 0.5:
                    return None
                time.sleep(0.02)
            return None

        def check(cond, what):
            nonlocal passed, failed
            print("%s %s" % ("PASS" if cond else "FAIL", what), flush=True)
            if cond:
                passed += 1
            else:
                failed += 1

        check(line("setMqtt") == "0", "gateway logged in")
        expect_bad = {
            "add_empty": "ValueError: devices: a list of 1..50 dicts",
            "add_no_product": "ValueError: each device needs node_id and product_id (str)",
            "add_51": "ValueError: devices: a list of 1..50 dicts",
            "status_value": "ValueError: status must be ONLINE or OFFLINE",
            "delete_bad_id": "ValueError",
            "handler_not_callable": "TypeError: callback must be callable or None",
            "upload_path_name": "ValueError: file_name: 1..255 characters, no path",
            "upload_no_size": "TypeError: source: a path, or a stream with readinto() and size",
            "download_sink": "TypeError: sink: a path or a stream with write()",
            "log_type": "ValueError: log_type: one of DEVICE_STATUS, DEVICE_PROPERTY, DEVICE_MESSAGE, DEVICE_COMMAND",
            "config_handler": "TypeError: callback must be callable or None",
            "chunk": "ValueError: chunk: at least 64 bytes",
        }
        for name, want in expect_bad.items():
            got = line("bad " + name)
            check(got is not None and got.startswith(want), "bad input %s: %s" % (name, got))

        check(line("added") == "['child_2', 'p_n1'] ['IOTDA.010002'] ['child_2', 'p_n1']",
              "add_sub_device_request: two added, the gateway's own id refused: %s" % line("added"))
        check(line("status") == "['child_2', 'p_n1'] ['stranger'] ONLINE",
              "sub_device_update_status: own children updated, a stranger refused: %s" % line("status"))
        st, ch = call("GET", v5 + "/devices/p_n1")
        check(st == 200 and ch.get("gateway_id") == DEV and ch.get("status") == "ONLINE"
              and ch.get("node_type") == "ENDPOINT", "ShowDevice of the child: gateway, status: %s" % ch)

        check(line("ready_commands") is not None, "command handler for p_n1 set")
        st, r = call("POST", v5 + "/devices/p_n1/commands", {"service_id": "Meter", "command_name": "open", "paras": {}})
        check(st == 200 and r["response"].get("paras") == {"who": "p_n1"},
              "command to the sub-device went through the gateway to its handler: %s" % r)
        check(line("child_command") == "p_n1 open", "the child's handler saw it")
        st, r = call("POST", v5 + "/devices/%s/commands" % DEV, {"command_name": "x", "paras": {}})
        check(st == 200 and r["response"].get("paras") == {"who": "gateway"},
              "a command to the gateway itself still goes to its own callback: %s" % r)
        st, sh = call("GET", v5 + "/devices/p_n1/shadow")
        rep = [s for s in sh.get("shadow", []) if s["service_id"] == "Meter"]
        check(rep and rep[0]["reported"]["properties"] == {"flow": 7},
              "the batch report fed the child's shadow: %s" % sh)

        st, r = call("POST", v5 + "/devices", {"node_id": "n9", "product_id": "p", "gateway_id": DEV})
        check(st == 201 and r.get("gateway_id") == DEV, "AddDevice with gateway_id: %s %s" % (st, r))
        st, r = call("POST", v5 + "/devices", {"node_id": "n8", "product_id": "p", "gateway_id": "nope"})
        check(st == 400 and r.get("error_code") == "IOTDA.000006", "AddDevice under an unknown gateway: %s %s" % (st, r))
        st, _ = call("DELETE", v5 + "/devices/p_n9")
        check(st == 204, "DeleteDevice of the child: %s" % st)
        got = line("notified")
        check(got is not None and got.startswith("['p_n9'] ['p_n9'] ") and got.endswith(" False"),
              "the gateway was notified of both, its list follows: %s" % got)
        check(line("deleted") == "['child_2'] ['p_n9'] ['p_n1']",
              "delete_sub_device_request: own child deleted, an already deleted one refused: %s" % line("deleted"))
        got = line("synced")
        check(got is not None and got.startswith("['p_n1'] ") and int(got.split()[-1]) >= 5,
              "sub_device_sync_request from version 0 rebuilt the list: %s" % got)
        st, r = call("GET", v5 + "/devices?gateway_id=" + DEV)
        check(st == 200 and [d["device_id"] for d in r["devices"]] == ["p_n1"],
              "ListDevices?gateway_id= lists the remaining child: %s" % r)

        obj = line("uploaded")
        st, body = call("GET", "%s/emulator/files/%s" % (http, obj), raw=True)
        check(obj == DEV + "_up.txt" and st == 200 and body == up,
              "upload: %s, %d bytes, content equal" % (obj, len(body) if st == 200 else -1))
        check(line("downloaded") == str(len(down)), "download: byte count %s" % line("downloaded"))
        with open(os.path.join(work, "down.bin"), "rb") as f:
            check(hashlib.sha256(f.read()).digest() == hashlib.sha256(down).digest(), "downloaded file equal")
        got = line("missing")
        check(got is not None and "HTTP 404 NoSuchKey" in got and got.endswith("False False"),
              "missing file: OSError, no file, no .part left: %s" % got)
        st, fl = call("GET", http + "/emulator/files")
        res = {f["object_name"]: (f["upload_result"] or f["download_result"] or {}) for f in fl["files"]}
        check(res.get(DEV + "_up.txt", {}).get("result_code") == 0
              and res.get(DEV + "_down.bin", {}).get("result_code") == 0
              and res.get(DEV + "_missing.bin", {}).get("result_code") == 1
              and res[DEV + "_missing.bin"].get("status_code") == 404,
              "results reported to the platform: %s" % res)

        check(line("log_off") == "False", "log report while collection is off: not sent")
        check(line("log_waiting") is not None, "device waits for log collection")
        st, r = call("POST", http + "/emulator/devices/%s/log_config" % DEV, {"switch": "on", "end_time": "20991231T000000Z"})
        check(st == 200 and r["delivery"] == "DELIVERED", "log_config on sent: %s" % r)
        check(line("log_on") == "True 20991231T000000Z", "device honours it: %s" % line("log_on"))
        st, r = call("POST", http + "/emulator/devices/%s/log_config" % DEV, {"switch": "maybe"})
        check(st == 400 and r["error_code"] == "IOTDA.000006", "bad switch refused: %s" % r)
        st, r = call("POST", http + "/emulator/devices/%s/log_config" % DEV, {"switch": "off"})
        check(line("log_off_again") == "False", "log_config off honoured")
        st, r = call("GET", http + "/emulator/devices/%s/logs" % DEV)
        check([(l["type"], l["content"], l["collecting"]) for l in r["logs"]] == [("DEVICE_MESSAGE", "hello log", True)],
              "the emulator collected exactly the log sent while on: %s" % r["logs"])

        check(line("config_waiting") is not None, "device waits for configuration")
        st, r = call("GET", http + "/emulator/devices/%s/sdk_info" % DEV)
        check(r["sdk_info"] == {"device_sdk_version": "QuecPython_huaweicloud_v1", "sw_version": "1.0",
                                "fw_version": "fw-1", "device_ip": "10.0.0.2"}, "sdk_info_report: %s" % r)
        st, r = call("POST", http + "/emulator/devices/%s/config" % DEV, {"config_content": {"rate": 5}})
        check(st == 200, "remote configuration pushed: %s" % r)
        t0 = time.time()
        while time.time() - t0 < 5 and call("GET", http + "/emulator/devices/%s/config" % DEV)[1]["status"] == "WAITING":
            time.sleep(0.05)
        st, r = call("GET", http + "/emulator/devices/%s/config" % DEV)
        check(r["status"] == "SUCCESS" and r["result_code"] == 0, "config_update_response success: %s" % r)
        st, r = call("POST", http + "/emulator/devices/%s/config" % DEV, {"config_content": {"volume": 1}})
        t0 = time.time()
        while time.time() - t0 < 5 and call("GET", http + "/emulator/devices/%s/config" % DEV)[1]["status"] == "WAITING":
            time.sleep(0.05)
        st, r = call("GET", http + "/emulator/devices/%s/config" % DEV)
        check(r["status"] == "FAILED" and r["result_code"] == 2 and r["description"] == "unknown key",
              "the handler's refusal reported: %s" % r)
        st, r = call("POST", http + "/emulator/devices/%s/config" % DEV, {"config_content": 5})
        check(st == 400, "config_content not an object refused: %s" % r)
        check(line("configs") == "[{'rate': 5}, {'volume': 1}]", "handler got both: %s" % line("configs"))

        call("POST", v5 + "/devices/%s/messages" % DEV, {"message": "stop"})
        check(line("done") is not None and device.wait(10) == 0, "device disconnected cleanly")
        errors = [l for l in lines if l.startswith("SVC error")]
        check(not errors, "no errors reported on the device: %s" % errors)

        # the same transfers over HTTPS (the port's TLS, CA verified)
        stored = {}
        srv = file_server(stored, os.path.join(tls_dir, "server.pem"), os.path.join(tls_dir, "server.key"))
        env["E2E_HTTPS"] = "https://localhost:%d/bucket" % srv.server_address[1]
        env["E2E_CA"] = os.path.join(tls_dir, "ca.der")
        env["E2E_WRONG_CA"] = os.path.join(work, "wrongca.der")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", os.path.join(work, "wrongca.key"), "-out", env["E2E_WRONG_CA"],
                        "-outform", "DER", "-subj", "/CN=another test CA", "-days", "1"],
                       check=True, capture_output=True)
        r = subprocess.run([mp, os.path.join(HERE, "device_files_stub.py")], env=env, capture_output=True,
                           text=True, timeout=30)
        out = r.stdout + r.stderr
        srv.shutdown()
        check("TLS uploaded t.bin" in out and stored.get("/bucket/t.bin") == up,
              "upload over HTTPS: %s" % out.strip().splitlines()[:1])
        check("TLS downloaded %d" % len(up) in out, "download over HTTPS")
        with open(os.path.join(work, "stub_down.bin"), "rb") as f:
            check(f.read() == up, "downloaded over HTTPS equal")
        check("TLS wrong_ca OSError [('upload', 1, None)]" in out,
              "a server the CA does not verify: OSError, failure reported: %s" % out.strip().splitlines()[-2:])
        check("TLS reports [('upload', 0, 200), ('download', 0, 200)]" in out, "both results reported: %s" % out)

        # plain HTTP over the double of QuecPython's lwIP sockets (no readline;
        # the peer's close read as ENOTCONN once)
        stored.clear()
        os.remove(os.path.join(work, "stub_down.bin"))
        srv = file_server(stored)
        env["E2E_HTTPS"] = "http://127.0.0.1:%d/bucket" % srv.server_address[1]
        env["MICROPYPATH"] = os.path.join(os.path.dirname(HERE), "firmware", "lwip") + ":.frozen"
        r = subprocess.run([mp, os.path.join(HERE, "device_files_stub.py")], env=env, capture_output=True,
                           text=True, timeout=30)
        out = r.stdout + r.stderr
        srv.shutdown()
        down_lwip = None
        if os.path.exists(os.path.join(work, "stub_down.bin")):
            with open(os.path.join(work, "stub_down.bin"), "rb") as f:
                down_lwip = f.read()
        check(stored.get("/bucket/t.bin") == up and down_lwip == up
              and "TLS reports [('upload', 0, 200), ('download', 0, 200)]" in out,
              "upload and download over QuecPython-like lwIP sockets: %s" % out.strip().splitlines()[-1:])
    except Exception as e:  # noqa: BLE001 - report, do not hide
        print("FAIL driver: %r" % e, flush=True)
        failed += 1
    finally:
        if device and device.poll() is None:
            device.kill()
        emulator.stop()
        if failed:
            print("---- emulator log ----\n" + emulator.log_text()[-4000:])
            print("---- device output ----\n" + "\n".join(lines))
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
