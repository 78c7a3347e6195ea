# huaweicloud_ota against a server that misbehaves at the edges (second
# reader's cases): the peer vanishing inside the status line or a header
# line (a dropped link: retried, not a bad server), a header line that never
# ends (RAM bounded: refused), a 206 shorter than asked for (resumed, not
# "SHA-256 mismatch"), more bytes than announced, and the next upgrade the
# platform sends as soon as it has the version report. The strict rules:
# test_huaweicloud_ota_http.py.
import gc
import os
import time
import huaweicloud
import huaweicloud_ota as ho
from _huaweicloud import sha256_init, sha256_update, sha256_hex
from mqtt_test_util import Checker, uid
from http_script_server import ScriptedServer

ck = Checker("huaweicloud_ota: edges")
PATH = "/tmp/%s.bin" % uid("ota-edge")
DATA = bytes((i * 13 + 5) & 0xFF for i in range(5000))


def sha(b):
    st = sha256_init()
    sha256_update(st, b)
    return sha256_hex(st)


SIGN = sha(DATA)


class Cloud(huaweicloud.HuaweiCloud):
    """Records the uplinks instead of publishing them; `on_pub(payload)`
    stands for the platform answering an uplink."""

    def __init__(self):
        super().__init__("ota_dev", "secret", server="127.0.0.1", port=1883, ssl=False)
        self.sent = []
        self.errors = []
        self.on_pub = None
        self.error_register_cb(self.errors.append)

    def _pub(self, kind, payload, qos=1, rid=None):
        self.sent.append(payload)
        if self.on_pub is not None:
            self.on_pub(payload)
        return True

    def progress(self, version):
        return [s["paras"] for p in self.sent for s in p["services"]
                if s["event_type"] == "upgrade_progress_report" and s["paras"]["version"] == version]


def ok200(body):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def partial(body, start, total):
    return (b"HTTP/1.1 206 Partial Content\r\nContent-Length: %d\r\nContent-Range: bytes %d-%d/%d\r\n\r\n"
            % (len(body), start, start + len(body) - 1, total) + body)


srv = ScriptedServer()
cloud = Cloud()
cloud.report_version(fw_version="1.0")
ota = ho.OTA(cloud, path=PATH, chunk=256, retries=2, timeout=3, step=0, background=False)
ota.pause = 0.05
results = []
ota._done = lambda code, typ, paras: results.append((code, paras["version"]))


def event(version, sign=SIGN):
    return ('{"services":[{"service_id":"$ota","event_type":"firmware_upgrade","paras":'
            '{"version":"%s","url":"%s","file_size":%d,"sign":"%s","access_token":"tok"}}]}'
            % (version, srv.url(), len(DATA), sign))


def run(version, replies):
    """One upgrade handled inline: (result code, last error text, requests)."""
    srv.replies[:] = replies
    srv.requests[:] = []
    del cloud.errors[:]
    del results[:]
    cloud._on_events("t", event(version))
    return (results[0][0] if results else None), (cloud.errors[-1] if cloud.errors else ""), list(srv.requests)


def installed():
    try:
        with open(PATH, "rb") as f:
            return f.read()
    except OSError:
        return None


def clean():
    for f in (PATH, PATH + ".part"):
        try:
            os.remove(f)
        except OSError:
            pass


# -- a negative step would report progress after every chunk (a flood of uplinks)
for bad in (-10, 2.5, "10"):
    ck.raises(ValueError, lambda: ho.OTA(Cloud(), step=bad), "step=%r refused" % (bad,))

