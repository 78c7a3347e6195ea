# Issue 10, defect 5: a client the script can no longer reach is collected:
# its socket closes (the broker then sends its will) and its background
# thread ends. Before: the thread's argument kept it alive, connected and
# pinging forever. Also: close() and disconnect() may be called again.
import gc
from umqtt import MQTTClient
from mqtt_test_util import (HOST, PORT, Checker, Inbox, uid, poll_until, sleep_ms)

ck = Checker("an unreachable client is collected")
cid = uid("ur")
base = "umqtt-test/" + cid

watch_in = Inbox(ck)
watch = MQTTClient(cid + "-watch", HOST, PORT)
watch.set_callback(watch_in)
watch.connect()
watch.subscribe(base + "/will", 0)


def forget_a_client(n):
    # the last one has neither keepalive nor reconnects
    quiet = n == 3
    c = MQTTClient("{}-{}".format(cid, n), HOST, PORT, keepalive=0 if quiet else 5, reconn=not quiet)
    c.set_last_will(base + "/will", "gone{}".format(n))
    c.connect()
    c.publish(base + "/x", "hello")


def churn():
    # overwrite stack and registers that may still hold the old pointer
    return [bytearray(64) for _ in range(50)]


for n in range(4):
    forget_a_client(n)
churn()
for _ in range(5):
    gc.collect()
    sleep_ms(50)
got = lambda: all(watch_in.find(msg="gone{}".format(n).encode()) for n in range(4))
ck.ok(poll_until(got, 10000, [watch]), "all four forgotten clients closed their links (wills {})".format(
    [m for t, m in watch_in.msgs]))

c = MQTTClient(cid + "-twice", HOST, PORT, keepalive=5)
c.connect()
c.disconnect()
c.disconnect()
c.close()
c.close()
ck.eq(c.get_mqttsta(), -1, "disconnect() and close() twice: closed, no exception")
c.connect()
ck.eq(c.get_mqttsta(), 0, "and connect() works again")
c.close()
watch.disconnect()
ck.finish()
