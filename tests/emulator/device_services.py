# The device side of tests/emulator/test_services_e2e.py, on the firmware:
# a gateway using the optional modules huaweicloud_gateway, _files, _log
# and _config against the emulator. Prints one "SVC ..." line per step for
# the driver; steps that need the platform to act wait for it (a few s).
import os
import time
import _thread
import huaweicloud
import huaweicloud_gateway
import huaweicloud_files
import huaweicloud_log
import huaweicloud_config

DEV = os.getenv("E2E_DEVICE")
PORT = int(os.getenv("E2E_MQTT_PORT"))
WORK = os.getenv("E2E_WORK")
events = []
_say_lock = _thread.allocate_lock()


def say(*a):
    with _say_lock:
        print("SVC " + " ".join(str(x) for x in a))


def wait_for(pred, secs=10):
    t0 = time.ticks_ms()
    while not pred():
        if time.ticks_diff(time.ticks_ms(), t0) > secs * 1000:
            return False
        time.sleep_ms(20)
    return True


def bad(name, f):
    try:
        f()
        say("bad", name, "no error")
    except Exception as e:
        say("bad", name, "%s: %s" % (type(e).__name__, e))


def event_of(t):
    for e in events:
        if e[0] == t:
            events.remove(e)
            return e[1]


c = huaweicloud.HuaweiCloud(DEV, os.getenv("E2E_SECRET"), "127.0.0.1", PORT, ssl=False)
c.error_register_cb(lambda e: say("error", e))
c.set_command_callback(lambda rid, cmd: {"paras": {"who": "gateway"}})
c.set_message_callback(lambda m: events.append(("stop", m)))
gw = huaweicloud_gateway.Gateway(c, lambda t, p: events.append((t, p)))
files = huaweicloud_files.Files(c, timeout=5, chunk=256)
log = huaweicloud_log.DeviceLog(c)
configs = []


def on_config(content):
    configs.append(content)
    return 0 if "rate" in content else (2, "unknown key")


huaweicloud_config.DeviceConfig(c, on_config)
say("setMqtt", c.setMqtt(keepAlive=60))
c.start()

# bad input: clear errors, nothing sent
bad("add_empty", lambda: gw.add_sub_devices([]))
bad("add_no_product", lambda: gw.add_sub_devices([{"node_id": "x"}]))
bad("add_51", lambda: gw.add_sub_devices([{"node_id": "n%d" % i, "product_id": "p"} for i in range(51)]))
bad("status_value", lambda: gw.update_status({"p_n1": "SLEEPING"}))
bad("delete_bad_id", lambda: gw.delete_sub_devices(["a/b"]))
bad("handler_not_callable", lambda: gw.set_command_handler("p_n1", 5))
bad("upload_path_name", lambda: files.upload("../up.txt", WORK + "/up.txt"))
bad("upload_no_size", lambda: files.upload("up.txt", open(WORK + "/up.txt", "rb")))
bad("download_sink", lambda: files.download("down.bin", 42))
bad("log_type", lambda: log.report("x", "DEVICE_MOOD"))
bad("config_handler", lambda: huaweicloud_config.DeviceConfig(c, "nope"))
bad("chunk", lambda: huaweicloud_files.Files(c, chunk=8))

# gateway: add (one refused: the gateway's own id exists), status, commands
gw.add_sub_devices([{"node_id": "n1", "product_id": "p"},
                    {"node_id": "n2", "product_id": "p", "device_id": "child_2", "name": "two"},
                    {"node_id": "n3", "product_id": "p", "device_id": DEV}])
r = wait_for(lambda: any(e[0] == "add_sub_device_response" for e in events)) and event_of("add_sub_device_response")
say("added", sorted(d["device_id"] for d in r["successful_devices"]),
    [d["error_code"] for d in r["failed_devices"]], sorted(gw.sub_devices))
gw.update_status({"p_n1": "ONLINE", "child_2": True, "stranger": "ONLINE"})
r = wait_for(lambda: any(e[0] == "sub_device_update_status_response" for e in events)) \
    and event_of("sub_device_update_status_response")
say("status", sorted(d["device_id"] for d in r["successful_devices"]),
    [d["device_id"] for d in r["failed_devices"]], gw.sub_devices["p_n1"]["status"])


def on_child_command(rid, cmd):
    say("child_command", cmd.get("object_device_id"), cmd.get("command_name"))
    return {"result_code": 0, "paras": {"who": cmd.get("object_device_id")}}


gw.set_command_handler("p_n1", on_child_command)
say("report", gw.report_properties({"p_n1": {"Meter": {"flow": 7}}}))
say("ready_commands")

# the platform adds and deletes a child through REST: notifications
r = wait_for(lambda: any(e[0] == "delete_sub_device_notify" for e in events))
add = event_of("add_sub_device_notify")
dele = event_of("delete_sub_device_notify")
say("notified", [d["device_id"] for d in add["devices"]], [d["device_id"] for d in dele["devices"]],
    gw.version, "p_n9" in gw.sub_devices)
gw.delete_sub_devices(["child_2", "p_n9"])
r = wait_for(lambda: any(e[0] == "delete_sub_device_response" for e in events)) and event_of("delete_sub_device_response")
say("deleted", r["successful_devices"], [d["device_id"] for d in r["failed_devices"]], sorted(gw.sub_devices))
gw.sub_devices.clear()
gw.version = 0
gw.sync()
wait_for(lambda: any(e[0] == "delete_sub_device_notify" for e in events))
say("synced", sorted(gw.sub_devices), gw.version)

# files: upload (streamed through a 256-byte buffer), download, a missing file
say("uploaded", files.upload("up.txt", WORK + "/up.txt"))
say("downloaded", files.download("down.bin", WORK + "/down.bin"))
try:
    files.download("missing.bin", WORK + "/missing.bin")
except OSError as e:
    say("missing", e, "missing.bin" in os.listdir(WORK), "missing.bin.part" in os.listdir(WORK))

# logs: off until the platform switches collection on, then off again
say("log_off", log.report("before collection"))
say("log_waiting")
wait_for(lambda: log.enabled)
say("log_on", log.report("hello log", "DEVICE_MESSAGE"), log.end_time)
wait_for(lambda: not log.enabled)
say("log_off_again", log.report("after collection"))

# SDK info and remote configuration
huaweicloud_log.report_sdk_info(c, sw_version="1.0", fw_version="fw-1", device_ip="10.0.0.2")
say("config_waiting")
wait_for(lambda: len(configs) >= 2)
say("configs", configs)
wait_for(lambda: any(e[0] == "stop" for e in events), 10)
c.disconnect()
say("done")
