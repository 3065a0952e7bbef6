#!/usr/bin/env bash
# The bindings end to end: generates Kotlin, Swift and Python from the built library, starts a
# real sync server, runs the Python scenario and the Kotlin one (patrolkit on the JVM, JNA),
# then checks what cannot be compiled here: the C header with gcc, and the Swift sources and
# the Android app's Kotlin with tree-sitter (a parse, not a compile). Installs kotlinc (npm),
# JNA (apt) and tree-sitter grammars (PyPI, in a venv) when missing,
# into GRIDPATROL_TOOLS (default ~/.cache/gridpatrol-tools). Writes one line per check to
# target/bindings-results.txt. Usage: bash tests/bindings.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${GRIDPATROL_TOOLS:-$HOME/.cache/gridpatrol-tools}"
kotlin_version=2.4.20
kotlinc="$tools/kotlinc-$kotlin_version"
results=target/bindings-results.txt
mkdir -p "$tools" target
: > "$results"
step() { printf '\n=== %s ===\n' "$*"; }

if [[ ! -x "$kotlinc/bin/kotlinc" ]]; then
  step "installing kotlinc $kotlin_version (npm kotlin-compiler)"
  (cd "$tools" && npm pack --silent "kotlin-compiler@$kotlin_version" >/dev/null &&
    rm -rf package && tar xzf "kotlin-compiler-$kotlin_version.tgz" &&
    mv package "kotlinc-$kotlin_version" && rm "kotlin-compiler-$kotlin_version.tgz")
fi
if [[ ! -f /usr/share/java/jna.jar ]]; then
  step "installing JNA (libjna-java)"
  apt-get install -y -qq libjna-java >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq libjna-java >/dev/null; }
fi
if [[ ! -x "$tools/venv/bin/python" ]] ||
  ! "$tools/venv/bin/python" -c "import tree_sitter_swift, tree_sitter_kotlin" 2>/dev/null; then
  step "installing tree-sitter with its Swift and Kotlin grammars (PyPI)"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install -q tree-sitter tree-sitter-swift tree-sitter-kotlin
fi

step "generating bindings"
bash bindings/generate.sh

step "starting a sync server"
data=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT
target/debug/gridpatrol-sync-server --demo --demo-history false --listen 127.0.0.1:0 --data-dir "$data" > "$data/out" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$data/out" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$data/out")
[[ -n "$url" ]] || { cat "$data/out"; echo "the server did not start"; exit 1; }
export GRIDPATROL_SERVER_URL="$url"
echo "server at $url"

step "Python scenario (generated bindings, real library and server)"
PYTHONPATH=target/bindings/python python3 tests/bindings/test_scenario.py
echo "PASS python scenario" >> "$results"

step "Kotlin scenario on the JVM (patrolkit over the generated bindings, JNA)"
lib="$kotlinc/lib"
jar=target/kotlin/scenario.jar
mkdir -p target/kotlin
"$kotlinc/bin/kotlinc" -Werror \
  -cp "/usr/share/java/jna.jar:$lib/kotlinx-coroutines-core-jvm.jar:$lib/kotlin-test.jar" \
  target/bindings/kotlin/cn/gridpatrol/ffi/*.kt \
  android/patrolkit/src/main/kotlin/cn/gridpatrol/patrolkit/*.kt \
  tests/bindings/Scenario.kt -d "$jar"
java -Djna.library.path=target/debug \
  -cp "$jar:/usr/share/java/jna.jar:$lib/kotlin-stdlib.jar:$lib/kotlinx-coroutines-core-jvm.jar:$lib/kotlin-test.jar" \
  ScenarioKt
echo "PASS kotlin scenario" >> "$results"

step "Kotlin: a patrol draft half answered, the JVM killed (kill -9), then resumed and submitted"
classpath="$jar:/usr/share/java/jna.jar:$lib/kotlin-stdlib.jar:$lib/kotlinx-coroutines-core-jvm.jar:$lib/kotlin-test.jar"
draft_db="$data/draft-phone.db"
java -Djna.library.path=target/debug -cp "$classpath" ScenarioKt draft-start "$draft_db" > "$data/draft-start" 2>&1 &
jvm=$!
for _ in $(seq 1 300); do
  grep -q "^draft saved" "$data/draft-start" && break
  kill -0 "$jvm" 2>/dev/null || { cat "$data/draft-start"; echo "the first JVM ended early"; exit 1; }
  sleep 0.1
done
grep "^draft saved" "$data/draft-start" || { cat "$data/draft-start"; echo "no draft saved"; exit 1; }
kill -9 "$jvm"
wait "$jvm" 2>/dev/null || true
java -Djna.library.path=target/debug -cp "$classpath" ScenarioKt draft-finish "$draft_db"
echo "PASS kotlin draft survives kill -9" >> "$results"

step "not compiled here: the C header (gcc), Swift and the Android app's Kotlin (syntax-checked)"
printf '#include "GridPatrolFFIC.h"\n' |
  gcc -fsyntax-only -Wall -Werror -D_Nullable= -D_Nonnull= -I target/bindings/swift -x c -
echo "PASS C header (gcc -fsyntax-only)" >> "$results"
mapfile -t swift < <(find target/bindings/swift ios -name '*.swift' | sort)
"$tools/venv/bin/python" tests/bindings/syntax_check.py "${swift[@]}"
echo "PASS swift syntax-checked, not compiled (${#swift[@]} files)" >> "$results"
mapfile -t app < <(find android -path android/patrolkit/src -prune -o \( -name '*.kt' -o -name '*.kts' \) -print | sort)
"$tools/venv/bin/python" tests/bindings/syntax_check.py "${app[@]}"
echo "PASS android app kotlin syntax-checked, not compiled (${#app[@]} files)" >> "$results"

step "bindings results"
cat "$results"
