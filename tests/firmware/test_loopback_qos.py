# connect / subscribe / publish / receive through the broker at QoS 0, 1, 2
# (same QoS both ways, then mixed QoS), ping(), get_mqttsta(), disconnect().
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until, wait_until

ck = Checker("loopback qos 0/1/2")
inbox = Inbox(ck)
cid = uid("loop")
c = MQTTClient(cid, HOST, PORT, keepalive=30)
c.set_callback(inbox)
r = c.connect()
ck.ok(not r, "connect() with clean session returns falsy (got {!r})".format(r))
ck.eq(c.get_mqttsta(), 0, "get_mqttsta() == 0 after connect")

base = "umqtt-test/" + cid
for q in (0, 1, 2):
    topic = "{}/q{}".format(base, q)
    c.subscribe(topic, q)
    payload = "hello qos {} \u00e9".format(q).encode()
    res = c.publish(topic, payload, qos=q)
    ck.ok(res is True, "publish qos {} returns True (got {!r})".format(q, res))
    got = wait_until(lambda: inbox.find(topic.encode()) is not None, c)
    ck.ok(got, "qos {}: message received via wait_msg".format(q))
    if got:
        ck.eq(inbox.find(topic.encode()), (topic.encode(), payload), "qos {}: topic and payload".format(q))

# mixed: subscription QoS differs from publish QoS (broker downgrades)
for sq, pq in ((2, 1), (1, 2), (0, 2), (2, 0)):
    topic = "{}/s{}p{}".format(base, sq, pq)
    c.subscribe(topic, sq)
    payload = b"mixed" + bytes([sq, pq])
    ck.ok(c.publish(topic, payload, qos=pq) is True, "publish qos {} to sub qos {}".format(pq, sq))
    got = poll_until(lambda: inbox.find(topic.encode(), payload) is not None, 5000, [c])
    ck.ok(got, "sub qos {} / pub qos {}: received via check_msg".format(sq, pq))

# several messages in a row at QoS 1 and 2, all received, in order
topic = base + "/burst"
c.subscribe(topic, 2)
n0 = len(inbox.msgs)
results = [c.publish(topic, "m{}".format(i), qos=1 + (i % 2)) for i in range(20)]
ck.ok(all(r is True for r in results), "20 publishes at QoS 1/2 return True")
poll_until(lambda: len(inbox.msgs) - n0 >= 20, 10000, [c])
got = [m for t, m in inbox.msgs[n0:] if t == topic.encode()]
ck.eq(got, [("m%d" % i).encode() for i in range(20)], "burst of 20 QoS1/2 messages received in order")

# wildcard subscription
c.subscribe(base + "/wild/+", 1)
c.publish(base + "/wild/x", b"w", qos=1)
ck.ok(poll_until(lambda: inbox.find((base + "/wild/x").encode(), b"w") is not None, 5000, [c]),
      "wildcard '+' subscription delivers")

# empty payload
c.subscribe(base + "/empty", 1)
c.publish(base + "/empty", b"", qos=1)
ck.ok(poll_until(lambda: inbox.find((base + "/empty").encode(), b"") is not None, 5000, [c]),
      "empty payload delivered as b''")

try:
    c.ping()
    ck.ok(poll_until(lambda: False, 500, [c]) is False and c.get_mqttsta() == 0, "ping() then still connected")
except Exception as e:
    ck.ok(False, "ping() raised {!r}".format(e))

c.disconnect()
ck.eq(c.get_mqttsta(), -1, "get_mqttsta() == -1 after disconnect")
ck.finish()
