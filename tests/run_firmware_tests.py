#!/usr/bin/env python3
"""Run the firmware tests of the umqtt module against a local mosquitto.

Usage: tests/run_firmware_tests.py <path-to-micropython> [-k NAME] [--timeout S] [-v]

* Starts Debian's mosquitto on a free loopback port (anonymous broker) and a
  second one that requires a user name and password (for CONNACK refusals).
* Runs every tests/firmware/test_*.py on the firmware with these environment
  variables:
      MQTT_HOST, MQTT_PORT                      anonymous broker
      MQTT_BROKER_LOG                           its log (log_type all)
      MQTT_AUTH_PORT, MQTT_AUTH_USER, MQTT_AUTH_PASS   password broker
      MQTT_PORT6                                an anonymous broker on ::1
                                                (unset: no IPv6 loopback here)
      HARNESS_ACK_DIR                           where the harness acknowledges
      MICROPYPATH                               .frozen + tests/firmware
* Also runs tests/run_guide_script.py (the unmodified Huawei guide script in a
  private network namespace) as the test "test_guide_script".
* Prints one line per test and finally exactly "N passed, N failed".
  Exit code 1 on any failure. Output of failing tests is streamed.

Commands a test can send on its stdout (one line each):
    HARNESS: restart-broker <id> <down_seconds>
        stop the anonymous broker, create $HARNESS_ACK_DIR/<id> once it is
        down, keep it down for <down_seconds>, start it again on the same
        port, then create $HARNESS_ACK_DIR/<id>.up
    HARNESS: publish-after <id> <delay_seconds> <qos> <topic> <payload>
        create $HARNESS_ACK_DIR/<id> at once, then after <delay_seconds> run
        mosquitto_pub on the anonymous broker (topic/payload without spaces),
        then create $HARNESS_ACK_DIR/<id>.done
A test may add a line "# HARNESS-ARGS: <micropython options>" (e.g.
"-X heapsize=16M") near its top; these are passed before the script path.
"""
import argparse
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lib.broker import Mosquitto  # noqa: E402
from lib.proc import Process  # noqa: E402

FIRMWARE_DIR = os.path.join(HERE, "firmware")
# run a second time over the lwIP socket double
LWIP_TESTS = ("test_huaweicloud_http", "test_reconnect", "test_offline_queue", "test_restore_many_subscriptions",
              "test_keepalive_idle", "test_unreachable_client")
AUTH_USER = "tester"
AUTH_PASS = "s3cret-pass"


