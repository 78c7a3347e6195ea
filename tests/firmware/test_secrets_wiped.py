# Issue 10, item 7: secrets do not linger in the client's memory. The
# CONNECT packet (it carries the password) is wiped from the send buffer
# once written; the client's own copy of the password is wiped when a new
# one replaces it (credentials callback) and when the client is finalised.
# The test firmware's MQTTClient._test_secret_buffers() tells where those
# buffers are; a uctypes view reads them, also once freed (the GC does not
# clear a freed block). The views are made while the buffers are live: a new
# allocation could land in the freed block and clear it before the read.
import gc
import os
import uctypes
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until
from fake_broker import FakeBroker, CONNACK, read_packet, serve_silently

ck = Checker("the password and the CONNECT bytes are wiped after use")


def secret(tag, size):
    # made at run time (not a constant the script keeps as a qstr), a mark
    # repeated: a freed buffer that small allocations partly reuse still
    # shows a mark if it was not wiped
    mark = tag + b"-" + "".join("%02x" % x for x in os.urandom(8)).encode()
    return mark, mark * (size // len(mark) + 1)


# the first is longer than the 256-byte default send buffer (it grows for
# CONNECT) and than the second's CONNECT: the second login does not reuse
# the first password's freed block for the send buffer
MARK1, PW1 = secret(b"first", 4000)
MARK2, PW2 = secret(b"second", 300)
connects = []


def handler(c, n):
    p = read_packet(c)
    if p is None:
        return
    connects.append(p[1])
    c.send(CONNACK)
    serve_silently(c)


def view(addr, n):
    return uctypes.bytearray_at(addr, n)


b = FakeBroker(handler)


def login_twice():
    c = MQTTClient("wipe", "127.0.0.1", b.port, user="u", password=PW1, keepalive=0, reconn=False)
    tx0, cap0, pw_at, pw_len = c._test_secret_buffers()
    pw1 = view(pw_at, pw_len)
    ck.eq(bytes(pw1), PW1, "the client holds its own copy of the password (what the test reads)")
    c.connect()
    ck.ok(poll_until(lambda: len(connects) == 1, 3000) and PW1 in connects[0],
          "the broker got the password in CONNECT")
    tx, cap, _, _ = c._test_secret_buffers()
    ck.ok(cap > cap0, "the send buffer grew for the CONNECT ({} -> {} bytes)".format(cap0, cap))
    sent = bytes(view(tx, cap))
    ck.ok(MARK1 not in sent, "no password bytes left in the send buffer after login")
    ck.eq(sent[:len(connects[0]) + 3], bytes(len(connects[0]) + 3), "the CONNECT bytes are zeroed")
    c.disconnect()

    # a new password (credentials callback, before every login) replaces it
    c.set_credentials_cb(lambda: ("wipe", "u", PW2))
    c.connect()
    ck.ok(poll_until(lambda: len(connects) == 2, 3000) and PW2 in connects[1],
          "the second login sent the new password")
    ck.ok(MARK1 not in pw1, "the replaced password's buffer was wiped")
    tx, cap, pw2_at, pw2_len = c._test_secret_buffers()
    pw2 = view(pw2_at, pw2_len)
    ck.eq(bytes(pw2), PW2, "the client holds the new password")
    ck.ok(MARK2 not in view(tx, cap), "no new password bytes left in the send buffer")
    c.disconnect()
    return pw2


def churn():
    # overwrite stack and registers that may still hold the client
    return [bytearray(64) for _ in range(50)]


pw2 = login_twice()
churn()
for _ in range(3):
    gc.collect()
ck.ok(MARK2 not in pw2, "a finalised client's password was wiped")
ck.finish()
