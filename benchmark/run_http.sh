#!/usr/bin/env bash
# Builds the benchmarks (Release, no invariant checks) in build-bench and prints the HTTP table
# (benchmark/run_http.py, wrk against the Beast hello servers and raw liburing). Extra arguments
# go to run_http.py (e.g. --reps 9, --syscalls, --idle 10000, --files). With --files the
# examples are configured too, and of them only example/http_server (the file server under
# test) is built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/common.sh
ensure_packages "${ASIO_URING_PACKAGES[@]}" python3 util-linux wrk
examples=OFF
targets=(--target benchmark/all)
for arg in "$@"; do
  if [[ "$arg" == --files ]]; then
    examples=ON
    targets+=(http_server_example)
  fi
done
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DASIO_URING_INVARIANT_CHECKS=OFF -DASIO_URING_BUILD_TESTS=OFF \
  -DASIO_URING_BUILD_EXAMPLES="$examples"
cmake --build build-bench -j "$JOBS" "${targets[@]}"
python3 benchmark/run_http.py --build build-bench "$@"
