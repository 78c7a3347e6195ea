# Issue 10, defect 2: a failed connect closes every socket it opened. Before:
# one socket leaked per failed connect (plain and TLS), so a long outage ran
# the process out of descriptors.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, open_fds, uid

N = 1000
ck = Checker("no descriptor leaks on failed connects")
cid = uid("fd")


def fail_connects(what, **kw):
    before = open_fds()
    raised = 0
    for _ in range(N):
        c = MQTTClient(cid, HOST, kw["port"], ssl=kw.get("ssl", False))
        try:
            c.connect()
        except Exception:
            raised += 1
    after = open_fds()
    ck.eq(raised, N, "{}: every connect failed".format(what))
    ck.ok(after - before <= 2, "{}: descriptors before {}, after {} connects {}".format(what, before, N, after))


# nothing listens on port 1: refused at once
fail_connects("refused TCP", port=1)
# a plain MQTT broker: TCP connects, the TLS handshake fails
fail_connects("failed TLS handshake", port=PORT, ssl=True)
ck.finish()
