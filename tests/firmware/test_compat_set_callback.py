# Compatibility row "set_callback": f(topic: bytes, msg: bytes) for every
# PUBLISH; an exception raised by f is printed and never stops the client.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("compat: set_callback")
cid = uid("scb")
t = "cb/" + cid
inbox = Inbox(ck)
raised = []


def cb(topic, msg):
    inbox(topic, msg)
    if msg == b"boom":
        raised.append(1)
        raise RuntimeError("callback failure")


c = MQTTClient(cid, HOST, PORT, reconn=False)
ck.eq(c.set_callback(cb), None, "set_callback returns None")
c.connect()
c.subscribe(t, 1)
c.publish(t, "boom", qos=1)
c.publish(t, b"after", qos=1)
ck.ok(poll_until(lambda: inbox.find(msg=b"after"), 5000, [c]), "messages keep coming after a callback raised")
ck.eq(len(raised), 1, "the raising callback ran")
ck.ok(inbox.find(topic=t.encode(), msg=b"boom") is not None, "topic and message are bytes (str published)")
ck.eq(c.get_mqttsta(), 0, "still connected")
c.disconnect()
ck.finish()