def ipv6_loopback():
    """Whether ::1 can be bound here (containers may have no IPv6)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def touch(path, text="ok"):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


class CommandHandler:
    """Executes HARNESS: lines of one test, each in its own thread."""

    def __init__(self, broker, ack_dir, log):
        self.broker = broker
        self.ack_dir = ack_dir
        self.log = log
        self.threads = []

    def handle(self, line):
        parts = line.split(None, 1)[1].split() if " " in line else []
        if len(parts) < 2:
            self.log("harness: malformed command: " + line)
            return
        t = threading.Thread(target=self._run, args=(parts,), daemon=True)
        t.start()
        self.threads.append(t)

    def _run(self, parts):
        cmd, ident = parts[0], os.path.basename(parts[1])
        ack = os.path.join(self.ack_dir, ident)
        try:
            if cmd == "restart-broker":
                down = float(parts[2]) if len(parts) > 2 else 1.0
                port = self.broker.port
                self.broker.stop()
                self.log("harness: broker stopped (down for {} s)".format(down))
                touch(ack)
                time.sleep(down)
                self.broker.start()  # on the same port
                self.log("harness: broker started again on port {}".format(port))
                touch(ack + ".up")
            elif cmd == "publish-after":
                delay, qos, topic, payload = float(parts[2]), parts[3], parts[4], parts[5]
                touch(ack)
                time.sleep(delay)
                r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                                    str(self.broker.port), "-q", qos, "-t", topic,
                                    "-m", payload], capture_output=True, timeout=15)
                self.log("harness: published to {} (rc {})".format(topic, r.returncode))
                touch(ack + ".done", "ok" if r.returncode == 0 else "error")
            else:
                self.log("harness: unknown command " + cmd)
                touch(ack, "error: unknown command")
        except Exception as e:  # report to the test rather than hang it
            self.log("harness: command {} failed: {!r}".format(parts, e))
            touch(ack, "error: {!r}".format(e))
            touch(ack + ".up", "error")
            touch(ack + ".done", "error")

    def join(self, timeout=30):
        for t in self.threads:
            t.join(timeout)


def test_args(path):
    """Extra micropython arguments from a '# HARNESS-ARGS:' line."""
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i > 20:
                break
            if line.startswith("# HARNESS-ARGS:"):
                return shlex.split(line.split(":", 1)[1])
    return []


def run_one(name, argv, env, timeout, broker, verbose):
    """Run one test process; returns (ok, seconds, output_lines)."""
    out_lines = []
    lock = threading.Lock()

    def log(s):
        with lock:
            out_lines.append(s)
            if verbose:
                print("    | " + s, flush=True)

    ack_dir = tempfile.mkdtemp(prefix="ack-")
    env = dict(env, HARNESS_ACK_DIR=ack_dir)
    handler = CommandHandler(broker, ack_dir, log) if broker else None

    def on_line(line):
        log(line)
        if handler and line.startswith("HARNESS:"):
            handler.handle(line)

    proc = Process(argv, env=env, cwd=HERE, on_line=on_line)
    rc = proc.wait(timeout)
    timed_out = proc.timed_out
    if handler:
        handler.join()
    shutil.rmtree(ack_dir, ignore_errors=True)
    secs = proc.secs
    if timed_out:
        log("TIMEOUT after {} s".format(timeout))
    elif rc != 0:
        if rc < 0:
            log("killed by signal {} (crash?)".format(-rc))
        else:
            log("exit code {}".format(rc))
    if rc == 77 and not timed_out:
        return None, secs, out_lines  # skipped
    return (rc == 0 and not timed_out), secs, out_lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("micropython")
    ap.add_argument("-k", dest="select", action="append", default=[],
                    help="run only tests whose name contains this (repeatable)")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="stream every test's output")
    ap.add_argument("--no-guide", action="store_true",
                    help="skip the guide-script test")
    args = ap.parse_args()

    mp = os.path.abspath(args.micropython)
    if not os.access(mp, os.X_OK):
        print("error: {} is not an executable".format(mp))
        print("0 passed, 1 failed")
        return 1
    for tool in ("mosquitto", "mosquitto_pub", "mosquitto_sub", "mosquitto_passwd"):
        if not shutil.which(tool):
            print("error: {} not found (apt-get install mosquitto mosquitto-clients)".format(tool))
            print("0 passed, 1 failed")
            return 1

    tests = []
    for fn in sorted(os.listdir(FIRMWARE_DIR)):
        if fn.startswith("test_") and fn.endswith(".py"):
            path = os.path.join(FIRMWARE_DIR, fn)
            tests.append((fn[:-3], [mp] + test_args(path) + [path], True))
    # again over a double of QuecPython's lwIP sockets (tests/firmware/lwip):
    # how a port reports the peer's close must not matter
    for name in LWIP_TESTS:
        path = os.path.join(FIRMWARE_DIR, name + ".py")
        tests.append((name + "[lwip]", [mp] + test_args(path) + [path], True))
    if not args.no_guide:
        tests.append(("test_guide_script",
                      [sys.executable, os.path.join(HERE, "run_guide_script.py"), mp],
                      False))
    if args.select:
        tests = [t for t in tests if any(k in t[0] for k in args.select)]
    if not tests:
        print("no test selected")
        print("0 passed, 1 failed")
        return 1

    workdir = tempfile.mkdtemp(prefix="umqtt-tests-")
    os.chmod(workdir, 0o755)
    # persistence: a subscriber with clean_session=False keeps its session
    # and queued QoS 1 messages over a broker restart (the reconnect test
    # relies on it to check "no message lost" without racing resubscription)
    broker = Mosquitto(workdir, "anon", persistence=True)
    auth_broker = Mosquitto(workdir, "auth", persistence=True, users={AUTH_USER: AUTH_PASS})
    broker6 = Mosquitto(workdir, "anon6", host="::1") if ipv6_loopback() else None
    passed = failed = 0
    try:
        broker.start()
        auth_broker.start()
        if broker6 is not None:
            broker6.start()
        print("brokers: anonymous 127.0.0.1:{}, password 127.0.0.1:{}, IPv6 {}".format(
            broker.port, auth_broker.port,
            "[::1]:{}".format(broker6.port) if broker6 else "none (no IPv6 loopback)"), flush=True)
        base_env = dict(os.environ)
        base_env.update({
            "MQTT_HOST": "127.0.0.1",
            "MQTT_PORT": str(broker.port),
            "MQTT_BROKER_LOG": broker.log_path,
            "MQTT_AUTH_PORT": str(auth_broker.port),
            "MQTT_AUTH_USER": AUTH_USER,
            "MQTT_AUTH_PASS": AUTH_PASS,
            "MICROPYPATH": ".frozen:" + FIRMWARE_DIR,
        })
        if broker6 is not None:
            base_env["MQTT_PORT6"] = str(broker6.port)
        for name, argv, uses_broker in tests:
            if not broker.alive():  # a previous test may have left it down
                broker.start()  # on the same port
            timeout = args.timeout * (2 if name == "test_guide_script" else 1)
            env = base_env
            if name.endswith("[lwip]"):
                env = dict(base_env, MICROPYPATH=".frozen:" + os.path.join(FIRMWARE_DIR, "lwip") + ":" + FIRMWARE_DIR)
            ok, secs, out = run_one(name, argv, env, timeout,
                                    broker if uses_broker else None, args.verbose)
            if ok is None:
                print("SKIP {} ({})".format(name, next((l for l in out if l.startswith("SKIP")), "")), flush=True)
                continue
            print("{} {} ({:.1f} s)".format("PASS" if ok else "FAIL", name, secs),
                  flush=True)
            if ok:
                passed += 1
            else:
                failed += 1
                if not args.verbose:
                    for line in out:
                        print("    | " + line)
                if uses_broker:
                    print("    -- broker log tail --")
                    for line in broker.log_tail(15).splitlines():
                        print("    # " + line)
                sys.stdout.flush()
    except Exception as e:
        print("harness error: {!r}".format(e))
        failed += 1
    finally:
        broker.stop()
        auth_broker.stop()
        if broker6 is not None:
            broker6.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print("{} passed, {} failed".format(passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
