#!/usr/bin/env bash
# Drives example/http_server with real clients (curl, nc, wrk, python3) over a document root made
# here: files byte for byte with their Content-Type, HEAD, ranges (206, 416, ignored), keep-alive
# and pipelining, POST /echo (1 MiB) and the body limit, path traversal and symlink escapes,
# malformed and oversized requests, 405, the deadlines (silent client, slowloris, idle keep-alive,
# a client that stops reading), a wrk run without errors, 2,000 abandoned connections (no fd or
# memory left behind), --threads 2, the default document root, and SIGTERM/SIGINT exiting 0.
# Usage: http_server.sh <http_server_example>
# Needs curl, wrk, python3 and nc (Debian: curl wrk python3 netcat-openbsd).
set -euo pipefail
server="$1"
repo_docs="$(realpath "$(dirname "$0")/../../docs")"

missing=()
for tool in curl wrk python3 nc; do
  command -v "$tool" > /dev/null || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
  echo "http_server.sh: missing ${missing[*]}: apt-get install curl wrk python3 netcat-openbsd" >&2
  exit 1
fi

dir="$(mktemp -d)"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill -9 "$p" 2> /dev/null || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
pass() { echo "ok: $*"; }
now_ms() { date +%s%3N; }

# ---- the document root ----
root="$dir/root"
mkdir -p "$root/subdir" "$root/withindex"
printf '<!doctype html>\n<title>index</title>\n<p>hello from the root</p>\n' > "$root/index.html"
head -c $((1024 * 1024)) /dev/urandom > "$root/random.bin"
printf 'body { color: #333; }\n' > "$root/style.css"
printf '# notes\n\nsome *markdown*\n' > "$root/notes.md"
printf 'in a subdirectory\n' > "$root/subdir/file.txt"
printf '<p>a directory index</p>\n' > "$root/withindex/index.html"
truncate -s 64M "$root/big.bin" # for the client that stops reading
secret="TOP-SECRET-$RANDOM$RANDOM"
echo "$secret" > "$dir/secret.txt"
ln -s "$dir/secret.txt" "$root/link-to-secret"      # absolute, outside the root
ln -s ../secret.txt "$root/relative-link-to-secret" # relative, outside the root
ln -s "$dir" "$root/escape-dir"                     # a directory outside the root
ln -s style.css "$root/inner-link.css"              # inside the root: allowed
croot="$(realpath "$root")"

# start_server NAME ARGS...: starts the server, sets pid, port and url.
start_server() {
  local name="$1" out="$dir/server-$1.out" line
  shift
  "$server" "$@" > "$out" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do
    grep -qs '^http_server: serving' "$out" && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.05
  done
  line="$(grep '^http_server: serving' "$out" || true)"
  [[ -n "$line" ]] || {
    cat "$out" >&2
    fail "$name: the server did not start ($*)"
  }
  [[ "$(wc -l < "$out")" -eq 1 ]] || fail "$name: more than one line at startup: $(cat "$out")"
  port="${line##*:}"
  port="${port%/}"
  url="http://127.0.0.1:$port"
}

# stop_server SIGNAL PID NAME: the server must exit with 0 within 10 s.
stop_server() {
  local sig="$1" p="$2" name="$3" rc=0
  kill "-$sig" "$p"
  for _ in $(seq 200); do
    kill -0 "$p" 2> /dev/null || break
    sleep 0.05
  done
  kill -0 "$p" 2> /dev/null && fail "$name: still running 10 s after SIG$sig"
  wait "$p" || rc=$?
  [[ $rc -eq 0 ]] || fail "$name: exited with $rc after SIG$sig"
  pass "$name: SIG$sig -> exit 0"
}

# get EXPECTED_CODE PATH [curl args...]: the body lands in $dir/body, the headers in $dir/headers.
get() {
  local expected="$1" path="$2" code
  shift 2
  code="$(curl -s --path-as-is -o "$dir/body" -D "$dir/headers" -w '%{http_code}' "$@" \
    "$url$path")" || fail "curl $path failed"
  [[ "$code" == "$expected" ]] || fail "$path: status $code, expected $expected"
}
header() { # header NAME: its value in $dir/headers (no CR)
  sed -n "s/^$1: *//Ip" "$dir/headers" | tr -d '\r' | head -1
}
raw() { # raw REQUEST-BYTES (printf format): the whole response (connection closed by the server)
  # shellcheck disable=SC2059
  printf "$1" | nc -w 5 127.0.0.1 "$port"
}

