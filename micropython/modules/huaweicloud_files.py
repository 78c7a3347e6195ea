# huaweicloud_files: file upload / download through the URLs IoTDA gives
# ($file_manager), over a huaweicloud.HuaweiCloud client: ask for the URL,
# HTTP PUT / GET it over the port's socket (TLS for https), streamed through
# one buffer of `chunk` bytes, then report the result. Frozen
# (micropython/manifest.py); docs/huaweicloud.md, "Files".
import huaweicloud as _hc
import huaweicloud_http as _http
import os
import time

_SVC = "$file_manager"


def _name(file_name):
    n = _hc._text(file_name, "file_name")
    if not 0 < len(n) <= 255 or "/" in n or "\\" in n or n in (".", ".."):
        raise ValueError("file_name: 1..255 characters, no path")
    return n


class Files:
    """Uploads and downloads of `cloud`'s device through IoTDA's file URLs."""

    def __init__(self, cloud, timeout=30, chunk=1024, ssl_params=None):
        if not isinstance(chunk, int) or chunk < 64:
            raise ValueError("chunk: at least 64 bytes")
        self.cloud = cloud
        self.timeout = timeout
        self._buf = bytearray(chunk)  # the one transfer buffer: RAM bounded by it
        self._ssl = ssl_params if ssl_params is not None else cloud._ssl_params
        self._answers = {}  # get_*_url_response event type -> paras
        cloud.set_service_handler(_SVC, self._on_event)

    def _on_event(self, event_type, paras):
        self._answers[event_type] = paras

    def _url(self, kind, file_name, attrs):
        # asks for the URL and waits for the platform's answer
        answer = "get_%s_url_response" % kind
        self._answers.pop(answer, None)
        p = {"file_name": file_name}
        if attrs:
            p["file_attributes"] = attrs
        self.cloud._event(_SVC, "get_%s_url" % kind, p)
        t0 = time.ticks_ms()
        while answer not in self._answers:
            if time.ticks_diff(time.ticks_ms(), t0) > self.timeout * 1000:
                raise OSError(110, "no %s URL from the platform within %s s" % (kind, self.timeout))
            if not self.cloud._running:
                self.cloud.check_msg()  # no receive thread: read here
            time.sleep_ms(10)
        r = self._answers.pop(answer)
        if not isinstance(r.get("url"), str):
            raise ValueError("%s without a url" % answer)
        return r

    def _report(self, kind, obj, status, desc):
        p = {"object_name": obj, "result_code": 0 if 200 <= status < 300 else 1}
        if status:
            p["status_code"] = status
        p["status_description"] = desc[:128]
        self.cloud._event(_SVC, kind + "_result_report", p)

    def _error_text(self, r):
        # OBS: <Error><Code>AccessDenied</Code>...: the code, from the body's start
        body = b""
        try:
            while len(body) < 200:
                d = r.read()
                if not d:
                    break
                body += d
        except Exception:  # OSError, HTTPError (chunked)
            pass
        i = body.find(b"<Code>")
        code = body[i + 6:body.find(b"<", i + 6)].decode() if i >= 0 else ""
        return ("HTTP %d %s" % (r.status, code)).strip()

    def upload(self, file_name, source, size=None, hash_code=None):
        """Uploads `source` (a path, or a stream with readinto() and then
        `size`) as `file_name`; returns the object name. On failure the
        result is reported to the platform and OSError raised."""
        file_name = _name(file_name)
        f = None
        if isinstance(source, str):
            size = os.stat(source)[6]
            f = source = open(source, "rb")
        elif not hasattr(source, "readinto") or not isinstance(size, int) or size < 0:
            raise TypeError("source: a path, or a stream with readinto() and size")
        try:
            attrs = {"size": size}
            if hash_code is not None:
                attrs["hash_code"] = _hc._text(hash_code, "hash_code")
            r = self._url("upload", file_name, attrs)
            obj = r.get("object_name") or file_name
            status, desc = 0, ""
            try:
                s = _http.request("PUT", r["url"], self.timeout, self._ssl, "Content-Length: %d\r\n" % size)
                try:
                    buf, mv, left = self._buf, memoryview(self._buf), size
                    while left:
                        n = source.readinto(buf if left >= len(buf) else mv[:left])
                        if not n:
                            raise OSError(5, "source ended %d bytes early" % left)
                        _http.write(s, mv[:n])
                        left -= n
                    h = _http.Response(s, buf, self.timeout)
                    status = h.status
                    desc = "upload success" if 200 <= status < 300 else self._error_text(h)
                finally:
                    s.close()
            except Exception as e:  # OSError, HTTPError, the TLS module's ValueError
                desc = "upload failed: %s" % e
            self._report("upload", obj, status, desc)
            if not 200 <= status < 300:
                raise OSError(5, desc)
            return obj
        finally:
            if f is not None:
                f.close()

    def download(self, file_name, sink):
        """Downloads `file_name` into `sink` (a path: written to path + ".part"
        and renamed when complete, or a stream with write()); returns the
        byte count. On failure the result is reported and OSError raised
        (a path sink is then left untouched)."""
        file_name = _name(file_name)
        if not isinstance(sink, str) and not hasattr(sink, "write"):
            raise TypeError("sink: a path or a stream with write()")
        r = self._url("download", file_name, None)
        obj = r.get("object_name") or file_name
        want = (r.get("file_attributes") or {}).get("size")
        part = _http.FileSink(sink) if isinstance(sink, str) else None
        status, desc, got = 0, "", 0
        try:
            s = _http.request("GET", r["url"], self.timeout, self._ssl)
            try:
                h = _http.Response(s, self._buf, self.timeout)
                status, length = h.status, h.length
                if not 200 <= status < 300:
                    desc = self._error_text(h)
                else:
                    out = sink
                    if part is not None:
                        part.begin(None)
                        out = part
                    while True:
                        d = h.read()
                        if not d:
                            break
                        out.write(d)
                        got += len(d)
                    if length is not None and got != length or isinstance(want, int) and got != want:
                        status, desc = 0, "download failed: %d of %s bytes" % (got, length if want is None else want)
                    else:
                        desc = "download success"
            finally:
                s.close()
        except Exception as e:  # OSError, HTTPError, the TLS module's ValueError
            status, desc = 0, "download failed: %s" % e
        ok = 200 <= status < 300
        if part is not None:
            part.commit() if ok else part.abort()
        self._report("download", obj, status, desc)
        if not ok:
            raise OSError(5, desc)
        return got
