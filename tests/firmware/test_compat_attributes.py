# Compatibility row "attributes": QuecPython's client is a Python object whose
# attributes scripts read (client_id, server, port, keepalive, sock, cb,
# topic_list, lw_*...). The password is deliberately not readable (pswd).
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid

ck = Checker("compat: attributes")
cid = uid("attr")
c = MQTTClient(cid, HOST, PORT, "user", "secret", keepalive=30, reconn=False, pingmaxnum=3)
ck.eq((c.client_id, c.server, c.port, c.user, c.keepalive), (cid, HOST, PORT, "user", 30), "connection parameters")
ck.eq((c.reconn, c.ssl, c.ssl_params, c.mqttversion, c.pingmaxnum), (False, False, {}, 4, 3), "options")
ck.eq((c.cb, c.error_callback, c.sock, c.topic_list), (None, None, None, []), "before connect()")
ck.eq((c.lw_topic, c.lw_msg, c.lw_qos, c.lw_retain), (None, None, 0, False), "no will")
ck.ok(not hasattr(c, "pswd") and not hasattr(c, "password"), "the password is not readable")
for internal in ("mqttlock", "SERVERACK", "PING", "timerFlag", "base_reconnect", "DELAY"):
    ck.ok(not hasattr(c, internal), internal + ": QuecPython internals are not there")
c = MQTTClient(cid, HOST, PORT, reconn=False)
f = lambda t, m: None
e = lambda s: None
c.set_callback(f)
c.error_register_cb(e)
c.set_last_will("will/" + cid, b"gone", True, 1)
ck.ok(c.cb is f and c.error_callback is e, "cb and error_callback are the registered functions")
ck.eq((c.lw_topic, c.lw_msg, c.lw_qos, c.lw_retain), ("will/" + cid, b"gone", 1, True), "the will")
c.connect(False)
ck.ok(c.sock is not None and hasattr(c.sock, "write"), "sock: the connected stream")
ck.eq(c.clean_session, False, "clean_session as given to connect()")
c.subscribe("a/" + cid, 1)
c.subscribe(b"b/" + cid.encode(), 0)
c.subscribe("a/" + cid, 0)
ck.eq(c.topic_list, ["a/" + cid, "b/" + cid], "topic_list: each topic once, in order")
c.unsubscribe("a/" + cid)
ck.eq(c.topic_list, ["b/" + cid], "topic_list after unsubscribe()")
c.disconnect()
ck.eq(c.sock, None, "sock None after disconnect()")
c2 = MQTTClient(cid, HOST, PORT)
c2.connect(True)
c2.disconnect()
ck.ok(c.port == PORT and c.server == HOST, "attributes stay after disconnect()")
ck.finish()
