# Concurrency and callbacks (found by review, each failed before its fix):
#  - an error callback that publishes while the background thread reconnects
#    (it used to deadlock the client: callbacks re-enter the lock now);
#  - a receive thread in wait_msg() while the main thread publishes QoS 1
#    (publishes used to wait out their 5 s timeout when the other thread
#    handled the PUBACK: 20 publishes took over 70 s);
#  - subscribing to a topic filter of 16379 bytes or more (the SUBSCRIBE
#    buffer was one byte short once the remaining length takes 3 bytes).
import _thread
from umqtt import MQTTClient
from mqtt_test_util import (HOST, PORT, Checker, Inbox, Errors, uid, poll_until,
                            harness, ack_present, now_ms, elapsed_ms, sleep_ms)

ck = Checker("threads and callbacks")
cid = uid("tc")
base = "umqtt-test/" + cid

# 1. error callback re-entering the client from the background thread
events = []
dl = MQTTClient(cid + "-dl", HOST, PORT, keepalive=5)


def on_error(msg):
    events.append(msg)
    if msg == "reconnect_start":
        events.append("publish-from-callback:{}".format(dl.publish(base + "/cb", b"from-cb", qos=1)))


dl.error_register_cb(on_error)
dl.connect()
harness("restart-broker", "tc1", 2)
ck.ok(poll_until(lambda: "reconnect_start" in events, 10000), "background thread noticed the lost link")
t0 = now_ms()
dl.check_msg()  # needs the lock the callback's thread holds
ck.ok(elapsed_ms(t0) < 10000, "the client is not deadlocked by a callback that publishes")
ck.ok("publish-from-callback:True" in events, "publish from the error callback was queued: {}".format(events))
ck.ok(poll_until(lambda: ack_present("tc1.up"), 30000), "broker back")
ck.ok(poll_until(lambda: "reconnect_success" in events, 20000), "reconnected")
dl.disconnect()

# 2. a receive thread in wait_msg() and QoS 1 publishes from the main thread
inbox = Inbox(ck)
c = MQTTClient(cid + "-rx", HOST, PORT, keepalive=60)
c.set_callback(inbox)
c.connect()
c.subscribe(base + "/x", 1)
running = [True]


def receive():
    while running[0]:
        try:
            c.wait_msg()
        except Exception as e:  # the link closes at the end
            if running[0]:
                print("  receive thread:", repr(e))
            break


_thread.start_new_thread(receive, ())
sleep_ms(200)
t0 = now_ms()
results = [c.publish(base + "/x", "m%d" % i, qos=1) for i in range(20)]
took = elapsed_ms(t0)
ck.ok(all(results), "20 QoS 1 publishes acknowledged")
ck.ok(took < 5000, "no publish waited out its 5 s timeout while the other thread took its PUBACK ({} ms)".format(took))
ck.ok(poll_until(lambda: len(inbox.msgs) >= 20, 10000), "the receive thread got all 20 messages")

# 3. a long topic filter: the SUBSCRIBE buffer grows to what the core needs
for n in (16378, 16379, 20000):
    try:
        c.subscribe("a" * n, 0)
        ck.ok(True, "subscribe to a {}-byte filter".format(n))
    except Exception as e:
        ck.ok(False, "subscribe to a {}-byte filter raised {!r}".format(n, e))
running[0] = False
c.disconnect()
ck.finish()
