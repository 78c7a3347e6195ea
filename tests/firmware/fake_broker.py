# A scripted MQTT "broker" inside the MicroPython process (a thread per
# connection), for tests that need a server that misbehaves on cue: never
# acknowledges, drops the first link, counts PINGREQs... tests/hostile has
# the CPython one; this one lets a firmware test own both ends.
import os
import socket
import _thread
import time


def _readn(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            return None
        b += d
    return b


def read_packet(c):
    """(first byte, body) of one packet, or None at EOF/error."""
    try:
        h = _readn(c, 1)
        if h is None:
            return None
        mult, rl = 1, 0
        while True:
            x = _readn(c, 1)
            if x is None:
                return None
            rl += (x[0] & 127) * mult
            mult *= 128
            if not x[0] & 128:
                break
        body = _readn(c, rl) if rl else b""
        if body is None:
            return None
        return h[0], body
    except OSError:
        return None


CONNACK = b"\x20\x02\x00\x00"
PINGRESP = b"\xd0\x00"


class FakeBroker:
    """handler(conn, index) runs in its own thread for every accepted link."""

    def __init__(self, handler):
        self.handler = handler
        self.accepted = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        r = os.urandom(2)
        base = 20000 + ((r[0] << 8 | r[1]) % 30000)
        for port in range(base, base + 200):
            try:
                self.sock.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
                self.port = port
                break
            except OSError:
                pass
        self.sock.listen(4)
        _thread.start_new_thread(self._accept, ())

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            n = self.accepted
            self.accepted += 1
            _thread.start_new_thread(self._run, (c, n))

    def _run(self, c, n):
        try:
            self.handler(c, n)
        except Exception as e:
            print("  (fake broker handler {}: {!r})".format(n, e))
        try:
            c.close()  # unix sockets keep their fd: close once, here
        except OSError:
            pass


def serve_silently(c, on_packet=None):
    """Answers PINGREQ, reports every packet to on_packet(first, body)."""
    while True:
        p = read_packet(c)
        if p is None:
            return
        if on_packet is not None:
            on_packet(p[0], p[1])
        if p[0] == 0xC0:
            try:
                c.send(PINGRESP)
            except OSError:
                return
