# huaweicloud: Huawei Cloud IoTDA device client in the flow of QuecPython's
# aLiYun / TXyun, over umqtt and the native core _huaweicloud (C over the
# Rust iotda crate: credentials, topics, ids, times). Frozen into the
# firmware (micropython/manifest.py); runs unchanged on CPython with a
# umqtt and a _huaweicloud stand-in (tests/cpython/). Docs:
# docs/huaweicloud.md. The secret is never printed.
import json
# conninfo, topic, parse_topic, check_id, subscriptions, event_time, the
# clock, the kind constants: used below by name and re-exported
from _huaweicloud import *  # noqa: F401,F403

try:
    import _thread
except ImportError:
    _thread = None
from time import sleep as _sleep

_NO_HANDLER = "no handler"
_MALFORMED = "malformed request"
_HANDLER_ERROR = "handler error"
_CA_KEYS = ("cadata", "ca_certs", "cafile")
_CERT_KEYS = (("cert", "certfile"), ("key", "keyfile"))


def server_for(region, instance=None):
    """The MQTT host of an IoTDA instance: `{instance}.iot-mqtts.{region}.myhuaweicloud.com`
    (the access-address prefix shown on the console's overview page), or the
    region's shared standard endpoint without one."""
    h = "iot-mqtts.%s.myhuaweicloud.com" % region
    return instance + "." + h if instance else h


def _text(v, what):
    if isinstance(v, bytes):
        return v.decode()
    if not isinstance(v, str):
        raise TypeError(what + " must be str or bytes")
    return v


def _qos(q):
    if q not in (0, 1):
        raise ValueError("qos 0 or 1")
    return q


def _services(services):
    if isinstance(services, dict):
        return [{"service_id": _text(k, "service_id"), "properties": v} for k, v in services.items()]
    if not isinstance(services, (list, tuple)):
        raise TypeError("services: list or dict")
    for s in services:
        if not isinstance(s, dict) or "service_id" not in s:
            raise ValueError("service without service_id")
    return list(services)


def _exc_text(e):
    return "%s: %s" % (type(e).__name__, e)


def _fatal(e):
    return isinstance(e, (KeyboardInterrupt, SystemExit))


