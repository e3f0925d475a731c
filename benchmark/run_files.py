#!/usr/bin/env python3
"""File-read benchmarks, interleaved, as same-run ratios (see benchmark/README.md).

Usage: benchmark/run_files.py [--build DIR] [--file PATH] [--reps N] [--seconds S]
Needs the file benchmarks built in DIR and a data file (run_files.sh makes a 1 GiB one).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess

SCENARIOS = [  # name, common arguments
    ("4k random buffered QD1", ["--depth", "1"]),
    ("4k random buffered QD32", ["--depth", "32"]),
    ("4k random O_DIRECT QD1", ["--depth", "1", "--direct"]),
    ("4k random O_DIRECT QD32", ["--depth", "32", "--direct"]),
    ("1M sequential buffered QD4", ["--depth", "4", "--block", "1048576", "--sequential"]),
]
VARIANTS = [  # label, program, extra arguments
    ("asio_uring", "file_asio_uring", []),
    ("asio_uring fixed", "file_asio_uring", ["--fixed"]),
    ("asio_uring immediate", "file_asio_uring", ["--immediate"]),
    ("Asio io_uring", "file_asio_io_uring", []),
    ("raw liburing", "file_raw_liburing", []),
]


def run(cmd):
    out = subprocess.run(["taskset", "-c", "0"] + cmd, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def fio(path, args, seconds):
    depth = args[args.index("--depth") + 1]
    block = args[args.index("--block") + 1] if "--block" in args else "4096"
    cmd = ["fio", "--name=r", f"--filename={path}", "--ioengine=io_uring", f"--iodepth={depth}",
           f"--bs={block}", "--rw=" + ("read" if "--sequential" in args else "randread"),
           "--direct=" + ("1" if "--direct" in args else "0"), f"--runtime={seconds}",
           "--time_based", "--output-format=json", "--cpus_allowed=0",
           "--invalidate=0"]  # fio drops the page cache by default
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    rd = out["jobs"][0]["read"]
    return rd["bw_bytes"] / (1 << 20) if "--sequential" in args else rd["iops"]


def warm(path):
    """Reads the whole file, so buffered scenarios measure page-cache hits, not the disk."""
    with open(path, "rb", buffering=0) as f:
        while f.read(1 << 20):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--file", default="/var/tmp/asio_uring_bench_1g.dat")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()
    have_fio = shutil.which("fio") is not None
    labels = [v[0] for v in VARIANTS] + (["fio"] if have_fio else [])
    print(f"{'scenario':<28}" + "".join(f"{l:>22}" for l in labels))
    for name, common in SCENARIOS:
        if "--direct" not in common:
            warm(args.file)
        vals = {l: [] for l in labels}
        for _ in range(args.reps):  # interleaved: A B C ... A B C ...
            for label, prog, extra in VARIANTS:
                path = os.path.join(args.build, "benchmark", prog)
                vals[label].append(run([path, args.file] + common + extra +
                                       ["--seconds", str(args.seconds)]))
            if have_fio:
                vals["fio"].append(fio(args.file, common, args.seconds))
        base = vals["asio_uring"]
        cells = []
        for l in labels:
            med = statistics.median(vals[l])
            ratio = statistics.median([b / v for b, v in zip(base, vals[l])])
            cells.append(f"{med:>12.0f} ({ratio:4.2f}x)")
        print(f"{name:<28}" + "".join(f"{c:>22}" for c in cells))
    print("median IOPS (MiB/s for sequential); (Nx) = median per-repetition ratio asio_uring / that column")


if __name__ == "__main__":
    main()
