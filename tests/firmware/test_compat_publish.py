# Compatibility row "publish": returns True/False (QuecPython logs instead of
# raising); publish(topic, msg, 1) sets *retain* as in QuecPython; QoS 2,
# an assertion in QuecPython, works here (ours).
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("compat: publish")
cid = uid("pub")
t = "p/" + cid
c = MQTTClient(cid, HOST, PORT, reconn=False)
c.connect()
ck.eq(c.publish(t, b"q0"), True, "QoS 0: True")
ck.eq(c.publish(t, "q1", qos=1), True, "QoS 1 acknowledged: True")
ck.eq(c.publish(t, bytearray(b"q2"), False, 2), True, "QoS 2: True (QuecPython: AssertionError)")
ck.eq(c.publish(t + "/r", b"kept", 1), True, "publish(topic, msg, 1): True")
inbox = Inbox(ck)
s = MQTTClient(cid + "-s", HOST, PORT, reconn=False)
s.set_callback(inbox)
s.connect()
s.subscribe(t + "/r", 0)
ck.ok(poll_until(lambda: inbox.find(msg=b"kept"), 5000, [s]), "publish(topic, msg, 1) was retained (third argument is retain)")
c.publish(t + "/r", b"", True)  # clear the retained message
s.disconnect()
c.disconnect()
ck.finish()
