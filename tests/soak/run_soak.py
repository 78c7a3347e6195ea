#!/usr/bin/env python3
"""`make soak`: one client on the firmware for SOAK_SECONDS (default 1800),
QoS 0/1/2 both ways, the broker restarted every SOAK_RESTART_S (default 120),
gc.collect() stress in a second thread. The peer is paho-mqtt on CPython
(installed from PyPI when missing), with a persistent session.

Fails when a QoS 1/2 message the sender saw accepted never arrived (QoS 2:
or arrived twice), or when the firmware's descriptors or heap grew between
the first sample after warm-up and the last.

Usage: tests/soak/run_soak.py <micropython> [--seconds N] [--restart-every S]
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from lib.broker import Mosquitto  # noqa: E402
from lib.proc import Process  # noqa: E402


def paho():
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "paho-mqtt>=2,<3"], check=True)
        import paho.mqtt.client as mqtt
    return mqtt


class Peer:
    """The platform side: receives uplinks, sends numbered downlinks."""

    def __init__(self, mqtt, port):
        self.up = {0: [], 1: [], 2: []}
        self.sent = {1: set(), 2: set()}
        self.mids = {}
        self.lock = threading.Lock()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="soak-peer", clean_session=False)
        self.c.max_queued_messages_set(0)
        self.c.max_inflight_messages_set(100)
        self.c.reconnect_delay_set(1, 4)
        self.c.on_message = self.on_message
        self.c.on_publish = self.on_publish
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe("soak/up/#", 2)
        self.c.connect("127.0.0.1", port, keepalive=10)
        self.c.loop_start()

    def on_message(self, c, u, m):
        with self.lock:
            self.up[int(m.topic[-1])].append(int(m.payload))

    def on_publish(self, c, u, mid, rc, props):
        with self.lock:
            got = self.mids.pop(mid, None)
            if got:
                self.sent[got[0]].add(got[1])

    def send(self, qos, n):
        info = self.c.publish("soak/down/q%d" % qos, str(n), qos=qos)
        with self.lock:
            if info.rc == 0:
                self.mids[info.mid] = (qos, n)
                if info.is_published():  # acknowledged before we recorded it
                    self.sent[qos].add(n)
                    self.mids.pop(info.mid, None)

    def stop(self):
        self.c.loop_stop()
        self.c.disconnect()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("micropython")
    ap.add_argument("--seconds", type=int, default=int(os.getenv("SOAK_SECONDS", "1800")))
    ap.add_argument("--restart-every", type=int, default=int(os.getenv("SOAK_RESTART_S", "120")))
    args = ap.parse_args()
    mqtt = paho()
    failures = []
    with Mosquitto(persistence=True, log_types=("error", "warning")) as broker:
        peer = Peer(mqtt, broker.port)
        time.sleep(1)
        samples = []
        result = {}

        def on_line(line):
            if not line.startswith("RESULT "):
                print("  | " + line, flush=True)
            if line.startswith("SAMPLE "):
                samples.append(json.loads(line[7:]))
            elif line.startswith("RESULT "):
                result.update(json.loads(line[7:]))

        env = dict(os.environ, SOAK_PORT=str(broker.port), SOAK_SECONDS=str(args.seconds),
                   SOAK_ID="soak-device-%d" % os.getpid())
        dev = Process([args.micropython, os.path.join(HERE, "soak_device.py")], env=env, on_line=on_line)
        t0 = time.monotonic()
        next_restart = t0 + args.restart_every
        n = 0
        restarts = 0
        while dev.poll() is None and not samples:  # subscribed
            time.sleep(0.1)
        while dev.poll() is None and time.monotonic() - t0 < args.seconds + 60:
            if time.monotonic() < t0 + args.seconds:
                for qos in (1, 2):
                    peer.send(qos, n)
                n += 1
            if time.monotonic() >= next_restart and time.monotonic() < t0 + args.seconds - 20:
                print("soak: restarting the broker ({} s in)".format(int(time.monotonic() - t0)), flush=True)
                broker.restart(down=2.0)
                restarts += 1
                next_restart += args.restart_every
            time.sleep(0.2)
        rc = dev.wait(120)
        time.sleep(3)
        peer.stop()
    if rc != 0 or not result:
        failures.append("the device script failed (rc {}); last lines:\n{}".format(rc, "\n".join(dev.lines[-20:])))
    else:
        acc = {int(k): v for k, v in result["accepted"].items()}
        down = {int(k): v for k, v in result["down"].items()}
        for qos in (1, 2):
            got = peer.up[qos]
            lost = sorted(set(acc[qos]) - set(got))
            dup = len(got) - len(set(got))
            print("uplink QoS {}: {} accepted by publish(), {} received by the peer, {} lost, {} duplicates".format(
                qos, len(acc[qos]), len(set(got)), len(lost), dup))
            if lost:
                failures.append("uplink QoS {}: {} lost (first {})".format(qos, len(lost), lost[:10]))
            if qos == 2 and dup:
                failures.append("uplink QoS 2: {} delivered twice".format(dup))
            sent = peer.sent[qos]
            dlost = sorted(sent - set(down[qos]))
            ddup = len(result["down_twice"][str(qos)])
            print("downlink QoS {}: {} acknowledged to the peer, {} received by the device, {} lost, {} duplicates".format(
                qos, len(sent), len(set(down[qos])), len(dlost), ddup))
            if dlost:
                failures.append("downlink QoS {}: {} lost (first {})".format(qos, len(dlost), dlost[:10]))
            if qos == 2 and ddup:
                failures.append("downlink QoS 2: {} delivered twice".format(ddup))
        print("uplink QoS 0: {} accepted, {} received (QoS 0 may be lost during outages)".format(
            len(acc[0]), len(set(peer.up[0]))))
        print("broker restarts: {}, device reconnects: {}, error-callback texts: {}".format(
            restarts, result["reconnects"], result["events"]))
        run = [s for s in samples if s["tag"] == "run"]
        if len(run) >= 2:
            first, last = run[0], samples[-1]
            print("descriptors: {} after warm-up, {} at the end; heap: {} B after warm-up, {} B at the end".format(
                first["fds"], last["fds"], first["heap"], last["heap"]))
            if last["fds"] > first["fds"]:
                failures.append("descriptors grew from {} to {}".format(first["fds"], last["fds"]))
            # counters are preallocated: after gc.collect() the heap in use
            # must not grow beyond noise (a few objects in flight)
            if last["heap"] - first["heap"] > 4096:
                failures.append("heap in use grew by {} B".format(last["heap"] - first["heap"]))
    for f in failures:
        print("FAIL " + f)
    print("soak: {}".format("FAILED" if failures else "passed"))
    print("{} passed, {} failed".format(0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
