# Compatibility row "constants": QuecPython's get_mqttsta() names, on the class
# and on an instance, with QuecPython's values.
from umqtt import MQTTClient, BaseMqtt
from mqtt_test_util import Checker

ck = Checker("compat: status constants")
want = {"CONNECTEXCE": -1, "CONNECTSUCCESS": 0, "ARECONNECT": 1, "SEVCLOSE": 2}
c = MQTTClient("k", "127.0.0.1")
for name, value in want.items():
    ck.eq(getattr(MQTTClient, name), value, "MQTTClient." + name)
    ck.eq(getattr(BaseMqtt, name), value, "BaseMqtt." + name)
    ck.eq(getattr(c, name), value, "client." + name)
ck.eq(c.get_mqttsta(), c.CONNECTEXCE, "never connected: get_mqttsta() == CONNECTEXCE")
ck.finish()
