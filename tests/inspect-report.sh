#!/usr/bin/env bash
# The model inspector's pages in a real browser: the demo writes a shopper's
# snapshots and pages, `mizan inspect` renders the comparison again from the
# JSON, and headless Chromium (Debian's `chromium`, installed here if missing)
# loads each page offline and checks every section rendered, the console is
# clean and nothing was requested. A page with an external image and a console
# error must fail the same check. Screenshots: target/inspector/.
# Usage: tests/inspect-report.sh (after `cargo build --workspace`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (apt)"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
NODE_FLAGS=()
node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' || NODE_FLAGS=(--experimental-websocket)

OUT="$ROOT/target/inspector"
rm -rf "$OUT" && mkdir -p "$OUT"
MIZAN="$ROOT/target/debug/mizan"
"$MIZAN" demo --report-dir "$OUT" > "$OUT/demo.txt"
grep -q "inspector page" "$OUT/demo.txt"
"$MIZAN" inspect "$OUT/amal-before.json" "$OUT/amal.json" --html "$OUT/diff-from-json.html" > /dev/null
cmp -s "$OUT/amal-diff.html" "$OUT/diff-from-json.html" || { echo "the page rendered from the JSON differs from the demo's" >&2; exit 1; }

check() { node "${NODE_FLAGS[@]}" tests/inspect-report.mjs "$@"; }
check --html "$OUT/amal.html" --sections glance,interests,engagement,weights,recommendations,why-not --screenshot "$OUT/amal.png"
check --html "$OUT/amal-diff.html" --sections list-changes,interests-moved,weights-moved,store-moved --screenshot "$OUT/amal-diff.png"

# The check itself can fail: an external image, a script logging an error.
cat > "$OUT/bad.html" <<'EOF'
<!DOCTYPE html><html><body><section id="a"><h2>A</h2><p>text</p><img src="https://example.invalid/x.png"></section>
<script>console.error("broken")</script></body></html>
EOF
if check --html "$OUT/bad.html" --sections a,b 2> "$OUT/bad.txt"; then
  echo "the browser check passed a page with an external URL and a console error" >&2
  exit 1
fi
for expected in "https" "console errors" "section #b is missing"; do
  grep -q "$expected" "$OUT/bad.txt" || { echo "the browser check missed: $expected" >&2; cat "$OUT/bad.txt" >&2; exit 1; }
done
echo "inspector pages: ok (screenshots in $OUT)"
