#!/usr/bin/env python3
"""Benchmarks of the firmware's umqtt against micropython-lib's umqtt.simple.

Usage: bench/run.py [--firmware PATH] [--rounds N] [--quick] [--no-callgrind]
                    [--out-dir DIR]

Builds nothing (`make bench` builds the firmware first). Fetches the
baselines from PyPI's simple index (the index pip is configured with) into
bench/.cache/ and checks their sha256; starts mosquitto on a free loopback
port and a local raw MQTT peer (see LocalPeer) on another; then runs the
MicroPython scripts of bench/mp/ on the one firmware binary, every
implementation side by side in each round, and prints a Markdown table of
medians with their min..max over the rounds. Writes bench/RESULTS.md and
bench/results.json (not with --quick unless --out-dir is given).

Goals of issue 6 are checked as ratios from the same run and printed as
met/missed; timings never fail the run. A crash, an exception in a script or
a wrong result does (exit code 1).
"""
import argparse
import configparser
import datetime
import hashlib
import io
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MP_DIR = os.path.join(HERE, "mp")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from lib import mqtt_bytes as mb  # noqa: E402
from lib.broker import BrokerError, Mosquitto  # noqa: E402
from lib.proc import Process  # noqa: E402
CACHE = os.path.join(HERE, ".cache")
LIB = os.path.join(CACHE, "lib")

# Baselines: (project on the simple index, file, sha256, {member: name in LIB})
BASELINES = [
    ("micropython-umqtt-simple", "micropython-umqtt.simple-1.3.4.tar.gz",
     "b6a2520239e3992c63a7de9370ee9b3d9d27819a90359c521f1c0f7ccab8d12f",
     {"micropython-umqtt.simple-1.3.4/umqtt/simple.py": "umqtt_simple.py"}),
    ("micropython-hmac", "micropython-hmac-3.4.2.post3.tar.gz",
     "e0fb5bad648c8b5a5838e958ea74ad3cc50872264f98fccc0a0b124550c2af0b",
     {"micropython-hmac-3.4.2.post3/hmac.py": "hmac.py"}),
]

TOPIC_FLOOD = b"bench/flood"
PAYLOAD64 = bytes(range(64))


class BenchError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Fetching the baselines

def index_url():
    """The simple index pip uses: PIP_INDEX_URL, pip's configuration, or
    pip's own default. No host name is written here."""
    url = os.environ.get("PIP_INDEX_URL")
    if url:
        return url
    try:
        r = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                           capture_output=True, text=True, timeout=60)
        for line in r.stdout.splitlines():
            key, _, val = line.partition("=")
            if key.strip().endswith("index-url") and not key.strip().endswith("extra-index-url"):
                return val.strip().strip("'\"")
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        from pip._internal.models.index import PyPI
        return PyPI.simple_url
    except Exception as e:  # pragma: no cover
        raise BenchError("cannot find pip's index URL: {!r}".format(e))


def fetch_baselines():
    os.makedirs(LIB, exist_ok=True)
    shutil.copy(os.path.join(MP_DIR, "shim", "warnings.py"), os.path.join(LIB, "warnings.py"))
    base = None
    for project, fname, sha, members in BASELINES:
        archive = os.path.join(CACHE, fname)
        data = None
        if os.path.exists(archive):
            with open(archive, "rb") as f:
                data = f.read()
            if hashlib.sha256(data).hexdigest() != sha:
                data = None
        if data is None:
            base = base or index_url().rstrip("/") + "/"
            page_url = base + project + "/"
            page = urllib.request.urlopen(page_url, timeout=120).read().decode("utf-8", "replace")
            links = [urllib.parse.urljoin(page_url, h) for h in re.findall(r'href="([^"]+)"', page)]
            links = [l for l in links if urllib.parse.urlparse(l).path.endswith("/" + fname)]
            if not links:
                raise BenchError("{} not listed on the index page of {}".format(fname, project))
            data = urllib.request.urlopen(links[0].split("#")[0], timeout=300).read()
            got = hashlib.sha256(data).hexdigest()
            if got != sha:
                raise BenchError("{}: sha256 {} != pinned {}".format(fname, got, sha))
            with open(archive + ".tmp", "wb") as f:
                f.write(data)
            os.replace(archive + ".tmp", archive)
            log("fetched {} (sha256 ok)".format(fname))
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            for member, dest in members.items():
                with open(os.path.join(LIB, dest), "wb") as f:
                    f.write(t.extractfile(member).read())


