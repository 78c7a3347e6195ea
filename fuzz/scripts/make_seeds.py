#!/usr/bin/env python3
"""Write the seed corpora under fuzz/corpus/<target>/ (small, valid inputs).

decode/roundtrip: one valid packet of each of the 14 MQTT types (plus a few
edge forms); iotda_topic: a selector byte + topics of every IoTDA kind;
session/ffi: arbitrary-encoded, so they start from a handful of raw byte
strings (libFuzzer grows them).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus")
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))
from lib import mqtt_bytes as mb  # noqa: E402
from lib.mqtt_bytes import mstr as s, packet as pkt  # noqa: E402


def connect(v=4, cid="dev", user=None, pw=None, will=None, ka=60, clean=True):
    return mb.connect(cid, keepalive=ka, clean=clean, user=user, password=pw, will=will,
                      level=v, proto=b"MQTT" if v == 4 else b"MQIsdp")


PACKETS = {
    "connect": connect(),
    "connect_full": connect(cid="c1", user="u", pw=b"p\x00w", will=("w/t", b"bye", 1, True), ka=5, clean=False),
    "connect_v31": connect(v=3, cid="old"),
    "connack_ok": mb.connack(0),
    "connack_present": mb.connack(0, session_present=True),
    "connack_refused5": mb.connack(5),
    "publish_q0": mb.publish("a/b", b"hello"),
    "publish_q1": mb.publish("a/b", b"hi", qos=1, pid=1),
    "publish_q2_dup_retain": mb.publish("x", b"", qos=2, pid=0x1234, dup=True, retain=True),
    "publish_big": mb.publish("big", b"x" * 200),
    "puback": mb.puback(1),
    "pubrec": mb.pubrec(2),
    "pubrel": mb.pubrel(2),
    "pubcomp": mb.pubcomp(2),
    "subscribe": pkt(0x82, b"\x00\x03" + s("a/+") + b"\x01" + s("#") + b"\x02"),
    "suback": mb.suback(3, [1, 0x80]),
    "unsubscribe": pkt(0xA2, b"\x00\x04" + s("a/+")),
    "unsuback": mb.unsuback(4),
    "pingreq": mb.pingreq(),
    "pingresp": mb.pingresp(),
    "disconnect": mb.disconnect(),
    "two_packets": mb.connack(0) + mb.publish("t", b"m"),
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
