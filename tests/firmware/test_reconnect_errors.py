# Issue 10, defect 3: any exception in a background reconnect (here the
# credentials callback raising ValueError, then MemoryError) is told to the
# error callback and the client goes on reconnecting; it never wedges. Before:
# such exceptions were swallowed unreported (or, after the state had become
# CONNECTING, left the client there for good).
from umqtt import MQTTClient
from mqtt_test_util import (HOST, PORT, Checker, Errors, uid, poll_until, harness, ack_present)

ck = Checker("exceptions in background reconnects")
cid = uid("re")
calls = [0]


def credentials():
    calls[0] += 1
    if calls[0] == 2:
        raise ValueError("credential store unavailable")
    if calls[0] == 3:
        raise MemoryError("no memory for credentials")
    return (cid, None, None)


errs = Errors()
c = MQTTClient(cid, HOST, PORT, keepalive=10)
c.error_register_cb(errs, True)  # our reports too
c.set_credentials_cb(credentials)
c.connect()
harness("restart-broker", "re1", 1)
ck.ok(poll_until(lambda: ack_present("re1.up"), 30000), "broker back")
ck.ok(poll_until(lambda: errs.count("reconnect_success") > 0, 30000), "reconnected in the end")
ck.ok("credential store unavailable" in errs.events, "the ValueError was told to the error callback")
ck.ok("no memory for credentials" in errs.events, "the MemoryError was told to the error callback")
ck.ok(calls[0] >= 4, "attempts went on after the exceptions ({} calls)".format(calls[0]))
ck.eq(c.get_mqttsta(), 0, "connected")
c.disconnect()
ck.finish()
