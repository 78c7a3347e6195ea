# Shared helpers of the MicroPython bench scripts (run by bench/run.py).
# Every script takes one argument: a JSON object of parameters, and prints
# "RESULT <json>" lines (and "READY" when the runner should start feeding).
import sys
import gc
import json
import time
import socket

P = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
HOST = P.get("host", "127.0.0.1")
PORT = P.get("port", 1883)
ticks_us = time.ticks_us
ticks_diff = time.ticks_diff

PAYLOAD64 = bytes(range(64))


def result(**kw):
    print("RESULT " + json.dumps(kw))


def ready():
    print("READY")
    try:
        sys.stdout.flush()
    except AttributeError:
        pass


def _enc_str(s):
    return bytes((len(s) >> 8, len(s) & 0xFF)) + s


def _enc_len(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def encode_publish(topic, payload, qos=0, pid=1):
    body = _enc_str(topic) + (bytes((pid >> 8, pid & 0xFF)) if qos else b"") + payload
    return bytes((0x30 | (qos << 1),)) + _enc_len(len(body)) + body


def encode_connect(cid):
    body = b"\x00\x04MQTT\x04\x02\x00\x00" + _enc_str(cid)
    return b"\x10" + _enc_len(len(body)) + body


def raw_connect(cid):
    """The floor's link: a plain socket, TCP_NODELAY as umqtt sets it, and a
    pre-encoded CONNECT answered by CONNACK."""
    ai = socket.getaddrinfo(HOST, PORT)[0]
    s = socket.socket(ai[0], ai[1], ai[2])
    s.connect(ai[-1])
    try:
        s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY
    except Exception:
        pass
    s.write(encode_connect(cid))
    ack = s.read(4)
    assert ack == b"\x20\x02\x00\x00", ack
    return s


def make_client(impl, cid):
    if impl == "umqtt":
        from umqtt import MQTTClient
        c = MQTTClient(cid, HOST, PORT, keepalive=0)
    elif impl == "simple":
        from umqtt_simple import MQTTClient
        c = MQTTClient(cid, HOST, PORT)
    else:
        raise ValueError(impl)
    c.connect()
    return c


def close_client(impl, c):
    if impl == "floor":
        c.write(b"\xe0\x00")
        c.close()
    else:
        c.disconnect()


def heap_delta(fn, n):
    """Heap bytes allocated by n calls of fn(), GC off, minus an empty loop."""
    def empty():
        pass
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    for _ in range(n):
        empty()
    b = gc.mem_alloc()
    for _ in range(n):
        fn()
    c = gc.mem_alloc()
    gc.enable()
    gc.collect()
    return (c - b) - (b - a)
