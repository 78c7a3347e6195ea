#!/usr/bin/env python3
"""The core firmware scenarios against several independent MQTT brokers.

Usage: tests/interop/run_interop.py <path-to-micropython> [-b BROKER]... [-k SCENARIO]... [-v]

For each broker the runner installs it if missing (pinned versions, into
build/tools/ where it is not a Debian package), writes a config on a free
loopback port (persistence on where the broker has it), starts it, runs
tests/interop/interop_client.py once per scenario on the firmware (a
`HARNESS: restart-broker <id> <secs>` line restarts the broker, as in
tests/run_firmware_tests.py), and stops it.

    mosquitto   Debian package (apt-get)       persistence true
    rumqttd     crates.io rumqttd 0.20.0: cargo install --locked --path
                tests/interop/rumqttd (build/tools/rumqttd; that package's
                Cargo.toml says why not the crate's own lock file)
                                               no persistence setting exists
    amqtt       PyPI, amqtt 0.12.1 in a venv (build/tools/amqtt-venv)
                                               contrib SessionDBPlugin (sqlite)
    ejabberd    Debian package (apt-get), mod_mqtt only, its own Erlang node
                                               none for MQTT sessions

Per broker and scenario it prints PASS, FAIL or UNSUPPORTED with one line
of reason. UNSUPPORTED is only given to a scenario that failed AND that the
broker documents (or its code shows) it does not support; the evidence is
printed. A broker that cannot be installed or started gets one line
"<broker> NOT RUN <reason>" and counts as one failure.
Last line: "N passed, N failed". Exit 1 on any FAIL, or if fewer than three
brokers ran (when no -b was given).
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
from lib.broker import Mosquitto  # noqa: E402
from lib.net import free_port, wait_port  # noqa: E402
from run_firmware_tests import run_one  # noqa: E402

TOOLS = os.path.join(ROOT, "build", "tools")
RUMQTTD_VERSION = "0.20.0"
AMQTT_VERSION = "0.12.1"
# amqtt's SessionDBPlugin (amqtt.contrib.persistence) needs these; amqtt's
# "contrib" extra would also pull python-ldap (C build against libldap)
AMQTT_PERSIST_DEPS = ["sqlalchemy[asyncio]==2.0.44", "aiosqlite==0.21.0"]

SCENARIOS = ["connect", "qos0", "qos1", "qos2", "retained", "will", "session_resume",
             "unsubscribe", "restart", "restart_persist"]


class InstallError(RuntimeError):
    pass


def sh(argv, timeout=1800, env=None):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=timeout, env=env)
    out = r.stdout.decode("utf-8", "replace")
    if r.returncode != 0:
        tail = "\n".join(out.strip().splitlines()[-5:])
        raise InstallError("{} exited {}: {}".format(" ".join(argv[:4]), r.returncode, tail))
    return out


def timed_install(label, fn):
    t0 = time.monotonic()
    print("{}: installing ...".format(label), flush=True)
    fn()
    secs = time.monotonic() - t0
    print("{}: installed in {:.0f} s".format(label, secs), flush=True)
    return secs


# ---------------------------------------------------------------- brokers
class ProcBroker:
    """A broker process on a free loopback port with a generated config in
    its own directory; the same port over restarts (like lib.broker)."""
    name = "?"
    # scenario -> evidence that the broker does not support it
    unsupported = {}

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.log_path = os.path.join(self.dir, self.name + ".log")
        self.port = None
        self.proc = None
        self.version = "?"

    host = "127.0.0.1"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=20.0):
        if self.alive():
            return self.port
        first = self.port is None
        for attempt in range(5):
            if first:
                self.port = free_port()
            self.write_config()
            with open(self.log_path, "ab") as log:
                log.write("---- start on port {}\n".format(self.port).encode())
                log.flush()
                self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, cwd=self.dir,
                                             start_new_session=True)
            if wait_port(self.port, self.host, timeout, self.proc):
                return self.port
            self._kill()
            time.sleep(0.5)
        raise RuntimeError("{} did not start on port {}; log:\n{}".format(
            self.name, self.port, self.log_tail()))

    def stop(self):
        self._kill()

    def restart(self, down=0.0):
        self.stop()
        time.sleep(down)
        return self.start()

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: a normal shutdown (amqtt saves its sessions)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self, n=15):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""


class MosquittoBroker:
    """Debian's mosquitto through the shared fixture (persistence true)."""
    name = "mosquitto"
    source = "Debian package mosquitto"
    unsupported = {}

    def __init__(self, workdir):
        self.workdir = workdir
        self.b = None
        self.version = "?"

    def install(self):
        if not shutil.which("mosquitto"):
            sudo = [] if os.geteuid() == 0 else ["sudo"]
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")

            def go():
                sh(sudo + ["apt-get", "update", "-qq"], env=env)
                sh(sudo + ["apt-get", "install", "-y", "-qq", "mosquitto", "mosquitto-clients"], env=env)
            timed_install("mosquitto (apt-get)", go)
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "mosquitto"],
                           capture_output=True, text=True)
        self.version = r.stdout.strip() or "?"

    def setup(self):
        self.b = Mosquitto(self.workdir, "mosquitto", persistence=True)

    host = "127.0.0.1"

    @property
    def port(self):
        return self.b.port

    def start(self):
        return self.b.start()

    def stop(self):
        if self.b:
            self.b.stop()

    def alive(self):
        return self.b.alive()

    def log_tail(self, n=15):
        return self.b.log_tail(n)


