# One interop scenario on the firmware against whatever broker
# tests/interop/run_interop.py started:  micropython interop_client.py SCENARIO
#
# Environment: MQTT_HOST, MQTT_PORT, HARNESS_ACK_DIR (restart-broker),
# INTEROP_BROKER (name, for client ids), MQTT_USER and MQTT_PASS (a login, where
# the broker needs one).
# Prints "ok"/"FAIL" lines and finally one line
#     RESULT <scenario> PASS|FAIL <one-line reason>
# The runner decides whether a FAIL is the broker's documented limitation.
#
# Scenarios:
#   connect          CONNECT/CONNACK (clean session: session present falsy),
#                    get_mqttsta(), ping(), DISCONNECT
#   qos0/qos1/qos2   two umqtt clients, each subscribed at that QoS on its own
#                    topic, 5 messages each way at that QoS: all arrive, in
#                    order; QoS 2 exactly once, publish() True for QoS 1/2
#   retained         a late subscriber gets the last retained message; an
#                    empty retained publish clears it
#   will             close() without DISCONNECT: the observer gets the will;
#                    disconnect(): no will
#   session_resume   clean_session=False: QoS 1 and 2 messages published while
#                    the subscriber was away arrive after it reconnects, which
#                    reports session present; the subscription persisted
#   unsubscribe      nothing arrives on the unsubscribed topic; the other
#                    subscription and the connection stay
#   restart          the broker is restarted (3 s down) while two clients are
#                    connected; both reconnect on their own (reconn=True), the
#                    clean-session subscriber is resubscribed by the module;
#                    a publish() while the broker is down is either not True
#                    or kept in the offline queue and reaches the broker (a
#                    retained message the subscriber gets once back); the QoS 1
#                    stream goes on once the subscriber is back: 0 of the
#                    messages whose publish() returned True lost. Needs no
#                    persistence in the broker.
#   restart_persist  a persistent session (clean_session=False) with 8 QoS 1
#                    messages queued for it while its client is away; the
#                    broker restarts while the publisher publishes on (it
#                    reconnects on its own, retrying failed publishes); the
#                    subscriber comes back: session present, 0 of 20 lost.
#                    Needs a broker that keeps sessions over a restart.
import sys
from umqtt import MQTTClient
from mqtt_test_util import (HOST, PORT, Checker, Inbox, Errors, uid, poll_until, env,
                            harness, ack_present, now_ms, elapsed_ms, sleep_ms)

SCEN = sys.argv[1] if len(sys.argv) > 1 else ""
BROKER = env("INTEROP_BROKER", "broker")
ck = Checker("interop {} on {}".format(SCEN, BROKER))
first_fail = []
_ok = ck.ok


def ok(cond, what):
    if not cond and not first_fail:
        first_fail.append(what)
    return _ok(cond, what)


ck.ok = ok
cid = uid("io-" + BROKER)
base = "interop/" + cid
clients = []
USER = env("MQTT_USER", "") or None
PASS = env("MQTT_PASS", "") or None


def client(suffix, inbox=None, keepalive=30, errors=None):
    c = MQTTClient(cid + suffix, HOST, PORT, USER, PASS, keepalive=keepalive)
    if inbox is not None:
        c.set_callback(inbox)
    if errors is not None:
        c.error_register_cb(errors)
    clients.append(c)
    return c


def payloads(inbox, topic):
    t = topic.encode()
    return [m for tt, m in inbox.msgs if tt == t]


def s_connect():
    c = client("-c")
    r = c.connect() or c.session_present
    ck.ok(not r, "connect() clean session: session present falsy (got {!r})".format(r))
    ck.eq(c.get_mqttsta(), 0, "get_mqttsta() == 0 after connect")
    try:
        c.ping()
        poll_until(lambda: False, 500, [c])
        ck.ok(True, "ping() and its PINGRESP")
    except Exception as e:
        ck.ok(False, "ping() raised {!r}".format(e))
    ck.eq(c.get_mqttsta(), 0, "get_mqttsta() == 0 after ping")
    c.disconnect()
    r = c.connect() or c.session_present
    ck.ok(not r, "second connect() of the same client works")
    c.disconnect()
    return "connect, ping, disconnect, connect again"


