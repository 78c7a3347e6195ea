# huaweicloud without a network: conninfo against known vectors, topic
# helpers for every kind, event times, the clock offset, bad input.
import huaweicloud as hc
from huaweicloud import HuaweiCloud
from mqtt_test_util import Checker, HOST, PORT

ck = Checker("huaweicloud: pure functions")
TV = (TypeError, ValueError)
D = "5fbbb784b4ec2202e982e643_868540050954037"

# Expected values precomputed on the host with CPython, not by this module:
#   python3 -c 'import hmac,hashlib,datetime; t=...; s=datetime.datetime.fromtimestamp(
#       t, datetime.timezone.utc).strftime("%Y%m%d%H");
#       print(s, hmac.new(s.encode(), SECRET, hashlib.sha256).hexdigest())'
VECTORS = [
    # (unix time, secret, hour stamp, password)
    (1532454980, "secret123", "2018072417", "d176a0593be4ec4b0b6ee7059aa0f475b2c5feb75cb4829199c33fa014de277c"),
    (1704067199, "s3cr3t", "2023123123", "47f6deb526ca84bebe68559db8b4426450b30f08b56e7a91ba7b74f892291af1"),
    (1704067200, "s3cr3t", "2024010100", "87577b923cea0d462367bed05ba3d3d0a1dacb7b3861de1e448778c466d95349"),
    (1709251199, "pw", "2024022923", "0912b79d50eab94cd9840a44657e41fd7da3aae9cc8bd2e9b3243efce2046b91"),
    (1709251200, "pw", "2024030100", "290c1058831d2597113f9d3b405305f6013679c28f235989de2c8e7882cea23e"),
    (951868799, "x", "2000022923", "9733c7a9286b0354705bbac59118e4961870f8bfef7753fce0de4099cd6fd0fe"),
    (0, "", "1970010100", "b77a2879fcc65853e0e8857155bae8c5c728d8bacff2fe1bf10f6458629402d0"),
]
for t, secret, stamp, pw in VECTORS:
    ck.eq(hc.conninfo(D, secret, t), (D + "_0_0_" + stamp, D, pw), "conninfo at {} ({})".format(t, stamp))
    ck.eq(hc.conninfo(D, secret.encode(), time=t, check_timestamp=True),
          (D + "_0_1_" + stamp, D, pw), "conninfo sign type 1, bytes secret, at {}".format(t))
# the hour changes across the boundary: 2023-12-31 23:59:59 -> 2024-01-01 00:00:00
a, b = hc.conninfo("d", "s3cr3t", 1704067199), hc.conninfo("d", "s3cr3t", 1704067200)
ck.ok(a[0].endswith("2023123123") and b[0].endswith("2024010100") and a[2] != b[2],
      "conninfo across an hour (and year) boundary: new ClientId hour and password")
ck.eq(hc.conninfo("d", "s3cr3t", 1704067199.999)[0], "d_0_0_2023123123", "float time is floored")
ck.eq(hc.conninfo(b"d", "s3cr3t", 1704067200)[1], "d", "bytes device id -> str username")
r = hc.conninfo("d", "s")
ck.ok(isinstance(r, tuple) and all(isinstance(x, str) for x in r) and len(r[2]) == 64,
      "default time: a tuple of 3 str, 64-char password")

# default time = device clock + offset
hc.set_time_offset(0)
now = hc.utc_time()
ck.ok(now > 1600000000, "utc_time() is Unix seconds (1970 epoch): {}".format(now))
hc.set_time_offset(7200)
ck.eq(hc.get_time_offset(), 7200, "get_time_offset() after set_time_offset(7200)")
later = hc.utc_time()
ck.ok(7199 <= later - now <= 7202, "utc_time() follows the offset")
want = hc.conninfo("d", "s", later)
got = hc.conninfo("d", "s")
ck.ok(got == want or got[0] != hc.conninfo("d", "s", now)[0],
      "conninfo() default time uses the offset (ClientId {})".format(got[0]))
ck.eq(hc.event_time()[:11], hc.event_time(later)[:11], "event_time() default uses the offset")
hc.set_time_offset(0)

# event times
ck.eq(hc.event_time(1532454980), "20180724T175620Z", "event_time reference vector")
ck.eq(hc.event_time(0), "19700101T000000Z", "event_time(0)")
ck.eq(hc.event_time(951782400), "20000229T000000Z", "event_time leap day 2000")
et = hc.event_time()
ck.ok(len(et) == 16 and et[8] == "T" and et[15] == "Z", "event_time() format yyyyMMddTHHmmssZ: " + et)

