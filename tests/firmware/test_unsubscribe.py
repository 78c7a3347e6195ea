# unsubscribe(): after it, nothing arrives on that topic; other subscriptions stay.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("unsubscribe")
inbox = Inbox(ck)
cid = uid("unsub")
c = MQTTClient(cid, HOST, PORT, keepalive=30)
c.set_callback(inbox)
c.connect()
t1 = "umqtt-test/{}/a".format(cid)
t2 = "umqtt-test/{}/b".format(cid)
c.subscribe(t1, 1)
c.subscribe(t2, 0)
c.publish(t1, b"before", qos=1)
ck.ok(poll_until(lambda: inbox.find(t1.encode(), b"before"), 5000, [c]), "received before unsubscribe")
r = c.unsubscribe(t1)
print("  unsubscribe returned {!r}".format(r))
# the UNSUBACK may be consumed inside unsubscribe() or by check_msg; either way
c.publish(t1, b"after", qos=1)
c.publish(t2, b"other", qos=1)
ck.ok(poll_until(lambda: inbox.find(t2.encode(), b"other"), 5000, [c]), "other topic still subscribed")
poll_until(lambda: False, 1500, [c])
ck.ok(inbox.find(t1.encode(), b"after") is None, "nothing arrives on the unsubscribed topic")
# unsubscribing a topic never subscribed must not break the connection
try:
    c.unsubscribe("umqtt-test/{}/never".format(cid))
    ck.ok(True, "unsubscribe of an unknown topic is harmless")
except Exception as e:
    ck.warn("unsubscribe of an unknown topic raised {!r}".format(e))
c.publish(t2, b"still", qos=1)
ck.ok(poll_until(lambda: inbox.find(t2.encode(), b"still"), 5000, [c]), "connection still fine")
c.disconnect()
ck.finish()
