#!/usr/bin/env python3
"""Socket echo benchmark: echo servers against echo_load, interleaved, as same-run ratios.

Usage: benchmark/run_echo.py [--build DIR] [--reps N] [--seconds S] [--warmup S]
                             [--sizes 64,16384] [--connections 16,64,256] [--servers a,b,...]
                             [--syscalls] [--fifo] [--idle N]

For each configuration (message size x connections) and repetition, every server runs once, in
order (A B C A B C ...): the server pinned on CPU 0, echo_load on CPU 1. The server's
utime+stime (/proc/PID/stat) is read when echo_load prints measure_start (end of its warmup) and
measure_end, and divided by the round trips echo_load completed in that window. --syscalls adds
perf stat's syscall counts over the same window (perf's tracing also costs the server CPU, more
for servers making more syscalls: compare CPU/msg from runs without it). --idle N instead
measures the server's RSS growth per idle connection with N connections held open.

Servers take `NAME PORT` and print `port=N` first (benchmark/echo_common.hpp). Those in SERVERS
that are not built are skipped with a note. Ratios are medians of per-repetition ratios with
min-max, oriented so that > 1 means the row's server is better.
"""
import argparse
import os
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SERVERS = [
    "echo_asio_epoll",
    "echo_asio_io_uring",
    "echo_raw_liburing",
    "echo_asio_uring_owned",
    "echo_asio_uring_borrowed",
    "echo_asio_uring_ring",
]
BASELINES = ["echo_asio_epoll", "echo_asio_io_uring", "echo_raw_liburing"]
# key -> (column title, higher is better?, format)
METRICS = {
    "msgs_per_s": ("msgs/s", True, "{:,.0f}"),
    "cpu_us": ("cpu us/msg", False, "{:.2f}"),
    "p50_us": ("p50 us", False, "{:.1f}"),
    "p99_us": ("p99 us", False, "{:.1f}"),
    "sys": ("syscalls/msg", False, "{:.2f}"),
    "enter": ("enter/msg", False, "{:.2f}"),  # io_uring_enter calls per message
}
CLK_TCK = os.sysconf("SC_CLK_TCK")
TWO_CPUS = (os.cpu_count() or 1) >= 2