# --------------------------------------------------------------------------
# MQTT bits for the local peer and the mosquitto flooder

def publish_packet(topic, payload, qos=0, pid=1):
    return mb.publish(topic, payload, qos=qos, pid=pid)


def read_packet(reader):
    """The next whole packet of a SocketReader; ConnectionError at EOF."""
    p = reader.read()
    if p is None:
        raise ConnectionError("closed")
    return p


def flood_buffer(topic, n=512):
    return publish_packet(topic, PAYLOAD64) * n


class LocalPeer:
    """A raw MQTT peer on loopback that plays the broker for one client at a
    time per connection. The client id chooses the part it plays:
      flood-*  CONNACK, SUBACK, then pre-encoded 64-byte QoS 0 PUBLISHes as
               fast as the socket takes them, until the client goes away;
      big-*    CONNACK, SUBACK, then on the client's PINGREQ one PUBLISH of
               `big_size` bytes;
      drain-*  CONNACK, then reads and discards everything in 64 KiB reads
               without parsing (QoS 0 publish rates: the client, not the
               peer, is the bottleneck);
      other    a sink: CONNACK, SUBACK, PUBACK for QoS 1, PINGRESP, and
               discards the rest."""

    def __init__(self, big_size=1 << 20):
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.flood = flood_buffer(TOPIC_FLOOD)
        self.big = publish_packet(b"bench/big", bytes(range(256)) * (big_size // 256))
        self.errors = []
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closing:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, s):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = mb.SocketReader(s)
        try:
            h, body = read_packet(reader)
            if h != 0x10:
                raise ValueError("expected CONNECT, got 0x%02x" % h)
            cid = mb.connect_client_id(body)
            s.sendall(mb.connack())
            mode = cid.split("-", 1)[0]
            if mode == "drain":
                while s.recv(65536):
                    pass
                return
            while True:
                h, body = read_packet(reader)
                kind = h >> 4
                if kind == 8:  # SUBSCRIBE
                    s.sendall(mb.suback(mb.packet_id(body), [0]))
                    if mode == "flood":
                        while True:
                            s.sendall(self.flood)
                elif kind == 3:  # PUBLISH
                    if (h >> 1) & 3:
                        s.sendall(mb.puback(mb.parse_publish(h, body)[1]))
                elif kind == 12:  # PINGREQ
                    if mode == "big":
                        s.sendall(self.big)
                        mode = "sink"
                    else:
                        s.sendall(mb.pingresp())
                elif kind == 14:  # DISCONNECT
                    break
        except (ConnectionError, OSError):
            pass  # the client went away: the normal end of a flood
        except Exception as e:  # a peer bug: report, do not hang the client
            self.errors.append(repr(e))
        finally:
            s.close()

    def close(self):
        self.closing = True
        self.lsock.close()


class Flooder:
    """Publishes pre-encoded 64-byte QoS 0 messages to mosquitto as fast as
    it takes them, from a CPython thread, until stopped."""

    def __init__(self, port, topic):
        self.port, self.topic = port, topic
        self.stop_ev = threading.Event()
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        buf = flood_buffer(self.topic, 256)
        try:
            with socket.create_connection(("127.0.0.1", self.port)) as s:
                s.sendall(mb.connect(b"bench-flooder"))
                if mb.SocketReader(s).read(30) != (0x20, b"\x00\x00"):
                    return
                while not self.stop_ev.is_set():
                    s.sendall(buf)
        except OSError:
            pass

    def stop(self):
        self.stop_ev.set()
        if self.thread:
            self.thread.join(10)


# --------------------------------------------------------------------------
# mosquitto

def start_mosquitto():
    """Anonymous mosquitto on a free loopback port (tests/lib/broker.py);
    errors only in its log: per-message debug lines would slow it down."""
    if not shutil.which("mosquitto"):
        raise BenchError("mosquitto not found (make setup)")
    broker = Mosquitto(log_types=("error",))
    try:
        broker.start()
    except BrokerError as e:
        broker.cleanup()
        raise BenchError(str(e))
    return broker


# --------------------------------------------------------------------------
# Running MicroPython scripts

class Runner:
    def __init__(self, firmware, timeout):
        self.fw = firmware
        self.timeout = timeout
        self.env = dict(os.environ, MICROPYPATH=".frozen:" + MP_DIR + ":" + LIB)  # .frozen: huaweicloud is frozen Python

    def run(self, script, params, on_ready=None, heap=None, wrap=None, timeout=None):
        """Runs bench/mp/<script> with params; returns its RESULT dicts."""
        argv = [self.fw]
        if heap:
            argv += ["-X", "heapsize=" + heap]
        argv += [os.path.join(MP_DIR, script), json.dumps(params)]
        if wrap:
            argv = wrap + argv
        results = []

        def on_line(line):
            if line == "READY" and on_ready:
                on_ready()
            elif line.startswith("RESULT "):
                results.append(json.loads(line[7:]))
        proc = Process(argv, env=self.env, cwd=HERE, on_line=on_line)
        rc = proc.wait(timeout or self.timeout)
        out = proc.lines
        if rc != 0 or not results:
            raise BenchError("{} {} failed (exit {}):\n  {}".format(
                script, json.dumps(params), rc, "\n  ".join(out[-30:])))
        return results


# --------------------------------------------------------------------------
# Statistics and the table

def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values), "values": values}


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float) and not v.is_integer():
        a = abs(v)
        s = "{:.0f}".format(v) if a >= 100 else "{:.1f}".format(v) if a >= 10 else "{:.2f}".format(v)
    else:
        s = "{:,}".format(int(v)).replace(",", " ")
    if isinstance(v, (int, float)) and abs(v) >= 10000 and not isinstance(v, bool):
        s = "{:,}".format(int(round(v))).replace(",", " ")
    return s + unit


