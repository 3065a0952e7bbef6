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
# One cargo invocation for both, so uniffi is built once.
cargo build "${flags[@]}" --locked -p gridpatrol-ffi -p uniffi-bindgen
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
