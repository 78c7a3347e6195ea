# huaweicloud: credentials are recomputed at every (re)connect. The device
# logs in with sign type 1 (timestamp checked), learns from a $time_sync
# answer that UTC is 5 hours ahead of its clock, then the broker restarts:
# the reconnect must carry the new hour in the ClientId (broker log), and the
# system subscriptions must still work. A second restart after
# set_time_offset() checks the test hook the same way.
import json
import huaweicloud as hc
from huaweicloud import HuaweiCloud
from umqtt import MQTTClient
from mqtt_test_util import (read_log, HOST, PORT, Checker, Inbox, Errors, uid, poll_until, harness, ack_present,
                            require_env)

ck = Checker("huaweicloud: new credentials after a reconnect")
DEV = uid("hwrc").replace("-", "_")
SECRET = "s-" + DEV
T = "$oc/devices/" + DEV
logp = require_env("MQTT_BROKER_LOG")

plat_in = Inbox()
plat = MQTTClient(DEV + "-platform", HOST, PORT, keepalive=30)
plat.set_callback(plat_in)
plat.connect()
plat.subscribe(T + "/sys/#", 1)


def up_json(topic, timeout=5000):
    got = []

    def seen():
        for i, (t, m) in enumerate(plat_in.msgs):
            if t == topic.encode():
                got.append(json.loads(m))
                del plat_in.msgs[i]
                return True
        return False
    poll_until(seen, timeout, [plat])
    return got[0] if got else None


def log_after_last_start():
    log = read_log(logp)
    k = log.rfind("starting")
    return log[k:] if k >= 0 else log


def restart_and_wait(ident):
    n = errs.count("reconnect_success")
    harness("restart-broker", ident, 2)
    ck.ok(poll_until(lambda: ack_present(ident + ".up"), 30000, [plat]), "broker restarted (" + ident + ")")
    ck.ok(poll_until(lambda: errs.count("reconnect_success") > n, 30000, [plat]), "device reported reconnect_success")


hc.set_time_offset(0)
errs = Errors()
dev = HuaweiCloud(DEV, SECRET, HOST, PORT, ssl=False, check_timestamp=True)
dev.error_register_cb(errs)
dev.setMqtt(keepAlive=30)
dev.set_command_callback(lambda rid, cmd: {"result_code": 0, "response_name": "pong"})
first = hc.conninfo(DEV, SECRET, check_timestamp=True)[0]
dev.start()
ck.ok(first.startswith(DEV + "_0_1_"), "sign type 1 ClientId: " + first)
ck.ok(("as " + first + " ") in log_after_last_start(), "first login with ClientId " + first)

# $time_sync: UTC is 5 h ahead of the device clock
AHEAD = 5 * 3600 * 1000
dev.time_sync()
req = up_json(T + "/sys/events/up")
ds = req["services"][0]["paras"]["device_send_time"] if req else 0
plat.publish(T + "/sys/events/down", json.dumps({"services": [
    {"service_id": "$time_sync", "event_type": "time_sync_response",
     "paras": {"device_send_time": ds, "server_recv_time": ds + AHEAD, "server_send_time": ds + AHEAD}}]}), qos=1)
ck.ok(poll_until(lambda: hc.get_time_offset() > 4 * 3600, 5000, [plat]), "offset learnt: {} s".format(hc.get_time_offset()))
second = hc.conninfo(DEV, SECRET, check_timestamp=True)[0]
ck.ok(second != first, "the expected ClientId hour changed: " + second)

restart_and_wait("hwrc1")
after = log_after_last_start()
ck.ok(("as " + second + " ") in after, "reconnect used the new ClientId " + second)
ck.ok(("as " + first + " ") not in after, "reconnect did not reuse the old ClientId")
# system subscriptions restored: the device still answers a command
plat.publish(T + "/sys/commands/request_id=r1", json.dumps({"service_id": "s", "command_name": "ping", "paras": {}}), qos=1)
ck.eq(up_json(T + "/sys/commands/response/request_id=r1", 10000), {"result_code": 0, "response_name": "pong"},
      "command answered after the reconnect")

# the test hook: set_time_offset() moves the next login to yet another hour
hc.set_time_offset(-7 * 3600)
third = hc.conninfo(DEV, SECRET, check_timestamp=True)[0]
ck.ok(third not in (first, second), "expected ClientId with offset -7 h: " + third)
restart_and_wait("hwrc2")
ck.ok(("as " + third + " ") in log_after_last_start(), "second reconnect used ClientId " + third)
ck.eq(dev.getHuaweiCloudSta(), 0, "connected at the end")
hc.set_time_offset(0)
dev.disconnect()
plat.disconnect()
ck.finish()
