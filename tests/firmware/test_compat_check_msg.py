# Compatibility row "check_msg": non-blocking; with nothing pending it returns
# None at once and (unlike QuecPython on plain TCP) never starts a reconnect.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Errors, Inbox, uid, now_ms, elapsed_ms, poll_until

ck = Checker("compat: check_msg")
cid = uid("chk")
errs = Errors()
inbox = Inbox(ck)
c = MQTTClient(cid, HOST, PORT)
c.error_register_cb(errs)
c.set_callback(inbox)
c.connect()
c.subscribe("c/" + cid, 0)
t0 = now_ms()
for _ in range(50):
    ck_r = c.check_msg()
ck.eq(ck_r, None, "returns None")
ck.ok(elapsed_ms(t0) < 2000, "50 calls with nothing pending return at once ({} ms)".format(elapsed_ms(t0)))
ck.eq(errs.events, [], "no reconnect")
c.publish("c/" + cid, b"m")
ck.ok(poll_until(lambda: inbox.find(msg=b"m"), 5000, [c]), "a pending message is handled")
c.disconnect()
ck.finish()
