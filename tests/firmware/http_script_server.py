# A scripted HTTP server for the firmware tests of huaweicloud_http and its
# users (OTA, files): each connection gets the next reply of `replies`, then
# is closed. On the port's own sockets (usocket), so it stays real when a
# test runs over the lwIP socket double. A reply is one of:
#   bytes                        sent whole
#   (first, rest)                first, then rest once `gate` is free
#   (first, "hang")              first, then wait for `gate`, then close:
#                                a connection cut mid-response
#   ("trickle", data, seconds)   one byte per interval
import os
import time
import _thread
import usocket

NOTHING = b"HTTP/1.1 500 Nothing scripted\r\nContent-Length: 0\r\n\r\n"


class ScriptedServer:
    def __init__(self, path="/pkg/fw.bin", text=True):
        self.path = path
        self.text = text  # requests kept as str (else bytes)
        self.s = usocket.socket()
        self.s.setsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR, 1)
        for port in range(43000 + (os.urandom(1)[0] << 6), 65000, 7):
            try:
                self.s.bind(usocket.getaddrinfo("127.0.0.1", port)[0][-1])
                break
            except OSError:
                pass
        self.port = port
        self.s.listen(4)
        self.replies = []
        self.requests = []
        self.gate = _thread.allocate_lock()
        _thread.start_new_thread(self._serve, ())

    def url(self, path=None):
        return "http://127.0.0.1:%d%s" % (self.port, path or self.path)

    def _serve(self):
        while True:
            c, _ = self.s.accept()
            req = b""
            while b"\r\n\r\n" not in req:
                d = c.recv(512)
                if not d:
                    break
                req += d
            self.requests.append(req.decode() if self.text else req)
            r = self.replies.pop(0) if self.replies else NOTHING
            try:
                self._send(c, r)
            except OSError:
                pass  # the client gave up first
            c.close()

    def _send(self, c, r):
        if not isinstance(r, tuple):
            c.write(r)
        elif r[0] == "trickle":
            for i in range(len(r[1])):
                c.write(r[1][i:i + 1])
                time.sleep(r[2])
        else:
            c.write(r[0])
            self.gate.acquire()
            self.gate.release()
            if r[1] != "hang":
                c.write(r[1])
