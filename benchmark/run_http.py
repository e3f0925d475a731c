#!/usr/bin/env python3
"""HTTP benchmark: HTTP servers under wrk, interleaved, as same-run ratios.

Usage: benchmark/run_http.py [--build DIR] [--reps N] [--seconds S] [--warmup S]
                             [--connections 16,64,256] [--servers a,b,...] [--url-path /]
                             [--server-cmd 'NAME=COMMAND ARGS' ...] [--syscalls] [--fifo]
                             [--quiet-wait S] [--idle N] [--files [--http-server PATH]]

For each connection count and repetition, every server runs once, in order (A B C D A B C D
...): the server pinned on CPU 0, `wrk -t1 -cN -dS --latency` on CPU 1. After a warmup wrk run
(new connections), the server's utime+stime (/proc/PID/stat) is read just before and just after
the measured wrk run and divided by the requests wrk completed. wrk's socket errors and non-2xx
responses are printed and must be 0. --syscalls adds perf stat's syscall counts over the
measured run (perf's tracing costs the server CPU too: compare CPU/req from runs without it).
Each run first waits (up to --quiet-wait s) for the machine to be idle; a run during which other
processes used more than --max-others % of a CPU is repeated (up to --retries times), and the
table's others% shows the worst such noise left in a kept run.

Servers: the builds of benchmark/http_hello.cpp and http_raw_liburing (`NAME PORT`, `port=N`
first; http_common.hpp), plus any --server-cmd: a command that listens on 127.0.0.1 and prints
`port=N` or a URL `http://HOST:N/` on stdout (pass port 0 in its arguments). --idle N instead
measures the server's RSS growth per idle keep-alive connection (N connections, each after one
request). --files instead serves a 4 KiB and a 1 MiB file from a temporary root with static-file
servers (`--port 0 --root DIR`): example/http_server (asio_uring, the flagship) and its same-run
baselines, http_files.cpp's Beast file server (http::file_body) on Asio's epoll and on Asio's
io_uring backend; the ratios' reference is http_files_asio_epoll. In a --server-cmd, {root}
stands for that root.

Ratios are medians of per-repetition ratios with min-max, oriented so that > 1 means the row's
server is better.
"""
import argparse
import os
import re
import resource
import select
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_echo import (CLK_TCK, TWO_CPUS, Perf, cpu_seconds, fmt_ratio,  # noqa: E402
                      prefix, raise_nofile, ratios, rss_bytes)

SERVERS = ["http_hello_asio_epoll", "http_hello_asio_io_uring", "http_raw_liburing",
           "http_hello_asio_uring"]
BASELINES = {"http_hello_asio_epoll": "Beast epoll", "http_hello_asio_io_uring": "Asio io_uring",
             "http_raw_liburing": "raw liburing"}
OURS = "http_hello_asio_uring"
# --files: Beast's file server (http_files.cpp) built two ways, and example/http_server (ours).
FILE_SERVERS = ["http_files_asio_epoll", "http_files_asio_io_uring"]
BASELINES.update({"http_files_asio_epoll": "Beast epoll",
                  "http_files_asio_io_uring": "Asio io_uring"})
FILES_OURS = "http_server"
# The reference the goals compare ours with: (ours, Beast on epoll), per mode.
GOALS = {False: (OURS, "http_hello_asio_epoll"), True: (FILES_OURS, "http_files_asio_epoll")}
# key -> (column title, higher is better?, format)
METRICS = {
    "req_s": ("req/s", True, "{:,.0f}"),
    "cpu_us": ("cpu us/req", False, "{:.2f}"),
    "p50_us": ("p50 us", False, "{:.0f}"),
    "p99_us": ("p99 us", False, "{:.0f}"),
    "mib_s": ("MiB/s", True, "{:,.0f}"),
    "sys": ("syscalls/req", False, "{:.2f}"),
    "enter": ("enter/req", False, "{:.3f}"),
    "rss": ("bytes/conn", False, "{:,.0f}"),
}
PORT_RE = re.compile(r"^port=(\d+)$|https?://[^/\s:]+:(\d+)")
UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6}


