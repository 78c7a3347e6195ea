#!/usr/bin/env python3
"""Run the Huawei Cloud guide's script UNCHANGED against a local broker.

Usage: tests/run_guide_script.py <path-to-micropython> [--demo] [--timeout S]

The script (examples/huaweicloud_demo.py, byte-identical to the guide's
script) connects to a fixed Huawei host name on port 1883. To run it
unchanged, everything happens in a private mount + network namespace
(`unshare -mn`, needs root): loopback up, a private hosts file mapping the
Huawei host name to 127.0.0.1 bind-mounted over /etc/hosts, mosquitto on
127.0.0.1:1883, a `mosquitto_sub -t '$oc/#'` observer. When the observer has
seen the device's property report, a downlink message is published to the
device's messages/down topic; the script must print
"Subscribe Recv: Topic=...,Msg=..." and exit 0. Nothing outside the
namespace is touched. Exit code 0 on success, 1 on failure, 77 when it
cannot run here (not root / no unshare).
"""
import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRIPT = os.path.join(ROOT, "examples", "huaweicloud_demo.py")
sys.path.insert(0, HERE)
from lib.broker import BrokerError, Mosquitto  # noqa: E402
from lib.proc import Process  # noqa: E402
SEED = os.path.join(os.path.dirname(ROOT), "shared", "seed", "huaweicloud_demo.py")
# sha256 of the guide's script as extracted from the guide (shared/seed)
SCRIPT_SHA256 = "dc6e270f509bc5efb951d259503ddc388c981624425eaca19e401b3449b863a1"

HOST = "a15fbbd7ce.iot-mqtts.cn-north-4.myhuaweicloud.com"
DEVICE_ID = "5fbbb784b4ec2202e982e643_868540050954037"
CLIENT_ID = DEVICE_ID + "_0_0_2021011909"
REPORT_TOPIC = "$oc/devices/{}/sys/properties/report".format(DEVICE_ID)
DOWN_TOPIC = "$oc/devices/{}/sys/messages/down".format(DEVICE_ID)
DOWNLINK = json.dumps({
    "object_device_id": DEVICE_ID,
    "name": "set_state",
    "id": "0001",
    "content": "hello device, from the (local) cloud",
}, separators=(",", ":"))
# what the script publishes (copied from the script; checked on the wire)
EXPECTED_REPORT = b'''{

		"services": [{

			"service_id": "WaterMeterControl",

			"properties": {

				"state": "T:15c, H: 85% "

			},

			"event_time": "20151212T121212Z"

		}

		]

	}'''


class Narrator:
    def __init__(self, demo):
        self.demo = demo
        self.t0 = time.monotonic()
        self.lock = threading.Lock()

    def __call__(self, plain, friendly=None):
        text = friendly if (self.demo and friendly) else plain
        with self.lock:
            if self.demo:
                print(text, flush=True)
            else:
                print("[{:6.2f}] {}".format(time.monotonic() - self.t0, text), flush=True)