# ---- command line: bad options and roots are refused with exit 2 ----
for args in "--bogus 1" "--port" "--port 70000" "--threads 0" "--idle-timeout-ms 0" \
  "--root $root/index.html" "--root $dir/nowhere" "--address not-an-address"; do
  rc=0
  # shellcheck disable=SC2086 # split on purpose
  "$server" $args > /dev/null 2>&1 || rc=$?
  [[ $rc -eq 2 ]] || fail "http_server $args: exit $rc, expected 2"
done
"$server" --help | grep -q '^usage: http_server' || fail "--help"
pass "command line: bad options refused (exit 2), --help"

# ---- the default document root: the repository's docs/ ----
start_server default --port 0
grep -qxF "http_server: serving $repo_docs at http://127.0.0.1:$port/" "$dir/server-default.out" ||
  fail "banner: $(cat "$dir/server-default.out")"
get 200 /design.md
cmp -s "$dir/body" "$repo_docs/design.md" || fail "default root: design.md differs"
[[ "$(header content-type)" == "text/markdown; charset=utf-8" ]] || fail "md content type"
pass "default root serves docs/design.md"
stop_server INT "$pid" default

# ---- the main server ----
start_server main --port 0 --root "$root"
main_pid=$pid
grep -qxF "http_server: serving $croot at $url/" "$dir/server-main.out" ||
  fail "banner: $(cat "$dir/server-main.out")"

# Files, byte for byte, with their types.
check_file() { # check_file PATH FILE CONTENT-TYPE
  get 200 "$1"
  cmp -s "$dir/body" "$2" || fail "$1: body differs from $2"
  [[ "$(header content-type)" == "$3" ]] || fail "$1: content type $(header content-type)"
  [[ "$(header content-length)" == "$(stat -c %s "$2")" ]] || fail "$1: content length"
  [[ "$(header accept-ranges)" == "bytes" ]] || fail "$1: no Accept-Ranges"
  [[ -n "$(header last-modified)" ]] || fail "$1: no Last-Modified"
}
check_file / "$root/index.html" "text/html; charset=utf-8"
check_file /index.html "$root/index.html" "text/html; charset=utf-8"
check_file /random.bin "$root/random.bin" "application/octet-stream"
check_file /style.css "$root/style.css" "text/css; charset=utf-8"
check_file /notes.md "$root/notes.md" "text/markdown; charset=utf-8"
check_file /subdir/file.txt "$root/subdir/file.txt" "text/plain; charset=utf-8"
check_file /withindex/ "$root/withindex/index.html" "text/html; charset=utf-8"
check_file "/style.css?v=3" "$root/style.css" "text/css; charset=utf-8"
check_file /inner-link.css "$root/style.css" "text/css; charset=utf-8"
get 404 /missing.html
get 404 /subdir/
get 404 /style.css/
pass "GET: files byte for byte, types, directory index, 404s"

# Content-Type for each extension the server knows, and the default.
mkdir -p "$root/types"
for ext in js json txt svg png jpg JPG jpeg gif ico wasm pdf htm unknown; do
  echo "$ext" > "$root/types/file.$ext"
done
echo none > "$root/types/no-extension"
while read -r name type; do
  got="$(curl -s -o /dev/null -w '%{content_type}' "$url/types/$name")"
  [[ "$got" == "$type" ]] || fail "/types/$name: Content-Type '$got', expected '$type'"
done << 'EOF'
file.js text/javascript; charset=utf-8
file.json application/json
file.txt text/plain; charset=utf-8
file.svg image/svg+xml
file.png image/png
file.jpg image/jpeg
file.JPG image/jpeg
file.jpeg image/jpeg
file.gif image/gif
file.ico image/vnd.microsoft.icon
file.wasm application/wasm
file.pdf application/pdf
file.htm text/html; charset=utf-8
file.unknown application/octet-stream
no-extension application/octet-stream
EOF
pass "Content-Type by extension"

