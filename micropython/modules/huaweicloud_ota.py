# huaweicloud_ota: over-the-air upgrades for a HuaweiCloud client (optional,
# frozen when listed in micropython/manifest.py). Handles the platform's $ota
# events: version_query, firmware_upgrade / software_upgrade (package in
# IoTDA: url + access_token) and their _v2 forms (package in OBS: a signed
# url). The package is streamed over HTTP(S) into a sink, its SHA-256 (the
# event's `sign`) checked on the way in the native core, the progress
# reported with upgrade_progress_report; the sink commits only a package
# whose digest matched. Docs: docs/huaweicloud.md, "OTA upgrades".
try:
    import _thread
except ImportError:
    _thread = None
from time import sleep as _sleep
import huaweicloud_http as _http
from _huaweicloud import sha256_init, sha256_update, sha256_hex

# upgrade_progress_report result codes (those of Huawei's device SDKs)
SUCCESS = 0
BUSY = 1
DOWNLOAD_FAILED = 6  # the SDKs' "download timeout": any failed download
CHECK_FAILED = 7  # size or SHA-256 mismatch
INSTALL_FAILED = 10  # the sink could not commit
INTERNAL_ERROR = 255  # bad event, sink error, ...

_UPGRADES = {"firmware_upgrade": "fw_version", "software_upgrade": "sw_version",
             "firmware_upgrade_v2": "fw_version", "software_upgrade_v2": "sw_version"}
_HEX = "0123456789abcdef"


class OTAError(Exception):
    """args: (result_code, description)"""


FileSink = _http.FileSink  # path + ".part", renamed once verified


def _clean(v, what):
    # no spaces or control characters: they would end up in the request
    if not isinstance(v, str) or not v or any(c <= " " for c in v):
        raise ValueError(what + " must be a non-empty string without spaces")
    return v


