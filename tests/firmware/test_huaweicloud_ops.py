# huaweicloud.HuaweiCloud against mosquitto: a second umqtt client plays the
# IoTDA platform (subscribed to the device's whole tree). Drives every
# operation: commands, property set/get, shadow, messages (JSON and raw),
# property reports (own and gateway children), events, $time_sync, $ota,
# custom topics, default responses, malformed downlinks and bad input.
import json
import huaweicloud as hc
from huaweicloud import HuaweiCloud
from umqtt import MQTTClient
from mqtt_test_util import (read_log, HOST, PORT, Checker, Inbox, Errors, uid, poll_until, require_env, sleep_ms)

ck = Checker("huaweicloud: operations against a platform stand-in")
logp = require_env("MQTT_BROKER_LOG")
TV = (TypeError, ValueError)
DEV = uid("hw").replace("-", "_")
SECRET = "devsecret-" + DEV
T = "$oc/devices/" + DEV

plat_in = Inbox()
plat = MQTTClient(DEV + "-platform", HOST, PORT, keepalive=30)
plat.set_callback(plat_in)
plat.connect()
plat.subscribe(T + "/sys/#", 1)


def up(topic, timeout=5000):
    """Wait for the device to publish on topic; return the payload (bytes)."""
    got = [None]

    def seen():
        for i, (t, m) in enumerate(plat_in.msgs):
            if t == topic.encode():
                got[0] = m
                del plat_in.msgs[i]
                return True
        return False
    poll_until(seen, timeout, [plat])
    return got[0]


def up_json(topic, what, timeout=5000):
    m = up(topic, timeout)
    if m is None:
        ck.ok(False, what + ": nothing published on " + topic)
        return {}
    try:
        return json.loads(m)
    except ValueError:
        ck.ok(False, what + ": not JSON: {!r}".format(m))
        return {}


def down(topic, payload):
    plat.publish(topic, payload, qos=1)


def settle(ms=300):
    poll_until(lambda: False, ms, [plat])


errs = Errors()
raw = Inbox()
dev = HuaweiCloud(DEV, SECRET, HOST, PORT, ssl=False)
dev.error_register_cb(errs)
dev.setCallback(raw)
ck.eq(dev.setMqtt(keepAlive=10), 0, "setMqtt(keepAlive=10)")
dev.start()
ck.eq(dev.getHuaweiCloudSta(), 0, "getHuaweiCloudSta() == 0 after start()")

# broker log: login with the IoTDA credentials, keepalive clamped to 30,
# the six system topics at QoS 1
sleep_ms(200)
log = read_log(logp)
cid = hc.conninfo(DEV, SECRET, check_timestamp=True)[0]  # sign type 1 by default
ck.ok(("as " + cid + " ") in log, "broker log: ClientId " + cid)
ck.ok(("k30, u'" + DEV + "'") in log, "broker log: keepalive clamped to 30, username = device id")
for sub in ("sys/messages/down", "sys/commands/#", "sys/properties/set/#", "sys/properties/get/#",
            "sys/shadow/get/response/#", "sys/events/down"):
    ck.ok("{}/{} (QoS 1)".format(T, sub) in log, "broker log: subscribed {} at QoS 1".format(sub))

# ---- default responses (no callbacks)
down(T + "/sys/commands/request_id=c0", json.dumps({"service_id": "s", "command_name": "x", "paras": {}}))
ck.eq(up_json(T + "/sys/commands/response/request_id=c0", "default command response"),
      {"result_code": 1, "response_name": "no handler"}, "command without callback: default response")
down(T + "/sys/properties/set/request_id=p0", json.dumps({"services": [{"service_id": "s", "properties": {"a": 1}}]}))
ck.eq(up_json(T + "/sys/properties/set/response/request_id=p0", "default set response"),
      {"result_code": 1, "result_desc": "no handler"}, "property set without callback: default response")
down(T + "/sys/properties/get/request_id=g0", json.dumps({"service_id": "s"}))
ck.eq(up_json(T + "/sys/properties/get/response/request_id=g0", "default get response"),
      {"services": []}, "property get without callback: default response")

# ---- commands
calls = []


