#!/usr/bin/env bash
# Runs the Kotlin binding tests on the desktop JVM against the host (debug) build of mizan-ffi.
#
#   1. installs kotlinc / JNA / JUnit 5 when missing (install-jvm-tools.sh)
#   2. cargo build --workspace                       -> target/debug/libmizan_ffi.so, mizan, uniffi-bindgen
#   3. uniffi-bindgen generate --language kotlin      -> android/generated/kotlin (the Gradle module's source dir)
#   4. kotlinc: generated Kotlin + android/src/main/kotlin -> android/build/jvm/mizan-main.jar
#               $MIZAN_KOTLIN_TEST_DIR (default android/src/test/kotlin) -> android/build/jvm/mizan-tests.jar
#   5. JUnit 5 console launcher with -Djna.library.path=target/debug
#
# Last line printed: "kotlin: N passed, M failed" (", K skipped" added when some were skipped/aborted).
# Exits non-zero when M > 0, N == 0, or any step fails. Each jar is rebuilt only when its inputs change.
#
# Env: MIZAN_TOOLS_DIR (tool cache), MIZAN_KOTLIN_TEST_DIR (test sources), MIZAN_SKIP_CARGO_BUILD=1
#      (use the existing target/debug library), KOTLINC_OPTS / JAVA_TEST_OPTS (extra flags).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
cd "$ROOT"

TOOLS_DIR="${MIZAN_TOOLS_DIR:-$HOME/.cache/mizan-tools}"
TEST_DIR="${MIZAN_KOTLIN_TEST_DIR:-$ROOT/android/src/test/kotlin}"
JAVA_TEST_DIR="$ROOT/android/src/test/java"
MAIN_DIR="$ROOT/android/src/main/kotlin"
GEN_DIR="$ROOT/android/generated/kotlin"
OUT_DIR="$ROOT/android/build/jvm"
LIB_DIR="$ROOT/target/debug"
LIB="$LIB_DIR/libmizan_ffi.$([[ "$(uname -s)" == Darwin ]] && echo dylib || echo so)"

fail() { echo "test-jvm: $*" >&2; echo "kotlin: 0 passed, 1 failed"; exit 1; }
now() { date +%s.%N; }
step_t0=0
step() { step_t0="$(now)"; echo "== $*" >&2; }
done_step() { awk -v a="$step_t0" -v b="$(now)" 'BEGIN { printf "   (%.1f s)\n", b - a }' >&2; }

# ---- 1. tools ----
step "tools"
bash "$SCRIPT_DIR/install-jvm-tools.sh" || fail "installing the JVM tools failed"
# shellcheck disable=SC1091
source "$TOOLS_DIR/jvm-tools.env"
done_step

# ---- 2. the host cdylib (same features as `cargo build --workspace`) ----
if [[ "${MIZAN_SKIP_CARGO_BUILD:-0}" != 1 ]]; then
  step "cargo build --workspace"
  cargo build --workspace || fail "cargo build --workspace failed"
  done_step
fi
[[ -f "$LIB" ]] || fail "$LIB not found"

# The tests load the embedded demo shop's signed pack, written by the CLI.
FIXTURES="$ROOT/android/build/fixtures"
mkdir -p "$FIXTURES"
"$ROOT/target/debug/mizan" pack demo --out "$FIXTURES/demo.pack" --public-key-out "$FIXTURES/demo.pub" >&2 \
  || fail "writing the demo pack failed"

# ---- 3. Kotlin bindings (from the unstripped debug library) ----
step "uniffi-bindgen generate --language kotlin"
rm -rf "$GEN_DIR"
mkdir -p "$GEN_DIR"
"$ROOT/target/debug/uniffi-bindgen" generate --no-format \
  --library "$LIB" --language kotlin --out-dir "$GEN_DIR" \
  || fail "uniffi-bindgen (kotlin) failed"
done_step

mapfile -t GEN_SRCS < <(find "$GEN_DIR" -name '*.kt' | sort)
MAIN_SRCS=()
[[ -d "$MAIN_DIR" ]] && mapfile -t MAIN_SRCS < <(find "$MAIN_DIR" -name '*.kt' | sort)
TEST_SRCS=()
[[ -d "$TEST_DIR" ]] && mapfile -t TEST_SRCS < <(find "$TEST_DIR" -name '*.kt' | sort)
# The sample app's platform-independent session and its tests (its Android-only files need the
# Android SDK: ios/scripts/check-swift.sh parses them).
SAMPLE_DIR="$ROOT/examples/android/src"
if [[ -z "${MIZAN_KOTLIN_TEST_DIR:-}" && -d "$SAMPLE_DIR" ]]; then
  mapfile -t -O "${#TEST_SRCS[@]}" TEST_SRCS < <(find "$SAMPLE_DIR/test/kotlin" "$SAMPLE_DIR/main/kotlin" -name '*.kt' -not -path '*/sample/android/*' | sort)
