#!/usr/bin/env bash
# Static checks of the generated Swift bindings (no Swift compiler exists on Linux CI):
#   1. cargo build --workspace                   -> target/debug/libmizan_ffi.so (unstripped)
#   2. uniffi-bindgen generate --language swift  -> ios/build/generated/swift
#   3. check_swift.py: tree-sitter-swift parse, gcc header compile, nm symbol coverage,
#      contract version + API checksums through ctypes.
# Last line printed: "swift: N passed, M failed". Exits non-zero on any failure.
#
# Env: MIZAN_TOOLS_DIR (cache for the Python venv), MIZAN_SKIP_CARGO_BUILD=1 (use the existing
#      target/debug library), PYTHON (interpreter used to create the venv; default python3).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
cd "$ROOT"

TOOLS_DIR="${MIZAN_TOOLS_DIR:-$HOME/.cache/mizan-tools}"
PY_PKGS=(tree-sitter==0.26.1 tree-sitter-swift==0.7.4 tree-sitter-kotlin==1.1.0)
VENV="$TOOLS_DIR/swift-check-venv"
GEN_DIR="$ROOT/ios/build/generated/swift"
LIB="$ROOT/target/debug/libmizan_ffi.so"

fail() { echo "check-swift: $*" >&2; echo "swift: 0 passed, 1 failed"; exit 1; }

# These checks stand in for a Swift compiler on Linux (ELF symbols, GNU nm); a Mac has the real thing.
[[ "$(uname -s)" != Darwin ]] || fail "on macOS, build and run the real package instead: ios/scripts/test-swift.sh"

for tool in gcc nm; do
  command -v "$tool" >/dev/null || fail "$tool is required (Debian: gcc, binutils)"
done

# ---- Python venv with the pinned tree-sitter packages (kept out of the system site-packages) ----
stamp="$VENV/.mizan-pins"
if [[ ! -x "$VENV/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "${PY_PKGS[*]}" ]] \
   || ! "$VENV/bin/python" -c 'import tree_sitter, tree_sitter_swift, tree_sitter_kotlin' 2>/dev/null; then
  echo "== creating $VENV (${PY_PKGS[*]})" >&2
  rm -rf "$VENV"
  mkdir -p "$TOOLS_DIR"
  "${PYTHON:-python3}" -m venv "$VENV" || fail "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_PKGS[@]}" \
    || fail "pip install ${PY_PKGS[*]} failed"
  echo "${PY_PKGS[*]}" > "$stamp"
fi

# ---- host library + Swift bindings ----
if [[ "${MIZAN_SKIP_CARGO_BUILD:-0}" != 1 ]]; then
  echo "== cargo build --workspace" >&2
  cargo build --workspace || fail "cargo build --workspace failed"
fi
[[ -f "$LIB" ]] || fail "$LIB not found"

echo "== uniffi-bindgen generate --language swift" >&2
rm -rf "$GEN_DIR"
mkdir -p "$GEN_DIR"
"$ROOT/target/debug/uniffi-bindgen" generate --no-format \
  --library "$LIB" --language swift --out-dir "$GEN_DIR" || fail "uniffi-bindgen (swift) failed"

echo "== static checks" >&2
exec "$VENV/bin/python" "$SCRIPT_DIR/check_swift.py" --lib "$LIB" --dir "$GEN_DIR"
