#!/usr/bin/env python3
"""Broker evidence without umqtt: MQTT 3.1.1 persistent sessions spoken by a
raw CPython socket client (tests/lib/mqtt_bytes), against one broker of
run_interop.py.

Usage: tests/interop/session_probe.py mosquitto|rumqttd|amqtt|ejabberd

Sequence 1, a fresh client id; sequence 2, the same after a clean session
(CONNECT clean=1, DISCONNECT):
  CONNECT clean=0: CONNACK session present must be 0 (MQTT-3.2.2-2; after a
  clean session no state is kept, MQTT-3.1.2-6); SUBSCRIBE q/1 QoS 1;
  DISCONNECT; another client PUBLISHes QoS 1 (PUBACK); CONNECT clean=0 again:
  session present must be 1 and the queued message must be delivered
  (MQTT-3.1.2-5: QoS 1 and 2 messages that arrived while disconnected are
  part of the session state).
Then: 8 PUBLISH QoS 1 for the fresh id's session while it is away, restart the broker (SIGTERM, 2 s down), CONNECT
clean=0: are the session and its queue kept over the restart? and its
subscription (a message published after the restart, still away)?
Where the broker's clients log in (amqtt), the probe does too.
Prints one line per check; exit 0 always (this is evidence, not a test).
"""
import os
import socket
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import run_interop as ri  # noqa: E402
from lib import mqtt_bytes as mb  # noqa: E402


LOGIN = {}


def session(port, cid, clean):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(mb.connect(cid, keepalive=30, clean=clean, **LOGIN))
    r = mb.SocketReader(s)
    first, body = r.expect(2, 5)
    return s, r, body[0] & 1, body[1]


def publish_qos1(port, topic, payload):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(mb.connect("probe-pub", keepalive=30, **LOGIN))
    r = mb.SocketReader(s)
    r.read(5)
    s.sendall(mb.publish(topic, payload, qos=1, pid=1))
    first, body = r.read(5)
    s.sendall(mb.disconnect())
    s.close()
    return first >> 4 == 4


def read_publishes(r, s, secs):
    got = []
    try:
        while True:
            pk = r.read(secs)
            if pk is None:
                break
            first, body = pk
            if first >> 4 == 3:
                topic, pid, payload = mb.parse_publish(first, body)
                got.append(payload)
                if pid is not None:
                    s.sendall(mb.puback(pid))
    except (OSError, socket.timeout):
        pass
    return got


def main():
    name = sys.argv[1]
    cls = {c.name: c for c in ri.BROKERS}[name]
    w = tempfile.mkdtemp(prefix="probe-")
    os.chmod(w, 0o755)
    print("workdir", w)
    b = cls(w)
    b.install()
    b.setup()
    b.start()
    port = b.port
    if getattr(b, "user", None):
        LOGIN.update(user=b.user, password=b.password)
    try:
        for n, cid, clean_first in ((1, "probe-fresh", False), (2, "probe-sub", True)):
            print("sequence {}: client id {}{}".format(
                n, cid, ", first a clean session (CONNECT clean=1, DISCONNECT)" if clean_first else
                " (fresh)"))
            if clean_first:
                s, r, sp, rc = session(port, cid, True)
                s.sendall(mb.disconnect()); s.close()
            s, r, sp, rc = session(port, cid, False)
            print("  CONNECT clean=0: session present {} (want 0)".format(sp))
            s.sendall(mb.packet(0x82, struct.pack(">H", 1) + mb.mstr("q/1") + b"\x01"))
            print("  SUBACK: {}".format(r.read(5)))
            s.sendall(mb.disconnect()); s.close()
            print("  PUBLISH QoS 1 while away: PUBACK {}".format(publish_qos1(port, "q/1", b"away-1")))
            s, r, sp, rc = session(port, cid, False)
            print("  CONNECT clean=0 again: session present {} (want 1)".format(sp))
            print("  queued messages delivered within 3 s: {} (want [b'away-1'])".format(
                read_publishes(r, s, 3)))
            s.sendall(mb.disconnect()); s.close()
        acks = [publish_qos1(port, "q/1", "r{}".format(i).encode()) for i in range(8)]
        print("restart: 8 PUBLISH QoS 1 r0..r7 while away (one connection each): PUBACKs {}".format(
            acks.count(True)))
        b.stop()
        import time
        time.sleep(2)
        b.start()
        print("  after the restart, PUBLISH QoS 1 r-after while still away: PUBACK {}".format(
            publish_qos1(port, "q/1", b"r-after")))
        s, r, sp, rc = session(port, "probe-fresh", False)
        print("  after a broker restart: CONNECT clean=0: session present {}".format(sp))
        print("  queued messages delivered within 3 s: {} (want b'away-1' from sequence 2, r0..r7, r-after)".format(
            read_publishes(r, s, 3)))
        s.sendall(mb.disconnect()); s.close()
    finally:
        b.stop()


if __name__ == "__main__":
    main()
