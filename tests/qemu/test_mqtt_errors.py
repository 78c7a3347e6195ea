# Refused CONNACKs raise umqtt.MQTTException("MQTT Connect error='<code>' FAIL")
# (QuecPython's text; MQTT 3.1.1, 3.2.2.3);
# malformed or unexpected packets from the server raise cleanly, close the
# stream and leave the client usable for a new connect().
from memstream import *
import errno

# refused CONNACK: every return code 1..5
for code in range(1, 6):
    s = MemStream()
    c = umqtt.MQTTClient("r", "offline.invalid", user="u", password="p")
    s.feed(bytes([0x20, 0x02, 0x00, code]))
    try:
        c.connect(sock=s)
        print("FAIL refused", code, "did not raise")
    except umqtt.MQTTException as e:
        check("refused %d" % code, (e.args, isinstance(e, ValueError), s.closed, c.get_mqttsta()),
              (("MQTT Connect error='%d' FAIL" % code,), True, True, -1))


def server_sends(name, data, chunk=0):
    # the client is connected; the server then sends data; the next
    # check_msg must raise (MQTTException or OSError), not crash or hang
    c, s = connected("m", chunk=chunk)
    c.set_callback(lambda t, m: print("FAIL callback", name, t, m))
    s.feed(data)
    try:
        for _ in range(8):
            c.check_msg()
        print("FAIL", name, "did not raise")
    except (umqtt.MQTTException, OSError) as e:
        check(name, (type(e).__name__, s.closed, c.get_mqttsta()),
              ("MQTTException", True, 2))
    return c


# remaining length with a fifth continuation byte (2.2.3: at most four)
server_sends("remaining length > 4 bytes", b"\x30\xff\xff\xff\xff\x7f")
# PUBACK with reserved flag bits set (2.2.2: must be 0000)
server_sends("puback reserved flags", b"\x41\x02\x00\x01")
# PUBLISH with QoS 3 (3.3.1.2: malformed)
server_sends("publish qos 3", b"\x36\x07\x00\x03s/x\x00\x01")
# topic name not valid UTF-8 (1.5.3)
server_sends("topic not utf-8", b"\x30\x05\x00\x02\xc3\x28x")
# wildcard in a PUBLISH topic name (3.3.2.1)
server_sends("wildcard in topic name", b"\x30\x05\x00\x03a/#")
# PINGRESP with a remaining length of 1 (3.13: remaining length 0)
server_sends("pingresp with body", b"\xd0\x01\x00")
# a server never sends CONNECT (3.1: client to server only)
server_sends("connect from server", b"\x10\x02\x00\x00", chunk=1)
# reserved packet type 15
server_sends("reserved type 15", b"\xf0\x00")
# a second CONNACK (3.2: once, after CONNECT)
server_sends("second connack", b"\x20\x02\x00\x00")

# PUBLISH before CONNACK: connect() raises
s = MemStream()
c = umqtt.MQTTClient("early", "offline.invalid")
s.feed(b"\x30\x05\x00\x01t" + b"ab" + b"\x20\x02\x00\x00")
try:
    c.connect(sock=s)
    print("FAIL publish before connack did not raise")
except (umqtt.MQTTException, OSError) as e:
    check("publish before connack", (type(e).__name__, s.closed, c.get_mqttsta()),
          ("MQTTException", True, -1))


# the server closes the stream (read returns 0) before CONNACK: QuecPython's FIN text
class Eof(MemStream):
    def readinto(self, buf):
        return 0

    def ioctl(self, req, arg):
        if req == MP_STREAM_POLL:
            return arg & (POLL_RD | POLL_WR)
        return MemStream.ioctl(self, req, arg)


e = Eof()
c = umqtt.MQTTClient("eof", "offline.invalid")
e.feed(b"\x20\x02\x00\x00")
try:
    c.connect(sock=e)
    print("FAIL eof during connect did not raise")
except ValueError as ex:  # QuecPython wraps every connect() failure
    check("eof during connect", (str(ex), e.closed, c.get_mqttsta()),
          ("MQTT Connect Error='%d' Server Actively FIN Disconnected.Need Check Connection parameters"
           % errno.ENOTCONN, True, -1))

# a client whose link failed connects again over a new stream
c = server_sends("for reuse", b"\xf0\x00")
s = MemStream()
s.feed(CONNACK_OK)
c.connect(sock=s)
check("reconnect over a new stream", (c.get_mqttsta(), s.take()[:2]), (0, b"\x10\x0d"))
c.disconnect()

# operations on a closed client raise OSError (ENOTCONN)
try:
    c.publish("t", "x")
    print("FAIL publish after disconnect did not raise")
except OSError as ex:
    check("publish after disconnect", type(ex).__name__, "OSError")

# bad arguments are refused before anything is sent
c, s = connected("args")
for name, f in (("publish qos 3 argument", lambda: c.publish("t", "x", qos=3)),
                ("publish wildcard topic", lambda: c.publish("t/+", "x")),
                ("publish empty topic", lambda: c.publish("", "x"))):
    try:
        f()
        print("FAIL", name, "did not raise")
    except ValueError:
        check(name, s.take(), b"")
c.disconnect()
