# Compatibility row "pingmaxnum": how many unanswered PINGREQs are tolerated
# before the link is declared dead; with reconn=False the error callback then
# gets QuecPython's "Send ping timeout." from the background thread.
import _thread
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until
from fake_broker import FakeBroker, CONNACK, read_packet

ck = Checker("compat: pingmaxnum and the ping timeout")
main = _thread.get_ident()


class Case:
    def __init__(self, pingmaxnum):
        self.pings = 0
        self.told = []
        self.broker = FakeBroker(self.never_answer)
        self.c = MQTTClient("pmn%d" % pingmaxnum, "127.0.0.1", self.broker.port, keepalive=5,
                            reconn=False, pingmaxnum=pingmaxnum)
        self.c.error_register_cb(self.on_error)
        self.c.connect()

    def never_answer(self, s, n):
        read_packet(s)
        s.send(CONNACK)
        while True:
            p = read_packet(s)
            if p is None:
                return
            if p[0] == 0xC0:
                self.pings += 1  # no PINGRESP

    def on_error(self, msg):
        print("  [error_cb] {!r} after {} PINGREQ".format(msg, self.pings))
        self.told.append((msg, self.pings, _thread.get_ident()))


cases = [Case(0), Case(1)]  # side by side: one wait for both
ck.ok(poll_until(lambda: all(k.told for k in cases), 20000), "both links declared dead")
for k, pings in zip(cases, (1, 2)):
    if k.told:
        msg, seen, tid = k.told[0]
        ck.eq(msg, "Send ping timeout.", "pingmaxnum={}: QuecPython's words".format(pings - 1))
        ck.eq(seen, pings, "pingmaxnum={}: {} unanswered PINGREQ first".format(pings - 1, pings))
        ck.ok(tid != main, "from the background thread")
    ck.eq(k.c.get_mqttsta(), 2, "state 2 (SEVCLOSE)")
    k.c.disconnect()
ck.finish()
