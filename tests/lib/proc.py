"""The firmware (or any program) on a script: stdout and stderr merged and
read line by line in a thread, the whole process group killed on timeout.

    r = run([mp, script], env=env, timeout=40)
    r.rc (None if killed after the timeout), r.timed_out, r.lines, r.secs, r.output

    p = Process([mp, script], env=env, on_line=handle)   # handle(line) per line
    ... p.lines so far ...
    rc = p.wait(timeout)          # None and killed if still running
"""
import os
import signal
import subprocess
import threading
import time


class Process:
    def __init__(self, argv, env=None, cwd=None, on_line=None):
        self.argv = list(argv)
        self.lines = []
        self.on_line = on_line
        self.timed_out = False
        self.rc = None
        self.t0 = time.monotonic()
        self.secs = None
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                     start_new_session=True)
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.lines.append(line)
            if self.on_line:
                self.on_line(line)
        self.proc.stdout.close()

    def poll(self):
        return self.proc.poll()

    def kill(self, sig=signal.SIGKILL):
        """Signal the whole process group (the firmware's threads, wrappers)."""
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def wait(self, timeout=None):
        """Exit code, or None after killing the process group at the timeout.
        Returns once every output line has been read (or 5 s after exit)."""
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.kill()
            self.proc.wait()
            self.rc = None
        self._reader.join(5)
        self.secs = time.monotonic() - self.t0
        return self.rc

    @property
    def output(self):
        return "\n".join(self.lines)


def run(argv, env=None, timeout=60.0, cwd=None, on_line=None):
    """Process(...).wait(timeout); returns the finished Process."""
    p = Process(argv, env=env, cwd=cwd, on_line=on_line)
    p.wait(timeout)
    return p
