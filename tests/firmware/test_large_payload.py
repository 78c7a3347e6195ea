# HARNESS-ARGS: -X heapsize=16M
# A 1 MiB payload round trip (QoS 1 and QoS 0), byte for byte.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until, now_ms, elapsed_ms
import gc

ck = Checker("1 MiB payload")
inbox = Inbox(ck)
cid = uid("big")
topic = "umqtt-test/{}/big".format(cid)
c = MQTTClient(cid, HOST, PORT, keepalive=30)
c.set_callback(inbox)
c.connect()
c.subscribe(topic, 1)

block = bytes(range(256))
payload = block * 4096  # 1 MiB, every byte value
assert len(payload) == 1048576
for q in (1, 0):
    inbox.msgs = []
    gc.collect()
    t0 = now_ms()
    ck.ok(c.publish(topic, payload, qos=q) is True, "publish 1 MiB at qos {}".format(q))
    got = poll_until(lambda: len(inbox.msgs) > 0, 20000, [c], interval_ms=1)
    ck.ok(got, "1 MiB message received (qos {}) in {} ms".format(q, elapsed_ms(t0)))
    if got:
        t, m = inbox.msgs[0]
        ck.eq(t, topic.encode(), "topic")
        ck.eq(len(m), len(payload), "length")
        ck.ok(m == payload, "payload byte for byte")
        t = m = None  # let the received copy go before the next round
# a small message afterwards still works
inbox.msgs = []
c.publish(topic, b"small", qos=1)
ck.ok(poll_until(lambda: inbox.find(topic.encode(), b"small"), 5000, [c]), "small message after the big ones")
c.disconnect()
ck.finish()
