# Compatibility row "set_last_will": QuecPython asserts 0 <= qos <= 2 and a
# non-empty topic (AssertionError). A topic with wildcards, which the
# broker would answer by closing the link, is a ValueError here (ours).
from umqtt import MQTTClient
from mqtt_test_util import Checker

ck = Checker("compat: set_last_will")
c = MQTTClient("lw", "127.0.0.1")
ck.raises(AssertionError, lambda: c.set_last_will("t", "m", False, 3), "qos=3: AssertionError")
ck.raises(AssertionError, lambda: c.set_last_will("t", "m", qos=-1), "qos=-1: AssertionError")
ck.raises(AssertionError, lambda: c.set_last_will("", "m"), "empty topic: AssertionError")
ck.raises(AssertionError, lambda: c.set_last_will(None, "m"), "topic None: AssertionError")
ck.raises(ValueError, lambda: c.set_last_will("a/#", "m"), "wildcard topic: ValueError (ours)")
ck.eq(c.set_last_will("t", "m", True, 2), None, "a valid will: None")
ck.eq((c.lw_topic, c.lw_msg, c.lw_retain, c.lw_qos), ("t", "m", True, 2), "kept")
ck.finish()
