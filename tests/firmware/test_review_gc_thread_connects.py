# Review of open_link under a collector looping in another
# thread: 100 connects each failing at the TCP step (refused) and at the TLS step
# (handshake against a plain broker) close every socket they opened. The
# unix port's collector signals every thread, so connect() and the handshake
# are interrupted and restarted inside open_link's one nlr frame.
import gc
import _thread

from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid, sleep_ms, open_fds

N = 100
ck = Checker("review: failing connects with a collector thread")
cid = uid("rv-gc")
stop = [False]
done = [False]


def collector():
    # A pause between collections: back to back, this thread starves the
    # connecting one (the GIL and the unix port's GC signals are not fair)
    # and a TLS attempt took seconds on a busy machine.
    while not stop[0]:
        gc.collect()
        sleep_ms(1)
    done[0] = True


_thread.start_new_thread(collector, ())
for what, port, ssl in (("refused TCP", 1, False), ("failed TLS handshake", PORT, True)):
    before = open_fds()
    raised = 0
    for _ in range(N):
        c = MQTTClient(cid, HOST, port, ssl=ssl, reconn=False)
        try:
            c.connect()
        except ValueError:
            raised += 1
    ck.eq(raised, N, what + ": every connect raised ValueError")
    after = open_fds()
    ck.ok(after - before <= 2, "{}: descriptors before {}, after {}".format(what, before, after))

stop[0] = True
while not done[0]:
    sleep_ms(10)
ck.finish()
