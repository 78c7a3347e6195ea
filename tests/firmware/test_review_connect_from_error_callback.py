# Review finding (wedged client): an error callback that answers
# "reconnect_start" with its own connect() (QuecPython scripts do) while the
# server is still down ends all reconnecting for good, although reconn=True:
# connect_op stops the keeper first (stop_keeper), the script login fails
# and leaves the session CLOSED, and no keeper is started again. The server
# comes back; the client stays at get_mqttsta() == -1.
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms
from fake_broker import FakeBroker, CONNACK, read_packet, serve_silently

ck = Checker("review: connect() from the error callback while the server is down")
mode = ["up"]


def handler(c, n):
    read_packet(c)
    if mode[0] == "down":
        return  # no CONNACK: closed
    c.send(CONNACK)
    if n == 0:
        sleep_ms(300)
        return  # the first link dies
    serve_silently(c)


b = FakeBroker(handler)
tried = []
c = MQTTClient("rv-errcb-connect", "127.0.0.1", b.port, keepalive=5)


def on_error(msg):
    if msg == "reconnect_start" and not tried:
        try:
            c.connect()
            tried.append("ok")
        except Exception as e:
            tried.append(e)


c.error_register_cb(on_error)
c.connect()
mode[0] = "down"
ck.ok(poll_until(lambda: tried, 5000), "the error callback tried connect(): {!r}".format(tried))
sleep_ms(1000)
mode[0] = "up"
ck.ok(poll_until(lambda: c.get_mqttsta() == 0, 20000),
      "reconn=True: connected again once the server is back (get_mqttsta {})".format(c.get_mqttsta()))
c.disconnect()
ck.finish()
