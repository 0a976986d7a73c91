#!/usr/bin/env bash
# bindings/THIRD_PARTY_NOTICES.md must be what cargo-about generates now from bindings/about.toml and
# bindings/about.hbs (every crate the mobile library links, for Android and iOS targets, with its
# licence text): fails with a diff when a dependency changed and the notices did not.
#   bash tests/check-notices.sh          check
#   bash tests/check-notices.sh --write  regenerate
# Installs cargo-about (pinned) when missing; reads licences from the crates' own files (--offline).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VERSION=0.9.3
NOTICES=bindings/THIRD_PARTY_NOTICES.md

if [[ "$(cargo about --version 2>/dev/null)" != "cargo-about $VERSION" ]]; then
  echo "check-notices: installing cargo-about $VERSION" >&2
  cargo install --quiet --locked cargo-about --version "$VERSION" --features cli
fi
# cargo-about reads `cargo metadata`, which wants every locked crate on disk (any target's).
cargo fetch --locked --quiet

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
cargo about generate --offline --locked --no-default-features -m bindings/Cargo.toml \
  -c bindings/about.toml bindings/about.hbs -o "$out" 2>/dev/null
if [[ "${1:-}" == --write ]]; then
  cp "$out" "$NOTICES"
  echo "check-notices: wrote $NOTICES"
elif diff -u "$NOTICES" "$out" > "$out.diff"; then
  echo "check-notices: $NOTICES is current ($(grep -c '^- ' "$NOTICES") entries)"
else
  head -40 "$out.diff" >&2
  rm -f "$out.diff"
  echo "check-notices: $NOTICES is out of date: run bash tests/check-notices.sh --write" >&2
  exit 1
fi
rm -f "$out.diff"
