#!/usr/bin/env bash
# Runs every test: Rust (unit + integration), the MovieLens fetch script, Kotlin bindings on the JVM, Swift
# static checks, the Spark job, a smoke of the fuzz targets. Installs what it needs (Kotlin compiler, JNA,
# JUnit, tree-sitter, pyspark, cargo-fuzz).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

echo "== cargo build --workspace"
cargo build --workspace --all-targets
echo "== cargo test --workspace"
cargo test --workspace
echo "== fuzz targets (a few seconds each)"
bash tests/fuzz-smoke.sh
echo "== mobile library size"
bash tests/check-mobile-size.sh
echo "== MovieLens fetch script (Python)"
python3 -m unittest tests/test_fetch.py
echo "== Spark job against the Rust packer (PySpark, local[2])"
bash examples/spark/test.sh
echo "== Kotlin bindings (JVM)"
bash android/scripts/test-jvm.sh
echo "== Swift bindings (static checks)"
bash ios/scripts/check-swift.sh
