# A test double of QuecPython's lwIP sockets, over the unix port's own, that
# shadows the built-in `socket` module (MICROPYPATH puts this folder first).
# What differs where umqtt can tell:
#  - the first read after the peer's FIN fails with ENOTCONN (107); later
#    reads return b"" (the unix port returns b"" at once);
#  - setblocking(True) clears an earlier settimeout().
# The stream protocol goes through io.IOBase (readinto/write/ioctl), so the
# C glue sees the error codes a C socket would give, not exceptions.
import io
import usocket as _real
from usocket import *  # noqa: F401,F403 (constants, getaddrinfo)

ENOTCONN = 107
_POLL = 3
_CLOSE = 4
_GET_FILENO = 10


class socket(io.IOBase):
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0):  # noqa: F405
        self._s = _real.socket(af, type, proto)
        self._eof = 0  # 1: the FIN was reported as ENOTCONN; reads give b"" now

    def connect(self, addr):
        self._s.connect(addr)

    def settimeout(self, t):
        self._s.settimeout(t)

    def setblocking(self, flag):
        # lwIP: blocking again means no timeout any more
        self._s.settimeout(None if flag else 0)

    def setsockopt(self, *args):
        self._s.setsockopt(*args)

    def readinto(self, buf):
        if self._eof:
            return 0
        try:
            # recv, not readinto: a socket's readinto waits until buf is full
            data = self._s.recv(len(buf))
        except OSError as e:
            return -e.errno
        if data is None:
            return None
        n = len(data)
        buf[:n] = data
        if n == 0:
            self._eof = 1
            return -ENOTCONN
        return n

    def write(self, buf):
        try:
            return self._s.write(buf)
        except OSError as e:
            return -e.errno

    def ioctl(self, req, arg):
        if req == _GET_FILENO:
            return self._s.fileno()
        if req == _CLOSE:
            self._s.close()
            return 0
        if req == _POLL:
            import select
            p = select.poll()
            p.register(self._s, arg)
            got = p.poll(0)
            return got[0][1] if got else 0
        return -22

    def close(self):
        self._s.close()

    def fileno(self):
        return self._s.fileno()
