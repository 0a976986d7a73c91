#!/usr/bin/env bash
# Runs the Spark job's test (tests/test_spark.py): the job in Spark local[2] against the Rust
# packer on the same data. Installs what it needs: a JRE when java is missing (apt), and the
# pinned pyspark and numpy in a venv cached under $MIZAN_TOOLS_DIR (default ~/.cache/mizan-tools).
# Uses target/debug/mizan (build it first, as tests/run-all.sh does).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TOOLS_DIR="${MIZAN_TOOLS_DIR:-$HOME/.cache/mizan-tools}"
VENV="$TOOLS_DIR/spark-venv"
PKGS=(pyspark==4.3.0 numpy==2.4.6)

fail() { echo "test-spark: $*" >&2; exit 1; }

if ! command -v java >/dev/null; then
  SUDO=""; [[ "$(id -u)" == 0 ]] || SUDO=sudo
  $SUDO apt-get update -q && $SUDO apt-get install -y -q openjdk-17-jre-headless || fail "installing a JRE failed"
fi
if [[ "$(cat "$VENV/.pins" 2>/dev/null)" != "${PKGS[*]}" ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" || fail "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PKGS[@]}" || fail "pip install ${PKGS[*]} failed"
  echo "${PKGS[*]}" > "$VENV/.pins"
fi
[[ -x target/debug/mizan ]] || fail "target/debug/mizan not found: run cargo build --workspace first"
MIZAN_BIN="$ROOT/target/debug/mizan" SPARK_VENV="$VENV" "$VENV/bin/python" -m unittest -v tests/test_spark.py
