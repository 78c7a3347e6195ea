# Compatibility row "subscribe": subscribe(topic, qos=0, sock=None) returns
# None; QuecPython asserts a callback first (AssertionError "Subscribe
# callback is not set"); its resubscription passes sock=the client's socket.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("compat: subscribe")
cid = uid("subs")
c = MQTTClient(cid, HOST, PORT, reconn=False)
c.connect()
e = ck.raises(AssertionError, lambda: c.subscribe("s/" + cid), "no callback: AssertionError")
ck.eq(e.args[0] if e and e.args else None, "Subscribe callback is not set", "QuecPython's message")
inbox = Inbox(ck)
c.set_callback(inbox)
ck.eq(c.subscribe("s/" + cid + "/a"), None, "subscribe(topic): None")
ck.eq(c.subscribe("s/" + cid + "/b", 1, None), None, "subscribe(topic, qos, None): None")
ck.eq(c.subscribe("s/" + cid + "/c", qos=0, sock=c.sock), None, "sock= the client's own socket")
ck.raises(ValueError, lambda: c.subscribe("s/" + cid + "/d", 0, object()), "another sock: ValueError")
c.publish("s/" + cid + "/b", b"x", qos=1)
ck.ok(poll_until(lambda: inbox.find(msg=b"x"), 5000, [c]), "subscribed")
ck.eq(len(c.topic_list), 3, "three topics remembered")
c.disconnect()
ck.finish()
