# In-memory MQTT server side for the offline tests (tests/qemu/README.md).
# Inlined by tests/run_qemu_tests.py wherever a test says
# "from memstream import *", so the ARM and the x86 firmware run the same text.
import io
import select

import umqtt

MP_STREAM_POLL = 3
MP_STREAM_CLOSE = 4
POLL_RD = 0x0001
POLL_WR = 0x0004
EINVAL = 22


class MemStream(io.IOBase):
    """A stream for MQTTClient.connect(sock=...): what the client writes is
    collected (take()), what the test feed()s is what the client reads.
    chunk limits the bytes one readinto returns (split-read tests)."""

    def __init__(self, chunk=0):
        self.rx = b""
        self.tx = b""
        self.chunk = chunk
        self.closed = False
        self.reads = 0

    def feed(self, data):
        self.rx += data

    def take(self):
        data = self.tx
        self.tx = b""
        return data

    def readinto(self, buf):
        if not self.rx:
            return None  # EAGAIN: nothing yet (never reached when polled first)
        n = min(len(buf), len(self.rx))
        if self.chunk:
            n = min(n, self.chunk)
        buf[:n] = self.rx[:n]
        self.rx = self.rx[n:]
        self.reads += 1
        return n

    def write(self, buf):
        if self.closed:
            return -9  # EBADF
        self.tx += bytes(buf)  # buf is a view of the client's buffer: copy it
        return len(buf)

    def ioctl(self, req, arg):
        if req == MP_STREAM_POLL:
            ready = POLL_WR
            if self.rx:
                ready |= POLL_RD
            return ready & arg
        if req == MP_STREAM_CLOSE:
            self.closed = True
            return 0
        return -EINVAL


def hexs(b):
    return " ".join("%02x" % x for x in b)


def check(name, got, want):
    if got == want:
        print("ok", name)
    else:
        print("FAIL", name)
        print("  got ", hexs(got) if isinstance(got, (bytes, bytearray)) else repr(got))
        print("  want", hexs(want) if isinstance(want, (bytes, bytearray)) else repr(want))


def mqtt_str(s):
    # MQTT 3.1.1 section 1.5.3: two-byte big-endian length, then UTF-8
    b = s.encode() if isinstance(s, str) else s
    return bytes([len(b) >> 8, len(b) & 0xFF]) + b


def remaining_length(n):
    # MQTT 3.1.1 section 2.2.3: 7 bits per byte, continuation bit 0x80
    out = bytearray()
    while True:
        d = n % 128
        n //= 128
        if n:
            d |= 0x80
        out.append(d)
        if not n:
            return bytes(out)


def packet(first_byte, body):
    return bytes([first_byte]) + remaining_length(len(body)) + body


CONNACK_OK = b"\x20\x02\x00\x00"  # 3.2: session present 0, return code 0


def connected(client_id="cid", chunk=0, **kw):
    """A client logged in over a MemStream; the CONNECT bytes are taken."""
    s = MemStream(chunk)
    c = umqtt.MQTTClient(client_id, "offline.invalid", **kw)
    s.feed(CONNACK_OK)
    c.connect(sock=s)
    s.take()
    return c, s
