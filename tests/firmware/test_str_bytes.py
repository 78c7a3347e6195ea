# Every string argument may be str or bytes (the Huawei guide passes bytes for
# client id, server, user and password and str topics); callbacks always get bytes.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until, wait_until

ck = Checker("str and bytes arguments")
cid = uid("sb")
base = "umqtt-test/" + cid

# bytes everywhere, keyword arguments like the guide
ib = Inbox(ck)
cb = MQTTClient(client_id=cid.encode() + b"-b", server=HOST.encode(), port=PORT,
                user=b"someone", password=b"secret", keepalive=30)
cb.set_callback(ib)
cb.set_last_will(base.encode() + b"/will", b"w")
cb.connect()
ck.ok(True, "connect with bytes client_id/server/user/password")

# str everywhere
is_ = Inbox(ck)
cs = MQTTClient(cid + "-s", HOST, PORT, "someone", "secret", 30)
cs.set_callback(is_)
cs.set_last_will(base + "/will", "w")
cs.connect()
ck.ok(True, "connect with str client_id/server/user/password (positional)")

cases = [
    ("str topic, bytes msg", base + "/1", b"bytes-payload"),
    ("bytes topic, str msg", (base + "/2").encode(), "str-payload \u4e2d\u6587"),
    ("bytes topic, bytes msg", (base + "/3").encode(), b"\x00\x01\xff"),
    ("str topic, str msg", base + "/4", "plain"),
    ("bytearray msg", base + "/5", bytearray(b"ba")),
]
for sub_as_bytes in (False, True):
    for what, topic, msg in cases:
        tb = topic if isinstance(topic, bytes) else topic.encode()
        full = tb + (b"/x" if sub_as_bytes else b"")  # a distinct topic per round
        sub_topic = full if sub_as_bytes else full.decode()
        pub_topic = full if isinstance(topic, bytes) else full.decode()
        cs.subscribe(sub_topic, 1)
        try:
            r = cb.publish(pub_topic, msg, qos=1)
        except TypeError as e:
            if isinstance(msg, bytearray):
                ck.warn("bytearray payload refused: {!r}".format(e))
                continue
            raise
        ck.ok(r is True, "{} (subscribe as {}): publish ok".format(what, "bytes" if sub_as_bytes else "str"))
        mb = msg.encode() if isinstance(msg, str) else bytes(msg)
        ck.ok(poll_until(lambda: is_.find(full, mb), 5000, [cs]), "{}: received as bytes".format(what))
        t, m = is_.find(full, mb) or (None, None)
        ck.ok(isinstance(t, bytes) and isinstance(m, bytes), "{}: callback got bytes, bytes".format(what))

# unsubscribe with bytes and with str
# round 1 subscribed these as str: unsubscribe must accept the bytes spelling
# too (and vice versa); topics are the same whatever their Python type
for t in ((base + "/1").encode(), base + "/2", base + "/3/x"):
    try:
        cs.unsubscribe(t)
        ck.ok(True, "unsubscribe({!r})".format(t))
    except Exception as e:
        ck.ok(False, "unsubscribe({!r}) raised {!r}".format(t, e))
# keyword forms, as QuecPython's Python methods allow:
# publish(topic=, msg=, retain=, qos=), subscribe(topic=, qos=), set_last_will(topic=, msg=)
cs.subscribe(base + "/kw", 1)
try:
    r = cb.publish(topic=base + "/kw", msg=b"kw", retain=False, qos=1)
    ck.ok(r is True, "publish with keyword arguments")
    ck.ok(poll_until(lambda: is_.find((base + "/kw").encode(), b"kw"), 5000, [cs]), "keyword publish received")
except TypeError as e:
    ck.ok(False, "publish(topic=..., msg=..., retain=..., qos=...) raised TypeError: {}".format(e))
try:
    cs.subscribe(topic=base + "/kw2", qos=2)
    ck.ok(True, "subscribe with keyword arguments")
except TypeError as e:
    ck.ok(False, "subscribe(topic=..., qos=...) raised TypeError: {}".format(e))
try:
    MQTTClient("x", HOST, PORT).set_last_will(topic=base + "/w", msg=b"w", retain=False, qos=1)
    ck.ok(True, "set_last_will with keyword arguments")
except TypeError as e:
    ck.ok(False, "set_last_will(topic=..., msg=..., ...) raised TypeError: {}".format(e))
cb.disconnect()
cs.disconnect()
ck.finish()
