#!/usr/bin/env bash
# Runs every test: Rust (unit + integration), the MovieLens fetch script, Kotlin bindings on the JVM, Swift
# static checks, the Spark job, a smoke of the fuzz targets, the inspector's pages in headless Chromium.
# Installs what it needs (Kotlin compiler, JNA, JUnit, tree-sitter, pyspark, cargo-fuzz, cargo-about, chromium).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

echo "== cargo build --workspace"
cargo build --workspace --all-targets
echo "== cargo test --workspace"
cargo test --workspace
echo "== fuzz targets (a few seconds each)"
bash tests/fuzz-smoke.sh
echo "== the core library without the debug API (as a release build may ship it)"
cargo test -p mizan --lib debug_api
echo "== mobile library size"
bash tests/check-mobile-size.sh
echo "== third-party licence notices of the mobile library (cargo-about)"
bash tests/check-notices.sh
echo "== the model inspector's pages in headless Chromium"
bash tests/inspect-report.sh
echo "== MovieLens fetch script, 16 KB page alignment check (Python)"
python3 -m unittest tests/test_fetch.py tests/test_so_alignment.py
echo "== Spark job against the Rust packer (PySpark, local[2])"
bash examples/spark/test.sh
echo "== Kotlin bindings (JVM)"
bash android/scripts/test-jvm.sh
echo "== Swift bindings (static checks)"
bash ios/scripts/check-swift.sh
