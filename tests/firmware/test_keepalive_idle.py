# keepalive=5: the connection survives idleness well beyond 1.5 x keepalive,
# (a) while blocked in wait_msg(), (b) while polling check_msg(), (c) while in
# plain time.sleep() without touching the client. No silent reconnect allowed.
import time
from umqtt import MQTTClient
from mqtt_test_util import (HOST, PORT, Checker, Inbox, Errors, uid, poll_until,
                            harness, now_ms, elapsed_ms, sleep_ms)

IDLE_S = 8  # > 1.5 x keepalive: the broker would drop a silent client
ck = Checker("keepalive while idle")
inbox = Inbox(ck)
errs = Errors()
cid = uid("ka")
topic = "umqtt-test/{}/ka".format(cid)
c = MQTTClient(cid, HOST, PORT, keepalive=5)
c.set_callback(inbox)
c.error_register_cb(errs)
c.connect()
c.subscribe(topic, 1)


def loopback(tag):
    c.publish(topic, tag, qos=1)
    ok = poll_until(lambda: inbox.find(topic.encode(), tag.encode()), 5000, [c])
    ck.ok(ok, "after {}: publish/receive works".format(tag))
    ck.eq(c.get_mqttsta(), 0, "after {}: get_mqttsta() == 0".format(tag))
    ck.eq(errs.count("reconnect_start"), 0, "after {}: no reconnect happened".format(tag))


# (a) blocked in wait_msg(): the harness publishes a wake-up after IDLE_S seconds
harness("publish-after", "wake-a", IDLE_S, 1, topic, "wake-a")
t0 = now_ms()
for _ in range(100):
    c.wait_msg()
    if inbox.find(topic.encode(), b"wake-a"):
        break
ms = elapsed_ms(t0)
ck.ok(inbox.find(topic.encode(), b"wake-a") is not None, "wait_msg returned the wake-up message")
ck.ok(ms >= (IDLE_S - 1) * 1000, "blocked ~{} s in wait_msg ({} ms)".format(IDLE_S, ms))
loopback("idle-in-wait_msg")

# (b) polling check_msg()
poll_until(lambda: False, IDLE_S * 1000, [c], interval_ms=50)
loopback("idle-in-check_msg")

# (c) plain sleep, the client untouched
for _ in range(IDLE_S):
    time.sleep(1)
loopback("idle-in-time.sleep")

c.disconnect()
ck.finish()
