#!/usr/bin/env bash
# macOS only. Builds ios/build/MizanFFI.xcframework (static libmizan_ffi.a, profile release-mobile)
# and the Swift bindings, then copies mizan_ffi.swift to ios/Sources/Mizan/ for Package.swift.
#
#   slices: ios-arm64 (aarch64-apple-ios), ios-arm64_x86_64-simulator (aarch64-apple-ios-sim + x86_64-apple-ios, lipo'd),
#           macos-arm64_x86_64 (aarch64-apple-darwin + x86_64-apple-darwin, lipo'd: for `swift test` on a Mac)
#
# Env: IPHONEOS_DEPLOYMENT_TARGET (default 15.0, as in Package.swift),
#      MIZAN_CARGO_FEATURE_ARGS (default "--no-default-features": the bindgen CLI is not needed on device).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
cd "$ROOT"

die() { echo "build-xcframework: ERROR: $*" >&2; exit 1; }

[[ "$(uname -s)" == Darwin ]] || die "needs macOS with Xcode (xcodebuild, lipo); on Linux use ios/scripts/check-swift.sh"
for tool in xcodebuild lipo cargo; do command -v "$tool" >/dev/null || die "$tool not found"; done

export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"
export MACOSX_DEPLOYMENT_TARGET="${MACOSX_DEPLOYMENT_TARGET:-12.0}"
read -r -a FEATURE_ARGS <<< "${MIZAN_CARGO_FEATURE_ARGS---no-default-features}"
PROFILE=release-mobile
DEVICE=aarch64-apple-ios
SIMS=(aarch64-apple-ios-sim x86_64-apple-ios)
MACS=(aarch64-apple-darwin x86_64-apple-darwin)
BUILD="$ROOT/ios/build"
GEN_DIR="$BUILD/generated/swift"
HEADERS="$BUILD/xcframework-headers"
XCF="$BUILD/MizanFFI.xcframework"
LIBNAME=libmizan_ffi.a

# ---- Rust targets ----
if command -v rustup >/dev/null; then
  installed="$(rustup target list --installed)"
  for t in "$DEVICE" "${SIMS[@]}" "${MACS[@]}"; do
    grep -qx "$t" <<< "$installed" || rustup target add "$t"
  done
fi

# ---- static libraries ----
for t in "$DEVICE" "${SIMS[@]}" "${MACS[@]}"; do
  echo "== cargo build --target $t --profile $PROFILE" >&2
  cargo build -p mizan-ffi --lib --profile "$PROFILE" --target "$t" "${FEATURE_ARGS[@]}"
done
mkdir -p "$BUILD/ios-simulator"
sim_libs=()
for t in "${SIMS[@]}"; do sim_libs+=("$ROOT/target/$t/$PROFILE/$LIBNAME"); done
lipo -create "${sim_libs[@]}" -output "$BUILD/ios-simulator/$LIBNAME"
mkdir -p "$BUILD/macos"
mac_libs=()
for t in "${MACS[@]}"; do mac_libs+=("$ROOT/target/$t/$PROFILE/$LIBNAME"); done
lipo -create "${mac_libs[@]}" -output "$BUILD/macos/$LIBNAME"

# ---- Swift bindings, header and module map, from the unstripped host build ----
echo "== uniffi-bindgen generate --language swift" >&2
cargo build -p mizan-ffi
host_lib="$ROOT/target/debug/libmizan_ffi.dylib"
[[ -f "$host_lib" ]] || die "$host_lib not found"
rm -rf "$GEN_DIR"
mkdir -p "$GEN_DIR"
cargo run -q -p mizan-ffi --bin uniffi-bindgen -- generate --no-format \
  --library "$host_lib" --language swift --out-dir "$GEN_DIR"

# Headers go in a subdirectory named after the module, as module.modulemap: two xcframeworks that
# both put module.modulemap at the top of Headers/ collide in Xcode ("Multiple commands produce").
rm -rf "$HEADERS"
mkdir -p "$HEADERS/mizan_ffiFFI"
cp "$GEN_DIR/mizan_ffiFFI.h" "$HEADERS/mizan_ffiFFI/"
cp "$GEN_DIR/mizan_ffiFFI.modulemap" "$HEADERS/mizan_ffiFFI/module.modulemap"

# ---- XCFramework ----
rm -rf "$XCF"
xcodebuild -create-xcframework \
  -library "$ROOT/target/$DEVICE/$PROFILE/$LIBNAME" -headers "$HEADERS" \
  -library "$BUILD/ios-simulator/$LIBNAME" -headers "$HEADERS" \
  -library "$BUILD/macos/$LIBNAME" -headers "$HEADERS" \
  -output "$XCF"

mkdir -p "$ROOT/ios/Sources/Mizan"
cp "$GEN_DIR/mizan_ffi.swift" "$ROOT/ios/Sources/Mizan/mizan_ffi.swift"

# ---- the zip and checksum a release uploads (ios/scripts/set-package-release.py puts them in Package.swift) ----
bash "$SCRIPT_DIR/package-xcframework.sh" "$XCF"

echo "build-xcframework: ${XCF#"$ROOT"/} (and .zip, .zip.sha256) and ios/Sources/Mizan/mizan_ffi.swift are ready" >&2
echo "build-xcframework: next: MIZAN_LOCAL_XCFRAMEWORK=1 xcodebuild build -scheme Mizan -destination 'generic/platform=iOS Simulator' (at the repository root)" >&2
