# CONNACK refusals raise MQTTException, a subclass of ValueError, whose one
# argument is QuecPython's message "MQTT Connect error='<code>' FAIL". Uses the
# harness's password-protected broker.
from umqtt import MQTTClient, MQTTException
from mqtt_test_util import HOST, PORT, Checker, Errors, uid, require_env, poll_until, sleep_ms
import umqtt

ck = Checker("connect refused")
# the harness's password broker
ap = int(require_env("MQTT_AUTH_PORT"))
user, pw = require_env("MQTT_AUTH_USER"), require_env("MQTT_AUTH_PASS")
ck.ok(issubclass(MQTTException, ValueError), "MQTTException is a subclass of ValueError")
ck.ok(umqtt.MQTTException is MQTTException and umqtt.MQTTClient is MQTTClient, "import umqtt; umqtt.MQTTClient")


def refused(code, what, make, clean=True):
    c = make()
    try:
        c.connect(clean_session=clean)
    except MQTTException as e:
        ck.ok(isinstance(e, ValueError), what + ": exception is a ValueError")
        ck.eq(e.args, ("MQTT Connect error='{}' FAIL".format(code),), what + ": QuecPython's message, the CONNACK code in it")
        print("  info: message: {}".format(e))
        return c
    except Exception as e:
        ck.ok(False, "{}: raised {} ({}), not MQTTException".format(what, type(e).__name__, e))
        return c
    ck.ok(False, what + ": connect() did not raise")
    return c


cid = uid("ref")
# MQTT 3.1.1: empty client id with clean_session=False must be refused with 2
refused(2, "empty client id + clean_session=False", lambda: MQTTClient("", HOST, PORT, reconn=False), clean=False)
# empty client id with a clean session is valid (the id field must be present)
c = MQTTClient(b"", HOST, PORT, reconn=False)
try:
    c.connect()
    ck.ok(True, "empty client id + clean session connects")
    c.disconnect()
except Exception as e:
    ck.ok(False, "empty client id + clean session: {!r}".format(e))

# password refusals (the password broker)
refused(5, "wrong password", lambda: MQTTClient(cid, HOST, ap, user, "wrong", reconn=False))
refused(5, "no credentials", lambda: MQTTClient(cid, HOST, ap, reconn=False))
refused(5, "unknown user", lambda: MQTTClient(cid, HOST, ap, "nobody", pw, reconn=False))
# the same with the default reconn=True: still raises, and no endless retry
errs = Errors()
c = MQTTClient(cid + "-r", HOST, ap, user, "wrong")
c.error_register_cb(errs)
refused(5, "wrong password with reconn=True", lambda: c)
sleep_ms(3000)
ck.ok(errs.count("reconnect_start") == 0, "no reconnect attempts after an authentication refusal")
ck.ok(c.get_mqttsta() != 0, "not connected after refusal (get_mqttsta {})".format(c.get_mqttsta()))
# right credentials, str and bytes
for u, p in ((user, pw), (user.encode(), pw.encode())):
    c = MQTTClient(cid + "-ok", HOST, ap, u, p, reconn=False)
    try:
        r = c.connect()
        ck.ok(not r and c.get_mqttsta() == 0, "right credentials ({}) connect".format(type(u).__name__))
        c.disconnect()
    except Exception as e:
        ck.ok(False, "right credentials ({}): {!r}".format(type(u).__name__, e))

# the exception can be caught the QuecPython way (ValueError) and the micropython-lib way
try:
    MQTTClient("", HOST, PORT, reconn=False).connect(False)
    ck.ok(False, "expected a refusal")
except ValueError as e:
    ck.ok(True, "refusal caught as ValueError ({})".format(e))
ck.finish()
