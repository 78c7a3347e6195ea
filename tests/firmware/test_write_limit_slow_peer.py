# A big packet to a peer that is slow but alive is not a lost link. A write
# that the peer has not taken within 5 s loses the link (test_stalled_peer),
# but a packet gets 1 s more per 2 KB: a 40 KB report on a 4 KB/s uplink
# takes longer than 5 s and must go through.
# Loopback buffers would swallow the whole packet at once, so the test gives
# the client a socket of its own (connect(sock=)) with a small send buffer
# and the socket timeout the client sets after login (1 s); the peer has a
# small receive buffer and reads at 4 KB/s.
import socket
import time
from umqtt import MQTTClient
from mqtt_test_util import Checker, poll_until, sleep_ms, now_ms, elapsed_ms
from fake_broker import FakeBroker, CONNACK, read_packet

ck = Checker("write limit: a slow but alive peer keeps the link")
RATE = 4096  # bytes per second the peer reads, above the 2 KB/s allowance
SIZE = 40960
SOL_SOCKET, SO_SNDBUF, SO_RCVBUF = 1, 7, 8  # Linux
state = {"got": 0, "end": False, "drain": False}


def handler(c, n):
    read_packet(c)
    c.send(CONNACK)
    t0 = now_ms()
    got = 0
    while not state["end"]:
        try:
            d = c.recv(RATE // 10)
        except OSError:
            return
        if not d:
            return
        got += len(d)
        state["got"] = got
        ahead = got * 1000 // RATE - elapsed_ms(t0)
        if ahead > 0 and not state["drain"]:
            sleep_ms(ahead)


b = FakeBroker(handler)
b.sock.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096)  # inherited by the accepted link
s = socket.socket()
s.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096)
s.connect(socket.getaddrinfo("127.0.0.1", b.port)[0][-1])
s.settimeout(1)  # as the client sets its own socket once logged in
c = MQTTClient("slowpeer", "127.0.0.1", b.port, keepalive=0, reconn=False)
c.connect(sock=s)
sleep_ms(200)
before = state["got"]
t0 = now_ms()
sent = c.publish("t", bytes(SIZE))
took = elapsed_ms(t0)
state["drain"] = True  # what is still buffered: read it at once
ck.ok(took > 5500, "the write outlasted the plain 5 s limit (took {} ms)".format(took))
ck.eq(sent, True, "publish() of {} bytes returned True".format(SIZE))
ck.eq(c.get_mqttsta(), 0, "still connected")
# the PUBLISH: 1 byte, a 3-byte remaining length, topic "t" (3), the payload
ck.ok(poll_until(lambda: state["got"] - before >= SIZE + 1 + 3 + 3, 10000),
      "the peer read the whole packet ({} bytes)".format(state["got"] - before))
state["end"] = True
c.disconnect()
s.close()
ck.finish()
