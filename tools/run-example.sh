#!/usr/bin/env bash
# Builds and runs the main example: installs what is missing, configures build/ as tools/test.sh
# does, builds only $MAIN_EXAMPLE and runs it with this script's arguments.
# Environment: JOBS (build jobs, default nproc), BUILD_DIR (default build).
set -euo pipefail

# The example this script runs (target name, and its path under the build directory).
MAIN_EXAMPLE=http_server_example
MAIN_EXAMPLE_PATH=example/http_server/http_server

# shellcheck source=tools/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages "${ASIO_URING_PACKAGES[@]}"

build_dir="${BUILD_DIR:-$ASIO_URING_ROOT/build}"
configure_build "$build_dir" -DASIO_URING_BUILD_EXAMPLES=ON
cmake --build "$build_dir" -j "$JOBS" --target "$MAIN_EXAMPLE"
exec "$build_dir/$MAIN_EXAMPLE_PATH" "$@"
