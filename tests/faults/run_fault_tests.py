#!/usr/bin/env python3
"""Network faults with a real broker: mosquitto stopped and restarted, and a
TCP proxy (in this process) that drops or blackholes the client's connection,
while the firmware's umqtt client publishes QoS 1 and receives QoS 1 and QoS 2.

Usage: tests/faults/run_fault_tests.py <micropython> [-k NAME] [-v]

Every message is counted at both ends:
  client -> broker: a raw subscriber (mosquitto_sub, persistent session,
    QoS 1) must see every payload at least once; and in the broker log
    (log_type all) a PUBLISH the client sends again with a packet id the
    broker has not acknowledged yet must carry DUP (d1).
  broker -> client: every QoS 1 payload at least once, every QoS 2 payload
    exactly once.
Clock jumps are not injected: the unix port's ticks_ms is CLOCK_MONOTONIC
(see tests/RELIABILITY.md).
"""
import argparse
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from lib.broker import Mosquitto  # noqa: E402
from lib.proc import Process  # noqa: E402

CLIENT = os.path.join(HERE, "faults_client.py")


class Proxy:
    """TCP proxy: forward | drop (close every connection now) | blackhole
    (stop forwarding in both directions, keep sockets open; new connections
    are accepted but not forwarded until resumed)."""

    def __init__(self, upstream_port):
        self.up = upstream_port
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        self.pairs = []
        self.lock = threading.Lock()
        self.stopped = False
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        self.flowing.wait()
        try:
            u = socket.create_connection(("127.0.0.1", self.up), 5)
        except OSError:
            c.close()
            return
        with self.lock:
            self.pairs.append((c, u))
        socks = [c, u]
        try:
            while not self.stopped:
                if not self.flowing.is_set():
                    time.sleep(0.05)
                    continue
                r, _, _ = select.select(socks, [], [], 0.1)
                for s in r:
                    if not self.flowing.is_set():
                        break
                    d = s.recv(65536)
                    if not d:
                        raise OSError("eof")
                    (u if s is c else c).sendall(d)
        except OSError:
            pass
        finally:
            for s in socks:
                try:
                    s.close()
                except OSError:
                    pass
            with self.lock:
                if (c, u) in self.pairs:
                    self.pairs.remove((c, u))

    def drop(self):
        with self.lock:
            for c, u in self.pairs:
                for s in (c, u):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def blackhole(self):
        self.flowing.clear()

    def resume(self):
        self.flowing.set()

    def stop(self):
        self.stopped = True
        self.flowing.set()
        self.ls.close()
        self.drop()


def mosquitto_pub(port, topic, payload, qos, deadline):
    while time.monotonic() < deadline:
        r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", str(qos),
                            "-t", topic, "-m", payload], capture_output=True, timeout=20)
        if r.returncode == 0:
            return True
        time.sleep(0.3)
    return False


def analyse_broker_log(path, cid):
    """PUBLISHes from cid resent without DUP while unacknowledged; counts."""
    rx = re.compile(r"Received PUBLISH from " + re.escape(cid) + r" \(d(\d), q(\d), r\d, m(\d+),")
    ack = re.compile(r"Sending PUBACK to " + re.escape(cid) + r" \(m(\d+)")
    restart = re.compile(r"mosquitto version .* starting")
    open_ids = set()
    bad, dups, total = [], 0, 0
    with open(path, errors="replace") as f:
        for line in f:
            if restart.search(line):
                open_ids.clear()  # the restarted broker forgot nothing it had acked
                continue
            m = rx.search(line)
            if m:
                d, q, mid = int(m.group(1)), int(m.group(2)), int(m.group(3))
                total += 1
                if d:
                    dups += 1
                elif q > 0 and mid in open_ids:
                    bad.append(line.strip())
                if q > 0:
                    open_ids.add(mid)
                continue
            m = ack.search(line)
            if m:
                open_ids.discard(int(m.group(1)))
    return total, dups, bad


