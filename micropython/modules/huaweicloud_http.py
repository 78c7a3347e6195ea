# huaweicloud_http: the small HTTP(S)/1.1 client huaweicloud_ota and
# huaweicloud_files share (frozen with either; docs/huaweicloud.md). One
# request per connection (Connection: close), no redirects, no chunked
# bodies. Reads with readinto() only, the one read every port's socket has
# (QuecPython's lwIP sockets have no readline()), into the caller's buffer:
# RAM bounded by it and by the header limits below.
import os
import socket
import time
from micropython import const

_LINE = const(1024)  # longest response header line
_HEAD = const(8192)  # longest response head


class HTTPError(Exception):
    """A response or a peer this client refuses (not worth retrying)."""


def split_url(url):
    # -> (tls, host, port, host[:port], path?query)
    tls = url.startswith("https://")
    if not tls and not url.startswith("http://"):
        raise ValueError("not an http(s) URL: %s" % url[:40])
    rest = url[8 if tls else 7:]
    i = rest.find("/")
    hostport, path = (rest, "/") if i < 0 else (rest[:i], rest[i:])
    host, _, port = hostport.partition(":")
    if not host or "@" in hostport or "[" in hostport:
        raise ValueError("url: unsupported host " + hostport)
    try:
        port = int(port) if port else (443 if tls else 80)
    except ValueError:
        raise ValueError("url: bad port")
    return tls, host, port, hostport, path


def _tls(sock, host, params):
    # ssl_params as HuaweiCloud and umqtt take them; a CA means verification
    p = dict(params or {})
    for f, k in (("cafile", "cadata"), ("certfile", "cert"), ("keyfile", "key")):
        if p.get(f) is not None and p.get(k) is None:
            with open(p[f], "rb") as fh:
                p[k] = fh.read()
    ca = p.get("cadata") or p.get("ca_certs")
    cert = p.get("cert")
    hostname = p.get("server_hostname") or host
    try:
        import ussl  # QuecPython: ussl.wrap_socket(sock, ca_certs=, certfile=, keyfile=, ...)
    except ImportError:
        ussl = None
    if ussl is not None:
        kw = {"server_hostname": hostname}
        if ca is not None:
            kw["ca_certs"] = ca
            kw["cert_reqs"] = 2  # CERT_REQUIRED
        if cert is not None:
            kw["certfile"] = cert
            kw["keyfile"] = p.get("key")
        return ussl.wrap_socket(sock, **kw)
    import tls
    ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = tls.CERT_REQUIRED if ca is not None else p.get("cert_reqs", tls.CERT_NONE)
    if ca is not None:
        ctx.load_verify_locations(ca)
    if cert is not None:
        ctx.load_cert_chain(cert, p.get("key"))
    return ctx.wrap_socket(sock, server_hostname=hostname)


def _count(n):
    # a stream object (the lwIP test double, any io.IOBase stream) may give
    # an error as -errno; None: no data before the timeout
    if n is None:
        raise OSError(110, "timed out")
    if n < 0:
        raise OSError(-n)
    return n


def read(s, mv):
    """One readinto(mv): the byte count, 0 at the peer's close."""
    try:
        return _count(s.readinto(mv))
    except OSError as e:
        if e.args[0] == 107:  # lwIP: the peer's close, reported once as ENOTCONN
            return 0
        raise


def write(s, data):
    """All of data (a socket may take part of it)."""
    mv = memoryview(data)
    while mv:
        mv = mv[_count(s.write(mv)):]


