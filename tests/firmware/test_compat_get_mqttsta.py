# Compatibility row "get_mqttsta": 0 connected, 1 connecting, 2 the server
# closed the connection, -1 closed; read from the live link, so a close by
# the server shows even with keepalive=0 and no other call.
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms
from fake_broker import FakeBroker, CONNACK, read_packet

ck = Checker("compat: get_mqttsta")
state = {"hold": True}


def handler(c, n):
    read_packet(c)
    if n == 0:
        c.send(CONNACK)
        while state["hold"]:
            sleep_ms(20)
        return  # the server closes
    sleep_ms(3000)  # a login that hangs: state 1 meanwhile


b = FakeBroker(handler)
c = MQTTClient("sta", "127.0.0.1", b.port, keepalive=0, reconn=False)
ck.eq(c.get_mqttsta(), -1, "before connect(): -1")
c.connect()
ck.eq(c.get_mqttsta(), 0, "connected: 0")
state["hold"] = False
sleep_ms(500)
ck.eq(c.get_mqttsta(), 2, "keepalive=0: the server's close shows as 2 without a read")
c.disconnect()
ck.eq(c.get_mqttsta(), -1, "after disconnect(): -1")
# reconn=True: a reconnect in progress is 1
b2 = FakeBroker(lambda s, n: (read_packet(s), s.send(CONNACK), sleep_ms(200)) if n == 0 else sleep_ms(3000))
c = MQTTClient("sta2", "127.0.0.1", b2.port, keepalive=0)
c.connect()
ck.ok(poll_until(lambda: c.get_mqttsta() == 1, 5000), "reconn=True, logging in again: 1")
c.disconnect()
ck.eq(c.get_mqttsta(), -1, "after disconnect(): -1")
ck.finish()