def _check(typ, p):
    if not isinstance(p, dict):
        raise ValueError("paras must be an object")
    v = p.get("version")
    if not isinstance(v, str) or not v:
        raise ValueError("version must be a non-empty string")
    url = _clean(p.get("url"), "url")
    if not url.startswith(("http://", "https://")):
        raise ValueError("url must be http:// or https://")
    sign = p.get("sign")
    if not isinstance(sign, str) or len(sign) != 64 or any(c not in _HEX for c in sign.lower()):
        raise ValueError("sign must be 64 hex digits (the package's SHA-256)")
    size = p.get("file_size")
    if size is None and not typ.endswith("_v2") or size is not None and (
            not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise ValueError("file_size must be an int >= 0")
    if p.get("access_token") is not None:
        _clean(p["access_token"], "access_token")
    return v


class OTA:
    """OTA(cloud, sink=None, path="ota.bin", chunk=1024, retries=3, timeout=30,
    ssl_params=None, step=10, done=None, background=True)

    Takes the $ota events of `cloud` (HuaweiCloud). `sink`: an object with
    begin(info), write(data), commit(), abort() (FileSink(path) by default).
    `done(result_code, event_type, paras)` is called after the result was
    reported. The download runs in its own thread unless background=False."""

    pause = 1  # seconds before reopening a dropped download

    def __init__(self, cloud, sink=None, path="ota.bin", chunk=1024, retries=3, timeout=30,
                 ssl_params=None, step=10, done=None, background=True):
        if not isinstance(chunk, int) or chunk < 64:
            raise ValueError("chunk must be >= 64")
        if not isinstance(step, int) or step < 0:
            raise ValueError("step must be an int >= 0")
        if sink is None:
            sink = FileSink(path)
        for m in ("begin", "write", "commit", "abort"):
            if not callable(getattr(sink, m, None)):
                raise TypeError("sink needs begin, write, commit and abort")
        self._cloud = cloud
        self.sink = sink
        self._chunk = chunk
        self._retries = retries
        self._timeout = timeout
        self._ssl = cloud._ssl_params if ssl_params is None else ssl_params
        self._step = step
        self._done = done
        self._bg = background and _thread is not None
        self.busy = False
        self._running = None
        cloud.set_service_handler("$ota", self._on_event)

    # -- events (called by HuaweiCloud: an exception goes to its error callback)

    def _on_event(self, typ, p):
        if typ == "version_query":
            v = self._cloud._versions
            if not v:
                raise ValueError("version_query: call report_version() first")
            return self._cloud._event("$ota", "version_report", v)
        if typ not in _UPGRADES:
            raise ValueError("$ota: unknown event_type " + str(typ))
        try:
            v = _check(typ, p)
        except ValueError as e:
            v = p.get("version") if isinstance(p, dict) else None
            if isinstance(v, str) and v:  # the platform's task fails instead of waiting
                self._report(INTERNAL_ERROR, v, None, "bad %s event: %s" % (typ, e))
            raise ValueError("%s: %s" % (typ, e))
        if self.busy:
            if self._running == (typ, v):  # delivered twice (MQTT QoS 1): it runs
                return
            self._report(BUSY, v, None, "another upgrade is running")
            raise ValueError(typ + ": another upgrade is running")
        self.busy = True
        self._running = (typ, v)
        if not self._bg:
            return self._run(typ, p)
        try:
            _thread.start_new_thread(self._run, (typ, p))
        except BaseException:
            self.busy = False
            raise

    def _report(self, code, version, progress, desc):
        try:
            self._cloud.report_upgrade_progress(code, version, progress, desc)
        except Exception as e:
            self._cloud._report_exc("ota report", e)

    def _run(self, typ, p):
        v = p["version"]
        try:
            try:
                self._download(p)
                code, desc = SUCCESS, "upgraded"
            except OTAError as e:
                code, desc = e.args
            except Exception as e:  # not KeyboardInterrupt / SystemExit: BaseException
                code, desc = INTERNAL_ERROR, "%s: %s" % (type(e).__name__, e)
            if code:
                self._cloud._report("ota %s %s: %s" % (typ, v, desc))
            self._report(code, v, 100 if code == SUCCESS else None, desc)
            if self._done is not None:
                self._cloud._call("ota done callback", self._done, code, typ, p)
        finally:
            self.busy = False
        # not busy any more: the platform may answer with the next upgrade
        if code == SUCCESS:
            vs = dict(self._cloud._versions or {})
            vs[_UPGRADES[typ]] = v
            try:
                self._cloud.report_version(**vs)
            except Exception as e:
                self._cloud._report_exc("ota version report", e)

    # -- download

    def _sink(self, op, *a):
        # a sink failure is not a network one: never retried
        try:
            return getattr(self.sink, op)(*a)
        except Exception as e:
            raise OTAError(INSTALL_FAILED if op == "commit" else INTERNAL_ERROR,
                           "sink %s: %s: %s" % (op, type(e).__name__, e))

    def _download(self, p):
        size = p.get("file_size")
        st = sha256_init()
        buf = bytearray(self._chunk)
        done = tries = stuck = 0
        nxt = self._step
        self._sink("begin", p)
        try:
            while True:
                r = None
                try:
                    r = self._request(p, done, buf)
                    start, total = self._head(r, done)
                    if start != done:  # the server ignored Range: start again
                        self._sink("abort")
                        self._sink("begin", p)
                        st = sha256_init()
                        done = 0
                    if size is None:
                        size = total
                    elif total != size:
                        raise OTAError(DOWNLOAD_FAILED, "server has %d bytes, file_size is %d" % (total, size))
                    while True:
                        d = r.read()
                        if not d:
                            break
                        self._sink("write", d)
                        sha256_update(st, d)
                        done += len(d)
                        pct = done * 100 // size
                        if self._step and nxt <= pct < 100:
                            self._report(SUCCESS, p["version"], pct, "downloading")
                            nxt = (pct // self._step + 1) * self._step
                    if done < size:  # closed early, or a shorter 206: ask for the rest
                        raise OSError("response ended at byte %d of %d" % (done, size))
                    break
                except _http.HTTPError as e:
                    raise OTAError(DOWNLOAD_FAILED, e.args[0])
                except OSError as e:
                    # retries count failures in a row: a byte past the furthest
                    # yet resets them (a restart from 0 must get past it)
                    tries = tries + 1 if done <= stuck else 1
                    stuck = max(stuck, done)
                    if tries > self._retries:
                        raise OTAError(DOWNLOAD_FAILED, "download failed (%d tries): %s" % (tries, e))
                    _sleep(self.pause)
                finally:
                    if r is not None:
                        r.sock.close()
            if sha256_hex(st) != p["sign"].lower():
                raise OTAError(CHECK_FAILED, "SHA-256 of the package does not match sign")
            self._sink("commit")
        except BaseException:
            try:
                self.sink.abort()
            except Exception as e:
                self._cloud._report_exc("ota sink abort", e)
            raise

    def _request(self, p, offset, buf):
        """GET from offset: the response, at its body."""
        h = ""
        if p.get("access_token"):
            h = "Authorization: Bearer %s\r\n" % p["access_token"]
        if offset:
            h += "Range: bytes=%d-\r\n" % offset
        s = _http.request("GET", p["url"], self._timeout, self._ssl, h)
        try:
            return _http.Response(s, buf, self._timeout)
        except BaseException:
            s.close()
            raise

    def _head(self, r, offset):
        # -> (start, total) of a 200 / 206 with a body we can take
        status = r.status
        if 300 <= status < 400:
            raise OTAError(DOWNLOAD_FAILED, "HTTP %d redirect to %s: not followed" % (status, r.location or "?"))
        if status not in (200, 206):
            raise OTAError(DOWNLOAD_FAILED, "HTTP %d %s" % (status, r.reason))
        n = r.length
        if n is None:
            raise OTAError(DOWNLOAD_FAILED, "no valid Content-Length")
        if n < 0:
            r.read()  # chunked: HTTPError
        if status == 200:
            return 0, n
        # 206: Content-Range: bytes start-end/total
        c = r.range or b""
        try:
            unit, _, span = c.partition(b" ")
            se, _, total = span.partition(b"/")
            start, _, end = se.partition(b"-")
            start, end, total = int(start), int(end), int(total)
        except ValueError:
            raise OTAError(DOWNLOAD_FAILED, "bad Content-Range %r" % c)
        if unit != b"bytes" or start != offset or end + 1 - start != n or end >= total:
            raise OTAError(DOWNLOAD_FAILED, "Content-Range %r does not answer bytes=%d-" % (c, offset))
        return start, total
