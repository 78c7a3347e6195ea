# Review of open_link (one nlr frame for TCP, TLS and the poller): a connect()
# that fails at each step after the TCP socket exists closes exactly what it
# opened -- the TCP socket until a TLS stream exists, then the TLS stream --
# and never a stream the script gave with connect(sock=). The TLS steps run
# on QuecPython's path (ussl.wrap_socket), here through a stand-in ussl on
# sys.path (the unix port has none), so each failure can be chosen. The
# error text is QuecPython's "MQTT Connect error='<str(exc)>' FAIL", all of
# str(exc) (a NUL in it included).
import os

from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid, open_fds, stand_in_module

N = 200
ck = Checker("review: every failing connect() step closes what it opened")
cid = uid("rv-steps")
ussl, d = stand_in_module("ussl", "mode = None\n"
                                  "def wrap_socket(sock, **kw):\n"
                                  "    if mode == 'value':\n"
                                  "        raise ValueError('bad\\x00cert')\n"
                                  "    if mode == 'os':\n"
                                  "        raise OSError(-9984)\n"
                                  "    return sock\n", "rv-steps")


def fail_connects(what, ssl, expect_text=None, **kw):
    before = open_fds()
    texts = set()
    for _ in range(N):
        c = MQTTClient(cid, HOST, PORT, ssl=ssl, reconn=False)
        try:
            c.connect(**kw)
            ck.ok(False, what + ": connect() did not raise")
            break
        except ValueError as e:
            texts.add(e.args[0] if e.args else None)
    after = open_fds()
    ck.ok(after - before <= 2, "{}: descriptors before {}, after {} connects {}".format(what, before, N, after))
    if expect_text is not None:
        ck.eq(sorted(texts), [expect_text], what + ": QuecPython's text, all of str(exc)")


ussl.mode = "value"
fail_connects("ussl.wrap_socket raises ValueError", True, "MQTT Connect error='bad\x00cert' FAIL")
ussl.mode = "os"
fail_connects("ussl.wrap_socket raises OSError", True, "MQTT Connect error='-9984' FAIL")


class GivenNotAStream:
    closes = 0

    def close(self):
        GivenNotAStream.closes += 1


given = GivenNotAStream()
for ssl in (False, True):
    c = MQTTClient(cid, HOST, PORT, ssl=ssl, reconn=False)
    try:
        c.connect(sock=given)
        ck.ok(False, "sock= not a stream: connect() did not raise")
    except Exception as e:
        print("  info: sock= not a stream, ssl={}: {}: {}".format(ssl, type(e).__name__, e))
    ck.eq(GivenNotAStream.closes, 0, "sock= not a stream, ssl={}: the script's object is not closed".format(ssl))

os.remove(d + "/ussl.py")
os.rmdir(d)
ck.finish()
