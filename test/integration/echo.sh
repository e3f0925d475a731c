#!/usr/bin/env bash
# Runs example/echo_server in each mode against example/echo_client (small and large
# messages), then stops the server with SIGTERM: it must exit cleanly.
# Usage: echo.sh <echo_server_example> <echo_client_example>
set -euo pipefail
server="$1"
client="$2"
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for mode in owned borrowed ring; do
  "$server" --port 0 --mode "$mode" > "$dir/server.out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$dir/server.out" && break
    sleep 0.05
  done
  port="$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$dir/server.out")"
  [[ -n "$port" ]] || { echo "echo_server ($mode) did not start" >&2; cat "$dir/server.out"; exit 1; }
  "$client" --port "$port" --connections 16 --size 64 --seconds 1
  "$client" --port "$port" --connections 4 --size 16384 --seconds 1
  kill -TERM "$pid"
  wait "$pid" || { echo "echo_server ($mode) exited with $?" >&2; exit 1; }
done
echo "echo: every mode echoed and shut down cleanly"
