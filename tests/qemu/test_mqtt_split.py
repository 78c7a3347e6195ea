# Packets split across reads (1, 3 and 7 bytes per read), multi-byte
# remaining lengths (MQTT 3.1.1, 2.2.3), payloads larger than the client's
# default receive buffer, and several packets in one read.
from memstream import *

got = []


def cb(topic, msg):
    got.append((topic, msg))


def publish_packet(topic, payload, qos=0, pid=0):
    body = mqtt_str(topic) + (bytes([pid >> 8, pid & 0xFF]) if qos else b"") + payload
    return packet(0x30 | (qos << 1), body)


# the helper's encoding, checked by hand against 2.2.3's examples
check("remaining length 0", remaining_length(0), b"\x00")
check("remaining length 127", remaining_length(127), b"\x7f")
check("remaining length 128", remaining_length(128), b"\x80\x01")
check("remaining length 16383", remaining_length(16383), b"\xff\x7f")
check("remaining length 16384", remaining_length(16384), b"\x80\x80\x01")
check("remaining length 1005", remaining_length(1005), b"\xed\x07")

for chunk in (1, 3, 7):
    c, s = connected("split%d" % chunk, chunk=chunk)
    c.set_callback(cb)
    # 200-byte payload: remaining length 205 = 0xcd 0x01
    p200 = bytes((i * 7) & 0xFF for i in range(200))
    s.feed(b"\x30\xcd\x01\x00\x03s/a" + p200)
    c.wait_msg()
    check("200 bytes in chunks of %d" % chunk, got, [(b"s/a", p200)])
    got.clear()
    # 1000-byte payload QoS 1 (remaining length 1007 = 0xef 0x07), pid 9
    p1000 = bytes((i * 13 + 5) & 0xFF for i in range(1000))
    s.feed(b"\x32\xef\x07\x00\x03s/b\x00\x09" + p1000)
    c.wait_msg()
    check("1000 bytes qos1 in chunks of %d" % chunk, (got, s.take()),
          ([(b"s/b", p1000)], b"\x40\x02\x00\x09"))
    got.clear()
    # three packets back to back, the last one split by the chunking
    s.feed(publish_packet("x", b"1") + publish_packet("y", b"22", 1, 300) + publish_packet("z", b""))
    for _ in range(3):
        c.wait_msg()
    check("three packets in chunks of %d" % chunk, (got, s.take()),
          ([(b"x", b"1"), (b"y", b"22"), (b"z", b"")], b"\x40\x02\x01\x2c"))
    got.clear()
    # a 4000-byte payload after all that: remaining length 4005 = 0xa5 0x1f
    p4000 = bytes(4000)
    s.feed(b"\x30\xa5\x1f\x00\x03s/c" + p4000)
    c.wait_msg()
    check("4000 bytes in chunks of %d" % chunk, (len(got), got[0][0], got[0][1] == p4000),
          (1, b"s/c", True))
    got.clear()
    c.disconnect()
    s.take()

# the client's own large PUBLISH: 20000-byte payload, QoS 1, packet id 1;
# remaining length 2 + 3 + 2 + 20000 = 20007 = 0xa7 0x9c 0x01
c, s = connected("bigout")
payload = bytes(range(200)) * 100
s.feed(b"\x40\x02\x00\x01")
c.publish("s/d", payload, qos=1)
check("publish 20000 bytes", s.take(), b"\x32\xa7\x9c\x01\x00\x03s/d\x00\x01" + payload)
c.disconnect()