def on_command(rid, cmd):
    calls.append((rid, cmd))
    name = cmd.get("command_name")
    if name == "echo":
        return {"result_code": 0, "response_name": "echoed", "paras": cmd["paras"]}
    if name == "later":
        return None
    if name == "code":
        return 7
    raise RuntimeError("boom")


dev.set_command_callback(on_command)
down(T + "/sys/commands/request_id=c1",
     json.dumps({"object_device_id": DEV, "service_id": "svc", "command_name": "echo", "paras": {"v": 42}}))
ck.eq(up_json(T + "/sys/commands/response/request_id=c1", "command response"),
      {"result_code": 0, "response_name": "echoed", "paras": {"v": 42}}, "command answered from the callback's dict")
ck.ok(calls and calls[0][0] == "c1" and calls[0][1]["service_id"] == "svc",
      "command callback got request_id and the parsed command")
down(T + "/sys/commands/request_id=c2", json.dumps({"service_id": "svc", "command_name": "code", "paras": {}}))
ck.eq(up_json(T + "/sys/commands/response/request_id=c2", "int result"), {"result_code": 7},
      "command callback returning an int -> result_code")
down(T + "/sys/commands/request_id=c3", json.dumps({"service_id": "svc", "command_name": "later", "paras": {}}))
ck.eq(up(T + "/sys/commands/response/request_id=c3", 800), None, "callback returning None: no automatic response")
ck.ok(dev.respond_command("c3", 0, "done", {"x": 1}), "respond_command() -> True")
ck.eq(up_json(T + "/sys/commands/response/request_id=c3", "respond_command"),
      {"result_code": 0, "response_name": "done", "paras": {"x": 1}}, "respond_command() response")
down(T + "/sys/commands/request_id=c4", json.dumps({"service_id": "svc", "command_name": "fail", "paras": {}}))
ck.eq(up_json(T + "/sys/commands/response/request_id=c4", "raising callback"),
      {"result_code": 1, "response_name": "handler error"}, "raising command callback: failure response")
ck.ok(any("RuntimeError" in e and "boom" in e for e in errs.events), "raising callback reported to the error callback")
down(T + "/sys/commands/request_id=c5", b"{not json")
ck.eq(up_json(T + "/sys/commands/response/request_id=c5", "malformed command"),
      {"result_code": 1, "response_name": "malformed request"}, "malformed command JSON: failure response")
ck.ok(any("malformed command" in e for e in errs.events), "malformed command reported to the error callback")

# ---- property set / get
sets = []


def on_set(rid, req):
    sets.append((rid, req))
    return 0 if req["services"][0]["properties"].get("ok", True) else 5


dev.set_property_set_callback(on_set)
down(T + "/sys/properties/set/request_id=p1",
     json.dumps({"object_device_id": DEV, "services": [{"service_id": "s", "properties": {"led": 1}}]}))
ck.eq(up_json(T + "/sys/properties/set/response/request_id=p1", "set"),
      {"result_code": 0, "result_desc": "success"}, "property set answered success")
ck.ok(sets and sets[0][0] == "p1" and sets[0][1]["services"][0]["properties"] == {"led": 1},
      "property set callback got request_id and the request")
down(T + "/sys/properties/set/request_id=p2", json.dumps({"services": [{"service_id": "s", "properties": {"ok": False}}]}))
ck.eq(up_json(T + "/sys/properties/set/response/request_id=p2", "set failure"),
      {"result_code": 5, "result_desc": "failure"}, "property set callback returning 5")

gets = []


def on_get(rid, req):
    gets.append((rid, req))
    return {req.get("service_id", "s"): {"temp": 25}}


dev.set_property_get_callback(on_get)
down(T + "/sys/properties/get/request_id=g1", json.dumps({"object_device_id": DEV, "service_id": "env"}))
ck.eq(up_json(T + "/sys/properties/get/response/request_id=g1", "get"),
      {"services": [{"service_id": "env", "properties": {"temp": 25}}]}, "property get answered from the callback")
ck.ok(gets and gets[0] == ("g1", {"object_device_id": DEV, "service_id": "env"}), "property get callback arguments")
dev.set_property_get_callback(lambda rid, req: [{"service_id": "a", "properties": {"x": 1}, "event_time": "20240101T000000Z"}])
down(T + "/sys/properties/get/request_id=g2", json.dumps({"service_id": "a"}))
ck.eq(up_json(T + "/sys/properties/get/response/request_id=g2", "get list"),
      {"services": [{"service_id": "a", "properties": {"x": 1}, "event_time": "20240101T000000Z"}]},
      "property get callback returning a list")

