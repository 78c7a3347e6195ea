#!/usr/bin/env python3
"""The firmware's huaweicloud client against the IoTDA emulator, end to end.

Starts the emulator (free ports, a device with a secret), runs
tests/emulator/device_e2e.py on the firmware, and drives it the way a cloud
application does, through the v5 REST API: commands answered, property set
and get, messages down, the shadow fed by the device's property report,
time sync. Prints "N passed, N failed".

usage: test_huaweicloud_e2e.py MICROPYTHON EMULATOR
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from lib.emulator import Emulator  # noqa: E402
DEV = "e2e_device_1"
SECRET = "e2e-secret"
PROJECT = "local"


def main():
    mp, emu = (os.path.abspath(a) for a in sys.argv[1:3])
    work = tempfile.mkdtemp(prefix="iotda-e2e-")
    cfg = os.path.join(work, "iotda.toml")
    with open(cfg, "w") as f:
        f.write('mqtt = "127.0.0.1:0"\nhttp = "127.0.0.1:0"\nproject_id = "%s"\n'
                '[[device]]\ndevice_id = "%s"\nsecret = "%s"\n' % (PROJECT, DEV, SECRET))
    emulator = Emulator(emu, ["--config", cfg], work)
    addrs = emulator.addrs
    passed = failed = 0
    device = None
    try:
        base = "http://%s/v5/iot/%s/devices/%s" % (addrs["http"], PROJECT, DEV)

        def rest(method, path, body=None):
            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=25) as r:
                return json.loads(r.read() or b"null")

        env = dict(os.environ, E2E_DEVICE=DEV, E2E_SECRET=SECRET,
                   E2E_MQTT_PORT=addrs["mqtt"].rsplit(":", 1)[1])
        device = subprocess.Popen([mp, os.path.join(HERE, "device_e2e.py")], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        threading.Thread(target=lambda: [lines.append(l.rstrip("\n")) for l in device.stdout],
                         daemon=True).start()

        def wait_line(prefix, timeout=15):
            t0 = time.time()
            while time.time() - t0 < timeout:
                for l in lines:
                    if l.startswith("E2E " + prefix):
                        return l
                time.sleep(0.05)
            return None

        def check(cond, what):
            nonlocal passed, failed
            print("%s %s" % ("PASS" if cond else "FAIL", what), flush=True)
            if cond:
                passed += 1
            else:
                failed += 1

        check(wait_line("setMqtt 0") is not None, "aLiYun order: setMqtt() connected: 0")
        check(wait_line("subscribe 0") is not None, "aLiYun order: subscribe() before start(): 0")
        check(wait_line("publish 0") is not None, "aLiYun order: publish() before start(): 0")
        check(wait_line("started 0") is not None, "device logged in with credentials computed on the device")
        check(wait_line("report True") is not None, "property report acknowledged")
        check(wait_line("time_sync True", 10) is not None, "$time_sync answered; device clock within 5 s: %s" % [l for l in lines if "time" in l])
        check(wait_line("shadow ['Thermo']", 10) is not None, "device's shadow request answered")

        r = rest("POST", "/commands", {"service_id": "Thermo", "command_name": "beep", "paras": {"n": 2}})
        check(r.get("response", {}).get("paras", {}).get("echo") == {"n": 2}
              and r["response"].get("result_code") == 0, "command answered by the device: %s" % r)
        check(wait_line("command beep") is not None, "device saw the command")

        r = rest("PUT", "/properties", {"services": [{"service_id": "Thermo", "properties": {"temp": 30}}]})
        check(r.get("response", {}).get("result_code") == 0, "property set answered: %s" % r)
        check(wait_line("set 30") is not None, "device applied the property set")

        r = rest("GET", "/properties?service_id=Thermo")
        got = r.get("response", {}).get("services", [{}])[0].get("properties", {})
        check(got.get("temp") == 30, "property get answered with the device's value: %s" % r)

        sh = rest("GET", "/shadow")
        reported = [s for s in sh.get("shadow", []) if s.get("service_id") == "Thermo"]
        check(bool(reported) and reported[0].get("reported", {}).get("properties", {}).get("temp") == 21,
              "shadow's reported side fed by the device's report: %s" % sh)

        rest("POST", "/messages", {"message": "hello e2e"})
        check(wait_line("message hello e2e") is not None, "message delivered to the device's callback")

        ups = json.loads(urllib.request.urlopen(
            "http://%s/emulator/devices/%s/uplinks" % (addrs["http"], DEV), timeout=5).read())
        topics = [u["topic"].split("/sys/", 1)[-1] for u in ups["uplinks"]]
        check(any(t.startswith("commands/response/request_id=") for t in topics)
              and any(t.startswith("properties/set/response/") for t in topics)
              and any(t.startswith("properties/get/response/") for t in topics)
              and "properties/report" in topics,
              "every answer went up on its system topic: %s" % sorted(set(t.split("=")[0] for t in topics)))

        rest("POST", "/messages", {"message": "to-user", "topic": "down"})
        check(wait_line("raw $oc/devices/%s/user/down" % DEV) is not None, "custom downlink to setCallback's callback")
        evs = [json.loads(u["payload"]) for u in ups["uplinks"] if u["topic"].endswith("/sys/events/up")]
        paras = [e["services"][0]["paras"] for e in evs]
        check({"result_code": 0, "version": "2.0", "progress": 40} in paras
              and {"sw_version": "1.0", "fw_version": "fw-1"} in paras
              and {"level": 2} in paras, "events, version and OTA progress reports recorded: %s" % paras)
        check(any(u["topic"].endswith("/user/up") and u["payload"] == "hello" for u in ups["uplinks"])
              and any(t == "messages/up" for t in topics)
              and any(t == "gateway/sub_devices/properties/report" for t in topics),
              "custom publish, message up and sub-device report recorded")
        rest("POST", "/messages", {"message": "stop"})
        check(wait_line("done", 15) is not None and device.wait(15) == 0, "device disconnected cleanly")
        errors = [l for l in lines if l.startswith("E2E error")]
        check(not errors, "no errors reported on the device: %s" % errors)
    except Exception as e:  # noqa: BLE001 - report, do not hide
        print("FAIL driver: %r" % e, flush=True)
        failed += 1
    finally:
        if device and device.poll() is None:
            device.kill()
        emulator.stop()
        if failed:
            print("---- emulator log ----\n" + emulator.log_text()[-3000:])
            print("---- device output ----\n" + "\n".join(lines if device else []))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
