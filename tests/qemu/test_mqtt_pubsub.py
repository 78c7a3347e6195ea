# SUBSCRIBE/SUBACK, PUBLISH QoS 0/1/2 in both directions, PUBACK/PUBREC/
# PUBREL/PUBCOMP, PINGREQ/PINGRESP, UNSUBSCRIBE/UNSUBACK
# (expected bytes written out by hand from MQTT 3.1.1, sections 3.3 to 3.13).
from memstream import *

got = []


def cb(topic, msg):
    got.append((topic, msg))


c, s = connected("ps")
c.set_callback(cb)

# SUBSCRIBE s/# QoS 1: packet id 1; SUBACK grants QoS 1
s.feed(b"\x90\x03\x00\x01\x01")
c.subscribe("s/#", 1)
check("subscribe", s.take(), b"\x82\x08\x00\x01\x00\x03s/#\x01")

# PUBLISH QoS 0 (no packet id), then retained
check("publish qos0 returns True", c.publish("a/b", "hello"), True)
check("publish qos0", s.take(), b"\x30\x0a\x00\x03a/b" + b"hello")
c.publish("a/b", b"x", True)
check("publish retain", s.take(), b"\x31\x06\x00\x03a/b" + b"x")

# PUBLISH QoS 1: packet id 2, acknowledged by PUBACK 2
s.feed(b"\x40\x02\x00\x02")
check("publish qos1 acked", c.publish("a/b", bytearray(b"hi"), qos=1), True)
check("publish qos1", s.take(), b"\x32\x09\x00\x03a/b\x00\x02" + b"hi")

# PUBLISH QoS 2: packet id 3; PUBREC 3 -> PUBREL 3 (flags 0010) -> PUBCOMP 3
s.feed(b"\x50\x02\x00\x03" + b"\x70\x02\x00\x03")
check("publish qos2 done", c.publish("q2", "z", qos=2), True)
check("publish qos2 + pubrel", s.take(), b"\x34\x07\x00\x02q2\x00\x03" + b"z" + b"\x62\x02\x00\x03")

# a 300-byte payload: two-byte remaining length 305 = 0xb1 0x02
big = bytes(range(256)) + bytes(44)
c.publish("a/b", big)
check("publish 300 bytes", s.take(), b"\x30\xb1\x02\x00\x03a/b" + big)

# incoming PUBLISH QoS 0
s.feed(b"\x30\x07\x00\x03s/x" + b"p0")
c.check_msg()
check("incoming qos0", got, [(b"s/x", b"p0")])
check("nothing sent for qos0", s.take(), b"")
got.clear()

# incoming PUBLISH QoS 1, packet id 0x1234 -> PUBACK 0x1234
s.feed(b"\x32\x09\x00\x03s/y\x12\x34" + b"p1")
c.wait_msg()
check("incoming qos1", got, [(b"s/y", b"p1")])
check("puback", s.take(), b"\x40\x02\x12\x34")
got.clear()

# incoming PUBLISH QoS 2, packet id 7 -> PUBREC 7; PUBREL 7 -> PUBCOMP 7
s.feed(b"\x34\x09\x00\x03s/z\x00\x07" + b"p2")
c.wait_msg()
check("pubrec", s.take(), b"\x50\x02\x00\x07")
s.feed(b"\x62\x02\x00\x07")
c.wait_msg()
check("pubcomp", s.take(), b"\x70\x02\x00\x07")
check("incoming qos2 delivered once", got, [(b"s/z", b"p2")])
got.clear()

# two packets in one read: one per check_msg
s.feed(b"\x30\x05\x00\x01m" + b"m1" + b"\x30\x05\x00\x01n" + b"n2")
c.check_msg()
check("first of two", got, [(b"m", b"m1")])
c.check_msg()
check("second of two", got, [(b"m", b"m1"), (b"n", b"n2")])
c.check_msg()  # nothing buffered, nothing readable: returns at once
check("check_msg idle", len(got), 2)
got.clear()

# PINGREQ / PINGRESP
c.ping()
check("pingreq", s.take(), b"\xc0\x00")
s.feed(b"\xd0\x00")
c.check_msg()
check("pingresp consumed", (got, s.rx, c.get_mqttsta()), ([], b"", 0))

# UNSUBSCRIBE: packet id 4, UNSUBACK 4
s.feed(b"\xb0\x02\x00\x04")
c.unsubscribe("s/#")
check("unsubscribe", s.take(), b"\xa2\x07\x00\x04\x00\x03s/#")

c.disconnect()
check("disconnect", s.take(), b"\xe0\x00")
