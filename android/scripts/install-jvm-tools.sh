#!/usr/bin/env bash
# Installs (only when missing) what the JVM tests of the Kotlin bindings need:
#   - the Kotlin compiler, from the npm package kotlin-compiler@$KOTLIN_VERSION, unpacked into
#     ${MIZAN_TOOLS_DIR:-$HOME/.cache/mizan-tools}/kotlinc-$KOTLIN_VERSION
#   - Debian's libjna-java (JNA 5.13) and junit5 (JUnit Jupiter + console launcher)
# Writes the paths it uses to $MIZAN_TOOLS_DIR/jvm-tools.env (sourced by test-jvm.sh) and prints them.
# Idempotent: when everything is present it only checks files and exits (well under a second).
set -euo pipefail

KOTLIN_VERSION="${KOTLIN_VERSION:-2.4.20}"
TOOLS_DIR="${MIZAN_TOOLS_DIR:-$HOME/.cache/mizan-tools}"
KOTLIN_HOME="$TOOLS_DIR/kotlinc-$KOTLIN_VERSION"
JAVA_DIR=/usr/share/java

JNA_JAR="$JAVA_DIR/jna.jar"
JUNIT_API_JAR="$JAVA_DIR/junit-jupiter-api.jar"
APIGUARDIAN_JAR="$JAVA_DIR/apiguardian-api.jar"
OPENTEST4J_JAR="$JAVA_DIR/opentest4j.jar"
JUNIT_CONSOLE_JAR="$JAVA_DIR/junit-platform-console-standalone.jar"

log() { echo "[install-jvm-tools] $*" >&2; }
die() { echo "[install-jvm-tools] ERROR: $*" >&2; exit 1; }

mkdir -p "$TOOLS_DIR"

# ---- Kotlin compiler (npm package, unpacked; no node needed at run time) ----
if [[ ! -x "$KOTLIN_HOME/bin/kotlinc-jvm" || ! -f "$KOTLIN_HOME/lib/kotlin-stdlib.jar" \
      || ! -f "$KOTLIN_HOME/lib/kotlin-test.jar" ]]; then
  command -v npm >/dev/null || die "npm is needed to fetch kotlin-compiler@$KOTLIN_VERSION"
  log "fetching kotlin-compiler@$KOTLIN_VERSION (npm pack, ~90 MB)"
  tmp="$(mktemp -d "$TOOLS_DIR/.kotlinc-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null)
  tgz="$(ls "$tmp"/kotlin-compiler-*.tgz)"
  mkdir "$tmp/unpacked"
  # The package is the plain kotlinc distribution under package/: bin/kotlinc-jvm, lib/*.jar.
  tar -xzf "$tgz" -C "$tmp/unpacked" --strip-components=1
  chmod +x "$tmp/unpacked"/bin/* 2>/dev/null || true
  [[ -x "$tmp/unpacked/bin/kotlinc-jvm" ]] || die "unexpected layout in $tgz (no bin/kotlinc-jvm)"
  rm -rf "$KOTLIN_HOME"
  mv "$tmp/unpacked" "$KOTLIN_HOME"
  rm -rf "$tmp"
  trap - EXIT
fi

# ---- JNA + JUnit 5 from Debian ----
need_apt=()
[[ -f "$JNA_JAR" ]] || need_apt+=(libjna-java)
if [[ ! -f "$JUNIT_API_JAR" || ! -f "$JUNIT_CONSOLE_JAR" || ! -f "$APIGUARDIAN_JAR" \
      || ! -f "$OPENTEST4J_JAR" ]]; then
  need_apt+=(junit5)
fi
command -v java >/dev/null || need_apt+=(openjdk-17-jdk-headless)
if (( ${#need_apt[@]} > 0 )); then
  # Without apt (macOS): say what to install and where this script looks for it.
  command -v apt-get >/dev/null || die "missing ${need_apt[*]} and no apt-get: install a JDK 17, and put JNA and the JUnit 5 jars at $JAVA_DIR ($(basename "$JNA_JAR"), $(basename "$JUNIT_API_JAR"), $(basename "$JUNIT_CONSOLE_JAR"), $(basename "$APIGUARDIAN_JAR"), $(basename "$OPENTEST4J_JAR")); on macOS: brew install openjdk@17"
  SUDO=""
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to apt-get install ${need_apt[*]}"
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Update the package lists only when a package is missing (and the lists can't provide it).
  if ! apt-cache show "${need_apt[@]}" >/dev/null 2>&1; then
    log "apt-get update"
    $SUDO apt-get update -qq
  fi
  log "apt-get install ${need_apt[*]}"
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null; then
    log "install failed; refreshing package lists and retrying"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  fi
fi

for f in "$KOTLIN_HOME/bin/kotlinc-jvm" "$KOTLIN_HOME/lib/kotlin-stdlib.jar" \
         "$KOTLIN_HOME/lib/kotlin-test.jar" "$JNA_JAR" "$JUNIT_API_JAR" "$APIGUARDIAN_JAR" \
         "$OPENTEST4J_JAR" "$JUNIT_CONSOLE_JAR"; do
  [[ -e "$f" ]] || die "missing after install: $f"
done

ENV_FILE="$TOOLS_DIR/jvm-tools.env"
cat > "$ENV_FILE.tmp" <<ENV
KOTLIN_HOME='$KOTLIN_HOME'
KOTLINC='$KOTLIN_HOME/bin/kotlinc-jvm'
KOTLIN_STDLIB_JAR='$KOTLIN_HOME/lib/kotlin-stdlib.jar'
KOTLIN_TEST_JAR='$KOTLIN_HOME/lib/kotlin-test.jar'
KOTLIN_TEST_JUNIT5_JAR='$KOTLIN_HOME/lib/kotlin-test-junit5.jar'
KOTLINX_COROUTINES_JAR='$KOTLIN_HOME/lib/kotlinx-coroutines-core-jvm.jar'
JNA_JAR='$JNA_JAR'
JUNIT_API_JAR='$JUNIT_API_JAR'
APIGUARDIAN_JAR='$APIGUARDIAN_JAR'
OPENTEST4J_JAR='$OPENTEST4J_JAR'
JUNIT_CONSOLE_JAR='$JUNIT_CONSOLE_JAR'
ENV
mv "$ENV_FILE.tmp" "$ENV_FILE"

log "using:"
sed 's/^/[install-jvm-tools]   /' "$ENV_FILE" >&2
log "env file: $ENV_FILE"
