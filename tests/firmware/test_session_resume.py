# clean_session=False: subscription and queued QoS 1/2 messages survive a
# disconnect; the attribute session_present is True on resumption (connect()
# returns 0, as QuecPython's).
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("session resumption")
cid = uid("sess")
topic = "umqtt-test/{}/q".format(cid)

inbox = Inbox(ck)
c = MQTTClient(cid, HOST, PORT, keepalive=30)
c.set_callback(inbox)
# start from a clean slate, then create a persistent session
c.connect(clean_session=True)
c.disconnect()
r = c.connect(clean_session=False) or c.session_present
ck.ok(not r, "first persistent connect: session present falsy (got {!r})".format(r))
c.subscribe(topic, 1)
c.subscribe(topic + "/two", 2)
c.disconnect()

p = MQTTClient(cid + "-pub", HOST, PORT, keepalive=30)
p.connect()
ck.ok(p.publish(topic, b"while-away-1", qos=1) is True, "publish qos 1 while subscriber offline")
ck.ok(p.publish(topic + "/two", b"while-away-2", qos=2) is True, "publish qos 2 while subscriber offline")
p.publish(topic, b"qos0-not-queued", qos=0)
p.disconnect()

# same object, same client id, resumed session
r = c.connect(clean_session=False) or c.session_present
ck.ok(bool(r), "resumed connect: session present truthy (got {!r})".format(r))
ck.ok(poll_until(lambda: inbox.find(topic.encode(), b"while-away-1"), 5000, [c]),
      "queued QoS 1 message delivered after resumption")
ck.ok(poll_until(lambda: inbox.find((topic + "/two").encode(), b"while-away-2"), 5000, [c]),
      "queued QoS 2 message delivered after resumption")
# the subscription itself persisted (no new subscribe call)
p.connect()
p.publish(topic, b"live", qos=1)
ck.ok(poll_until(lambda: inbox.find(topic.encode(), b"live"), 5000, [c]), "persisted subscription still active")
p.disconnect()
c.disconnect()

# a fresh client object with the same id resumes too; then clean it up
inbox2 = Inbox(ck)
c2 = MQTTClient(cid, HOST, PORT, keepalive=30)
c2.set_callback(inbox2)
r = c2.connect(clean_session=False) or c2.session_present
ck.ok(bool(r), "new client object, same id: session present truthy (got {!r})".format(r))
c2.disconnect()
r = c2.connect(clean_session=True) or c2.session_present
ck.ok(not r, "clean_session=True: session present falsy (got {!r})".format(r))
c2.disconnect()
ck.finish()
