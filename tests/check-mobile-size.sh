#!/usr/bin/env bash
# Builds the mobile library as apps ship it (release-mobile: the engine at opt-level 3 and its
# dependencies at z, no LTO, stripped, panic=unwind, identical code folded; the host target stands in
# for the Android ones) and fails if it is larger than the budget. Usage: tests/check-mobile-size.sh [BUDGET_BYTES] (default 1,500,000).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUDGET="${1:-1500000}"
# Linked as android/scripts/build-android.sh links the Android libraries (lld):
# identical code folded, 16 KB pages.
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C link-arg=-Wl,--icf=all -C link-arg=-Wl,-z,max-page-size=16384"
cargo build -p mizan-ffi --profile release-mobile --no-default-features --lib
LIB=target/release-mobile/libmizan_ffi.so
[[ -f "$LIB" ]] || LIB=target/release-mobile/libmizan_ffi.dylib
SIZE=$(wc -c < "$LIB")
echo "mobile library: $SIZE bytes (budget $BUDGET)"
if (( SIZE > BUDGET )); then
  echo "check-mobile-size: $LIB is $SIZE bytes, past the $BUDGET-byte budget" >&2
  exit 1
fi
