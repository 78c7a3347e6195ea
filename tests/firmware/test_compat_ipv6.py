# Compatibility row "ipvtype=1": IPv6, the first AF_INET6 address
# getaddrinfo gives (QuecPython's rule); no IPv6 address is QuecPython's
# "DNS Parsing IPV6 Fail". Runs against mosquitto on ::1 when the machine
# has IPv6 loopback (MQTT_PORT6, set by the harness).
from umqtt import MQTTClient
from mqtt_test_util import Checker, Inbox, env, uid, poll_until

ck = Checker("compat: ipvtype=1 (IPv6)")
c = MQTTClient("v6", "127.0.0.1", 1883, ipvtype=1, reconn=False)
try:
    c.connect()
    ck.ok(False, "an IPv4-only server with ipvtype=1 must fail")
except ValueError as e:
    ck.eq(str(e), "MQTT Connect error='DNS Parsing IPV6 Fail' FAIL", "IPv4-only server: QuecPython's text")
port6 = env("MQTT_PORT6")
if not port6:
    print("  info: no IPv6 loopback on this machine: the ::1 broker part is not run")
else:
    cid = uid("v6")
    t = "v6/" + cid
    inbox = Inbox(ck)
    c = MQTTClient(cid, "::1", int(port6), ipvtype=1, reconn=False)
    c.set_callback(inbox)
    ck.eq(c.connect(), 0, "connected to mosquitto on [::1]")
    c.subscribe(t, 1)
    ck.eq(c.publish(t, b"over v6", qos=1), True, "QoS 1 over IPv6")
    ck.ok(poll_until(lambda: inbox.find(msg=b"over v6"), 5000, [c]), "received over IPv6")
    c.disconnect()
    c = MQTTClient(cid, "::1", int(port6), reconn=False)
    ck.eq(c.connect(), 0, "ipvtype=0 with an IPv6 literal: the address getaddrinfo gives")
    c.disconnect()
ck.finish()
