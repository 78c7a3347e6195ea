#!/usr/bin/env python3
"""Run the offline tests (tests/qemu/test_*.py) on the ARM firmware under
qemu-system-arm and on the unix firmware, each against its .exp file.

Usage: tests/run_qemu_tests.py [--qemu build/qemu/firmware.elf]
                               [--unix build/unix/micropython]
                               [-k NAME] [--timeout S] [-v]

* A test is a MicroPython script; its output (stdout, then the traceback of
  an uncaught exception, "\r\n" read as "\n") must equal <test>.py.exp
  byte for byte, on every firmware given. Both are checked by default, so an
  ARM/x86 difference fails as well as a wrong result.
* A line "from NAME import *" where tests/qemu/NAME.py exists is replaced by
  that file's text (the qemu firmware has no filesystem): both firmwares run
  exactly the same program text.
* ARM: one qemu-system-arm -machine sabrelite per test, the program pasted
  through MicroPython's raw REPL on the emulated UART (qemu's stdio).
  x86: build/unix/micropython <program file>.
* Prints one line per test and firmware, then "N passed, N failed"; exit
  code 1 on any failure (or when a test has no .exp file).
"""
import argparse
import glob
import os
import re
import select
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TEST_DIR = os.path.join(HERE, "qemu")

QEMU_CMD = [
    "qemu-system-arm", "-machine", "sabrelite", "-m", "128M",
    "-nographic", "-monitor", "none", "-serial", "stdio", "-semihosting",
]


def program_text(path):
    out = []
    with open(path) as f:
        for line in f:
            m = re.match(r"from (\w+) import \*\s*$", line)
            inc = m and os.path.join(TEST_DIR, m.group(1) + ".py")
            if inc and os.path.isfile(inc):
                with open(inc) as g:
                    out.append("# ---- %s.py (inlined) ----\n" % m.group(1))
                    out.append(g.read())
                    out.append("# ---- end of %s.py ----\n" % m.group(1))
            else:
                out.append(line)
    return "".join(out)


class QemuError(Exception):
    pass


class QemuBoard:
    """One qemu-system-arm process; its UART is our stdin/stdout pipes."""

    def __init__(self, firmware, timeout):
        self.deadline = time.monotonic() + timeout
        self.proc = subprocess.Popen(
            QEMU_CMD + ["-kernel", firmware],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.buf = b""

    def read_until(self, marker):
        while marker not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise QemuError("timeout waiting for %r; got %r" % (marker, self.buf[-300:]))
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if r:
                data = os.read(self.proc.stdout.fileno(), 4096)
                if not data:
                    err = self.proc.stderr.read().decode(errors="replace")
                    raise QemuError("qemu exited: %s; got %r" % (err.strip(), self.buf[-300:]))
                self.buf += data
        i = self.buf.index(marker)
        head, self.buf = self.buf[:i], self.buf[i + len(marker):]
        return head

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def run(self, text):
        # raw REPL (shared/runtime/pyexec.c): ^A enters it, ^D executes; the
        # reply is "OK", stdout, ^D, the exception text, ^D, ">".
        self.write(b"\r\x03\x03")
        self.write(b"\x01")
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        data = text.encode()
        for i in range(0, len(data), 256):
            self.write(data[i:i + 256])
        self.write(b"\x04")
        self.read_until(b"OK")
        out = self.read_until(b"\x04")
        err = self.read_until(b"\x04")
        self.read_until(b">")
        return out + err

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass


def run_qemu(firmware, text, timeout):
    board = QemuBoard(firmware, timeout)
    try:
        return board.run(text)
    finally:
        board.close()


def run_unix(micropython, text, timeout):
    # in a directory of its own: the script's directory is first on sys.path,
    # and a stray huaweicloud.mpy in /tmp must not shadow the frozen module
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "test.py")
        with open(path, "w") as f:
            f.write(text)
        try:
            p = subprocess.run([micropython, path], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=timeout, cwd=TEST_DIR)
            out = p.stdout
            if p.returncode not in (0, 1):
                out += b"\n[exit code %d]\n" % p.returncode
            return out
        except subprocess.TimeoutExpired as e:
            return (e.stdout or b"") + b"\n[timeout]\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", default=os.path.join(ROOT, "build/qemu/firmware.elf"),
                    help="ARM firmware (empty: skip)")
    ap.add_argument("--unix", default=os.path.join(ROOT, "build/unix/micropython"),
                    help="unix firmware (empty: skip)")
    ap.add_argument("-k", default="", help="only tests whose name contains this")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("-v", action="store_true", help="print every output")
    args = ap.parse_args()
    # the firmware runs with cwd=tests/qemu: resolve paths given relative to the caller
    args.qemu = os.path.abspath(args.qemu) if args.qemu else args.qemu
    args.unix = os.path.abspath(args.unix) if args.unix else args.unix

    targets = []
    if args.qemu:
        targets.append(("arm", lambda t: run_qemu(args.qemu, t, args.timeout), args.qemu))
    if args.unix:
        targets.append(("x86", lambda t: run_unix(args.unix, t, args.timeout), args.unix))
    for name, _, path in targets:
        if not os.path.isfile(path):
            sys.exit("run_qemu_tests: %s firmware %s not found" % (name, path))

    tests = sorted(glob.glob(os.path.join(TEST_DIR, "test_*.py")))
    tests = [t for t in tests if args.k in os.path.basename(t)]
    passed = failed = 0
    for test in tests:
        name = os.path.basename(test)[:-3]
        exp_path = test + ".exp"
        if not os.path.isfile(exp_path):
            print("FAIL %s: no %s" % (name, os.path.basename(exp_path)))
            failed += 1
            continue
        with open(exp_path, "rb") as f:
            expected = f.read()
        text = program_text(test)
        outputs = {}
        for tname, run, _ in targets:
            t0 = time.monotonic()
            try:
                out = run(text)
            except QemuError as e:
                out = b"[qemu: %s]\n" % str(e).encode()
            out = out.replace(b"\r\n", b"\n")
            outputs[tname] = out
            ok = out == expected
            print("%s %-28s %s %5.1fs" % ("pass" if ok else "FAIL", name, tname,
                                         time.monotonic() - t0), flush=True)
            if ok:
                passed += 1
            else:
                failed += 1
            if not ok or args.v:
                sys.stdout.write(out.decode(errors="replace"))
                if not ok:
                    print("---- expected (%s) ----" % os.path.basename(exp_path))
                    sys.stdout.write(expected.decode(errors="replace"))
                    print("----")
        if len(set(outputs.values())) > 1:
            print("DIFF %s: the firmwares' outputs differ" % name)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not tests else 0)


if __name__ == "__main__":
    main()
