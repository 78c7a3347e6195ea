# MicroPython side of the hostile-broker tests: runs one action against the
# scripted server on HOSTILE_PORT and prints one "RESULT ..." line; never
# swallows a crash (a crash shows as a signal / exit code in the runner).
# Env: HOSTILE_PORT, HOSTILE_ACTION, HOSTILE_KEEPALIVE (0), HOSTILE_RECONN (0),
#      HOSTILE_N (repetitions for leak actions, 1000), HOSTILE_TOPIC
import gc
import os
import sys
import time
from umqtt import MQTTClient, MQTTException

PORT = int(os.getenv("HOSTILE_PORT"))
ACTION = os.getenv("HOSTILE_ACTION") or "connect"
KEEPALIVE = int(os.getenv("HOSTILE_KEEPALIVE") or "0")
RECONN = (os.getenv("HOSTILE_RECONN") or "0") == "1"
N = int(os.getenv("HOSTILE_N") or "1000")
TOPIC = os.getenv("HOSTILE_TOPIC") or "t/x"
HOST = "127.0.0.1"

errors = []
msgs = [0, 0]  # count, bytes


def on_error(m):
    errors.append(m)


def on_msg(t, m):
    msgs[0] += 1
    msgs[1] += len(m)


def client(cid="hostile"):
    c = MQTTClient(cid, HOST, PORT, keepalive=KEEPALIVE, reconn=RECONN)
    c.error_register_cb(on_error)
    c.set_callback(on_msg)
    return c


def result(kind, detail, t0):
    dt = time.ticks_diff(time.ticks_ms(), t0)
    print("RESULT|{}|{}|{}|{}|{}".format(kind, dt, msgs[0], detail, ",".join(errors)))


def describe(e):
    return "{}:{}".format(type(e).__name__, e.args[0] if e.args else "")


def run_action(c):
    if ACTION == "connect":
        return c.connect()
    c.connect()
    if ACTION == "wait_msg":
        # until the server's behaviour makes it raise (or 3 messages arrive)
        while msgs[0] < 3:
            c.wait_msg()
        return "msgs"
    if ACTION == "check_msg":
        t0 = time.ticks_ms()
        while time.ticks_diff(time.ticks_ms(), t0) < 3000:
            c.check_msg()
            time.sleep_ms(5)
        return "quiet"
    if ACTION == "publish1":
        r = c.publish(TOPIC, b"payload", qos=1)
        return "publish={}".format(r)
    if ACTION == "subscribe":
        c.subscribe(TOPIC, 1)
        return "subscribed"
    if ACTION == "flood":
        c.subscribe(TOPIC, 1)
        t0 = time.ticks_ms()
        last = -1
        while time.ticks_diff(time.ticks_ms(), t0) < 60000:
            c.wait_msg()
            if msgs[0] == last:
                pass
            last = msgs[0]
        return "flood"
    if ACTION == "reconnect_wait":
        # reconn=True: the server kills the first link; the client must come
        # back on its own and get the message the server sends on the second.
        while msgs[0] < 1:
            c.wait_msg()
        c.disconnect()
        return "reconnected"
    raise RuntimeError("unknown action " + ACTION)


def one():
    c = client()
    t0 = time.ticks_ms()
    try:
        r = run_action(c)
        result("ok", r, t0)
    except MQTTException as e:
        result("MQTTException", describe(e), t0)
    except ValueError as e:  # connect(): every other failure, in QuecPython's words
        result("ValueError", describe(e), t0)
    except OSError as e:
        result("OSError", describe(e), t0)
    except Exception as e:  # anything else is a failure the runner reports
        result("OTHER", describe(e), t0)
    finally:
        try:
            c.close()
        except Exception as e:
            print("close raised", describe(e))


def leak():
    # 1000 failing connects (or failing parses after a good CONNACK), new
    # client each time and one reused client; heap before/after gc.collect().
    action = ACTION[5:]
    kinds = {}

    def attempt(c):
        try:
            c.connect()
            if action == "parse":
                c.wait_msg()
            kinds["ok"] = kinds.get("ok", 0) + 1
        except (ValueError, OSError) as e:  # MQTTException is a ValueError
            k = type(e).__name__
            kinds[k] = kinds.get(k, 0) + 1
        c.close()

    reused = client("leak-reused")
    for _ in range(20):  # warm up: qstrs, module state, first allocations
        attempt(client("leak"))
        attempt(reused)
    gc.collect()
    gc.collect()
    before = gc.mem_alloc()
    t0 = time.ticks_ms()
    for i in range(N):
        attempt(client("leak") if i % 2 == 0 else reused)
    errors.clear()
    # every connected client had a background thread; closed clients' threads
    # end within their 1 s period (memory they still hold is not a leak,
    # memory held after that is)
    time.sleep_ms(1500)
    gc.collect()
    gc.collect()
    after = gc.mem_alloc()
    print("HEAP before={} after={} delta={} n={} kinds={}".format(before, after, after - before, N, kinds))
    result("leak", "delta={}".format(after - before), t0)


def secrets():
    # The password must not show in repr(), exception messages, error
    # callback messages or anything the module prints. The runner searches
    # this process's whole output for it (this script never prints it).
    pw = "S3cr3t" + "-P4ss-" + "q7Zx"
    pw_b = pw.encode()

    def make(p):
        c = MQTTClient("sec", HOST, PORT, "secret-user", p, keepalive=0, reconn=False)
        c.error_register_cb(on_error)
        c.set_callback(lambda t, m: 1 / 0)  # a failing callback prints its traceback
        return c

    for p in (pw, pw_b):
        c = make(p)
        print("repr:", repr(c), "str:", str(c))
        for i in range(3):  # connection 0: refused (5), 1: garbage, 2: RST
            try:
                c.connect()
                c.wait_msg()
            except Exception as e:
                print("exc:", type(e).__name__, repr(e), str(e), e.args)
            print("repr after:", repr(c))
        c.set_credentials_cb(lambda: ("sec", "secret-user", pw))
        try:
            c.connect()
        except Exception as e:
            print("exc (credentials cb):", repr(e), e.args)
    print("errors:", errors)
    result("ok", "secrets", time.ticks_ms())


if ACTION == "secrets":
    secrets()
elif ACTION.startswith("leak_"):
    leak()
else:
    one()
sys.exit(0)
