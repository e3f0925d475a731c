#!/usr/bin/env bash
# The test command: installs what is missing, builds everything in build/ (tests, examples,
# benchmarks; -Werror, Ninja, ccache) and runs ctest. Extra arguments go to cmake's configure.
# Environment: JOBS (build jobs, default nproc), BUILD_DIR (default build), BUILD_TYPE (Debug).
set -euo pipefail
# shellcheck source=tools/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages "${ASIO_URING_PACKAGES[@]}"
ensure_node

build_dir="${BUILD_DIR:-$ASIO_URING_ROOT/build}"
configure_build "$build_dir" \
  -DASIO_URING_BUILD_TESTS=ON -DASIO_URING_BUILD_EXAMPLES=ON -DASIO_URING_BUILD_BENCHMARKS=ON "$@"
cmake --build "$build_dir" -j "$JOBS"
ctest --test-dir "$build_dir" --output-on-failure -j2
