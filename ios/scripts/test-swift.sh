#!/usr/bin/env bash
# macOS only. Runs the XCTest tests (ios/Tests/MizanTests) with `swift test`: builds the XCFramework
# (its macOS slice is what the tests link) and the demo shop's signed pack they read, then runs
# them with MIZAN_FIXTURES pointing at it. On Linux, ios/scripts/check-swift.sh checks them statically.
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
cd "$ROOT"

[[ "$(uname -s)" == Darwin ]] || { echo "test-swift: needs macOS with Xcode; on Linux use ios/scripts/check-swift.sh" >&2; exit 1; }
bash "$SCRIPT_DIR/build-xcframework.sh"
FIXTURES="$ROOT/ios/build/fixtures"
mkdir -p "$FIXTURES"
cargo run -q -p mizan-cli -- pack demo --out "$FIXTURES/demo.pack" --public-key-out "$FIXTURES/demo.pub"
MIZAN_LOCAL_XCFRAMEWORK=1 MIZAN_FIXTURES="$FIXTURES" swift test