class HuaweiCloud:
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
            raise TypeError("ssl_params must be a dict")
        if ssl and not any(k in ssl_params for k in _CA_KEYS) and ssl_params.get("cert_reqs") != 0:
            raise ValueError("TLS needs ssl_params['cadata'] (or cert_reqs=0)")
        # no secret: a certificate (X.509) device, the TLS client certificate is its credential
        if secret is None and not (ssl and all(any(k in ssl_params for k in ks) for ks in _CERT_KEYS)):
            raise ValueError("give secret, or TLS with ssl_params cert and key")
        self._secret = secret
        self._port = port
        self._ssl = bool(ssl)
        self._ssl_params = ssl_params
        self._sign = int(bool(check_timestamp)) if sign_type is None else sign_type
        self._credentials()  # ValueError now for a sign type other than 0, 1, 2
        self._mqtt = None
        self._connected = False
        self._running = False
        self._gen = 0
        self._seq = 0
        self._reconn = True
        self._opts = (True, 120, True)  # setMqtt()'s, for start() after disconnect()
        self._versions = None
        self._raw_cb = self._error_cb = self._message_cb = self._command_cb = None
        self._property_set_cb = self._property_get_cb = self._shadow_cb = None
        self._event_cb = self._time_sync_cb = None
        self._services = {}  # service_id -> f(event_type, paras): extensions (OTA, gateway, ...)
        self._sub_commands = {}  # sub-device id -> command callback (huaweicloud_gateway)

    def __repr__(self):
        return "<HuaweiCloud %s %s:%d>" % (self._id, self._server, self._port)

    # -- connection (aLiYun flow) ------------------------------------------

    def _credentials(self):
        if self._secret is None:  # certificate device: no password (Huawei's CERTIFICATES auth)
            return conninfo(self._id, "", sign_type=self._sign)[0], self._id, None
        return conninfo(self._id, self._secret, sign_type=self._sign)

    def _connect(self, clean_session, keepalive, reconn):
        import umqtt
        ka = min(max(keepalive, KEEPALIVE_MIN), KEEPALIVE_MAX)
        m = umqtt.MQTTClient(self._id, self._server, port=self._port, keepalive=ka, ssl=self._ssl,
                             ssl_params=self._ssl_params, reconn=reconn)
        m.set_callback(self._on_publish)
        m.set_credentials_cb(self._credentials)
        m.error_register_cb(self._error_cb)
        self._mqtt = m
        self._reconn = reconn
        m.connect(clean_session)
        for f in subscriptions(self._id):
            m.subscribe(f, 1)
        self._connected = True

    def setMqtt(self, clean_session=True, keepAlive=120, reconn=True):
        """Connect (fresh credentials), subscribe the system topics: 0, or -1
        (the reason goes to the error callback)."""
        if self._running:
            raise ValueError("already started")
        if self._mqtt is not None:
            self._close_quietly()
        self._opts = (clean_session, keepAlive, reconn)
        try:
            self._connect(clean_session, keepAlive, reconn)
            return 0
        except Exception as e:
            self._report_exc("setMqtt", e)
            self._close_quietly()
            return -1

    def _close_quietly(self):
        try:
            self._mqtt.close()
        except Exception:
            pass
        self._connected = False

    def setCallback(self, f):
        self._raw_cb = self._check(f)

    def error_register_cb(self, f):
        self._error_cb = self._check(f)
        if self._mqtt is not None:
            self._mqtt.error_register_cb(f)

    def start(self, background=True):
        """Start the listener thread (connects first, raising on failure, when
        setMqtt() was not called)."""
        if self._running:
            raise ValueError("already started")
        if not self._connected:
            self._connect(*self._opts)
        if background and _thread:
            self._gen += 1
            self._running = True
            _thread.start_new_thread(self._loop, (self._gen,))

    def _loop(self, gen):
        # blocks in wait_msg(): umqtt releases the GIL while it waits
        while self._running and self._gen == gen:
            try:
                self._mqtt.wait_msg()
            except Exception as e:
                if not self._running or self._gen != gen:
                    break
                self._report_exc("receive", e)
                sta = self._mqtt.get_mqttsta()
                if sta == -1 or (sta == 2 and not self._reconn):
                    self._running = False
                    self._report("receive thread stopped: connection closed")
                    break
                _sleep(1)

    def subscribe(self, topic, qos=0):
        """0, or -1 (not connected, refused, ...)."""
        _qos(qos)
        return self._try("subscribe", lambda m: m.subscribe(topic, qos))

    def publish(self, topic, msg, qos=0):
        """0, or -1 (not connected, ...). IoTDA has no retain: no such argument."""
        _qos(qos)
        return self._try("publish", lambda m: m.publish(topic, msg, False, qos))

    def _try(self, what, op):
        if self._mqtt is None or not self._connected:
            self._report("%s: not connected" % what)
            return -1
        try:
            r = op(self._mqtt)
            return -1 if r is False else 0
        except Exception as e:
            if _fatal(e):
                raise
            self._report_exc(what, e)
            return -1

    def _m(self):
        if self._mqtt is None or not self._connected:
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
            self._connected = False
            self._mqtt.disconnect()

    def close(self):
        self._running = False
        if self._mqtt is not None:
            self._close_quietly()

    def getHuaweiCloudSta(self):
        """0 connected, 1 connecting, 2 server closed, -1 closed / not set up."""
        return -1 if self._mqtt is None else self._mqtt.get_mqttsta()

    # -- callbacks -----------------------------------------------------------

    @staticmethod
    def _check(f):
        if f is not None and not callable(f):
            raise TypeError("callback must be callable or None")
        return f

    def set_message_callback(self, f):
        self._message_cb = self._check(f)

    def set_command_callback(self, f):
        self._command_cb = self._check(f)

    def set_property_set_callback(self, f):
        self._property_set_cb = self._check(f)

    def set_property_get_callback(self, f):
        self._property_get_cb = self._check(f)

    def set_shadow_callback(self, f):
        self._shadow_cb = self._check(f)

    def set_event_callback(self, f):
        self._event_cb = self._check(f)

    def set_time_sync_callback(self, f):
        self._time_sync_cb = self._check(f)

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
        f = self._error_cb
        if f is None:
            return
        try:
            f("huaweicloud: " + msg)
        except Exception as e:
            if _fatal(e):
                raise
            print("huaweicloud: callback raised:", _exc_text(e))

    def _report_exc(self, what, e):
        if _fatal(e):
            raise e
        self._report("%s: %s" % (what, _exc_text(e)))

    def _call(self, what, f, *args):
        try:
            return True, f(*args)
        except Exception as e:
            self._report_exc(what, e)
            return False, None

    # -- uplinks -------------------------------------------------------------

    def _pub(self, kind, payload, qos=1, rid=None):
        t = topic(kind, self._id, rid)
        if not isinstance(payload, (bytes, bytearray)):
            payload = json.dumps(payload)
        return self._m().publish(t, payload, False, qos)

    def report_properties(self, services, qos=1):
        return self._pub(PROPERTIES_REPORT, {"services": _services(services)}, _qos(qos))

    def report_sub_device_properties(self, devices, qos=1):
        _qos(qos)
        if isinstance(devices, dict):
            devices = [{"device_id": k, "services": v} for k, v in devices.items()]
        elif not isinstance(devices, (list, tuple)):
            raise TypeError("devices: list or dict")
        out = []
        for d in devices:
            if not isinstance(d, dict) or "device_id" not in d or "services" not in d:
                raise ValueError("device without device_id/services")
            out.append({"device_id": check_id(_text(d["device_id"], "device_id")),
                        "services": _services(d["services"])})
        return self._pub(GATEWAY_SUB_DEVICES_REPORT, {"devices": out}, qos)

    def send_message(self, content, name=None, id=None, qos=1):
        _qos(qos)
        if isinstance(content, (bytes, bytearray)):
            if name is not None or id is not None:
                raise ValueError("raw message: no name/id")
            return self._pub(MESSAGES_UP, content, qos)
        d = {"object_device_id": self._id}
        if name is not None:
            d["name"] = name
        if id is not None:
            d["id"] = id
        d["content"] = content
        return self._pub(MESSAGES_UP, d, qos)

    def respond_command(self, request_id, result_code=0, response_name=None, paras=None):
        d = {"result_code": result_code}
        if response_name is not None:
            d["response_name"] = response_name
        if paras is not None:
            d["paras"] = paras
        return self._pub(COMMAND_RESPONSE, d, 1, _text(request_id, "request_id"))

    def get_shadow(self, service_id=None):
        self._seq += 1
        rid = "shadow-%08x-%d" % (device_ms() & 0xFFFFFFFF, self._seq)
        d = {"object_device_id": self._id}
        if service_id is not None:
            d["service_id"] = _text(service_id, "service_id")
        self._pub(SHADOW_GET, d, 1, rid)
        return rid

    def _event(self, service_id, event_type, paras, when=None, qos=1):
        svc = {"service_id": _text(service_id, "service_id"), "event_type": _text(event_type, "event_type")}
        if when is not None:
            svc["event_time"] = when if isinstance(when, str) else event_time(when)
        svc["paras"] = {} if paras is None else paras
        return self._pub(EVENTS_UP, {"object_device_id": self._id, "services": [svc]}, qos)

    def report_event(self, service_id, event_type, paras, event_time=None, qos=1):
        return self._event(service_id, event_type, paras, event_time, _qos(qos))

    def time_sync(self):
        return self._event("$time_sync", "time_sync_request", {"device_send_time": device_ms()})

    def report_version(self, sw_version=None, fw_version=None):
        if sw_version is None and fw_version is None:
            raise ValueError("give sw_version and/or fw_version")
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
            raise ValueError("version must not be empty")
        if progress is not None:
            if not isinstance(progress, int) or not 0 <= progress <= 100:
                raise ValueError("progress must be 0..100")
            p["progress"] = progress
        if description is not None:
            p["description"] = description
        return self._event("$ota", "upgrade_progress_report", p)

    # -- downlinks -----------------------------------------------------------

    def _on_publish(self, t, msg):
        try:
            self._dispatch(t, msg)
        except Exception as e:
            self._report_exc("downlink", e)

    def _raw(self, t, msg):
        if self._raw_cb is not None:
            self._call("callback", self._raw_cb, t, msg)

    def _json(self, what, msg):
        try:
            obj = json.loads(msg)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            self._report("malformed %s (not a JSON object)" % what)
            return None
        return obj

    def _dispatch(self, t, msg):
        p = parse_topic(t, self._id)
        kind, rid = p if p else (0, None)
        if kind == MESSAGES_DOWN:
            if self._message_cb is None:
                return self._raw(t, msg)
            try:
                obj = json.loads(msg)
            except ValueError:
                obj = None
            self._call("message callback", self._message_cb, obj if isinstance(obj, dict) else msg)
        elif kind == COMMAND:
            self._on_command(rid, msg)
        elif kind == PROPERTIES_SET:
            self._on_property_set(rid, msg)
        elif kind == PROPERTIES_GET:
            self._on_property_get(rid, msg)
        elif kind == SHADOW_GET_RESPONSE:
            if self._shadow_cb is None:
                return self._raw(t, msg)
            r = self._json("shadow response", msg)
            if r is not None:
                self._call("shadow callback", self._shadow_cb, rid, r)
        elif kind == EVENTS_DOWN:
            self._on_events(t, msg)
        else:
            self._raw(t, msg)

    def _command_failed(self, rid, reason):
        self.respond_command(rid, 1, reason)

    def _on_command(self, rid, msg):
        req = self._json("command", msg)
        if req is None:
            return self._command_failed(rid, _MALFORMED)
        # a command for a gateway's sub-device goes to that sub-device's handler
        cb = self._sub_commands.get(req.get("object_device_id"), self._command_cb)
        if cb is None:
            return self._command_failed(rid, _NO_HANDLER)
        ok, r = self._call("command callback", cb, rid, req)
        if not ok:
            return self._command_failed(rid, _HANDLER_ERROR)
        if r is None:
            return  # answered later with respond_command()
        if isinstance(r, bool) or not isinstance(r, (dict, int)):
            self._report("command callback: bad return")
            return self._command_failed(rid, _HANDLER_ERROR)
        if isinstance(r, int):
            r = {"result_code": r}
        if "result_code" not in r:
            r["result_code"] = 0
        self._pub(COMMAND_RESPONSE, r, 1, rid)

    def _set_reply(self, rid, code, desc):
        self._pub(PROPERTIES_SET_RESPONSE, {"result_code": code, "result_desc": desc}, 1, rid)

    def _on_property_set(self, rid, msg):
        req = self._json("property set request", msg)
        if req is None:
            return self._set_reply(rid, 1, _MALFORMED)
        if self._property_set_cb is None:
            return self._set_reply(rid, 1, _NO_HANDLER)
        ok, r = self._call("property set callback", self._property_set_cb, rid, req)
        if not ok:
            return self._set_reply(rid, 1, _HANDLER_ERROR)
        if r is None or r == 0:
            return self._set_reply(rid, 0, "success")
        if isinstance(r, int) and not isinstance(r, bool):
            return self._set_reply(rid, r, "failure")
        if isinstance(r, dict):
            if "result_code" not in r:
                r["result_code"] = 0
            return self._pub(PROPERTIES_SET_RESPONSE, r, 1, rid)
        self._report("property set callback: bad return")
        self._set_reply(rid, 1, _HANDLER_ERROR)

    def _on_property_get(self, rid, msg):
        services = []
        req = self._json("property get request", msg)
        if req is not None and self._property_get_cb is not None:
            ok, r = self._call("property get callback", self._property_get_cb, rid, req)
            if ok and r is not None:
                if isinstance(r, dict) and "services" in r:
                    r = r["services"]
                ok, s = self._call("property get callback result", _services, r)
                services = s if ok else []
        self._pub(PROPERTIES_GET_RESPONSE, {"services": services}, 1, rid)

    def _on_events(self, t, msg):
        obj = self._json("event", msg)
        if obj is None:
            return
        services = obj.get("services")
        if not isinstance(services, list):
            return self._report('malformed event (no "services" list)')
        unhandled = False
        for s in services:
            sid = s.get("service_id") if isinstance(s, dict) else None
            typ = s.get("event_type") if isinstance(s, dict) else None
            if sid is None or typ is None:
                self._report("malformed event (no service_id / event_type)")
                continue
            paras = s.get("paras") or {}
            h = self._services.get(sid)
            if h is not None:
                self._call("%s handler" % sid, h, typ, paras)
            elif sid == "$time_sync" and typ == "time_sync_response":
                self._on_time_sync(paras)
            elif self._event_cb is not None:
                self._call("event callback", self._event_cb, sid, typ, paras)
            elif sid == "$ota" and typ == "version_query" and self._versions:
                self._event("$ota", "version_report", self._versions)
            else:
                unhandled = True
        if unhandled:
            self._raw(t, msg)

    def _on_time_sync(self, paras):
        # numbers as ints or as strings (Huawei's Python SDK sends strings)
        try:
            ds, sr, ss = (int(paras[k]) for k in ("device_send_time", "server_recv_time", "server_send_time"))
        except (KeyError, TypeError, ValueError):
            return self._report("malformed time_sync_response")
        utc = time_sync(ds, sr, ss)
        if self._time_sync_cb is not None:
            self._call("time sync callback", self._time_sync_cb, utc)

