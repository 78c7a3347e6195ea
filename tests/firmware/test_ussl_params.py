# QuecPython's TLS path: when a `ussl` module exists, ssl=True hands the
# socket to ussl.wrap_socket(sock, ca_certs=, certfile=, keyfile=,
# cert_reqs=, server_hostname=) with only the options given (a given CA
# means cert_reqs=2, CERT_REQUIRED). The unix port has no ussl: a stand-in
# on sys.path records the call and returns the plain socket, so the login
# then runs over plain TCP against the test broker.
import os

from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid, stand_in_module

ck = Checker("ussl.wrap_socket keywords")
cid = uid("ussl")
ussl, d = stand_in_module("ussl", "calls = []\n"
                                  "def wrap_socket(sock, **kw):\n"
                                  "    calls.append(kw)\n"
                                  "    return sock\n", "ussl")


def login(params):
    del ussl.calls[:]
    c = MQTTClient(cid, HOST, PORT, ssl=True, reconn=False, ssl_params=params)
    ck.eq(c.connect(), 0, "connect() through ussl with %r" % sorted(params))
    c.disconnect()
    ck.eq(len(ussl.calls), 1, "one wrap_socket call")
    return ussl.calls[0] if ussl.calls else {}


ck.eq(login({}), {"server_hostname": HOST}, "no options: only server_hostname (the server)")
ck.eq(login({"cadata": b"CA", "server_hostname": "broker.example"}),
      {"ca_certs": b"CA", "cert_reqs": 2, "server_hostname": "broker.example"},
      "cadata: ca_certs, cert_reqs=2 (CERT_REQUIRED)")
ck.eq(login({"ca_certs": "PEM", "cert": b"C", "key": b"K", "cert_reqs": 2}),
      {"ca_certs": "PEM", "certfile": b"C", "keyfile": b"K", "cert_reqs": 2, "server_hostname": HOST},
      "CA, client certificate and key as data")
with open(d + "/key.pem", "w") as f:
    f.write("KEY")
with open(d + "/cert.pem", "w") as f:
    f.write("CERT")
ck.eq(login({"certfile": d + "/cert.pem", "keyfile": d + "/key.pem"}),
      {"certfile": b"CERT", "keyfile": b"KEY", "server_hostname": HOST}, "files are read: their bytes go")
for name in ("key.pem", "cert.pem", "ussl.py"):
    os.remove(d + "/" + name)
os.rmdir(d)
ck.finish()
