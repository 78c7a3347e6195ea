"""MQTT 3.1.1 packets for the raw-socket test doubles (hostile broker, bench
peer, flooders), and a reader that splits a byte stream into packets.

Builders return bytes; topics, client ids, user names accept str or bytes.
Nothing here validates: the hostile tests need malformed packets too
(packet(first, body) builds any fixed header + body, publish(first=...)
any first byte).

    connack(0)                      b"\\x20\\x02\\x00\\x00"
    publish("t/x", b"m", qos=1, pid=7)
    puback(7) pubrec(7) pubrel(7) pubcomp(7) unsuback(7)
    suback(7, [1])                  granted QoS (or 0x80) per filter
    pingresp() pingreq() disconnect()
    connect("cid", keepalive=60)    for clients played by the harness
    remaining_length(n)             the variable-length integer
    PacketReader: feed(bytes) then next() -> (first_byte, body) or None
    SocketReader(sock).read(timeout) -> (first_byte, body) or None on EOF
"""
import socket
import struct

# packet types (first byte >> 4)
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14

MAX_REMAINING_LENGTH = 268435455


def _b(s):
    return s.encode() if isinstance(s, str) else bytes(s)


def remaining_length(n):
    """The remaining-length field (1..4 bytes, 7 bits each, low first)."""
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mstr(s):
    """A length-prefixed string (2-byte big-endian length + bytes)."""
    s = _b(s)
    return struct.pack(">H", len(s)) + s


def packet(first, body=b""):
    """Any packet: first byte, remaining length, body."""
    return bytes([first]) + remaining_length(len(body)) + bytes(body)


def _pid_packet(first, pid):
    return packet(first, struct.pack(">H", pid))


def connack(code=0, session_present=False):
    return packet(0x20, bytes([1 if session_present else 0, code]))


def publish(topic=b"t/x", payload=b"m", qos=0, pid=1, retain=False, dup=False, first=None):
    """PUBLISH; `first` overrides the first byte (e.g. reserved QoS 3)."""
    body = mstr(topic) + (struct.pack(">H", pid) if qos else b"") + _b(payload)
    if first is None:
        first = 0x30 | (qos << 1) | (0x08 if dup else 0) | (0x01 if retain else 0)
    return packet(first, body)


def puback(pid):
    return _pid_packet(0x40, pid)


def pubrec(pid):
    return _pid_packet(0x50, pid)


def pubrel(pid):
    return _pid_packet(0x62, pid)


def pubcomp(pid):
    return _pid_packet(0x70, pid)


def suback(pid, codes=(0,)):
    return packet(0x90, struct.pack(">H", pid) + bytes(codes))


def unsuback(pid):
    return _pid_packet(0xB0, pid)


def pingreq():
    return b"\xc0\x00"


def pingresp():
    return b"\xd0\x00"


def disconnect():
    return b"\xe0\x00"


def connect(client_id, keepalive=0, clean=True, user=None, password=None, will=None,
            level=4, proto=b"MQTT"):
    """CONNECT; will = (topic, message, qos, retain)."""
    flags = 0x02 if clean else 0
    payload = mstr(client_id)
    if will:
        wt, wm, wq, wr = will
        flags |= 0x04 | (wq << 3) | (0x20 if wr else 0)
        payload += mstr(wt) + mstr(wm)
    if user is not None:
        flags |= 0x80
        payload += mstr(user)
    if password is not None:
        flags |= 0x40
        payload += mstr(password)
    return packet(0x10, mstr(proto) + bytes([level, flags]) + struct.pack(">H", keepalive) + payload)


# ---- reading ------------------------------------------------------------
def packet_id(body):
    """Packet id at the start of a body (PUBACK..PUBCOMP, SUBSCRIBE, SUBACK...)."""
    return struct.unpack(">H", bytes(body[:2]))[0]


def parse_publish(first, body):
    """(topic bytes, packet id or None, payload bytes) of a PUBLISH."""
    tl = struct.unpack(">H", bytes(body[:2]))[0]
    topic = bytes(body[2:2 + tl])
    qos = (first >> 1) & 3
    if qos:
        return topic, struct.unpack(">H", bytes(body[2 + tl:4 + tl]))[0], bytes(body[4 + tl:])
    return topic, None, bytes(body[2 + tl:])


def connect_client_id(body):
    """Client id of a CONNECT body (MQTT 3.1.1 or 3.1)."""
    pl = struct.unpack(">H", bytes(body[:2]))[0]
    off = 2 + pl + 4  # name, level, flags, keepalive
    n = struct.unpack(">H", bytes(body[off:off + 2]))[0]
    return bytes(body[off + 2:off + 2 + n]).decode("utf-8", "replace")


class PacketReader:
    """Splits a byte stream into packets: feed() bytes as they come, then
    next() returns (first byte, body) for each whole packet, None when the
    next one is incomplete. A remaining length over 4 bytes raises ValueError."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data

    def next(self):
        if len(self.buf) < 2:
            return None
        n, shift, i = 0, 0, 1
        while True:
            if i >= len(self.buf):
                return None
            if i > 4:
                raise ValueError("remaining length longer than 4 bytes")
            b = self.buf[i]
            n |= (b & 0x7F) << shift
            shift += 7
            i += 1
            if not b & 0x80:
                break
        if len(self.buf) < i + n:
            return None
        p = (self.buf[0], bytes(self.buf[i:i + n]))
        del self.buf[:i + n]
        return p

    def __iter__(self):
        while True:
            p = self.next()
            if p is None:
                return
            yield p


def split_packets(data):
    """(list of (first byte, body), incomplete rest) of a byte string."""
    r = PacketReader()
    r.feed(data)
    return list(r), bytes(r.buf)


class SocketReader:
    """Whole packets from a socket: read() -> (first byte, body), or None on
    EOF, timeout or socket error (the buffer is kept for the next read)."""

    def __init__(self, sock):
        self.sock = sock
        self.reader = PacketReader()

    def read(self, timeout=None):
        self.sock.settimeout(timeout)
        while True:
            p = self.reader.next()
            if p is not None:
                return p
            try:
                d = self.sock.recv(65536)
            except (socket.timeout, OSError):
                return None
            if not d:
                return None
            self.reader.feed(d)

    def expect(self, ptype, timeout=None):
        """The next packet of type `ptype` (others are skipped), or None."""
        while True:
            p = self.read(timeout)
            if p is None or p[0] >> 4 == ptype:
                return p