# HEAD: the headers of the GET, no body.
curl -s -I -o /dev/null -D "$dir/headers" "$url/random.bin"
[[ "$(header content-length)" == "1048576" ]] || fail "HEAD: length $(header content-length)"
raw 'HEAD /random.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' > "$dir/head.out"
python3 - "$dir/head.out" << 'EOF' || fail "HEAD sent a body"
import sys
d = open(sys.argv[1], "rb").read()
assert d.startswith(b"HTTP/1.1 200 "), d[:40]
assert b"\r\nContent-Length: 1048576\r\n" in d
assert d.endswith(b"\r\n\r\n") and d.count(b"\r\n\r\n") == 1, len(d)
EOF
raw 'HEAD /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' > "$dir/head.out"
[[ "$(head -c 12 "$dir/head.out")" == "HTTP/1.1 404" ]] || fail "HEAD of a missing file"
[[ "$(tail -c 4 "$dir/head.out" | od -An -tx1 | tr -d ' \n')" == "0d0a0d0a" ]] ||
  fail "HEAD 404 sent a body"
pass "HEAD: Content-Length, no body"

# Ranges.
part() { tail -c +$(($1 + 1)) "$root/random.bin" | head -c "$2"; }
get 206 /random.bin -r 100-199
cmp -s "$dir/body" <(part 100 100) || fail "range 100-199 bytes"
[[ "$(header content-range)" == "bytes 100-199/1048576" ]] || fail "range: $(header content-range)"
[[ "$(header content-length)" == "100" ]] || fail "range: content length"
get 206 /random.bin -r 1048000-
cmp -s "$dir/body" <(part 1048000 576) || fail "range 1048000- bytes"
get 206 /random.bin -H 'Range: bytes=-500'
cmp -s "$dir/body" <(part $((1048576 - 500)) 500) || fail "suffix range bytes"
[[ "$(header content-range)" == "bytes 1048076-1048575/1048576" ]] || fail "suffix content range"
get 206 /random.bin -H 'Range: bytes=1048000-99999999999999999999999'
cmp -s "$dir/body" <(part 1048000 576) || fail "range with a huge end"
get 416 /random.bin -r 2000000-
[[ "$(header content-range)" == "bytes */1048576" ]] || fail "416: $(header content-range)"
get 416 /random.bin -H 'Range: bytes=-0'
get 416 /random.bin -r 1048576-1048600
get 200 /random.bin -r 0-9,20-29
cmp -s "$dir/body" "$root/random.bin" || fail "multiple ranges: not the whole file"
get 200 /random.bin -H 'Range: bytes=500-100'
cmp -s "$dir/body" "$root/random.bin" || fail "invalid range: not the whole file"
get 200 /random.bin -H 'Range: lines=1-2'
get 200 /random.bin -r 0-9 -H 'If-Range: Mon, 01 Jan 2001 00:00:00 GMT'
cmp -s "$dir/body" "$root/random.bin" || fail "stale If-Range: not the whole file"
curl -s -I -r 10-19 -o /dev/null -D "$dir/headers" "$url/random.bin"
[[ "$(header content-length)" == "10" ]] || fail "HEAD with a range"
pass "Range: 206 with Content-Range, 416, several ranges and bad ones ignored"

# Keep-alive: two URLs, one connection.
curl -sv -o "$dir/a" -o "$dir/b" -w '%{num_connects}\n' "$url/index.html" "$url/style.css" \
  > "$dir/connects" 2> "$dir/verbose"
cmp -s "$dir/a" "$root/index.html" || fail "keep-alive: first body differs"
cmp -s "$dir/b" "$root/style.css" || fail "keep-alive: second body differs"
grep -q 'Re-using existing connection' "$dir/verbose" || fail "curl did not reuse the connection"
[[ "$(tr '\n' ' ' < "$dir/connects")" == "1 0 " ]] || fail "num_connects: $(cat "$dir/connects")"
pass "keep-alive: curl reused the connection"

# Pipelining: four requests in one write, the responses in order.
python3 - "$port" "$root" << 'EOF' || fail "pipelining"
import socket, sys
port, root = int(sys.argv[1]), sys.argv[2]
names = ["style.css", "notes.md", "random.bin", "index.html"]
req = b"".join(b"GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % n.encode() for n in names[:-1])
req += b"GET /index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(req)
data = b""
while chunk := s.recv(65536):
    data += chunk
for n in names:
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), (n, head[:60])
    fields = dict(l.split(b":", 1) for l in head.split(b"\r\n")[1:])
    length = int({k.lower(): v for k, v in fields.items()}[b"content-length"])
    body, data = rest[:length], rest[length:]
    assert body == open(f"{root}/{n}", "rb").read(), n
assert data == b"", data[:60]
EOF
pass "pipelining: four responses in order, then close"

