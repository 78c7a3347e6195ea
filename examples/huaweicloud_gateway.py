# A gateway with two sub-devices behind it (e.g. Modbus meters on a serial
# line): it registers them on IoTDA, reports them online, reports their
# properties in one batch, and answers commands addressed to each of them.
# Uses the optional frozen module huaweicloud_gateway (docs/huaweicloud.md,
# "Gateway and sub-devices").
#
# Fill in DEVICE_ID, SECRET, SERVER, CA_FILE as in huaweicloud_client.py;
# PRODUCT_ID is the sub-devices' product. Environment variables HW_DEVICE_ID,
# HW_SECRET, HW_SERVER, HW_PORT, HW_CA, HW_PRODUCT_ID override them (unix
# port; HW_PORT=1883 for the local emulator).
import time
import huaweicloud
import huaweicloud_gateway

DEVICE_ID = "your_gateway_device_id"
SECRET = "your-device-secret"
SERVER = "a15fbbd7ce.iot-mqtts.cn-north-4.myhuaweicloud.com"
PORT = 8883
CA_FILE = "huawei_root_ca.pem"
PRODUCT_ID = "your_meter_product_id"

try:
    import os
    DEVICE_ID = os.getenv("HW_DEVICE_ID") or DEVICE_ID
    SECRET = os.getenv("HW_SECRET") or SECRET
    SERVER = os.getenv("HW_SERVER") or SERVER
    PORT = int(os.getenv("HW_PORT") or PORT)
    CA_FILE = os.getenv("HW_CA") or CA_FILE
    PRODUCT_ID = os.getenv("HW_PRODUCT_ID") or PRODUCT_ID
except (ImportError, AttributeError):
    pass

METERS = {"meter-1": 12.5, "meter-2": 3.0}  # node id -> flow read from the line


def meter_command(request_id, command):
    # one handler per sub-device; object_device_id says which
    print("command for", command["object_device_id"], command.get("command_name"), command.get("paras"))
    return {"result_code": 0}


def on_gateway_event(event_type, paras):
    print("gateway event", event_type, paras)


def main():
    ssl_params = {}
    if PORT != 1883:
        with open(CA_FILE, "rb") as f:
            ssl_params["cadata"] = f.read()
    cloud = huaweicloud.HuaweiCloud(DEVICE_ID, SECRET, SERVER, PORT, ssl_params=ssl_params)
    cloud.error_register_cb(lambda m: print("huaweicloud:", m))
    gw = huaweicloud_gateway.Gateway(cloud, on_gateway_event)
    if cloud.setMqtt(keepAlive=60) != 0:
        return
    cloud.start()
    gw.sync()  # learn the sub-devices the platform already has
    time.sleep(1)
    missing = [n for n in METERS if PRODUCT_ID + "_" + n not in gw.sub_devices]
    if missing:
        gw.add_sub_devices([{"node_id": n, "product_id": PRODUCT_ID} for n in missing])
        time.sleep(2)  # add_sub_device_response fills gw.sub_devices
    ids = [PRODUCT_ID + "_" + n for n in METERS]
    for i in ids:
        gw.set_command_handler(i, meter_command)
    gw.update_status({i: "ONLINE" for i in ids})
    for _ in range(3):
        gw.report_properties({PRODUCT_ID + "_" + n: {"Meter": {"flow": v}} for n, v in METERS.items()})
        time.sleep(5)
    gw.update_status({i: "OFFLINE" for i in ids})
    time.sleep(1)
    cloud.disconnect()


main()
