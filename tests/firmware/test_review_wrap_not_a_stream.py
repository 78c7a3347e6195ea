# Review of open_link's failure path: a ussl.wrap_socket (here a stand-in on
# sys.path: the unix port has none) that returns an object which is not a
# MicroPython stream fails connect() with a ValueError and closes the TCP
# socket. Before: the object was already the stream to close on failure, and
# close_quietly()'s mp_stream_close() called a stream protocol it does not
# have: the firmware crashed (SIGSEGV) instead of raising.
import os

from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid, open_fds, stand_in_module

ck = Checker("review: wrap_socket returning no stream")
cid = uid("rv-nostream")
ussl, d = stand_in_module("ussl", "closed = []\n"
                                  "class NotAStream:\n"
                                  "    def __init__(self, sock):\n"
                                  "        self.sock = sock\n"
                                  "    def close(self):\n"
                                  "        closed.append(self)\n"
                                  "        self.sock.close()\n"
                                  "def wrap_socket(sock, **kw):\n"
                                  "    return NotAStream(sock)\n", "rv-nostream")


N = 50
before = open_fds()
raised = 0
for _ in range(N):
    c = MQTTClient(cid, HOST, PORT, ssl=True, reconn=False)
    try:
        c.connect()
    except ValueError as e:
        raised += 1
        text = e.args[0]
ck.eq(raised, N, "every connect() raised ValueError")
if raised:
    print("  info: " + text)
after = open_fds()
ck.ok(after - before <= 2, "descriptors before {}, after {} connects {}".format(before, N, after))
os.remove(d + "/ussl.py")
os.rmdir(d)
ck.finish()
