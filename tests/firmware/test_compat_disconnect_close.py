# Compatibility row "disconnect/close": disconnect() sends DISCONNECT and
# closes; close() only closes (the broker sends the will). Both may be
# repeated. Unlike QuecPython's, the client may connect() again (ours).
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("compat: disconnect and close")
cid = uid("dc")
will = "will/" + cid
inbox = Inbox(ck)
w = MQTTClient(cid + "-w", HOST, PORT, reconn=False)
w.set_callback(inbox)
w.connect()
w.subscribe(will, 0)
c = MQTTClient(cid, HOST, PORT, reconn=False)
c.set_last_will(will, b"gone")
c.connect()
ck.eq(c.disconnect(), None, "disconnect() returns None")
ck.eq(c.disconnect(), None, "disconnect() again: harmless")
ck.eq(c.get_mqttsta(), -1, "state -1")
ck.eq(c.connect(), 0, "connect() again after disconnect() (QuecPython cannot)")
ck.eq(c.close(), None, "close() returns None")
ck.eq(c.close(), None, "close() again: harmless")
ck.ok(poll_until(lambda: inbox.find(msg=b"gone"), 5000, [w]), "close() without DISCONNECT: the broker sent the will")
ck.eq(len(inbox.msgs), 1, "disconnect() sent no will")
w.disconnect()
ck.finish()
