# HARNESS-ARGS: -X heapsize=24M
# A big packet to a peer that stops reading: the packet's total limit is
# long (5 s + 1 s per 2 KB), so only the "no byte moved for 5 s" rule can
# end the write (docs/umqtt.md). Once the socket reports room, the write
# itself blocks until the socket's own timeout returns a partial count, and
# only then does the clock of "the last byte moved" start: with a 5 s
# socket timeout the link was declared lost after ~10 s without a byte
# moved, twice the documented 5 s, and every other thread waited that long
# for the lock (the client now sets 1 s: lost within ~6 s).
from umqtt import MQTTClient
from mqtt_test_util import Checker, sleep_ms, now_ms, elapsed_ms
from fake_broker import FakeBroker, CONNACK, read_packet

ck = Checker("a big packet to a stalled peer is lost after 5 s without progress")
state = {"end": False}


def handler(c, n):
    read_packet(c)
    c.send(CONNACK)
    while not state["end"]:  # never reads again: the buffers fill at once
        sleep_ms(50)


b = FakeBroker(handler)
c = MQTTClient("nobig", "127.0.0.1", b.port, keepalive=0, reconn=False)
c.connect()
t0 = now_ms()
# 8 MB: more than the loopback buffers take; its total limit is ~70 min
sent = c.publish("t", bytes(8 * 1024 * 1024))
took = elapsed_ms(t0)
ck.eq(sent, False, "publish() to the stalled peer returned False")
ck.ok(took < 8000, "the link was lost within ~5 s of the last byte moved (took {} ms)".format(took))
ck.ok(c.get_mqttsta() != 0, "the link is lost (get_mqttsta() {})".format(c.get_mqttsta()))
state["end"] = True
c.close()
ck.finish()
