# Review finding (crash): connect() while another thread allocates dies with
# "TypeError: object with buffer protocol required", a hang or SIGSEGV
# within seconds; connect(sock=...) over the same broker holds. open_link()
# keeps only `fields`, a pointer into the middle of getaddrinfo()'s first
# 5-tuple (items start past the tuple's head block, and the GC marks head
# blocks only); `infos` is dead after mp_obj_subscr(). The socket(),
# settimeout and connect attribute look-ups allocate: a collection there
# frees the tuple and its sockaddr, the next allocation reuses them, and
# &fields[4] handed to tcp.connect() is garbage.
import _thread
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid, now_ms, elapsed_ms, sleep_ms

ck = Checker("review: connect() while another thread allocates")
stop = [False]


def churn():
    junk = []
    while not stop[0]:
        junk.append(bytearray(64))
        junk.append([1, 2, 3, 4, 5])
        if len(junk) > 200:
            junk = []


_thread.start_new_thread(churn, ())
c = MQTTClient(uid("rv-churn"), HOST, PORT, keepalive=0, reconn=False)
n = 0
err = None
t0 = now_ms()
while elapsed_ms(t0) < 10000:
    try:
        c.connect()
    except Exception as e:
        err = e
        break
    n += 1
stop[0] = True
sleep_ms(100)
ck.ok(err is None, "{} connects while another thread allocates, no exception ({!r})".format(n, err))
try:
    c.disconnect()
except Exception:
    pass
ck.finish()
