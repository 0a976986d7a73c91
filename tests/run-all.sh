#!/usr/bin/env bash
# Runs every test: Rust (unit + integration), Kotlin bindings on the JVM, Swift
# static checks. Installs what it needs (Kotlin compiler, JNA, JUnit, tree-sitter).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

echo "== cargo build --workspace"
cargo build --workspace --all-targets
echo "== cargo test --workspace"
cargo test --workspace
echo "== Kotlin bindings (JVM)"
bash android/scripts/test-jvm.sh
echo "== Swift bindings (static checks)"
bash ios/scripts/check-swift.sh