class Response:
    """Response(socket, buffer, timeout): status, reason, length
    (Content-Length; None: none, -1: chunked, which read() refuses), range
    (the Content-Range value or None), location; read() gives the body (up
    to Content-Length) from the caller's buffer."""

    def __init__(self, s, buf, timeout=None):
        # timeout (s): the whole head must come within it (each read is
        # bounded by the socket's timeout, a trickling sender is not)
        t0 = time.ticks_ms()
        self.sock = s
        self._mv = memoryview(buf)
        self.length = self.range = self.location = None
        data = b""
        head = 0
        status = None
        chunked = False
        while True:
            i = data.find(b"\n")
            if i < 0 and len(data) > _LINE or i > _LINE:
                raise HTTPError("HTTP header line too long")
            if i < 0:
                if timeout is not None and time.ticks_diff(time.ticks_ms(), t0) > timeout * 1000:
                    raise OSError(110, "no HTTP header within %s s" % timeout)
                n = read(s, self._mv)
                if not n:
                    raise OSError(104, "connection closed in the HTTP header")
                data += self._mv[:n]
                continue
            line, data = data[:i].rstrip(b"\r"), data[i + 1:]
            head += i + 1
            if head > _HEAD:
                raise HTTPError("HTTP header over 8192 bytes")
            if status is None:
                parts = line.split(None, 2)
                if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                    raise HTTPError("not an HTTP response: %r" % line[:40])
                status = self.status = int(parts[1])
                self.reason = parts[2].strip().decode() if len(parts) > 2 else ""
                continue
            if not line:
                break
            k, sep, v = line.partition(b":")
            if not sep:
                raise HTTPError("malformed HTTP header line %r" % line[:40])
            k, v = k.strip().lower(), v.strip()
            if k == b"content-length":
                if not v.isdigit():
                    raise HTTPError("no valid Content-Length")
                self.length = int(v)
            elif k == b"content-range":
                self.range = v
            elif k == b"location":
                self.location = v.decode()
            elif k == b"transfer-encoding" and b"chunked" in v:
                chunked = True
        if chunked:
            self.length = -1  # read() refuses it
        self._rest = data  # body bytes read with the head: they go first
        self._left = self.length

    def read(self):
        """The next body bytes (in the buffer: valid until the next
        read), empty at the end: at Content-Length, or at the
        peer's close when there is none. Bytes past Content-Length are
        never read."""
        left = self._left
        if left == -1:  # its framing would pass for the body
            raise HTTPError("chunked transfer encoding: Content-Length needed")
        d, self._rest = self._rest, b""
        if not d and left != 0:
            d = self._mv[:read(self.sock, self._mv if left is None else self._mv[:left])]
        if left is not None:
            d = d[:left]
            self._left -= len(d)
        return d


def request(method, url, timeout, ssl_params, headers=""):
    """Connects (TLS for https://) and sends the request head (headers:
    more lines, each ending in \\r\\n); the open socket, to write a body
    to, then Response(socket, buffer, timeout). A refused
    certificate raises HTTPError, a network failure OSError."""
    tls, host, port, hostport, path = split_url(url)
    ai = socket.getaddrinfo(host, port)[0]
    s = socket.socket(ai[0], socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(ai[-1])
        if tls:
            try:
                s = _tls(s, host, ssl_params)
            except OSError:
                raise
            except Exception as e:  # a refused certificate or name
                raise HTTPError("TLS with %s refused (certificate or name): %s %s" % (host, type(e).__name__, e))
        write(s, ("%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s\r\n" % (
            method, path, hostport, headers)).encode())
    except BaseException:
        s.close()
        raise
    return s


class FileSink:
    """A download to a file: path + ".part" while it arrives; commit() renames
    it to path, abort() removes it, so path only ever holds a whole (for OTA:
    verified) file. huaweicloud_ota's default sink, huaweicloud_files' too."""

    def __init__(self, path):
        self.path = path
        self._f = None

    def begin(self, info):
        self.abort()
        self._f = open(self.path + ".part", "wb")

    def write(self, data):
        self._f.write(data)

    def commit(self):
        self._f.close()
        self._f = None
        try:
            os.remove(self.path)
        except OSError:
            pass
        os.rename(self.path + ".part", self.path)

    def abort(self):
        if self._f is not None:
            self._f.close()
            self._f = None
        try:
            os.remove(self.path + ".part")
        except OSError:
            pass
