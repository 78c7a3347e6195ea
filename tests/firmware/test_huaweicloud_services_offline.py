# The optional service modules without a network: the platform's events are
# fed to the client's dispatch and what it would publish is recorded.
# Malformed events from the platform, handlers that fail, the command
# routing to sub-devices, log collection's end time, a URL that never comes.
import json
import huaweicloud as hc
import huaweicloud_config
import huaweicloud_files
import huaweicloud_gateway
import huaweicloud_log
from mqtt_test_util import Checker

ck = Checker("huaweicloud services, offline")
D = "gw_1"
c = hc.HuaweiCloud(D, "secret", "127.0.0.1", 1883)
sent = []
errors = []
c._pub = lambda kind, payload, qos=1, rid=None: sent.append((kind, rid, payload))
c.error_register_cb(errors.append)


def event_down(sid, etype, paras, obj=D):
    body = {"object_device_id": obj, "services": [{"service_id": sid, "event_type": etype, "paras": paras}]}
    c._dispatch("$oc/devices/%s/sys/events/down" % D, json.dumps(body))


def last_event():
    kind, _, p = sent[-1]
    return p["services"][0] if kind == hc.EVENTS_UP else None


# gateway: the platform's events keep the list; malformed ones are reported
seen = []
gw = huaweicloud_gateway.Gateway(c, lambda t, p: seen.append(t))
event_down("$sub_device_manager", "add_sub_device_notify",
           {"devices": [{"device_id": "c1", "node_id": "n1"}, {"device_id": "c2"}], "version": 4})
ck.eq((sorted(gw.sub_devices), gw.version, seen), (["c1", "c2"], 4, ["add_sub_device_notify"]),
      "add_sub_device_notify: list and version kept, callback called")
event_down("$sub_device_manager", "delete_sub_device_response",
           {"successful_devices": ["c2"], "failed_devices": []})
ck.eq(sorted(gw.sub_devices), ["c1"], "delete_sub_device_response (a list of ids) removes the child")
event_down("$sub_device_manager", "add_sub_device_notify", {"devices": "c3", "version": 5})
ck.ok(errors and "malformed add_sub_device_notify" in errors[-1] and gw.version == 4,
      "devices not a list: reported, nothing applied: %s" % errors[-1:])
event_down("$sub_device_manager", "start_scan", {"protocol": "zigbee"})
ck.eq(seen[-1], "start_scan", "an event type of no meaning here is passed to the callback")
ck.eq(len([s for s in sent if s[0] == hc.EVENTS_UP]), 0, "the platform's events send nothing back")

# commands: a child with a handler, a child without one, the gateway itself
calls = []
c.set_command_callback(lambda rid, cmd: calls.append(("gateway", cmd.get("object_device_id"))) or 0)
gw.set_command_handler("c1", lambda rid, cmd: calls.append(("c1", rid)) or {"paras": {"ok": 1}})


def command(obj, rid):
    c._dispatch("$oc/devices/%s/sys/commands/request_id=%s" % (D, rid),
                json.dumps({"object_device_id": obj, "command_name": "x", "paras": {}}))
    return sent[-1]


ck.eq(command("c1", "r1"), (hc.COMMAND_RESPONSE, "r1", {"paras": {"ok": 1}, "result_code": 0}),
      "command for c1 answered by c1's handler")
ck.eq(command("c9", "r2")[2], {"result_code": 0}, "command for a child without a handler: the command callback")
ck.eq(command(D, "r3")[2], {"result_code": 0}, "command for the gateway: the command callback")
ck.eq(calls, [("c1", "r1"), ("gateway", "c9"), ("gateway", D)], "who saw what")
event_down("$sub_device_manager", "delete_sub_device_notify", {"devices": [{"device_id": "c1"}], "version": 6})
c.set_command_callback(None)
ck.eq(command("c1", "r4")[2], {"result_code": 1, "response_name": "no handler"},
      "a deleted child's handler is gone: no handler")
gw.set_command_handler("c5", lambda rid, cmd: 1 / 0)
ck.eq(command("c5", "r5")[2], {"result_code": 1, "response_name": "handler error"}, "a child's handler that raises")
gw.set_command_handler("c5", None)
ck.eq(command("c5", "r6")[2], {"result_code": 1, "response_name": "no handler"}, "handler removed with None")

# requests the gateway sends
eid = gw.add_sub_devices([{"node_id": "n7", "product_id": "p"}], event_id="e-7")
e = last_event()
ck.eq((eid, e["event_type"], e["event_id"], e["paras"]["devices"][0]["parent_device_id"]),
      ("e-7", "add_sub_device_request", "e-7", D), "add_sub_devices: event id, parent set")
