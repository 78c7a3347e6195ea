# IoTDA credentials, event times and topics on ARM and x86. The expected
# values were computed independently with CPython (hmac, hashlib, datetime),
# not by this code. On 32-bit ARM, Unix times after 2004 are big ints.
# This tests the native core _huaweicloud, whose names the frozen huaweicloud
# module re-exports; test_huawei_class tests the frozen class itself.
import _huaweicloud as huaweicloud

CASES = [
    # device id, secret, unix time, hour stamp, password, event_time
    ("5fbbb784b4ec2202e982e643_868540050954037", b"secret123", 1532454980, "2018072417",
     "d176a0593be4ec4b0b6ee7059aa0f475b2c5feb75cb4829199c33fa014de277c", "20180724T175620Z"),
    ("dev_1", b"", 946684799, "1999123123",
     "d79ede0145afe476b7291b64cad37aaa9356989a64c8818bf8381350e3ce0841", "19991231T235959Z"),
    ("dev_1", b"k" * 70, 946684800, "2000010100",
     "f15c19b91d54f7ee5cc21a38089b377319d50148c78b144564e18ac37709a905", "20000101T000000Z"),
    ("d\u00e9v", "p\u00e4ss".encode(), 1709164800, "2024022900",
     "e1ed28753cfd9c394160dda0d63684f50aef36446edc4bfbdf72bc2a5e36e3c0", "20240229T000000Z"),
    ("dev-2", b"s", 2147483648, "2038011903",
     "d6d53fff75f73d522fc9537ce2a937a761ad46e6b602a7a6e30718c79c946d4f", "20380119T031408Z"),
]

for dev, secret, t, stamp, password, event_time in CASES:
    for check in (False, True):
        cid, user, pw = huaweicloud.conninfo(dev, secret, time=t, check_timestamp=check)
        want_cid = "{}_0_{}_{}".format(dev, 1 if check else 0, stamp)
        print(stamp, check, cid == want_cid, user == dev, pw == password)
    print(event_time, huaweicloud.event_time(t) == event_time)

# sign type 2: HMAC-SM3, CPython: hmac.new(stamp, secret, "sm3").hexdigest()
SM3 = (
    "4709b9d490c792f0d53199c71c5b59314f9a84953b617a839aaf38c3f8f3f7cc",
    "7b52b4f668670aca84bd8776d9560ba069a3fe869b82d10f8442e2a881095ae9",
    "d64606b1b4e6ed7ac3d9a8f37f8ed3a9e0594bcaca04425a70d630c30031be8e",
    "a26b36b35452410b0a18ccd1ee65fe2f193f325e2d6018047c86973de9e7579e",
    "993c758ce1ce61d73ebadde0a6ab44cbe31ded4e7ff3df067406f0ea75a2a4fa",
)
for (dev, secret, t, stamp, _, _), password in zip(CASES, SM3):
    cid, user, pw = huaweicloud.conninfo(dev, secret, time=t, sign_type=2)
    print("sm3", stamp, cid == "{}_0_2_{}".format(dev, stamp), pw == password)
try:
    huaweicloud.conninfo("d", "s", time=0, sign_type=3)
    print("sign type 3 accepted")
except ValueError as e:
    print("sign type 3:", e)

# topics: build, then classify back
DEV = "5fbbb784b4ec2202e982e643_868540050954037"
T = "$oc/devices/" + DEV
print(huaweicloud.topic(huaweicloud.PROPERTIES_REPORT, DEV) == T + "/sys/properties/report")
print(huaweicloud.topic(huaweicloud.COMMAND_RESPONSE, DEV, "r42") == T + "/sys/commands/response/request_id=r42")
for topic, kind, param in (
    (T + "/sys/messages/down", huaweicloud.MESSAGES_DOWN, None),
    (T + "/sys/commands/request_id=abc", huaweicloud.COMMAND, "abc"),
    (T + "/sys/properties/set/request_id=1", huaweicloud.PROPERTIES_SET, "1"),
    (T + "/sys/properties/get/request_id=2", huaweicloud.PROPERTIES_GET, "2"),
    (T + "/sys/shadow/get/response/request_id=3", huaweicloud.SHADOW_GET_RESPONSE, "3"),
    (T + "/sys/events/down", huaweicloud.EVENTS_DOWN, None),
    (T + "/user/my_topic", huaweicloud.USER, "my_topic"),
):
    print(huaweicloud.parse_topic(topic, DEV) == (kind, param))
# another device's tree, and garbage: not ours
print(huaweicloud.parse_topic("$oc/devices/other/sys/messages/down", DEV))
print(huaweicloud.parse_topic(b"\xff\xfe", DEV))
# bad ids are refused, never turned into a topic
for bad in ("a/b", "a+b", "", "a#"):
    try:
        huaweicloud.topic(huaweicloud.MESSAGES_UP, bad)
        print("accepted", repr(bad))
    except ValueError:
        print("refused", repr(bad))
# a ?request_id= suffix, and ids checked by the core's own ABI call
print(huaweicloud.parse_topic(T + "/sys/properties/report?request_id=7", DEV) == (huaweicloud.PROPERTIES_REPORT, "7"))
for bad in ("a/b", "x" * 129):
    try:
        huaweicloud.check_id(bad)
        print("accepted", len(bad))
    except ValueError:
        print("refused", len(bad))
print(huaweicloud.KEEPALIVE_MIN, huaweicloud.KEEPALIVE_MAX)
