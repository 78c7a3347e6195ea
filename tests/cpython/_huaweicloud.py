# CPython stand-in for the firmware's native core _huaweicloud
# (c_glue/huaweicloud/modhuaweicloud.c over rust/iotda), so the frozen
# huaweicloud.py runs unchanged on CPython. The same rules as the Rust core,
# written again in Python for tests only; test_native_core_parity.py checks
# it against the firmware's module. Not shipped.
import datetime
import hashlib
import hmac
import time

KEEPALIVE_MIN, KEEPALIVE_MAX = 30, 1200
ID_REQUEST, ID_TOPIC_NAME = 1, 2
(MESSAGES_UP, MESSAGES_DOWN, PROPERTIES_REPORT, GATEWAY_SUB_DEVICES_REPORT, PROPERTIES_SET,
 PROPERTIES_SET_RESPONSE, PROPERTIES_GET, PROPERTIES_GET_RESPONSE, SHADOW_GET, SHADOW_GET_RESPONSE,
 COMMAND, COMMAND_RESPONSE, EVENTS_UP, EVENTS_DOWN, BOOTSTRAP_UP, BOOTSTRAP_DOWN, USER) = range(1, 18)
_PATHS = {
    MESSAGES_UP: "sys/messages/up", MESSAGES_DOWN: "sys/messages/down",
    PROPERTIES_REPORT: "sys/properties/report",
    GATEWAY_SUB_DEVICES_REPORT: "sys/gateway/sub_devices/properties/report",
    PROPERTIES_SET: "sys/properties/set/request_id=",
    PROPERTIES_SET_RESPONSE: "sys/properties/set/response/request_id=",
    PROPERTIES_GET: "sys/properties/get/request_id=",
    PROPERTIES_GET_RESPONSE: "sys/properties/get/response/request_id=",
    SHADOW_GET: "sys/shadow/get/request_id=", SHADOW_GET_RESPONSE: "sys/shadow/get/response/request_id=",
    COMMAND: "sys/commands/request_id=", COMMAND_RESPONSE: "sys/commands/response/request_id=",
    EVENTS_UP: "sys/events/up", EVENTS_DOWN: "sys/events/down",
    BOOTSTRAP_UP: "sys/bootstrap/up", BOOTSTRAP_DOWN: "sys/bootstrap/down", USER: "user/",
}
_SUBS = ("sys/messages/down", "sys/commands/#", "sys/properties/set/#", "sys/properties/get/#",
         "sys/shadow/get/response/#", "sys/events/down")
_offset_ms = 0


def _s(v, what):
    if isinstance(v, (bytes, bytearray)):
        try:
            return bytes(v).decode()
        except UnicodeDecodeError:
            raise ValueError("invalid %s: not valid UTF-8" % what)
    if not isinstance(v, str):
        raise TypeError("%s must be str or bytes" % what)
    return v


def check_id(v, which=0):
    what = ("device id", "request id", "custom topic name")[which]
    s = _s(v, what)
    bad = "+#\0" if which == 2 else "/+#\0"
    if not s or len(s.encode()) > 128 or any(c in s for c in bad) or (which == 2 and "" in s.split("/")):
        raise ValueError("invalid " + what)
    return s


def device_ms():
    return time.time_ns() // 1000000


def utc_time():
    return (device_ms() + _offset_ms) // 1000


def set_time_offset(seconds):
    global _offset_ms
    _offset_ms = int(seconds * 1000)


def get_time_offset():
    return _offset_ms // 1000


def time_sync(ds, sr, ss):
    global _offset_ms
    recv = device_ms()
    utc = (sr + ss + recv - ds) // 2
    _offset_ms = utc - recv
    return utc


def _dt(t):
    t = utc_time() if t is None else int(t // 1)
    if not 0 <= t <= 253402300799:
        raise ValueError("time out of range (1970..9999 UTC)")
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


def event_time(t=None):
    return _dt(t).strftime("%Y%m%dT%H%M%SZ")


def conninfo(device_id, secret, t=None, check_timestamp=False, *, sign_type=None):
    sign = (1 if check_timestamp else 0) if sign_type is None else int(sign_type)
    d = check_id(device_id)
    stamp = _dt(t).strftime("%Y%m%d%H")
    if sign not in (0, 1, 2):
        raise ValueError("unknown sign type (0, 1 or 2)")
    # sign type 2: HMAC-SM3 (CPython's hashlib has it through OpenSSL)
    pw = hmac.new(stamp.encode(), _s(secret, "secret").encode(), "sm3" if sign == 2 else hashlib.sha256).hexdigest()
    return "%s_0_%d_%s" % (d, sign, stamp), d, pw


def topic(kind, device_id, request_id=None, *, query=None):
    if kind not in _PATHS:
        raise ValueError("unknown topic kind")
    if query is not None:
        if request_id is not None:
            raise ValueError("request_id and query together")
        return topic(kind, device_id) + "?request_id=" + check_id(query, 1)
    base = "$oc/devices/%s/%s" % (check_id(device_id), _PATHS[kind])
    takes = kind == USER or base.endswith("=")
    if takes != (request_id is not None):
        raise ValueError("request id missing or not taken by this kind")
    return base + (check_id(request_id, 2 if kind == USER else 1) if takes else "")


def parse_topic(t, device_id):
    t = _s(t, "topic")
    if "?request_id=" in t:
        t, rid = t.split("?request_id=", 1)
        p = parse_topic(t, device_id)
        if p is None or p[1] is not None:
            return None
        try:
            return p[0], check_id(rid, 1)
        except ValueError:
            return None
    pre = "$oc/devices/%s/" % check_id(device_id)
    if not t.startswith(pre):
        return None
    rest = t[len(pre):]
    for kind, p in _PATHS.items():
        if p.endswith("=") or kind == USER:
            if rest.startswith(p):
                try:
                    return kind, check_id(rest[len(p):], 2 if kind == USER else 1)
                except ValueError:
                    return None
        elif rest == p:
            return kind, None
    return None


def subscriptions(device_id):
    d = check_id(device_id)
    return tuple("$oc/devices/%s/%s" % (d, s) for s in _SUBS)
