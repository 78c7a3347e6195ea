# Over-the-air upgrades from Huawei Cloud IoTDA with huaweicloud_ota: the
# device reports its versions, the platform's upgrade task sends a
# firmware_upgrade / software_upgrade event, the package is downloaded in
# 1 KB chunks, its SHA-256 checked against the event's `sign` on the way,
# the progress reported, and only a package that matched is installed.
#
# Where it goes (the sink):
# - QuecPython: the module's firmware-upgrade area through `fota`
#   (FotaSink below): written as it arrives, verified by the module, applied
#   by a restart after the digest matched.
# - elsewhere (and for application files): a file, written to ota.bin.part
#   and renamed to ota.bin only after the digest matched (FileSink).
#
# Fill in DEVICE_ID, SECRET, SERVER and CA_FILE as in
# examples/huaweicloud_client.py (environment variables HW_DEVICE_ID,
# HW_SECRET, HW_SERVER, HW_PORT, HW_CA override them on the unix port).
# `make demo-ota` runs the same flow against the local emulator.
import huaweicloud
import huaweicloud_ota

DEVICE_ID = "5fbbb784b4ec2202e982e643_868540050954037"
SECRET = "your-device-secret"
SERVER = "a15fbbd7ce.iot-mqtts.cn-north-4.myhuaweicloud.com"
PORT = 8883
CA_FILE = "huawei_root_ca.pem"
FW_VERSION = "1.0.0"   # what this firmware is: reported at start
SW_VERSION = "app-1.0.0"

try:
    import os
    DEVICE_ID = os.getenv("HW_DEVICE_ID") or DEVICE_ID
    SECRET = os.getenv("HW_SECRET") or SECRET
    SERVER = os.getenv("HW_SERVER") or SERVER
    PORT = int(os.getenv("HW_PORT") or PORT)
    CA_FILE = os.getenv("HW_CA") or CA_FILE
except (ImportError, AttributeError):
    pass


class FotaSink:
    """QuecPython's firmware upgrade (`fota`) as a huaweicloud_ota sink."""

    def begin(self, info):
        import fota
        self._fota = fota(reset_disable=1)  # restart ourselves, after commit
        self._size = info["file_size"]

    def write(self, data):
        if self._fota.write(bytes(data), self._size) != 0:
            raise OSError("fota write failed")

    def commit(self):
        if self._fota.verify() != 0:
            raise OSError("fota verify failed")

    def abort(self):
        self._fota = None  # nothing is applied without verify() and a restart


def upgraded(code, event_type, paras):
    print("upgrade", event_type, paras.get("version"), "result", code)
    if code == huaweicloud_ota.SUCCESS and isinstance(ota.sink, FotaSink):
        from misc import Power
        Power.powerRestart()  # boots the new firmware


def main():
    global ota
    with open(CA_FILE, "rb") as f:
        ca = f.read()
    cloud = huaweicloud.HuaweiCloud(DEVICE_ID, SECRET, server=SERVER, port=PORT,
                                    ssl=PORT != 1883, ssl_params={"cadata": ca})
    cloud.error_register_cb(lambda msg: print("huaweicloud:", msg))
    try:
        import fota  # noqa: F401: QuecPython
        sink = FotaSink()
    except ImportError:
        sink = huaweicloud_ota.FileSink("ota.bin")
    # the package URL's TLS uses the client's ssl_params (the same CA) unless
    # OTA(..., ssl_params=...) says otherwise
    ota = huaweicloud_ota.OTA(cloud, sink=sink, done=upgraded)
    if cloud.setMqtt() != 0:
        return
    cloud.start()
    # the platform compares this with the package's version, and answers a
    # version_query with it
    cloud.report_version(sw_version=SW_VERSION, fw_version=FW_VERSION)
    import time
    while True:
        time.sleep(60)


ota = None
main()
