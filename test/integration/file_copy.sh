#!/usr/bin/env bash
# Runs example/file_copy in each mode on a file of an awkward size and compares checksums.
# Usage: file_copy.sh <path to file_copy_example>
set -euo pipefail
copy="$1"
dir="$(mktemp -d /var/tmp/asio_uring_copy.XXXXXX)" # not tmpfs: O_DIRECT needs a real fs
trap 'rm -rf "$dir"' EXIT
head -c $((24 * 1024 * 1024 + 12345)) /dev/urandom > "$dir/src"
want="$(sha256sum < "$dir/src")"
run() {
  rm -f "$dir/dst"
  "$copy" "$dir/src" "$dir/dst" "$@"
  got="$(sha256sum < "$dir/dst")"
  if [[ "$got" != "$want" ]]; then
    echo "checksum mismatch with options: $*" >&2
    exit 1
  fi
}
run 8 256
run 1 4
run 16 64 --fixed
if "$copy" "$dir/src" "$dir/probe" 1 4 --direct > /dev/null 2>&1; then
  run 4 1024 --direct
  run 3 100 --direct --fixed
else
  echo "O_DIRECT not supported on $dir: skipped those modes"
fi
# A missing source is a clear error, not a crash.
if "$copy" "$dir/missing" "$dir/dst" 2> "$dir/err"; then
  echo "copying a missing file succeeded" >&2
  exit 1
fi
grep -q "No such file" "$dir/err"
echo "file_copy: all modes copied byte for byte"
