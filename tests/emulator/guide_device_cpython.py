# The Huawei Cloud guide's script (examples/huaweicloud_demo.py) redone for
# CPython: same ClientId, user, password, keepalive 30, subscription and
# property report, printed the same way; a tiny MQTT 3.1.1 client instead
# of QuecPython's umqtt, and TLS with certificate verification when
# IOTDA_CA is set. For the console's browser test (no firmware needed), it
# also answers the platform's commands (echoing their paras) and property
# set / get requests (the guide's script does not), printing each.
#
# env: IOTDA_HOST (default 127.0.0.1), IOTDA_PORT, IOTDA_CA (PEM; TLS on),
#      IOTDA_TLS_NAME (default localhost), IOTDA_WAIT (seconds, default 60),
#      IOTDA_LINGER (seconds online after the message, default 0)
import json
import os
import socket
import ssl
import struct
import sys
import time

CLIENT_ID = b'5fbbb784b4ec2202e982e643_868540050954037_0_0_2021011909'
USER = b'5fbbb784b4ec2202e982e643_868540050954037'
PASSWORD = b'8001a12405743199b3396943a2ed397286117a9ebab4f5dfda8dd6fafe341d94'
DEVICE_ID = '5fbbb784b4ec2202e982e643_868540050954037'
KEEPALIVE = 30

MSG = b'''{
		"services": [{
			"service_id": "WaterMeterControl",
			"properties": {
				"state": "T:15c, H: 85% "
			},
			"event_time": "20151212T121212Z"
		}
		]
	}'''


def field(b):
    return struct.pack("!H", len(b)) + b


def packet(ptype, body):
    n, rl = len(body), b""
    while True:
        d, n = n % 128, n // 128
        rl += bytes([d | (0x80 if n else 0)])
        if not n:
            return bytes([ptype]) + rl + body


def read_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed by the server")
        out += chunk
    return out


def read_packet(s):
    first = read_exact(s, 1)[0]
    mult, length = 1, 0
    while True:
        b = read_exact(s, 1)[0]
        length += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    return first, read_exact(s, length)


def reply(topic, payload):
    """(topic, body) answering a command or property request, else None."""
    base = '$oc/devices/{}/sys/'.format(DEVICE_ID)
    kinds = (("commands/request_id=", "commands/response/request_id="),
             ("properties/set/request_id=", "properties/set/response/request_id="),
             ("properties/get/request_id=", "properties/get/response/request_id="))
    for down, up in kinds:
        if topic.startswith(base + down):
            rid = topic[len(base + down):]
            req = json.loads(payload.decode() or "{}")
            print("Request:", down.split("/request_id")[0], json.dumps(req, sort_keys=True), flush=True)
            if down.startswith("commands"):
                body = {"result_code": 0, "response_name": "ack", "paras": {"echo": req.get("paras")}}
            elif down.startswith("properties/set"):
                body = {"result_code": 0, "result_desc": "success"}
            else:
                body = {"services": [{"service_id": req.get("service_id"),
                                      "properties": {"state": "T:15c, H: 85% "}}]}
            return base + up + rid, body
    return None


def main():
    host = os.getenv("IOTDA_HOST", "127.0.0.1")
    port = int(os.environ["IOTDA_PORT"])
    wait = float(os.getenv("IOTDA_WAIT", "60"))
    raw = socket.create_connection((host, port), timeout=10)
    ca = os.getenv("IOTDA_CA")
    if ca:
        ctx = ssl.create_default_context(cafile=ca)  # verifies chain and host name
        s = ctx.wrap_socket(raw, server_hostname=os.getenv("IOTDA_TLS_NAME", "localhost"))
    else:
        s = raw
    flags = 0x80 | 0x40 | 0x02  # user, password, clean session
    s.sendall(packet(0x10, field(b"MQTT") + bytes([4, flags]) + struct.pack("!H", KEEPALIVE)
                     + field(CLIENT_ID) + field(USER) + field(PASSWORD)))
    t, body = read_packet(s)
    if t != 0x20 or body[1] != 0:
        print("CONNACK refused", body.hex())
        return 1
    topic = '$oc/devices/{}/sys/messages/down'.format(DEVICE_ID).encode()
    s.sendall(packet(0x82, struct.pack("!H", 1) + field(topic) + b"\x00"))
    for i, sub in enumerate(("commands/#", "properties/set/#", "properties/get/#")):
        f = '$oc/devices/{}/sys/{}'.format(DEVICE_ID, sub).encode()
        s.sendall(packet(0x82, struct.pack("!H", 2 + i) + field(f) + b"\x00"))
    report = '$oc/devices/{}/sys/properties/report'.format(DEVICE_ID).encode()
    s.sendall(packet(0x30, field(report) + MSG))
    print("reported, waiting for a message", flush=True)
    s.settimeout(5)
    deadline, last_ping = time.time() + wait, time.time()
    while time.time() < deadline:
        if time.time() - last_ping > KEEPALIVE / 2:
            s.sendall(b"\xc0\x00")
            last_ping = time.time()
        try:
            t, body = read_packet(s)
        except socket.timeout:
            continue
        if t & 0xF0 == 0x30:
            tl = struct.unpack("!H", body[:2])[0]
            rtopic = body[2:2 + tl].decode()
            rest = body[2 + tl:]
            if (t >> 1) & 3:
                pid = rest[:2]
                rest = rest[2:]
                s.sendall(b"\x40\x02" + pid)
            answer = reply(rtopic, rest)
            if answer:
                s.sendall(packet(0x30, field(answer[0].encode()) + json.dumps(answer[1]).encode()))
                continue
            print("Subscribe Recv: Topic={},Msg={}".format(rtopic, rest.decode()), flush=True)
            time.sleep(float(os.getenv("IOTDA_LINGER", "0")))
            s.sendall(b"\xe0\x00")
            s.close()
            return 0
    print("no message within", wait, "s")
    return 1


if __name__ == "__main__":
    sys.exit(main())