# ---- property reports
ck.ok(dev.report_properties({"env": {"temp": 21.5, "hum": 40}}) is True, "report_properties(dict) -> True")
ck.eq(up_json(T + "/sys/properties/report", "report"),
      {"services": [{"service_id": "env", "properties": {"temp": 21.5, "hum": 40}}]}, "properties report payload (dict form)")
dev.report_properties([{"service_id": "env", "properties": {"temp": 1}, "event_time": hc.event_time(1704067200)}], qos=0)
ck.eq(up_json(T + "/sys/properties/report", "report list"),
      {"services": [{"service_id": "env", "properties": {"temp": 1}, "event_time": "20240101T000000Z"}]},
      "properties report payload (list form, event_time)")
dev.report_sub_device_properties({"child_1": {"env": {"t": 2}}})
ck.eq(up_json(T + "/sys/gateway/sub_devices/properties/report", "gateway report"),
      {"devices": [{"device_id": "child_1", "services": [{"service_id": "env", "properties": {"t": 2}}]}]},
      "gateway sub-device report payload")

# ---- messages up and down
dev.send_message("hello", name="greeting", id="m1")
ck.eq(up_json(T + "/sys/messages/up", "message up"),
      {"object_device_id": DEV, "name": "greeting", "id": "m1", "content": "hello"}, "send_message: system format")
dev.send_message(b"\x00\x01raw")
ck.eq(up(T + "/sys/messages/up"), b"\x00\x01raw", "send_message(bytes): raw payload")
msgs = []
dev.set_message_callback(msgs.append)
down(T + "/sys/messages/down", json.dumps({"object_device_id": DEV, "name": "n", "id": "i", "content": "hi"}))
down(T + "/sys/messages/down", b"\xffraw bytes")
ck.ok(poll_until(lambda: len(msgs) >= 2, 5000, [plat]), "two downlink messages delivered")
ck.eq(msgs[:1], [{"object_device_id": DEV, "name": "n", "id": "i", "content": "hi"}], "system-format message -> dict")
ck.eq(msgs[1:2], [b"\xffraw bytes"], "raw message -> bytes")
dev.set_message_callback(None)
down(T + "/sys/messages/down", b"to raw callback")
ck.ok(poll_until(lambda: raw.find((T + "/sys/messages/down").encode(), b"to raw callback"), 5000, [plat]),
      "no message callback: setCallback's callback gets (topic, msg)")

# ---- custom topic
ck.eq(dev.subscribe(T + "/user/cfg", 1), 0, "subscribe() -> 0")
down(T + "/user/cfg", b"cfg-1")
ck.ok(poll_until(lambda: raw.find((T + "/user/cfg").encode(), b"cfg-1"), 5000, [plat]), "custom topic -> raw callback")
ck.eq(dev.publish(T + "/user/up", "u1", 1), 0, "publish(topic, msg, qos) on a custom topic -> 0")

# ---- shadow
shadows = []
dev.set_shadow_callback(lambda rid, s: shadows.append((rid, s)))
rid = dev.get_shadow("env")
ck.ok(isinstance(rid, str) and rid, "get_shadow() returns a request id: " + str(rid))
ck.eq(up_json(T + "/sys/shadow/get/request_id=" + rid, "shadow get"),
      {"object_device_id": DEV, "service_id": "env"}, "shadow get request payload")
shadow = {"object_device_id": DEV, "shadow": [{"service_id": "env", "desired": {"properties": {"temp": 20}},
                                                "reported": {"properties": {"temp": 21}}, "version": 3}]}
down(T + "/sys/shadow/get/response/request_id=" + rid, json.dumps(shadow))
ck.ok(poll_until(lambda: shadows, 5000, [plat]), "shadow callback called")
ck.eq(shadows[:1], [(rid, shadow)], "shadow callback got (request_id, parsed response)")
rid2 = dev.get_shadow()
ck.ok(rid2 != rid, "request ids differ")
ck.eq(up_json(T + "/sys/shadow/get/request_id=" + rid2, "shadow get all"), {"object_device_id": DEV},
      "shadow get without service_id")

