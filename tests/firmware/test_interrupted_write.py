# A KeyboardInterrupt (Ctrl-C) that arrives while publish() blocks in a
# socket write leaves part of a packet on the link. The link cannot carry
# another packet after that half: it is lost (closed), and the next packet
# never goes out glued to the half one. Before, the link stayed up and the
# next publish() was written right after the half packet.
import ffi
import _thread
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms, now_ms, elapsed_ms
from fake_broker import FakeBroker, CONNACK, read_packet

ck = Checker("a write interrupted mid-packet loses the link")
libc = ffi.open("libc.so.6")
pthread_kill = libc.func("i", "pthread_kill", "Li")
SIGINT = 2
# the unix port's thread id is pthread_self() (no zero-argument ffi call:
# modffi's argument array is a VLA, which UBSan refuses at length 0)
main_thread = _thread.get_ident()
MARK = b"AFTER-THE-INTERRUPT"
state = {"drain": False, "seen_after": False, "eof": False, "last": now_ms(), "sent": 0}


def handler(c, n):
    read_packet(c)
    c.send(CONNACK)
    while not state["drain"]:  # stops reading: the client's writes block
        sleep_ms(20)
    tail = b""
    while True:
        try:
            d = c.recv(4096)
        except OSError:
            d = b""
        if not d:
            state["eof"] = True
            return
        state["seen_after"] |= MARK in tail + d
        tail = d[-len(MARK):]


def interrupter():
    # once the main thread is blocked in a write for a second
    while elapsed_ms(state["last"]) < 1000:
        sleep_ms(50)
    pthread_kill(main_thread, SIGINT)


b = FakeBroker(handler)
c = MQTTClient("intw", "127.0.0.1", b.port, keepalive=0, reconn=False)
c.connect()
_thread.start_new_thread(interrupter, ())
interrupted = False
payload = bytes(1000) + b"END-OF-PAYLOAD"
try:
    while state["sent"] < 40000 and c.publish("t", payload):
        state["sent"] += 1
        state["last"] = now_ms()
except KeyboardInterrupt:
    interrupted = True
ck.ok(interrupted, "publish() raised KeyboardInterrupt after {} publishes".format(state["sent"]))
ck.ok(c.get_mqttsta() != 0, "the link with half a packet on it is lost (get_mqttsta() {})".format(c.get_mqttsta()))
try:
    c.publish("t", MARK)
except OSError:
    pass
state["drain"] = True
ck.ok(poll_until(lambda: state["eof"], 5000), "the peer saw the link closed")
ck.ok(not state["seen_after"], "no packet went out after the half one")
c.close()
ck.finish()