def prefix(cpu, fifo):
    cmd = ["taskset", "-c", str(cpu)] if TWO_CPUS else []
    return cmd + (["chrt", "-f", "10"] if fifo else [])


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads, exited ones included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class Server:
    """A server process on CPU 0, listening on the port it printed."""

    def __init__(self, path, fifo):
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(prefix(0, fifo) + [path, "0"], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline().strip() if ready else ""
        if not line.startswith("port="):
            self.stop()
            raise RuntimeError(f"{path}: expected port=N first, got {line!r}{self.errors()}")
        self.port = int(line[5:])
        self.pid = self.proc.pid  # taskset and chrt exec the server: same pid

    def stop(self):
        """SIGTERM; returns a problem description, or '' if the server exited 0 in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
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


class Perf:
    """perf stat on a pid, counting only between enable() and disable()."""

    EVENTS = {"raw_syscalls:sys_enter": "sys", "syscalls:sys_enter_io_uring_enter": "enter"}

    def __init__(self, pid):
        self.out = tempfile.NamedTemporaryFile(mode="r", suffix=".perf")
        ctl_r, self.ctl = os.pipe()
        self.ack, ack_w = os.pipe()
        self.proc = subprocess.Popen(
            ["perf", "stat", "-x,", "-o", self.out.name, "-D", "-1", "--control",
             f"fd:{ctl_r},{ack_w}", "-e", ",".join(self.EVENTS), "-p", str(pid)],
            pass_fds=(ctl_r, ack_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(ctl_r)
        os.close(ack_w)

    def command(self, what):
        os.write(self.ctl, what.encode() + b"\n")
        ready, _, _ = select.select([self.ack], [], [], 5)  # perf answers "ack" once done
        if not ready or not os.read(self.ack, 16).startswith(b"ack"):
            raise RuntimeError(f"perf did not acknowledge {what}")

    def finish(self):
        """Stops perf; returns {metric: count}."""
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)
        os.close(self.ctl)
        os.close(self.ack)
        counts = {}
        for line in self.out.read().splitlines():
            parts = line.split(",")
            if len(parts) > 2 and parts[2] in self.EVENTS and parts[0].isdigit():
                counts[self.EVENTS[parts[2]]] = int(parts[0])
        self.out.close()
        return counts


def run_load(args, path, size, conns):
    """One run: returns {metric: value}, or None (with a note on stderr) if it failed."""
    server = Server(path, args.fifo)
    perf = Perf(server.pid) if args.syscalls else None
    result, note = None, ""
    try:
        if perf:
            time.sleep(0.3)  # let perf attach before the traffic starts
        with tempfile.TemporaryFile(mode="w+") as err:
            load = subprocess.Popen(
                prefix(1, args.fifo) + [args.load, "127.0.0.1", str(server.port), str(conns),
                                        str(size), str(args.seconds), str(args.warmup)],
                stdout=subprocess.PIPE, stderr=err, text=True)
            watchdog = threading.Timer(args.warmup + args.seconds + 60, load.kill)
            watchdog.start()
            cpu = {}
            fields = {}
            for line in load.stdout:
                line = line.strip()
                if line in ("measure_start", "measure_end"):
                    cpu[line] = cpu_seconds(server.pid)
                    if perf:
                        perf.command("enable" if line == "measure_start" else "disable")
                elif line.startswith("msgs_per_s="):
                    fields = dict(kv.split("=", 1) for kv in line.split())
            rc = load.wait()
            watchdog.cancel()
            err.seek(0)
            load_err = err.read().strip()
        msgs = int(fields.get("msgs", 0))
        if rc != 0 or len(cpu) != 2 or msgs == 0:
            note = (f"echo_load exit {rc}, errors={fields.get('errors', '?')}"
                    + (f": {load_err.splitlines()[0]}" if load_err else ""))
        else:
            result = {"msgs_per_s": float(fields["msgs_per_s"]),
                      "p50_us": float(fields["p50_us"]), "p99_us": float(fields["p99_us"]),
                      "cpu_us": (cpu["measure_end"] - cpu["measure_start"]) * 1e6 / msgs}
    finally:
        if perf:
            counts = perf.finish()
            if result is not None:
                for k, v in counts.items():
                    result[k] = v / msgs
        stop_note = server.stop()
    if stop_note:
        note = (note + "; " if note else "") + "server " + stop_note
    if note:
        print(f"  ! {os.path.basename(path)} {size} B x {conns}: {note}", file=sys.stderr)
    return result


def idle_rss(args, path, n):
    """RSS growth per connection with n connections open, each after one 1-byte echo."""
    server = Server(path, args.fifo)
    socks = []
    try:
        time.sleep(0.2)
        before = rss_bytes(server.pid)
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            socks.append(s)
            s.sendall(b"x")
        for s in socks:  # every connection accepted and echoed once: now idle, a read pending
            if s.recv(1) != b"x":
                raise RuntimeError("bad echo")
        time.sleep(0.3)
        return (rss_bytes(server.pid) - before) / n
    finally:
        for s in socks:
            s.close()
        note = server.stop()
        if note:
            print(f"  ! {os.path.basename(path)} idle: server {note}", file=sys.stderr)


def fmt_ratio(rs):
    if not rs:
        return "-"
    return f"{statistics.median(rs):.2f} ({min(rs):.2f}-{max(rs):.2f})"


def ratios(vals, server, base, higher):
    """Per-repetition ratios oriented so that > 1 means `server` is better than `base`."""
    pairs = [(v, b) for v, b in zip(vals[server], vals[base]) if v and b]
    return [v / b if higher else b / v for v, b in pairs]


def print_table(servers, reps, metrics):
    """reps: {server: [per-repetition {metric: value} or None]}"""
    print(f"{'server':<26}" + "".join(f"{METRICS[m][0]:>14}" for m in metrics))
    for s in servers:
        cells = []
        for m in metrics:
            vs = [r[m] for r in reps[s] if r and m in r]
            cells.append(METRICS[m][2].format(statistics.median(vs)) if vs else "-")
        print(f"{s:<26}" + "".join(f"{c:>14}" for c in cells))
    bases = [b for b in BASELINES if b in servers]
    head = "".join(f"{'vs ' + b[5:]:>22}" for b in bases)  # b[5:]: without "echo_"
    print(f"{'ratios (> 1: row better)':<40}" + head)
    for s in servers:
        for i, m in enumerate(metrics):
            vals = {x: [r.get(m) if r else None for r in reps[x]] for x in servers}
            cells = ["-" if b == s else fmt_ratio(ratios(vals, s, b, METRICS[m][1])) for b in bases]
            label = f"{s if i == 0 else '':<26}{METRICS[m][0]:<14}"
            print(label + "".join(f"{c:>22}" for c in cells))


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if need > hard:
        sys.exit(f"--idle {need - 64} needs {need} file descriptors; the hard limit is {hard}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0, help="measured window per run")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--sizes", default="64,16384", help="message sizes, bytes")
    ap.add_argument("--connections", default="16,64,256")
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--syscalls", action="store_true", help="perf stat syscalls per message")
    ap.add_argument("--fifo", action="store_true", help="run server and load under chrt -f 10")
    ap.add_argument("--idle", type=int, metavar="N", help="RSS per idle connection, N connections")
    args = ap.parse_args()
    bindir = os.path.join(args.build, "benchmark")
    args.load = os.path.join(bindir, "echo_load")
    servers = []
    for s in args.servers.split(","):
        if os.access(os.path.join(bindir, s), os.X_OK):
            servers.append(s)
        else:
            print(f"note: {s} not built in {bindir}: skipped")
    if not servers:
        sys.exit("no server built: build the benchmarks first (benchmark/README.md)")
    if not args.idle and not os.access(args.load, os.X_OK):
        sys.exit(f"missing {args.load}: build the benchmarks first (benchmark/README.md)")
    if args.syscalls and shutil.which("perf") is None:
        print("note: perf not found (Debian: apt-get install linux-perf): no syscall counts")
        args.syscalls = False
    pinning = "server on CPU 0, load on CPU 1" if TWO_CPUS else "one CPU: no pinning"
    print(f"{pinning}{', both under chrt -f 10 (SCHED_FIFO)' if args.fifo else ''}; "
          f"{args.reps} interleaved repetitions")

    if args.idle:
        raise_nofile(args.idle + 64)
        reps = {s: [] for s in servers}
        for _ in range(args.reps):
            for s in servers:
                try:
                    reps[s].append({"rss": idle_rss(args, os.path.join(bindir, s), args.idle)})
                except (OSError, RuntimeError) as e:
                    print(f"  ! {s} idle: {e}", file=sys.stderr)
                    reps[s].append(None)
        METRICS["rss"] = ("bytes/conn", False, "{:,.0f}")
        print(f"\n== RSS growth per idle connection, {args.idle} connections ==")
        print_table(servers, reps, ["rss"])
        return

    metrics = ["msgs_per_s", "cpu_us", "p50_us", "p99_us"]
    if args.syscalls:
        metrics += ["sys", "enter"]
    for size in (int(x) for x in args.sizes.split(",")):
        for conns in (int(x) for x in args.connections.split(",")):
            reps = {s: [] for s in servers}
            for _ in range(args.reps):
                for s in servers:  # interleaved, so drift hits all servers alike
                    reps[s].append(run_load(args, os.path.join(bindir, s), size, conns))
            print(f"\n== {size} B messages, {conns} connections: {args.seconds:g} s "
                  f"(+{args.warmup:g} s warmup) x {args.reps} ==")
            print_table(servers, reps, metrics)
    print("\nmedians over repetitions; ratios: median (min-max) of per-repetition ratios")


if __name__ == "__main__":
    main()
