# Review finding: connect() while the background thread is inside a
# reconnect (here: its credentials callback) raises OSError(EALREADY) but
# has already stopped the background thread (connect_op: stop_keeper()
# before login(), and no start_keeper() when login() raises). The
# reconnect then completes without a keeper: no PINGREQ is ever sent
# again (a real broker drops the client after 1.5 x keepalive) and no
# background reconnect follows.
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms, now_ms, elapsed_ms
from fake_broker import FakeBroker, CONNACK, read_packet, serve_silently

ck = Checker("review: connect() during a background reconnect")
pings = []


def handler(c, n):
    read_packet(c)
    c.send(CONNACK)
    if n == 0:
        sleep_ms(300)
        c.close()  # the first link dies: the background thread reconnects
        return
    serve_silently(c, lambda first, body: first == 0xC0 and pings.append(n))


b = FakeBroker(handler)
calls = [0]
in_creds = [False]


def creds():
    calls[0] += 1
    if calls[0] == 2:  # the background reconnect
        in_creds[0] = True
        sleep_ms(1500)
    return ("rv-conn-again", None, None)


events = []
c = MQTTClient("rv-conn-again", "127.0.0.1", b.port, keepalive=5)
c.set_credentials_cb(creds)
c.error_register_cb(events.append)
c.connect()
ck.ok(poll_until(lambda: in_creds[0], 5000), "background reconnect under way")
try:
    c.connect()
    ck.ok(True, "connect() during the background reconnect")
except ValueError as e:  # QuecPython's connect() failure
    print("  (second connect raised {!r})".format(e))
ck.ok(poll_until(lambda: b.accepted >= 2 and c.get_mqttsta() == 0, 10000), "connected again")
del pings[:]
t0 = now_ms()
poll_until(lambda: pings, 9000)  # keepalive 5 s: a PINGREQ by 5 s
ck.ok(bool(pings), "keepalive still serviced after the connect() that raced the reconnect "
      "({} PINGREQ in {} ms)".format(len(pings), elapsed_ms(t0)))
c.disconnect()
ck.finish()
