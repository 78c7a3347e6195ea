# Issue 10, defect 4: several threads subscribe, unsubscribe and publish at
# once; every call completes and the healthy link is never dropped. Before:
# one slot remembered the SUBSCRIBE a call waited for, the other thread's
# SUBACK was ignored, its call timed out and dropped the link.
import _thread
from umqtt import MQTTClient
from mqtt_test_util import (HOST, PORT, Checker, Inbox, Errors, uid, poll_until, sleep_ms)

THREADS = 4
PER_THREAD = 8
ck = Checker("concurrent subscribe/unsubscribe/publish")
cid = uid("cr")
base = "umqtt-test/" + cid

inbox = Inbox(ck)
errs = Errors()
c = MQTTClient(cid, HOST, PORT, keepalive=30)
c.set_callback(inbox)
c.error_register_cb(errs)
c.connect()

done = []
failures = []


def worker(n):
    try:
        for i in range(PER_THREAD):
            c.subscribe("{}/w{}/{}".format(base, n, i), 1)
            c.subscribe("{}/gone{}/{}".format(base, n, i), 0)
            c.unsubscribe("{}/gone{}/{}".format(base, n, i))
            if not c.publish("{}/w{}/{}".format(base, n, i), "x", False, 1):
                failures.append("publish {} {} returned False".format(n, i))
    except Exception as e:
        failures.append("thread {}: {!r}".format(n, e))
    done.append(n)


for n in range(THREADS):
    _thread.start_new_thread(worker, (n,))
ck.ok(poll_until(lambda: len(done) == THREADS, 60000), "every thread finished")
ck.eq(failures, [], "no call failed")
ck.eq(errs.count("reconnect_start"), 0, "the link was never dropped")
ck.eq(c.get_mqttsta(), 0, "still connected")

pub = MQTTClient(cid + "-pub", HOST, PORT)
pub.connect()
for n in range(THREADS):
    for i in range(PER_THREAD):
        pub.publish("{}/w{}/{}".format(base, n, i), "late", False, 1)
        pub.publish("{}/gone{}/{}".format(base, n, i), "never", False, 1)
want = THREADS * PER_THREAD
ck.ok(poll_until(lambda: sum(1 for t, m in inbox.msgs if m == b"late") >= want, 15000, [c]),
      "every subscription made by the threads is active")
sleep_ms(300)
c.check_msg()
ck.eq([t for t, m in inbox.msgs if m == b"never"], [], "no unsubscribed topic delivers")
pub.disconnect()
c.disconnect()
ck.finish()
