# Compatibility row "subclassing": QuecPython scripts subclass MQTTClient (or
# BaseMqtt) in Python, override methods and call super().
from umqtt import MQTTClient, BaseMqtt
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until

ck = Checker("compat: subclass in Python")
cid = uid("sub")


class Device(MQTTClient):
    def __init__(self, name, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.name = name
        self.sent = 0
        self.inbox = Inbox(ck)
        self.set_callback(self.on_message)

    def on_message(self, topic, msg):
        self.inbox(topic, msg)

    def publish(self, topic, msg, retain=False, qos=0):
        self.sent += 1
        return super().publish(topic, msg, retain, qos)


d = Device("dev", cid, HOST, PORT, keepalive=30, reconn=False)
ck.ok(isinstance(d, MQTTClient) and isinstance(d, BaseMqtt), "isinstance MQTTClient and BaseMqtt")
ck.eq((d.name, d.port, d.keepalive, d.client_id), ("dev", PORT, 30, cid), "own and inherited attributes")
ck.eq(d.connect(), 0, "connect() through the subclass")
t = "s/" + cid
d.subscribe(t, 1)
ck.eq(d.topic_list, [t], "topic_list through the subclass")
ck.eq(d.publish(t, b"hello", qos=1), True, "overridden publish() calls super()")
ck.eq(d.sent, 1, "the override ran")
ck.ok(poll_until(lambda: d.inbox.find(msg=b"hello"), 5000, [d]), "a bound method of the subclass as callback")
ck.eq(d.get_mqttsta(), d.CONNECTSUCCESS, "constants through the subclass")
d.disconnect()


class Quiet(BaseMqtt):
    pass


q = Quiet(cid + "-q", HOST, PORT, reconn=False)
ck.eq(q.connect(), 0, "a subclass of BaseMqtt connects")
q.disconnect()


class Wrapper:
    """The composition QuecPython's examples use."""

    def __init__(self):
        self.client = MQTTClient(cid + "-w", HOST, PORT, reconn=False)

    def connect(self):
        return self.client.connect(clean_session=True)


w = Wrapper()
ck.eq(w.connect(), 0, "a wrapper object")
w.client.disconnect()
ck.finish()