fi
(( ${#GEN_SRCS[@]} > 0 )) || fail "bindgen produced no Kotlin in $GEN_DIR"
(( ${#TEST_SRCS[@]} > 0 )) || fail "no *.kt tests under $TEST_DIR"

mkdir -p "$OUT_DIR"
read -r -a extra_kotlinc <<< "${KOTLINC_OPTS:-}"
KOTLINC_FLAGS=(-jvm-target 17 -nowarn "${extra_kotlinc[@]}")
# kotlin-stdlib is added by kotlinc itself; JNA (and coroutines, for async APIs) for the bindings.
MAIN_CP="$JNA_JAR:$KOTLINX_COROUTINES_JAR"
MAIN_JAR="$OUT_DIR/mizan-main.jar"
TEST_JAR="$OUT_DIR/mizan-tests.jar"
TEST_CP="$MAIN_JAR:$MAIN_CP:$KOTLIN_TEST_JAR:$KOTLIN_TEST_JUNIT5_JAR:$JUNIT_API_JAR:$APIGUARDIAN_JAR:$OPENTEST4J_JAR"

# Stamp = hash of the compiler, flags, classpath and every source; recompile only when it changes.
stamp_of() { { echo "$KOTLIN_HOME ${KOTLINC_FLAGS[*]} $1"; shift; for f in "$@"; do echo "$f"; cat "$f"; done; } \
  | sha256sum | cut -d' ' -f1; }

compile() { # compile JAR CLASSPATH SALT SRC...   (SALT: extra text that forces a rebuild when it changes)
  local jar="$1" cp="$2" salt="$3"; shift 3
  local stamp; stamp="$(stamp_of "$cp $salt" "$@")"
  if [[ -f "$jar" && -f "$jar.stamp" && "$(cat "$jar.stamp")" == "$stamp" ]]; then
    echo "   up to date: ${jar#"$ROOT"/}" >&2; return 0
  fi
  rm -f "$jar" "$jar.stamp"
  "$KOTLINC" "${KOTLINC_FLAGS[@]}" -cp "$cp" -d "$jar" "$@" || return 1
  echo "$stamp" > "$jar.stamp"
}

step "kotlinc bindings (${#GEN_SRCS[@]} generated + ${#MAIN_SRCS[@]} main files)"
compile "$MAIN_JAR" "$MAIN_CP" "" "${GEN_SRCS[@]}" "${MAIN_SRCS[@]}" || fail "kotlinc failed on the bindings"
done_step
step "consumer R8 rules against the compiled bindings"
python3 "$SCRIPT_DIR/check-r8-rules.py" "$ROOT/android/consumer-rules.pro" "$MAIN_JAR" >&2 || fail "android/consumer-rules.pro does not keep what the bindings need"
done_step
step "kotlinc tests (${#TEST_SRCS[@]} files from ${TEST_DIR#"$ROOT"/})"
compile "$TEST_JAR" "$TEST_CP" "$(cat "$MAIN_JAR.stamp")" "${TEST_SRCS[@]}" || fail "kotlinc failed on the tests"
done_step

# ---- 5. JUnit 5 ----
JAVA_TEST_JAR="$OUT_DIR/mizan-java-tests.jar"
SCAN=(--scan-classpath="$TEST_JAR")
JAVA_SRCS=()
[[ -d "$JAVA_TEST_DIR" && -z "${MIZAN_KOTLIN_TEST_DIR:-}" ]] && mapfile -t JAVA_SRCS < <(find "$JAVA_TEST_DIR" -name '*.java' | sort)
if (( ${#JAVA_SRCS[@]} > 0 )); then
  # Java callers see the bindings without Kotlin's unsigned types and default arguments.
  step "javac tests (${#JAVA_SRCS[@]} files from ${JAVA_TEST_DIR#"$ROOT"/})"
  classes="$OUT_DIR/java-test-classes"
  rm -rf "$classes" "$JAVA_TEST_JAR"
  javac --release 17 -nowarn -d "$classes" -cp "$TEST_JAR:$TEST_CP:$KOTLIN_STDLIB_JAR" "${JAVA_SRCS[@]}" || fail "javac failed on the Java tests"
  jar cf "$JAVA_TEST_JAR" -C "$classes" . || fail "packing the Java tests failed"
  SCAN+=(--scan-classpath="$JAVA_TEST_JAR")
  done_step
fi

step "JUnit (console launcher)"
RUN_CP="$JUNIT_CONSOLE_JAR:$TEST_JAR:$JAVA_TEST_JAR:$TEST_CP:$KOTLIN_STDLIB_JAR"
LOG="$OUT_DIR/junit-console.log"
set +e
# --include-classname '.*': every class in the tests jar, whatever it is called (the default only
# picks *Test/*Tests/Test*). Only the tests jar is scanned, not the bindings.
read -r -a extra_java <<< "${JAVA_TEST_OPTS:-}"
java -Djna.library.path="$LIB_DIR" -Dmizan.fixtures="$FIXTURES" "${extra_java[@]}" -cp "$RUN_CP" \
  org.junit.platform.console.ConsoleLauncher \
  --disable-banner --disable-ansi-colors --details=tree \
  "${SCAN[@]}" --include-classname='.*' \
  --reports-dir="$OUT_DIR/test-results" 2>&1 | tee "$LOG" >&2
rc=${PIPESTATUS[0]}
set -e
done_step

count() { # the number in a summary line like "[         3 tests successful      ]"
  local n; n="$(grep -E "^\[ *[0-9]+ $1 +\]" "$LOG" | tail -1 | grep -oE '[0-9]+' | head -1 || true)"
  echo "${n:-0}"
}
passed="$(count 'tests successful')"
failed="$(count 'tests failed')"
aborted="$(count 'tests aborted')"
skipped="$(count 'tests skipped')"
cfailed="$(count 'containers failed')"
# A failing container (class init, @BeforeAll, ...) hides its tests: count it as a failure.
failed=$(( failed + cfailed ))
if ! grep -qE 'tests successful' "$LOG"; then
  failed=$(( failed > 0 ? failed : 1 ))   # launcher crashed before printing a summary
fi
if (( rc != 0 && failed == 0 )); then failed=1; fi

extra=""
(( aborted + skipped > 0 )) && extra=", $(( aborted + skipped )) skipped"
echo "kotlin: $passed passed, $failed failed$extra"
(( failed == 0 && passed > 0 ))
