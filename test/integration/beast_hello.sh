#!/usr/bin/env bash
# The README's Beast server (example/beast_hello): answers curl over one keep-alive connection.
# Usage: beast_hello.sh BEAST_HELLO_BINARY
set -euo pipefail
server_bin="$1"
command -v curl > /dev/null || { echo "FAIL: curl is required (apt-get install curl)" >&2; exit 1; }

work="$(mktemp -d)"
"$server_bin" 0 > "$work/out" 2>&1 &
pid=$!
trap 'kill "$pid" 2> /dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  grep -q "http://" "$work/out" && break
  sleep 0.05
done
url="$(grep -o 'http://[0-9.:]*/' "$work/out")"
[[ -n "$url" ]] || { echo "FAIL: no URL printed: $(cat "$work/out")" >&2; exit 1; }

out="$(curl -sS --max-time 10 "${url}one" "${url}two" -w '|%{num_connects}\n')"
expected="Hello from io_uring, you asked for /one
|1
Hello from io_uring, you asked for /two
|0"
if [[ "$out" != "$expected" ]]; then
  printf 'FAIL: unexpected answer:\n%s\n' "$out" >&2
  exit 1
fi
echo "ok: two requests over one connection"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
trap 'rm -rf "$work"' EXIT
[[ $rc -eq 0 ]] || { echo "FAIL: exit status $rc after SIGTERM: $(cat "$work/out")" >&2; exit 1; }
echo "ok: SIGTERM -> exit 0"

# The README shows this example whole: the two must not drift apart.
readme="$(dirname "${BASH_SOURCE[0]}")/../../README.md"
example="$(dirname "${BASH_SOURCE[0]}")/../../example/beast_hello/beast_hello.cpp"
if ! diff <(sed -n '/^#include <asio_uring.hpp>/,/^```/p' "$readme" | grep -v '^```' | grep -v '^$') \
  <(grep -v '^//' "$example" | grep -v '^$') > "$work/diff"; then
  echo "FAIL: README's Beast server differs from example/beast_hello:" >&2
  cat "$work/diff" >&2
  exit 1
fi
echo "ok: README's server is example/beast_hello"
