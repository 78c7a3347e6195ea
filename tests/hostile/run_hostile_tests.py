#!/usr/bin/env python3
"""Hostile-broker tests: a scripted TCP "broker" (CPython, threads) misbehaves
in one way per case while the firmware's umqtt client runs
tests/hostile/hostile_client.py against it.

Usage: tests/hostile/run_hostile_tests.py <micropython> [-k NAME] [-j N] [-v]

Every case must end with the client raising a clean umqtt.MQTTException or
OSError (or recovering, for reconn=True cases), exit code 0, no signal, and
within its time bound. The leak cases repeat a failing connect / failing parse
1,000 times and require the heap (gc.mem_alloc() after gc.collect()) to come
back to its baseline. Prints one line per case and "N passed, N failed".
"""
import argparse
import concurrent.futures
import os
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from lib import mqtt_bytes as mb  # noqa: E402
from lib.proc import run  # noqa: E402

CLIENT = os.path.join(HERE, "hostile_client.py")
# HOSTILE_WRAPPER="valgrind -q --error-exitcode=99": run the firmware under a tool
WRAPPER = __import__("shlex").split(os.environ.get("HOSTILE_WRAPPER", ""))
LEAK_LIMIT = 4096  # bytes of heap growth tolerated over 1,000 repetitions


# --- MQTT bytes (tests/lib/mqtt_bytes.py) --------------------------------
pkt = mb.packet
mstr = mb.mstr
publish = mb.publish
CONNACK = mb.connack()


def suback_for(pid, code=1):
    return mb.suback(pid, [code])


# --- connection helpers --------------------------------------------------
class Conn:
    def __init__(self, sock):
        self.s = sock
        self.reader = mb.SocketReader(sock)

    def read_packet(self, timeout=10):
        """One whole packet from the client (first byte, body) or None on EOF."""
        return self.reader.read(timeout)

    def expect(self, ptype, timeout=10):
        return self.reader.expect(ptype, timeout)

    def send(self, data):
        try:
            self.s.sendall(data)
            return True
        except OSError:
            return False

    def rst(self):
        try:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.s.close()

    def fin(self):
        try:
            self.s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.s.close()

    def hold(self, secs):
        """Keep the connection open and silent (reading and discarding)."""
        end = time.monotonic() + secs
        self.s.settimeout(0.2)
        while time.monotonic() < end:
            try:
                if not self.s.recv(65536):
                    return
            except socket.timeout:
                pass
            except OSError:
                return


def login(c):
    if c.expect(1) is None:
        return False
    return c.send(CONNACK)


# --- cases ---------------------------------------------------------------
# Each handler gets (conn, index of this connection for the case).
def h_send_then(data, then="fin", hold=0):
    def h(c, n):
        if c.expect(1) is None:
            return
        c.send(data)
        if hold:
            c.hold(hold)
        getattr(c, then)()
    return h


def h_after_connack(data, then="fin", hold=0, count=1):
    def h(c, n):
        if not login(c):
            return
        for _ in range(count):
            if not c.send(data):
                return
        if hold:
            c.hold(hold)
        getattr(c, then)()
    return h


def h_rst_before_connack(c, n):
    c.expect(1)
    c.rst()


def h_rst_on_accept(c, n):
    c.rst()


def h_fin_before_connack(c, n):
    c.expect(1)
    c.fin()


def h_silent(c, n):
    c.expect(1)
    c.hold(30)
    c.fin()


def h_rst_during_puback_wait(c, n):
    if not login(c):
        return
    c.expect(3)
    c.rst()


def h_rst_during_suback_wait(c, n):
    if not login(c):
        return
    c.expect(8)
    c.rst()


def h_stall_puback(c, n):
    if not login(c):
        return
    c.expect(3)
    c.hold(15)
    c.fin()


def h_puback_wrong_id(c, n):
    if not login(c):
        return
    p = c.expect(3)
    if p:
        pid = mb.parse_publish(*p)[1]
        c.send(mb.puback((pid + 1) & 0xFFFF or 1))
        c.send(mb.puback(pid))
    c.hold(3)
    c.fin()


def h_suback_then(extra):
    def h(c, n):
        if not login(c):
            return
        p = c.expect(8)
        if p is None:
            return
        pid = mb.packet_id(p[1])
        c.send(extra(pid))
        c.hold(8)
        c.fin()
    return h


