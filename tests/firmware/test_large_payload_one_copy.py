# HARNESS-ARGS: -X heapsize=2300K
# Receiving a 1 MiB message must cost about one copy of it on the heap: the
# receive buffer becomes the payload object. On this heap, the published
# payload (1 MiB) plus one received copy fits; a second copy would not.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until
import gc

ck = Checker("1 MiB received with one copy")
inbox = Inbox(ck)
cid = uid("onecopy")
topic = "umqtt-test/{}/big".format(cid)
c = MQTTClient(cid, HOST, PORT, keepalive=30)
c.set_callback(inbox)
c.connect()
c.subscribe(topic, 1)
payload = bytes(range(256)) * 4096
gc.collect()
ck.ok(c.publish(topic, payload, qos=1) is True, "publish 1 MiB at qos 1")
got = poll_until(lambda: len(inbox.msgs) > 0, 20000, [c], interval_ms=1)
ck.ok(got, "1 MiB message received")
if got:
    ck.ok(inbox.msgs[0][1] == payload, "payload byte for byte")
c.disconnect()
ck.finish()
