# Receive rate (and heap per received message) of one implementation.
# P: impl (umqtt|simple), topic, client_id, duration_ms or count, heap_n
from benchlib import *

impl = P["impl"]
topic = P.get("topic", "bench/flood").encode()
count = P.get("count", 0)
duration = P.get("duration_ms", 1000) * 1000
heap_n = P.get("heap_n", 0)
cnt = [0]


# The loops and the callback read local and closure variables only (see
# pub.py: a global's lookup cost depends on the firmware's qstr numbers).
def counter(cnt):
    def cb(t, m):
        cnt[0] += 1
    return cb


def receive_until(wm, cnt, target):
    while cnt[0] < target:
        wm()


def repeat(wm, n):
    for _ in range(n):
        wm()


c = make_client(impl, P.get("client_id", "flood-" + impl))
c.set_callback(counter(cnt))
c.subscribe(topic)
ready()
wm = c.wait_msg
receive_until(wm, cnt, 2 if count else 200)  # first messages, warm up

if count:
    receive_until(wm, cnt, cnt[0] + count)
    result(impl=impl, count=count)
else:
    res = {"impl": impl}
    if heap_n:
        # what the callback is handed: a topic and a payload bytes object
        gc.collect()
        a = gc.mem_alloc()
        keep = (bytes(len(topic)), bytes(64))
        res["ref_objects"] = gc.mem_alloc() - a
        keep = None
        gc.collect()
        gc.disable()
        a = gc.mem_alloc()
        receive_until(wm, cnt, cnt[0] + heap_n)
        b = gc.mem_alloc()
        # the loop itself, with no call
        target = cnt[0]
        n = 0
        while n < heap_n:
            n += 1
        c2 = gc.mem_alloc()
        gc.enable()
        gc.collect()
        res["heap_per_msg"] = ((b - a) - (c2 - b)) / heap_n
    n0 = cnt[0]
    t0 = ticks_us()
    while True:
        repeat(wm, 32)
        dt = ticks_diff(ticks_us(), t0)
        if dt >= duration:
            break
    n = cnt[0] - n0
    res.update(n=n, us=dt, rate=n * 1e6 / dt)
    result(**res)
if impl == "simple":
    c.sock.close()
else:
    c.close()
