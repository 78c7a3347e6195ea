# Runs ON the firmware (MicroPython). Two measurements, one line
# "RESULT <json>" for tests/run_gil_check.py, which decides:
#
# 1. Timing: one CPU-bound pure-Python thread alone, then two at once. With
#    the GIL on (MICROPY_PY_THREAD_GIL=1, as QuecPython) they serialise:
#    about twice one thread's wall time; with it off they run on two cores at
#    once (about 1x) -- if two cores are free, which a shared machine does
#    not promise.
# 2. Overlap, which a busy machine does not blur: one thread increments a
#    counter non-stop; the main thread reads it twice around a stretch of
#    straight-line bytecode (no jump, no call, no allocation: the VM never
#    releases the GIL inside it) and counts the windows in which it changed.
#    With the GIL that is impossible: exactly 0. Without it, whenever both
#    threads are on a core at the same time: > 0.
import _thread
import json
import sys
import time


def spin(n):
    x = 0
    for i in range(n):
        x += i & 7
    return x


def run_threads(count, n):
    # Measured from the start of the first thread to the end of the last.
    lock = _thread.allocate_lock()
    state = {"left": count}

    def worker():
        spin(n)
        with lock:
            state["left"] -= 1

    t0 = time.ticks_ms()
    for _ in range(count):
        _thread.start_new_thread(worker, ())
    while True:
        with lock:
            if state["left"] == 0:
                break
        time.sleep_ms(5)  # releases the GIL while the main thread waits
    return time.ticks_diff(time.ticks_ms(), t0)


# Calibrate: about 0.8 s of work for one thread.
n = 20000
while True:
    t0 = time.ticks_ms()
    spin(n)
    dt = time.ticks_diff(time.ticks_ms(), t0)
    if dt >= 100:
        break
    n *= 4
n = max(n, n * 800 // max(dt, 1))

# One thread before and after the two: a machine whose load changes during
# the run skews the ratio less.
one = run_threads(1, n)
two = run_threads(2, n)
one = (one + run_threads(1, n)) // 2


def bump(c):
    while c[1]:
        c[0] += 1
    c[2] = 1


def watch(c, windows):
    changed = 0
    z = 0
    for _ in range(windows):
        x = c[0]
        # 40 straight-line statements: no GIL release point in between
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        z += 1
        y = c[0]
        if x != y:
            changed += 1
    return changed


c = [0, 1, 0]  # counter, run flag, done flag
_thread.start_new_thread(bump, (c,))
while c[0] == 0:
    time.sleep_ms(1)
t0 = time.ticks_ms()
windows = 1000000
changed = watch(c, windows)
watch_ms = time.ticks_diff(time.ticks_ms(), t0)
c[1] = 0
while not c[2]:
    time.sleep_ms(1)

print("RESULT " + json.dumps({
    "thread": getattr(sys.implementation, "_thread", None),
    "iterations": n,
    "one_ms": one,
    "two_ms": two,
    "ratio": two / one,
    "windows": windows,
    "windows_changed": changed,
    "watch_ms": watch_ms,
}))
