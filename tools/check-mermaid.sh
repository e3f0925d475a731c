#!/usr/bin/env bash
# Renders every Mermaid block of README.md and docs/*.md with @mermaid-js/mermaid-cli, driving
# Debian's chromium (puppeteer's own browser download is skipped): a diagram that does not parse
# fails. The SVGs go to a temporary directory and are not kept.
# Environment: MERMAID_CLI_DIR (where npm installs the CLI, default build/mermaid-cli).
set -euo pipefail
# shellcheck source=tools/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages chromium
ensure_node

cli_dir="${MERMAID_CLI_DIR:-$ASIO_URING_ROOT/build/mermaid-cli}"
mmdc="$cli_dir/node_modules/.bin/mmdc"
if [[ ! -x "$mmdc" ]]; then
  mkdir -p "$cli_dir"
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --prefix "$cli_dir" \
    @mermaid-js/mermaid-cli@11
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
printf '{"executablePath": "%s", "args": ["--no-sandbox", "--disable-gpu"]}\n' \
  "$(command -v chromium)" > "$out/puppeteer.json"

cd "$ASIO_URING_ROOT"
total=0
failed=()
for doc in README.md docs/*.md; do
  blocks=$(grep -c '^```mermaid' "$doc" || true)
  ((blocks > 0)) || continue
  name="$(basename "$doc" .md)"
  if ! "$mmdc" -q -p "$out/puppeteer.json" -i "$doc" -o "$out/$name.md" > "$out/$name.log" 2>&1; then
    grep -v '^    at ' "$out/$name.log" >&2 || true
    failed+=("$doc")
    continue
  fi
  rendered=$(find "$out" -name "$name-*.svg" | wc -l)
  if ((rendered != blocks)); then
    echo "$doc: $blocks Mermaid blocks, $rendered rendered" >&2
    failed+=("$doc")
    continue
  fi
  echo "$doc: $blocks diagrams rendered"
  total=$((total + blocks))
done
if ((${#failed[@]} > 0)); then
  printf 'Mermaid diagrams that do not render: %s\n' "${failed[*]}" >&2
  exit 1
fi
echo "all $total Mermaid diagrams render"