def h_flood(c, n):
    if not login(c):
        return
    p = c.expect(8)
    if p is None:
        return
    c.send(suback_for(mb.packet_id(p[1])))
    # 20,000 QoS 0 + 2,000 QoS 1 PUBLISHes as fast as the socket takes them,
    # plus large ones; the client must keep up (PUBACKs read and discarded by
    # a reader thread so the client's writes never block).
    stop = threading.Event()

    def drain():
        c.s.settimeout(0.5)
        while not stop.is_set():
            try:
                if not c.s.recv(65536):
                    return
            except socket.timeout:
                pass
            except OSError:
                return
    t = threading.Thread(target=drain, daemon=True)
    t.start()
    batch = b"".join(publish(b"t/x", b"q0-%d" % i) for i in range(1000))
    for _ in range(20):
        if not c.send(batch):
            return
    batch = b"".join(publish(b"t/x", b"q1-%d" % i, qos=1, pid=i % 65535 + 1) for i in range(2000))
    c.send(batch)
    for i in range(5):
        c.send(publish(b"t/x", b"L" * 200_000))
    # sentinel: the client stops on OSError after our FIN
    time.sleep(2)
    stop.set()
    c.fin()


def h_reconnect(first):
    """First connection: `first` behaviour; second: normal, then a message."""
    def h(c, n):
        if n == 0:
            first(c, n)
            return
        if not login(c):
            return
        # resubscription may come; answer it
        p = c.expect(8, timeout=2)
        if p is not None:
            c.send(suback_for(mb.packet_id(p[1])))
        c.send(publish(b"t/x", b"after-reconnect"))
        c.hold(10)
        c.fin()
    return h


def h_secrets(c, n):
    if c.expect(1) is None:
        return
    k = n % 4
    if k == 0:
        c.send(mb.connack(5))
        c.hold(1)
    elif k == 1:
        c.send(CONNACK + publish(b"t", b"m") + b"\xff\xff")
        c.hold(1)
    elif k == 2:
        c.rst()
        return
    else:
        c.send(mb.connack(4))
        c.hold(1)
    c.fin()


SECRET = "S3cr3t-P4ss-q7Zx"


def secrets_check(res):
    out = "\n".join(res.get("_lines", []))
    return SECRET not in out, "password appears in the output" if SECRET in out else ""


def h_garbage_then_good(c, n):
    # leak_parse: CONNACK, then a malformed PUBLISH (wildcard topic)
    if not login(c):
        return
    c.send(publish(b"a/+", b"x"))
    c.hold(2)
    c.fin()


class Case:
    def __init__(self, name, handler, action="connect", expect=("MQTTException",), max_s=5.0,
                 keepalive=0, reconn=False, check=None, n=None, min_s=0.0):
        self.name, self.handler, self.action = name, handler, action
        self.expect, self.max_s, self.min_s = expect, max_s, min_s
        self.keepalive, self.reconn, self.check, self.n = keepalive, reconn, check, n


def flood_check(res):
    # 20,000 + 2,000 + 5 messages
    return res.get("msgs") == "22005", "received {} of 22005".format(res.get("msgs"))


def reconnect_check(res):
    e = res.get("errors", "")
    ok = "reconnect_start" in e and "reconnect_success" in e
    return ok, "error callback got {}".format(e)


def pub_false(res):
    return res.get("detail") == "publish=False", "publish returned {}".format(res.get("detail"))


def pub_true(res):
    return res.get("detail") == "publish=True", "publish returned {}".format(res.get("detail"))


