# Publish rate (and heap per publish) of one implementation.
# P: impl (umqtt|simple|floor), qos, duration_ms or count, heap_n, topic
from benchlib import *

impl = P["impl"]
qos = P.get("qos", 0)
topic = P.get("topic", "bench/pub").encode()
payload = PAYLOAD64
cid = P.get("client_id", "bench-pub-%s-%d" % (impl, qos))
count = P.get("count", 0)          # fixed count (callgrind), else timed
duration = P.get("duration_ms", 1000) * 1000
heap_n = P.get("heap_n", 0)


# The loops below read local and closure variables only: a global's lookup
# goes through the module's dict, whose lookup cache (MicroPython's
# MICROPY_OPT_MAP_LOOKUP_CACHE, slot = qstr number mod 64) two globals can
# share, and qstr numbers shift with every name added to the firmware: the
# instruction counts would then move with the firmware's names.
def floor_one(s, pkt, qos):
    w = s.write
    if qos == 0:
        def one():
            w(pkt)
    else:
        b4 = bytearray(4)
        mv = memoryview(b4)
        rd = s.readinto

        def one():
            w(pkt)
            n = rd(b4)
            while n < 4:
                n += rd(mv[n:])
    return one


def client_one(p, topic, payload, qos):
    if qos == 0:
        def one():
            p(topic, payload)
    else:
        def one():
            p(topic, payload, False, 1)
    return one


def repeat(one, n):
    for _ in range(n):
        one()


if impl == "floor":
    s = raw_connect(cid.encode())
    one = floor_one(s, encode_publish(topic, payload, qos, 1), qos)
    c = s
else:
    c = make_client(impl, cid)
    one = client_one(c.publish, topic, payload, qos)

# warm up
repeat(one, 2 if qos else 50)

if count:
    repeat(one, count)
    result(impl=impl, qos=qos, count=count)
else:
    batch = 1 if qos else 64
    n = 0
    t0 = ticks_us()
    while True:
        repeat(one, batch)
        n += batch
        dt = ticks_diff(ticks_us(), t0)
        if dt >= duration:
            break
    res = {"impl": impl, "qos": qos, "n": n, "us": dt, "rate": n * 1e6 / dt}
    if heap_n:
        res["heap_per_msg"] = heap_delta(one, heap_n) / heap_n
    if P.get("sync"):
        # one acknowledged message: the broker has read the whole flood, so
        # the next measurement does not share the CPU with its backlog
        if impl == "floor":
            c.write(encode_publish(topic, payload, 1, 2))
            assert c.read(4)[0] == 0x40
        else:
            c.publish(topic, payload, False, 1)
    result(**res)
close_client(impl, c)
