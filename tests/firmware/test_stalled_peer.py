# A peer that stops reading (its TCP window full) blocks the client's socket
# write while the client's lock is held. Other threads' calls (and the
# background keepalive) wait for that lock: they must not wait for the
# 20 s connect timeout, which the socket used to keep for its writes too.
# A write that makes no progress for a few seconds means the link is lost.
import _thread
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms, now_ms, elapsed_ms
from fake_broker import FakeBroker, CONNACK, read_packet

ck = Checker("stalled peer: other threads' calls return before the 20 s timeout")
state = {"end": False, "sent": 0, "last": now_ms(), "writer_done": False}


def handler(c, n):
    read_packet(c)
    c.send(CONNACK)
    while not state["end"]:  # never reads again
        sleep_ms(50)


def writer():
    payload = bytes(1024)  # under WRITE_MIN_RATE: the plain 5 s limit
    try:
        while state["sent"] < 40000 and c.publish("t", payload):
            state["sent"] += 1
            state["last"] = now_ms()
    except OSError:
        pass
    state["writer_done"] = True


timed = {}


def timed_publish():
    t0 = now_ms()
    try:
        c.publish("t", b"small")
    except OSError:
        pass
    timed["publish"] = elapsed_ms(t0)


b = FakeBroker(handler)
c = MQTTClient("stall", "127.0.0.1", b.port, keepalive=60, reconn=False)
c.connect()
_thread.start_new_thread(writer, ())
# the writer is stuck once no publish has returned for a second
stuck = poll_until(lambda: state["writer_done"] or elapsed_ms(state["last"]) > 1000, 30000)
ck.ok(stuck and not state["writer_done"],
      "a writer thread blocks on the stalled peer (after {} publishes of 1 KB)".format(state["sent"]))
_thread.start_new_thread(timed_publish, ())
t0 = now_ms()
sta = c.get_mqttsta()
took = elapsed_ms(t0)
ck.ok(took < 10000, "get_mqttsta() from another thread returned within 10 s (took {} ms)".format(took))
ck.ok(sta != 0, "the stalled link is declared lost (get_mqttsta() {})".format(sta))
ck.ok(poll_until(lambda: "publish" in timed, 25000), "publish() from a third thread returned")
ck.ok(timed.get("publish", 99999) < 10000,
      "publish() from a third thread returned within 10 s (took {} ms)".format(timed.get("publish")))
ck.ok(poll_until(lambda: state["writer_done"], 25000), "the blocked writer returned")
state["end"] = True
c.disconnect()
ck.finish()
