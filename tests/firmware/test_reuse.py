# A client is reusable: connect again after disconnect() and after close();
# subscriptions made on a new connection work; get_mqttsta() follows.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("reuse after disconnect/close")
inbox = Inbox(ck)
cid = uid("reuse")
base = "umqtt-test/" + cid
c = MQTTClient(cid, HOST, PORT, keepalive=30)
c.set_callback(inbox)
for rnd in range(3):
    r = c.connect()
    ck.ok(not r, "round {}: connect (returned {!r})".format(rnd, r))
    ck.eq(c.get_mqttsta(), 0, "round {}: get_mqttsta() == 0".format(rnd))
    t = "{}/r{}".format(base, rnd)
    c.subscribe(t, rnd)
    c.publish(t, "round{}".format(rnd), qos=rnd)
    ck.ok(poll_until(lambda: inbox.find(t.encode(), ("round%d" % rnd).encode()), 5000, [c]),
          "round {}: loopback at qos {}".format(rnd, rnd))
    c.disconnect()
    ck.eq(c.get_mqttsta(), -1, "round {}: get_mqttsta() == -1 after disconnect".format(rnd))

# disconnect twice: harmless
try:
    c.disconnect()
    ck.ok(True, "second disconnect() is harmless")
except Exception as e:
    ck.warn("second disconnect() raised {!r}".format(e))

# close() then connect again (QuecPython's manual reconnect)
c.connect()
c.close()
print("  info: get_mqttsta() after close(): {}".format(c.get_mqttsta()))
r = c.connect()
ck.ok(c.get_mqttsta() == 0, "connect after close()")
t = base + "/afterclose"
c.subscribe(t, 1)
c.publish(t, b"ac", qos=1)
ck.ok(poll_until(lambda: inbox.find(t.encode(), b"ac"), 5000, [c]), "loopback after close()+connect()")
c.disconnect()
ck.finish()
