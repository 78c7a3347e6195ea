# A script in the style of Quectel's MQTT reconnect example, unchanged but
# for the cellular checks (net/dataCall, absent here): reconn=False, the
# error callback reconnects (close() then connect() until it works, then
# subscribe again) and a listener thread loops on wait_msg(), reconnecting
# when get_mqttsta() says the link is gone. The broker is restarted under
# two such clients: one with the listener thread (whichever notices first
# reconnects), one without (only the error callback can bring it back). Both
# must get back on their own and keep receiving.
import _thread
import utime
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid, harness, poll_until

ck = Checker("compat: Quectel-style reconnect script over a broker restart")
TaskEnable = True
listener_errors = []


class MqttClient:
    def __init__(self, clientid, server, port, user=None, password=None, keepalive=0,
                 ssl=False, ssl_params={}, reconn=True):
        self.topic = None
        self.qos = None
        self.mp_lock = _thread.allocate_lock()
        self.client = MQTTClient(clientid, server, port, user, password, keepalive=keepalive,
                                 ssl=ssl, ssl_params=ssl_params, reconn=reconn)

    def connect(self):
        self.client.connect(clean_session=False)

    def set_callback(self, sub_cb):
        self.client.set_callback(sub_cb)

    def error_register_cb(self, func):
        self.client.error_register_cb(func)

    def subscribe(self, topic, qos=0):
        self.topic = topic
        self.qos = qos
        self.client.subscribe(topic, qos)

    def publish(self, topic, msg, qos=0):
        return self.client.publish(topic, msg, qos=qos)

    def disconnect(self):
        global TaskEnable
        TaskEnable = False
        self.client.disconnect()

    def reconnect(self):
        if self.mp_lock.locked():
            return
        self.mp_lock.acquire()
        self.client.close()
        while True:
            try:
                self.connect()
            except Exception as e:
                print("  reconnect failed: {}".format(e))
                self.client.close()
                utime.sleep(5)
                continue
            try:
                if self.topic is not None:
                    self.client.subscribe(self.topic, self.qos)
                self.mp_lock.release()
            except:
                self.client.close()
                utime.sleep(5)
                continue
            break
        return True

    def __listen(self):
        while True:
            try:
                if not TaskEnable:
                    break
                self.client.wait_msg()
            except OSError as e:
                listener_errors.append(e)
                if self.client.get_mqttsta() != 0 and TaskEnable:
                    self.reconnect()
                else:
                    return -1

    def loop_forever(self):
        _thread.start_new_thread(self.__listen, ())


class Device:
    def __init__(self, name, listen):
        self.received = []
        self.errors = []
        self.topic = "quec/" + uid(name)
        self.c = MqttClient(uid(name), HOST, PORT, keepalive=30, reconn=False)
        self.c.set_callback(self.sub_cb)
        self.c.error_register_cb(self.err_cb)
        self.c.connect()
        self.c.subscribe(self.topic, 1)
        if listen:
            self.c.loop_forever()

    def sub_cb(self, topic, msg):
        self.received.append(msg)

    def err_cb(self, err):
        print("  thread err: {}".format(err))
        self.errors.append(err)
        self.c.reconnect()

    def got(self, msg):
        if msg in self.received:
            return True
        try:
            self.c.client.check_msg()  # no listener thread: the script polls
        except OSError:
            pass
        return False


listening = Device("quec-l", True)
polling = Device("quec-p", False)
for d in (listening, polling):
    d.c.publish(d.topic, b"before", 1)
    ck.ok(poll_until(lambda: d.got(b"before"), 5000), "received before the restart")
harness("restart-broker", "qrb", 2)  # returns once the broker is down
ck.ok(poll_until(lambda: listening.errors or listener_errors, 10000),
      "listener: the lost link was noticed (error callback {}, wait_msg {})".format(
          len(listening.errors), len(listener_errors)))
ck.ok(poll_until(lambda: polling.errors, 10000), "no listener: the error callback was told of the lost link")
ck.ok(all(isinstance(e, str) for e in listening.errors + polling.errors), "with a str")
for d in (listening, polling):
    ck.ok(poll_until(lambda: d.c.client.get_mqttsta() == 0 and not d.c.mp_lock.locked(), 30000),
          "the script reconnected by itself")
    sent = False
    for _ in range(20):
        if d.c.publish(d.topic, b"after", 1):
            sent = True
            break
        utime.sleep_ms(250)
    ck.ok(sent, "publish after the restart")
    ck.ok(poll_until(lambda: d.got(b"after"), 10000), "received after the restart (resubscribed)")
listening.c.disconnect()
polling.c.disconnect()
ck.finish()
