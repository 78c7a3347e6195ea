# One 1 MiB payload: time and heap to publish it (QoS 1, to the local sink,
# which acknowledges) or to receive it (QoS 0, from the local feeder, which
# sends it when the client pings).
# P: impl (umqtt|simple), dir (pub|recv), size
# Heap: GC disabled around the operation. "retained" is gc.mem_alloc() after
# minus before. "peak" is micropython.mem_peak() (high-water mark of the bytes
# allocated minus those explicitly freed, kept by MICROPY_MEM_STATS) minus
# micropython.mem_current() before; with the GC off nothing is swept, so this
# is the operation's peak extra heap, provided it exceeded the earlier peak
# (else it is only an upper bound: "peak_is_bound").
from benchlib import *
import micropython

impl = P["impl"]
direction = P["dir"]
size = P.get("size", 1 << 20)
topic = b"bench/big"
got = []


def cb(t, m):
    got.append(m)


c = make_client(impl, ("big-" if direction == "recv" else "sink-") + impl)
c.set_callback(cb)
if direction == "recv":
    c.subscribe(topic)
    payload = None
else:
    payload = bytes(range(256)) * (size // 256)
gc.collect()
gc.disable()
cur0 = micropython.mem_current()
pk0 = micropython.mem_peak()
a = gc.mem_alloc()
t0 = ticks_us()
if direction == "pub":
    c.publish(topic, payload, False, 1)
else:
    c.ping()  # the feeder's cue to send the big message
    while not got:
        c.wait_msg()
dt = ticks_diff(ticks_us(), t0)
b = gc.mem_alloc()
pk1 = micropython.mem_peak()
gc.enable()
if direction == "recv":
    assert len(got[0]) == size, len(got[0])
    assert got[0][:256] == bytes(range(256))
result(impl=impl, dir=direction, size=size, us=dt, retained=b - a,
       peak=pk1 - cur0, peak_is_bound=(pk1 == pk0))
got = None
if impl == "simple":
    c.sock.close()
else:
    c.close()
