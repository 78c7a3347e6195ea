# Buffers at odd addresses and odd lengths through the C glue into the Rust
# core (the ARM builds use strict alignment: -mno-unaligned-access, and Rust's
# armv7a targets are +strict-align).
from memstream import *

c, s = connected("al")
base = bytearray(b"#" + bytes(range(1, 40)))
bad = 0
for off in range(1, 5):
    for n in range(0, 9):
        payload = memoryview(base)[off:off + n]
        c.publish("t", payload)
        want = bytes([0x30, 3 + n, 0, 1]) + b"t" + bytes(base[off:off + n])
        if s.take() != want:
            bad += 1
            print("FAIL offset", off, "length", n)
check("payload views at offsets 1..4, lengths 0..8", bad, 0)

# QoS 1 with a payload view: frozen into bytes, kept for retransmission
s.feed(b"\x40\x02\x00\x01")
c.publish("t", memoryview(base)[3:8], qos=1)
check("qos1 view", s.take(), b"\x32\x0a\x00\x01t\x00\x01" + bytes(base[3:8]))

# incoming topics and payloads of every length 1..9 (odd offsets inside the
# client's receive buffer)
got = []
c.set_callback(lambda t, m: got.append((t, m)))
stream = b""
for n in range(1, 10):
    stream += packet(0x30, mqtt_str("abcdefghi"[:n]) + b"xyz"[:n % 4])
s.feed(stream)
for n in range(1, 10):
    c.wait_msg()
check("incoming lengths 1..9", got, [(b"abcdefghi"[:n], b"xyz"[:n % 4]) for n in range(1, 10)])
c.disconnect()