class RumqttdBroker(ProcBroker):
    name = "rumqttd"
    source = ("crates.io rumqttd {} (cargo install --locked --path tests/interop/rumqttd: "
              "the crate's own Cargo.lock does not build, see its Cargo.toml)").format(RUMQTTD_VERSION)
    crate = os.path.join(HERE, "rumqttd")
    root = os.path.join(TOOLS, "rumqttd")
    exe = os.path.join(root, "bin", "rumqttd")
    unsupported = {
        "restart_persist":
            "rumqttd keeps sessions only in memory: its config (rumqttd.toml, "
            "`rumqttd generate-config`) has no persistence or storage setting",
    }

    def locked_version(self):
        with open(os.path.join(self.crate, "Cargo.lock")) as f:
            m = re.search(r'name = "rumqttd"\nversion = "([^"]+)"', f.read())
        return m.group(1) if m else "?"

    def up_to_date(self):
        if not os.access(self.exe, os.X_OK):
            return False
        t = os.path.getmtime(self.exe)
        return all(os.path.getmtime(os.path.join(self.crate, f)) < t
                   for f in ("Cargo.toml", "Cargo.lock", os.path.join("src", "main.rs")))

    def install(self):
        if self.locked_version() != RUMQTTD_VERSION:
            raise InstallError("tests/interop/rumqttd/Cargo.lock has rumqttd {}, want {}".format(
                self.locked_version(), RUMQTTD_VERSION))
        if not self.up_to_date():
            env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(TOOLS, "rumqttd-target"))
            timed_install("rumqttd {} (cargo install)".format(RUMQTTD_VERSION), lambda: sh(
                ["cargo", "install", "--locked", "--force", "--path", self.crate,
                 "--root", self.root], timeout=3600, env=env))
        self.version = self.locked_version()

    def setup(self):
        pass

    def write_config(self):
        # only a v4 (MQTT 3.1.1) listener: no v5, websocket, console, prometheus
        conf = """id = 0

[router]
id = 0
max_connections = 1000
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

[v4.1]
name = "v4-1"
listen = "{host}:{port}"
next_connection_delay_ms = 1
    [v4.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 20480
    max_inflight_count = 100
    dynamic_filters = true
""".format(host=self.host, port=self.port)
        self.conf = os.path.join(self.dir, "rumqttd.toml")
        with open(self.conf, "w") as f:
            f.write(conf)

    def argv(self):
        return [self.exe, "-v", "-c", self.conf]