# POST /echo.
get 200 /echo --data-binary "@$root/random.bin" -H 'Content-Type: application/x-test'
cmp -s "$dir/body" "$root/random.bin" || fail "echo: 1 MiB differs"
[[ "$(header content-type)" == "application/x-test" ]] || fail "echo content type"
head -c 3000 /dev/urandom > "$dir/small.bin"
get 200 /echo --data-binary "@$dir/small.bin" -H 'Transfer-Encoding: chunked'
cmp -s "$dir/body" "$dir/small.bin" || fail "echo: chunked body differs"
head -c $((2 * 1024 * 1024 + 1)) /dev/zero > "$dir/too-big.bin"
get 413 /echo --data-binary "@$dir/too-big.bin"
get 413 /echo --data-binary "@$dir/too-big.bin" -H 'Transfer-Encoding: chunked'
head -c $((2 * 1024 * 1024)) /dev/urandom > "$dir/limit.bin"
get 200 /echo --data-binary "@$dir/limit.bin"
cmp -s "$dir/body" "$dir/limit.bin" || fail "echo: 2 MiB (the limit) differs"
pass "POST /echo: 1 MiB and 2 MiB echoed, chunked too; 2 MiB + 1 is 413"

# Path traversal: never the secret; 400 for what the path itself refuses, 404 for escapes.
traversal() { # traversal CODE TARGET
  get "$1" "$2"
  ! grep -q "$secret" "$dir/body" || fail "$2 served the secret"
}
traversal 400 /../secret.txt
traversal 400 /subdir/../../secret.txt
traversal 400 /subdir/../index.html
traversal 400 /./index.html
traversal 400 /%2e%2e/secret.txt
traversal 400 /%2E%2E/secret.txt
traversal 400 /subdir/%2e%2e/%2e%2e/secret.txt
traversal 400 /..%2fsecret.txt
traversal 400 /%2e%2e%2fsecret.txt
traversal 400 /subdir%2f..%2f..%2fsecret.txt
traversal 400 /subdir%2Ffile.txt
traversal 400 /..%5csecret.txt
traversal 400 /index.html%00.css
traversal 400 /%zz
traversal 400 /abc%4
traversal 404 /link-to-secret
traversal 404 /relative-link-to-secret
traversal 404 /escape-dir/secret.txt
traversal 404 //etc/passwd
! grep -q '^root:' "$dir/body" || fail "//etc/passwd served /etc/passwd"
for target in '/..\\secret.txt' 'http://127.0.0.1/../secret.txt' '../secret.txt' '*'; do
  raw "GET $target HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" > "$dir/raw.out"
  [[ "$(head -c 12 "$dir/raw.out")" == "HTTP/1.1 400" ]] ||
    fail "raw $target: $(head -c 40 "$dir/raw.out")"
  ! grep -q "$secret" "$dir/raw.out" || fail "raw $target served the secret"
done
pass "traversal: dot segments, encoded ones, %2f, backslash, NUL -> 400; symlink escapes -> 404"

# Malformed requests: 400, the connection closes, the server keeps serving.
for request in 'THIS IS NOT HTTP\r\n\r\n' 'GET / HTTP/1.1\r\nNo colon here\r\n\r\n' \
  '\001\002\003\004\r\n\r\n' 'GET /index.html HTTP/1.1\r\nContent-Length: x\r\n\r\n' \
  'GET / HTTP/2.0\r\nHost: t\r\n\r\n' 'GET /\r\n\r\n'; do
  start=$(now_ms)
  raw "$request" > "$dir/raw.out"
  [[ "$(head -c 12 "$dir/raw.out")" == "HTTP/1.1 400" ]] ||
    fail "malformed $request: $(head -c 40 "$dir/raw.out")"
  (($(now_ms) - start < 4000)) || fail "malformed $request: the connection stayed open"
done
get 200 /style.css
pass "malformed requests (also HTTP/2.0 and 0.9): 400 and close; the server still answers"

# Limits: header section over 8 KiB (a field, or the request line) -> 431; other methods -> 405.
get 431 / -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)"
get 431 "/$(head -c 9000 /dev/zero | tr '\0' a)"
get 200 / -H "X-Fits: $(head -c 7000 /dev/zero | tr '\0' a)"
for method in DELETE PUT PATCH OPTIONS; do
  get 405 /index.html -X "$method"
  [[ "$(header allow)" == "GET, HEAD" ]] || fail "$method: Allow $(header allow)"
done
get 405 /index.html --data-binary x
pass "431 for a header over the limit; 405 with Allow: GET, HEAD"