def fmt_stat(st, unit=""):
    if st is None:
        return "n/a"
    if st["n"] == 1 or st["min"] == st["max"]:
        return fmt(st["median"], unit)
    return "{} ({}..{})".format(fmt(st["median"], unit), fmt(st["min"]), fmt(st["max"]))


def ratio_stat(num, den):
    """Median of the per-round ratios (rounds interleave the implementations)."""
    if not num or not den:
        return None
    rs = [a / b for a, b in zip(num["values"], den["values"]) if b]
    return stats(rs)


def fmt_ratio(st):
    if st is None:
        return "n/a"
    if st["n"] == 1 or st["min"] == st["max"]:
        return "{:.2f}x".format(st["median"])
    return "{:.2f}x ({:.2f}..{:.2f})".format(st["median"], st["min"], st["max"])


# --------------------------------------------------------------------------
# The benchmark

def callgrind_instructions(runner, script, params, n, peer_ready=None):
    """Instructions per message: (Ir(2n) - Ir(n)) / n with callgrind."""
    irs = []
    for count in (n, 2 * n):
        with tempfile.TemporaryDirectory() as td:
            out = os.path.join(td, "cg.out")
            runner.run(script, dict(params, count=count), on_ready=peer_ready,
                       wrap=["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out],
                       timeout=600)
            ir = None
            with open(out) as f:
                for line in f:
                    if line.startswith(("summary:", "totals:")):
                        ir = int(line.split()[1])
            if ir is None:
                raise BenchError("no callgrind summary for " + script)
            irs.append(ir)
    return (irs[1] - irs[0]) / n


def run_bench(args):
    fw = os.path.abspath(args.firmware)
    if not os.access(fw, os.X_OK):
        raise BenchError("{} is not an executable (make firmware)".format(fw))
    q = args.quick
    rounds = 1 if q else args.rounds
    dur = 150 if q else args.duration_ms
    heap_n = 50 if q else 2000

    fetch_baselines()
    runner = Runner(fw, timeout=60 if q else 180)
    broker = start_mosquitto()
    peer = LocalPeer()
    log("mosquitto on 127.0.0.1:{}, local peer on 127.0.0.1:{}".format(broker.port, peer.port))
    raw = {}

    def add(key, value):
        raw.setdefault(key, []).append(value)

    try:
        bp = {"host": "127.0.0.1", "port": broker.port}
        pp = {"host": "127.0.0.1", "port": peer.port}
        for r in range(rounds):
            log("round {}/{}".format(r + 1, rounds))
            # publish rates: QoS 0 into the local drain (the client is the
            # bottleneck) and through mosquitto; QoS 1 through mosquitto
            for key, qos, params in (("pub1", 1, bp), ("pub0", 0, pp), ("pub0b", 0, bp)):
                for impl in ("umqtt", "simple", "floor"):
                    d = dur if not (impl == "simple" and qos == 1) else max(dur, 400 if q else 2000)
                    res = runner.run("pub.py", dict(params, impl=impl, qos=qos, duration_ms=d,
                                                    heap_n=heap_n if impl != "floor" and key != "pub0b" else 0,
                                                    topic="bench/pub/%s" % impl,
                                                    client_id="drain-%s" % impl,
                                                    sync=params is bp and qos == 0))[0]
                    add("%s.%s.rate" % (key, impl), res["rate"])
                    if "heap_per_msg" in res:
                        add("%s.%s.heap" % (key, impl), res["heap_per_msg"])
            # receive rates: the local feeder, then through mosquitto
            for impl in ("umqtt", "simple"):
                res = runner.run("recv.py", dict(pp, impl=impl, duration_ms=dur, heap_n=heap_n,
                                                 client_id="flood-" + impl))[0]
                add("recv.feeder.%s.rate" % impl, res["rate"])
                add("recv.%s.heap" % impl, res["heap_per_msg"])
                add("recv.ref_objects", res["ref_objects"])
            for impl in ("umqtt", "simple"):
                topic = "bench/mflood/%s/%d" % (impl, r)
                fl = Flooder(broker.port, topic.encode())
                try:
                    res = runner.run("recv.py", dict(bp, impl=impl, duration_ms=dur, topic=topic,
                                                     client_id="sub-" + impl), on_ready=fl.start)[0]
                finally:
                    fl.stop()
                add("recv.broker.%s.rate" % impl, res["rate"])
            # password
            for impl in ("rust", "python"):
                res = runner.run("auth.py", dict(impl=impl, duration_ms=dur))[0]
                if res.get("missing"):
                    add("auth.rust.missing", True)
                    continue
                add("auth.%s.us" % impl, res["per_call_us"])
                add("auth.%s.value" % impl, res["value"])
            # 1 MiB payload
            for impl in ("umqtt", "simple"):
                for direction in ("pub", "recv"):
                    res = runner.run("big.py", dict(pp, impl=impl, dir=direction), heap="8M")[0]
                    add("big.%s.%s.ms" % (direction, impl), res["us"] / 1000)
                    add("big.%s.%s.peak" % (direction, impl), res["peak"])
                    add("big.%s.%s.retained" % (direction, impl), res["retained"])
                    if res["peak_is_bound"]:
                        add("big.%s.%s.peak_is_bound" % (direction, impl), True)
        # RAM of a connected client: deterministic, once
        for impl in ("umqtt", "simple"):
            res = runner.run("ram.py", dict(pp, impl=impl))[0]
            for k in ("construct", "connect", "total"):
                add("ram.%s.%s" % (impl, k), res[k])
        # instructions per message (callgrind; deterministic, once)
        if not args.no_callgrind:
            if not shutil.which("valgrind"):
                log("valgrind not found: skipping instruction counts (apt-get install valgrind)")
            else:
                n = 20 if q else args.callgrind_n
                log("callgrind, {} and {} messages per measurement".format(n, 2 * n))
                for impl in ("umqtt", "simple", "floor"):
                    add("ir.pub0.%s" % impl, callgrind_instructions(
                        runner, "pub.py", dict(pp, impl=impl, qos=0, topic="bench/pub",
                                                client_id="drain-" + impl), n))
                for impl in ("umqtt", "simple"):
                    add("ir.recv.%s" % impl, callgrind_instructions(
                        runner, "recv.py", dict(pp, impl=impl, client_id="flood-" + impl), n))
        if peer.errors:
            raise BenchError("local peer errors: " + "; ".join(peer.errors))
    finally:
        peer.close()
        broker.cleanup()
    return raw


def machine_info():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"uname": " ".join(platform.uname()), "cpu": cpu, "cpus": os.cpu_count(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def firmware_constants():
    """rx/tx buffer sizes of a fresh client, as the C glue defines them."""
    path = os.path.join(ROOT, "c_glue", "umqtt", "modumqtt.c")
    out = {}
    try:
        with open(path) as f:
            text = f.read()
        for name in ("RX_BUF_DEFAULT", "TX_BUF_DEFAULT"):
            m = re.search(r"#define\s+%s\s+\(?(\d+)\)?" % name, text)
            if m:
                out[name] = int(m.group(1))
    except OSError:
        pass
    return out


def build_report(raw, args):
    S = {k: stats(v) for k, v in raw.items() if k not in ("auth.rust.value", "auth.python.value")
         and not k.endswith((".missing", ".peak_is_bound"))}
    g = S.get
    rows, goals = [], []

    def row(figure, ours, base, floor, ratio, note=""):
        rows.append((figure, ours, base, floor, ratio, note))

    def goal(text, value, target, met, detail):
        goals.append({"goal": text, "value": value, "target": target, "met": met, "detail": detail})

    def ratio_goal(text, rs, target):
        if rs is None:
            goal(text, None, target, None, "not measured")
            return
        m = rs["median"]
        goal(text, m, target, m >= target, "{:.2f}x (rounds {:.2f}..{:.2f}) vs >= {}x: {}".format(
            m, rs["min"], rs["max"], target,
            "met" if m >= target else "missed by {:.0f}%".format(100 * (1 - m / target))))

    # publish
    r0s = ratio_stat(g("pub0.umqtt.rate"), g("pub0.simple.rate"))
    r0f = ratio_stat(g("pub0.umqtt.rate"), g("pub0.floor.rate"))
    row("QoS 0 publish rate, 64 B, into a local drain (msg/s)", fmt_stat(g("pub0.umqtt.rate")),
        fmt_stat(g("pub0.simple.rate")), fmt_stat(g("pub0.floor.rate")),
        "{} simple; {} floor".format(fmt_ratio(r0s), fmt_ratio(r0f)),
        "the peer reads 64 KiB at a time without parsing")
    row("QoS 0 publish rate, 64 B, through mosquitto (msg/s)", fmt_stat(g("pub0b.umqtt.rate")),
        fmt_stat(g("pub0b.simple.rate")), fmt_stat(g("pub0b.floor.rate")),
        "{} simple; {} floor".format(fmt_ratio(ratio_stat(g("pub0b.umqtt.rate"), g("pub0b.simple.rate"))),
                                     fmt_ratio(ratio_stat(g("pub0b.umqtt.rate"), g("pub0b.floor.rate")))),
        "mosquitto's ingest shares the 2 cores and caps all three")
    r1s = ratio_stat(g("pub1.umqtt.rate"), g("pub1.simple.rate"))
    r1f = ratio_stat(g("pub1.umqtt.rate"), g("pub1.floor.rate"))
    row("QoS 1 publish rate, 64 B, waits for PUBACK (msg/s)", fmt_stat(g("pub1.umqtt.rate")),
        fmt_stat(g("pub1.simple.rate")), fmt_stat(g("pub1.floor.rate")),
        "{} simple; {} floor".format(fmt_ratio(r1s), fmt_ratio(r1f)))
    rrf = ratio_stat(g("recv.feeder.umqtt.rate"), g("recv.feeder.simple.rate"))
    row("receive rate, 64 B QoS 0, local raw feeder (msg/s)", fmt_stat(g("recv.feeder.umqtt.rate")),
        fmt_stat(g("recv.feeder.simple.rate")), "", fmt_ratio(rrf))
    rrb = ratio_stat(g("recv.broker.umqtt.rate"), g("recv.broker.simple.rate"))
    row("receive rate, 64 B QoS 0, through mosquitto (msg/s)", fmt_stat(g("recv.broker.umqtt.rate")),
        fmt_stat(g("recv.broker.simple.rate")), "", fmt_ratio(rrb),
        "mosquitto and the flooder share the 2 cores")
    row("heap per QoS 0 publish, bytes topic+payload (B)", fmt_stat(g("pub0.umqtt.heap")),
        fmt_stat(g("pub0.simple.heap")), "", "")
    row("heap per QoS 1 publish (B)", fmt_stat(g("pub1.umqtt.heap")),
        fmt_stat(g("pub1.simple.heap")), "", "")
    row("heap per received message (B)", fmt_stat(g("recv.umqtt.heap")),
        fmt_stat(g("recv.simple.heap")), "",
        "", "topic + payload objects alone: {} B".format(fmt_stat(g("recv.ref_objects"))))
    consts = firmware_constants()
    row("RAM of one connected client (B): construct + connect = total",
        "{} + {} = {}".format(fmt_stat(g("ram.umqtt.construct")), fmt_stat(g("ram.umqtt.connect")),
                              fmt_stat(g("ram.umqtt.total"))),
        "{} + {} = {}".format(fmt_stat(g("ram.simple.construct")), fmt_stat(g("ram.simple.connect")),
                              fmt_stat(g("ram.simple.total"))), "",
        "", "umqtt's buffers: rx {} B + tx {} B (in construct); simple has none "
            "(allocates per call)".format(consts.get("RX_BUF_DEFAULT", "?"), consts.get("TX_BUF_DEFAULT", "?")))
    if raw.get("auth.rust.missing"):
        ours_auth, rauth = "n/a (module missing)", None
    else:
        ours_auth = fmt_stat(g("auth.rust.us"))
        rauth = ratio_stat(g("auth.python.us"), g("auth.rust.us"))
    row("Huawei credentials (client id, user, password) per call (us)", ours_auth,
        "", fmt_stat(g("auth.python.us")), fmt_ratio(rauth) + " faster" if rauth else "n/a",
        "pure Python: micropython-hmac 3.4.2.post3 over the firmware's hashlib.sha256")
    irp = ratio_stat(g("ir.pub0.simple"), g("ir.pub0.umqtt"))
    row("instructions per QoS 0 publish (callgrind)", fmt_stat(g("ir.pub0.umqtt")),
        fmt_stat(g("ir.pub0.simple")), fmt_stat(g("ir.pub0.floor")),
        "simple/umqtt " + fmt_ratio(irp) + "; floor/umqtt " + fmt_ratio(ratio_stat(g("ir.pub0.floor"), g("ir.pub0.umqtt"))),
        "into the local drain; (Ir(2N) - Ir(N)) / N, user space only")
    irr = ratio_stat(g("ir.recv.simple"), g("ir.recv.umqtt"))
    row("instructions per received message (callgrind)", fmt_stat(g("ir.recv.umqtt")),
        fmt_stat(g("ir.recv.simple")), "", "simple/umqtt " + fmt_ratio(irr), "from the local feeder")
    for d, what in (("pub", "publish 1 MiB, QoS 1 to the local sink"),
                    ("recv", "receive 1 MiB from the local feeder")):
        row(what + ": time (ms)", fmt_stat(g("big.%s.umqtt.ms" % d)), fmt_stat(g("big.%s.simple.ms" % d)),
            "", "")
        notes = []
        for impl in ("umqtt", "simple"):
            if raw.get("big.%s.%s.peak_is_bound" % (d, impl)):
                notes.append("%s: upper bound (below an earlier peak)" % impl)
        row(what + ": peak extra heap (B) / retained after (B)",
            "{} / {}".format(fmt_stat(g("big.%s.umqtt.peak" % d)), fmt_stat(g("big.%s.umqtt.retained" % d))),
            "{} / {}".format(fmt_stat(g("big.%s.simple.peak" % d)), fmt_stat(g("big.%s.simple.retained" % d))),
            "", "", "; ".join(notes))

    # goals
    ratio_goal("QoS 0 publish >= 10x umqtt.simple", r0s, 10)
    ratio_goal("QoS 0 publish >= 70% of the one-write floor", r0f, 0.7)
    ratio_goal("QoS 1 publish >= 80% of the write+read floor", r1f, 0.8)
    ratio_goal("receive >= 5x umqtt.simple (local feeder)", rrf, 5)
    h0 = g("pub0.umqtt.heap")
    goal("0 heap bytes per QoS 0 publish (bytes topic and payload)", h0 and h0["max"], 0,
         h0 is not None and h0["max"] <= 0,
         "n/a" if h0 is None else "{} B per publish (max over rounds {})".format(
             fmt(h0["median"]), fmt(h0["max"])))
    hr, ref = g("recv.umqtt.heap"), g("recv.ref_objects")
    if hr and ref:
        goal("heap per received message <= its topic and payload objects", hr["median"], ref["median"],
             hr["median"] <= ref["median"] + 0.5,
             "{} B per message vs {} B for the two objects".format(fmt(hr["median"]), fmt(ref["median"])))
    if rauth:
        ratio_goal("password computation >= 50x faster than pure Python", rauth, 50)
    else:
        goal("password computation >= 50x faster than pure Python", None, 50, None,
             "n/a (module missing): `import huaweicloud` failed")
    pk = g("big.recv.umqtt.peak")
    if pk:
        size = 1 << 20
        ok = pk["max"] <= size * 1.1
        goal("1 MiB received with peak extra heap <= ~its size (no second copy)", pk["max"], size, ok,
             "peak extra {} B = {:.3f}x the payload{}".format(
                 fmt(pk["max"]), pk["max"] / size,
                 " (upper bound)" if raw.get("big.recv.umqtt.peak_is_bound") else ""))
    return rows, goals


def render(rows, goals, info, args, raw):
    lines = ["# umqtt benchmarks", "",
             "Machine: `{}`; CPU: {} ({} logical CPUs); date: {}.".format(
                 info["uname"], info["cpu"], info["cpus"], info["date"]),
             "Firmware: `{}` (MicroPython unix port). Baselines: micropython-lib `umqtt.simple` 1.3.4 "
             "and `micropython-hmac` 3.4.2.post3 from PyPI, run on the same binary.".format(
                 os.path.relpath(os.path.abspath(args.firmware), ROOT)),
             "Each figure: median of {} round(s), (min..max) over the rounds; ratios are the median of "
             "per-round ratios (each round runs every implementation back to back). Floor: a MicroPython "
             "loop writing one pre-encoded PUBLISH per `socket.write` (QoS 1: plus one `readinto` of the "
             "PUBACK), TCP_NODELAY as umqtt.".format(1 if args.quick else args.rounds),
             "Heap: `gc.mem_alloc()` deltas with the GC disabled. Peak heap: `micropython.mem_peak()` "
             "minus `micropython.mem_current()` before the operation, GC disabled (nothing swept, so "
             "the high-water mark of allocated-minus-freed bytes during the operation).",
             "",
             "| figure | umqtt (Rust) | umqtt.simple | floor / pure Python | ratio | notes |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    lines += ["", "## Goals (issue 6)", ""]
    for gl in goals:
        status = "n/a" if gl["met"] is None else ("met" if gl["met"] else "MISSED")
        lines.append("- **{}**: {} — {}".format(status, gl["goal"], gl["detail"]))
    va, vb = raw.get("auth.rust.value"), raw.get("auth.python.value")
    if va and vb:
        lines += ["", "Credentials cross-check (Rust vs pure Python): {}".format(
            "identical" if va[0] == vb[0] else "DIFFERENT: {} vs {}".format(va[0], vb[0]))]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--firmware", default=os.path.join(ROOT, "build", "unix", "micropython"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration-ms", type=int, default=700, help="timed window per figure and round")
    ap.add_argument("--callgrind-n", type=int, default=1000)
    ap.add_argument("--quick", action="store_true",
                    help="1 round, tiny counts: checks every path works (no thresholds)")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--out-dir", help="where to write RESULTS.md and results.json "
                    "(default: bench/, not written with --quick)")
    args = ap.parse_args()
    t0 = time.monotonic()
    try:
        raw = run_bench(args)
    except BenchError as e:
        print("bench: error: {}".format(e), file=sys.stderr)
        return 1
    info = machine_info()
    rows, goals = build_report(raw, args)
    md = render(rows, goals, info, args, raw)
    print(md)
    va, vb = raw.get("auth.rust.value"), raw.get("auth.python.value")
    if va and vb and va[0] != vb[0]:
        log("bench: warning: huaweicloud.conninfo and the pure-Python way disagree")
    out_dir = args.out_dir or (None if args.quick else HERE)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "RESULTS.md"), "w") as f:
            f.write(md)
        with open(os.path.join(out_dir, "results.json"), "w") as f:
            json.dump({"machine": info, "quick": args.quick,
                       "rounds": 1 if args.quick else args.rounds,
                       "figures": {k: stats(v) if not k.endswith((".value", ".missing", ".peak_is_bound"))
                                   else v for k, v in sorted(raw.items())},
                       "goals": goals}, f, indent=1, sort_keys=True)
            f.write("\n")
    log("bench: done in {:.0f} s".format(time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
