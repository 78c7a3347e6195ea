# Device provisioning (IoTDP bootstrap): log in to the bootstrap server with
# the device's own credentials, ask for the IoTDA instance it belongs to,
# then log in there, to the address the answer gave (docs/huaweicloud.md,
# "Bootstrap"). Needs the optional frozen module huaweicloud_bootstrap.
#
# HW_DEVICE_ID, HW_SECRET, HW_BS_SERVER, HW_BS_PORT, HW_CA override the
# values below (unix port; HW_BS_PORT=1883 asks in clear, for a local
# emulator; the login to the returned address is always MQTTS). Not named
# huaweicloud_bootstrap.py: that script would import itself, not the module.
import huaweicloud
from huaweicloud_bootstrap import bootstrap

DEVICE_ID = "5fbbb784b4ec2202e982e643_868540050954037"
SECRET = "your-device-secret"
BS_SERVER = "iot-bs.cn-north-4.myhuaweicloud.com"  # the region's bootstrap address
BS_PORT = 8883
CA_FILE = "huawei_root_ca.pem"

try:
    import os
    DEVICE_ID = os.getenv("HW_DEVICE_ID") or DEVICE_ID
    SECRET = os.getenv("HW_SECRET") or SECRET
    BS_SERVER = os.getenv("HW_BS_SERVER") or BS_SERVER
    BS_PORT = int(os.getenv("HW_BS_PORT") or BS_PORT)
    CA_FILE = os.getenv("HW_CA") or CA_FILE
except (ImportError, AttributeError):
    pass


def main():
    with open(CA_FILE, "rb") as f:
        ca = {"cadata": f.read()}
    bs = huaweicloud.HuaweiCloud(DEVICE_ID, SECRET, BS_SERVER, BS_PORT,
                                 ssl_params=None if BS_PORT == 1883 else ca)
    host, port, answer = bootstrap(bs)
    print("bootstrap: log in to %s:%d (initConfig %r)" % (host, port, answer.get("initConfig")))
    cloud = huaweicloud.HuaweiCloud(DEVICE_ID, SECRET, host, port, ssl_params=ca)
    cloud.error_register_cb(lambda msg: print("huaweicloud:", msg))
    if cloud.setMqtt(keepAlive=60) != 0:
        print("could not connect")
        return
    print("logged in to the bootstrapped address")
    print("report acknowledged:", cloud.report_properties({"Meter": {"reading": 42}}))
    cloud.disconnect()


if __name__ == "__main__":
    main()
