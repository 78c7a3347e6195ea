# Device logs, SDK information and remote configuration: the device reports
# its SDK and firmware versions at start, sends log lines while the
# platform's log collection is on, and applies configurations pushed from
# the platform. Uses the optional frozen modules huaweicloud_log and
# huaweicloud_config (docs/huaweicloud.md, "Device logs" and "Remote
# configuration").
#
# Fill in DEVICE_ID, SECRET, SERVER, CA_FILE as in huaweicloud_client.py
# (HW_* environment variables override them; HW_PORT=1883 for the local
# emulator).
import time
import huaweicloud
import huaweicloud_config
import huaweicloud_log

DEVICE_ID = "your_device_id"
SECRET = "your-device-secret"
SERVER = "a15fbbd7ce.iot-mqtts.cn-north-4.myhuaweicloud.com"
PORT = 8883
CA_FILE = "huawei_root_ca.pem"

try:
    import os
    DEVICE_ID = os.getenv("HW_DEVICE_ID") or DEVICE_ID
    SECRET = os.getenv("HW_SECRET") or SECRET
    SERVER = os.getenv("HW_SERVER") or SERVER
    PORT = int(os.getenv("HW_PORT") or PORT)
    CA_FILE = os.getenv("HW_CA") or CA_FILE
except (ImportError, AttributeError):
    pass

settings = {"report_interval": 10}


def apply_config(content):
    # answered to the platform as config_update_response
    unknown = [k for k in content if k not in settings]
    if unknown:
        return 1, "unknown keys: %s" % unknown
    settings.update(content)
    return 0


def main():
    ssl_params = {}
    if PORT != 1883:
        with open(CA_FILE, "rb") as f:
            ssl_params["cadata"] = f.read()
    cloud = huaweicloud.HuaweiCloud(DEVICE_ID, SECRET, SERVER, PORT, ssl_params=ssl_params)
    cloud.error_register_cb(lambda m: print("huaweicloud:", m))
    log = huaweicloud_log.DeviceLog(cloud)  # sends only while collection is on
    huaweicloud_config.DeviceConfig(cloud, apply_config)
    if cloud.setMqtt(keepAlive=60) != 0:
        return
    cloud.start()
    huaweicloud_log.report_sdk_info(cloud, sw_version="1.0.0", fw_version="EC600U-V01")
    for i in range(6):
        cloud.report_properties({"Meter": {"flow": i}})
        log.report("reported flow %d" % i, "DEVICE_PROPERTY")  # False while collection is off
        time.sleep(settings["report_interval"])
    cloud.disconnect()


main()
