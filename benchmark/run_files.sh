#!/usr/bin/env bash
# Builds the benchmarks, makes a 1 GiB data file once (real blocks, for O_DIRECT), warms the
# page cache, and prints the file-read table (benchmark/run_files.py). Extra arguments go to it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/common.sh
ensure_packages "${ASIO_URING_PACKAGES[@]}" python3 util-linux fio
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DASIO_URING_INVARIANT_CHECKS=OFF -DASIO_URING_BUILD_TESTS=OFF -DASIO_URING_BUILD_EXAMPLES=OFF
cmake --build build-bench -j "$JOBS"
data=/var/tmp/asio_uring_bench_1g.dat
if [[ ! -f "$data" ]]; then
  head -c $((1024 * 1024 * 1024)) /dev/urandom > "$data.tmp" && mv "$data.tmp" "$data"
fi
python3 benchmark/run_files.py --build build-bench --file "$data" "$@"
