# A message callback that raises KeyboardInterrupt (or SystemExit) did not
# take the message: no PUBACK/PUBREC goes out, and the broker's redelivery
# (DUP) must reach the callback once. A QoS 2 id recorded as received before
# the callback ran made the redelivery a "duplicate", acknowledged and never
# delivered: the message was lost.
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms
from fake_broker import FakeBroker, CONNACK, read_packet

ck = Checker("callback interrupt: the redelivery reaches the callback")
state = {"interrupted": False, "done": False}
seen = []  # packets the client sent after CONNECT, as (first byte, body)


def publish(qos, pid, payload, dup):
    first = 0x30 | (qos << 1) | (0x08 if dup else 0)
    body = b"\x00\x01t" + bytes([pid >> 8, pid & 255]) + payload
    return bytes([first, len(body)]) + body


def handler(c, n):
    read_packet(c)
    c.send(CONNACK)
    for qos, pid, payload in ((2, 7, b"two"), (1, 8, b"one")):
        state["interrupted"] = False
        c.send(publish(qos, pid, payload, False))
        while not state["interrupted"]:
            sleep_ms(20)
        c.send(publish(qos, pid, payload, True))
        p = read_packet(c)
        if p is None:
            return
        seen.append(p)
        if qos == 2 and p[0] == 0x50:
            c.send(b"\x62\x02" + p[1])  # PUBREL
            p = read_packet(c)
            if p is None:
                return
            seen.append(p)
    state["done"] = True
    while read_packet(c) is not None:
        pass


calls = []


def on_message(topic, msg):
    calls.append(msg)
    if calls.count(msg) == 1:
        raise KeyboardInterrupt


b = FakeBroker(handler)
c = MQTTClient("cbint", "127.0.0.1", b.port, keepalive=0, reconn=False)
c.set_callback(on_message)
c.connect()
for expected in (b"two", b"one"):
    got = []
    try:
        c.wait_msg()
    except KeyboardInterrupt:
        got.append("interrupted")
    ck.eq(got, ["interrupted"], "the callback's KeyboardInterrupt reaches the script ({})".format(expected))
    state["interrupted"] = True
    # the DUP redelivery (a QoS 2 one then its PUBREL: two packets)
    c.wait_msg()
    if expected == b"two":
        c.wait_msg()
    ck.eq(calls.count(expected), 2, "the redelivery reached the callback ({})".format(expected))
ck.ok(poll_until(lambda: state["done"], 3000), "the broker saw both flows")
ck.eq(seen, [(0x50, b"\x00\x07"), (0x70, b"\x00\x07"), (0x40, b"\x00\x08")],
      "one PUBREC/PUBCOMP for QoS 2, one PUBACK for QoS 1, all after the redelivery")
ck.eq(len(calls), 4, "each message reached the callback exactly once after the interrupt")
ck.eq(c.get_mqttsta(), 0, "still connected")
c.disconnect()
ck.finish()