# wrk: no socket errors, no non-2xx.
run_wrk() { # run_wrk ARGS...
  wrk "$@" > "$dir/wrk.out" 2>&1 || fail "wrk failed: $(cat "$dir/wrk.out")"
  ! grep -q 'Socket errors' "$dir/wrk.out" || fail "wrk: $(grep 'Socket errors' "$dir/wrk.out")"
  ! grep -q 'Non-2xx' "$dir/wrk.out" || fail "wrk: $(grep 'Non-2xx' "$dir/wrk.out")"
  grep -Eq '^ +[1-9][0-9]* requests in' "$dir/wrk.out" ||
    fail "wrk: no requests: $(cat "$dir/wrk.out")"
  pass "wrk $*: $(grep -E 'requests in|Requests/sec' "$dir/wrk.out" | tr -s ' ' | tr '\n' ' ')"
}
run_wrk -t1 -c16 -d2s "$url/index.html"
run_wrk -t1 -c4 -d1s "$url/random.bin"

# An idle keep-alive connection does not hold up shutdown.
exec {idle}<> "/dev/tcp/127.0.0.1/$port"
printf 'GET /style.css HTTP/1.1\r\nHost: t\r\n\r\n' >&"$idle"
sleep 0.2
stop_server TERM "$main_pid" main
exec {idle}>&-

# ---- 2,000 connections abandoned mid-request or mid-response: nothing left behind ----
# Its own server: under ASan, freed memory waits in a quarantine (256 MiB by default) that
# would hide what this measures, so this instance runs with none (no effect without ASan). A
# first round of 500 brings the allocator and the context's pools to their steady state; the
# 2,000 after it must leave fds and RSS where they were.
cat > "$dir/abandon.py" << 'EOF'
import socket, struct, sys, time
port, batches = int(sys.argv[1]), int(sys.argv[2])
kinds = [
    b"GET /index.html HTTP/1.1\r\nHost: t\r\nX-Unfinished: ",  # header cut short
    b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000,  # body cut
    b"GET /random.bin HTTP/1.1\r\nHost: t\r\n\r\n",  # response never read
    b"",  # nothing at all
]
for batch in range(batches):
    conns = []
    for i in range(250):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        k = (batch * 250 + i) % len(kinds)
        if kinds[k]:
            s.sendall(kinds[k])
        if i % 2:  # half end with a reset, half with a FIN
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conns.append(s)
    time.sleep(0.05)
    for s in conns:
        s.close()
EOF
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
  start_server abandon --port 0 --root "$root"
abandon_pid=$pid
fds() { find "/proc/$abandon_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$abandon_pid/status"; }
settle_fds() { # settle_fds MAX: waits up to 10 s for the fd count to drop to MAX
  for _ in $(seq 100); do
    (($(fds) <= $1)) && return 0
    sleep 0.1
  done
  return 1
}
get 200 /index.html
fds_start=$(fds)
rss_start=$(rss_kb)
python3 "$dir/abandon.py" "$port" 2 || fail "abandon script (warm-up)"
settle_fds $((fds_start + 4)) ||
  fail "fds: $fds_start at start, $(fds) after 500 abandoned connections"
fds_before=$(fds)
rss_before=$(rss_kb)
python3 "$dir/abandon.py" "$port" 8 || fail "abandon script"
settle_fds $((fds_before + 4)) ||
  fail "fds: $fds_before before, $(fds) after 2,000 abandoned connections"
rss_after=$(rss_kb)
((rss_after - rss_before < 16 * 1024)) ||
  fail "RSS grew from $rss_before kB to $rss_after kB with 2,000 abandoned connections"
get 200 /style.css
cmp -s "$dir/body" "$root/style.css" || fail "after the abandoned connections: body differs"
pass "2,000 abandoned connections: fds $fds_before -> $(fds), RSS $rss_before -> $rss_after kB" \
  "(warm-up from $rss_start kB)"
stop_server TERM "$abandon_pid" abandon

# ---- deadlines: request 500 ms, idle 700 ms, send 500 ms ----
start_server deadlines --port 0 --root "$root" --request-timeout-ms 500 --idle-timeout-ms 700 \
  --send-timeout-ms 500
deadlines_pid=$pid
exec {silent}<> "/dev/tcp/127.0.0.1/$port"
start=$(now_ms)
timeout 5 cat <&"$silent" > /dev/null || fail "silent client: not closed within 5 s"
elapsed=$(($(now_ms) - start))
exec {silent}>&-
((elapsed >= 350 && elapsed < 3000)) || fail "silent client closed after $elapsed ms"
pass "silent client: EOF after $elapsed ms (request deadline 500 ms)"

