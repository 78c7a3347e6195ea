# reconn=True, broker down: QoS 1/2 publishes are kept in a bounded queue
# (queue_size) and sent after the background reconnect, in order, with no DUP
# on their first transmission; once the queue is full, publish() returns False
# at once and the error callback says so; a QoS 0 publish offline returns False.
# Nothing the caller was told is kept may be lost.
from umqtt import MQTTClient
from mqtt_test_util import (read_log, HOST, PORT, Checker, Inbox, Errors, uid, poll_until, require_env,
                            harness, ack_present, now_ms, elapsed_ms, sleep_ms)

QUEUE = 3
logp = require_env("MQTT_BROKER_LOG")
ck = Checker("offline queue while reconnecting")
cid = uid("oq")
topic = "umqtt-test/{}/q".format(cid)

# the subscriber keeps its session over the restart (persistent broker)
sub_in = Inbox(ck)
sub = MQTTClient(cid + "-sub", HOST, PORT, keepalive=10)
sub.set_callback(sub_in)
sub.connect(clean_session=True)
sub.disconnect()
sub.connect(clean_session=False)
sub.subscribe(topic, 1)

errs = Errors()
pub = MQTTClient(cid + "-pub", HOST, PORT, keepalive=10, queue_size=QUEUE)
pub.error_register_cb(errs, True)  # our reports too
pub.connect()
ck.ok(pub.publish(topic, b"before", qos=1) is True, "online publish acknowledged")

harness("restart-broker", "oq1", 4)  # returns once the broker is down
ck.ok(poll_until(lambda: pub.get_mqttsta() != 0, 5000), "the client noticed the lost link by itself")

results = []
t0 = now_ms()
# m0, m1 at QoS 1 (their order is checked), m2 at QoS 2 (its handshake is
# completed by the background thread: this script never calls check_msg on
# the publisher), m3, m4 refused
for i in range(QUEUE + 2):
    results.append(pub.publish(topic, "m{}".format(i), qos=2 if i == 2 else 1))
took = elapsed_ms(t0)
ck.eq(results, [True] * QUEUE + [False, False], "first {} kept, the rest refused".format(QUEUE))
ck.ok(took < 1000, "offline publishes return at once ({} ms)".format(took))
ck.eq(len([e for e in errs.events if "offline queue full" in e]), 2, "error callback told of each refused message")
ck.ok(pub.publish(topic, b"q0", qos=0) is False, "QoS 0 offline: not sent, False")

ck.ok(poll_until(lambda: ack_present("oq1.up"), 30000, [sub]), "broker back")
ck.ok(poll_until(lambda: errs.count("reconnect_success") > 0, 20000, [sub]), "background reconnect")


def got():
    return [m for t, m in sub_in.msgs if t == topic.encode()]


want = [b"before"] + [("m%d" % i).encode() for i in range(QUEUE)]
poll_until(lambda: all(w in got() for w in want), 15000, [sub])
received = got()
ck.ok(all(w in received for w in want), "every kept message arrived: {}".format(received))
order = [m for m in received if m in (b"m0", b"m1")]
ck.eq(order[:2], [b"m0", b"m1"], "kept QoS 1 messages arrive in publish order")
ck.ok(b"m3" not in received and b"m4" not in received, "refused messages were not sent")

# first transmission of a queued message carries no DUP flag (broker log: d0)
log = read_log(logp)
k = log.rfind("starting")
after = log[k:] if k >= 0 else ""
sent = [line for line in after.split("\n") if "Received PUBLISH from " + cid + "-pub" in line]
ck.ok(len(sent) >= QUEUE, "broker received the queued messages ({} lines)".format(len(sent)))
ck.ok(all("(d0," in line for line in sent[:QUEUE]), "queued messages sent without DUP")

ck.ok(pub.publish(topic, b"after", qos=1) is True, "online again: publish acknowledged")
pub.disconnect()
sub.disconnect()
ck.finish()
