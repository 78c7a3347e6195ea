# The device side of tests/emulator/test_login_e2e.py, on the firmware: the
# three other ways in (issue 13, items 3, 4 and 7) against the emulator:
# sign type 2 (HMAC-SM3), a certificate (X.509) device, and bootstrap
# followed by a login to the address it returned. One line per outcome.
import os
import huaweicloud
from huaweicloud import HuaweiCloud
from huaweicloud_bootstrap import bootstrap

E = os.getenv
PLAIN = int(E("L_MQTT_PORT"))
TLS = int(E("L_MQTTS_PORT"))
DIR = E("L_TLS_DIR")


def read(name):
    with open(DIR + "/" + name, "rb") as f:
        return f.read()


def say(*a):
    print("LOGIN " + " ".join(str(x) for x in a))


errors = []
CA = {"cadata": read("ca.der")}


def client(dev, secret, port, ssl, params=None, **kw):
    c = HuaweiCloud(dev, secret, "localhost", port, ssl=ssl, ssl_params=params, **kw)
    c.error_register_cb(errors.append)
    return c


def login_and_report(name, c):
    r = c.setMqtt(keepAlive=60)
    rep = c.report_properties({"Login": {"how": name}}) if r == 0 else None
    say(name, r, rep, c._mqtt.get_mqttsta() if r == 0 else "-")
    if r == 0:
        c.disconnect()
    else:
        say(name, "error", errors[-1] if errors else None)


# 7: sign type 2, HMAC-SM3, on plain MQTT and over TLS
sm3_id, sm3_secret = E("L_SM3_DEV"), E("L_SM3_SECRET")
say("sm3_client_id", huaweicloud.conninfo(sm3_id, sm3_secret, sign_type=2)[0])
login_and_report("sm3", client(sm3_id, sm3_secret, PLAIN, False, sign_type=2))
login_and_report("sm3_tls", client(sm3_id, sm3_secret, TLS, True, CA, sign_type=2))
login_and_report("sm3_wrong_secret", client(sm3_id, "not-the-secret", PLAIN, False, sign_type=2))
try:
    client(sm3_id, sm3_secret, PLAIN, False, sign_type=3)
    say("sign_type_3 accepted")
except ValueError as e:
    say("sign_type_3 ValueError", e)

# 3: certificate (X.509) devices: no secret, the device certificate and key in ssl_params
cert_id, other_id = E("L_CERT_DEV"), E("L_OTHER_CERT_DEV")
mine = dict(CA, cert=read(cert_id + ".der"), key=read(cert_id + ".key.der"))
theirs = dict(CA, cert=read(other_id + ".der"), key=read(other_id + ".key.der"))
login_and_report("cert", client(cert_id, None, TLS, True, mine))
login_and_report("cert_other", client(cert_id, None, TLS, True, theirs))
login_and_report("cert_none", client(cert_id, "guess", TLS, True, CA))
# self-signed, from no device CA the emulator knows: the handshake fails
foreign = dict(CA, cert=read("foreign.der"), key=read("foreign.key.der"))
login_and_report("cert_foreign", client(cert_id, None, TLS, True, foreign))
for what, args in (("no_tls", (cert_id, None, PLAIN, False, None)), ("no_key", (cert_id, None, TLS, True, dict(CA, cert=mine["cert"])))):
    try:
        client(*args)
        say("cert_" + what, "accepted")
    except ValueError as e:
        say("cert_" + what, "ValueError", e)

# 4: bootstrap on the plain listener, then the login to the address it returned
boot_id, boot_secret = E("L_BOOT_DEV"), E("L_BOOT_SECRET")
host, port, answer = bootstrap(client(boot_id, boot_secret, PLAIN, False), keyword="e2e")
say("bootstrap", host, port, answer.get("initConfig"))
login_and_report("bootstrapped", client(boot_id, boot_secret, port, True, CA))
try:
    bootstrap(client("nobody_here", "x", PLAIN, False), timeout=5)
    say("bootstrap_unknown accepted")
except Exception as e:
    say("bootstrap_unknown", type(e).__name__, e)
say("done")
