# retained messages: a late subscriber gets the retained message; clearing it works.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("retained")
cid = uid("ret")
topic = "umqtt-test/{}/state".format(cid)
p = MQTTClient(cid + "-p", HOST, PORT, keepalive=30)
p.connect()
ck.ok(p.publish(topic, b"retained-1", retain=True, qos=1) is True, "publish retained qos 1")
ck.ok(p.publish(topic, b"retained-2", True) is True, "publish retained (positional retain)")

inbox = Inbox(ck)
s = MQTTClient(cid + "-s", HOST, PORT, keepalive=30)
s.set_callback(inbox)
s.connect()
s.subscribe(topic, 1)
ck.ok(poll_until(lambda: inbox.find(topic.encode()), 5000, [s]), "late subscriber receives a retained message")
ck.eq(inbox.find(topic.encode()), (topic.encode(), b"retained-2"), "it is the last retained one")

# clear the retained message with an empty retained publish
p.publish(topic, b"", retain=True, qos=1)
poll_until(lambda: len(inbox.msgs) >= 2, 3000, [s])
s.disconnect()
inbox2 = Inbox(ck)
s2 = MQTTClient(cid + "-s2", HOST, PORT, keepalive=30)
s2.set_callback(inbox2)
s2.connect()
s2.subscribe(topic, 1)
poll_until(lambda: False, 1500, [s2])
ck.eq(inbox2.msgs, [], "after clearing, a new subscriber gets nothing")
s2.disconnect()
p.disconnect()
ck.finish()
