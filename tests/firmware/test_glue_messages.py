# The glues' argument errors (umqtt, _huaweicloud) keep their exact types and texts, and publish()
# and set_last_will() parse (topic, msg, retain=False, qos=0) alike, by
# position and by keyword (they share one parser; the messages share format
# strings: a size change must not change what a script sees). No broker.
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid

ck = Checker("glue messages")
cid = uid("msg")


def text(exc_type, fn, what, want):
    e = ck.raises(exc_type, fn, what)
    if isinstance(e, exc_type):
        ck.eq(str(e), want, what + ": text")


text(ValueError, lambda: MQTTClient(cid, HOST, -1), "port=-1", "port must be 0..65535")
text(ValueError, lambda: MQTTClient(cid, HOST, 65536), "port=65536", "port must be 0..65535")
text(ValueError, lambda: MQTTClient(cid, HOST, PORT, pingmaxnum=256), "pingmaxnum=256", "pingmaxnum must be 0..255")
text(ValueError, lambda: MQTTClient(cid, HOST, PORT, pingmaxnum=-1), "pingmaxnum=-1", "pingmaxnum must be 0..255")
text(ValueError, lambda: MQTTClient(cid, HOST, PORT, queue_size=17), "queue_size=17", "queue_size must be 0..16")
text(ValueError, lambda: MQTTClient(cid, HOST, PORT, keepalive=3), "keepalive=3",
     "keepalive must be 0 or 5..65535 seconds")
text(ValueError, lambda: MQTTClient(cid, HOST, PORT, version=5), "version=5",
     "version must be 3 (MQTT 3.1) or 4 (MQTT 3.1.1)")
text(ValueError, lambda: MQTTClient(cid, HOST, PORT, ipvtype=2), "ipvtype=2", "ipvtype must be 0 (IPv4) or 1 (IPv6)")
text(ValueError, lambda: MQTTClient(cid, HOST, PORT, ssl_params={"ca_cert": "x"}), "ssl_params typo",
     "ssl_params: unknown key 'ca_cert'")
for port, pingmaxnum, queue_size in ((0, 0, 0), (65535, 255, 16)):
    c = MQTTClient(cid, HOST, port, pingmaxnum=pingmaxnum, queue_size=queue_size)
    ck.eq((c.port, c.pingmaxnum), (port or 1883, pingmaxnum), "bounds accepted: port %d, pingmaxnum %d, queue_size %d"
          % (port, pingmaxnum, queue_size))

c = MQTTClient(cid, HOST, PORT)
# set_last_will: positional, keyword, mixed
c.set_last_will("w/1", b"gone", True, 2)
ck.eq((c.lw_topic, c.lw_msg, c.lw_retain, c.lw_qos), ("w/1", b"gone", True, 2), "set_last_will positional")
c.set_last_will(topic="w/2", msg="bye", qos=1)
ck.eq((c.lw_topic, c.lw_msg, c.lw_retain, c.lw_qos), ("w/2", "bye", False, 1), "set_last_will keywords")
c.set_last_will("w/3", bytearray(b"ba"), qos=0, retain=1)
ck.eq((c.lw_topic, c.lw_msg, c.lw_retain, c.lw_qos), ("w/3", b"ba", True, 0), "set_last_will mixed (bytearray frozen)")
text(AssertionError, lambda: c.set_last_will("w/4", b"x", False, 3), "set_last_will qos=3 positional",
     "set_last_will: topic and qos 0..2")
text(AssertionError, lambda: c.set_last_will("", b"x"), "set_last_will empty topic", "set_last_will: topic and qos 0..2")
ck.raises(TypeError, lambda: c.set_last_will("w/5"), "set_last_will without msg")
ck.raises(TypeError, lambda: c.set_last_will("w/5", b"x", False, 0, 9), "set_last_will with five arguments")
ck.raises(TypeError, lambda: c.set_last_will("w/5", b"x", nosuch=1), "set_last_will unknown keyword")
ck.eq((c.lw_topic, c.lw_qos), ("w/3", 0), "failed set_last_will calls changed nothing")

# publish: argument errors come before anything is sent (offline here)
text(ValueError, lambda: c.publish("p/1", b"x", False, 3), "publish qos=3 positional", "qos must be 0, 1 or 2")
text(ValueError, lambda: c.publish(topic="p/1", msg=b"x", qos=-1), "publish qos=-1 keyword", "qos must be 0, 1 or 2")
text(TypeError, lambda: c.publish(1, b"x"), "publish topic=1", "expected str or bytes")
text(TypeError, lambda: c.publish("p/1", 5), "publish msg=5", "message must be str, bytes or a buffer")
ck.raises(TypeError, lambda: c.publish("p/1"), "publish without msg")
ck.raises(TypeError, lambda: c.publish("p/1", b"x", False, 0, 9), "publish with five arguments")
ck.raises(TypeError, lambda: c.publish("p/1", b"x", nosuch=1), "publish unknown keyword")
ck.raises(OSError, lambda: c.publish("p/1", b"x", qos=1), "publish before connect(): OSError")

# _huaweicloud: the argument's name in type errors
import _huaweicloud as hc

text(TypeError, lambda: hc.conninfo(1, "s", 0), "conninfo device_id=1", "device_id must be str or bytes")
text(TypeError, lambda: hc.conninfo("d", 2, 0), "conninfo secret=2", "secret must be str or bytes")
text(TypeError, lambda: hc.topic(hc.COMMAND_RESPONSE, "d", 5), "topic request_id=5", "request_id must be str or bytes")
text(TypeError, lambda: hc.topic(hc.PROPERTIES_REPORT, "d", query=5), "topic query=5", "query must be str or bytes")
text(TypeError, lambda: hc.parse_topic(5, "d"), "parse_topic topic=5", "topic must be str or bytes")
text(TypeError, lambda: hc.check_id(5), "check_id 5", "id must be str or bytes")
text(TypeError, lambda: hc.subscriptions(None), "subscriptions None", "device_id must be str or bytes")
offset = hc.get_time_offset()
text(TypeError, lambda: hc.time_sync("1", 2, 3), "time_sync device_send_time='1'", "device_send_time must be an int")
text(TypeError, lambda: hc.time_sync(1, 2.5, 3), "time_sync server_recv_time=2.5", "server_recv_time must be an int")
text(TypeError, lambda: hc.time_sync(1, 2, None), "time_sync server_send_time=None", "server_send_time must be an int")
ck.eq(hc.get_time_offset(), offset, "failed time_sync calls left the clock offset alone")
ck.ok(isinstance(hc.time_sync(1, 2, 3), int), "time_sync with ints still works")
hc.set_time_offset(offset)
ck.finish()