# topics: every kind, built and parsed back
T = "$oc/devices/" + D + "/"
KINDS = [
    ("MESSAGES_UP", None, "sys/messages/up"),
    ("MESSAGES_DOWN", None, "sys/messages/down"),
    ("PROPERTIES_REPORT", None, "sys/properties/report"),
    ("GATEWAY_SUB_DEVICES_REPORT", None, "sys/gateway/sub_devices/properties/report"),
    ("PROPERTIES_SET", "r1", "sys/properties/set/request_id=r1"),
    ("PROPERTIES_SET_RESPONSE", "r1", "sys/properties/set/response/request_id=r1"),
    ("PROPERTIES_GET", "r2", "sys/properties/get/request_id=r2"),
    ("PROPERTIES_GET_RESPONSE", "r2", "sys/properties/get/response/request_id=r2"),
    ("SHADOW_GET", "s-1", "sys/shadow/get/request_id=s-1"),
    ("SHADOW_GET_RESPONSE", "s-1", "sys/shadow/get/response/request_id=s-1"),
    ("COMMAND", "c=1", "sys/commands/request_id=c=1"),
    ("COMMAND_RESPONSE", "c=1", "sys/commands/response/request_id=c=1"),
    ("EVENTS_UP", None, "sys/events/up"),
    ("EVENTS_DOWN", None, "sys/events/down"),
    ("BOOTSTRAP_UP", None, "sys/bootstrap/up"),
    ("BOOTSTRAP_DOWN", None, "sys/bootstrap/down"),
    ("USER", "temp/alarm", "user/temp/alarm"),
]
codes = set()
for name, param, suffix in KINDS:
    kind = getattr(hc, name)
    codes.add(kind)
    t = hc.topic(kind, D, param)
    ck.eq(t, T + suffix, "topic({})".format(name))
    ck.eq(hc.parse_topic(t, D), (kind, param), "parse_topic({})".format(name))
ck.eq(len(codes), 17, "17 distinct kind constants")
ck.eq(hc.parse_topic(T + "sys/messages/down", "other"), None, "another device's topic -> None")
ck.eq(hc.parse_topic("$oc/devices/x/sys/nope", "x"), None, "unknown path -> None")
ck.eq(hc.parse_topic(b"$oc/devices/x/sys/commands/request_id=1", "x"), (hc.COMMAND, "1"), "bytes topic")
ck.eq(hc.parse_topic("plain/topic", "x"), None, "non-IoTDA topic -> None")

# bad input
ck.raises(ValueError, lambda: hc.topic(99, D), "topic(99) unknown kind")
ck.raises(ValueError, lambda: hc.topic(0, D), "topic(0) unknown kind")
ck.raises(ValueError, lambda: hc.topic(0x81, D), "topic(0x81): the core's subscription codes are no kinds")
ck.raises(ValueError, lambda: hc.topic(hc.COMMAND, D), "COMMAND without request_id")
ck.raises(ValueError, lambda: hc.topic(hc.COMMAND, D, "a/b"), "request_id with '/'")
ck.raises(ValueError, lambda: hc.topic(hc.COMMAND, D, "a+"), "request_id with '+'")
ck.raises(ValueError, lambda: hc.topic(hc.COMMAND, D, "x" * 129), "request_id of 129 bytes")
ck.raises(ValueError, lambda: hc.topic(hc.MESSAGES_UP, D, "up"), "MESSAGES_UP with a request_id")
ck.raises(ValueError, lambda: hc.topic(hc.USER, D, "a//b"), "USER name with an empty level")
ck.raises(ValueError, lambda: hc.topic(hc.MESSAGES_UP, "a/b"), "device id with '/'")
ck.raises(ValueError, lambda: hc.topic(hc.MESSAGES_UP, "a#"), "device id with '#'")
ck.raises(ValueError, lambda: hc.topic(hc.MESSAGES_UP, ""), "empty device id")
ck.raises(TypeError, lambda: hc.topic(hc.MESSAGES_UP, 5), "device id int")
ck.raises(TypeError, lambda: hc.topic("1", D), "kind str")
ck.raises(ValueError, lambda: hc.conninfo("x" * 129, "s", 0), "conninfo device id of 129 bytes")
ck.raises(ValueError, lambda: hc.conninfo("a+b", "s", 0), "conninfo device id with '+'")
ck.raises(TypeError, lambda: hc.conninfo("d", None, 0), "conninfo secret None")
ck.raises(TypeError, lambda: hc.conninfo("d", "s", "2024"), "conninfo time str")
ck.raises(ValueError, lambda: hc.conninfo("d", "s", -1), "conninfo time before 1970")
ck.raises(ValueError, lambda: hc.conninfo("d", "s", 253402300800), "conninfo time after 9999")
ck.raises((ValueError, OverflowError), lambda: hc.conninfo("d", "s", 2 ** 80), "conninfo time 2**80")
ck.raises(ValueError, lambda: hc.event_time(-5), "event_time(-5)")
ck.raises(TypeError, lambda: hc.parse_topic(5, D), "parse_topic(int)")
ck.raises(ValueError, lambda: hc.parse_topic("t", "a/b"), "parse_topic with a bad device id")

# the client object: argument checks, no secret in repr
ck.raises(ValueError, lambda: HuaweiCloud("a/b", "s", "127.0.0.1"), "HuaweiCloud bad device id")
ck.raises(TypeError, lambda: HuaweiCloud("d", 123, "127.0.0.1"), "HuaweiCloud secret int")
ck.eq(hc.parse_topic("$oc/devices/d/sys/properties/report?request_id=42", "d"), (hc.PROPERTIES_REPORT, "42"),
      "parse_topic with a ?request_id= suffix")
