# Issue 10, defect 3: a reconnect restores every subscription and resends
# every message in flight, whatever their number. Before: more than 8
# subscriptions overflowed the core's request table in the middle of the
# restore, which stopped there silently (the rest never resubscribed, no
# in-flight message resent), and a filter stored unchecked while offline
# poisoned every later restore.
from umqtt import MQTTClient
from mqtt_test_util import (HOST, PORT, Checker, Inbox, Errors, uid, poll_until,
                            harness, ack_present)

N = 20
ck = Checker("restore many subscriptions after a reconnect")
cid = uid("rs")
base = "umqtt-test/" + cid

inbox = Inbox(ck)
errs = Errors()
c = MQTTClient(cid, HOST, PORT, keepalive=10)
c.set_callback(inbox)
c.error_register_cb(errs)
c.connect()
for i in range(N):
    c.subscribe("{}/t{}".format(base, i), i % 3)

harness("restart-broker", "rs1", 2)
ck.ok(poll_until(lambda: errs.count("reconnect_start") > 0, 10000), "the lost link was noticed")
# while offline: a bad filter is refused now, not stored for the restore
ck.raises((ValueError,), lambda: c.subscribe(base + "/bad/#/x", 0), "invalid filter while offline")
ck.eq(c.publish(base + "/t0", "queued", False, 1), True, "a QoS 1 publish while offline is queued")
ck.ok(poll_until(lambda: ack_present("rs1.up"), 30000), "broker back")
ck.ok(poll_until(lambda: errs.count("reconnect_success") > 0, 30000, [c]), "reconnected")

pub = MQTTClient(cid + "-pub", HOST, PORT)
pub.connect()
for i in range(N):
    pub.publish("{}/t{}".format(base, i), "m{}".format(i), False, 1)
want = [("{}/t{}".format(base, i).encode(), "m{}".format(i).encode()) for i in range(N)]
ck.ok(poll_until(lambda: all(inbox.find(t, m) for t, m in want), 15000, [c]),
      "all {} subscriptions restored ({} of them received)".format(
          N, sum(1 for t, m in want if inbox.find(t, m))))
ck.ok(inbox.find((base + "/t0").encode(), b"queued") is not None, "the queued message was sent after the reconnect")
ck.eq(c.get_mqttsta(), 0, "connected")
pub.disconnect()
c.disconnect()
ck.finish()
