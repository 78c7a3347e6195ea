# CPython stand-in for the firmware's umqtt (docs/umqtt.md) over paho-mqtt,
# enough for huaweicloud.py: blocking connect/subscribe/publish, callbacks
# delivered inside check_msg()/wait_msg() as on the firmware, the
# credentials callback asked before every CONNECT. Tests only.
import queue
import ssl as _ssl
import threading

import paho.mqtt.client as paho


class MQTTException(ValueError):
    pass


class MQTTClient:
    def __init__(self, client_id, server, port=0, user=None, password=None, keepalive=0, ssl=False,
                 ssl_params={}, reconn=True, **kw):
        self.client_id, self.server, self.keepalive = client_id, server, keepalive or 60
        self.port = port or (8883 if ssl else 1883)
        self.user, self.password, self.ssl, self.ssl_params = user, password, ssl, dict(ssl_params)
        self.cb = self.err_cb = self.cred_cb = None
        self.q = queue.Queue()
        self.c = None
        self.sta = -1

    def set_callback(self, f):
        self.cb = f

    def error_register_cb(self, f):
        self.err_cb = f

    def set_credentials_cb(self, f):
        self.cred_cb = f

    def connect(self, clean_session=True):
        cid, user, pw = self.cred_cb() if self.cred_cb else (self.client_id, self.user, self.password)
        c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=cid, clean_session=clean_session)
        c.username_pw_set(user, pw)
        if self.ssl:
            p = self.ssl_params
            ca = p.get("cadata") or p.get("ca_certs")
            ctx = _ssl.create_default_context(cafile=p.get("cafile"),
                                              cadata=ca.decode() if isinstance(ca, bytes) else ca)
            c.tls_set_context(ctx)
            if p.get("server_hostname"):
                c.tls_insecure_set(False)
        done, rc = threading.Event(), []
        acks = {}
        c.on_connect = lambda cl, u, f, reason, props: (rc.append(reason), done.set())
        c.on_message = lambda cl, u, m: self.q.put((m.topic.encode(), m.payload))
        c.on_subscribe = lambda cl, u, mid, codes, props: acks.setdefault(mid, threading.Event()).set()
        c.on_disconnect = lambda *a: setattr(self, "sta", -1 if self.sta == -1 else 2)
        self.acks = acks
        c.connect(self.server, self.port, self.keepalive)
        c.loop_start()
        if not done.wait(10) or rc[0].is_failure:
            c.loop_stop()
            raise MQTTException(rc[0].value if rc else "timeout")
        self.c, self.sta = c, 0
        return 0

    def subscribe(self, topic, qos=0):
        r, mid = self.c.subscribe(topic.decode() if isinstance(topic, bytes) else topic, qos)
        if r != 0 or not self.acks.setdefault(mid, threading.Event()).wait(10):
            raise OSError(110, "no SUBACK")

    def publish(self, topic, msg, retain=False, qos=0):
        if self.c is None or self.sta != 0:
            raise OSError(107, "not connected")
        info = self.c.publish(topic.decode() if isinstance(topic, bytes) else topic, msg, qos, retain)
        if qos:
            info.wait_for_publish(10)
        return info.rc == 0

    def _deliver(self, item):
        if item is None:
            raise OSError(107, "closed")
        if self.cb:
            self.cb(*item)

    def check_msg(self):
        try:
            self._deliver(self.q.get_nowait())
        except queue.Empty:
            pass

    def wait_msg(self):
        self._deliver(self.q.get())

    def ping(self):
        pass

    def disconnect(self):
        if self.c is not None:
            self.sta = -1
            self.c.disconnect()
            self.c.loop_stop()
            self.q.put(None)

    close = disconnect

    def get_mqttsta(self):
        return self.sta
