# huaweicloud: Huawei Cloud IoTDA device client in the flow of QuecPython's
# aLiYun / TXyun, over umqtt and the native core _huaweicloud (C over the
# Rust iotda crate: credentials, topics, ids, times). Frozen into the
# firmware (micropython/manifest.py); runs unchanged on CPython with
# umqtt, _huaweicloud and micropython stand-ins (tests/cpython/). Docs:
# docs/huaweicloud.md. The secret is never printed.
#
# Flash: every name of this module's own (globals, attributes, method and
# argument names; not locals) is a QSTR in the firmware, its length + 8 B;
# so the private ones are short. A string constant of 25+ characters costs
# ~21 B more than its text: a few messages are joined from strings that are
# QSTRs already ("malformed " + ...). What the private names are:
#   _sk (secret, None for a certificate device; check_timestamp; sign_type)
#   _cn connected        _sq get_shadow() counter
#   _op setMqtt's arguments (for start(); [2], reconn, for the receive loop)
#   _cb callbacks, by the _RAW.. indexes
#   _co connect   _cq close quietly   _lp receive loop   _tr subscribe/publish
#   _m the client, OSError(107) when not connected   _js JSON object or report
# Names the optional modules (huaweicloud_ota, _gateway, ...) and tests use
# keep their long names: _id _server _port _ssl _ssl_params _credentials
# _mqtt _running (the receive thread's token, False when stopped) _versions
# _services _sub_commands _check _report _report_exc _call _event _pub
# _dispatch _on_events, and _text.
import json
# conninfo, topic, parse_topic, check_id, subscriptions, event_time, the
# clock, the kind constants: used below by name and re-exported
from _huaweicloud import *  # noqa: F401,F403

from micropython import const

try:
    import _thread
except ImportError:
    _thread = None


def server_for(region, instance=None):
    """The MQTT host of an IoTDA instance: `{instance}.iot-mqtts.{region}.myhuaweicloud.com`
    (the access-address prefix shown on the console's overview page), or the
    region's shared standard endpoint without one."""
    h = "iot-mqtts.%s.myhuaweicloud.com" % region
    return instance + "." + h if instance else h


def _text(value, name):
    if isinstance(value, bytes):
        return value.decode()
    if not isinstance(value, str):
        raise TypeError(name + " must be str or bytes")
    return value


def _qos(qos):
    if qos != 0 and qos != 1:  # no (0, 1) tuple constant in flash
        raise ValueError("qos 0 or 1")
    return qos


def _services(services):
    if isinstance(services, dict):
        # a loop, not a comprehension: a comprehension is a function of its own in flash
        out = []
        for k in services:
            out.append({"service_id": _text(k, "service_id"), "properties": services[k]})
        return out
    if not isinstance(services, (list, tuple)):
        raise TypeError("services" + ": list or dict")
    for s in services:
        if not isinstance(s, dict) or "service_id" not in s:
            raise ValueError("service without " + "service_id")
    return list(services)


# callbacks, indexes in HuaweiCloud._cb
# The topic kinds used below: _huaweicloud's constants (IOTDA_KIND_* in
# c_glue/qpy_rust.h) as literals, which cost less flash than global lookups;
# test_huaweicloud_pure checks they agree.
_K_MESSAGES_UP = const(1)
_K_MESSAGES_DOWN = const(2)
_K_PROPERTIES_REPORT = const(3)
_K_GATEWAY_SUB_DEVICES_REPORT = const(4)
_K_PROPERTIES_SET = const(5)
_K_PROPERTIES_SET_RESPONSE = const(6)
_K_PROPERTIES_GET = const(7)
_K_PROPERTIES_GET_RESPONSE = const(8)
_K_SHADOW_GET = const(9)
_K_SHADOW_GET_RESPONSE = const(10)
_K_COMMAND = const(11)
_K_COMMAND_RESPONSE = const(12)
_K_EVENTS_UP = const(13)
_K_EVENTS_DOWN = const(14)

_RAW = const(0)  # setCallback: topics none of the others take
_ERROR = const(1)
_MESSAGE = const(2)
_COMMAND = const(3)
_PROP_SET = const(4)
_PROP_GET = const(5)
_SHADOW = const(6)
_EVENT = const(7)
_TIME_SYNC = const(8)


