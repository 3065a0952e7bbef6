#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings from the built library (uniffi library mode)
# into target/bindings/<language>/. Generated code is never edited by hand; the apps and tests
# take it from there. Usage: bash bindings/generate.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
flags=()
if [[ "${1:-}" == "--release" ]]; then
  profile=release
  flags=(--release)
fi
# The whole workspace in one invocation: uniffi is built once, and features unify as they do
# for `cargo test --workspace`, so the test script's builds are reused rather than redone
# (tests/bindings.sh also needs the sync server from the same build).
cargo build "${flags[@]}" --locked --workspace
lib="target/$profile/libgridpatrol_ffi.so"
out=target/bindings
rm -rf "$out"
for lang in kotlin swift python; do
  "target/$profile/uniffi-bindgen" generate --library "$lib" --language "$lang" \
    --out-dir "$out/$lang" --no-format
done
# The Python module loads the library from its own folder.
cp "$lib" "$out/python/"
find "$out" -type f | sort
