# Shared by tools/*.sh (sourced): missing-package installation and the build/ configuration.
# shellcheck shell=bash

# Packages a build of the library, tests, examples and benchmarks needs (Debian bookworm).
# shellcheck disable=SC2034 # used by the scripts that source this file
# The clients the integration tests drive: curl, wrk, netcat, the openssl CLI (a self-signed
# certificate for the TLS example); Node and npm come from ensure_node.
ASIO_URING_PACKAGES=(g++ cmake ninja-build ccache pkg-config
                     libboost1.81-dev libboost-test1.81-dev liburing-dev libssl-dev
                     curl wrk netcat-openbsd python3 openssl)

# Installs those of the named packages that are not installed yet; apt-get runs only then.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null)" != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  echo "installing missing packages: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "${missing[@]}"
}

# Node and npm (the WebSocket test's client is npm's `ws` package): Debian's packages, unless a
# node with npm is already there (e.g. NodeSource's nodejs, which bundles npm and conflicts with
# Debian's npm package).
ensure_node() {
  if command -v node > /dev/null && command -v npm > /dev/null; then
    return 0
  fi
  ensure_packages nodejs npm
}

# Configures $1 (Ninja, ccache, warnings as errors); further arguments go to cmake.
configure_build() {
  local dir="$1"
  shift
  if [[ -f "$dir/CMakeCache.txt" ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$dir/CMakeCache.txt"; then
    echo "error: $dir was configured with another generator than Ninja; remove it first" >&2
    return 1
  fi
  cmake -S "$ASIO_URING_ROOT" -B "$dir" -G Ninja \
    -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Debug}" \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DASIO_URING_WERROR=ON \
    "$@"
}

ASIO_URING_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Parallel build jobs (JOBS=1 on a shared machine).
JOBS="${JOBS:-$(nproc)}"
