# The Huawei Cloud guide's scenario (report a property, wait for a downlink
# message) with the huaweicloud module: no ClientId or password copied from
# Huawei's web tool. The module computes them from the device id and secret
# at every (re)connect, so the script keeps working after the hour changes.
#
# Fill in DEVICE_ID, SECRET and SERVER from the IoTDA console (device
# details and the instance's "access information") and CA_FILE with Huawei's
# root CA (the console's "certificates" download). The login is MQTTS on
# 8883, verifying that CA, with sign type 1 (see docs/huaweicloud.md,
# "Security defaults"). Environment variables HW_DEVICE_ID, HW_SECRET,
# HW_SERVER, HW_PORT, HW_CA override them (unix port; HW_PORT=1883 logs in
# in clear, for a local broker).
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

received = []


def on_message(msg):
    # system-format messages arrive as a dict, anything else as bytes
    print("message down:", msg)
    received.append(msg)


def on_command(request_id, command):
    print("command", request_id, command.get("command_name"), command.get("paras"))
    # the returned dict is sent as the command response
    return {"result_code": 0, "response_name": "ok", "paras": {"done": True}}


def on_error(msg):
    print("huaweicloud:", msg)


def main():
    ssl_params = {}
    if PORT != 1883:
        with open(CA_FILE, "rb") as f:
            ssl_params["cadata"] = f.read()
    cloud = huaweicloud.HuaweiCloud(DEVICE_ID, SECRET, SERVER, PORT, ssl_params=ssl_params)
    cloud.error_register_cb(on_error)
    cloud.set_message_callback(on_message)
    cloud.set_command_callback(on_command)
    # QuecPython's aLiYun order: setMqtt connects (0 or -1), start() listens
    if cloud.setMqtt(keepAlive=30) != 0:
        print("could not connect")
        return
    cloud.start()

    cloud.report_properties([{
        "service_id": "WaterMeterControl",
        "properties": {"state": "T:15c, H: 85% "},
        "event_time": huaweicloud.event_time(),
    }])

    import time
    while not received:
        time.sleep(1)
    cloud.disconnect()


if __name__ == "__main__":
    main()