ck.eq(hc.topic(hc.PROPERTIES_REPORT, "d", query="42"), "$oc/devices/d/sys/properties/report?request_id=42",
      "topic(..., query=) builds the ?request_id= suffix")
ck.raises(ValueError, lambda: hc.topic(hc.COMMAND, "d", query="1"), "query on a kind with its own request id")
ck.raises(ValueError, lambda: hc.topic(hc.MESSAGES_UP, "d", query="a/b"), "query with '/'")
ck.eq(hc.parse_topic("$oc/devices/d/sys/commands/request_id=1?request_id=2", "d"), None,
      "parse_topic: suffix on a kind with its own request id")
ck.eq(hc.check_id("d"), "d", "check_id(device id)")
ck.raises(ValueError, lambda: hc.check_id("a/b"), "check_id: '/' in a device id")
ck.eq(hc.check_id("a/b", hc.ID_TOPIC_NAME), "a/b", "check_id: custom topic name with levels")
ck.eq(hc.KEEPALIVE_MIN, 30, "KEEPALIVE_MIN from rust/iotda")
ck.eq(hc.KEEPALIVE_MAX, 1200, "KEEPALIVE_MAX from rust/iotda")
ck.raises(ValueError, lambda: HuaweiCloud("d", "s", None), "HuaweiCloud server None and no region")
ck.raises(TypeError, lambda: HuaweiCloud("d", "s", 5, ssl=False), "HuaweiCloud server int")
ck.raises(ValueError, lambda: HuaweiCloud("d", "s", "h", 0), "HuaweiCloud port 0")
ck.raises(TypeError, lambda: HuaweiCloud("d", "s", "h", ssl_params=[]), "HuaweiCloud ssl_params list")
# security defaults: TLS on 8883 verifying a CA the user gives, sign type 1
ck.raises(ValueError, lambda: HuaweiCloud("d", "s", "h"), "TLS (the default) without a CA")
t = HuaweiCloud("d", "s", "h", ssl_params={"cadata": b"CA"})
ck.ok(repr(t).endswith(":8883>"), "default port 8883 with TLS: " + repr(t))
ck.ok(hc.HuaweiCloud("d", "s", "h", 1883)._ssl is False, "port 1883 given: plain MQTT")
ck.ok(t._credentials()[0].startswith("d_0_1_"), "sign type 1 by default")
ck.ok(HuaweiCloud("d", "s", "h", 1883, check_timestamp=False)._credentials()[0].startswith("d_0_0_"),
      "check_timestamp=False: sign type 0")
# the server from the region (and instance prefix)
ck.eq(repr(HuaweiCloud("d", "s", region="cn-north-4", ssl_params={"cadata": b"CA"})),
      "<HuaweiCloud d iot-mqtts.cn-north-4.myhuaweicloud.com:8883>", "server from the region")
ck.eq(hc.server_for("cn-north-4", "a15fbbd7ce"), "a15fbbd7ce.iot-mqtts.cn-north-4.myhuaweicloud.com",
      "server from the region and instance prefix (the guide's host)")
c = HuaweiCloud("d", "VerySecret-42", HOST, PORT, ssl=False)
r = repr(c) + str(c)
ck.ok("VerySecret" not in r, "repr does not show the secret: " + repr(c))
ck.eq(c.getHuaweiCloudSta(), -1, "getHuaweiCloudSta() before setMqtt")
ck.eq(c.publish("t", "m"), -1, "publish before setMqtt -> -1 (aLiYun)")
ck.eq(c.subscribe("t"), -1, "subscribe before setMqtt -> -1 (aLiYun)")
ck.raises(OSError, lambda: c.report_properties({"s": {}}), "report_properties before setMqtt -> OSError")
ck.raises(TypeError, lambda: c.set_command_callback(5), "set_command_callback(5)")
ck.eq(HuaweiCloud("d", "s", HOST, 1, ssl=False).setMqtt(reconn=False), -1, "setMqtt() to a closed port -> -1")
ck.eq(c.setMqtt(), 0, "setMqtt() connects and returns 0")
ck.eq(c.getHuaweiCloudSta(), 0, "connected after setMqtt()")
ck.ok("MQTTClient" in repr(c._mqtt), "_mqtt is the umqtt client")
ck.ok("VerySecret" not in repr(c._mqtt), "umqtt client repr does not show the secret")
c.disconnect()

# the topic kinds the class uses as literals (_K_* = const(n), folded away in
# the firmware) are _huaweicloud's: read from the module's source
kinds = {}
for line in open("../micropython/modules/huaweicloud.py"):
    if line.startswith("_K_") and "= const(" in line:
        name, value = line.split(" = const(")
        kinds[name[3:]] = int(value.split(")")[0])
ck.ok(len(kinds) >= 10, "the class's kind literals found: %d" % len(kinds))
ck.eq([k for k in kinds if getattr(hc, k) != kinds[k]], [], "each kind literal equals _huaweicloud's constant")
ck.finish()
