# MicroPython side of the TLS tests. Env: TLS_PORT, TLS_HOST (server name
# given to the client), TLS_CASE (ca | noca | cert), TLS_CA / TLS_CERT /
# TLS_KEY (DER files). Prints "RESULT|ok|..." or "RESULT|<ExcType>|<msg>".
import os
import sys
import tls
from umqtt import MQTTClient, MQTTException

port = int(os.getenv("TLS_PORT"))
host = os.getenv("TLS_HOST")
case = os.getenv("TLS_CASE")


def read(name):
    p = os.getenv(name)
    if not p:
        return None
    with open(p, "rb") as f:
        return f.read()


# TLS_STYLE: how the script names its files, as QuecPython and MicroPython
# users do: cadata/cert/key (DER or PEM bytes, default), ca_certs (bytes),
# files (cafile/certfile/keyfile paths), unknown (a misspelt key)
style = os.getenv("TLS_STYLE") or "data"
params = {}
if case in ("ca", "cert"):
    if style == "files":
        params["cafile"] = os.getenv("TLS_CA")
    elif style == "ca_certs":
        params["ca_certs"] = read("TLS_CA")
    else:
        params["cadata"] = read("TLS_CA")
    if os.getenv("TLS_CERT_REQS") != "default":
        params["cert_reqs"] = tls.CERT_REQUIRED
if case == "cert" and os.getenv("TLS_CERT"):
    if style == "files":
        params["certfile"] = os.getenv("TLS_CERT")
        params["keyfile"] = os.getenv("TLS_KEY")
    else:
        params["cert"] = read("TLS_CERT")
        params["key"] = read("TLS_KEY")
if style == "unknown":
    params["ca_cert"] = params.pop("cadata")

got = []
try:
    c = MQTTClient("tls-" + case, host, port, ssl=True, ssl_params=params, reconn=False, keepalive=0)
except ValueError as e:
    print("RESULT|ValueError|{}".format(e))
    sys.exit(0)
c.set_callback(lambda t, m: got.append(m))
try:
    c.connect()
    # prove the session really works through TLS: loop a QoS 1 message
    c.subscribe(b"tls/loop", 1)
    ok = c.publish(b"tls/loop", b"over-tls", qos=1)
    for _ in range(20):
        if got:
            break
        c.wait_msg()
    c.disconnect()
    print("RESULT|ok|published={} received={}".format(ok, got))
except (MQTTException, OSError, ValueError) as e:
    print("RESULT|{}|{}".format(type(e).__name__, e))
except Exception as e:
    print("RESULT|OTHER|{}: {}".format(type(e).__name__, e))
sys.exit(0)
