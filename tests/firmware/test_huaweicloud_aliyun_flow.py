# huaweicloud in QuecPython's documented aLiYun order: setMqtt (connects,
# 0/-1) -> setCallback -> subscribe (0/-1) -> publish (0/-1) -> start
# (listener) -> getHuaweiCloudSta -> ping -> disconnect. mosquitto plays the
# platform; a second umqtt client publishes the downlink.
import huaweicloud as hc
from huaweicloud import HuaweiCloud
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, Inbox, uid, poll_until, sleep_ms

ck = Checker("huaweicloud: the aLiYun order of calls")
DEV = uid("hwa").replace("-", "_")
T = "$oc/devices/" + DEV
plat_in = Inbox()
plat = MQTTClient(DEV + "-platform", HOST, PORT, keepalive=30)
plat.set_callback(plat_in)
plat.connect()
plat.subscribe(T + "/user/#", 1)

got = Inbox()
dev = HuaweiCloud(DEV, "s3cret", HOST, PORT, ssl=False)
ck.eq(dev.getHuaweiCloudSta(), -1, "not set up: -1")
ck.eq(dev.setMqtt(keepAlive=60), 0, "setMqtt() connects: 0")
ck.eq(dev.getHuaweiCloudSta(), 0, "connected after setMqtt()")
dev.setCallback(got)
ck.eq(dev.subscribe(T + "/user/down", 1), 0, "subscribe() before start(): 0")
ck.eq(dev.publish(T + "/user/up", "hello", 1), 0, "publish() before start(): 0")
ck.ok(poll_until(lambda: plat_in.find((T + "/user/up").encode(), b"hello"), 5000, [plat]), "uplink seen by the platform")
dev.start()
plat.publish(T + "/user/down", b"down-1", qos=1)
ck.ok(poll_until(lambda: got.find((T + "/user/down").encode(), b"down-1"), 5000, [plat]),
      "listener started by start() delivers to setCallback's callback")
ck.eq(dev.ping(), None, "ping()")
ck.eq(dev.publish(T + "/user/up", "after-start"), 0, "publish() after start(): 0")
dev.disconnect()
sleep_ms(100)
ck.eq(dev.getHuaweiCloudSta(), -1, "disconnect(): -1")
ck.eq(dev.publish(T + "/user/up", "x"), -1, "publish() after disconnect(): -1")
bad = HuaweiCloud(DEV, "s3cret", HOST, 1, ssl=False)
ck.eq(bad.setMqtt(reconn=False), -1, "setMqtt() to a closed port: -1")
ck.eq(bad.subscribe(T + "/user/down"), -1, "subscribe() when setMqtt failed: -1")
plat.disconnect()
ck.finish()
