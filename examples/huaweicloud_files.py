# File upload and download through IoTDA's file URLs (OBS): upload a log
# file, download a configuration file. Uses the optional frozen module
# huaweicloud_files (docs/huaweicloud.md, "Files"); the transfer is
# streamed through one 1 KB buffer whatever the file's size.
#
# Fill in DEVICE_ID, SECRET, SERVER, CA_FILE as in huaweicloud_client.py
# (HW_* environment variables override them; HW_PORT=1883 for the local
# emulator, whose file URLs are plain HTTP).
import huaweicloud
import huaweicloud_files

DEVICE_ID = "your_device_id"
SECRET = "your-device-secret"
SERVER = "a15fbbd7ce.iot-mqtts.cn-north-4.myhuaweicloud.com"
PORT = 8883
CA_FILE = "huawei_root_ca.pem"
OBS_CA_FILE = "obs_root_ca.pem"  # the CA of the OBS host the URLs point to

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
    ssl_params = obs_ssl = {}
    if PORT != 1883:
        with open(CA_FILE, "rb") as f:
            ssl_params = {"cadata": f.read()}
        with open(OBS_CA_FILE, "rb") as f:
            obs_ssl = {"cadata": f.read()}
    cloud = huaweicloud.HuaweiCloud(DEVICE_ID, SECRET, SERVER, PORT, ssl_params=ssl_params)
    cloud.error_register_cb(lambda m: print("huaweicloud:", m))
    files = huaweicloud_files.Files(cloud, timeout=30, chunk=1024, ssl_params=obs_ssl)
    if cloud.setMqtt(keepAlive=60) != 0:
        return
    cloud.start()
    with open("device.log", "w") as f:
        f.write("boot ok\n" * 100)
    try:
        print("uploaded as", files.upload("device.log", "device.log"))
    except OSError as e:
        print("upload failed (reported to the platform):", e)
    try:
        print("downloaded", files.download("settings.json", "settings.json"), "bytes")
    except OSError as e:
        print("download failed (reported to the platform):", e)
    cloud.disconnect()


main()
