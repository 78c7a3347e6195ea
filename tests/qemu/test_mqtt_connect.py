# CONNECT as the client writes it, CONNACK handling, DISCONNECT
# (expected bytes written out by hand from MQTT 3.1.1, sections 3.1, 3.2, 3.14).
from memstream import *

# 1. client id, user name, password, keepalive 60, clean session
s = MemStream()
c = umqtt.MQTTClient("qpy-arm-1", "offline.invalid", user="user1", password="pass1", keepalive=60)
s.feed(b"\x20\x02\x00\x00")
r = c.connect(sock=s)
want = (b"\x10\x23"                     # CONNECT, remaining length 35
        b"\x00\x04MQTT\x04"              # protocol name, level 4 (3.1.1)
        b"\xc2"                          # user name, password, clean session
        b"\x00\x3c"                      # keepalive 60 s
        b"\x00\x09qpy-arm-1"
        b"\x00\x05user1"
        b"\x00\x05pass1")
check("connect bytes", s.take(), want)
check("connect returns 0 (no session present)", r, 0)
check("state connected", c.get_mqttsta(), 0)
c.disconnect()
check("disconnect bytes", s.take(), b"\xe0\x00")
check("stream closed", s.closed, True)
check("state closed", c.get_mqttsta(), -1)

# 2. last will (retain, QoS 1), clean_session=False, no credentials,
#    keepalive 0; the server answers "session present"
s = MemStream()
c = umqtt.MQTTClient(b"dev", "offline.invalid")
c.set_last_will("lw/t", b"bye", retain=True, qos=1)
s.feed(b"\x20\x02\x01\x00")
r = c.connect(clean_session=False, sock=s)
want = (b"\x10\x1a"                     # remaining length 10 + 5 + 6 + 5 = 26
        b"\x00\x04MQTT\x04"
        b"\x2c"                          # will retain, will QoS 1, will flag
        b"\x00\x00"
        b"\x00\x03dev"
        b"\x00\x04lw/t"
        b"\x00\x03bye")
check("connect with will", s.take(), want)
check("connect returns 0 (QuecPython's)", r, 0)
check("session_present", c.session_present, True)
c.disconnect()
s.take()

# 3. MQTT 3.1 (version=3): protocol name MQIsdp, level 3; empty password
s = MemStream()
c = umqtt.MQTTClient("v3", "offline.invalid", user="u", password="", version=3)
s.feed(b"\x20\x02\x00\x00")
c.connect(sock=s)
want = (b"\x10\x15"                     # remaining length 12 + 4 + 3 + 2 = 21
        b"\x00\x06MQIsdp\x03"
        b"\xc2"
        b"\x00\x00"
        b"\x00\x02v3"
        b"\x00\x01u"
        b"\x00\x00")
check("connect v3.1", s.take(), want)
c.disconnect()

# 4. CONNACK split over two reads, byte by byte
s = MemStream(chunk=1)
c = umqtt.MQTTClient("x", "offline.invalid")
s.feed(b"\x20\x02\x00\x00")
c.connect(sock=s)
check("connack byte by byte", (c.get_mqttsta(), s.reads), (0, 4))
c.disconnect()
