# Compatibility row "constructor": QuecPython's signature and defaults, and
# the inputs its umqtt.py accepts: str or bytes, client_id None, version 3,
# port 0, manage, ipvtype 0/1, keepalive 0 or >= 5 (1..4: ValueError).
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid

ck = Checker("compat: constructor")
cid = uid("ctor")
c = MQTTClient(cid, HOST)
ck.eq((c.port, c.user, c.keepalive, c.ssl, c.reconn, c.mqttversion, c.pingmaxnum, c.manage, c.ipvtype),
      (1883, None, 0, False, True, 4, 0, False, 0), "defaults as QuecPython's")
ck.eq(MQTTClient(cid, HOST, ssl=True).port, 8883, "port=0 with ssl: 8883")
# all positional, QuecPython's order
c = MQTTClient(cid, HOST, PORT, None, None, 30, False, {}, False, 3, 2, True, 0)
ck.eq((c.keepalive, c.reconn, c.mqttversion, c.pingmaxnum, c.manage), (30, False, 3, 2, True),
      "thirteen positional arguments in QuecPython's order")
for ka in (1, 4, -1):
    ck.raises(ValueError, lambda: MQTTClient(cid, HOST, keepalive=ka), "keepalive={}: ValueError".format(ka))
ck.eq(MQTTClient(cid, HOST, keepalive=5).keepalive, 5, "keepalive=5 accepted")
# version=3 (MQTT 3.1) and bytes everywhere connect for real
c = MQTTClient(cid.encode(), HOST.encode(), PORT, b"u", b"p", version=3, reconn=False)
ck.eq(c.connect(), 0, "version=3 with bytes arguments connects")
ck.eq(c.get_mqttsta(), 0, "connected")
c.disconnect()
# client_id None: QuecPython sends no id; here an empty one (clean session)
c = MQTTClient(None, HOST, PORT, reconn=False)
ck.eq(c.client_id, None, "client_id None kept")
ck.eq(c.connect(), 0, "client_id None connects (empty id, clean session)")
c.disconnect()
ck.ok(MQTTClient(cid, HOST, ipvtype=1).ipvtype == 1, "ipvtype=1 accepted")
ck.raises(ValueError, lambda: MQTTClient(cid, HOST, ipvtype=2), "ipvtype=2: ValueError")
ck.raises(TypeError, lambda: MQTTClient(cid, HOST, ssl_params="x"), "ssl_params not a dict: TypeError")
ck.finish()
