"""One mosquitto fixture for every runner.

    with Mosquitto() as b:                 # anonymous, free loopback port
        b.port, b.log_path
    b = Mosquitto(workdir, "auth", users={"u": "p"}, persistence=True)
    b.start(); b.restart(down=2.0); b.stop(); b.log_tail(15); b.cleanup()
    Mosquitto(listeners={"tls": ["cafile ...", "certfile ...", "keyfile ..."],
                         "tls_cert": [..., "require_certificate true"]},
              config=["per_listener_settings true"])   # b.ports["tls"], ...

The first start() picks free ports (retrying with others if one was taken
meanwhile); later starts (restart(), or start() after stop()) reuse the same
ports. The log (log_dest file, flushed per line) accumulates over restarts at
`log_path`; mosquitto's own stdout/stderr goes to `out_path`.
"""
import os
import shutil
import subprocess
import tempfile
import threading
import time

from .net import free_port, wait_port

HOST = "127.0.0.1"


class BrokerError(RuntimeError):
    pass


class Mosquitto:
    """One mosquitto process with a generated config in its own directory.

    workdir     parent directory (default: a new temporary one, removed by
                cleanup() / the context manager)
    name        sub-directory of workdir holding config, log, persistence
    port        fixed port of the default listener (default: a free one)
    listeners   {name: [config lines]}: one listener per entry, each on its
                own port (self.ports[name]); default {"default": []}
    users       {user: password}: a password file, allow_anonymous false
                (otherwise allow_anonymous true on every listener)
    persistence keep sessions (and queued QoS 1/2 messages) over restarts
    log_types   mosquitto log_type values (default all; the bench uses error)
    config      further global config lines (e.g. per_listener_settings true)
    host        the address every listener binds (default 127.0.0.1; "::1"
                for an IPv6 broker)
    """

    def __init__(self, workdir=None, name="mosquitto", port=None, listeners=None, users=None,
                 persistence=False, log_types=("all",), config=(), host=HOST):
        self._own_workdir = workdir is None
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="umqtt-broker-")
            os.chmod(workdir, 0o755)
        self.workdir = workdir
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o777)  # mosquitto drops to user mosquitto as root
        self.name = name
        self.listeners = dict(listeners) if listeners else {"default": []}
        self._host = host
        self.ports = {}
        if port:
            self.ports[next(iter(self.listeners))] = port
        self._fixed = dict(self.ports)
        self.users = dict(users or {})
        self.persistence = persistence
        self.log_types = tuple(log_types)
        self.config = list(config)
        self.proc = None
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        self.out_path = os.path.join(self.dir, "mosquitto.out")
        self.conf_path = os.path.join(self.dir, "mosquitto.conf")
        self.pwfile = None
        self.lock = threading.Lock()
        self._started_once = False
        if self.users:
            self.pwfile = os.path.join(self.dir, "passwd")
            for i, (user, password) in enumerate(self.users.items()):
                subprocess.run(["mosquitto_passwd"] + (["-c"] if i == 0 else []) +
                               ["-b", self.pwfile, user, password], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            os.chmod(self.pwfile, 0o644)

    # ---- state
    @property
    def port(self):
        """Port of the first listener (None before the first start)."""
        return self.ports.get(next(iter(self.listeners)))

    @property
    def host(self):
        return self._host

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # ---- config
    def _write_config(self):
        per_listener = "per_listener_settings true" in self.config
        access = (["allow_anonymous false", "password_file " + self.pwfile] if self.pwfile
                  else ["allow_anonymous true"])
        lines = list(self.config)
        lines += ["log_dest file " + self.log_path]  # flushed per line (stdout is not)
        lines += ["log_type " + t for t in self.log_types]
        lines += ["connection_messages true"]
        if self.persistence:
            # sessions and queued messages survive restart() (in self.dir)
            lines += ["persistence true", "persistence_location {}/".format(self.dir),
                      "autosave_interval 0"]
        else:
            lines += ["persistence false"]
        if not per_listener:
            lines += access
        for lname, extra in self.listeners.items():
            lines.append("listener {} {}".format(self.ports[lname], self._host))
            if per_listener:
                lines += access
            lines += list(extra)
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.conf_path, 0o644)

    # ---- life cycle
    def start(self, timeout=10.0):
        """Start mosquitto; returns the first listener's port. The first call
        picks free ports (unless `port` was given); later calls reuse them."""
        with self.lock:
            if self.alive():
                return self.port
            same = self._started_once or set(self._fixed) == set(self.listeners)
            for attempt in range(5):
                if not same:
                    self.ports = {n: self._fixed.get(n) or free_port(self._host) for n in self.listeners}
                self._write_config()
                open(self.log_path, "ab").close()
                os.chmod(self.log_path, 0o666)  # written after dropping privileges
                with open(self.out_path, "ab") as out:
                    self.proc = subprocess.Popen(["mosquitto", "-c", self.conf_path],
                                                 stdout=out, stderr=subprocess.STDOUT,
                                                 stdin=subprocess.DEVNULL,
                                                 start_new_session=True)
                if all(wait_port(p, self._host, timeout, self.proc) for p in self.ports.values()):
                    self._started_once = True
                    return self.port
                self._kill()
                if same:  # same port wanted: retry a little later
                    time.sleep(0.5)
            raise BrokerError("mosquitto ({}) did not start on {}; log:\n{}\n{}".format(
                self.name, self.ports, self.log_tail(), self._out_tail()))

    def stop(self):
        with self.lock:
            self._kill()

    def restart(self, down=0.0):
        """Stop, stay down `down` seconds, start again on the same port(s)."""
        self.stop()
        if down:
            time.sleep(down)
        return self.start()

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        """stop(), then remove the directory (the whole workdir if it was ours)."""
        self.stop()
        shutil.rmtree(self.workdir if self._own_workdir else self.dir, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()

    # ---- log
    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def _out_tail(self, n=10):
        try:
            with open(self.out_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""