KA = 5  # keepalive for the stall cases; dead after ~ KA*3/4 + KA/2 = 6.25 s
CASES = [
    # CONNACK truncated / oversized / malformed
    Case("connack_truncated_fin", h_send_then(b"\x20\x02\x00"), expect=("ValueError",)),
    Case("connack_truncated_stall", h_send_then(b"\x20\x02\x00", hold=30), expect=("ValueError",), max_s=24, min_s=19),
    Case("connack_header_only_stall", h_send_then(b"\x20", hold=30), expect=("ValueError",), max_s=24, min_s=19),
    Case("no_connack_silent", h_silent, expect=("ValueError",), max_s=24, min_s=19),
    Case("connack_rl_5_bytes", h_send_then(b"\x20\x80\x80\x80\x80\x01", hold=3)),
    # a CONNACK announcing 268,435,455 bytes: refuse (it is always 2), never
    # allocate it (MemoryError) nor wait for it
    Case("connack_rl_4_bytes_huge", h_send_then(b"\x20\xff\xff\xff\x7f", hold=3),
         expect=("MQTTException", "OSError")),
    # CONNACK is always 2 bytes: one announcing 100 must be refused from its
    # fixed header, not waited for until the 20 s connect limit
    Case("connack_rl_100_then_stall", h_send_then(b"\x20\x64\x00\x00", hold=30), max_s=3),
    Case("puback_rl_100_then_stall", h_after_connack(b"\x40\x64\x00\x01", hold=30),
         action="wait_msg", keepalive=KA, max_s=3),
    Case("connack_too_long", h_send_then(pkt(0x20, b"\x00\x00\x00"), hold=3)),
    Case("connack_reserved_flags", h_send_then(b"\x21\x02\x00\x00", hold=3)),
    Case("connack_reserved_ackflags", h_send_then(b"\x20\x02\x02\x00", hold=3)),
    Case("connack_bad_code", h_send_then(mb.connack(9), hold=3)),
    Case("connack_refused_5", h_send_then(mb.connack(5), hold=3)),
    Case("connack_refused_3_reconn", h_send_then(mb.connack(3), hold=3), reconn=True),
    Case("packet_type_0", h_send_then(b"\x00\x00", hold=3)),
    Case("packet_type_15", h_send_then(b"\xf0\x00", hold=3)),
    # unexpected packets
    Case("connect_to_client", h_send_then(mb.connect(b"x", keepalive=60), hold=3)),
    Case("publish_before_connack", h_send_then(publish(), hold=3)),
    Case("suback_before_connack", h_send_then(suback_for(1), hold=3)),
    Case("pingresp_before_connack", h_send_then(mb.pingresp(), hold=3)),
    Case("second_connack", h_after_connack(CONNACK, hold=3), action="wait_msg"),
    Case("subscribe_to_client", h_after_connack(pkt(0x82, b"\x00\x01" + mstr(b"a") + b"\x00"), hold=3), action="wait_msg"),
    Case("unsubscribe_to_client", h_after_connack(pkt(0xA2, b"\x00\x01" + mstr(b"a")), hold=3), action="wait_msg"),
    Case("pingreq_to_client", h_after_connack(mb.pingreq(), hold=3), action="wait_msg"),
    Case("disconnect_to_client", h_after_connack(mb.disconnect(), hold=3), action="wait_msg"),
    # malformed packets after CONNACK
    Case("publish_reserved_qos3", h_after_connack(publish(first=0x36), hold=3), action="wait_msg"),
    Case("publish_bad_utf8_topic", h_after_connack(publish(b"a\xff\xfe"), hold=3), action="wait_msg"),
    Case("publish_nul_in_topic", h_after_connack(publish(b"a\x00b"), hold=3), action="wait_msg"),
    Case("publish_surrogate_topic", h_after_connack(publish(b"\xed\xa0\x80"), hold=3), action="wait_msg"),
    Case("publish_wildcard_plus", h_after_connack(publish(b"a/+/b"), hold=3), action="wait_msg"),
    Case("publish_wildcard_hash", h_after_connack(publish(b"a/#"), hold=3), action="wait_msg"),
    Case("publish_empty_topic", h_after_connack(publish(b""), hold=3), action="wait_msg"),
    Case("publish_topic_len_past_end", h_after_connack(pkt(0x30, b"\x00\x10ab"), hold=3), action="wait_msg"),
    Case("publish_q1_pid_0", h_after_connack(publish(qos=1, pid=0), hold=3), action="wait_msg"),
    Case("publish_q1_no_pid", h_after_connack(pkt(0x32, mstr(b"t")), hold=3), action="wait_msg"),
    Case("publish_dup_q0", h_after_connack(publish(first=0x38), hold=3), action="wait_msg"),
    Case("puback_reserved_flags", h_after_connack(pkt(0x41, b"\x00\x01"), hold=3), action="wait_msg"),
    Case("puback_too_long", h_after_connack(pkt(0x40, b"\x00\x01\x00"), hold=3), action="wait_msg"),
    Case("pubrel_wrong_flags", h_after_connack(pkt(0x60, b"\x00\x01"), hold=3), action="wait_msg"),
    Case("pingresp_with_body", h_after_connack(pkt(0xD0, b"\x00"), hold=3), action="wait_msg"),
    Case("suback_empty", h_after_connack(pkt(0x90, b"\x00\x01"), hold=3), action="wait_msg"),
    Case("garbage_after_connack", h_after_connack(bytes(range(0, 64)), hold=3), action="wait_msg"),
    Case("garbage_after_connack_check_msg", h_after_connack(b"\xff" * 32, hold=5), action="check_msg"),
    Case("rl_5_bytes_after_connack", h_after_connack(b"\x30\xff\xff\xff\xff\x01", hold=3), action="wait_msg"),
    # 268,435,455-byte PUBLISH announced: the client must refuse it, not
    # try to allocate it (MemoryError) nor wait for it
    Case("publish_rl_max_announced", h_after_connack(b"\x30\xff\xff\xff\x7f\x00\x01t", hold=8),
         action="wait_msg", max_s=7, expect=("MQTTException", "OSError")),
    Case("publish_rl_64MB_announced", h_after_connack(b"\x30\x80\x80\x80\x20\x00\x01t", hold=8),
         action="wait_msg", max_s=7, expect=("MQTTException", "OSError")),
    Case("reconn_publish_rl_max_announced",
         h_reconnect(h_after_connack(b"\x30\xff\xff\xff\x7f\x00\x01t", hold=8)),
         action="reconnect_wait", reconn=True, expect=("ok",), check=reconnect_check, max_s=15),
    Case("suback_wrong_count", h_suback_then(lambda pid: mb.suback(pid, [1, 1])),
         action="subscribe"),
    Case("suback_bad_code", h_suback_then(lambda pid: mb.suback(pid, [3])),
         action="subscribe"),
    Case("suback_wrong_id_then_silence", h_suback_then(lambda pid: suback_for((pid + 7) & 0xFFFF or 1)),
         action="subscribe", expect=("OSError",), max_s=9),
    # stalls after CONNACK: keepalive must detect the dead server
    Case("stall_after_connack_keepalive", h_after_connack(b"", hold=30), action="wait_msg",
         keepalive=KA, expect=("OSError",), max_s=10, min_s=5),
    Case("stall_mid_publish_keepalive", h_after_connack(publish(b"t/x", b"y" * 100)[:20], hold=30),
         action="wait_msg", keepalive=KA, expect=("OSError",), max_s=10, min_s=5),
    Case("stall_mid_header_keepalive", h_after_connack(b"\x30", hold=30),
         action="wait_msg", keepalive=KA, expect=("OSError",), max_s=10, min_s=5),
    Case("stall_puback", h_stall_puback, action="publish1", expect=("ok",), check=pub_false, max_s=8),
    Case("puback_wrong_id_first", h_puback_wrong_id, action="publish1", expect=("ok",), check=pub_true),
    # resets / FIN at every point
    Case("rst_on_accept", h_rst_on_accept, expect=("ValueError",)),
    Case("rst_before_connack", h_rst_before_connack, expect=("ValueError",)),
    Case("fin_before_connack", h_fin_before_connack, expect=("ValueError",)),
    Case("rst_mid_connack", h_send_then(b"\x20\x02", then="rst"), expect=("ValueError",)),
    Case("rst_after_connack", h_after_connack(b"", then="rst"), action="wait_msg", expect=("OSError",)),
    Case("fin_after_connack", h_after_connack(b"", then="fin"), action="wait_msg", expect=("OSError",)),
    Case("rst_mid_publish", h_after_connack(publish(b"t/x", b"z" * 50)[:10], then="rst"),
         action="wait_msg", expect=("OSError",)),
    Case("rst_during_puback_wait", h_rst_during_puback_wait, action="publish1", expect=("ok",), check=pub_false),
    Case("silence_during_suback_wait", h_suback_then(lambda pid: b""), action="subscribe",
         expect=("OSError",), max_s=9),
    Case("rst_during_suback_wait", h_rst_during_suback_wait, action="subscribe", expect=("OSError",)),
    # reconn=True: the same faults end in a reconnect, not an exception
    Case("reconn_rst_after_connack", h_reconnect(h_after_connack(b"", then="rst")), action="reconnect_wait",
         reconn=True, expect=("ok",), check=reconnect_check, max_s=15),
    Case("reconn_garbage_after_connack", h_reconnect(h_after_connack(b"\xff\xff\xff", hold=1)),
         action="reconnect_wait", reconn=True, expect=("ok",), check=reconnect_check, max_s=15),
    Case("reconn_stall_keepalive", h_reconnect(h_after_connack(b"", hold=30)), action="reconnect_wait",
         reconn=True, keepalive=KA, expect=("ok",), check=reconnect_check, max_s=20),
    # secrets: the password never appears in repr(), exceptions, callbacks, prints
    Case("secrets_not_leaked", h_secrets, action="secrets", expect=("ok",), check=secrets_check),
    # flood
    Case("flood", h_flood, action="flood", expect=("OSError",), check=flood_check, max_s=60),
    # leaks: 1,000 failing connects / parses, heap back to its baseline
    Case("leak_connect_garbage", h_send_then(b"\x20\x02\x07\x00", hold=0), action="leak_connect",
         expect=("leak",), max_s=90, n=1000),
    Case("leak_connect_rst", h_rst_before_connack, action="leak_connect", expect=("leak",), max_s=90, n=1000),
    Case("leak_connect_refused", h_send_then(mb.connack(5)), action="leak_connect", expect=("leak",),
         max_s=90, n=1000),
    Case("leak_parse_wildcard", h_garbage_then_good, action="leak_parse", expect=("leak",), max_s=90, n=1000),
]


