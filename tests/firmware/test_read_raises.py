# A stream whose read raises (MicroPython's tls does, with OSError) loses the
# link with that error. A MemoryError there is told as ENOMEM, not as a
# generic EIO; a KeyboardInterrupt goes through to the script, the link is
# lost all the same and the client's lock is free afterwards.
import errno
import io
from umqtt import MQTTClient
from mqtt_test_util import Checker

ck = Checker("a stream read that raises is a lost link, with the right errno")
POLL, POLL_RD, POLL_WR = 3, 1, 4


class Stream(io.IOBase):
    def __init__(self):
        # bytes, not bytearray: an empty bytearray slice makes MicroPython's
        # objarray.c memcpy from NULL (UB that UBSan stops make sanitize-test on)
        self.incoming = b"\x20\x02\x00\x00"  # CONNACK
        self.raises = None

    def readinto(self, buf):
        if self.raises is not None:
            raise self.raises
        n = min(len(buf), len(self.incoming))
        if n == 0:
            return None
        buf[:n] = self.incoming[:n]
        self.incoming = self.incoming[n:]
        return n

    def write(self, buf):
        return len(buf)

    def ioctl(self, req, arg):
        if req == POLL:
            readable = self.raises is not None or self.incoming
            return arg & (POLL_RD | POLL_WR if readable else POLL_WR)
        return 0


def logged_in(name):
    s = Stream()
    c = MQTTClient(name, "localhost", 1883, reconn=False, keepalive=0)
    c.set_callback(lambda t, m: None)
    c.connect(sock=s)
    return c, s


for exc, want in ((OSError(errno.ETIMEDOUT), errno.ETIMEDOUT), (MemoryError(), errno.ENOMEM)):
    c, s = logged_in("raises")
    s.raises = exc
    try:
        c.check_msg()
        got = "returned"
    except OSError as e:
        got = e.errno
    except Exception as e:
        got = repr(e)
    ck.eq(got, want, "check_msg() after a read raised {!r}".format(exc))
    ck.ok(c.get_mqttsta() != 0, "the link is lost after a read raised {!r}".format(exc))

c, s = logged_in("interrupted")
s.raises = KeyboardInterrupt()
try:
    c.check_msg()
    ck.ok(False, "KeyboardInterrupt in the read goes through")
except KeyboardInterrupt:
    ck.ok(True, "KeyboardInterrupt in the read goes through")
ck.ok(c.get_mqttsta() != 0, "the link is lost after a KeyboardInterrupt in the read")
ck.eq(c.publish("t", "x"), False, "publish() after it returns (the lock is free)")
ck.finish()