def check_script():
    with open(SCRIPT, "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != SCRIPT_SHA256:
        return "examples/huaweicloud_demo.py differs from the guide's script (sha256)"
    if os.path.exists(SEED):
        with open(SEED, "rb") as f:
            if f.read() != data:
                return "examples/huaweicloud_demo.py differs from " + SEED
    return None


def outer(args):
    say = Narrator(args.demo)
    err = check_script()
    if err:
        print("FAIL: " + err)
        return 1
    say("guide script is byte-identical to the guide's (sha256 {}...)".format(SCRIPT_SHA256[:12]),
        "The guide's script examples/huaweicloud_demo.py is unchanged (byte for byte).")
    mp = os.path.abspath(args.micropython)
    if not os.access(mp, os.X_OK):
        print("FAIL: {} is not executable".format(mp))
        return 1
    if os.geteuid() != 0:
        print("SKIP: needs root for unshare -mn and the private /etc/hosts")
        return 77
    for tool in ("unshare", "ip", "mount", "mosquitto", "mosquitto_sub", "mosquitto_pub"):
        if not shutil.which(tool):
            print("SKIP: {} not found".format(tool))
            return 77
    tmp = tempfile.mkdtemp(prefix="guide-")
    os.chmod(tmp, 0o755)
    try:
        cmd = ["unshare", "-mn", "--", sys.executable, os.path.abspath(__file__),
               "--inner", tmp, mp, "--timeout", str(args.timeout)]
        if args.demo:
            cmd.append("--demo")
        try:
            rc = subprocess.run(cmd, timeout=args.timeout + 30).returncode
        except subprocess.TimeoutExpired:
            print("FAIL: timeout")
            rc = 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


def inner(args):
    say = Narrator(args.demo)
    tmp = args.inner
    procs = []
    dev = None
    ok = False
    broker = Mosquitto(tmp, "broker", port=1883)
    try:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        hosts = os.path.join(tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost\n127.0.0.1 {}\n".format(HOST))
        os.chmod(hosts, 0o644)
        subprocess.run(["mount", "--bind", hosts, "/etc/hosts"], check=True)
        if socket.gethostbyname(HOST) != "127.0.0.1":
            print("FAIL: private hosts file not effective")
            return 1
        say("private network namespace: {} -> 127.0.0.1".format(HOST),
            "In a private network namespace, {} now points at this machine.".format(HOST))

        try:
            broker.start()
        except BrokerError as e:
            print("FAIL: mosquitto did not start: {}".format(e))
            return 1
        say("mosquitto listening on 127.0.0.1:1883",
            "A local MQTT broker (mosquitto) plays Huawei Cloud IoTDA on port 1883.")

        # observer: one line per message, payload in hex (payloads span lines)
        obs = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", "1883", "-i", "observer",
                                "-q", "1", "-t", "$oc/#", "-F", "%t %x"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        procs.append(obs)
        seen = []
        report = threading.Event()
        probe = threading.Event()

        def watch():
            for raw in iter(obs.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").strip()
                topic, _, hexpayload = line.partition(" ")
                try:
                    payload = bytes.fromhex(hexpayload)
                except ValueError:
                    payload = hexpayload.encode()
                seen.append((topic, payload))
                if topic == "$oc/probe":
                    probe.set()
                elif topic == REPORT_TOPIC:
                    say("UP   {} : {}".format(topic, " ".join(payload.decode("utf-8", "replace").split())),
                        "\n>>> The device reported its properties (uplink):\n    topic   {}\n    payload {}\n".format(
                            topic, " ".join(payload.decode("utf-8", "replace").split())))
                    report.set()
                elif topic != DOWN_TOPIC:
                    say("observer: {} : {!r}".format(topic, payload))

        threading.Thread(target=watch, daemon=True).start()
        deadline = time.monotonic() + 10
        while not probe.is_set() and time.monotonic() < deadline:
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-t", "$oc/probe", "-m", "x"],
                           capture_output=True)
            probe.wait(0.3)
        if not probe.is_set():
            print("FAIL: observer not ready")
            return 1

        say("running: micropython examples/huaweicloud_demo.py (unchanged)",
            "Running the guide's script, unchanged, on our MicroPython firmware...")
        env = dict(os.environ)
        env.pop("MICROPYPATH", None)
        dev = Process([args.micropython, SCRIPT], cwd=os.path.dirname(SCRIPT), env=env,
                      on_line=lambda line: say("script| " + line, "    device says: " + line))
        out = dev.lines

        if not report.wait(args.timeout):
            print("FAIL: no property report seen on " + REPORT_TOPIC)
            dev.kill()
        else:
            up = [p for t, p in seen if t == REPORT_TOPIC]
            if up[0] != EXPECTED_REPORT:
                print("FAIL: report payload differs from the script's: {!r}".format(up[0]))
                dev.kill()
            else:
                time.sleep(0.2)
                say("DOWN {} : {}".format(DOWN_TOPIC, DOWNLINK),
                    "<<< The cloud sent a downlink message:\n    topic   {}\n    payload {}\n".format(
                        DOWN_TOPIC, DOWNLINK))
                subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-q", "1", "-t", DOWN_TOPIC,
                                "-m", DOWNLINK], check=True)
        rc = dev.wait(args.timeout)
        if dev.timed_out:
            print("FAIL: the script did not finish within {} s".format(args.timeout))
        expected = "Subscribe Recv: Topic={},Msg={}".format(DOWN_TOPIC, DOWNLINK)
        if rc != 0:
            print("FAIL: the script exited with {}".format(rc))
        elif expected not in out:
            print("FAIL: the script did not print: " + expected)
        else:
            ok = True
        time.sleep(0.3)
        blog = broker.log_text()
        conn = [l for l in blog.splitlines() if "New client connected" in l and CLIENT_ID in l]
        if conn:
            say("broker: " + conn[0].split(": ", 1)[-1])
            if "k30" not in conn[0]:
                print("FAIL: the client did not connect with keepalive 30")
                ok = False
            if "u'{}'".format(DEVICE_ID) not in conn[0]:
                print("FAIL: the broker did not see user name {}".format(DEVICE_ID))
                ok = False
        elif ok:
            print("FAIL: the broker log has no connection from " + CLIENT_ID)
            ok = False
        if ("Client {} disconnected.".format(CLIENT_ID)) in blog:
            say("broker: the script disconnected cleanly (DISCONNECT sent)")
        elif ok:
            print("WARN: the broker did not log a clean DISCONNECT from the script")
        if ok:
            say("PASS: uplink observed, downlink received and printed by the unchanged script",
                "Done: the unchanged guide script connected, reported, received the downlink and disconnected.")
        else:
            print("---- broker log (tail) ----")
            print("\n".join(blog.splitlines()[-30:]))
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        if dev is not None and dev.poll() is None:
            dev.kill()
        broker.stop()
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("micropython")
    ap.add_argument("--demo", action="store_true", help="friendlier narration")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--inner", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        return inner(args)
    return outer(args)


if __name__ == "__main__":
    sys.exit(main())