class Server:
    """A server process on CPU 0; port from its stdout, which is drained afterwards."""

    def __init__(self, name, argv, fifo):
        self.name = name
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(prefix(0, fifo) + argv, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        self.pid = self.proc.pid  # taskset and chrt exec the server: same pid
        self.port, deadline, seen = None, time.monotonic() + 10, []
        while self.port is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], deadline - time.monotonic())
            line = self.proc.stdout.readline() if ready else ""
            if not line:
                break
            seen.append(line.strip())
            m = PORT_RE.search(line.strip())
            if m:
                self.port = int(m.group(1) or m.group(2))
        if self.port is None:
            self.stop()
            raise RuntimeError(f"{name}: no port=N or URL on stdout, got {seen[-3:]!r}"
                               + self.errors())
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()  # never blocks it

    def stop(self):
        """SIGTERM; returns a problem description, or '' if the server exited 0 in time."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "did not exit within 10 s of SIGTERM" + self.errors()
        return "" if rc == 0 else f"exit status {rc} after SIGTERM" + self.errors()

    def errors(self):
        self.log.seek(0)
        text = self.log.read().strip()
        return f"; stderr: {text[-500:]}" if text else ""


def busy_seconds():
    """CPU time all CPUs spent busy (incl. steal), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK  # all but idle and iowait


def wait_quiet(limit):
    """Waits (at most `limit` s) until the CPUs together were busy less than 10 % of one CPU
    for a second: another program's compile should not fall into a measured window. Returns
    the seconds waited."""
    start = time.monotonic()
    while True:
        busy = busy_seconds()
        time.sleep(1)
        if busy_seconds() - busy < 0.1 or time.monotonic() - start >= limit:
            return time.monotonic() - start - 1


