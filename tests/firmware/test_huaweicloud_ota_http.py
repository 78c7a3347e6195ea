# huaweicloud_ota's download against a scripted HTTP server in this script:
# the strict response rules (status line, Content-Length, chunked, redirects,
# error statuses, Content-Range), resuming with Range (and starting again
# when the server ignores it), retries, the sink's failures, busy, and the
# reports the platform gets. The client is a HuaweiCloud whose uplinks are
# recorded instead of published. The emulator end to end:
# tests/emulator/test_ota_e2e.py.
import os
import time
import huaweicloud
import huaweicloud_ota as ho
from _huaweicloud import sha256_init, sha256_update, sha256_hex
from mqtt_test_util import Checker, uid
from http_script_server import ScriptedServer

ck = Checker("huaweicloud_ota: HTTP download rules")
PATH = "/tmp/%s.bin" % uid("ota-fw")
DATA = bytes((i * 7 + 3) & 0xFF for i in range(5000))


def sha(b):
    st = sha256_init()
    sha256_update(st, b)
    return sha256_hex(st)


SIGN = sha(DATA)


class Cloud(huaweicloud.HuaweiCloud):
    """Records the uplinks instead of publishing them."""

    def __init__(self):
        super().__init__("ota_dev", "secret", server="127.0.0.1", port=1883, ssl=False)
        self.sent = []
        self.errors = []
        self.error_register_cb(self.errors.append)

    def _pub(self, kind, payload, qos=1, rid=None):
        self.sent.append(payload)
        return True

    def progress(self, version):
        return [s["paras"] for p in self.sent for s in p["services"]
                if s["event_type"] == "upgrade_progress_report" and s["paras"]["version"] == version]


def ok200(body, total=None):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body


H = len(ok200(DATA)) - len(DATA)  # the 200 reply's header length


def partial(body, start, total):
    return (b"HTTP/1.1 206 Partial Content\r\nContent-Length: %d\r\nContent-Range: bytes %d-%d/%d\r\n\r\n"
            % (len(body), start, start + len(body) - 1, total) + body)


srv = ScriptedServer("/pkg/fw.bin?x=1")
cloud = Cloud()
cloud.report_version(fw_version="1.0")
ota = ho.OTA(cloud, path=PATH, chunk=256, retries=2, timeout=3, step=25, background=False)
ota.pause = 0.05  # the tests cut many connections
results = []
ota._done = lambda code, typ, paras: results.append(code)


def run(version, replies, sign=SIGN, size=len(DATA), token="tok123", typ="firmware_upgrade"):
    """One upgrade event handled inline: (result code, last error text, requests)."""
    srv.replies[:] = replies
    srv.requests[:] = []
    del cloud.errors[:]
    del results[:]
    p = {"version": version, "url": srv.url(), "file_size": size, "sign": sign}
    if token:
        p["access_token"] = token
    cloud._on_events("t", '{"services":[{"service_id":"$ota","event_type":"%s","paras":%s}]}'
                     % (typ, __import__("json").dumps(p)))
    return (results[0] if results else None), (cloud.errors[-1] if cloud.errors else ""), list(srv.requests)


def installed():
    try:
        with open(PATH, "rb") as f:
            return f.read()
    except OSError:
        return None


def part_gone():
    try:
        os.stat(PATH + ".part")
        return False
    except OSError:
        return True


# -- success, and what the request and the reports look like
code, err, reqs = run("2.0", [ok200(DATA)])
ck.eq(code, 0, "200 with the package: installed")
ck.ok(installed() == DATA and part_gone(), "the file is the package, no .part left")
ck.ok(reqs and reqs[0].startswith("GET /pkg/fw.bin?x=1 HTTP/1.1\r\n"), "GET of the URL's path and query")
ck.ok("\r\nAuthorization: Bearer tok123\r\n" in reqs[0] and "\r\nHost: 127.0.0.1:%d\r\n" % srv.port in reqs[0]
      and "Range:" not in reqs[0], "Bearer token and Host sent, no Range")
prog = [p.get("progress") for p in cloud.progress("2.0")]
ck.ok(len(prog) == 4 and prog[0] >= 25 and prog == sorted(set(prog)) and prog[-1] == 100
      and all(p["result_code"] == 0 for p in cloud.progress("2.0")),
      "progress once per 25 %%, then 0 / 100: %s" % prog)
ck.eq(cloud._versions, {"fw_version": "2.0"}, "the new firmware version reported")

