# A stalled peer is a lost link also while another thread collects garbage.
# On the unix port a collection signals every other thread (to scan its
# stack); a socket write blocked in the kernel returns EINTR and the port
# retries it with a fresh socket timeout, so a write that counted on the
# socket's 5 s timeout never saw it expire: the writer, and every thread
# waiting for the client's lock, blocked for good.
import gc
import _thread
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms, now_ms, elapsed_ms
from fake_broker import FakeBroker, CONNACK, read_packet

ck = Checker("stalled peer: declared lost while another thread collects garbage")
state = {"end": False, "sent": 0, "last": now_ms(), "writer_done": False, "collections": 0}


def handler(c, n):
    read_packet(c)
    c.send(CONNACK)
    while not state["end"]:  # never reads again
        sleep_ms(50)


def writer():
    payload = bytes(1024)
    try:
        while state["sent"] < 40000 and c.publish("t", payload):
            state["sent"] += 1
            state["last"] = now_ms()
    except OSError:
        pass
    state["writer_done"] = True


def collector():
    while not state["end"]:
        gc.collect()
        state["collections"] += 1
        sleep_ms(20)


b = FakeBroker(handler)
c = MQTTClient("stallgc", "127.0.0.1", b.port, keepalive=0, reconn=False)
c.connect()
_thread.start_new_thread(collector, ())
t0 = now_ms()
_thread.start_new_thread(writer, ())
ck.ok(poll_until(lambda: state["writer_done"], 15000),
      "the writer returned within 15 s ({} ms, {} publishes of 1 KB, {} collections meanwhile)".format(
          elapsed_ms(t0), state["sent"], state["collections"]))
ck.ok(c.get_mqttsta() != 0, "the stalled link is declared lost (get_mqttsta() {})".format(c.get_mqttsta()))
state["end"] = True
c.close()
ck.finish()
