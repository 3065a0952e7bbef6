#!/usr/bin/env bash
# On a Mac with Xcode: builds the Rust core for iOS devices and simulators, generates the Swift
# bindings, and assembles GridPatrolKit/build/GridPatrolFFIC.xcframework plus
# GridPatrolKit/Sources/GridPatrolFFI/GridPatrolFFI.swift. Needs
# `rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios`.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
# The phone profile (root Cargo.toml) for what ships; the host library only feeds the bindings
# generator, which reads uniffi's metadata from its symbols, so it stays a plain release build.
for t in "${targets[@]}"; do
  cargo build --profile phone --locked -p gridpatrol-ffi --target "$t"
done
cargo build --release --locked -p gridpatrol-ffi -p uniffi-bindgen

gen=target/ios-bindings
rm -rf "$gen"
target/release/uniffi-bindgen generate --library target/release/libgridpatrol_ffi.dylib \
  --language swift --out-dir "$gen"

headers="$gen/headers"
mkdir -p "$headers"
cp "$gen/GridPatrolFFIC.h" "$headers/"
cp "$gen/GridPatrolFFIC.modulemap" "$headers/module.modulemap"

sim=target/ios-sim
mkdir -p "$sim"
lipo -create target/aarch64-apple-ios-sim/phone/libgridpatrol_ffi.a \
  target/x86_64-apple-ios/phone/libgridpatrol_ffi.a -output "$sim/libgridpatrol_ffi.a"

out=ios/GridPatrolKit/build/GridPatrolFFIC.xcframework
rm -rf "$out"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/phone/libgridpatrol_ffi.a -headers "$headers" \
  -library "$sim/libgridpatrol_ffi.a" -headers "$headers" \
  -output "$out"
cp "$gen/GridPatrolFFI.swift" ios/GridPatrolKit/Sources/GridPatrolFFI/
echo "built $out"
