# The frozen HuaweiCloud class (micropython/modules/huaweicloud.py, frozen
# into both firmwares) on ARM and x86: login, system subscriptions, uplinks,
# command / property get / event downlinks with their default replies, bad
# input. The IoTDA side is an in-memory stream that answers SUBSCRIBE and
# QoS 1 PUBLISH; expected topics and payloads come from Huawei's IoTDA
# device topic reference, written out here, not produced by the code.
import json
import sys

from memstream import *

try:
    import time  # noqa: F401
except ImportError:
    # the qemu port has no time module (no clock): a fixed one
    class _Time:
        @staticmethod
        def sleep(s):
            pass

        @staticmethod
        def time():
            return 1700000000

    sys.modules["time"] = _Time


class Platform(MemStream):
    """Answers SUBSCRIBE with SUBACK (each filter granted its QoS) and a QoS 1
    PUBLISH with PUBACK; keeps what the device published and subscribed."""

    def __init__(self):
        super().__init__()
        self.buf = b""
        self.published = []
        self.filters = []

    def write(self, buf):
        n = super().write(buf)
        self.buf += bytes(buf)
        while len(self.buf) >= 2:
            rl, mul, i = 0, 1, 1
            while True:
                if i >= len(self.buf):
                    return n
                d = self.buf[i]
                rl += (d & 0x7F) * mul
                mul *= 128
                i += 1
                if not d & 0x80:
                    break
            if len(self.buf) < i + rl:
                return n
            first, body = self.buf[0], self.buf[i:i + rl]
            self.buf = self.buf[i + rl:]
            self.packet(first, body)
        return n

    def packet(self, first, body):
        kind = first >> 4
        if kind == 8:  # SUBSCRIBE: pid, then (len, filter, qos)*
            pid, j, granted = body[:2], 2, b""
            while j < len(body):
                ln = body[j] << 8 | body[j + 1]
                self.filters.append(body[j + 2:j + 2 + ln].decode())
                granted += body[j + 2 + ln:j + 3 + ln]
                j += 3 + ln
            self.feed(packet(0x90, pid + granted))
        elif kind == 3:  # PUBLISH
            ln = body[0] << 8 | body[1]
            topic, j = body[2:2 + ln].decode(), 2 + ln
            if (first >> 1) & 3:
                if (first >> 1) & 3 == 1:
                    self.feed(b"\x40\x02" + body[j:j + 2])
                j += 2
            self.published.append((topic, body[j:]))

    def take_json(self):
        """The one message published since the last call: (topic, object)."""
        p, self.published = self.published, []
        if len(p) != 1:
            return ("%d messages" % len(p), None)
        return p[0][0], json.loads(p[0][1])


PLATFORM = Platform()
import umqtt  # noqa: E402


class StreamClient(umqtt.MQTTClient):
    """umqtt's client with its socket replaced by PLATFORM."""

    def connect(self, clean_session=True):
        PLATFORM.feed(CONNACK_OK)
        return super().connect(clean_session, sock=PLATFORM)


class _Umqtt:
    MQTTClient = StreamClient


sys.modules["umqtt"] = _Umqtt  # the class imports umqtt when it connects
import huaweicloud  # noqa: E402

DEV = "5fbbb784b4ec2202e982e643_dev1"
T = "$oc/devices/" + DEV
errors = []
dev = huaweicloud.HuaweiCloud(DEV, b"secret", server="offline.invalid", port=1883)
dev.error_register_cb(errors.append)
check("setMqtt returns 0", dev.setMqtt(keepAlive=60), 0)
connect_packet = PLATFORM.take()
check("CONNECT carries the device id as user name", DEV.encode() in connect_packet, True)
check("client id: device id, sign type 1", (DEV + "_0_1_").encode() in connect_packet, True)
check("system topics subscribed", PLATFORM.filters, [
    T + "/sys/messages/down", T + "/sys/commands/#", T + "/sys/properties/set/#",
    T + "/sys/properties/get/#", T + "/sys/shadow/get/response/#", T + "/sys/events/down"])