def s_qos(q):
    n = 5
    ia, ib = Inbox(ck), Inbox(ck)
    a = client("-a", ia)
    b = client("-b", ib)
    a.connect()
    b.connect()
    ta, tb = base + "/to-a", base + "/to-b"
    a.subscribe(ta, q)
    b.subscribe(tb, q)
    sent = []
    for i in range(n):
        for src, topic, tag in ((a, tb, "a2b"), (b, ta, "b2a")):
            p = "{}-q{}-{}".format(tag, q, i).encode()
            r = src.publish(topic, p, qos=q)
            if q:
                ck.ok(r is True, "publish {} qos {} returns True (got {!r})".format(p, q, r))
            sent.append(p)
        poll_until(lambda: False, 20, [a, b])
    want_b = [("a2b-q%d-%d" % (q, i)).encode() for i in range(n)]
    want_a = [("b2a-q%d-%d" % (q, i)).encode() for i in range(n)]
    poll_until(lambda: len(payloads(ib, tb)) >= n and len(payloads(ia, ta)) >= n, 8000, [a, b])
    if q == 2:
        poll_until(lambda: False, 500, [a, b])  # a duplicate would show up now
    for got, want, what in ((payloads(ib, tb), want_b, "a -> b"), (payloads(ia, ta), want_a, "b -> a")):
        if q == 1:
            dedup = []
            for m in got:
                if m not in dedup:
                    dedup.append(m)
            ck.eq(dedup, want, "{} qos 1: all {} arrive, in order (at least once)".format(what, n))
            if len(got) != len(dedup):
                print("  info: {} duplicates {}".format(what, len(got) - len(dedup)))
        else:
            ck.eq(got, want, "{} qos {}: all {} arrive in order{}".format(
                what, q, n, ", exactly once" if q == 2 else ""))
    ck.eq(a.get_mqttsta(), 0, "a: get_mqttsta() == 0")
    ck.eq(b.get_mqttsta(), 0, "b: get_mqttsta() == 0")
    a.disconnect()
    b.disconnect()
    return "{} msgs each way at QoS {}{}".format(n, q, ", exactly once" if q == 2 else "")


def s_retained():
    topic = base + "/state"
    p = client("-p")
    p.connect()
    ck.ok(p.publish(topic, b"retained-1", retain=True, qos=1) is True, "publish retained qos 1")
    ck.ok(p.publish(topic, b"retained-2", retain=True, qos=1) is True, "publish retained qos 1 again")
    inbox = Inbox(ck)
    s = client("-s", inbox)
    s.connect()
    s.subscribe(topic, 1)
    ck.ok(poll_until(lambda: payloads(inbox, topic), 5000, [s]), "late subscriber receives a retained message")
    ck.eq(payloads(inbox, topic)[:1], [b"retained-2"], "it is the last retained one")
    s.disconnect()
    p.publish(topic, b"", retain=True, qos=1)
    poll_until(lambda: False, 500, [p])
    inbox2 = Inbox(ck)
    s2 = client("-s2", inbox2)
    s2.connect()
    s2.subscribe(topic, 1)
    poll_until(lambda: False, 1500, [s2])
    ck.eq(payloads(inbox2, topic), [], "after clearing, a new subscriber gets nothing")
    s2.disconnect()
    p.disconnect()
    return "late subscriber got the last retained; empty retained publish cleared it"


def s_will():
    inbox = Inbox(ck)
    obs = client("-obs", inbox)
    obs.connect()
    obs.subscribe(base + "/#", 1)
    w = client("-w1")
    w.set_last_will(base + "/will1", "gone-1", qos=1)
    w.connect()
    w.publish(base + "/alive", b"alive", qos=1)
    ck.ok(poll_until(lambda: payloads(inbox, base + "/alive"), 5000, [obs]), "observer sees the will client")
    ck.eq(payloads(inbox, base + "/will1"), [], "no will while connected")
    w.close()
    ck.ok(poll_until(lambda: payloads(inbox, base + "/will1"), 8000, [obs]),
          "will published after close() without DISCONNECT")
    ck.eq(payloads(inbox, base + "/will1")[:1], [b"gone-1"], "will payload")
    w2 = client("-w2")
    w2.set_last_will(base + "/will2", b"gone-2", False, 0)
    w2.connect()
    w2.disconnect()
    poll_until(lambda: False, 1500, [obs])
    ck.eq(payloads(inbox, base + "/will2"), [], "no will after a clean disconnect()")
    obs.disconnect()
    return "will after close(); none after disconnect()"


