#!/usr/bin/env bash
# Runs example/websocket_echo against a real client, the npm package `ws` (ws_client.mjs beside
# this script): 100 text and binary messages echoed byte for byte with their type, a clean
# close with 1000; then stops the server with SIGTERM while a connection is still open in its
# opening handshake: it must exit 0 (and on SIGINT).
# `ws` is installed once into <npm-cache-dir> (needs the npm registry the first time); node and
# npm missing is a failure, not a skip.
# Usage: websocket_echo.sh <websocket_echo executable> <npm-cache-dir>
set -euo pipefail
server="$1"
cache="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for tool in node npm; do
  command -v "$tool" > /dev/null || { echo "websocket_echo: $tool is required (apt-get install nodejs npm)" >&2; exit 1; }
done

if ! [[ -f "$cache/node_modules/ws/package.json" ]]; then
  mkdir -p "$cache"
  npm install --no-audit --no-fund --no-save --prefix "$cache" ws@8 > "$cache/npm-install.log" 2>&1 ||
    { echo "websocket_echo: npm install ws@8 failed" >&2; cat "$cache/npm-install.log" >&2; exit 1; }
fi
echo "websocket_echo: ws $(node -p "require('$cache/node_modules/ws/package.json').version") from $cache"

dir="$(mktemp -d)"
pid=""
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
# Starts the server (sets pid and port) once it has printed its listening line.
start_server() {
  "$server" --port 0 > "$dir/server.out" 2>> "$dir/server.err" &
  pid=$!
  for _ in $(seq 200); do
    grep -q "listening on" "$dir/server.out" 2> /dev/null && break
    sleep 0.05
  done
  local line
  line="$(head -n 1 "$dir/server.out" 2> /dev/null || true)"
  [[ "$line" =~ ^websocket_echo:\ listening\ on\ ws://127\.0\.0\.1:([0-9]+)/$ ]] ||
    { echo "websocket_echo did not start: '$line'" >&2; cat "$dir/server.err" >&2; exit 1; }
  port="${BASH_REMATCH[1]}"
}
# Sends signal $1 and expects exit status 0.
stop_server() {
  kill -0 "$pid" || { echo "websocket_echo died" >&2; cat "$dir/server.err" >&2; exit 1; }
  kill "-$1" "$pid"
  local status=0
  wait "$pid" || status=$?
  pid=""
  [[ "$status" -eq 0 ]] ||
    { echo "websocket_echo exited with $status after SIG$1" >&2; cat "$dir/server.err" >&2; exit 1; }
}
start_server

node "$here/ws_client.mjs" "ws://127.0.0.1:$port/" "$cache" ||
  { echo "websocket_echo: the ws client failed; server stderr:" >&2; cat "$dir/server.err" >&2; exit 1; }
# A second client right after: the server is still serving.
node "$here/ws_client.mjs" "ws://127.0.0.1:$port/echo" "$cache"

# A connection that never sends its upgrade request, open while the server is stopped.
exec 3<> "/dev/tcp/127.0.0.1/$port"
sleep 0.2
stop_server TERM
exec 3<&-
# SIGINT stops it too.
start_server
stop_server INT
echo "websocket_echo: echoed over ws, closed cleanly, SIGTERM and SIGINT exit 0"
