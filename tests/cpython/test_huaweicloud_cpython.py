#!/usr/bin/env python3
"""The frozen huaweicloud.py, run on CPython against the IoTDA emulator.

What runs: micropython/modules/huaweicloud.py unchanged (the module frozen
into the firmware), over two CPython stand-ins in this folder: umqtt.py
(paho-mqtt) and _huaweicloud.py (the native core's rules in Python). What
does not: the C glue and the Rust core (the firmware tests cover those).

The emulator listens on TLS with a generated CA; the client uses its
defaults (TLS verifying the CA, sign type 1) in QuecPython's aLiYun order
(setMqtt -> setCallback -> subscribe -> publish -> start), then every IoTDA
operation is driven through the emulator's REST API or checked in its
uplink list. Prints "N passed, N failed".

usage: test_huaweicloud_cpython.py EMULATOR
"""
import json
import os
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from lib.emulator import Emulator  # noqa: E402
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "micropython", "modules")]
import huaweicloud  # noqa: E402 the frozen module's source

DEV, SECRET, PROJECT = "cpy_device_1", "cpy-secret", "local"


def main():
    emu = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="iotda-cpy-")
    cfg = os.path.join(work, "iotda.toml")
    with open(cfg, "w") as f:
        f.write('mqtt = "127.0.0.1:0"\nmqtts = "127.0.0.1:0"\nhttp = "127.0.0.1:0"\nproject_id = "%s"\n'
                '[[device]]\ndevice_id = "%s"\nsecret = "%s"\n' % (PROJECT, DEV, SECRET))
    emulator = Emulator(emu, ["--config", cfg, "--tls-generate", os.path.join(work, "tls")], work,
                        listeners=("mqtt", "mqtts", "http"))
    addrs = emulator.addrs
    passed = failed = 0

    def check(cond, what):
        nonlocal passed, failed
        print("%s %s" % ("PASS" if cond else "FAIL", what), flush=True)
        passed, failed = passed + bool(cond), failed + (not cond)

    def wait(pred, timeout=10):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if pred():
                return True
            time.sleep(0.05)
        return False

    try:
        base = "http://%s/v5/iot/%s/devices/%s" % (addrs["http"], PROJECT, DEV)

        def rest(method, path, body=None):
            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=25) as r:
                return json.loads(r.read() or b"null")

        def uplinks():
            u = "http://%s/emulator/devices/%s/uplinks" % (addrs["http"], DEV)
            return json.loads(urllib.request.urlopen(u, timeout=5).read())["uplinks"]

        def last_up(suffix):
            for u in reversed(uplinks()):
                if u["topic"].endswith(suffix):
                    return json.loads(u["payload"]) if u["payload"].startswith("{") else u["payload"]
            return None

        with open(os.path.join(work, "tls", "ca.pem"), "rb") as f:
            ca = f.read()
        port = int(addrs["mqtts"].rsplit(":", 1)[1])
        T = "$oc/devices/" + DEV
        got, errs, events, synced, msgs = [], [], [], [], []

        # ---- the aLiYun order, with the defaults (TLS verifying the CA, sign type 1)
        c = huaweicloud.HuaweiCloud(DEV, SECRET, "127.0.0.1", port, ssl_params={"cadata": ca})
        c.error_register_cb(errs.append)
        check(c.setMqtt(keepAlive=60) == 0, "setMqtt() connects over TLS: 0")
        text = emulator.log_text()
        check("over TLS" in text and "sign type 1" in text, "emulator: login over TLS with sign type 1")
        c.setCallback(lambda t, m: got.append((t, m)))
        check(c.subscribe(T + "/user/down", 1) == 0, "subscribe() before start(): 0")
        check(c.publish(T + "/user/up", "hello", 1) == 0, "publish(topic, msg, qos) before start(): 0")
        check(wait(lambda: last_up("/user/up") == "hello"), "custom uplink recorded by the platform")
        c.start()
        check(c.getHuaweiCloudSta() == 0, "getHuaweiCloudSta() == 0")
        c.ping()

        # ---- downlinks with default replies (no callbacks yet)
        r = rest("POST", "/commands", {"service_id": "S", "command_name": "x", "paras": {}})
        check(r.get("response", {}).get("result_code") == 1, "command, no callback: default failure reply %s" % r)
        r = rest("PUT", "/properties", {"services": [{"service_id": "S", "properties": {"a": 1}}]})
        check(r.get("response", {}).get("result_code") == 1, "property set, no callback: default reply %s" % r)
        r = rest("GET", "/properties?service_id=S")
        check(r.get("response", {}).get("services") == [], "property get, no callback: empty services %s" % r)
        rest("POST", "/messages", {"message": "raw-path"})
        check(wait(lambda: any(t.endswith(b"/sys/messages/down") for t, m in got)),
              "message down, no callback: setCallback's callback")
        rest("POST", "/messages", {"message": "to-user", "topic": "down"})
        check(wait(lambda: any(t == ("%s/user/down" % T).encode() and b"to-user" in m for t, m in got)),
              "custom topic downlink to setCallback's callback")

        # ---- callbacks
        c.set_command_callback(lambda rid, cmd: {"response_name": "ok", "paras": cmd.get("paras")})
        c.set_property_set_callback(lambda rid, req: 0)
        c.set_property_get_callback(lambda rid, req: {"Thermo": {"temp": 21}})
        c.set_message_callback(msgs.append)
        c.set_event_callback(lambda s, t, p: events.append((s, t, p)))
        c.set_time_sync_callback(synced.append)
        c.set_shadow_callback(lambda rid, resp: events.append(("shadow", rid, resp)))
        r = rest("POST", "/commands", {"service_id": "S", "command_name": "go", "paras": {"x": 1}})
        check(r.get("response") == {"response_name": "ok", "paras": {"x": 1}, "result_code": 0},
              "command answered by the callback %s" % r)
        r = rest("PUT", "/properties", {"services": [{"service_id": "S", "properties": {"a": 2}}]})
        check(r.get("response", {}).get("result_code") == 0, "property set answered %s" % r)
        r = rest("GET", "/properties?service_id=Thermo")
        check(r.get("response", {}).get("services") == [{"service_id": "Thermo", "properties": {"temp": 21}}],
              "property get answered %s" % r)
        rest("POST", "/messages", {"message": "hi"})
        check(wait(lambda: msgs and isinstance(msgs[-1], dict) and msgs[-1].get("content") == "hi"),
              "message callback gets the system format as a dict")

        # ---- uplinks
        check(c.report_properties({"Thermo": {"temp": 22}}) is True, "report_properties")
        check(wait(lambda: last_up("/sys/properties/report") == {"services": [
            {"service_id": "Thermo", "properties": {"temp": 22}}]}), "property report recorded")
        sh = rest("GET", "/shadow")
        check(any(s.get("reported", {}).get("properties", {}).get("temp") == 22 for s in sh.get("shadow", [])),
              "shadow's reported side fed by the report")
        rid = c.get_shadow("Thermo")
        check(wait(lambda: any(e[0] == "shadow" and e[1] == rid for e in events)), "get_shadow answered")
        c.send_message({"k": 1}, name="n")
        check(wait(lambda: (last_up("/sys/messages/up") or {}).get("content") == {"k": 1}), "send_message (JSON)")
        c.send_message(b"\x01raw")
        check(wait(lambda: last_up("/sys/messages/up") is not None), "send_message (raw bytes)")
        c.report_sub_device_properties({"child_1": {"S": {"v": 1}}})
        check(wait(lambda: (last_up("/sys/gateway/sub_devices/properties/report") or {}).get("devices", [{}])[0]
                   .get("device_id") == "child_1"), "report_sub_device_properties")
        c.report_event("S", "alarm", {"level": 2}, event_time=0)
        check(wait(lambda: (last_up("/sys/events/up") or {}).get("services", [{}])[0].get("event_time")
                   == "19700101T000000Z"), "report_event with a formatted event_time")
        c.report_version(sw_version="1.0", fw_version="fw-1")
        check(wait(lambda: (last_up("/sys/events/up") or {}).get("services", [{}])[0].get("paras")
                   == {"sw_version": "1.0", "fw_version": "fw-1"}), "report_version")
        c.report_upgrade_progress(0, "2.0", 40, "downloading")
        check(wait(lambda: (last_up("/sys/events/up") or {}).get("services", [{}])[0].get("paras")
                   == {"result_code": 0, "version": "2.0", "progress": 40, "description": "downloading"}),
              "report_upgrade_progress (version mandatory, progress optional)")
        huaweicloud.set_time_offset(-7200)
        c.time_sync()
        check(wait(lambda: synced), "$time_sync answered")
        check(abs(huaweicloud.utc_time() - time.time()) < 5 and synced and abs(synced[0] / 1000 - time.time()) < 5,
              "clock offset learnt from $time_sync: %s s" % huaweicloud.get_time_offset())

        check(not errs, "no errors reported: %s" % errs)
        c.disconnect()
        check(wait(lambda: c.getHuaweiCloudSta() == -1), "disconnect(): -1")
        check(c.publish(T + "/user/up", "x") == -1, "publish() after disconnect(): -1")

        # ---- a wrong secret: setMqtt() -1, the reason to the error callback
        bad = huaweicloud.HuaweiCloud(DEV, "wrong", "127.0.0.1", port, ssl_params={"cadata": ca})
        e2 = []
        bad.error_register_cb(e2.append)
        check(bad.setMqtt(reconn=False) == -1 and e2, "wrong secret: setMqtt() -1, reported: %s" % e2)
        # ---- plain MQTT only when asked for (port 1883 or ssl=False)
        p = huaweicloud.HuaweiCloud(DEV, SECRET, "127.0.0.1", int(addrs["mqtt"].rsplit(":", 1)[1]), ssl=False)
        check(p.setMqtt() == 0, "ssl=False: plain MQTT login")
        p.close()
    except Exception as e:  # noqa: BLE001 - report, do not hide
        print("FAIL driver: %r" % e, flush=True)
        failed += 1
    finally:
        emulator.stop()
        if failed:
            print("---- emulator log ----\n" + emulator.log_text()[-3000:])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
