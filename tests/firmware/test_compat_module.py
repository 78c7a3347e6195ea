# Compatibility row "module names": QuecPython's umqtt exports MQTTClient, its
# base class BaseMqtt and MQTTException; scripts import them either way.
import umqtt
from umqtt import MQTTClient, BaseMqtt, MQTTException
from mqtt_test_util import Checker

ck = Checker("compat: module names")
ck.ok(umqtt.MQTTClient is MQTTClient, "import umqtt; umqtt.MQTTClient")
ck.ok(umqtt.BaseMqtt is BaseMqtt, "umqtt.BaseMqtt")
ck.ok(issubclass(MQTTClient, BaseMqtt), "MQTTClient is a BaseMqtt")
ck.ok(isinstance(MQTTClient("m", "127.0.0.1"), BaseMqtt), "a client is an instance of BaseMqtt")
ck.ok(issubclass(MQTTException, Exception), "MQTTException is an Exception (QuecPython's)")
ck.ok(issubclass(MQTTException, ValueError), "MQTTException is a ValueError: `except ValueError` catches refusals")
e = MQTTException("x")
ck.eq(e.args, ("x",), "MQTTException carries its arguments")
ck.finish()
