#!/usr/bin/env python3
"""The firmware's huaweicloud client logging in the three other ways
against the IoTDA emulator: sign type 2 (HMAC-SM3), a certificate (X.509)
device on the TLS listener, and bootstrap (IoTDP) then a login to the
address it returned. Runs tests/emulator/device_login.py; prints
"N passed, N failed".

usage: test_login_e2e.py MICROPYTHON EMULATOR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from lib.emulator import Emulator  # noqa: E402
ROOT = os.path.dirname(os.path.dirname(HERE))
SM3_DEV, SM3_SECRET = "login_sm3_dev", "sm3-secret"
CERT_DEV, OTHER_CERT_DEV = "login_cert_dev", "login_other_cert"
BOOT_DEV, BOOT_SECRET = "login_boot_dev", "boot-secret"


def main():
    mp, emu = (os.path.abspath(a) for a in sys.argv[1:3])
    work = tempfile.mkdtemp(prefix="iotda-login-")
    tls_dir = os.path.join(work, "tls")
    emulator = Emulator(
        emu, ["--mqtt", "127.0.0.1:0", "--http", "127.0.0.1:0", "--mqtts", "127.0.0.1:0",
              "--tls-generate", tls_dir, "--cert-device", CERT_DEV, "--cert-device", OTHER_CERT_DEV,
              "--device", "%s=%s" % (SM3_DEV, SM3_SECRET), "--device", "%s=%s" % (BOOT_DEV, BOOT_SECRET)],
        work, listeners=("mqtt", "http", "mqtts"))
    addrs = emulator.addrs
    passed = failed = 0
    out = ""

    def check(cond, what):
        nonlocal passed, failed
        print("%s %s" % ("PASS" if cond else "FAIL", what), flush=True)
        passed, failed = (passed + 1, failed) if cond else (passed, failed + 1)

    try:
        port = lambda k: str(emulator.port(k))  # noqa: E731

        def rest(method, path, body=None):
            req = urllib.request.Request("http://%s%s" % (addrs["http"], path), method=method,
                                         data=None if body is None else json.dumps(body).encode())
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read() or b"null")

        # a self-signed device certificate no device CA vouches for
        foreign = os.path.join(tls_dir, "foreign")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", foreign + ".key.pem", "-out", foreign + ".pem", "-subj",
                        "/CN=" + CERT_DEV, "-days", "2"], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-in", foreign + ".pem", "-outform", "DER", "-out", foreign + ".der"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", foreign + ".key.pem", "-outform", "DER",
                        "-out", foreign + ".key.der"], check=True, capture_output=True)
        # the bootstrap answer: the TLS listener, by name
        rest("PUT", "/emulator/devices/%s/bootstrap" % BOOT_DEV,
             {"address": "localhost:%s" % port("mqtts"), "init_config": '{"init":23}'})
        env = dict(os.environ, MICROPYPATH=".frozen:" + HERE, L_MQTT_PORT=port("mqtt"),
                   L_MQTTS_PORT=port("mqtts"), L_TLS_DIR=tls_dir, L_SM3_DEV=SM3_DEV,
                   L_SM3_SECRET=SM3_SECRET, L_CERT_DEV=CERT_DEV, L_OTHER_CERT_DEV=OTHER_CERT_DEV,
                   L_BOOT_DEV=BOOT_DEV, L_BOOT_SECRET=BOOT_SECRET)
        r = subprocess.run([mp, os.path.join(HERE, "device_login.py")], env=env, capture_output=True,
                           text=True, timeout=90)
        out = r.stdout + r.stderr
        got = {}
        for line in out.splitlines():
            if line.startswith("LOGIN "):
                key, _, rest_ = line[6:].partition(" ")
                got.setdefault(key, rest_)
        log = emulator.log_text()

        def uplinks(dev):
            return [u["topic"] for u in rest("GET", "/emulator/devices/%s/uplinks" % dev)["uplinks"]]

        cid = got.get("sm3_client_id", "")
        check(re.fullmatch(SM3_DEV + r"_0_2_\d{10}", cid) is not None, "sign type 2 ClientId: %r" % cid)
        check(got.get("sm3") == "0 True 0", "HMAC-SM3 login on plain MQTT, report acknowledged: %r" % got.get("sm3"))
        check(got.get("sm3_tls") == "0 True 0", "HMAC-SM3 login over TLS: %r" % got.get("sm3_tls"))
        refused4 = "setMqtt: MQTTException: MQTT Connect error='4' FAIL"
        check(got.get("sm3_wrong_secret", "").startswith("-1") and out.count(refused4) == 3,
              "wrong secret under sign type 2: refused with CONNACK 4: %r" % got.get("sm3_wrong_secret"))
        check("sign type 2, from" in log, "emulator verified the HMAC-SM3 login (log says sign type 2)")
        check(got.get("sign_type_3", "").startswith("ValueError"), "sign type 3: ValueError: %r" % got.get("sign_type_3"))
        check(got.get("cert") == "0 True 0", "certificate device logged in over TLS, no secret: %r" % got.get("cert"))
        check(got.get("cert_other", "").startswith("-1"), "another device's certificate: refused: %r" % got.get("cert_other"))
        check(got.get("cert_none", "").startswith("-1"), "no client certificate: refused: %r" % got.get("cert_none"))
        check(got.get("cert_foreign", "").startswith("-1") and "TLS handshake failed" in log,
              "self-signed certificate (no known device CA): handshake refused: %r"
              % [l for l in out.splitlines() if l.startswith("LOGIN cert_foreign")])
        check("client certificate SHA-256" in log and "certificate device without a TLS client certificate" in log,
              "emulator refused both with CONNACK 4 for the reasons logged (the device saw 4 three times)")
        check(got.get("cert_no_tls", "").startswith("ValueError") and got.get("cert_no_key", "").startswith("ValueError"),
              "no secret without TLS cert + key: ValueError: %r %r" % (got.get("cert_no_tls"), got.get("cert_no_key")))
        dev = rest("GET", "/v5/iot/local/devices/%s" % CERT_DEV)
        check(dev.get("auth") == "CERTIFICATES" and len(dev.get("fingerprint") or "") == 64,
              "certificate device registered by fingerprint: %s" % dev.get("fingerprint"))
        check(got.get("bootstrap") == "localhost %s {\"init\":23}" % port("mqtts"),
              "bootstrap returned the configured address: %r" % got.get("bootstrap"))
        check(got.get("bootstrapped") == "0 True 0", "logged in to the returned address (TLS): %r" % got.get("bootstrapped"))
        ups = uplinks(BOOT_DEV)
        check(ups[:2] == ["$oc/devices/%s/sys/bootstrap/up" % BOOT_DEV, "$oc/devices/%s/sys/properties/report" % BOOT_DEV],
              "bootstrap request, then the report on the returned address: %s" % ups)
        check(got.get("bootstrap_unknown", "").startswith("MQTTException") and "refused: CONNACK 0x05 (unknown device)" in log,
              "unknown device at bootstrap: CONNACK 5: %r" % got.get("bootstrap_unknown"))
        check(any(u.endswith("/sys/properties/report") for u in uplinks(CERT_DEV)), "certificate device's report recorded")
        check("done" in got and r.returncode == 0, "device script finished (rc %d)" % r.returncode)

        # The three examples, unchanged, through their environment overrides.
        def example(name, **env_):
            e = dict(os.environ, MICROPYPATH=".frozen", HW_CA=os.path.join(tls_dir, "ca.der"), **env_)
            r = subprocess.run([mp, os.path.join(ROOT, "examples", name)], env=e, capture_output=True,
                               text=True, timeout=60)
            return r.returncode, r.stdout + r.stderr

        rc, o = example("huaweicloud_sm3.py", HW_DEVICE_ID=SM3_DEV, HW_SECRET=SM3_SECRET,
                        HW_SERVER="localhost", HW_PORT=port("mqtts"))
        check(rc == 0 and "logged in with HMAC-SM3" in o and "report acknowledged: True" in o,
              "examples/huaweicloud_sm3.py: %s" % o.strip().replace("\n", " | "))
        rc, o = example("huaweicloud_x509.py", HW_DEVICE_ID=OTHER_CERT_DEV, HW_SERVER="localhost",
                        HW_PORT=port("mqtts"), HW_CERT=os.path.join(tls_dir, OTHER_CERT_DEV + ".der"),
                        HW_KEY=os.path.join(tls_dir, OTHER_CERT_DEV + ".key.der"))
        check(rc == 0 and "logged in with the device certificate" in o and "report acknowledged: True" in o,
              "examples/huaweicloud_x509.py: %s" % o.strip().replace("\n", " | "))
        rc, o = example("huaweicloud_provisioning.py", HW_DEVICE_ID=BOOT_DEV, HW_SECRET=BOOT_SECRET,
                        HW_BS_SERVER="localhost", HW_BS_PORT=port("mqtts"))
        check(rc == 0 and "bootstrap: log in to localhost:%s" % port("mqtts") in o
              and "logged in to the bootstrapped address" in o and "report acknowledged: True" in o,
              "examples/huaweicloud_provisioning.py: %s" % o.strip().replace("\n", " | "))
    except Exception as e:  # noqa: BLE001 - report, do not hide
        print("FAIL driver: %r" % e, flush=True)
        failed += 1
    finally:
        emulator.stop()
        if failed:
            print("---- emulator log ----\n" + emulator.log_text()[-4000:])
            print("---- device output ----\n" + out[-4000:])
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
