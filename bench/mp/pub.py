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

if impl == "floor":
    s = raw_connect(cid.encode())
    pkt = encode_publish(topic, payload, qos, 1)
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
    c = s
else:
    c = make_client(impl, cid)
    p = c.publish
    if qos == 0:
        def one():
            p(topic, payload)
    else:
        def one():
            p(topic, payload, False, 1)

# warm up
for _ in range(2 if qos else 50):
    one()

if count:
    for _ in range(count):
        one()
    result(impl=impl, qos=qos, count=count)
else:
    batch = 1 if qos else 64
    n = 0
    t0 = ticks_us()
    while True:
        for _ in range(batch):
            one()
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