def _setter(index):  # "index": a name MicroPython's core has (no new QSTR)
    # set_*_callback(f): one function per callback index
    def set_callback(self, f):
        self._cb[index] = self._check(f)
    return set_callback


class HuaweiCloud:
    # state before setMqtt() (class attributes: less flash than set in __init__)
    _mqtt = None
    _cn = False
    _running = False
    _sq = 0
    _op = [True, 120, True]  # setMqtt()'s, for start() after disconnect(); never mutated (a list: no constant tuple in flash)
    _versions = None

    def __init__(self, device_id, secret, server=None, port=None, ssl=None, ssl_params=None,
                 check_timestamp=True, region=None, instance=None, sign_type=None):
        self._id = check_id(_text(device_id, "device_id"))
        if secret is not None:
            _text(secret, "secret")
        if server is None:
            if region is None:
                raise ValueError("give server or region")
            server = server_for(_text(region, "region"), instance and _text(instance, "instance"))
        self._server = _text(server, "server")
        if ssl is None:
            ssl = port != 1883  # TLS unless the script asks for plain MQTT's port
        port = (8883 if ssl else 1883) if port is None else port
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError("port must be 1..65535")
        if ssl_params is None:
            ssl_params = {}
        elif not isinstance(ssl_params, dict):
            raise TypeError("ssl_params" + " must be a dict")
        self._ssl_params = p = ssl_params
        if ssl and not ("cadata" in p or "ca_certs" in p or "cafile" in p) and p.get("cert_reqs") != 0:
            raise ValueError("TLS needs ssl_params['cadata'] (or cert_reqs=0)")
        # no secret: a certificate (X.509) device, the TLS client certificate is its credential
        if secret is None and not (ssl and ("cert" in p or "certfile" in p) and ("key" in p or "keyfile" in p)):
            raise ValueError("give secret, or TLS with ssl_params cert and key")
        self._port = port
        self._ssl = bool(ssl)
        self._sk = secret, check_timestamp, sign_type  # conninfo() picks the sign type
        self._credentials()  # ValueError now for a sign type other than 0, 1, 2
        self._cb = [None] * 9  # by the _RAW.._TIME_SYNC indexes
        self._services = {}  # service_id -> f(event_type, paras): extensions (OTA, gateway, ...)
        self._sub_commands = {}  # sub-device id -> command callback (huaweicloud_gateway)

    def __repr__(self):
        return "<HuaweiCloud %s %s:%d>" % (self._id, self._server, self._port)

    # -- connection (aLiYun flow) ------------------------------------------

    def _credentials(self):
        k, t, g = self._sk
        c = conninfo(self._id, k or "", None, t, sign_type=g)
        # certificate device (no secret): no password (Huawei's CERTIFICATES auth)
        return c if k is not None else (c[0], c[1], None)

    def _co(self):
        import umqtt
        clean_session, keepalive, reconn = self._op
        # umqtt's positional order (QuecPython's): client_id, server, port, user, password,
        # keepalive, ssl, ssl_params, reconn
        m = umqtt.MQTTClient(self._id, self._server, self._port, None, None,
                             min(max(keepalive, KEEPALIVE_MIN), KEEPALIVE_MAX), self._ssl,
                             self._ssl_params, reconn)
        m.set_callback(self._dispatch)
        m.set_credentials_cb(self._credentials)
        m.error_register_cb(self._cb[_ERROR])
        self._mqtt = m
        m.connect(clean_session)
        for f in subscriptions(self._id):
            m.subscribe(f, 1)
        self._cn = True

    def setMqtt(self, clean_session=True, keepAlive=120, reconn=True):
        """Connect (fresh credentials), subscribe the system topics: 0, or -1
        (the reason goes to the error callback)."""
        if self._running:
            raise ValueError("already started")
        self._cq()  # a previous client, if any
        self._op = (clean_session, keepAlive, reconn)
        try:
            self._co()
            return 0
        except Exception as e:
            self._report_exc("setMqtt", e)
            self._cq()
            return -1

    def _cq(self):
        # also before setMqtt(): _mqtt None raises AttributeError, passed
        try:
            self._mqtt.close()
        except Exception:
            pass
        self._cn = False

    setCallback = _setter(_RAW)
    def error_register_cb(self, f):
        self._cb[_ERROR] = self._check(f)
        if self._mqtt is not None:
            self._mqtt.error_register_cb(f)

    def start(self, background=True):
        """Start the listener thread (connects first, raising on failure, when
        setMqtt() was not called)."""
        if self._running:
            raise ValueError("already started")
        if not self._cn:
            self._co()
        if background and _thread:
            # a new token: a thread ends when _running is no longer its own
            self._running = t = [0]
            _thread.start_new_thread(self._lp, (t,))

    def _lp(self, seq):
        # seq: the token (_running) this thread serves; it ends when that changes.
        # Blocks in wait_msg(): umqtt releases the GIL while it waits
        from time import sleep
        while self._running is seq:
            try:
                self._mqtt.wait_msg()
            except Exception as e:
                if self._running is seq:
                    self._report_exc("receive", e)
                    sta = self._mqtt.get_mqttsta()
                    if sta == -1 or (sta == 2 and not self._op[2]):
                        self._running = False
                        self._report("receive thread stopped: connection closed")
                    else:
                        sleep(1)

    def subscribe(self, topic, qos=0):
        """0, or -1 (not connected, refused, ...)."""
        return self._tr("subscribe", topic, _qos(qos))

    def publish(self, topic, msg, qos=0):
        """0, or -1 (not connected, ...). IoTDA has no retain: no such argument."""
        return self._tr("publish", topic, msg, False, _qos(qos))

    def _tr(self, name, *args):
        # name: the umqtt method, also the error report's prefix
        if not self._cn:  # True only once _mqtt is set
            self._report("%s: not connected" % name)
            return -1
        try:
            return -1 if getattr(self._mqtt, name)(*args) is False else 0
        except Exception as e:
            self._report_exc(name, e)
            return -1

    def _m(self):
        if not self._cn:  # True only once _mqtt is set
            raise OSError(107)
        return self._mqtt

    def check_msg(self):
        return self._m().check_msg()

    def wait_msg(self):
        return self._m().wait_msg()

    def ping(self):
        return self._m().ping()

    def disconnect(self):
        self._running = False
        if self._mqtt is not None:
            self._cn = False
            self._mqtt.disconnect()

    def close(self):
        self._running = False
        self._cq()

    def getHuaweiCloudSta(self):
        """0 connected, 1 connecting, 2 server closed, -1 closed / not set up."""
        return -1 if self._mqtt is None else self._mqtt.get_mqttsta()

    # -- callbacks -----------------------------------------------------------

    @staticmethod
    def _check(f):
        if f is not None and not callable(f):
            raise TypeError("callback" + " must be callable or None")
        return f

    set_message_callback = _setter(_MESSAGE)
    set_command_callback = _setter(_COMMAND)
    set_property_set_callback = _setter(_PROP_SET)
    set_property_get_callback = _setter(_PROP_GET)
    set_shadow_callback = _setter(_SHADOW)
    set_event_callback = _setter(_EVENT)
    set_time_sync_callback = _setter(_TIME_SYNC)
    def set_service_handler(self, service_id, f):
        """Route platform events of one service (e.g. "$ota") to f(event_type,
        paras) before the event callback; None removes it. Used by the optional
        modules (huaweicloud_ota, ...)."""
        f = self._check(f)
        if f is None:
            self._services.pop(service_id, None)
        else:
            self._services[_text(service_id, "service_id")] = f

    def _report(self, msg):
        f = self._cb[_ERROR]
        if f is not None:
            h = "huaweicloud: "
            try:
                f(h + msg)
            except Exception as e:
                print(h + "%s: %s: %s" % ("callback raised", type(e).__name__, e))

    def _report_exc(self, name, e):
        self._report("%s: %s: %s" % (name, type(e).__name__, e))

    def _call(self, name, f, *args):
        try:
            return True, f(*args)
        except Exception as e:
            self._report_exc(name, e)
            return False, e  # (False, None) would be a constant tuple: more flash

    # -- uplinks -------------------------------------------------------------

    def _pub(self, kind, data, qos=1, request_id=None):
        t = topic(kind, self._id, request_id)
        if not isinstance(data, (bytes, bytearray)):
            data = json.dumps(data)
        return self._m().publish(t, data, False, qos)

    def report_properties(self, services, qos=1):
        return self._pub(_K_PROPERTIES_REPORT, {"services": _services(services)}, _qos(qos))

    def report_sub_device_properties(self, devices, qos=1):
        _qos(qos)
        m = isinstance(devices, dict)
        if not m and not isinstance(devices, (list, tuple)):
            raise TypeError("devices" + ": list or dict")
        out = []
        for d in devices:
            if m:
                d = {"device_id": d, "services": devices[d]}
            if not isinstance(d, dict) or "device_id" not in d or "services" not in d:
                raise ValueError("device without device_id/services")
            out.append({"device_id": check_id(_text(d["device_id"], "device_id")),
                        "services": _services(d["services"])})
        return self._pub(_K_GATEWAY_SUB_DEVICES_REPORT, {"devices": out}, qos)

    def send_message(self, content, name=None, id=None, qos=1):
        _qos(qos)
        if isinstance(content, (bytes, bytearray)):
            if name is not None or id is not None:
                raise ValueError("raw message: no name/id")
            return self._pub(_K_MESSAGES_UP, content, qos)
        d = {"object_device_id": self._id}
        if name is not None:
            d["name"] = name
        if id is not None:
            d["id"] = id
        d["content"] = content
        return self._pub(_K_MESSAGES_UP, d, qos)

    def respond_command(self, request_id, result_code=0, response_name=None, paras=None):
        d = {"result_code": result_code}
        if response_name is not None:
            d["response_name"] = response_name
        if paras is not None:
            d["paras"] = paras
        # topic() checks request_id (str or bytes, the same TypeError)
        return self._pub(_K_COMMAND_RESPONSE, d, 1, request_id)

    def get_shadow(self, service_id=None):
        self._sq += 1
        rid = "shadow-%08x-%d" % (device_ms() & 0xFFFFFFFF, self._sq)
        d = {"object_device_id": self._id}
        if service_id is not None:
            d["service_id"] = _text(service_id, "service_id")
        self._pub(_K_SHADOW_GET, d, 1, rid)
        return rid

    def _event(self, service_id, event_type, paras, time=None, qos=1):
        svc = {"service_id": _text(service_id, "service_id"), "event_type": _text(event_type, "event_type")}
        if time is not None:
            svc["event_time"] = time if isinstance(time, str) else event_time(time)
        svc["paras"] = {} if paras is None else paras
        return self._pub(_K_EVENTS_UP, {"object_device_id": self._id, "services": [svc]}, qos)

    def report_event(self, service_id, event_type, paras, event_time=None, qos=1):
        return self._event(service_id, event_type, paras, event_time, _qos(qos))

    def time_sync(self):
        return self._event("$time_sync", "time_sync_request", {"device_send_time": device_ms()})

    def report_version(self, sw_version=None, fw_version=None):
        if sw_version is None and fw_version is None:
            raise ValueError("give " + "sw_version" + " and/or " + "fw_version")
        p = {}
        if sw_version is not None:
            p["sw_version"] = _text(sw_version, "sw_version")
        if fw_version is not None:
            p["fw_version"] = _text(fw_version, "fw_version")
        self._versions = p
        return self._event("$ota", "version_report", p)

    def report_upgrade_progress(self, result_code, version, progress=None, description=None):
        """$ota upgrade_progress_report: version is mandatory, progress (0..100) optional."""
        p = {"result_code": result_code, "version": _text(version, "version")}
        if not p["version"]:
            raise ValueError("version" + " must not be empty")
        if progress is not None:
            if not isinstance(progress, int) or not 0 <= progress <= 100:
                raise ValueError("progress must be 0..100")
            p["progress"] = progress
        if description is not None:
            p["description"] = description
        return self._event("$ota", "upgrade_progress_report", p)

    # -- downlinks -----------------------------------------------------------

    def _js(self, name, msg):
        # a downlink's JSON object, or None (reported unless name is None)
        try:
            obj = json.loads(msg)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            obj = None
            if name:
                self._report("malformed " + name + " (not a JSON object)")
        return obj

    def _dispatch(self, topic, msg):
        # umqtt's callback for every downlink; what goes wrong goes to the error callback
        try:
            kind, rid = parse_topic(topic, self._id) or [0, None]  # a list: no constant tuple in flash
            cb = self._cb
            if kind == _K_MESSAGES_DOWN and cb[_MESSAGE] is not None:
                obj = self._js(None, msg)
                self._call("message callback", cb[_MESSAGE], msg if obj is None else obj)
            elif kind == _K_COMMAND or kind == _K_PROPERTIES_SET:
                # the default reply: a command's response_name, a property set's result_desc
                c = kind == _K_COMMAND
                code = 1  # separate stores: a constant tuple costs more flash
                why = "malformed request"
                what = "command" if c else "property set"
                req = self._js(what if c else what + " request", msg)
                if req is not None:
                    why = "no handler"
                    # a command for a gateway's sub-device goes to that sub-device's handler
                    f = self._sub_commands.get(req.get("object_device_id"), cb[_COMMAND]) if c else cb[_PROP_SET]
                    if f is not None:
                        why = "handler error"
                        name = what + " callback"
                        ok, r = self._call(name, f, rid, req)
                        if ok:
                            if r is None and c:
                                return  # answered later with respond_command()
                            if not c and (r is None or r == 0):
                                code = 0
                                why = "success"
                            elif isinstance(r, int) and not isinstance(r, bool):
                                if c:
                                    r = {"result_code": r}
                                else:
                                    code, why = r, "failure"
                            if isinstance(r, dict):
                                r.setdefault("result_code", 0)
                                return self._pub(_K_COMMAND_RESPONSE if c else _K_PROPERTIES_SET_RESPONSE, r, 1, rid)
                            if why == "handler error":  # none of the above
                                self._report(name + ": bad return")
                if c:
                    self.respond_command(rid, 1, why)
                else:
                    self._pub(_K_PROPERTIES_SET_RESPONSE, {"result_code": code, "result_desc": why}, 1, rid)
            elif kind == _K_PROPERTIES_GET:
                services = []
                what = "property get"
                req = self._js(what + " request", msg)
                if req is not None and cb[_PROP_GET] is not None:
                    name = what + " callback"
                    ok, r = self._call(name, cb[_PROP_GET], rid, req)
                    if ok and r is not None:
                        if isinstance(r, dict) and "services" in r:
                            r = r["services"]
                        ok, r = self._call(name + " result", _services, r)
                        if ok:
                            services = r
                self._pub(_K_PROPERTIES_GET_RESPONSE, {"services": services}, 1, rid)
            elif kind == _K_SHADOW_GET_RESPONSE and cb[_SHADOW] is not None:
                r = self._js("shadow response", msg)
                if r is not None:
                    self._call("shadow callback", cb[_SHADOW], rid, r)
            elif kind == _K_EVENTS_DOWN:
                self._on_events(topic, msg)
            elif cb[_RAW] is not None:
                self._call("callback", cb[_RAW], topic, msg)
        except Exception as e:
            self._report_exc("downlink", e)

    def _on_events(self, topic, msg):
        obj = self._js("event", msg)
        if obj is None:
            return
        services = obj.get("services")
        if not isinstance(services, list):
            return self._report("malformed " + "event" + ' (no "services" list)')
        unhandled = False
        cb = self._cb
        for s in services:
            if not isinstance(s, dict):
                s = {}
            sid = s.get("service_id")
            typ = s.get("event_type")
            if sid is None or typ is None:
                self._report("malformed " + "event (no service_id / event_type)")
                continue
            paras = s.get("paras") or {}
            h = self._services.get(sid)
            if h is not None:
                self._call("%s handler" % sid, h, typ, paras)
            elif sid == "$time_sync" and typ == "time_sync_response":
                # numbers as ints or as strings (Huawei's Python SDK sends strings)
                try:
                    ds = int(paras["device_send_time"])
                    sr = int(paras["server_recv_time"])
                    ss = int(paras["server_send_time"])
                except (KeyError, TypeError, ValueError):
                    self._report("malformed " + "time_sync_response")  # shares the QSTRs
                    continue
                utc = time_sync(ds, sr, ss)
                if cb[_TIME_SYNC] is not None:
                    self._call("time sync callback", cb[_TIME_SYNC], utc)
            elif cb[_EVENT] is not None:
                self._call("event" + " callback", cb[_EVENT], sid, typ, paras)
            elif sid == "$ota" and typ == "version_query" and self._versions:
                self._event("$ota", "version_report", self._versions)
            else:
                unhandled = True
        if unhandled and cb[_RAW] is not None:
            self._call("callback", cb[_RAW], topic, msg)
