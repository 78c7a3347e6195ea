#!/usr/bin/env python3
"""Check a firmware's threading configuration with two CPU-bound threads.

Usage: tests/run_gil_check.py <path-to-micropython> --expect {gil,nogil}

Runs tests/gil/cpu_threads.py on the firmware: one CPU-bound pure-Python
thread alone, then two at once (same work each), wall time of each.
  --expect gil    (MICROPY_PY_THREAD_GIL=1, QuecPython's configuration): the
                  two threads must serialise: two/one >= 1.7, and
                  sys.implementation._thread == "GIL".
  --expect nogil  (the unix port's default): they must run in parallel:
                  two/one <= 1.4, and _thread == "unsafe".
So a GIL-off binary fails `--expect gil` and a GIL-on one fails
`--expect nogil`. A ratio in between is inconclusive and the run is repeated
(up to --attempts times): the machine may be busy. The parallel case needs
two free cores; on a machine with one CPU `--expect nogil` checks only
_thread. Exit 0 when the expectation holds, 1 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "gil", "cpu_threads.py")
SERIAL_MIN = 1.7   # GIL on: about 2x (measured 2.9x: handing the GIL over costs too)
PARALLEL_MAX = 1.4  # GIL off, two free cores: about 1x


def run_once(mp, timeout):
    p = subprocess.run([mp, SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    out = p.stdout.decode(errors="replace")
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError("no RESULT line (exit {}):\n{}".format(p.returncode, out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("micropython")
    ap.add_argument("--expect", choices=("gil", "nogil"), required=True)
    ap.add_argument("--attempts", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()
    name = "gil-check {} ({})".format(args.micropython, args.expect)
    want_thread = "GIL" if args.expect == "gil" else "unsafe"
    cpus = len(os.sched_getaffinity(0))

    for attempt in range(1, args.attempts + 1):
        r = run_once(args.micropython, args.timeout)
        ratio = r["ratio"]
        print("{}: _thread={} one thread {} ms, two threads {} ms, ratio {:.2f}".format(
            name, r["thread"], r["one_ms"], r["two_ms"], ratio), flush=True)
        # The timing decides first (it is the behaviour that matters), then
        # the build's own report must agree.
        if args.expect == "gil" and ratio <= PARALLEL_MAX:
            print("{}: FAIL: the threads ran in parallel: no GIL".format(name))
            return 1
        if args.expect == "nogil" and cpus >= 2 and ratio >= SERIAL_MIN \
                and attempt == args.attempts:
            print("{}: FAIL: the threads serialised every time".format(name))
            return 1
        done = (ratio >= SERIAL_MIN) if args.expect == "gil" else (cpus < 2 or ratio <= PARALLEL_MAX)
        if done:
            if r["thread"] != want_thread:
                print("{}: FAIL: sys.implementation._thread is {!r}, expected {!r}".format(
                    name, r["thread"], want_thread))
                return 1
            if args.expect == "gil":
                print("{}: ok: the threads serialised".format(name))
            elif cpus < 2:
                print("{}: ok (only {} CPU: parallelism not checked)".format(name, cpus))
            else:
                print("{}: ok: the threads ran in parallel".format(name))
            return 0
        print("{}: inconclusive (attempt {}/{}), again".format(name, attempt, args.attempts))
    print("{}: FAIL: inconclusive after {} attempts".format(name, args.attempts))
    return 1


if __name__ == "__main__":
    sys.exit(main())
