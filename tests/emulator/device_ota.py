# The device side of tests/emulator/test_ota_e2e.py (and make demo-ota), on
# the firmware: a HuaweiCloud client with huaweicloud_ota installing packages
# into OTA_PATH. Prints one "OTA ..." line per event for the driver; stops
# when the file OTA_PATH + ".stop" appears.
import os
import time
import _thread
if os.getenv("E2E_LWIP"):
    # MICROPYPATH puts the lwIP double first: on QuecPython `usocket` is that
    # same lwIP socket module too
    import sys
    import socket
    sys.modules["usocket"] = socket
import huaweicloud
import huaweicloud_ota

DEV = os.getenv("E2E_DEVICE")
PATH = os.getenv("OTA_PATH")
_lock = _thread.allocate_lock()


def say(*a):
    with _lock:
        print("OTA " + " ".join(str(x) for x in a))


def done(code, event_type, paras):
    say("done", code, event_type, paras.get("version"))


cloud = huaweicloud.HuaweiCloud(DEV, os.getenv("E2E_SECRET"), server="127.0.0.1",
                                port=int(os.getenv("E2E_MQTT_PORT")), ssl=False,
                                check_timestamp=False)
cloud.error_register_cb(lambda msg: say("error", msg))
ca = os.getenv("OTA_CA")  # the test CA of the driver's HTTPS front (DER)
if ca:
    with open(ca, "rb") as f:
        ca = {"cadata": f.read()}
ota = huaweicloud_ota.OTA(cloud, path=PATH, chunk=512, retries=2, timeout=5, done=done,
                          ssl_params=ca or None)
assert cloud.setMqtt(keepAlive=60) == 0
cloud.start()
cloud.report_version(fw_version="1.0", sw_version="app-1.0")
say("ready")
while True:
    try:
        os.stat(PATH + ".stop")
        break
    except OSError:
        time.sleep(0.1)
cloud.close()
say("bye")
