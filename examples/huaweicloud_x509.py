# A certificate (X.509) device: no secret, the device certificate and its
# private key log in (IoTDA's auth_type CERTIFICATES; the device is
# registered with the certificate's SHA-256 fingerprint and its CA is
# uploaded to the console). ClientId and username are as for a secret
# device, no password (docs/huaweicloud.md, "Certificate (X.509) devices").
#
# Fill in DEVICE_ID and SERVER, and the files: CA_FILE (Huawei's root CA),
# CERT_FILE and KEY_FILE (the device's certificate and key, DER or PEM).
# HW_DEVICE_ID, HW_SERVER, HW_PORT, HW_CA, HW_CERT, HW_KEY override them
# (unix port).
import huaweicloud

DEVICE_ID = "5fbbb784b4ec2202e982e643_x509_dev"
SERVER = "a15fbbd7ce.iot-mqtts.cn-north-4.myhuaweicloud.com"
PORT = 8883
CA_FILE, CERT_FILE, KEY_FILE = "huawei_root_ca.pem", "device.der", "device.key.der"

try:
    import os
    DEVICE_ID = os.getenv("HW_DEVICE_ID") or DEVICE_ID
    SERVER = os.getenv("HW_SERVER") or SERVER
    PORT = int(os.getenv("HW_PORT") or PORT)
    CA_FILE = os.getenv("HW_CA") or CA_FILE
    CERT_FILE = os.getenv("HW_CERT") or CERT_FILE
    KEY_FILE = os.getenv("HW_KEY") or KEY_FILE
except (ImportError, AttributeError):
    pass


def read(name):
    with open(name, "rb") as f:
        return f.read()


def main():
    params = {"cadata": read(CA_FILE), "cert": read(CERT_FILE), "key": read(KEY_FILE)}
    cloud = huaweicloud.HuaweiCloud(DEVICE_ID, None, SERVER, PORT, ssl_params=params)
    cloud.error_register_cb(lambda msg: print("huaweicloud:", msg))
    if cloud.setMqtt(keepAlive=60) != 0:
        print("could not connect")
        return
    print("logged in with the device certificate")
    print("report acknowledged:", cloud.report_properties({"Meter": {"reading": 42}}))
    cloud.disconnect()


if __name__ == "__main__":
    main()
