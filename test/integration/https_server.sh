#!/usr/bin/env bash
# Runs example/https_server with a self-signed certificate made now (openssl CLI) against curl:
# GET /hello without verification, then verifying the real certificate (--cacert, with
# --resolve so that the name "localhost" matches), two URLs over one kept-alive connection,
# a 404, a plain HTTP request on the TLS port (the server must survive it); then SIGTERM with
# a connection still open in its TLS handshake: exit 0 (and on SIGINT).
# Usage: https_server.sh <https_server executable>
set -euo pipefail
server="$1"
for tool in openssl curl; do
  command -v "$tool" > /dev/null || { echo "https_server: $tool is required" >&2; exit 1; }
done
dir="$(mktemp -d)"
pid=""
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
fail() {
  echo "https_server: FAIL: $*" >&2
  echo "--- server stderr:" >&2
  cat "$dir/server.err" >&2
  exit 1
}

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2> "$dir/openssl.log" ||
  { cat "$dir/openssl.log" >&2; exit 1; }

# Starts the server (sets pid and port) once it has printed its listening line.
start_server() {
  "$server" --port 0 --cert "$dir/cert.pem" --key "$dir/key.pem" > "$dir/server.out" 2>> "$dir/server.err" &
  pid=$!
  for _ in $(seq 200); do
    grep -q "listening on" "$dir/server.out" 2> /dev/null && break
    sleep 0.05
  done
  local line
  line="$(head -n 1 "$dir/server.out" 2> /dev/null || true)"
  [[ "$line" =~ ^https_server:\ listening\ on\ https://127\.0\.0\.1:([0-9]+)/$ ]] ||
    fail "did not start: '$line'"
  port="${BASH_REMATCH[1]}"
}
# Sends signal $1 and expects exit status 0.
stop_server() {
  kill -0 "$pid" 2> /dev/null || fail "the server died"
  kill "-$1" "$pid"
  local status=0
  wait "$pid" || status=$?
  pid=""
  [[ "$status" -eq 0 ]] || fail "exited with $status after SIG$1"
}
start_server
base="https://127.0.0.1:$port"
curl_opts=(--silent --show-error --max-time 20)

# Without verification.
body="$(curl "${curl_opts[@]}" -k "$base/hello")" || fail "curl -k /hello"
[[ "$body" == "Hello over TLS" ]] || fail "/hello answered '$body'"
type="$(curl "${curl_opts[@]}" -k -o /dev/null -w '%{content_type}' "$base/hello")"
[[ "$type" == text/plain* ]] || fail "/hello content type '$type'"

# Verifying the certificate the server really presents (CN=localhost).
body="$(curl "${curl_opts[@]}" --cacert "$dir/cert.pem" --resolve "localhost:$port:127.0.0.1" \
  "https://localhost:$port/hello")" || fail "curl --cacert (certificate verification)"
[[ "$body" == "Hello over TLS" ]] || fail "verified /hello answered '$body'"

# Two URLs in one run: the second reuses the first connection (num_connects 0).
out="$(curl "${curl_opts[@]}" -k -w '\n%{http_code} %{num_connects}\n' "$base/" "$base/hello")" ||
  fail "keep-alive run"
grep -q '<h1>asio-uring https_server</h1>' <<< "$out" || fail "/ is not the HTML page: $out"
[[ "$(grep -c '^200 ' <<< "$out")" -eq 2 ]] || fail "keep-alive statuses: $out"
grep -q '^200 1$' <<< "$out" || fail "first request did not connect: $out"
grep -q '^200 0$' <<< "$out" || fail "the second request did not reuse the connection: $out"
grep -q '^Hello over TLS$' <<< "$out" || fail "keep-alive /hello body: $out"

# Anything else: 404.
code="$(curl "${curl_opts[@]}" -k -o /dev/null -w '%{http_code}' "$base/missing")" || fail "curl /missing"
[[ "$code" == 404 ]] || fail "/missing answered $code"

# Plain HTTP on the TLS port: the handshake fails, the server carries on.
curl --silent --max-time 10 -o /dev/null "http://127.0.0.1:$port/hello" && fail "plain HTTP got an answer"
kill -0 "$pid" 2> /dev/null || fail "the server died after a plain HTTP request"
body="$(curl "${curl_opts[@]}" -k "$base/hello")" || fail "curl -k after the plain HTTP request"
[[ "$body" == "Hello over TLS" ]] || fail "/hello after plain HTTP answered '$body'"

# SIGTERM with a connection open in its handshake (no client hello sent): exit 0.
exec 3<> "/dev/tcp/127.0.0.1/$port"
sleep 0.2
stop_server TERM
exec 3<&-
# SIGINT stops it too.
start_server
stop_server INT
echo "https_server: TLS, verified certificate, keep-alive, 404, plain HTTP survived, SIGTERM/SIGINT exit 0"
