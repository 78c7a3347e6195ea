#!/usr/bin/env python3
"""TLS tests of umqtt against mosquitto with a test PKI made here by openssl.

Usage: tests/tls/run_tls_tests.py <micropython> [-v]

PKI: a test CA, a server certificate for localhost / 127.0.0.1 (SAN), a
second unrelated CA ("wrong CA"), a client certificate signed by the test CA.
Two TLS listeners on free ports: server-auth only, and require_certificate.
Cases (each on the firmware, tests/tls/tls_client.py):
  verified        right CA, host "localhost"                       -> connects
  verified_ip     right CA, host "127.0.0.1" (IP SAN)              -> connects
  ca_default_reqs right CA, no cert_reqs (a given CA means verify)  -> connects
  wrong_ca        other CA                                         -> fails
  wrong_ca_default_reqs other CA, no cert_reqs: must still verify  -> fails
  wrong_host      right CA, host "127.0.0.2" (not in the SAN)      -> fails
  no_ca           no ssl_params: QuecPython's ussl semantics, no
                  verification                                     -> connects
  client_cert     require_certificate listener, client cert+key    -> connects
  no_client_cert  require_certificate listener, no client cert     -> fails
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from lib.broker import Mosquitto  # noqa: E402
from lib.proc import run  # noqa: E402

CLIENT = os.path.join(HERE, "tls_client.py")


# Cases whose failure is a limitation of the platform TLS, reported not failed.
SOFT = {
    "verified_ip": "MicroPython's mbedtls wrapper matches server_hostname against DNS"
                   " names/CN only, not IP SANs: connect by name",
}


def sh(*args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    def ca(name):
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
           "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
           "-subj", "/CN=umqtt test " + name, cwd=d)

    def leaf(name, cn, ext, ca_name="ca"):
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        sh("openssl", "x509", "-req", "-in", name + ".csr", "-CA", ca_name + ".pem", "-CAkey",
           ca_name + ".key", "-CAcreateserial", "-out", name + ".pem", "-days", "2",
           "-extfile", name + ".ext", cwd=d)

    ca("ca")
    ca("wrongca")
    leaf("server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
         "extendedKeyUsage=serverAuth\n")
    leaf("other", "other.invalid", "subjectAltName=DNS:other.invalid\n"
         "extendedKeyUsage=serverAuth\n")
    leaf("client", "umqtt-client", "extendedKeyUsage=clientAuth\n")
    for name in ("ca", "wrongca", "client"):
        sh("openssl", "x509", "-in", name + ".pem", "-outform", "DER", "-out", name + ".der", cwd=d)
    sh("openssl", "pkey", "-in", "client.key", "-outform", "DER", "-out", "client.key.der", cwd=d)
    for fn in os.listdir(d):
        os.chmod(os.path.join(d, fn), 0o644)  # mosquitto drops to user mosquitto


def start_mosquitto(d):
    """Three TLS listeners on free ports (lib.broker.Mosquitto in d/mosquitto)."""
    listeners = {}
    for name, req, cert in (("tls", False, "server"), ("tls_cert", True, "server"),
                            ("tls_other", False, "other")):
        listeners[name] = ["cafile {0}/ca.pem".format(d), "certfile {0}/{1}.pem".format(d, cert),
                           "keyfile {0}/{1}.key".format(d, cert)]
        if req:
            listeners[name].append("require_certificate true")
    broker = Mosquitto(d, "mosquitto", listeners=listeners, config=["per_listener_settings true"])
    broker.start()
    return broker


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    mp = os.path.abspath(sys.argv[1])
    verbose = "-v" in sys.argv
    d = tempfile.mkdtemp(prefix="umqtt-tls-")
    os.chmod(d, 0o755)
    broker = None
    passed = failed = 0
    try:
        make_pki(d)
        broker = start_mosquitto(d)
        ports = broker.ports
        f = lambda n: os.path.join(d, n)
        cases = [
            ("verified", "tls", "localhost", "ca", "ca.der", {}, True),
            ("verified_ip", "tls", "127.0.0.1", "ca", "ca.der", {}, True),
            ("ca_default_reqs", "tls", "localhost", "ca", "ca.der", {"TLS_CERT_REQS": "default"}, True),
            ("wrong_ca", "tls", "localhost", "ca", "wrongca.der", {}, False),
            ("wrong_ca_default_reqs", "tls", "localhost", "ca", "wrongca.der", {"TLS_CERT_REQS": "default"}, False),
            # a certificate (signed by the right CA) for other.invalid only,
            # reached as "localhost": the host name check must refuse it
            ("wrong_host", "tls_other", "localhost", "ca", "ca.der", {}, False),
            ("wrong_host_default_reqs", "tls_other", "localhost", "ca", "ca.der",
             {"TLS_CERT_REQS": "default"}, False),
            ("no_ca", "tls", "localhost", "noca", None, {}, True),
            ("client_cert", "tls_cert", "localhost", "cert", "ca.der",
             {"TLS_CERT": f("client.der"), "TLS_KEY": f("client.key.der")}, True),
            ("no_client_cert", "tls_cert", "localhost", "cert", "ca.der", {}, False),
            # every ssl_params key users pass is honoured (issue 10, defect 6)
            ("ca_certs_pem", "tls", "localhost", "ca", "ca.pem", {"TLS_STYLE": "ca_certs"}, True),
            ("ca_certs_pem_wrong_host", "tls_other", "localhost", "ca", "ca.pem",
             {"TLS_STYLE": "ca_certs", "TLS_CERT_REQS": "default"}, False),
            ("cafile", "tls", "localhost", "ca", "ca.der", {"TLS_STYLE": "files"}, True),
            ("cafile_wrong_ca", "tls", "localhost", "ca", "wrongca.der",
             {"TLS_STYLE": "files", "TLS_CERT_REQS": "default"}, False),
            ("certfile_keyfile", "tls_cert", "localhost", "cert", "ca.der",
             {"TLS_STYLE": "files", "TLS_CERT": f("client.der"), "TLS_KEY": f("client.key.der")}, True),
            ("unknown_key", "tls", "localhost", "ca", "ca.der", {"TLS_STYLE": "unknown"}, False),
        ]
        for name, listener, host, kind, ca, extra, want_ok in cases:
            env = dict(os.environ, TLS_PORT=str(ports[listener]), TLS_HOST=host, TLS_CASE=kind)
            if ca:
                env["TLS_CA"] = f(ca)
            env.update(extra)
            p = run([mp, CLIENT], env=env, timeout=40)
            rc, out, secs = p.rc, p.output if not p.timed_out else "", p.secs
            res = next((l for l in out.splitlines() if l.startswith("RESULT|")), "")
            ok_run = res.startswith("RESULT|ok|") and "published=True" in res and "over-tls" in res
            failed_clean = res.startswith("RESULT|") and res.split("|")[1] in ("OSError", "MQTTException", "ValueError")
            if name == "unknown_key":
                failed_clean = res.startswith("RESULT|ValueError|") and "unknown key 'ca_cert'" in res
            good = rc == 0 and (ok_run if want_ok else failed_clean)
            if not good and name in SOFT and rc == 0 and failed_clean:
                print("WARN {} ({:.1f} s) {}: {}".format(name, secs, res[7:], SOFT[name]), flush=True)
                continue
            print("{} {} ({:.1f} s) {}".format("PASS" if good else "FAIL", name, secs, res[7:]), flush=True)
            if not good:
                failed += 1
                print("    ! want {}; rc={}".format("a working session" if want_ok else "a clean failure", rc))
                for l in out.splitlines()[-10:]:
                    print("    | " + l)
            else:
                passed += 1
            if verbose:
                for l in out.splitlines():
                    print("    | " + l)
    finally:
        if broker:
            broker.stop()
        shutil.rmtree(d, ignore_errors=True)
    print("{} passed, {} failed".format(passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
