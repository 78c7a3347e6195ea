#!/usr/bin/env python3
"""tests/cpython/_huaweicloud.py (the CPython stand-in) against the
firmware's native core _huaweicloud: the same inputs, the same answers
(results, or the exception type). Prints "N passed, N failed".

usage: test_native_core_parity.py MICROPYTHON
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _huaweicloud as shim  # noqa: E402

D = "5fbbb784b4ec2202e982e643_868540050954037"
CASES = [
    ("conninfo", (D, "secret123", 1532454980)),
    ("conninfo", (D, "s3cr3t", 1704067199, True)),
    ("conninfo", ("a/b", "s", 0)),
    ("conninfo", ("d", "s", -1)),
    ("conninfo", (D, "secret123", 1532454980, {"sign_type": 2})),
    ("conninfo", (D, "secret123", 1532454980, True, {"sign_type": 0})),
    ("conninfo", ("d", "s", 0, {"sign_type": 3})), ("conninfo", ("d", "s", 0, {"sign_type": -1})),
    ("event_time", (0,)), ("event_time", (1709251199,)), ("event_time", (253402300800,)),
    ("check_id", (D,)), ("check_id", ("",)), ("check_id", ("a+b",)), ("check_id", ("x" * 129,)),
    ("check_id", ("a/b", 1)), ("check_id", ("a/b", 2)), ("check_id", ("a//b", 2)),
    ("subscriptions", ("dev",)),
    ("parse_topic", ("$oc/devices/d/sys/commands/request_id=9", "d")),
    ("parse_topic", ("$oc/devices/d/sys/commands/response/request_id=9", "d")),
    ("parse_topic", ("$oc/devices/d/sys/messages/down", "d")),
    ("parse_topic", ("$oc/devices/d/user/a/b", "d")),
    ("parse_topic", ("$oc/devices/e/sys/messages/down", "d")),
    ("parse_topic", ("$oc/devices/d/sys/commands/request_id=", "d")),
    ("parse_topic", ("$oc/devices/d/sys/nope", "d")),
    ("parse_topic", ("$oc/devices/d/sys/properties/report?request_id=42", "d")),
    ("parse_topic", ("$oc/devices/d/sys/commands/request_id=1?request_id=2", "d")),
    ("parse_topic", ("$oc/devices/d/sys/messages/up?request_id=a/b", "d")),
    ("topic", (12, "d", "42")), ("topic", (17, "d", "a/b")), ("topic", (1, "d")),
    ("topic", (1, "d", "x")), ("topic", (11, "d")), ("topic", (99, "d")), ("topic", (11, "d", "a/b")),
    ("topic", (3, "d", {"query": "42"})), ("topic", (11, "d", {"query": "42"})),
    ("topic", (3, "d", {"query": "a/b"})), ("topic", (3, "d", "1", {"query": "2"})),
] + [("topic", (k, "dev", None if k in (1, 2, 3, 4, 13, 14, 15, 16) else "r1")) for k in range(1, 18)]


def fmt(f, args):
    try:
        r = f(*args[:-1], **args[-1]) if args and isinstance(args[-1], dict) else f(*args)
        return repr(list(r) if isinstance(r, tuple) else r)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__


def main():
    script = "import _huaweicloud as h\nfor name, args in %r:\n" % CASES + (
        "    try:\n        f = getattr(h, name)\n"
        "        r = f(*args[:-1], **args[-1]) if args and isinstance(args[-1], dict) else f(*args)\n        print(repr(list(r) if isinstance(r, tuple) else r))\n"
        "    except Exception as e:\n        print(type(e).__name__)\n")
    out = subprocess.run([sys.argv[1], "-c", script], capture_output=True, text=True, timeout=30).stdout.splitlines()
    passed = failed = 0
    for (name, args), fw in zip(CASES, out + [None] * len(CASES)):
        mine = fmt(getattr(shim, name), args)
        ok = mine == fw
        passed, failed = passed + ok, failed + (not ok)
        if not ok:
            print("FAIL %s%r: firmware %s, CPython stand-in %s" % (name, args, fw, mine))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
