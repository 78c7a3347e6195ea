# Issue 10, item 7: a QoS 2 message whose topic or payload cannot be
# allocated (MemoryError) is not lost. Its packet id is recorded as received
# when the packet is parsed, before the message objects are made: unless the
# client forgets it, the server's redelivery after the reconnect (same
# session) is taken for a duplicate, acknowledged and never delivered.
# The heap is filled from the script once the PUBLISH sits in the socket, so
# that making the message is what fails.
import gc
import _thread
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms
from fake_broker import FakeBroker, CONNACK, read_packet

ck = Checker("QoS 2 message not lost to a MemoryError")
CONNACK_SESSION = b"\x20\x02\x01\x00"  # session present: ids are kept
state = {"sent": False, "acks": []}
# the first link's handler waits here without allocating while the heap is full
gate = _thread.allocate_lock()
gate.acquire()


def publish(pid, payload, dup):
    body = b"\x00\x01t" + bytes([pid >> 8, pid & 255]) + payload
    return bytes([0x34 | (0x08 if dup else 0), len(body)]) + body


def handler(c, n):
    if read_packet(c) is None:
        return
    if n == 0:
        c.send(CONNACK)
        c.send(publish(9, b"hello", False))
        state["sent"] = True
        gate.acquire()
        gate.release()
        while read_packet(c) is not None:
            pass
        return
    c.send(CONNACK_SESSION)
    c.send(publish(9, b"hello", True))
    while True:
        p = read_packet(c)
        if p is None:
            return
        state["acks"].append(p)
        if p[0] == 0x50:
            c.send(b"\x62\x02" + p[1])  # PUBREL


got = []


def on_message(topic, msg):
    got.append(msg)


def fill_heap():
    # down to one-block holes: no message object fits any more
    hog = None
    size = 4096
    while size:
        try:
            hog = (bytearray(size), hog)
        except MemoryError:
            size //= 2
    return hog


b = FakeBroker(handler)
c = MQTTClient("oom2", "127.0.0.1", b.port, keepalive=0, reconn=True)
c.set_callback(on_message)
c.connect(clean_session=False)
ck.ok(poll_until(lambda: state["sent"], 3000), "the broker sent the QoS 2 message")
sleep_ms(200)  # in the client's socket now
outcome = hog = None  # globals made before: a new one may grow the dict
hog = fill_heap()
try:
    c.wait_msg()
    outcome = "returned"
except MemoryError:
    outcome = "MemoryError"
hog = None
gc.collect()
gate.release()
ck.eq(outcome, "MemoryError", "making the message raised MemoryError to the script")
ck.eq(got, [], "nothing was delivered then")
ck.ok(poll_until(lambda: got, 10000, [c]), "the redelivery after the reconnect reached the callback")
ck.eq(got, [b"hello"], "delivered once")
ck.ok(poll_until(lambda: len(state["acks"]) >= 2, 3000, [c]), "the client finished the QoS 2 exchange")
ck.eq(state["acks"][:2], [(0x50, b"\x00\x09"), (0x70, b"\x00\x09")], "PUBREC then PUBCOMP for id 9")
c.disconnect()
ck.finish()
