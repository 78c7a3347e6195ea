# Compatibility row "reconn=False: lost link reported": QuecPython's ping
# thread passes str(exc) to the error callback when the link fails and
# reconn=False (Quectel's reconnect example relies on it). Here the
# background thread does the same, once, also with keepalive=0 (an
# unanswered ping: test_compat_pingmaxnum). The script's own
# close()/disconnect() reports nothing.
import _thread
import errno
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms
from fake_broker import FakeBroker, CONNACK, read_packet

ck = Checker("compat: reconn=False link loss reaches error_register_cb")
main = _thread.get_ident()


def drop_after_connack(c, n):
    read_packet(c)
    c.send(CONNACK)
    sleep_ms(300)


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, msg):
        print("  [error_cb] {!r}".format(msg))
        self.calls.append((msg, _thread.get_ident()))


b = FakeBroker(drop_after_connack)
rec = Recorder()
c = MQTTClient("lost", "127.0.0.1", b.port, keepalive=0, reconn=False)
c.error_register_cb(rec)
c.connect()
ck.ok(poll_until(lambda: rec.calls, 5000), "the server's close is told without any script call")
sleep_ms(1500)
ck.eq(len(rec.calls), 1, "told once")
if rec.calls:
    msg, tid = rec.calls[0]
    ck.ok(isinstance(msg, str), "a str")
    ck.eq(msg, str(OSError(errno.ENOTCONN)), "str() of the network error (ENOTCONN: lwIP's after a FIN)")
    ck.ok(tid != main, "from the background thread")
ck.eq(c.get_mqttsta(), c.SEVCLOSE, "get_mqttsta() == SEVCLOSE")
c.disconnect()

# the script's own close() and disconnect() are not failures
b = FakeBroker(lambda c, n: (read_packet(c), c.send(CONNACK), read_packet(c)))
rec = Recorder()
c = MQTTClient("quiet", "127.0.0.1", b.port, reconn=False)
c.error_register_cb(rec)
c.connect()
c.close()
c.connect()
c.disconnect()
sleep_ms(1500)
ck.eq(rec.calls, [], "close() and disconnect(): nothing told")

ck.finish()