check("state connected", dev.getHuaweiCloudSta(), 0)

# uplinks
check("report_properties returns True", dev.report_properties({"svc": {"t": 21}}), True)
check("properties report", PLATFORM.take_json(),
      (T + "/sys/properties/report", {"services": [{"service_id": "svc", "properties": {"t": 21}}]}))
check("publish (aLiYun style) returns 0", dev.publish(T + "/user/x", "raw", 1), 0)
check("raw publish", PLATFORM.published, [(T + "/user/x", b"raw")])
PLATFORM.published = []
dev.send_message({"a": 1}, name="n", id="m1")
topic, msg = PLATFORM.take_json()
check("message up topic", topic, T + "/sys/messages/up")
check("message up body", (msg.get("name"), msg.get("id"), msg.get("content")), ("n", "m1", {"a": 1}))

# a command, answered from the callback's return value
dev.set_command_callback(lambda rid, req: {"response_name": "echoed", "paras": req["paras"]})
PLATFORM.feed(packet(0x30, mqtt_str(T + "/sys/commands/request_id=42")
                     + json.dumps({"service_id": "svc", "command_name": "echo", "paras": {"x": 7}}).encode()))
dev.check_msg()
check("command response", PLATFORM.take_json(),
      (T + "/sys/commands/response/request_id=42", {"result_code": 0, "response_name": "echoed", "paras": {"x": 7}}))

# a malformed command: a failure response, the error callback told
PLATFORM.feed(packet(0x30, mqtt_str(T + "/sys/commands/request_id=43") + b"]]"))
dev.check_msg()
check("malformed command response", PLATFORM.take_json(),
      (T + "/sys/commands/response/request_id=43", {"result_code": 1, "response_name": "malformed request"}))
check("malformed command reported", len(errors) == 1 and "malformed" in errors[0], True)

# property get, answered with the callback's services
dev.set_property_get_callback(lambda rid, req: {"svc": {"t": 22}})
PLATFORM.feed(packet(0x30, mqtt_str(T + "/sys/properties/get/request_id=g1")
                     + json.dumps({"object_device_id": DEV, "service_id": "svc"}).encode()))
dev.check_msg()
check("property get response", PLATFORM.take_json(),
      (T + "/sys/properties/get/response/request_id=g1", {"services": [{"service_id": "svc", "properties": {"t": 22}}]}))

# events: a service handler first, then the event callback
seen = []
dev.set_service_handler("custom", lambda typ, paras: seen.append(("handler", typ, paras)))
dev.set_event_callback(lambda sid, typ, paras: seen.append(("event", sid, typ)))
PLATFORM.feed(packet(0x30, mqtt_str(T + "/sys/events/down") + json.dumps({"object_device_id": DEV, "services": [
    {"service_id": "custom", "event_type": "ping", "paras": {"n": 1}},
    {"service_id": "$ota", "event_type": "version_query", "paras": {}}]}).encode()))
dev.check_msg()
check("events routed", seen, [("handler", "ping", {"n": 1}), ("event", "$ota", "version_query")])

# bad input: clear errors, nothing sent
for name, f, exc in (
        ("report_properties(5)", lambda: dev.report_properties(5), TypeError),
        ("report_properties qos 3", lambda: dev.report_properties({"s": {}}, qos=3), ValueError),
        ("respond_command bad id", lambda: dev.respond_command("a/b"), ValueError),
        ("callback not callable", lambda: dev.set_command_callback(1), TypeError)):
    try:
        f()
        print("FAIL", name, "did not raise")
    except exc:
        print("ok", name, "raises", exc.__name__)
check("nothing sent for bad input", PLATFORM.published, [])

dev.disconnect()
check("DISCONNECT", PLATFORM.take()[-2:], b"\xe0\x00")
check("state after disconnect", dev.getHuaweiCloudSta() in (-1, 0, 2), True)
