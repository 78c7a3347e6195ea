# huaweicloud_http (the HTTP client of huaweicloud_ota and huaweicloud_files)
# and huaweicloud_files against a scripted server misbehaving at the edges:
# the peer vanishing mid-header / mid-body, more bytes than Content-Length,
# heads too long, a sender trickling its head, a sink that raises. Also run
# over the double of QuecPython's lwIP sockets (tests/run_firmware_tests.py,
# LWIP_TESTS): no readline(), the peer's close read as ENOTCONN once.
import os
import time
import huaweicloud_http as http
import huaweicloud_files
from mqtt_test_util import Checker, uid
from http_script_server import ScriptedServer

ck = Checker("huaweicloud_http: edges (and huaweicloud_files over it)")
PATH = "/tmp/%s.bin" % uid("http-edge")
DATA = bytes((i * 11 + 1) & 0xFF for i in range(3000))


def ok200(body):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body


srv = ScriptedServer("/b/f.bin", text=False)
buf = bytearray(64)  # smaller than most heads: lines span reads


def get(reply, timeout=3):
    """GET over huaweicloud_http: (status, body) or the exception."""
    srv.replies[:] = [reply]
    s = http.request("GET", srv.url(), timeout, None)
    try:
        r = http.Response(s, buf, timeout)
        body = b""
        while True:
            d = r.read()
            if not d:
                break
            body += d
        return r.status, body
    except Exception as e:
        return e
    finally:
        s.close()


# -- what a well-behaved reply gives, the request sent
ck.eq(get(ok200(DATA)), (200, DATA), "a 200 read through a 64-byte buffer")
ck.ok(srv.requests[-1].startswith(b"GET /b/f.bin HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % srv.port),
      "GET of the path, Host with the port: %r" % srv.requests[-1][:60])
ck.eq(get(b"HTTP/1.0 200 OK\r\n\r\n" + DATA), (200, DATA), "no Content-Length: the body up to the peer's close")

# -- more bytes than announced: the announced ones only
ck.eq(get(ok200(DATA[:100]) + b"garbage past Content-Length" * 10), (200, DATA[:100]),
      "bytes past Content-Length are not handed out")

# -- the peer vanishes
for what, reply in [("inside the status line", b"HTTP/1.1 20"),
                    ("inside a header line", b"HTTP/1.1 200 OK\r\nContent-Len"),
                    ("before the blank line", b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n")]:
    e = get(reply)
    ck.ok(isinstance(e, OSError) and "closed in the HTTP header" in str(e), "closed %s: OSError (%r)" % (what, e))
st, body = get(ok200(DATA)[:1000])
ck.ok(st == 200 and 0 < len(body) < 3000, "closed mid-body: the bytes that came, then the end (%d)" % len(body))

# -- heads too long: refused without holding them in RAM
e = get(b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 5000 + b"\r\nContent-Length: 0\r\n\r\n")
ck.ok(isinstance(e, http.HTTPError) and "line too long" in str(e), "a 5000-byte header line: %r" % e)
e = get(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: 0123456789abcdef\r\n" * 400 + b"Content-Length: 0\r\n\r\n")
ck.ok(isinstance(e, http.HTTPError) and "over 8192 bytes" in str(e), "400 short header lines (10 KB): %r" % e)
ck.ok(isinstance(get(b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n"), http.HTTPError), "a bad Content-Length")

# -- a sender trickling its head keeps each read under the timeout: the
# whole head must still come within the timeout. (A unix socket's readinto
# waits for a full buffer, lwIP's returns what came: a head longer than the
# buffer is checked between reads on both.)
slow = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"p" * 200 + b"\r\nContent-Length: 2\r\n\r\nok"
t0 = time.ticks_ms()
e = get(("trickle", slow, 0.02), timeout=1)
ms = time.ticks_diff(time.ticks_ms(), t0)
ck.ok(isinstance(e, OSError) and "within 1 s" in str(e) and ms < 3000,
      "a %d-byte reply sent one byte per 20 ms, timeout 1 s: given up in ~1 s (%r after %d ms)" % (len(slow), e, ms))


# -- huaweicloud_files over the same client
class StubCloud:
    _running = True
    _ssl_params = {}

    def __init__(self):
        self.reports = []

    def set_service_handler(self, sid, f):
        self.handler = f

    def _event(self, sid, etype, paras):
        if etype.startswith("get_"):
            self.handler(etype + "_response", {"url": srv.url("/b/" + paras["file_name"]),
                                               "object_name": paras["file_name"]})
        else:
            self.reports.append((etype[:-14], paras["result_code"], paras.get("status_code"),
                                 paras["status_description"]))


def exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


cloud = StubCloud()
files = huaweicloud_files.Files(cloud, timeout=3, chunk=64)


def download(reply, sink=PATH):
    srv.replies[:] = [reply]
    del cloud.reports[:]
    try:
        return files.download("f.bin", sink)
    except Exception as e:
        return e


ck.eq(download(ok200(DATA) + b"trailing"), 3000, "files: more than Content-Length: the announced bytes")
with open(PATH, "rb") as f:
    ck.ok(f.read() == DATA and not exists(PATH + ".part"), "files: the file is the body, no .part left")
os.remove(PATH)
e = download(ok200(DATA)[:1500])
ck.ok(isinstance(e, OSError) and "of 3000 bytes" in str(e) and not exists(PATH) and not exists(PATH + ".part"),
      "files: closed mid-body: OSError, no file, no .part (%r)" % e)
ck.ok(cloud.reports and cloud.reports[-1][1] == 1, "files: the failure reported: %s" % cloud.reports)
e = download(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 95\r\n\r\n<?xml version=\"1.0\"?><Error>"
             b"<Code>AccessDenied</Code><Message>no</Message></Error>" + b" " * 19)
ck.ok(isinstance(e, OSError) and "HTTP 403 AccessDenied" in str(e) and not exists(PATH + ".part"),
      "files: OBS's error code in the message: %r" % e)


class BadSink:
    def __init__(self):
        self.n = 0

    def write(self, d):
        self.n += 1
        if self.n == 3:
            raise OSError(28)  # ENOSPC
        return len(d)


e = download(ok200(DATA), BadSink())
ck.ok(isinstance(e, OSError) and "download failed" in str(e) and cloud.reports[-1][1] == 1,
      "files: a sink that raises: OSError, failure reported (%r, %s)" % (e, cloud.reports[-1:]))
chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
e = download(chunked)
ck.ok(isinstance(e, OSError) and "chunked" in str(e) and not exists(PATH) and not exists(PATH + ".part")
      and cloud.reports[-1][1] == 1,
      "files: a chunked body (its framing is not the file): refused, nothing written (%r)" % (e,))
e = download(b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 5000 + b"\r\n\r\n")
ck.ok(isinstance(e, OSError) and "line too long" in str(e) and not exists(PATH + ".part"),
      "files: a 5000-byte header line refused: %r" % e)

for f in (PATH, PATH + ".part"):
    try:
        os.remove(f)
    except OSError:
        pass
ck.finish()
