# Shared helpers for the umqtt firmware tests (MicroPython; also runs on CPython).
# Environment (set by tests/run_firmware_tests.py):
#   MQTT_HOST, MQTT_PORT, MQTT_BROKER_LOG, MQTT_AUTH_PORT, MQTT_AUTH_USER,
#   MQTT_AUTH_PASS, HARNESS_ACK_DIR (require_env(): the test fails without)
import os
import sys
import time

try:
    _getenv = os.getenv
except AttributeError:  # pragma: no cover - very old ports
    def _getenv(name, default=None):
        return default


def env(name, default=None):
    v = _getenv(name)
    return default if v is None else v


def require_env(name):
    """A variable tests/run_firmware_tests.py always sets: without it the
    test fails (a check that cannot run is not a pass)."""
    v = _getenv(name)
    if not v:
        print("  FAIL {} not set: run through tests/run_firmware_tests.py".format(name))
        sys.exit(1)
    return v


def read_log(path, tail=262144):
    """The end of the broker's log: it accumulates over the whole suite and
    would not fit a small firmware heap."""
    size = os.stat(path)[6]
    with open(path) as f:
        if size > tail:
            f.seek(size - tail)
        return f.read()


HOST = env("MQTT_HOST", "127.0.0.1")
PORT = int(env("MQTT_PORT", "1883"))

if hasattr(time, "ticks_ms"):
    def now_ms():
        return time.ticks_ms()

    def elapsed_ms(t0):
        return time.ticks_diff(time.ticks_ms(), t0)
else:
    def now_ms():
        return int(time.monotonic() * 1000)

    def elapsed_ms(t0):
        return now_ms() - t0


def sleep_ms(ms):
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000)


def open_fds():
    """Descriptors this process holds (unix port: /proc/self/fd)."""
    return len(list(os.ilistdir("/proc/self/fd")))


def stand_in_module(name, source, tag):
    """Writes `source` as module `name` into a fresh directory put first on
    sys.path (e.g. a `ussl` the unix port lacks) and imports it; returns the
    module and the directory."""
    d = "/tmp/umqtt-%s-%s" % (tag, uid(tag))
    try:
        os.mkdir(d)
    except OSError:
        pass
    with open(d + "/" + name + ".py", "w") as f:
        f.write(source)
    sys.path.insert(0, d)
    return __import__(name), d


_n = [0]


def uid(prefix="t"):
    """Unique printable id (client ids, topics)."""
    _n[0] += 1
    try:
        r = os.urandom(4)
        h = "".join("%02x" % b for b in r)
    except Exception:
        h = "%08x" % (now_ms() & 0xFFFFFFFF)
    return "{}-{}-{}".format(prefix, h, _n[0])


class Checker:
    def __init__(self, name):
        self.name = name
        self.failures = 0
        self.passes = 0
        self.warnings = 0
        print("== " + name)

    def ok(self, cond, what):
        if cond:
            self.passes += 1
            print("  ok   " + what)
        else:
            self.failures += 1
            print("  FAIL " + what)
        return cond

    def eq(self, got, want, what):
        c = got == want
        if not c:
            g, w = repr(got), repr(want)
            if len(g) > 200:
                g = g[:200] + "..."
            if len(w) > 200:
                w = w[:200] + "..."
            what = "{} (got {}, want {})".format(what, g, w)
        return self.ok(c, what)

    def warn(self, what):
        self.warnings += 1
        print("  WARN " + what)

    def raises(self, excs, fn, what):
        """fn() must raise one of excs; any other exception is a failure."""
        try:
            r = fn()
        except excs as e:
            print("  ok   {} -> {}: {}".format(what, type(e).__name__, e))
            self.passes += 1
            return e
        except Exception as e:
            self.ok(False, "{} -> unexpected {}: {}".format(what, type(e).__name__, e))
            return e
        self.ok(False, "{} -> no exception (returned {!r})".format(what, r))
        return None

    def finish(self):
        print("== {}: {} ok, {} failed, {} warnings".format(
            self.name, self.passes, self.failures, self.warnings))
        if self.failures:
            sys.exit(1)


class Inbox:
    """Callback target collecting (topic, msg) pairs."""

    def __init__(self, check_types=None):
        self.msgs = []
        self.check = check_types

    def __call__(self, topic, msg):
        if self.check is not None:
            if not (isinstance(topic, bytes) and isinstance(msg, bytes)):
                self.check.ok(False, "callback args must be bytes, got {} {}".format(
                    type(topic), type(msg)))
        self.msgs.append((topic, msg))

    def find(self, topic=None, msg=None):
        for t, m in self.msgs:
            if (topic is None or t == topic) and (msg is None or m == msg):
                return (t, m)
        return None


class Errors:
    """error_register_cb target."""

    def __init__(self):
        self.events = []

    def __call__(self, msg):
        print("  [error_cb] " + str(msg))
        self.events.append(msg)

    def count(self, text):
        return sum(1 for e in self.events if e == text)


def poll_until(pred, timeout_ms, clients=(), interval_ms=10):
    """Call check_msg() on clients until pred() is true or the time is up."""
    t0 = now_ms()
    while True:
        if pred():
            return True
        if elapsed_ms(t0) > timeout_ms:
            return False
        for c in clients:
            try:
                c.check_msg()
            except OSError as e:
                print("  (check_msg raised OSError {})".format(e))
                sleep_ms(200)
        sleep_ms(interval_ms)


def wait_until(pred, client, max_calls=50):
    """Call wait_msg() (blocking) until pred() is true."""
    for _ in range(max_calls):
        if pred():
            return True
        client.wait_msg()
    return pred()


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def harness(cmd, ident, *args, wait_suffix="", timeout_ms=30000):
    """Ask tests/run_firmware_tests.py to do something; wait for its ack file."""
    ack_dir = env("HARNESS_ACK_DIR")
    if not ack_dir:
        raise RuntimeError("HARNESS_ACK_DIR not set: run through tests/run_firmware_tests.py")
    print("HARNESS: {} {} {}".format(cmd, ident, " ".join(str(a) for a in args)))
    return wait_ack(ident + wait_suffix, timeout_ms)


def wait_ack(name, timeout_ms=30000):
    path = env("HARNESS_ACK_DIR") + "/" + name
    t0 = now_ms()
    while not _exists(path):
        if elapsed_ms(t0) > timeout_ms:
            raise RuntimeError("harness did not acknowledge " + name)
        sleep_ms(20)
    with open(path) as f:
        text = f.read()
    if text != "ok":
        raise RuntimeError("harness reported " + text)
    return True


def ack_present(name):
    return _exists(env("HARNESS_ACK_DIR") + "/" + name)
