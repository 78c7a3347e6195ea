# Sign type 2: the password is HMAC-SM3 (GB/T 32905) of the secret keyed
# with the hour stamp, as Huawei's C device SDK computes it for
# EN_IOTA_CFG_CHECK_STAMP_SM3; the ClientId ends in _0_2_YYYYMMDDHH. Note:
# Huawei's public CONNECT page lists only sign types 0 and 1 (HMAC-SHA256);
# see docs/huaweicloud.md, "Sign type 2 (HMAC-SM3)".
#
# HW_DEVICE_ID, HW_SECRET, HW_SERVER, HW_PORT, HW_CA override the values
# below (unix port; HW_PORT=1883 logs in in clear, for a local emulator).
import huaweicloud

DEVICE_ID = "5fbbb784b4ec2202e982e643_868540050954037"
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


def main():
    print("ClientId:", huaweicloud.conninfo(DEVICE_ID, SECRET, sign_type=2)[0])
    ssl_params = {}
    if PORT != 1883:
        with open(CA_FILE, "rb") as f:
            ssl_params["cadata"] = f.read()
    cloud = huaweicloud.HuaweiCloud(DEVICE_ID, SECRET, SERVER, PORT, ssl_params=ssl_params, sign_type=2)
    cloud.error_register_cb(lambda msg: print("huaweicloud:", msg))
    if cloud.setMqtt(keepAlive=60) != 0:
        print("could not connect")
        return
    print("logged in with HMAC-SM3")
    print("report acknowledged:", cloud.report_properties({"Meter": {"reading": 42}}))
    cloud.disconnect()


if __name__ == "__main__":
    main()
