#!/usr/bin/env bash
# Zips an XCFramework for a Swift package binary target and writes its checksum beside it:
#   ios/scripts/package-xcframework.sh ios/build/MizanFFI.xcframework
#   -> ios/build/MizanFFI.xcframework.zip and ios/build/MizanFFI.xcframework.zip.sha256
# The checksum is what `swift package compute-checksum` prints (the zip's SHA-256), computed with
# sha256sum or shasum where there is no Swift toolchain. On macOS the zip is made with ditto (as
# Xcode expects: the framework directory at the top, resource forks left out), elsewhere with zip
# or Python's zipfile.
set -euo pipefail

die() { echo "package-xcframework: ERROR: $*" >&2; exit 1; }
[[ $# == 1 && -d "$1" && "$1" == *.xcframework ]] || die "usage: $0 PATH/NAME.xcframework"
XCF="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
ZIP="$XCF.zip"

rm -f "$ZIP" "$ZIP.sha256"
if command -v ditto >/dev/null; then
  ditto -c -k --sequesterRsrc --keepParent "$XCF" "$ZIP"
elif command -v zip >/dev/null; then
  (cd "$(dirname "$XCF")" && zip -qr -X "$ZIP" "$(basename "$XCF")")
else
  (cd "$(dirname "$XCF")" && python3 -m zipfile -c "$ZIP" "$(basename "$XCF")")
fi
if command -v swift >/dev/null && swift package compute-checksum "$ZIP" > "$ZIP.sha256" 2>/dev/null; then
  :
elif command -v sha256sum >/dev/null; then
  sha256sum "$ZIP" | cut -d' ' -f1 > "$ZIP.sha256"
else
  shasum -a 256 "$ZIP" | cut -d' ' -f1 > "$ZIP.sha256"
fi
echo "package-xcframework: $ZIP ($(cat "$ZIP.sha256"))" >&2