def children_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def parse_wrk(out):
    """wrk --latency output -> {requests, req_s, p50_us, p99_us, errors, non2xx}."""
    r = {"errors": 0, "non2xx": 0}
    m = re.search(r"(\d+) requests in", out)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["req_s"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            r[f"p{pct}_us"] = float(m.group(1)) * UNITS[m.group(2)]
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    return r


def wrk(args, port, path, conns, seconds):
    cmd = prefix(1, args.fifo) + ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency",
                                  f"http://127.0.0.1:{port}{path}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if p.returncode != 0:
        raise RuntimeError(f"wrk exit {p.returncode}: {p.stderr.strip()[:200]}")
    return parse_wrk(p.stdout)


def run_load(args, name, argv, path, conns, size=None):
    """One run: returns {metric: value}, or None (with a note on stderr) if it failed."""
    if args.quiet_wait and (waited := wait_quiet(args.quiet_wait)) > 1:
        print(f"  (waited {waited:.0f} s for the machine to be quiet)", file=sys.stderr)
    server = Server(name, argv, args.fifo)
    result, note, perf = None, "", None
    try:
        if args.warmup:
            wrk(args, server.port, path, conns, args.warmup)
        perf = Perf(server.pid) if args.syscalls else None
        if perf:
            time.sleep(0.3)  # let perf attach
            perf.command("enable")
        t, busy, load = time.monotonic(), busy_seconds(), children_seconds()
        perf_cpu = cpu_seconds(perf.proc.pid) if perf else 0.0
        before = cpu_seconds(server.pid)
        w = wrk(args, server.port, path, conns, args.seconds)
        cpu = cpu_seconds(server.pid) - before
        if perf:
            perf_cpu = cpu_seconds(perf.proc.pid) - perf_cpu
        # Noise: CPU time neither the server, wrk nor perf used, in % of one CPU over the window.
        others = busy_seconds() - busy - cpu - (children_seconds() - load) - perf_cpu
        others = max(0.0, others) * 100 / (time.monotonic() - t)
        if perf:
            perf.command("disable")
        if w["requests"] == 0:
            note = "wrk completed no request"
        else:
            result = {k: w[k] for k in ("req_s", "p50_us", "p99_us", "errors", "non2xx") if k in w}
            result["cpu_us"] = cpu * 1e6 / w["requests"]
            result["others"] = others
            if size:
                result["mib_s"] = w["req_s"] * size / 2**20
            if w["errors"] or w["non2xx"]:
                note = f"{w['errors']} socket errors, {w['non2xx']} non-2xx responses"
            if others > args.max_others:
                note = (note + "; " if note else "") + f"other processes used {others:.0f} % CPU"
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        note = str(e)
    finally:
        if perf:
            counts = perf.finish()
            if result is not None:
                for k, v in counts.items():
                    result[k] = v / w["requests"]
        stop_note = server.stop()
    if stop_note:
        note = (note + "; " if note else "") + "server " + stop_note
    if note:
        print(f"  ! {name} {path} x {conns}: {note}", file=sys.stderr)
    return result


def read_response(s):
    """Reads one HTTP response with a Content-Length; returns its status line."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed before a response")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    need = int(m.group(1)) if m else 0
    while len(body) < need:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed inside a response")
        body += chunk
    return head.split(b"\r\n", 1)[0]


def idle_rss(args, name, argv, n):
    """RSS growth per connection with n keep-alive connections open, each after one request."""
    server = Server(name, argv, args.fifo)
    socks = []
    request = f"GET {args.url_path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    try:
        time.sleep(0.2)
        before = rss_bytes(server.pid)
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            socks.append(s)
            s.sendall(request)
        for s in socks:  # every connection answered once: now idle, a read pending
            status = read_response(s)
            if b" 200 " not in status:
                raise RuntimeError(f"unexpected {status!r}")
        time.sleep(0.3)
        return (rss_bytes(server.pid) - before) / n
    finally:
        for s in socks:
            s.close()
        note = server.stop()
        if note:
            print(f"  ! {name} idle: server {note}", file=sys.stderr)


def print_table(names, reps, metrics):
    """reps: {server: [per-repetition {metric: value} or None]}"""
    counters = any(r and "errors" in r for rs in reps.values() for r in rs)
    extra = f"{'errors':>8}{'non-2xx':>9}{'others%':>9}" if counters else ""
    print(f"{'server':<26}" + "".join(f"{METRICS[m][0]:>14}" for m in metrics) + extra)
    for s in names:
        cells = []
        for m in metrics:
            vs = [r[m] for r in reps[s] if r and m in r]
            cells.append(METRICS[m][2].format(statistics.median(vs)) if vs else "-")
        line = f"{s:<26}" + "".join(f"{c:>14}" for c in cells)
        if counters:  # summed over the repetitions; a failed run shows as "fail"
            fails = sum(1 for r in reps[s] if r is None)
            errs = sum(r.get("errors", 0) for r in reps[s] if r)
            non2xx = sum(r.get("non2xx", 0) for r in reps[s] if r)
            others = [r["others"] for r in reps[s] if r and "others" in r]
            busy = f"{max(others):.0f}" if others else "-"  # the worst repetition
            line += f"{errs:>8}{non2xx:>9}{busy:>9}" + (f"  ({fails} failed)" if fails else "")
        print(line)
    bases = [b for b in BASELINES if b in names]
    if not bases:
        return
    print(f"{'ratios (> 1: row better)':<40}" + "".join(f"{'vs ' + BASELINES[b]:>22}"
                                                       for b in bases))
    for s in names:
        for i, m in enumerate(metrics):
            vals = {x: [r.get(m) if r else None for r in reps[x]] for x in names}
            cells = ["-" if b == s else fmt_ratio(ratios(vals, s, b, METRICS[m][1])) for b in bases]
            print(f"{s if i == 0 else '':<26}{METRICS[m][0]:<14}" + "".join(f"{c:>22}"
                                                                            for c in cells))


def goals(summary, ours, epoll):
    """The asio_uring vs Beast-on-epoll goals, as plain ratios (ours / epoll).
    summary: [(label, {server: per-repetition results})]"""
    lines = []
    for label, reps in summary:
        if ours not in reps or epoll not in reps:
            continue
        def per_rep(m):
            vals = {x: [r.get(m) if r else None for r in reps[x]] for x in reps}
            return ratios(vals, ours, epoll, True)  # ours / epoll

        cpu, rps = per_rep("cpu_us"), per_rep("req_s")
        if cpu and rps:
            c, q = statistics.median(cpu), statistics.median(rps)
            lines.append(f"  {label}: CPU/req {c:.2f}x (goal <= 0.85: "
                         f"{'met' if c <= 0.85 else 'not met'}), req/s {q:.2f}x (goal >= 1.10: "
                         f"{'met' if q >= 1.10 else 'not met'})")
    if lines:
        print(f"\ngoals, asio_uring ({ours}) / Beast on epoll ({epoll}), medians of "
              "per-repetition ratios:")
        print("\n".join(lines))


def make_root():
    """A temporary document root with a 4 KiB and a 1 MiB file: [(url path, size)]."""
    root = tempfile.mkdtemp(prefix="run_http_root_")
    files = [("4k.bin", 4096), ("1m.bin", 1 << 20)]
    for fname, size in files:
        with open(os.path.join(root, fname), "wb") as f:
            f.write(os.urandom(size))
    return root, [("/" + fname, size) for fname, size in files]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=3, help="measured wrk run (whole seconds)")
    ap.add_argument("--warmup", type=int, default=1, help="warmup wrk run before it (0: none)")
    ap.add_argument("--connections", default="16,64,256")
    ap.add_argument("--servers", help="the benchmark/ servers to run (default: "
                    f"{','.join(SERVERS)}; with --files: {','.join(FILE_SERVERS)})")
    ap.add_argument("--url-path", default="/", help="path requested from every server")
    ap.add_argument("--server-cmd", action="append", default=[], metavar="'NAME=COMMAND'",
                    help="an extra server; it prints port=N or http://HOST:N/ (repeatable)")
    ap.add_argument("--syscalls", action="store_true", help="perf stat syscalls per request")
    ap.add_argument("--fifo", action="store_true", help="run server and wrk under chrt -f 10 "
                    "(keeps other work out, but RT throttling inflates p99)")
    ap.add_argument("--quiet-wait", type=float, default=120, metavar="S",
                    help="before each run, wait up to S s for the CPUs to be idle (0: don't)")
    ap.add_argument("--max-others", type=float, default=25, metavar="PCT",
                    help="a run during which other processes used more CPU (%% of one) is noisy")
    ap.add_argument("--retries", type=int, default=3, help="times a noisy run is repeated")
    ap.add_argument("--idle", type=int, metavar="N", help="RSS per idle connection, N connections")
    ap.add_argument("--files", action="store_true", help="static-file servers on a 4 KiB and "
                    "a 1 MiB file instead: example/http_server and Beast's file_body server")
    ap.add_argument("--http-server", help="default: BUILD/example/http_server/http_server")
    args = ap.parse_args()
    if shutil.which("wrk") is None and not args.idle:
        sys.exit("wrk not found (Debian: apt-get install wrk)")
    if args.syscalls and shutil.which("perf") is None:
        print("note: perf not found (Debian: apt-get install linux-perf): no syscall counts")
        args.syscalls = False

    bindir = os.path.join(args.build, "benchmark")
    extras = []  # --server-cmd: [(name, argv)]
    for spec in args.server_cmd:
        name, _, cmd = spec.partition("=")
        if not cmd:
            sys.exit(f"--server-cmd {spec!r}: expected NAME=COMMAND")
        extras.append((name, shlex.split(cmd)))
    servers, root = [], None  # [(name, argv)]
    paths = [(args.url_path, None)]
    if args.files:
        root, paths = make_root()
    names = args.servers or ",".join(FILE_SERVERS if args.files else SERVERS)
    for s in names.split(","):
        if os.access(os.path.join(bindir, s), os.X_OK):
            extra = ["--port", "0", "--root", root] if args.files else ["0"]
            servers.append((s, [os.path.join(bindir, s)] + extra))
        else:
            print(f"note: {s} not built in {bindir}: skipped")
    if args.files:  # ours last, as in the hello mode
        exe = args.http_server or os.path.join(args.build, "example", "http_server", "http_server")
        if os.access(exe, os.X_OK):
            servers.append((FILES_OURS, [exe, "--port", "0", "--root", root]))
        else:
            print(f"note: {exe} does not exist (build with -DASIO_URING_BUILD_EXAMPLES=ON): "
                  "skipped")
    for name, argv in extras:
        servers.append((name, [a.replace("{root}", root) for a in argv] if root else argv))
    if not servers:
        if root:
            shutil.rmtree(root, ignore_errors=True)
        sys.exit("no server built: build the benchmarks first (benchmark/README.md)")
    names = [n for n, _ in servers]
    pinning = "server on CPU 0, wrk on CPU 1" if TWO_CPUS else "one CPU: no pinning"
    print(f"{pinning}{', both under chrt -f 10 (SCHED_FIFO)' if args.fifo else ''}; "
          f"{args.reps} interleaved repetitions; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    try:
        if args.idle:
            raise_nofile(args.idle + 64)
            reps = {n: [] for n in names}
            for _ in range(args.reps):
                for name, argv in servers:
                    try:
                        reps[name].append({"rss": idle_rss(args, name, argv, args.idle)})
                    except (OSError, RuntimeError) as e:
                        print(f"  ! {name} idle: {e}", file=sys.stderr)
                        reps[name].append(None)
            print(f"\n== RSS growth per idle keep-alive connection, {args.idle} connections ==")
            print_table(names, reps, ["rss"])
            base = [r["rss"] for r in reps.get("http_hello_asio_epoll", []) if r]
            ours = [r["rss"] for r in reps.get(OURS, []) if r]
            if base and ours:
                o, b = statistics.median(ours), statistics.median(base)
                print(f"\ngoal RSS/idle conn <= Beast on epoll: {o:,.0f} vs {b:,.0f} B: "
                      f"{'met' if o <= b else 'not met'}")
            return

        metrics = ["req_s", "cpu_us", "p50_us", "p99_us"]
        if args.files:
            metrics.append("mib_s")
        if args.syscalls:
            metrics += ["sys", "enter"]
        summary = []
        for path, size in paths:
            for conns in (int(x) for x in args.connections.split(",")):
                reps = {n: [] for n in names}
                for _ in range(args.reps):
                    for name, argv in servers:  # interleaved, so drift hits all servers alike
                        for retry in range(args.retries, -1, -1):
                            r = run_load(args, name, argv, path, conns, size)
                            if r is None or r["others"] <= args.max_others or not retry:
                                break
                            print(f"  (noisy: run again, {retry} retries left)", file=sys.stderr)
                        reps[name].append(r)
                what = f"GET {path}" + (f" ({size:,} B)" if size else "")
                print(f"\n== {what}, {conns} connections: wrk -t1 {args.seconds} s "
                      f"(+{args.warmup} s warmup) x {args.reps} ==")
                print_table(names, reps, metrics)
                summary.append((f"{conns:>4} connections" + (f", {path}" if args.files else ""),
                                reps))
        print("\nmedians over repetitions; errors, non-2xx: sums; others%: CPU used by neither "
              "server nor wrk\nduring the worst repetition's window, % of one CPU; ratios: median "
              "(min-max) of per-repetition ratios")
        goals(summary, *GOALS[args.files])
    finally:
        if root:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
