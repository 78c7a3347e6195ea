# huaweicloud_files against the driver's own HTTP(S) server, on the firmware
# (part of tests/emulator/test_services_e2e.py): the platform is a stub that
# answers each URL request at once with that server. Over HTTPS the upload
# and the download go through the port's TLS, verifying the test CA (and
# failing against another CA); over HTTP the driver runs it with the double
# of QuecPython's lwIP sockets (tests/firmware/lwip) first on the path.
import os
import huaweicloud_files

URL = os.getenv("E2E_HTTPS")
WORK = os.getenv("E2E_WORK")
CA = b""
if URL.startswith("https:"):
    with open(os.getenv("E2E_CA"), "rb") as f:
        CA = f.read()


class StubCloud:
    _running = True

    def __init__(self, cadata):
        self._ssl_params = {"cadata": cadata}
        self.reports = []

    def _check(self, f):
        return f

    def set_service_handler(self, sid, f):
        self.handler = f

    def _event(self, sid, etype, paras):
        if etype.startswith("get_"):
            self.handler(etype + "_response", {"url": URL + "/" + paras["file_name"] + "?sig=1",
                                               "object_name": paras["file_name"]})
        else:
            self.reports.append((etype[:-14], paras["result_code"], paras.get("status_code")))


cloud = StubCloud(CA)
files = huaweicloud_files.Files(cloud, timeout=5, chunk=128)
print("TLS uploaded", files.upload("t.bin", WORK + "/up.txt"))
print("TLS downloaded", files.download("t.bin", WORK + "/stub_down.bin"))
if CA:
    with open(os.getenv("E2E_WRONG_CA"), "rb") as f:
        wrong = StubCloud(f.read())  # another CA: verification must fail
    try:
        huaweicloud_files.Files(wrong, timeout=5).upload("u.bin", WORK + "/up.txt")
        print("TLS wrong_ca no error")
    except OSError as e:
        print("TLS wrong_ca OSError", wrong.reports)
print("TLS reports", cloud.reports)