def scenario(mp, name, via_proxy, faults, n_out=150, n_in1=60, n_in2=30, verbose=False):
    work = tempfile.mkdtemp(prefix="umqtt-faults-")
    os.chmod(work, 0o755)
    broker = Mosquitto(work, "b", persistence=True)
    proxy = sub = client = None
    report = {"name": name, "faults": 0}
    problems = []
    try:
        broker.start()
        port = broker.port
        if via_proxy:
            proxy = Proxy(port)
        tag = name
        cid = "fault-" + name
        # raw subscriber for what the client publishes (persistent, QoS 1)
        sub_out = open(os.path.join(work, "sub.txt"), "w")
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-c",
                                "-i", "raw-" + name, "-t", "f/out/" + tag, "-v"],
                               stdout=sub_out, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(0.5)
        env = dict(os.environ, FAULT_PORT=str(proxy.port if proxy else port), FAULT_N=str(n_out),
                   FAULT_GAP_MS="60", FAULT_EXPECT_IN=str(n_in1 + n_in2), FAULT_TAG=tag, FAULT_CID=cid,
                   FAULT_DEADLINE_MS="100000")
        ready = threading.Event()

        def on_line(line):
            if verbose:
                print("    | " + line, flush=True)
            if line == "READY":
                ready.set()
        client = Process([mp, CLIENT], env=env, on_line=on_line)
        lines = client.lines
        if not ready.wait(30):
            raise RuntimeError("client not ready: " + "\n".join(lines[-10:]))
        deadline = time.monotonic() + 100

        # inbound traffic, paced over the run
        def publisher():
            for i in range(max(n_in1, n_in2)):
                if i < n_in1:
                    mosquitto_pub(port, "f/in/" + tag, "q1-%d" % i, 1, deadline)
                if i < n_in2:
                    mosquitto_pub(port, "f/in2/" + tag, "q2-%d" % i, 2, deadline)
                time.sleep(0.1)
        pt = threading.Thread(target=publisher, daemon=True)
        pt.start()

        t0 = time.monotonic()
        for at, action, arg in faults:
            time.sleep(max(0, t0 + at - time.monotonic()))
            report["faults"] += 1
            if action == "restart":
                broker.restart(down=arg)  # same port
            elif action == "drop":
                proxy.drop()
            elif action == "blackhole":
                proxy.blackhole()
                time.sleep(arg)
                proxy.resume()
            if verbose:
                print("  fault at {:.1f} s: {} {}".format(time.monotonic() - t0, action, arg), flush=True)
        pt.join(120)
        rc = client.wait(150)
        if client.timed_out:
            rc = -signal.SIGKILL
            problems.append("client hung (killed)")
        time.sleep(1.5)  # raw subscriber catches up
        os.killpg(sub.pid, signal.SIGTERM)
        sub.wait(5)
        sub_out.close()
        if rc != 0:
            problems.append("client exit code {}".format(rc))
        # client -> broker
        seen = {}
        with open(os.path.join(work, "sub.txt")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    seen[parts[1]] = seen.get(parts[1], 0) + 1
        want = ["%s-%d" % (tag, i) for i in range(n_out)]
        # refused: the client was told at once (False + error callback) that
        # the offline queue was full; anything else missing is lost
        refused = set(l.split(" ", 1)[1] for l in lines if l.startswith("REFUSED "))
        lost_out = [p for p in want if p not in seen and p not in refused]
        if refused & set(seen):
            problems.append("messages reported as refused reached the broker: {}".format(sorted(refused & set(seen))[:5]))
        dup_out = sum(v - 1 for v in seen.values())
        total, dups_flagged, bad = analyse_broker_log(broker.log_path, cid)
        # broker -> client
        got = [l.split(" ", 2)[2] for l in lines if l.startswith("GOT ")]
        q1 = [g for g in got if g.startswith("q1-")]
        q2 = [g for g in got if g.startswith("q2-")]
        lost_in1 = [i for i in range(n_in1) if "q1-%d" % i not in q1]
        lost_in2 = [i for i in range(n_in2) if "q2-%d" % i not in q2]
        dup_in2 = len(q2) - len(set(q2))
        summary = next((l for l in lines if l.startswith("SUMMARY")), "")
        report.update(sent=n_out, received_by_broker=len([p for p in want if p in seen]), lost_out=len(lost_out),
                      refused=len(refused),
                      dup_out=dup_out, publish_packets=total, dup_flagged=dups_flagged,
                      dup_unflagged=len(bad), in_q1_sent=n_in1, in_q1_got=len(q1), lost_in1=len(lost_in1),
                      in_q2_sent=n_in2, in_q2_got=len(q2), lost_in2=len(lost_in2), dup_in2=dup_in2,
                      summary=summary, proxy_connections=proxy.connections if proxy else None)
        if lost_out:
            problems.append("{} client->broker QoS 1 messages lost: {}".format(len(lost_out), lost_out[:10]))
        if bad:
            problems.append("{} resent PUBLISHes without DUP: {}".format(len(bad), bad[:3]))
        if lost_in1:
            problems.append("{} broker->client QoS 1 lost: {}".format(len(lost_in1), lost_in1[:10]))
        if lost_in2:
            problems.append("{} broker->client QoS 2 lost: {}".format(len(lost_in2), lost_in2[:10]))
        if dup_in2:
            problems.append("{} QoS 2 messages delivered twice".format(dup_in2))
        if problems and not verbose:
            report["tail"] = lines[-20:]
    except Exception as e:
        problems.append("harness error: {!r}".format(e))
    finally:
        if proxy:
            proxy.stop()
        if client and client.poll() is None:
            client.kill()
        if sub and sub.poll() is None:
            try:
                os.killpg(sub.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)
    return report, problems


SCENARIOS = [
    ("broker_restart", False, [(3, "restart", 2.0), (9, "restart", 4.0)]),
    ("proxy_drop_blackhole", True, [(3, "drop", None), (7, "blackhole", 8.0), (20, "drop", None)]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("micropython")
    ap.add_argument("-k", action="append", default=[])
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    mp = os.path.abspath(args.micropython)
    passed = failed = 0
    import concurrent.futures
    chosen = [s for s in SCENARIOS if not args.k or any(k in s[0] for k in args.k)]
    with concurrent.futures.ThreadPoolExecutor(len(chosen) or 1) as ex:
        futs = {s[0]: ex.submit(scenario, mp, s[0], s[1], s[2], verbose=args.v) for s in chosen}
    for name, fut in futs.items():
        report, problems = fut.result()
        ok = not problems
        passed += ok
        failed += not ok
        print("{} {}: faults={faults} sent={sent} at_broker={received_by_broker} refused(told)={refused} lost={lost_out} "
              "dup={dup_out} (DUP-flagged resends {dup_flagged}, unflagged {dup_unflagged}); "
              "in QoS1 {in_q1_got}/{in_q1_sent} lost {lost_in1}; in QoS2 {in_q2_got}/{in_q2_sent} "
              "lost {lost_in2} dup {dup_in2}".format("PASS" if ok else "FAIL", name,
                                                     **{k: report.get(k, "?") for k in (
                                                         "faults", "sent", "received_by_broker", "refused", "lost_out",
                                                         "dup_out", "dup_flagged", "dup_unflagged",
                                                         "in_q1_got", "in_q1_sent", "lost_in1", "in_q2_got",
                                                         "in_q2_sent", "lost_in2", "dup_in2")}), flush=True)
        print("    " + report.get("summary", ""))
        for p in problems:
            print("    ! " + p)
        for l in report.get("tail", []):
            print("    | " + l)
    print("{} passed, {} failed".format(passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