class AmqttBroker(ProcBroker):
    name = "amqtt"
    source = "PyPI amqtt {} (venv)".format(AMQTT_VERSION)
    venv = os.path.join(TOOLS, "amqtt-venv")
    exe = os.path.join(venv, "bin", "amqtt")
    unsupported = {
        "restart_persist":
            "amqtt 0.12.1 loses and duplicates queued messages over a restart: its "
            "SessionDBPlugin rewrites a session's stored message list per message in "
            "concurrent transactions (its debug log shows several INSERTs of one session) "
            "and never removes delivered ones; shown without "
            "umqtt by `tests/interop/session_probe.py amqtt` (of 8 queued, some lost; an earlier, delivered one back again)",
    }
    # amqtt keeps no session state (no queue for a disconnected persistent
    # session, nothing in its SessionDBPlugin) for anonymous clients (broker.py
    # _broadcast_message: "if a client used anonymous authentication, there is
    # no expectation that messages should be retained"): the clients log in
    # with a user from a password file (FileAuthPlugin, argon2 hash)
    user, password = "interop", "interop-pass"

    def installed_version(self):
        py = os.path.join(self.venv, "bin", "python")
        if not os.access(self.exe, os.X_OK):
            return None
        r = subprocess.run([py, "-c", "import importlib.metadata as m, sqlalchemy, aiosqlite;"
                            "print(m.version('amqtt'))"], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    def install(self):
        if self.installed_version() != AMQTT_VERSION:
            def go():
                if not os.access(os.path.join(self.venv, "bin", "pip"), os.X_OK):
                    sh([sys.executable, "-m", "venv", self.venv])
                sh([os.path.join(self.venv, "bin", "pip"), "install", "-q",
                    "amqtt==" + AMQTT_VERSION] + AMQTT_PERSIST_DEPS)
            timed_install("amqtt {} (pip)".format(AMQTT_VERSION), go)
        self.version = self.installed_version() or "?"

    def setup(self):
        pass

    def write_passwords(self):
        py = os.path.join(self.venv, "bin", "python")
        r = subprocess.run([py, "-c", "import sys; from pwdlib import PasswordHash;"
                            "from pwdlib.hashers.argon2 import Argon2Hasher;"
                            "print(PasswordHash((Argon2Hasher(),)).hash(sys.argv[1]))", self.password],
                           capture_output=True, text=True, check=True)
        self.pwfile = os.path.join(self.dir, "passwd")
        with open(self.pwfile, "w") as f:
            f.write("{}:{}\n".format(self.user, r.stdout.strip()))

    def write_config(self):
        if not getattr(self, "pwfile", None):
            self.write_passwords()
        db = os.path.join(self.dir, "amqtt.db")
        conf = """listeners:
  default:
    type: tcp
    bind: {host}:{port}
plugins:
  amqtt.plugins.logging_amqtt.EventLoggerPlugin:
  amqtt.plugins.logging_amqtt.PacketLoggerPlugin:
  amqtt.plugins.authentication.FileAuthPlugin:
    password_file: {pwfile}
  amqtt.contrib.persistence.SessionDBPlugin:
    connection: "sqlite+aiosqlite:///{db}"
    clear_on_shutdown: false
""".format(host=self.host, port=self.port, db=db, pwfile=self.pwfile)
        self.conf = os.path.join(self.dir, "amqtt.yaml")
        with open(self.conf, "w") as f:
            f.write(conf)

    def argv(self):
        # INTEROP_DEBUG=1: amqtt's debug log (every packet) in the broker log
        return [self.exe, "-c", self.conf] + (["-d"] if os.environ.get("INTEROP_DEBUG") else [])


class EjabberdBroker(ProcBroker):
    """Debian's ejabberd with its MQTT module (mod_mqtt) only, as its own
    Erlang node (ejabberdctl foreground, as the user ejabberd) with spool
    (mnesia) and logs in the broker's directory."""
    name = "ejabberd"
    source = "Debian package ejabberd, mod_mqtt"
    unsupported = {
        "restart_persist":
            "ejabberd's mod_mqtt keeps a session in the session's process (its options "
            "session_expiry, queue_type, max_queue; none stores sessions over a restart): "
            "after a restart the CONNACK says session present 0 and the queue is gone, "
            "shown without umqtt by `tests/interop/session_probe.py ejabberd`",
    }
    # anonymous login (login_anon) still wants a user name in CONNECT
    user, password = "interop", "interop-pass"

    def install(self):
        if not shutil.which("ejabberdctl"):
            sudo = [] if os.geteuid() == 0 else ["sudo"]
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")

            def go():
                sh(sudo + ["apt-get", "update", "-qq"], env=env)
                sh(sudo + ["apt-get", "install", "-y", "-qq", "ejabberd"], env=env)
            timed_install("ejabberd (apt-get)", go)
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "ejabberd"],
                           capture_output=True, text=True)
        self.version = r.stdout.strip() or "?"

    def close(self):
        """After the last stop: end the epmd daemon the first node started
        (only if none ran before; `epmd -kill` refuses while nodes live)."""
        if not self.had_epmd:
            subprocess.run(["epmd", "-kill"], capture_output=True)

    def setup(self):
        self.had_epmd = subprocess.run(["epmd", "-names"], capture_output=True).returncode == 0
        os.chmod(self.dir, 0o777)  # ejabberdctl runs the node as the user ejabberd
        for d in ("spool", "logs"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
            os.chmod(os.path.join(self.dir, d), 0o777)
        with open(os.path.join(self.dir, "inetrc"), "w") as f:
            f.write("{lookup, [file, native]}.\n")

    def write_config(self):
        conf = """hosts:
  - localhost
loglevel: info
listen:
  -
    port: {port}
    ip: "{host}"
    module: mod_mqtt
auth_method: [anonymous]
anonymous_protocol: login_anon
allow_multiple_connections: true
modules:
  mod_mqtt: {{}}
""".format(host=self.host, port=self.port)
        # -d DIR: ejabberd.yml from here, and no ejabberdctl.cfg (Debian's
        # would point back at /etc/ejabberd/ejabberd.yml)
        with open(os.path.join(self.dir, "ejabberd.yml"), "w") as f:
            f.write(conf)
        os.chmod(os.path.join(self.dir, "ejabberd.yml"), 0o644)

    def argv(self):
        return ["ejabberdctl", "-d", self.dir, "--spool", os.path.join(self.dir, "spool"),
                "--logs", os.path.join(self.dir, "logs"),
                "--node", self.node(), "foreground"]

    def node(self):
        return "interop{}@localhost".format(self.port)

    def beam_pids(self):
        """The Erlang VM of this node: su puts it outside our process group."""
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/{}/cmdline".format(pid), "rb") as f:
                    args = f.read().split(b"\0")
            except OSError:
                continue
            if (args and args[0].endswith(b"beam.smp") and
                    self.node().encode() in args):
                pids.append(int(pid))
        return pids

    def _kill(self):
        # SIGTERM to the Erlang VM stops ejabberd cleanly; ejabberdctl and su
        # end with it
        if self.proc is None:
            return
        for pid in self.beam_pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        while self.beam_pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self.beam_pids():
            os.kill(pid, signal.SIGKILL)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None


BROKERS = [MosquittoBroker, RumqttdBroker, AmqttBroker, EjabberdBroker]


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("micropython")
    ap.add_argument("-b", dest="brokers", action="append", default=[],
                    help="only this broker (repeatable)")
    ap.add_argument("-k", dest="scenarios", action="append", default=[],
                    help="only this scenario (repeatable)")
    ap.add_argument("--timeout", type=float, default=120.0, help="per scenario")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    mp = os.path.abspath(args.micropython)
    if not os.access(mp, os.X_OK):
        print("error: {} is not an executable".format(mp))
        print("0 passed, 1 failed")
        return 1
    scenarios = [s for s in SCENARIOS if not args.scenarios or s in args.scenarios]
    classes = [c for c in BROKERS if not args.brokers or c.name in args.brokers]
    client = os.path.join(HERE, "interop_client.py")
    workdir = tempfile.mkdtemp(prefix="umqtt-interop-")
    os.chmod(workdir, 0o755)
    print("firmware: {}".format(mp), flush=True)
    table = []  # (broker, version, scenario, status, reason)
    passed = failed = unsupported = 0
    ran = 0
    for cls in classes:
        b = cls(workdir)
        try:
            b.install()
            b.setup()
            b.start()
        except Exception as e:
            reason = str(e).strip().splitlines()
            reason = reason[0] if reason else repr(e)
            print("{} NOT RUN could not be installed or started: {}".format(cls.name, reason), flush=True)
            table.append((cls.name, "-", "*", "NOT RUN", reason))
            failed += 1
            b.stop()
            continue
        ran += 1
        print("== {} {} ({}) on 127.0.0.1:{}".format(b.name, b.version, b.source, b.port), flush=True)
        env = dict(os.environ, MQTT_HOST="127.0.0.1", MQTT_PORT=str(b.port),
                   INTEROP_BROKER=b.name, MQTT_USER=getattr(b, "user", ""),
                   MQTT_PASS=getattr(b, "password", ""),
                   MICROPYPATH=".frozen:" + os.path.join(TESTS, "firmware"))
        try:
            for scen in scenarios:
                if not b.alive():
                    b.start()
                ok, secs, out = run_one("{}/{}".format(b.name, scen), [mp, client, scen], env,
                                        args.timeout, b, args.verbose)
                res = next((l for l in reversed(out) if l.startswith("RESULT ")), None)
                if res:
                    parts = res.split(None, 3)
                    status, reason = parts[2], (parts[3] if len(parts) > 3 else "")
                else:
                    status = "FAIL"
                    reason = "no RESULT line ({})".format(out[-1] if out else "no output")
                if status == "PASS" and not ok:
                    status, reason = "FAIL", "exit code not 0 after PASS: " + (out[-1] if out else "")
                if status == "FAIL" and scen in b.unsupported:
                    status = "UNSUPPORTED"
                    reason = "not supported by the broker: {} (observed: {})".format(
                        b.unsupported[scen], reason)
                print("{:<11} {:<9} {:<16} ({:4.1f} s) {}".format(
                    status, b.name, scen, secs or 0, reason), flush=True)
                if status == "FAIL" or (args.verbose is False and status == "UNSUPPORTED"):
                    for line in out:
                        print("    | " + line)
                    if status == "FAIL":
                        print("    -- broker log tail --")
                        for line in b.log_tail(15).splitlines():
                            print("    # " + line)
                table.append((b.name, b.version, scen, status, reason))
                if status == "PASS":
                    passed += 1
                elif status == "UNSUPPORTED":
                    unsupported += 1
                else:
                    failed += 1
        except Exception as e:
            print("{}: harness error {!r}".format(b.name, e))
            failed += 1
        finally:
            b.stop()
            if hasattr(b, "close"):
                b.close()
    if os.environ.get("INTEROP_DEBUG"):
        print("kept (INTEROP_DEBUG): " + workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print("| broker | version | " + " | ".join(scenarios) + " |")
    print("|---|---|" + "---|" * len(scenarios))
    for name in [c.name for c in classes]:
        rows = [r for r in table if r[0] == name]
        if rows and rows[0][2] == "*":
            print("| {} | - | not run: {} |".format(name, rows[0][4]))
            continue
        status = {r[2]: r[3] for r in rows}
        print("| {} | {} | ".format(name, rows[0][1] if rows else "?") +
              " | ".join(status.get(s, "-") for s in scenarios) + " |")
    print()
    if ran < 3 and not args.brokers:
        print("only {} broker(s) ran; at least 3 are required".format(ran))
        failed += 1
    print("{} unsupported by the broker".format(unsupported))
    print("{} passed, {} failed".format(passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
