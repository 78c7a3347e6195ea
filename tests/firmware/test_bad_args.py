# Bad arguments raise TypeError/ValueError (never crash); the client stays usable.
# Every check is an assertion: a wrong value raises ValueError, a wrong type
# TypeError (as MicroPython's own functions do), and nothing invalid reaches
# the broker.
from umqtt import MQTTClient, MQTTException
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("bad arguments")
TV = (TypeError, ValueError)
cid = uid("bad")
base = "umqtt-test/" + cid

# constructor
for ka in (1, 2, 3, 4):
    ck.raises(ValueError, lambda: MQTTClient(cid, HOST, PORT, keepalive=ka), "keepalive={}".format(ka))
for ka in (0, 5, 30):
    try:
        MQTTClient(cid, HOST, PORT, keepalive=ka)
        ck.ok(True, "keepalive={} accepted".format(ka))
    except Exception as e:
        ck.ok(False, "keepalive={} refused: {!r}".format(ka, e))
ck.raises(TV, lambda: MQTTClient(cid, HOST, PORT, keepalive=-1), "keepalive=-1")
ck.raises(ValueError, lambda: MQTTClient(cid, HOST, PORT, keepalive=70000), "keepalive=70000 (> 65535)")
ck.raises(TypeError, lambda: MQTTClient(12345, HOST, PORT), "client_id=12345")
ck.raises(TypeError, lambda: MQTTClient(cid, None, PORT), "server=None")
ck.raises(TypeError, lambda: MQTTClient(cid, 127001, PORT), "server=int")
ck.raises(TV, lambda: MQTTClient(cid, HOST, "1883"), "port='1883'")
ck.raises(ValueError, lambda: MQTTClient(cid, HOST, -1), "port=-1")
ck.raises(ValueError, lambda: MQTTClient(cid, HOST, 70000), "port=70000")
ck.raises(TV, lambda: MQTTClient(cid, HOST, PORT, user=42), "user=42")
ck.raises(TV, lambda: MQTTClient(cid, HOST, PORT, password=[1]), "password=[1]")
ck.raises(ValueError, lambda: MQTTClient(cid, HOST, PORT, version=5), "version=5 (only 3 and 4)")
ck.raises(TypeError, lambda: MQTTClient(), "no arguments")
ck.raises(TypeError, lambda: MQTTClient(cid, HOST, PORT, nosuchkw=1), "unknown keyword")

inbox = Inbox(ck)
c = MQTTClient(cid, HOST, PORT, keepalive=30)
ck.raises(AssertionError, lambda: c.set_last_will(base + "/w", b"x", qos=3), "set_last_will qos=3 (QuecPython asserts)")
ck.raises(ValueError, lambda: c.set_last_will(base + "/+", b"x"), "set_last_will topic with '+'")
ck.raises(AssertionError, lambda: c.set_last_will(None, b"x"), "set_last_will topic None (QuecPython asserts)")
c.set_callback(inbox)
ck.raises(TypeError, lambda: c.set_callback(42), "set_callback(42) (not callable)")
# a fresh client: nothing of the refused calls above may linger
c = MQTTClient(cid, HOST, PORT, keepalive=30)
c.set_callback(inbox)
c.connect()

topic = base + "/ok"
ck.raises(ValueError, lambda: c.publish(topic, b"x", qos=3), "publish qos=3")
ck.raises(ValueError, lambda: c.publish(topic, b"x", qos=-1), "publish qos=-1")
ck.raises(ValueError, lambda: c.publish(base + "/+/x", b"x"), "publish topic with '+'")
ck.raises(ValueError, lambda: c.publish(base + "/#", b"x"), "publish topic with '#'")
ck.raises(TV, lambda: c.publish("", b"x"), "publish empty topic")
ck.raises(TypeError, lambda: c.publish(123, b"x"), "publish topic=123")
ck.raises(TypeError, lambda: c.publish(None, b"x"), "publish topic=None")
ck.raises(TypeError, lambda: c.publish(topic, 123), "publish msg=123")
ck.raises(TypeError, lambda: c.publish(topic, None), "publish msg=None")
ck.raises(TypeError, lambda: c.publish(topic, b"x", qos="1"), "publish qos='1'")
ck.raises(ValueError, lambda: c.subscribe(topic, 3), "subscribe qos=3")
ck.raises(ValueError, lambda: c.subscribe(topic, -1), "subscribe qos=-1")
ck.raises(TypeError, lambda: c.subscribe(123), "subscribe topic=123")
ck.raises(TV, lambda: c.subscribe(""), "subscribe empty topic")
ck.raises(TypeError, lambda: c.unsubscribe(None), "unsubscribe None")
ck.raises(TV, lambda: c.publish("a" * 70000, b"x"), "publish topic longer than 65535 bytes")
ck.raises(TypeError, lambda: c.connect("yes", 1, 2), "connect with too many arguments")

# still connected and working after all that
ck.eq(c.get_mqttsta(), 0, "still connected after bad calls")
c.subscribe(topic, 1)
ck.ok(c.publish(topic, b"fine", qos=1) is True, "publish after bad calls")
ck.ok(poll_until(lambda: inbox.find(topic.encode(), b"fine"), 5000, [c]), "loopback after bad calls")
# invalid filters are refused before anything is sent: a module that sent
# them would be disconnected by the broker (MQTT 3.1.1, 4.7.1)
ck.raises(ValueError, lambda: c.subscribe(base + "/#/x"), "subscribe '#' not last")
ck.raises(ValueError, lambda: c.subscribe(base + "/a+"), "subscribe '+' inside a level")
ck.eq(c.get_mqttsta(), 0, "still connected after invalid filters")
ck.ok(c.publish(topic, b"fine2", qos=1) is True, "publish acknowledged after invalid filters")
ck.ok(poll_until(lambda: inbox.find(topic.encode(), b"fine2"), 5000, [c]),
      "loopback after invalid filters")
c.disconnect()

# calls on a client that is not connected: a clean OSError or a return
# value saying nothing was done (publish: False, never True); never another
# exception type, never a crash
d = MQTTClient(cid + "-nc", HOST, PORT)
ck.raises(AssertionError, lambda: d.subscribe(topic), "subscribe before set_callback() (QuecPython asserts)")
d.set_callback(inbox)
for what, fn, rets, excs in (
        ("publish", lambda: d.publish(topic, b"x"), (False,), (OSError,)),
        ("publish qos=1", lambda: d.publish(topic, b"x", qos=1), (False,), (OSError,)),
        ("subscribe", lambda: d.subscribe(topic), (None,), (OSError,)),
        ("check_msg", lambda: d.check_msg(), (None,), (OSError,)),
        ("ping", lambda: d.ping(), (), (OSError,)),
        ("disconnect", lambda: d.disconnect(), (None,), (OSError,)),
        ("close", lambda: d.close(), (None,), (OSError,))):
    try:
        r = fn()
        ck.ok(any(r is x for x in rets),
              "{} before connect returned {!r} (want {})".format(
                  what, r, " or ".join(repr(x) for x in rets) or "an exception"))
    except excs as e:
        ck.ok(True, "{} before connect raised {}: {}".format(what, type(e).__name__, e))
    except Exception as e:
        ck.ok(False, "{} before connect raised unexpected {}: {}".format(what, type(e).__name__, e))
ck.eq(d.get_mqttsta(), -1, "get_mqttsta() == -1 before connect")

# connecting to a closed port: a clean exception
free = MQTTClient(cid + "-cl", HOST, 1, reconn=False)
ck.raises(Exception, lambda: free.connect(), "connect to a closed port raises")
ck.finish()
