# Review finding: a client that logged in over a script's stream
# (connect(sock=s)) with keepalive > 0 has a background thread; when the
# client is collected, umqtt_client_del marks the keeper ORPHANED and
# keeper_thread closes k->sock, which is the script's own stream (the
# no-keeper branch of umqtt_client_del deliberately spares given_stream).
# The script still owns s and closes it later: a second close of the same
# fd number, which by then belongs to a newer socket (unix sockets keep
# their fd after close): the script's s.close() kills an unrelated socket.
import gc
import socket
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid, sleep_ms

ck = Checker("review: connect(sock=) stream and the collected client")


def tcp():
    s = socket.socket()
    s.connect(socket.getaddrinfo(HOST, PORT)[0][-1])
    return s


def log_in_over(s):
    c = MQTTClient(uid("rv-given"), HOST, PORT, keepalive=30)
    c.connect(sock=s)
    # the client becomes unreachable here


s = tcp()
log_in_over(s)
for _ in range(3):
    gc.collect()
    sleep_ms(1200)  # the keeper's period is 1 s
try:
    s.write(b"\xc0\x00")  # PINGREQ on the script's stream
    sleep_ms(300)
    ck.ok(True, "the script's stream is still open after the client was collected")
except OSError as e:
    ck.ok(False, "the script's stream is still open after the client was collected ({!r})".format(e))
other = tcp()  # reuses the lowest free fd
s.close()      # the script closes what it opened, once
try:
    other.write(b"\xc0\x00")
    ck.ok(True, "closing the script's stream leaves other sockets alone")
except OSError as e:
    ck.ok(False, "closing the script's stream closed another socket ({!r})".format(e))
other.close()
ck.finish()
