# Review finding: publish(qos=1) waiting for its PUBACK returns True ("sent
# and acknowledged") when another thread disconnect()s / close()s the
# client meanwhile, although no PUBACK ever came and a clean session drops
# the message: publish_op's PUMP_OFFLINE branch (and the write-failed one)
# only asks can_reconnect() (reconn and no sock=), not whether the client
# was shut down by the script. Same in request_op: subscribe() waiting for
# its SUBACK returns None (success) after disconnect() (PUMP_OFFLINE ->
# can_reconnect() -> no raise), although nothing will ever restore it.
import _thread
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms
from fake_broker import FakeBroker, CONNACK, read_packet, serve_silently

ck = Checker("review: publish after disconnect is not acknowledged")
got = []


def never_ack(c, n):
    read_packet(c)
    c.send(CONNACK)
    serve_silently(c, lambda first, body: got.append(first))


b = FakeBroker(never_ack)
for how in ("disconnect", "close"):
    for reconn in (True, False):
        c = MQTTClient("rv-pub-" + how, "127.0.0.1", b.port, keepalive=0, reconn=reconn)
        c.connect()
        res = []

        def pub():
            try:
                res.append(c.publish("rv/t", b"x", qos=1))
            except Exception as e:
                res.append(e)

        _thread.start_new_thread(pub, ())
        poll_until(lambda: 0x32 in got, 3000)
        sleep_ms(200)  # the publisher is in its PUBACK wait now
        getattr(c, how)()
        poll_until(lambda: res, 8000)
        ck.ok(res and res[0] is not True,
              "{}() during the PUBACK wait (reconn={}): publish must not return True, got {!r}".format(
                  how, reconn, res))
        del got[:]
c = MQTTClient("rv-sub-disconnect", "127.0.0.1", b.port, keepalive=0)
c.set_callback(lambda t, m: None)
c.connect()
res = []


def sub():
    try:
        res.append(c.subscribe("rv/s", 1))
    except Exception as e:
        res.append(e)


_thread.start_new_thread(sub, ())
poll_until(lambda: 0x82 in got, 3000)
sleep_ms(200)
c.disconnect()
poll_until(lambda: res, 8000)
ck.ok(res and isinstance(res[0], Exception),
      "disconnect() during the SUBACK wait: subscribe must raise, got {!r}".format(res))
ck.finish()
