# Review finding: while a message callback runs (unlocked, inside
# wait_msg/check_msg), nothing sends PINGREQ: the calling thread is in the
# callback and the background thread skips all work while
# self->callers != 0 (keeper_work: "only when no script call is inside").
# A callback longer than 1.5 x keepalive gets the client dropped by the
# broker (mosquitto: "exceeded timeout"), its will published, its QoS 0
# traffic lost, although the script did nothing wrong.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Errors, uid, sleep_ms, poll_until

ck = Checker("review: keepalive while a callback runs")
cid = uid("rv-ka")
topic = "umqtt-test/" + cid
errors = Errors()
done = []


def slow(t, m):
    sleep_ms(12000)  # keepalive 5 s: the broker gives up after 7.5 s
    done.append(m)


c = MQTTClient(cid, HOST, PORT, keepalive=5)
c.set_callback(slow)
c.error_register_cb(errors)
c.connect()
c.subscribe(topic, 0)
c.publish(topic, b"go")
c.wait_msg()  # runs the 12 s callback
ck.ok(done == [b"go"], "callback ran")
sleep_ms(1500)
c.check_msg()
ck.eq(c.get_mqttsta(), 0, "still connected after the long callback")
ck.eq(errors.count("reconnect_start"), 0, "the link was not lost during the callback")
c.disconnect()
ck.finish()
