# Compatibility row "wait_msg after disconnect()": QuecPython's wait_msg()
# returns None once disconnect() was called, so a listener thread blocked in
# it ends cleanly; connect() again makes wait_msg() wait as before.
import _thread
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until, sleep_ms

ck = Checker("compat: wait_msg() after disconnect()")
cid = uid("wmd")
t = "w/" + cid
inbox = Inbox(ck)
c = MQTTClient(cid, HOST, PORT, keepalive=30)
c.set_callback(inbox)
c.connect()
c.subscribe(t, 1)
result = []


def listener():
    try:
        while True:
            r = c.wait_msg()
            if r is None and c.get_mqttsta() == -1:
                result.append(("None", r))
                return
    except Exception as e:
        result.append(("raised", e))


_thread.start_new_thread(listener, ())
sleep_ms(300)
c.disconnect()
ck.ok(poll_until(lambda: result, 3000), "the blocked listener returned")
ck.eq(result[:1], [("None", None)], "wait_msg() returned None, no exception")
ck.eq(c.wait_msg(), None, "wait_msg() after disconnect(): None at once")
c.connect()
c.subscribe(t, 1)
c.publish(t, b"again", qos=1)
for _ in range(10):
    if inbox.find(msg=b"again"):
        break
    c.wait_msg()
ck.ok(inbox.find(msg=b"again"), "after connect() wait_msg() handles messages again")
c.close()
ck.raises(OSError, c.wait_msg, "after close() (no disconnect) wait_msg() raises, as QuecPython's with reconn=False")
ck.finish()
