# reconn=True: the broker is stopped in the middle of a stream of numbered
# QoS 1 messages and started again 3 s later. Checks:
#  - every message whose publish() reported success arrives at least once
#    (publishes that report failure are retried by the test and counted);
#  - both clients report "reconnect_start" and "reconnect_success";
#  - a clean-session subscriber is resubscribed by the module, each topic with
#    its own QoS (checked in the broker log), and receives again;
#  - get_mqttsta() == 0 at the end.
# The numbered-stream subscriber uses clean_session=False (the broker persists
# its session over the restart) so no message can be lost to the race between
# the publisher's retransmission and the subscriber's resubscription.
from umqtt import MQTTClient
from mqtt_test_util import (read_log, HOST, PORT, Checker, Inbox, Errors, uid, poll_until, require_env,
                            harness, ack_present, now_ms, elapsed_ms, sleep_ms)

N = 30
logp = require_env("MQTT_BROKER_LOG")
RESTART_AT = 12
ck = Checker("reconnect after broker restart")
cid = uid("rc")
base = "umqtt-test/" + cid
stream = base + "/stream"

sub_in = Inbox(ck)
sub_err = Errors()
sub = MQTTClient(cid + "-sub", HOST, PORT, keepalive=10)
sub.set_callback(sub_in)
sub.error_register_cb(sub_err)
sub.connect(clean_session=True)
sub.disconnect()
sub.connect(clean_session=False)
sub.subscribe(stream, 1)

# clean-session subscriber with two topics of different QoS
rs_in = Inbox(ck)
rs_err = Errors()
rs = MQTTClient(cid + "-rs", HOST, PORT, keepalive=10)
rs.set_callback(rs_in)
rs.error_register_cb(rs_err)
rs.connect()
rs.subscribe(base + "/q0", 0)
rs.subscribe(base + "/q2", 2)

pub_err = Errors()
pub = MQTTClient(cid + "-pub", HOST, PORT, keepalive=10)
pub.error_register_cb(pub_err)
pub.connect()

clients = [sub, rs]
failed_publishes = 0
raised = []
t_restart = None
for i in range(N):
    if i == RESTART_AT:
        harness("restart-broker", "rb1", 3)  # returns once the broker is down
        t_restart = now_ms()
        print("  broker is down; publishing on")
    t0 = now_ms()
    while True:
        try:
            r = pub.publish(stream, "n{}".format(i), qos=1)
        except Exception as e:
            r = e
        if r is True:
            break
        failed_publishes += 1
        if len(raised) < 5:
            raised.append("publish n{} -> {!r}".format(i, r))
        if elapsed_ms(t0) > 30000:
            ck.ok(False, "publish n{} never succeeded".format(i))
            break
        sleep_ms(500)
    poll_until(lambda: False, 20, clients)

for line in raised:
    print("  info: " + line)
print("  info: {} publish calls reported failure and were retried".format(failed_publishes))
ck.ok(poll_until(lambda: ack_present("rb1.up"), 30000, clients), "harness restarted the broker")


def numbers():
    s = set()
    for t, m in sub_in.msgs:
        if t == stream.encode():
            s.add(int(m[1:]))
    return s


want = set(range(N))
poll_until(lambda: numbers() >= want, 30000, clients)
missing = sorted(want - numbers())
ck.ok(not missing, "all {} numbered QoS 1 messages received (missing: {})".format(N, missing))
dups = len([1 for t, m in sub_in.msgs if t == stream.encode()]) - len(numbers())
print("  info: {} duplicates received".format(dups))

for name, errs in (("publisher", pub_err), ("subscriber", sub_err), ("clean subscriber", rs_err)):
    poll_until(lambda: errs.count("reconnect_success") > 0, 15000, clients)
    ck.ok(errs.count("reconnect_start") >= 1, name + ": reported reconnect_start")
    ck.ok(errs.count("reconnect_success") >= 1, name + ": reported reconnect_success")

# the clean-session subscriber must have been resubscribed by the module
rs_in.msgs = []
pub.publish(base + "/q0", b"after-q0", qos=1)
pub.publish(base + "/q2", b"after-q2", qos=2)
ck.ok(poll_until(lambda: rs_in.find((base + "/q0").encode(), b"after-q0"), 5000, clients),
      "resubscribed topic 1 (qos 0) receives after reconnect")
ck.ok(poll_until(lambda: rs_in.find((base + "/q2").encode(), b"after-q2"), 5000, clients),
      "resubscribed topic 2 (qos 2) receives after reconnect")

# broker log: after the restart, the resubscription kept each topic's QoS
log = read_log(logp)
k = log.rfind("starting")
after = log[k:] if k >= 0 else ""
ck.ok((base + "/q0 (QoS 0)") in after, "broker log: resubscribed {}/q0 with QoS 0".format(base))
ck.ok((base + "/q2 (QoS 2)") in after, "broker log: resubscribed {}/q2 with QoS 2".format(base))

for name, c in (("publisher", pub), ("subscriber", sub), ("clean subscriber", rs)):
    ck.eq(c.get_mqttsta(), 0, name + ": get_mqttsta() == 0 at the end")
pub.disconnect()
sub.disconnect()
rs.disconnect()
ck.finish()