def s_session_resume():
    topic = base + "/q"
    inbox = Inbox(ck)
    c = client("-sess", inbox)
    # a fresh client id: no session yet (no clean connect first, see the
    # README's note on amqtt)
    r = c.connect(clean_session=False) or c.session_present
    ck.ok(not r, "first persistent connect: session present falsy (got {!r})".format(r))
    c.subscribe(topic, 1)
    c.subscribe(topic + "/two", 2)
    c.disconnect()
    p = client("-pub")
    p.connect()
    ck.ok(p.publish(topic, b"away-1", qos=1) is True, "publish qos 1 while the subscriber is away")
    ck.ok(p.publish(topic + "/two", b"away-2", qos=2) is True, "publish qos 2 while the subscriber is away")
    p.disconnect()
    r = c.connect(clean_session=False) or c.session_present
    ck.ok(bool(r), "resumed connect: session present truthy (got {!r})".format(r))
    ck.ok(poll_until(lambda: b"away-1" in payloads(inbox, topic), 5000, [c]),
          "queued QoS 1 message arrives after resumption")
    ck.ok(poll_until(lambda: b"away-2" in payloads(inbox, topic + "/two"), 5000, [c]),
          "queued QoS 2 message arrives after resumption")
    p.connect()
    p.publish(topic, b"live", qos=1)
    ck.ok(poll_until(lambda: b"live" in payloads(inbox, topic), 5000, [c]),
          "the subscription persisted (no new subscribe)")
    p.disconnect()
    c.disconnect()
    r = c.connect(clean_session=True) or c.session_present
    ck.ok(not r, "clean_session=True afterwards: session present falsy (got {!r})".format(r))
    c.disconnect()
    return "QoS 1+2 queued while away delivered on resume; session present reported"


def s_unsubscribe():
    inbox = Inbox(ck)
    c = client("-u", inbox)
    c.connect()
    t1, t2 = base + "/a", base + "/b"
    c.subscribe(t1, 1)
    c.subscribe(t2, 0)
    c.publish(t1, b"before", qos=1)
    ck.ok(poll_until(lambda: b"before" in payloads(inbox, t1), 5000, [c]), "received before unsubscribe")
    c.unsubscribe(t1)
    poll_until(lambda: False, 300, [c])
    c.publish(t1, b"after", qos=1)
    c.publish(t2, b"other", qos=1)
    ck.ok(poll_until(lambda: b"other" in payloads(inbox, t2), 5000, [c]), "other topic still subscribed")
    poll_until(lambda: False, 1500, [c])
    ck.eq(payloads(inbox, t1), [b"before"], "nothing arrives on the unsubscribed topic")
    c.publish(t2, b"still", qos=1)
    ck.ok(poll_until(lambda: b"still" in payloads(inbox, t2), 5000, [c]), "connection still fine")
    c.disconnect()
    return "unsubscribed topic silent, other subscription kept"


def publish_stream(pub, stream, numbers, acked, wait_sub=None):
    """Publish n<i> at QoS 1 for each i in numbers, retrying until publish()
    returns True (30 s each); returns how many calls failed."""
    retried = 0
    for i in numbers:
        t0 = now_ms()
        while True:
            try:
                r = pub.publish(stream, "n{}".format(i), qos=1)
            except Exception as e:
                r = e
            if r is True:
                acked.add(i)
                break
            retried += 1
            if elapsed_ms(t0) > 30000:
                ck.ok(False, "publish n{} never returned True".format(i))
                break
            sleep_ms(500)
        if wait_sub is not None:
            poll_until(lambda: False, 20, [wait_sub])
    return retried


def stream_numbers(inbox, stream):
    s = set()
    for m in payloads(inbox, stream):
        s.add(int(m[1:]))
    return s


def s_restart():
    # both clients stay connected through the restart and reconnect on their
    # own; the clean-session subscriber is resubscribed by the module. The
    # broker need not persist anything: the stream stops while the broker
    # holds nothing for the subscriber, and goes on once it is back.
    n, restart_at = 20, 8
    stream = base + "/stream"
    sub_in, sub_err = Inbox(ck), Errors()
    sub = client("-sub", sub_in, keepalive=10, errors=sub_err)
    sub.connect()
    sub.subscribe(stream, 1)
    sub.subscribe(base + "/probe", 0)
    pub_err = Errors()
    pub = client("-pub", keepalive=10, errors=pub_err)
    pub.connect()
    acked = set()
    retried = publish_stream(pub, stream, range(restart_at), acked, sub)
    ck.ok(poll_until(lambda: stream_numbers(sub_in, stream) >= acked, 10000, [sub]),
          "n0..n{} arrive before the restart".format(restart_at - 1))
    harness("restart-broker", "rb1", 3)  # returns once the broker is down
    print("  broker is down")
    # publish while the broker is down: either not True, or kept in the
    # module's offline queue and sent after the reconnect. It is retained, on
    # its own topic: the module may send it before the subscriber is back, and
    # a broker without a session for the subscriber would drop a plain one;
    # the subscriber subscribes once it is back and must get it
    offline = base + "/offline"
    try:
        r_off = pub.publish(offline, b"n500", retain=True, qos=1)
    except Exception as e:
        r_off = e
    print("  info: publish() while the broker is down -> {!r}".format(r_off))
    ck.ok(poll_until(lambda: ack_present("rb1.up"), 30000, [sub]), "harness restarted the broker")
    ck.ok(poll_until(lambda: sub_err.count("reconnect_success") > 0, 30000, [sub]),
          "subscriber reconnected on its own")
    t0 = now_ms()
    while elapsed_ms(t0) < 30000 and not payloads(sub_in, base + "/probe"):
        try:
            pub.publish(base + "/probe", b"p", qos=0)
        except Exception:
            pass
        poll_until(lambda: payloads(sub_in, base + "/probe"), 500, [sub])
    ck.ok(bool(payloads(sub_in, base + "/probe")),
          "subscriber resubscribed by the module (probe received)")
    if r_off is True:
        sub.subscribe(offline, 1)
        ck.ok(poll_until(lambda: b"n500" in payloads(sub_in, offline), 10000, [sub]),
              "the message publish() took while the broker was down reached the broker "
              "(from the offline queue, retained)")
        pub.publish(offline, b"", retain=True, qos=1)
    retried += publish_stream(pub, stream, range(restart_at, n), acked, sub)
    poll_until(lambda: stream_numbers(sub_in, stream) >= acked, 30000, [sub])
    got = stream_numbers(sub_in, stream)
    missing = sorted(acked - got)
    ck.ok(not missing and acked >= set(range(n)),
          "0 of {} acknowledged QoS 1 messages lost (missing: {})".format(len(acked), missing))
    ck.ok(pub_err.count("reconnect_success") >= 1, "publisher: reported reconnect_success")
    ck.ok(sub_err.count("reconnect_success") >= 1, "subscriber: reported reconnect_success")
    ck.eq(pub.get_mqttsta(), 0, "publisher: get_mqttsta() == 0")
    ck.eq(sub.get_mqttsta(), 0, "subscriber: get_mqttsta() == 0")
    pub.disconnect()
    sub.disconnect()
    return "both reconnected by themselves; {}/{} acknowledged QoS 1 delivered{}".format(
        len(got & acked), len(acked), ", 1 from the offline queue" if r_off is True else "")


