# Compatibility row "custom attributes": scripts hang their own state on the
# client (it is a plain Python object in QuecPython) and set cb /
# error_callback directly; the client's own state stays read-only.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("compat: custom attributes")
cid = uid("cattr")
c = MQTTClient(cid, HOST, PORT, reconn=False)
c.topic = "t/" + cid
c.counter = 0
c.counter += 1
ck.eq((c.topic, c.counter), ("t/" + cid, 1), "own attributes set, read, updated")
ck.ok(hasattr(c, "counter") and not hasattr(c, "missing"), "hasattr")
del c.counter
ck.ok(not hasattr(c, "counter"), "del removes an own attribute")
ck.raises(AttributeError, lambda: c.missing, "an unknown attribute: AttributeError")


def set_port():
    c.port = 1


ck.raises(AttributeError, set_port, "the client's state is read-only (port)")
ck.eq(c.port, PORT, "port unchanged")
inbox = Inbox(ck)
c.cb = inbox  # as QuecPython's self.cb
ck.ok(c.cb is inbox, "cb assigned")


def bad_cb():
    c.cb = 5


ck.raises(TypeError, bad_cb, "cb must be callable")
c.connect()
c.subscribe(c.topic, 1)
c.publish(c.topic, b"via cb", qos=1)
ck.ok(poll_until(lambda: inbox.find(msg=b"via cb"), 5000, [c]), "a callback set as c.cb receives")
# a method shadowed by an own attribute, as on a Python object
calls = []
c.ping = lambda: calls.append(1)
c.ping()
ck.eq(calls, [1], "an own attribute shadows a method")
del c.ping
c.ping()
ck.eq(calls, [1], "the method is back after del")
c.disconnect()
ck.finish()