# -- strict responses: each a download failure (6), nothing installed
for what, reply, expect in [
    ("not HTTP", b"HTTX/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", "not an HTTP response"),
    ("no Content-Length", b"HTTP/1.1 200 OK\r\n\r\n" + DATA, "no valid Content-Length"),
    ("chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5000\r\n\r\n", "chunked"),
    ("redirect", b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere/fw\r\nContent-Length: 0\r\n\r\n",
     "HTTP 302 redirect to http://elsewhere/fw: not followed"),
    ("404", b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "HTTP 404 Not Found"),
    ("header line without a colon", b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n", "malformed HTTP header line"),
    ("another size", ok200(DATA[:4000]), "server has 4000 bytes, file_size is 5000"),
]:
    code, err, _ = run("3.0", [reply])
    ck.ok(code == 6 and expect in err, "%s: failed 6 (%s)" % (what, err))
ck.ok(installed() == DATA and part_gone(), "none of them installed anything")
rep = cloud.progress("3.0")[-1]
ck.ok(rep["result_code"] == 6 and rep["description"] == "server has 4000 bytes, file_size is 5000"
      and rep.get("progress") is None, "the platform gets the failure with its reason: %s" % rep)

# -- resuming
cut = 1500 - H  # body bytes before the cut
code, err, reqs = run("4.0", [(ok200(DATA)[:1500], "hang"), partial(DATA[cut:], cut, 5000)])
ck.eq(code, 0, "cut after %d bytes, resumed with a 206: installed (%s)" % (cut, err))
ck.ok(len(reqs) == 2 and "\r\nRange: bytes=%d-\r\n" % cut in reqs[1], "the second request asks for bytes=%d-" % cut)
ck.ok(installed() == DATA, "the resumed file is whole")
code, err, reqs = run("4.1", [(ok200(DATA)[:3000], "hang"), ok200(DATA)])
ck.eq(code, 0, "a server ignoring Range (200 again): started again, installed (%s)" % err)
ck.ok(len(reqs) == 2 and "Range: bytes=" in reqs[1] and installed() == DATA, "whole file after the restart")
code, err, _ = run("4.2", [(ok200(DATA)[:1000], "hang"), partial(DATA[10:], 10, 5000)])
ck.ok(code == 6 and "does not answer bytes=%d-" % (1000 - H) in err, "a 206 for other bytes: failed 6 (%s)" % err)
code, err, reqs = run("4.3", [b"", b"", b""])
ck.ok(code == 6 and "download failed (3 tries)" in err and len(reqs) == 3,
      "closed at once 3 times (retries=2): failed 6 after 3 requests (%s)" % err)
def cuts(*sizes):
    """Replies that each deliver `size` more body bytes then cut, then the rest."""
    out, at = [], 0
    for n in sizes:
        r = ok200(DATA) if at == 0 else partial(DATA[at:], at, 5000)
        out.append((r[:len(r) - (len(DATA) - at) + n], "hang"))
        at += n
    return out + [partial(DATA[at:], at, 5000)]


code, err, reqs = run("4.4", cuts(700, 300, 300))
ck.ok(code == 0 and len(reqs) == 4 and installed() == DATA,
      "three cuts, each after progress (retries=2): the count starts again, installed (%s)" % err)
code, err, reqs = run("4.5", cuts(700, 0, 0))
ck.ok(code == 6 and len(reqs) == 3 and "3 tries" in err,
      "a cut, then 2 more without progress (retries=2): failed 6 after 3 requests (%s)" % err)

# -- the digest and the sink
code, err, _ = run("5.0", [ok200(DATA)], sign=sha(DATA[:-1] + b"\x00"))
ck.ok(code == 7 and "SHA-256" in err, "a wrong sign: failed 7 (%s)" % err)
ck.ok(installed() == DATA and part_gone(), "nothing installed, no .part left")
code, err, _ = run("5.1", [ok200(DATA)], sign=SIGN.upper())
ck.eq(code, 0, "sign in upper case: accepted")


class Sink:
    def __init__(self, fail):
        self.fail, self.log, self.got = fail, [], b""

    def begin(self, info):
        self.log.append("begin")

    def write(self, data):
        if self.fail == "write":
            raise OSError(28)  # ENOSPC: must not be taken for a network error
        self.got += bytes(data)

    def commit(self):
        self.log.append("commit")
        if self.fail == "commit":
            raise RuntimeError("flash verify")

    def abort(self):
        self.log.append("abort")


file_sink = ota.sink
for fail, want, expect in [("write", 255, "sink write: OSError"), ("commit", 10, "sink commit: RuntimeError")]:
    ota.sink = Sink(fail)
    code, err, reqs = run("6." + fail, [ok200(DATA)])
    ck.ok(code == want and expect in err and len(reqs) == 1,
          "the sink's %s raises: %d, not retried (%s)" % (fail, code, err))
    ck.eq(ota.sink.log[-1], "abort", "the sink was aborted")
ota.sink = Sink(None)
code, err, reqs = run("6.v2", [ok200(DATA)], size=None, token=None, typ="software_upgrade_v2")
ck.ok(code == 0 and ota.sink.got == DATA and ota.sink.log == ["begin", "commit"],
      "software_upgrade_v2 without file_size: the size from Content-Length, committed once")
ck.ok("Authorization" not in reqs[0], "no token: no Authorization header")
ck.eq(cloud._versions, {"fw_version": "5.1", "sw_version": "6.v2"}, "a software upgrade reports sw_version")
ota.sink = file_sink

# -- busy: an event while a download runs
ota._bg = True
srv.gate.acquire()
srv.replies[:] = [(ok200(DATA)[:500], "hang"), partial(DATA[500 - H:], 500 - H, 5000)]
cloud._on_events("t", '{"services":[{"service_id":"$ota","event_type":"firmware_upgrade","paras":'
                 '{"version":"7.0","url":"%s","file_size":5000,"sign":"%s"}}]}' % (srv.url(), SIGN))
for _ in range(100):
    if srv.requests:
        break
    time.sleep(0.02)
del cloud.errors[:]
cloud._on_events("t", '{"services":[{"service_id":"$ota","event_type":"firmware_upgrade","paras":'
                 '{"version":"7.1","url":"%s","file_size":5000,"sign":"%s"}}]}' % (srv.url(), SIGN))
ck.ok(cloud.errors and "another upgrade is running" in cloud.errors[-1], "a second event: %s" % cloud.errors[-1:])
ck.eq([p["result_code"] for p in cloud.progress("7.1")], [1], "reported busy (1) to the platform")
srv.gate.release()
for _ in range(200):
    if not ota.busy:
        break
    time.sleep(0.02)
ck.ok(not ota.busy and cloud.progress("7.0")[-1]["result_code"] == 0, "the first upgrade completed")

for f in (PATH, PATH + ".part"):
    try:
        os.remove(f)
    except OSError:
        pass
ck.finish()