# ---- events up / down
dev.report_event("alarm", "overheat", {"temp": 90}, event_time=1704067200)
ck.eq(up_json(T + "/sys/events/up", "event"),
      {"object_device_id": DEV, "services": [{"service_id": "alarm", "event_type": "overheat",
                                              "event_time": "20240101T000000Z", "paras": {"temp": 90}}]},
      "report_event payload")
dev.report_version(sw_version="1.0.0", fw_version="fw-2")
ck.eq(up_json(T + "/sys/events/up", "version report")["services"][0],
      {"service_id": "$ota", "event_type": "version_report", "paras": {"sw_version": "1.0.0", "fw_version": "fw-2"}},
      "report_version payload")
# version_query with no event callback: answered with the last reported versions
down(T + "/sys/events/down", json.dumps({"object_device_id": DEV, "services": [
    {"service_id": "$ota", "event_type": "version_query", "paras": {}}]}))
ck.eq(up_json(T + "/sys/events/up", "version query answer")["services"][0].get("paras"),
      {"sw_version": "1.0.0", "fw_version": "fw-2"}, "version_query answered with the last reported versions")
dev.report_upgrade_progress(0, "2.0", 50, description="downloading")
ck.eq(up_json(T + "/sys/events/up", "progress")["services"][0],
      {"service_id": "$ota", "event_type": "upgrade_progress_report",
       "paras": {"result_code": 0, "progress": 50, "version": "2.0", "description": "downloading"}},
      "report_upgrade_progress payload")
dev.report_upgrade_progress(255, "2.0")
ck.eq(up_json(T + "/sys/events/up", "progress")["services"][0]["paras"], {"result_code": 255, "version": "2.0"},
      "report_upgrade_progress: version mandatory, progress optional (Huawei's upgrade_progress_report)")
events = []
dev.set_event_callback(lambda s, t, p: events.append((s, t, p)))
upg = {"version": "2.0", "url": "https://example/fw", "file_size": 10, "access_token": "tok", "expires": 86400}
down(T + "/sys/events/down", json.dumps({"object_device_id": DEV, "services": [
    {"service_id": "$ota", "event_type": "firmware_upgrade", "event_time": "20240101T000000Z", "paras": upg},
    {"service_id": "custom", "event_type": "ping", "paras": {"n": 1}}]}))
ck.ok(poll_until(lambda: len(events) >= 2, 5000, [plat]), "event callback called for each event")
ck.eq(events[:2], [("$ota", "firmware_upgrade", upg), ("custom", "ping", {"n": 1})], "event callback arguments")
# a service handler takes its service's events before the event callback
handled = []
dev.set_service_handler("custom", lambda t, p: handled.append((t, p)))
down(T + "/sys/events/down", json.dumps({"object_device_id": DEV, "services": [
    {"service_id": "custom", "event_type": "ping", "paras": {"n": 2}},
    {"service_id": "other", "event_type": "x", "paras": {}}]}))
ck.ok(poll_until(lambda: handled and len(events) >= 3, 5000, [plat]), "service handler and event callback called")
ck.eq(handled, [("ping", {"n": 2})], "service handler got its event")
ck.eq(events[2:], [("other", "x", {})], "the event callback got only the other service's event")
dev.set_service_handler("custom", None)
ck.raises(TypeError, lambda: dev.set_service_handler("custom", 3), "set_service_handler: not callable")
del events[2:]

# ---- $time_sync: the platform says the time is 3 h ahead of the device
hc.set_time_offset(0)
synced = []
dev.set_time_sync_callback(synced.append)
dev.time_sync()
req = up_json(T + "/sys/events/up", "time sync request")
svc = (req.get("services") or [{}])[0]
ck.eq((svc.get("service_id"), svc.get("event_type")), ("$time_sync", "time_sync_request"), "time_sync request event")
ds = svc.get("paras", {}).get("device_send_time", 0)
ck.ok(ds > 1600000000000, "device_send_time is Unix ms: {}".format(ds))
AHEAD = 3 * 3600 * 1000
down(T + "/sys/events/down", json.dumps({"object_device_id": DEV, "services": [
    {"service_id": "$time_sync", "event_type": "time_sync_response",
     "paras": {"device_send_time": ds, "server_recv_time": ds + AHEAD, "server_send_time": ds + AHEAD + 10}}]}))
