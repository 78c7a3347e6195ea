# A listener thread blocked in wait_msg() when the script calls disconnect()
# gets None (QuecPython's listener loops end this way), also when the script
# connects again at once: the old listener must not go on serving the new
# link beside the one the script starts for it.
import _thread
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms
from fake_broker import FakeBroker, CONNACK, read_packet, serve_silently

ck = Checker("review: wait_msg() blocked across disconnect(); connect()")


def serve(c, n):
    read_packet(c)
    c.send(CONNACK)
    serve_silently(c)


b = FakeBroker(serve)
c = MQTTClient("relisten", "127.0.0.1", b.port, keepalive=0, reconn=False)
c.connect()
got = []


def listen():
    try:
        got.append(("returned", c.wait_msg()))
    except Exception as e:
        got.append(("raised", e))


_thread.start_new_thread(listen, ())
sleep_ms(200)  # the listener is blocked in wait_msg()
c.disconnect()
c.connect()
ck.ok(poll_until(lambda: got, 3000), "the blocked wait_msg() came back")
ck.eq(got[:1], [("returned", None)], "it returned None")
c.disconnect()  # lets a listener still waiting go
poll_until(lambda: got, 2000)
ck.finish()
