#!/usr/bin/env bash
# Consumer tests: install asio_uring into a temporary prefix, then build and run the two tiny
# projects in test/consumer/ (find_package after install, and add_subdirectory).
# Environment: JOBS (build jobs, default nproc), KEEP_CONSUMER_BUILD=1 keeps the temporary tree.
set -euo pipefail

# shellcheck source=tools/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_packages "${ASIO_URING_PACKAGES[@]}"

root="$ASIO_URING_ROOT"
generator=(-G Ninja)
launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

work="$(mktemp -d "${TMPDIR:-/tmp}/asio_uring_consumer.XXXXXX")"
if [[ -z "${KEEP_CONSUMER_BUILD:-}" ]]; then
  trap 'rm -rf "$work"' EXIT
else
  echo "consumer-test: keeping $work"
fi
prefix="$work/prefix"

step() { printf '\n== consumer-test: %s\n' "$*"; }

step "configure, build and install the library into $prefix"
cmake -S "$root" -B "$work/lib" "${generator[@]}" "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DASIO_URING_BUILD_TESTS=OFF \
  -DASIO_URING_BUILD_EXAMPLES=OFF \
  -DASIO_URING_BUILD_BENCHMARKS=OFF
cmake --build "$work/lib" -j "$JOBS"
cmake --install "$work/lib"

step "find_package(asio_uring) against the installed package"
cmake -S "$root/test/consumer/find_package" -B "$work/find_package" "${generator[@]}" \
  "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$work/find_package" -j "$JOBS"
"$work/find_package/consumer"

step "add_subdirectory(<repository> asio_uring_build)"
cmake -S "$root/test/consumer/add_subdirectory" -B "$work/add_subdirectory" "${generator[@]}" \
  "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release
cmake --build "$work/add_subdirectory" -j "$JOBS"
"$work/add_subdirectory/consumer"

step "passed (find_package and add_subdirectory)"