ck.ok(poll_until(lambda: synced, 5000, [plat]), "time sync callback called")
off = hc.get_time_offset()
ck.ok(3 * 3600 - 5 <= off <= 3 * 3600 + 5, "clock offset learnt from $time_sync: {} s".format(off))
ck.ok(synced and abs(synced[0] - (ds + AHEAD)) < 5000, "time sync callback got UTC ms")
ck.ok(events[2:] == [], "time_sync_response not passed to the event callback")
# the same with the numbers as strings (Huawei's Python SDK sends and accepts them)
hc.set_time_offset(0)
down(T + "/sys/events/down", json.dumps({"object_device_id": DEV, "services": [
    {"service_id": "$time_sync", "event_type": "time_sync_response",
     "paras": {"device_send_time": str(ds), "server_recv_time": str(ds + 2 * AHEAD), "server_send_time": str(ds + 2 * AHEAD)}}]}))
ck.ok(poll_until(lambda: len(synced) >= 2, 5000, [plat]), "time sync response with string numbers accepted")
off = hc.get_time_offset()
ck.ok(6 * 3600 - 10 <= off <= 6 * 3600 + 10, "clock offset from string numbers: {} s".format(off))
hc.set_time_offset(0)

# ---- malformed downlinks: reported, nothing crashes, the client keeps working
n_err = len(errs.events)
down(T + "/sys/events/down", b"]]]")
down(T + "/sys/events/down", json.dumps({"services": "nope"}))
down(T + "/sys/properties/set/request_id=p9", b"null")
ck.eq(up_json(T + "/sys/properties/set/response/request_id=p9", "malformed set"),
      {"result_code": 1, "result_desc": "malformed request"}, "malformed property set: failure response")
ck.ok(poll_until(lambda: len(errs.events) >= n_err + 3, 3000, [plat]), "malformed downlinks reported to the error callback")
down(T + "/sys/commands/request_id=c9", json.dumps({"service_id": "svc", "command_name": "echo", "paras": {}}))
ck.eq(up_json(T + "/sys/commands/response/request_id=c9", "after malformed").get("response_name"), "echoed",
      "client still answers after malformed downlinks")

# ---- bad input
ck.raises(ValueError, lambda: dev.respond_command("a/b"), "respond_command bad request id")
ck.raises(ValueError, lambda: dev.respond_command(""), "respond_command empty request id")
ck.raises(TypeError, lambda: dev.respond_command(5), "respond_command int request id")
ck.raises(ValueError, lambda: dev.publish(T + "/user/x", "m", 2), "publish qos 2")
ck.raises(TypeError, lambda: dev.report_properties(5), "report_properties(5)")
ck.raises(ValueError, lambda: dev.report_properties([{"properties": {}}]), "report_properties without service_id")
ck.raises(ValueError, lambda: dev.report_sub_device_properties({"a/b": {}}), "sub-device id with '/'")
ck.raises(ValueError, lambda: dev.report_upgrade_progress(0, "2.0", 101), "progress 101")
ck.raises(TypeError, lambda: dev.report_upgrade_progress(0, None), "progress report without a version")
ck.raises(ValueError, lambda: dev.report_version(), "report_version() without versions")
ck.raises(TypeError, lambda: dev.report_event(1, "t", {}), "report_event service_id int")
ck.raises(ValueError, lambda: dev.send_message(b"raw", name="n"), "raw message with a name")
ck.raises(ValueError, lambda: dev.start(), "start() twice")
ck.raises(ValueError, lambda: dev.setMqtt(), "setMqtt() while started")

ck.ok(not any("no acknowledgement" in e for e in errs.events),
      "every QoS 1 uplink acknowledged in time (receive thread does not steal PUBACKs)")
ck.eq(dev.getHuaweiCloudSta(), 0, "still connected")
dev.disconnect()
ck.eq(dev.getHuaweiCloudSta(), -1, "getHuaweiCloudSta() == -1 after disconnect()")
plat.disconnect()
ck.finish()
