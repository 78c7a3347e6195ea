# Compatibility row "error_register_cb strings": by default the callback gets
# QuecPython's strings only ("reconnect_start", "reconnect_success", and with
# reconn=False the background thread's str(exc)); our further diagnostics
# (subscribe refusals, reconnect_stop, ...) only with error_register_cb(f, True).
from umqtt import MQTTClient
from mqtt_test_util import Checker, Errors, poll_until, sleep_ms
from fake_broker import FakeBroker, CONNACK, read_packet, serve_silently

ck = Checker("compat: error callback strings")
QUEC = ("reconnect_start", "reconnect_success")


def handler(c, n):
    read_packet(c)
    if n % 2 == 1:
        c.send(b"\x20\x02\x00\x05")  # the reconnect is refused: not authorized
        return
    c.send(CONNACK)

    def on_packet(first, body):
        if first == 0x82:  # SUBSCRIBE: refused
            c.send(b"\x90\x03" + body[:2] + b"\x80")

    c.settimeout(1.5)
    serve_silently(c, on_packet)  # then the link goes: a reconnect follows


for detail in (False, True):
    b = FakeBroker(handler)
    errs = Errors()
    c = MQTTClient("errstr", "127.0.0.1", b.port, keepalive=0)
    c.set_callback(lambda t, m: None)
    if detail:
        c.error_register_cb(errs, True)
    else:
        c.error_register_cb(errs)
    c.connect()
    c.subscribe("refused/topic", 1)
    ck.ok(poll_until(lambda: c.get_mqttsta() == -1, 10000), "detail={}: the refused reconnect ends in -1".format(detail))
    sleep_ms(200)
    extra = [e for e in errs.events if e not in QUEC]
    ck.ok("reconnect_start" in errs.events, "detail={}: reconnect_start told".format(detail))
    if detail:
        ck.ok(any(e.startswith("subscribe failed") for e in extra), "detail=True: the subscribe refusal is told")
        ck.ok(any(e.startswith("reconnect_stop") for e in extra), "detail=True: reconnect_stop is told")
    else:
        ck.eq(extra, [], "detail=False: nothing but QuecPython's strings")
    c.disconnect()
ck.finish()
