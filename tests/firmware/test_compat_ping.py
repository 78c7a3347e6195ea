# Compatibility row "ping": ping() sends PINGREQ now and returns None (also
# with keepalive=0); the PINGRESP is one packet for wait_msg(), also when
# the background thread read it first.
import _thread
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid, poll_until, sleep_ms
from fake_broker import FakeBroker, CONNACK, read_packet, serve_silently

ck = Checker("compat: ping")
c = MQTTClient(uid("ping"), HOST, PORT, keepalive=0, reconn=False)
c.connect()
ck.eq(c.ping(), None, "ping() returns None (keepalive=0)")
ck.eq(c.wait_msg(), None, "wait_msg() handles the PINGRESP")
ck.eq(c.get_mqttsta(), 0, "connected")
# the background thread may read the PINGRESP first (here surely: the
# script sleeps); in QuecPython it would wait in the socket, so wait_msg()
# must still return for it
c.ping()
sleep_ms(1500)
done = []
_thread.start_new_thread(lambda: done.append(c.wait_msg()), ())
ck.ok(poll_until(lambda: done, 3000), "wait_msg() after ping() and a pause returns")
c.disconnect()
seen = []
b = FakeBroker(lambda s, n: (read_packet(s), s.send(CONNACK), serve_silently(s, lambda f, body: seen.append(f))))
c = MQTTClient("ping", "127.0.0.1", b.port, reconn=False)
c.connect()
c.ping()
c.wait_msg()
ck.eq(seen, [0xC0], "one PINGREQ on the wire")
c.disconnect()
ck.finish()