gw.update_status({"c1": True, "c2": "OFFLINE"})
ck.eq(sorted((d["device_id"], d["status"]) for d in last_event()["paras"]["device_statuses"]),
      [("c1", "ONLINE"), ("c2", "OFFLINE")], "update_status: True means ONLINE")
ck.ok(len(last_event()["event_id"]) == 36, "a generated event id has 36 characters")
gw.sync()
ck.eq(last_event()["paras"], {"version": 6}, "sync() sends the version the gateway has")
ck.raises(ValueError, lambda: gw.update_status({}), "update_status({})")
ck.raises(ValueError, lambda: gw.update_status(dict(("d%d" % i, True) for i in range(101))), "101 statuses")
ck.raises(ValueError, lambda: gw.delete_sub_devices([]), "delete nothing")
ck.raises(ValueError, lambda: gw.add_sub_devices([{"node_id": "n", "product_id": "p", "device_id": "a#b"}]),
          "add with a bad device_id")

# remote configuration: results, a raising handler, malformed content
answers = []
r = [0]
huaweicloud_config.DeviceConfig(c, lambda content: r[0])


def config(content):
    event_down("$device_config", "config_update", {"config_content": content})
    return last_event()["paras"]


ck.eq(config({"a": 1}), {"result_code": 0, "description": "success"}, "handler returns 0")
r[0] = None
ck.eq(config({"a": 1}), {"result_code": 0, "description": "success"}, "handler returns None")
r[0] = 4
ck.eq(config({"a": 1}), {"result_code": 4, "description": "failure"}, "handler returns 4")
r[0] = (3, "too big")
ck.eq(config({"a": 1}), {"result_code": 3, "description": "too big"}, "handler returns (3, why)")
r[0] = "yes"
ck.eq(config({"a": 1}), {"result_code": 1, "description": "handler error"}, "a bad result is an error")
ck.ok("config handler: bad result" in errors[-1], "and reported: %s" % errors[-1])
ck.eq(config([1, 2]), {"result_code": 1, "description": "malformed config_content"}, "config_content a list")
huaweicloud_config.DeviceConfig(c, lambda content: {}["missing"])
ck.eq(config({"a": 1}), {"result_code": 1, "description": "handler error"}, "a handler that raises")
ck.ok("KeyError" in errors[-1], "its exception reported: %s" % errors[-1])

# logs: the switch, its end time, malformed switches, the SDK info report
log = huaweicloud_log.DeviceLog(c)
n = len(sent)
ck.eq((log.report("x"), len(sent)), (False, n), "collection off: nothing sent")
event_down("$log", "log_config", {"switch": "on"})
ck.ok(log.report("y", "DEVICE_COMMAND", timestamp="123") and last_event()["paras"]
      == {"timestamp": "123", "type": "DEVICE_COMMAND", "content": "y"}, "on: log_report sent")
event_down("$log", "log_config", {"switch": "on", "end_time": "20000101T000000Z"})
ck.eq((log.collecting(), log.report("z")), (False, False), "after end_time: not collecting")
event_down("$log", "log_config", {"switch": "on", "end_time": "29991231T000000Z"})
ck.ok(log.collecting(), "before end_time: collecting")
event_down("$log", "log_config", {"switch": 1})
ck.ok("malformed log_config" in errors[-1] and log.enabled, "a switch that is not on/off: reported, unchanged")
ck.raises(TypeError, lambda: log.report(5), "report(5)")
huaweicloud_log.report_sdk_info(c, fw_version=b"fw-2")
ck.eq(last_event()["paras"], {"device_sdk_version": huaweicloud_log.SDK_VERSION, "fw_version": "fw-2"},
      "sdk_info_report: only what is given")
ck.raises(TypeError, lambda: huaweicloud_log.report_sdk_info(c, sw_version=1), "sdk info: version not text")

# files: the platform never answers (no receive thread: check_msg is polled)
polls = []
c._running = False
c.check_msg = lambda: polls.append(1)
f = huaweicloud_files.Files(c, timeout=0.3)
e = ck.raises(OSError, lambda: f.download("a.bin", "/tmp/never.bin"), "no URL within the timeout")
ck.ok(e is not None and e.args[0] == 110 and polls, "OSError(110), check_msg polled: %s" % (e,))
# an answer left from an earlier request is not taken for the next one's
event_down("$file_manager", "get_download_url_response", {"url": "http://127.0.0.1:1/stale", "object_name": "x"})
ck.raises(OSError, lambda: f.download("a.bin", "/tmp/never.bin"), "a stale answer is dropped")
c.check_msg = lambda: event_down("$file_manager", "get_download_url_response", {"object_name": "x"})
ck.raises(ValueError, lambda: f.download("a.bin", "/tmp/never.bin"), "a response without url")
ck.finish()