def s_restart_persist():
    # the subscriber's persistent session holds queued QoS 1 messages when
    # the broker restarts; the publisher publishes on through the restart
    # (reconnecting on its own); the subscriber comes back afterwards and
    # must get every message whose publish() returned True
    n, restart_at = 20, 8
    stream = base + "/stream"
    sub_in = Inbox(ck)
    sub = client("-sub", sub_in, keepalive=10)
    r = sub.connect(clean_session=False) or sub.session_present  # a fresh client id
    ck.ok(not r, "first persistent connect: session present falsy (got {!r})".format(r))
    sub.subscribe(stream, 1)
    sub.disconnect()
    pub_err = Errors()
    pub = client("-pub", keepalive=10, errors=pub_err)
    pub.connect()
    acked = set()
    retried = publish_stream(pub, stream, range(restart_at), acked)
    harness("restart-broker", "rb1", 3)  # returns once the broker is down
    print("  broker is down; publishing on")
    retried += publish_stream(pub, stream, range(restart_at, n), acked)
    ck.ok(ack_present("rb1.up"), "harness restarted the broker")
    ck.ok(pub_err.count("reconnect_success") >= 1, "publisher: reported reconnect_success")
    r = sub.connect(clean_session=False) or sub.session_present
    ck.ok(bool(r), "subscriber back after the restart: session present truthy (got {!r})".format(r))
    poll_until(lambda: stream_numbers(sub_in, stream) >= acked, 15000, [sub])
    got = stream_numbers(sub_in, stream)
    missing = sorted(acked - got)
    ck.ok(not missing and len(acked) == n,
          "0 of {} acknowledged QoS 1 messages lost (missing: {})".format(len(acked), missing))
    pub.disconnect()
    sub.disconnect()
    sub.connect(clean_session=True)  # drop the session
    sub.disconnect()
    return ("{}/{} QoS 1 delivered from a session kept over the restart "
            "(n0..n{} queued before it), {} publish calls retried").format(
        len(got & acked), n, restart_at - 1, retried)


SCENARIOS = {
    "connect": s_connect,
    "qos0": lambda: s_qos(0),
    "qos1": lambda: s_qos(1),
    "qos2": lambda: s_qos(2),
    "retained": s_retained,
    "will": s_will,
    "session_resume": s_session_resume,
    "unsubscribe": s_unsubscribe,
    "restart": s_restart,
    "restart_persist": s_restart_persist,
}

if SCEN not in SCENARIOS:
    print("RESULT {} FAIL unknown scenario (one of {})".format(SCEN, " ".join(SCENARIOS)))
    sys.exit(2)
try:
    summary = SCENARIOS[SCEN]()
except Exception as e:
    ck.ok(False, "raised {}: {}".format(type(e).__name__, e))
    summary = ""
if ck.failures:
    print("RESULT {} FAIL {}".format(SCEN, first_fail[0] if first_fail else "?"))
    for c in clients:
        try:
            c.close()
        except Exception:
            pass
    sys.exit(1)
print("RESULT {} PASS {}".format(SCEN, summary))
