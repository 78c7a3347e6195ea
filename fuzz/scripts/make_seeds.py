#!/usr/bin/env python3
"""Write the seed corpora under fuzz/corpus/<target>/ (small, valid inputs).

decode/roundtrip: one valid packet of each of the 14 MQTT types (plus a few
edge forms); iotda_topic: a selector byte + topics of every IoTDA kind;
session/ffi: arbitrary-encoded, so they start from a handful of raw byte
strings (libFuzzer grows them).
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus")


def rl(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            b |= 0x80
        out.append(b)
        if not n:
            return bytes(out)


def s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">H", len(b)) + b


def pkt(first, body):
    return bytes([first]) + rl(len(body)) + body


def connect(v=4, cid="dev", user=None, pw=None, will=None, ka=60, clean=True):
    flags = (0x02 if clean else 0)
    payload = s(cid)
    if will:
        t, m, q, r = will
        flags |= 0x04 | (q << 3) | (0x20 if r else 0)
        payload += s(t) + s(m)
    if user is not None:
        flags |= 0x80
        payload += s(user)
    if pw is not None:
        flags |= 0x40
        payload += s(pw)
    name = s("MQTT") if v == 4 else s("MQIsdp")
    return pkt(0x10, name + bytes([v, flags]) + struct.pack(">H", ka) + payload)


PACKETS = {
    "connect": connect(),
    "connect_full": connect(cid="c1", user="u", pw=b"p\x00w", will=("w/t", b"bye", 1, True), ka=5, clean=False),
    "connect_v31": connect(v=3, cid="old"),
    "connack_ok": pkt(0x20, b"\x00\x00"),
    "connack_present": pkt(0x20, b"\x01\x00"),
    "connack_refused5": pkt(0x20, b"\x00\x05"),
    "publish_q0": pkt(0x30, s("a/b") + b"hello"),
    "publish_q1": pkt(0x32, s("a/b") + b"\x00\x01" + b"hi"),
    "publish_q2_dup_retain": pkt(0x3D, s("x") + b"\x12\x34" + b""),
    "publish_big": pkt(0x30, s("big") + b"x" * 200),
    "puback": pkt(0x40, b"\x00\x01"),
    "pubrec": pkt(0x50, b"\x00\x02"),
    "pubrel": pkt(0x62, b"\x00\x02"),
    "pubcomp": pkt(0x70, b"\x00\x02"),
    "subscribe": pkt(0x82, b"\x00\x03" + s("a/+") + b"\x01" + s("#") + b"\x02"),
    "suback": pkt(0x90, b"\x00\x03\x01\x80"),
    "unsubscribe": pkt(0xA2, b"\x00\x04" + s("a/+")),
    "unsuback": pkt(0xB0, b"\x00\x04"),
    "pingreq": b"\xc0\x00",
    "pingresp": b"\xd0\x00",
    "disconnect": b"\xe0\x00",
    "two_packets": pkt(0x20, b"\x00\x00") + pkt(0x30, s("t") + b"m"),
    "rl_4bytes_partial": b"\x30\xff\xff\xff\x7f",
}

DEV = "5fbbb784b4ec2202e982e643_868540050954037"
T = "$oc/devices/" + DEV + "/"
TOPICS = [
    "sys/messages/up", "sys/messages/down", "sys/properties/report",
    "sys/gateway/sub_devices/properties/report",
    "sys/properties/set/request_id=42", "sys/properties/set/response/request_id=42",
    "sys/properties/get/request_id=7", "sys/properties/get/response/request_id=7",
    "sys/shadow/get/request_id=1", "sys/shadow/get/response/request_id=1",
    "sys/commands/request_id=abc", "sys/commands/response/request_id=abc",
    "sys/events/up", "sys/events/down", "sys/bootstrap/up", "sys/bootstrap/down",
    "user/my/topic",
]


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for name, data in PACKETS.items():
        write("decode", name, data)
        write("roundtrip", name, data)
    for i, t in enumerate(TOPICS):
        write("iotda_topic", "topic%02d" % i, bytes([len(DEV)]) + (T + t).encode())
    write("iotda_topic", "hour_stamp", b"\x00" + b"2024022912")
    write("iotda_topic", "event_time", b"\x00" + b"20240229T235959Z")
    # session/ffi inputs are decoded by `arbitrary`; raw packet bytes make
    # reasonable starting points (the connack/publish bytes show up as ops).
    for name in ("connack_ok", "publish_q1", "suback", "two_packets"):
        write("session", name, b"\x00\x00\x00\x00" + PACKETS[name] * 3)
        write("ffi", name, PACKETS[name] * 3)


if __name__ == "__main__":
    main()