# -- the peer vanishes inside the head: a dropped link, retried
for what, cut in [("inside the status line", b"HTTP/1.1 20"),
                  ("inside a header line", b"HTTP/1.1 200 OK\r\nContent-Len"),
                  ("between header lines", b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n")]:
    clean()
    code, err, reqs = run("2.0", [cut, ok200(DATA)])
    ck.ok(code == 0 and len(reqs) == 2 and installed() == DATA,
          "closed %s, then a whole reply: retried and installed (%s, %d requests, %s)"
          % (what, code, len(reqs), err))

# -- a header line that never ends: refused without reading it into RAM
clean()
gc.collect()
long_line = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 60000 + b"\r\nContent-Length: 5000\r\n\r\n" + DATA
code, err, reqs = run("3.0", [long_line])
ck.ok(code == 6 and "too long" in err and len(reqs) == 1,
      "a 60 KB header line: failed 6, not retried (%s, %s)" % (code, err))
ck.eq(installed(), None, "nothing installed")
clean()
code, err, _ = run("3.1", [b"HTTP/1.1 200 OK" + b"!" * 60000 + b"\r\n\r\n"])
ck.ok(code == 6 and "too long" in err, "a 60 KB status line: failed 6 (%s)" % err)
pad = b"X-Obs-Request-Id: " + b"0123456789abcdef" * 30 + b"\r\n"  # 500 bytes: a real server's long header
code, err, _ = run("3.2", [b"HTTP/1.1 200 OK\r\n" + pad + b"Content-Length: 5000\r\n\r\n" + DATA])
ck.ok(code == 0 and installed() == DATA, "a 500-byte header line is fine (%s)" % err)

# -- a 206 shorter than asked for: the rest is asked for, not a digest failure
clean()
code, err, reqs = run("4.0", [partial(DATA[:2000], 0, 5000), partial(DATA[2000:], 2000, 5000)])
ck.ok(code == 0 and installed() == DATA and len(reqs) == 2 and "\r\nRange: bytes=2000-\r\n" in reqs[1],
      "206 for bytes 0-1999 of 5000: the rest asked with Range, installed (%s, %s)" % (code, err))
clean()
code, err, reqs = run("4.1", [b"HTTP/1.1 206 Partial Content\r\nContent-Length: 0\r\n"
                              b"Content-Range: bytes 0--1/5000\r\n\r\n"] * 3)
ck.ok(code == 6 and len(reqs) == 3 and installed() is None,
      "empty 206 answers: no progress, failed 6 after the retries (%s, %d requests, %s)" % (code, len(reqs), err))

# -- a server ignoring Range whose link drops at varying points: starting
# again from 0 and falling short of the furthest byte is no progress, so the
# retries run out (they did not: each cut at another byte reset the count)
clean()
H = len(ok200(DATA)) - len(DATA)
code, err, reqs = run("4.2", [ok200(DATA)[:H + n] for n in (3000, 2000, 1000, 2500, 1500, 2800, 1200, 2200)]
                      + [ok200(DATA)])
ck.ok(code == 6 and len(reqs) == 3 and "3 tries" in err,
      "200s cut at 3000, 2000, 1000, ... bytes (retries=2): failed 6 after 3 requests (%s, %d requests, %s)"
      % (code, len(reqs), err))

# -- more bytes than announced: the announced ones only
clean()
code, err, _ = run("5.0", [ok200(DATA) + b"trailing garbage"])
ck.ok(code == 0 and installed() == DATA, "bytes past Content-Length ignored (%s)" % err)

# -- the platform sends the next upgrade as soon as the version report
# arrives (as IoTDA and the emulator do for a waiting task): not "busy"
ota._bg = True
srv.replies[:] = [ok200(DATA), ok200(DATA)]
del results[:]
del cloud.errors[:]
nxt = []


def platform(payload):
    s = payload["services"][0]
    if s["event_type"] == "version_report" and s["paras"].get("fw_version") == "6.0" and not nxt:
        nxt.append(1)
        cloud._on_events("t", event("6.1"))  # delivered by the receive thread


cloud.on_pub = platform
cloud._on_events("t", event("6.0"))
for _ in range(300):
    if len(results) == 2 and not ota.busy:
        break
    gc.collect()  # another thread collecting during the downloads
    time.sleep(0.01)
cloud.on_pub = None
ck.ok(sorted(results) == [(0, "6.0"), (0, "6.1")],
      "the upgrade sent on the version report ran too: %s (%s)" % (results, cloud.errors))
ck.ok(1 not in [p["result_code"] for p in cloud.progress("6.1")], "6.1 was not reported busy")

# -- the same upgrade event again while it downloads (MQTT QoS 1 may deliver
# twice): not reported busy, which would fail the platform's task
del results[:]
del cloud.sent[:]
whole = ok200(DATA)
srv.replies[:] = [(whole[:1000], whole[1000:])]
srv.requests[:] = []
srv.gate.acquire()
cloud._on_events("t", event("7.0"))
for _ in range(200):
    if srv.requests:
        break
    time.sleep(0.01)
cloud._on_events("t", event("7.0"))
srv.gate.release()
for _ in range(300):
    if results and not ota.busy:
        break
    time.sleep(0.01)
codes = [p["result_code"] for p in cloud.progress("7.0")]
ck.ok(results == [(0, "7.0")] and codes == [0], "a duplicate of the running upgrade: ignored, installed (%s, %s)" % (results, codes))

clean()
ck.finish()
