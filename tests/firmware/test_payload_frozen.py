# Issue 10, defect 1: what publish() sends is the payload as it was when
# publish() was called, even if another thread changes the buffer meanwhile.
# Before: a QoS 0 publish of a bytearray kept the raw pointer while it waited
# for the client (here: a message callback running in another thread); the
# buffer was resized (freed) meanwhile and the broker got freed heap.
import _thread
from umqtt import MQTTClient
from mqtt_test_util import (HOST, PORT, Checker, Inbox, uid, poll_until, sleep_ms)

ck = Checker("payload frozen at publish()")
cid = uid("pf")
base = "umqtt-test/" + cid
SIZE = 4096
buf = bytearray(b"A" * SIZE)
state = {"in_callback": False, "junk": None}
got = []


def on_msg(topic, msg):
    if topic.endswith(b"/trigger"):
        state["in_callback"] = True
        sleep_ms(300)  # the main thread publishes buf now
        buf.extend(b"B" * 100000)  # moves buf's storage, frees the old block
        state["junk"] = [bytearray(b"J" * SIZE) for _ in range(16)]
    else:
        got.append(msg)


c = MQTTClient(cid, HOST, PORT, keepalive=30)
c.set_callback(on_msg)
c.connect()
c.subscribe(base + "/trigger", 0)
c.subscribe(base + "/data", 0)
running = [True]


def receive():
    while running[0]:
        try:
            c.wait_msg()
        except Exception:
            break


_thread.start_new_thread(receive, ())
sleep_ms(100)
other = MQTTClient(cid + "-o", HOST, PORT)
other.connect()
other.publish(base + "/trigger", "go")
ck.ok(poll_until(lambda: state["in_callback"], 5000), "the callback runs")
ck.eq(c.publish(base + "/data", buf), True, "QoS 0 publish of a bytearray")
ck.ok(poll_until(lambda: len(got) > 0, 5000), "the message came back")
ck.ok(len(got) > 0 and got[0] == b"A" * SIZE,
      "it is the buffer as published ({} bytes, starts {!r})".format(len(got[0]) if got else 0, got[0][:8] if got else b""))
running[0] = False
other.disconnect()
c.disconnect()
ck.finish()
