# set_last_will(): a client closed without DISCONNECT (close()) makes the broker
# publish its will; a client that disconnect()s cleanly does not.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("last will")
inbox = Inbox(ck)
cid = uid("will")
base = "umqtt-test/" + cid
obs = MQTTClient(cid + "-obs", HOST, PORT, keepalive=30)
obs.set_callback(inbox)
obs.connect()
obs.subscribe(base + "/#", 1)

w = MQTTClient(cid + "-w1", HOST, PORT, keepalive=30)
w.set_last_will(base + "/will1", "gone-1", qos=1)
w.connect()
w.publish(base + "/alive", b"alive", qos=1)
ck.ok(poll_until(lambda: inbox.find((base + "/alive").encode()), 5000, [obs]), "observer sees the will client")
ck.ok(inbox.find((base + "/will1").encode()) is None, "no will while connected")
w.close()
ck.ok(poll_until(lambda: inbox.find((base + "/will1").encode(), b"gone-1"), 8000, [obs]),
      "will published after close() without disconnect")

# clean disconnect: no will (bytes arguments, retain=False positional)
w2 = MQTTClient(cid + "-w2", HOST, PORT, keepalive=30)
w2.set_last_will((base + "/will2").encode(), b"gone-2", False, 0)
w2.connect()
w2.disconnect()
poll_until(lambda: False, 1500, [obs])
ck.ok(inbox.find((base + "/will2").encode()) is None, "no will after a clean disconnect()")
obs.disconnect()
ck.finish()
