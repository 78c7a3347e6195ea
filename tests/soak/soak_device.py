# The device side of `make soak` (runs on the firmware). Env: SOAK_PORT,
# SOAK_SECONDS, SOAK_ID. Publishes numbered QoS 0/1/2 uplinks, receives the
# peer's numbered QoS 1/2 downlinks in a wait_msg() thread, and runs
# gc.collect() in a third thread the whole time. Prints one SAMPLE line every
# 30 s (heap, descriptors) and a RESULT line at the end (JSON).
import _thread
import gc
import json
import os
import time
from umqtt import MQTTClient

PORT = int(os.getenv("SOAK_PORT"))
SECONDS = int(os.getenv("SOAK_SECONDS"))
CID = os.getenv("SOAK_ID")

# preallocated counters per message number: the heap stays flat by design
MAX = SECONDS * 12 + 100
accepted = {q: bytearray(MAX) for q in (0, 1, 2)}
refused = {0: 0, 1: 0, 2: 0}
down = {q: bytearray(MAX) for q in (1, 2)}
counts = {"up": [0, 0, 0], "down": [0, 0]}
events = {}
running = [True]
threads_done = []


def fds():
    return len(list(os.ilistdir("/proc/self/fd")))


def on_msg(topic, msg):
    qos = 1 if topic.endswith(b"/q1") else 2
    n = int(msg)
    if n < MAX and down[qos][n] < 255:
        down[qos][n] += 1
    counts["down"][qos - 1] += 1


def on_error(msg):
    # counted, not kept: the heap must stay flat
    events[msg] = events.get(msg, 0) + 1


c = MQTTClient(CID, "127.0.0.1", PORT, keepalive=10, queue_size=16)
c.set_callback(on_msg)
c.error_register_cb(on_error)
c.connect(clean_session=False)
c.subscribe("soak/down/q1", 1)
c.subscribe("soak/down/q2", 2)


def receive():
    while running[0]:
        try:
            c.wait_msg()
        except OSError:
            time.sleep_ms(100)
    threads_done.append("receive")


def gc_stress():
    n = 0
    while running[0]:
        bytearray(256)  # garbage at once: the samples measure the client, not this
        n += 1
        if n % 64 == 0:
            gc.collect()
        time.sleep_ms(2)
    threads_done.append("gc")


def sample(tag):
    gc.collect()
    print("SAMPLE " + json.dumps({"tag": tag, "t": time.ticks_diff(time.ticks_ms(), t0) // 1000,
                                  "heap": gc.mem_alloc(), "fds": fds(), "sta": c.get_mqttsta(),
                                  "up": counts["up"], "down": counts["down"]}))


t0 = time.ticks_ms()
_thread.start_new_thread(receive, ())
_thread.start_new_thread(gc_stress, ())
seq = 0
next_sample = 30
sample("start")
while time.ticks_diff(time.ticks_ms(), t0) < SECONDS * 1000 and seq < MAX:
    for qos in (0, 1, 2):
        if c.publish("soak/up/q%d" % qos, str(seq), False, qos):
            accepted[qos][seq] = 1
            counts["up"][qos] += 1
        else:
            refused[qos] += 1
    seq += 1
    time.sleep_ms(100)
    if time.ticks_diff(time.ticks_ms(), t0) >= next_sample * 1000:
        sample("run")
        next_sample += 30
# let the last acknowledgements and downlinks arrive
time.sleep_ms(5000)
running[0] = False
sample("end")
c.disconnect()
time.sleep_ms(500)

def numbers(counter, times=1):
    return [n for n in range(MAX) if counter[n] >= times]


print("RESULT " + json.dumps({"accepted": {q: numbers(accepted[q]) for q in (0, 1, 2)}, "refused": refused,
                              "down": {q: numbers(down[q]) for q in (1, 2)},
                              "down_twice": {q: numbers(down[q], 2) for q in (1, 2)},
                              "reconnects": events.get("reconnect_success", 0),
                              "events": events}))
