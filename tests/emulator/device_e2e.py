# The device side of tests/emulator/test_huaweicloud_e2e.py, on the firmware:
# a huaweicloud client that answers the platform's commands and property
# requests, reports properties, asks for its shadow and syncs its clock.
# Prints one line per event for the driver; stops on the message "stop".
import os
import _thread
import time
import huaweicloud

DEV = os.getenv("E2E_DEVICE")
SECRET = os.getenv("E2E_SECRET")
PORT = int(os.getenv("E2E_MQTT_PORT"))
state = {"temp": 21, "stop": False}


_say_lock = _thread.allocate_lock()


def say(*a):
    # callbacks print from the receive thread: one line at a time
    with _say_lock:
        print("E2E " + " ".join(str(x) for x in a))


def on_command(request_id, cmd):
    say("command", cmd.get("command_name"), cmd.get("paras"))
    return {"result_code": 0, "response_name": "ack", "paras": {"echo": cmd.get("paras")}}


def on_set(request_id, req):
    for s in req.get("services", []):
        state.update(s.get("properties", {}))
    say("set", state["temp"])
    return 0


def on_get(request_id, req):
    say("get", req.get("service_id"))
    return [{"service_id": "Thermo", "properties": {"temp": state["temp"]}}]


def on_message(msg):
    content = msg.get("content") if isinstance(msg, dict) else msg
    say("message", content)
    if content == "stop":
        state["stop"] = True


def on_shadow(request_id, resp):
    say("shadow", [s.get("service_id") for s in resp.get("shadow", [])])


def on_time(utc_ms):
    say("time_sync", abs(utc_ms - time.time() * 1000) < 5000)


c = huaweicloud.HuaweiCloud(DEV, SECRET, "127.0.0.1", PORT, ssl=False)
c.error_register_cb(lambda e: say("error", e))
# QuecPython's aLiYun order: setMqtt (connects) -> setCallback -> subscribe
# -> publish -> start (listener)
say("setMqtt", c.setMqtt(keepAlive=60))
c.setCallback(lambda t, m: say("raw", t.decode(), m.decode()))
say("subscribe", c.subscribe("$oc/devices/%s/user/down" % DEV, 1))
say("publish", c.publish("$oc/devices/%s/user/up" % DEV, "hello", 1))
c.set_command_callback(on_command)
c.set_property_set_callback(on_set)
c.set_property_get_callback(on_get)
c.set_message_callback(on_message)
c.set_shadow_callback(on_shadow)
c.set_time_sync_callback(on_time)
c.start()
say("started", c.getHuaweiCloudSta())
say("report", c.report_properties({"Thermo": {"temp": state["temp"]}}))
c.send_message({"k": 1}, name="n")
c.report_sub_device_properties({"child_1": {"Thermo": {"temp": 1}}})
c.report_event("Thermo", "alarm", {"level": 2})
c.report_version(sw_version="1.0", fw_version="fw-1")
c.report_upgrade_progress(0, "2.0", 40)
say("ping", c.ping())
say("shadow_request", c.get_shadow("Thermo") is not None)
say("time_request", c.time_sync())
t0 = time.time()
while not state["stop"] and time.time() - t0 < 60:
    time.sleep_ms(50)
c.disconnect()
say("done")
