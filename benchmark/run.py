#!/usr/bin/env python3
"""Runs the benchmarks interleaved (A B C A B C ...) and prints same-run ratios.

Usage: benchmark/run.py [--build DIR] [--reps N] [--scenarios a,b,...]
Builds are expected in DIR (default build-bench, configured Release without invariant checks:
see benchmark/README.md). Server and load are pinned with taskset when two CPUs exist.
"""
import argparse
import os
import statistics
import subprocess
import sys

# name -> (higher is better?, unit)
SCENARIOS = {
    "post_same_thread": (True, "posts/s"),
    "post_cross_thread": (True, "posts/s"),
    "timer_latency": (False, "us late (median)"),
    "timers_10k": (False, "ms for 10k timers"),
}
BUILDS = ["core_asio_uring", "core_asio_epoll", "core_asio_io_uring"]


def run_one(path, scenario):
    cmd = [path, scenario]
    if os.cpu_count() and os.cpu_count() >= 2 and scenario != "post_cross_thread":
        cmd = ["taskset", "-c", "0"] + cmd
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = ap.parse_args()
    paths = {b: os.path.join(args.build, "benchmark", b) for b in BUILDS}
    for b, p in paths.items():
        if not os.access(p, os.X_OK):
            sys.exit(f"missing {p}: build the benchmarks first (benchmark/README.md)")
    print(f"{'scenario':<18} {'asio_uring':>14} {'vs epoll':>18} {'vs asio io_uring':>18}  unit")
    for sc in args.scenarios.split(","):
        higher, unit = SCENARIOS[sc]
        values = {b: [] for b in BUILDS}
        for _ in range(args.reps):
            for b in BUILDS:  # interleaved, so drift hits all builds alike
                values[b].append(run_one(paths[b], sc))
        cells = []
        for base in BUILDS[1:]:
            # ratio > 1 means asio_uring is better, whichever way the metric points
            ratios = [(u / v if higher else v / u) for u, v in zip(values[BUILDS[0]], values[base])]
            cells.append(f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")
        print(f"{sc:<18} {statistics.median(values[BUILDS[0]]):>14.1f} {cells[0]:>18} {cells[1]:>18}  {unit}")
    print("ratios: median (min-max) of per-repetition ratios; > 1 means asio_uring is better")


if __name__ == "__main__":
    main()