python3 - "$port" "$deadlines_pid" << 'EOF' || fail "deadline clients"
import os, select, socket, sys, time
port, server_pid = int(sys.argv[1]), int(sys.argv[2])

def server_fds():
    return len(os.listdir(f"/proc/{server_pid}/fd"))

def closed(s):
    try:
        return bool(select.select([s], [], [], 0)[0]) and s.recv(65536) == b""
    except ConnectionResetError:
        return True

# Slowloris: a byte every 50 ms; the deadline is for the whole request, not per byte.
s = socket.create_connection(("127.0.0.1", port))
start = time.monotonic()
request = b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-Pad: " + b"a" * 200 + b"\r\n\r\n"
gone = False
for b in request:
    try:
        s.send(bytes([b]))
    except (BrokenPipeError, ConnectionResetError):
        gone = True
    if gone or closed(s):
        break
    time.sleep(0.05)
took = time.monotonic() - start
assert took < 2.0, f"slowloris kept the connection for {took:.2f} s"
print(f"ok: slowloris: closed after {took * 1000:.0f} ms (request deadline 500 ms)")

# Idle keep-alive: a request, its response, then silence: closed after ~700 ms.
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /style.css HTTP/1.1\r\nHost: t\r\n\r\n")
data = b""
while not data.endswith(b"}\n"):  # the end of style.css
    chunk = s.recv(65536)
    assert chunk, "closed before the response"
    data += chunk
start = time.monotonic()
s.settimeout(5)
assert s.recv(1) == b"", "data after the response"
took = time.monotonic() - start
assert 0.5 < took < 3.0, f"idle connection closed after {took:.2f} s"
print(f"ok: idle keep-alive: closed after {took * 1000:.0f} ms (idle deadline 700 ms)")

# A client that stops reading a 64 MiB file is dropped at the send deadline, and the server
# keeps neither the connection's socket nor the file open afterwards.
fds_before = server_fds()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
time.sleep(2.5)
s.settimeout(10)
total = 0
try:
    while chunk := s.recv(1 << 20):
        total += len(chunk)
except ConnectionResetError:
    pass
assert total < 64 << 20, f"the whole file arrived ({total} bytes)"
s.close()
for _ in range(100):
    if server_fds() <= fds_before:
        break
    time.sleep(0.05)
assert server_fds() <= fds_before, f"server fds: {fds_before} before, {server_fds()} after"
print(f"ok: stalled reader: dropped after {total} of {64 << 20} bytes (send deadline 500 ms),"
      f" server fds {fds_before} -> {server_fds()}")
EOF
get 200 /index.html
stop_server TERM "$deadlines_pid" deadlines

# ---- --threads 2: one io_context per thread, SO_REUSEPORT acceptors ----
start_server threads --port 0 --root "$root" --threads 2
threads_pid=$pid
(($(find "/proc/$threads_pid/task" -mindepth 1 -maxdepth 1 | wc -l) >= 3)) ||
  fail "--threads 2: fewer than 3 threads"
for _ in $(seq 8); do
  get 200 /random.bin
  cmp -s "$dir/body" "$root/random.bin" || fail "--threads 2: body differs"
done
get 200 /echo --data-binary "@$root/random.bin"
cmp -s "$dir/body" "$root/random.bin" || fail "--threads 2: echo differs"
listeners=$(awk -v p=":$(printf '%04X' "$port")" '$2 ~ p"$" && $4 == "0A"' /proc/net/tcp | wc -l)
((listeners == 2)) || fail "--threads 2: $listeners listening sockets on port $port, expected 2"
run_wrk -t1 -c16 -d1s "$url/index.html"
busy=0 # threads that did real work (>= 50 ms of CPU): SO_REUSEPORT spread the connections
for task in "/proc/$threads_pid/task/"*; do
  read -r -a stat < <(sed 's/^.*) //' "$task/stat") # from field 3 (state) on
  ((stat[11] + stat[12] >= 5)) && busy=$((busy + 1))
done
((busy >= 2)) || fail "--threads 2: the load ran on $busy thread(s)"
pass "--threads 2: two SO_REUSEPORT listeners, load served by $busy threads"
stop_server TERM "$threads_pid" threads

echo "http_server: all checks passed"