class Server:
    def __init__(self, handler):
        self.handler = handler
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.stopped = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stopped:
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            n = self.count
            self.count += 1
            threading.Thread(target=self.serve, args=(s, n), daemon=True).start()

    def serve(self, s, n):
        try:
            self.handler(Conn(s), n)
        except Exception:
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass

    def stop(self):
        self.stopped = True
        self.sock.close()


def parse_result(lines):
    res = {}
    for line in lines:
        if line.startswith("RESULT|"):
            parts = line.split("|", 5)[1:]
            parts += [""] * (5 - len(parts))
            res.update(kind=parts[0], ms=parts[1], msgs=parts[2], detail=parts[3], errors=parts[4])
        if line.startswith("HEAP "):
            for p in line.split()[1:4]:
                k, v = p.split("=")
                res["heap_" + k] = int(v)
    return res


def run_case(mp, case, verbose=False):
    srv = Server(case.handler)
    env = dict(os.environ, HOSTILE_PORT=str(srv.port), HOSTILE_ACTION=case.action,
               HOSTILE_KEEPALIVE=str(case.keepalive), HOSTILE_RECONN="1" if case.reconn else "0",
               HOSTILE_N=str(case.n or 1000))
    hard = case.max_s + 25
    p = run(WRAPPER + [mp, CLIENT], env=env, timeout=hard)
    rc, lines, secs = p.rc, list(p.lines), p.secs
    srv.stop()
    res = parse_result(lines)
    res["_lines"] = lines
    problems = []
    if rc is None:
        problems.append("HANG: killed after {:.0f} s".format(hard))
    elif rc < 0:
        problems.append("CRASH: killed by signal {}".format(-rc))
    elif rc != 0:
        problems.append("exit code {}".format(rc))
    kind = res.get("kind")
    if kind is None:
        problems.append("no RESULT line")
    elif kind not in case.expect:
        problems.append("outcome {} {} (want {})".format(kind, res.get("detail"), "/".join(case.expect)))
    ms = int(res.get("ms", "0") or 0) / 1000.0
    if kind is not None and ms > case.max_s:
        problems.append("took {:.1f} s (bound {} s)".format(ms, case.max_s))
    if kind is not None and ms < case.min_s:
        problems.append("gave up after {:.1f} s, before {} s".format(ms, case.min_s))
    if case.check and kind in case.expect:
        ok, why = case.check(res)
        if not ok:
            problems.append(why)
    if "heap_delta" in res and res["heap_delta"] > LEAK_LIMIT:
        problems.append("heap grew by {} bytes over {} repetitions".format(res["heap_delta"], res.get("heap_n")))
    return case, not problems, secs, problems, lines, res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("micropython")
    ap.add_argument("-k", action="append", default=[])
    ap.add_argument("-j", type=int, default=8, help="cases run in parallel (they mostly wait)")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    mp = os.path.abspath(args.micropython)
    cases = [c for c in CASES if not args.k or any(k in c.name for k in args.k)]
    passed = failed = 0
    leaks = []
    # long (stall) cases first so they overlap the short ones
    order = sorted(cases, key=lambda c: -c.max_s)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.j) as ex:
        futs = [ex.submit(run_case, mp, c, args.v) for c in order]
        results = {}
        for f in concurrent.futures.as_completed(futs):
            case, ok, secs, problems, lines, res = f.result()
            results[case.name] = (ok, secs, problems, lines, res)
    for c in cases:
        ok, secs, problems, lines, res = results[c.name]
        detail = "{} {}".format(res.get("kind"), res.get("detail"))
        if "heap_delta" in res:
            leaks.append((c.name, res["heap_before"], res["heap_after"], res["heap_delta"]))
            detail += " heap {}->{}".format(res["heap_before"], res["heap_after"])
        print("{} {} ({:.1f} s) {}".format("PASS" if ok else "FAIL", c.name, secs, detail), flush=True)
        if ok:
            passed += 1
        else:
            failed += 1
            for p in problems:
                print("    ! " + p)
        if not ok or args.v:
            for line in lines[-15:]:
                print("    | " + line)
    for name, b, a, d in leaks:
        print("leak {}: gc.mem_alloc {} -> {} ({:+d} bytes)".format(name, b, a, d))
    print("{} passed, {} failed".format(passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
