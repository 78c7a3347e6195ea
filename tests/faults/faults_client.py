# MicroPython side of the fault tests: publishes FAULT_N QoS 1 messages
# "<tag>-<i>" to FAULT_OUT (one every FAULT_GAP_MS) while receiving QoS 1 on
# FAULT_IN and QoS 2 on FAULT_IN2, over a link the harness breaks. reconn=True,
# clean_session=False, keepalive 5 s. Prints READY once subscribed, "GOT
# <topic> <payload>" per delivered message, then a summary line.
import os
import sys
import time
from umqtt import MQTTClient

HOST = "127.0.0.1"
PORT = int(os.getenv("FAULT_PORT"))
N = int(os.getenv("FAULT_N"))
GAP = int(os.getenv("FAULT_GAP_MS"))
EXPECT_IN = int(os.getenv("FAULT_EXPECT_IN"))
TAG = os.getenv("FAULT_TAG")
CID = os.getenv("FAULT_CID")
OUT, IN1, IN2 = b"f/out/" + TAG.encode(), b"f/in/" + TAG.encode(), b"f/in2/" + TAG.encode()
DEADLINE_MS = int(os.getenv("FAULT_DEADLINE_MS") or "90000")

got = []
events = []


def on_msg(t, m):
    got.append(m)
    print("GOT {} {}".format(t.decode(), m.decode()))


def on_err(e):
    events.append(e)
    print("EVENT " + e)


c = MQTTClient(CID, HOST, PORT, keepalive=5, reconn=True)
c.set_callback(on_msg)
c.error_register_cb(on_err, True)  # our details too: "offline queue full" tells a refusal
c.connect(clean_session=False)
c.subscribe(IN1, 1)
c.subscribe(IN2, 2)
print("READY")
t0 = time.ticks_ms()
results = {True: 0, False: 0}
for i in range(N):
    # While the link is being re-established, QoS 1 messages beyond queue_size
    # are refused at once, and the error callback says so: the caller learns
    # it, so such a message is "refused", not "lost".
    before = len(events)
    r = c.publish(OUT, "{}-{}".format(TAG, i), qos=1)
    results[bool(r)] += 1
    if any("offline queue full" in e for e in events[before:]):
        print("REFUSED {}-{}".format(TAG, i))
    c.check_msg()
    time.sleep_ms(GAP)
# keep receiving until everything the harness sent has arrived
while len(got) < EXPECT_IN and time.ticks_diff(time.ticks_ms(), t0) < DEADLINE_MS:
    try:
        c.check_msg()
    except OSError as e:
        print("check_msg OSError", e)
    time.sleep_ms(20)
# give retransmissions of the last messages time to be acknowledged
for _ in range(100):
    c.check_msg()
    time.sleep_ms(20)
print("SUMMARY sent={} acked_in_time={} not_acked_in_time={} received={} reconnects={}".format(
    N, results[True], results[False], len(got), events.count("reconnect_success")))
c.disconnect()
sys.exit(0)
