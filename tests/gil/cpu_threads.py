# Runs ON the firmware (MicroPython). Two CPU-bound pure-Python threads:
# with the GIL on (MICROPY_PY_THREAD_GIL=1, as QuecPython) they serialise and
# take about twice one thread's wall time; with the GIL off they run on two
# cores at once (about 1x). Prints one line "RESULT <json>" for
# tests/run_gil_check.py, which decides.
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

one = run_threads(1, n)
two = run_threads(2, n)
print("RESULT " + json.dumps({
    "thread": getattr(sys.implementation, "_thread", None),
    "iterations": n,
    "one_ms": one,
    "two_ms": two,
    "ratio": two / one,
}))
