#!/usr/bin/env bash
# Builds the Android native libraries and the Kotlin bindings the Gradle module consumes:
#
#   android/generated/jniLibs/{arm64-v8a,armeabi-v7a,x86_64}/libmizan_ffi.so   (cargo ndk, profile release-mobile)
#   android/generated/kotlin/**.kt                                   (uniffi-bindgen, from the host debug build)
#
# Outside build/, so that `./gradlew clean` does not delete them; the Gradle module runs this script
# before every build anyway (task buildRustLibraries).
#
# Needs an Android NDK (r23+; r27+ recommended) in ANDROID_NDK_HOME. Installs cargo-ndk and the
# rustup targets when missing. Then: cd android && ./gradlew assembleRelease (see android/README.md).
#
# Env: ANDROID_NDK_HOME (required), MIZAN_ANDROID_ABIS (default "arm64-v8a armeabi-v7a x86_64"),
#      MIZAN_ANDROID_API (default 24 = minSdk), CARGO_NDK_VERSION (default 4.1.2),
#      MIZAN_CARGO_FEATURE_ARGS (default "--no-default-features": the bindgen CLI is not needed on device).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
cd "$ROOT"

die() { echo "build-android: ERROR: $*" >&2; exit 1; }

if [[ -z "${ANDROID_NDK_HOME:-}" ]]; then
  die "ANDROID_NDK_HOME is not set. Install the Android NDK (Android Studio > SDK Manager > NDK, or
  sdkmanager 'ndk;27.2.12479018') and export ANDROID_NDK_HOME=\$ANDROID_HOME/ndk/<version>."
fi
[[ -d "$ANDROID_NDK_HOME/toolchains/llvm/prebuilt" ]] \
  || die "ANDROID_NDK_HOME=$ANDROID_NDK_HOME does not look like an NDK (no toolchains/llvm/prebuilt)."
export ANDROID_NDK_HOME

read -r -a ABIS <<< "${MIZAN_ANDROID_ABIS:-arm64-v8a armeabi-v7a x86_64}"
API="${MIZAN_ANDROID_API:-24}"
CARGO_NDK_VERSION="${CARGO_NDK_VERSION:-4.1.2}"
read -r -a FEATURE_ARGS <<< "${MIZAN_CARGO_FEATURE_ARGS---no-default-features}"
OUT="$ROOT/android/generated/jniLibs"
GEN_DIR="$ROOT/android/generated/kotlin"
# 16 KB pages (required on Android 15+ devices); identical functions folded into one
# (lld's --icf=all: 18 KB less; Rust promises no distinct addresses for distinct functions).
# tests/check-mobile-size.sh links the host library the same way.
LINK_FLAGS="-C link-arg=-Wl,-z,max-page-size=16384 -C link-arg=-Wl,--icf=all"

# ---- tools ----
if ! cargo ndk --version 2>/dev/null | grep -q "cargo-ndk $CARGO_NDK_VERSION"; then
  echo "== cargo install cargo-ndk $CARGO_NDK_VERSION" >&2
  cargo install cargo-ndk --version "$CARGO_NDK_VERSION" --locked
fi
triples=()
for abi in "${ABIS[@]}"; do
  case "$abi" in
    arm64-v8a)   triples+=(aarch64-linux-android) ;;
    armeabi-v7a) triples+=(armv7-linux-androideabi) ;;
    x86_64)      triples+=(x86_64-linux-android) ;;
    x86)         triples+=(i686-linux-android) ;;
    *) die "unknown ABI $abi" ;;
  esac
done
if command -v rustup >/dev/null; then
  installed="$(rustup target list --installed)"
  for t in "${triples[@]}"; do
    grep -qx "$t" <<< "$installed" || rustup target add "$t"
  done
fi

# ---- native libraries ----
# Per-target rustflags (do not touch host build scripts/proc-macros); appended to any the caller set.
for t in "${triples[@]}"; do
  var="CARGO_TARGET_$(tr '[:lower:]-' '[:upper:]_' <<< "$t")_RUSTFLAGS"
  export "$var=${!var:+${!var} }$LINK_FLAGS"
done

rm -rf "$OUT"
mkdir -p "$OUT"
target_args=()
for abi in "${ABIS[@]}"; do target_args+=(-t "$abi"); done
echo "== cargo ndk ${target_args[*]} -P $API -o $OUT build -p mizan-ffi --lib --profile release-mobile ${FEATURE_ARGS[*]}" >&2
cargo ndk "${target_args[@]}" -P "$API" -o "$OUT" \
  build -p mizan-ffi --lib --profile release-mobile "${FEATURE_ARGS[@]}"

for abi in "${ABIS[@]}"; do
  so="$OUT/$abi/libmizan_ffi.so"
  [[ -f "$so" ]] || die "missing $so"
  printf '   %-12s %s bytes\n' "$abi" "$(wc -c < "$so")" >&2
done

# 64-bit ABIs must have every LOAD segment aligned to >= 16 KB.
python3 "$SCRIPT_DIR/check-so-alignment.py" "$OUT" >&2 || die "a library is not aligned for 16 KB pages"

# ---- Kotlin bindings, generated from the unstripped host build (release-mobile strips metadata) ----
echo "== cargo build -p mizan-ffi (host, for uniffi-bindgen)" >&2
cargo build -p mizan-ffi
rm -rf "$GEN_DIR"
mkdir -p "$GEN_DIR"
cargo run -q -p mizan-ffi --bin uniffi-bindgen -- generate --no-format --config "$ROOT/android/uniffi-android.toml" \
  --library "$ROOT/target/debug/libmizan_ffi.$([[ "$(uname -s)" == Darwin ]] && echo dylib || echo so)" --language kotlin --out-dir "$GEN_DIR"

echo "build-android: jniLibs in ${OUT#"$ROOT"/}, Kotlin in ${GEN_DIR#"$ROOT"/}" >&2
echo "build-android: next: (cd android && ./gradlew assembleRelease)  -> android/build/outputs/aar/ (Gradle runs this script itself)" >&2
