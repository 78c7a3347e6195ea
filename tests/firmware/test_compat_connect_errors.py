# Compatibility row "connect() failures": QuecPython's connect() wraps every
# failure in a ValueError with one str argument, in its words:
#   refused/reset port  MQTT Connect Error='<errno>' Server Actively RST Disconnected.Need Check addr&port
#   FIN before CONNACK  MQTT Connect Error='<errno>' Server Actively FIN Disconnected.Need Check Connection parameters
#   DNS failure         MQTT Connect error='DNS Parsing '<server>'' FAIL
#   CONNACK refusal     MQTT Connect error='<code>' FAIL   (here an MQTTException, a ValueError)
# so `except ValueError` retry loops work and str(e) is the message.
import errno
import socket
from umqtt import MQTTClient, MQTTException
from mqtt_test_util import HOST, Checker, require_env
from fake_broker import FakeBroker, read_packet

ck = Checker("compat: connect() failures")
ap = int(require_env("MQTT_AUTH_PORT"))


def failure(make, what):
    c = make()
    try:
        c.connect()
    except Exception as e:
        print("  info: {}: {}: {}".format(what, type(e).__name__, e))
        ck.ok(isinstance(e, ValueError), what + ": a ValueError")
        ck.eq(len(e.args), 1, what + ": one argument")
        ck.ok(isinstance(e.args[0], str) and str(e) == e.args[0], what + ": str(e) is the message")
        ck.eq(c.get_mqttsta(), -1, what + ": get_mqttsta() -1")
        return e
    ck.ok(False, what + ": connect() did not raise")
    return None


# a port nobody listens on
free = None
for port in range(41000, 41200):
    try:
        probe = socket.socket()
        probe.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])
        probe.close()
    except OSError:
        probe.close()
        free = port
        break
for reconn in (False, True):
    e = failure(lambda: MQTTClient("ce", "127.0.0.1", free, reconn=reconn), "refused port reconn={}".format(reconn))
    if e:
        ck.ok(e.args[0].startswith("MQTT Connect Error='") and
              e.args[0].endswith("' Server Actively RST Disconnected.Need Check addr&port"), "refused port: QuecPython's text")
        ck.ok(type(e) is ValueError, "refused port: ValueError itself")

e = failure(lambda: MQTTClient("ce", "no-such-host.invalid", 1883), "DNS failure")
if e:
    ck.eq(e.args[0], "MQTT Connect error='DNS Parsing 'no-such-host.invalid'' FAIL", "DNS failure: QuecPython's text")

b = FakeBroker(lambda c, n: read_packet(c))  # reads CONNECT, then closes
e = failure(lambda: MQTTClient("ce", "127.0.0.1", b.port, reconn=False), "FIN before CONNACK")
if e:
    ck.eq(e.args[0], "MQTT Connect Error='%d' Server Actively FIN Disconnected.Need Check Connection parameters"
          % errno.ENOTCONN, "FIN before CONNACK: QuecPython's text (ENOTCONN, lwIP's errno after a FIN)")

e = failure(lambda: MQTTClient("ce", HOST, ap, "nobody", "wrong", reconn=False), "CONNACK refusal")
if e:
    ck.ok(isinstance(e, MQTTException), "CONNACK refusal: an MQTTException")
    ck.eq(str(e), "MQTT Connect error='5' FAIL", "CONNACK refusal: QuecPython's text")

# the QuecPython retry loop
tries = 0
c = MQTTClient("ce", "127.0.0.1", free, reconn=False)
while tries < 3:
    try:
        c.connect()
        break
    except ValueError:
        tries += 1
ck.eq(tries, 3, "`except ValueError` retry loop runs")
ck.finish()
