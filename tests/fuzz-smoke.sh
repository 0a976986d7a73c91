#!/usr/bin/env bash
# A seconds-long smoke of every cargo-fuzz target (core/fuzz), over a copy of its committed
# corpus: it proves the targets build and that the corpus (including past findings) runs clean.
# The long runs are recorded in BENCHMARKS.md. Installs cargo-fuzz (pinned) and a C++ compiler
# for libFuzzer when missing; cargo-fuzz's sanitizer flags run on the stable toolchain with
# RUSTC_BOOTSTRAP=1. Usage: tests/fuzz-smoke.sh [SECONDS_PER_TARGET] (default 5).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET="${1:-5}"
fail() { echo "fuzz-smoke: $*" >&2; exit 1; }

if ! command -v c++ >/dev/null; then
  SUDO=""; [[ "$(id -u)" == 0 ]] || SUDO=sudo
  $SUDO apt-get update -q && $SUDO apt-get install -y -q g++ || fail "installing a C++ compiler failed"
fi
if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz 0.13.2" ]]; then
  cargo install cargo-fuzz --locked --version 0.13.2 || fail "installing cargo-fuzz failed"
fi
export RUSTC_BOOTSTRAP=1
cd "$ROOT/core/fuzz"
cargo fuzz build -O
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for target in $(cargo fuzz list); do
  mkdir -p "$WORK/$target"
  [[ -d "corpus/$target" ]] && cp -r "corpus/$target/." "$WORK/$target/"
  cargo fuzz run -O "$target" "$WORK/$target" -- -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=4096 -max_len=8192 \
    > "$WORK/$target.log" 2>&1 || { tail -30 "$WORK/$target.log" >&2; fail "$target found a failure"; }
  echo "fuzz $target: $(grep -o 'Done [0-9]* runs' "$WORK/$target.log" | tail -1)"
done
