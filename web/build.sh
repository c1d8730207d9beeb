#!/usr/bin/env bash
# Builds ReLU Lab for the browser into dist/ (index.html, trainer-worker.js, relu_lab_web.js,
# relu_lab_web_bg.wasm): static files any web host can serve. Works from a fresh clone on stable
# Rust; installs what it needs (the wasm32 target, and wasm-bindgen-cli at exactly the version in
# Cargo.lock).
#
# Usage: web/build.sh [--dev] [--wasm-opt] [--out DIR]
#   --dev       a debug build (fast to compile, slow to run): for checking that it builds
#   --wasm-opt  shrink the .wasm with binaryen's wasm-opt -O2, which must be on the PATH (tested
#               with binaryen 132 from `npm install binaryen`): 9% smaller, 4% gzipped, a minute more
#   --out DIR   where to put the files (default: dist)
# Then: python3 -m http.server -d dist --bind 127.0.0.1 8000, and open http://127.0.0.1:8000/
set -euo pipefail
cd "$(dirname "$0")/.."

profile=web-release
out=dist
wasm_opt=false
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) profile=dev ;;
    --wasm-opt) wasm_opt=true ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    *) sed -n '2,13p' "$0"; exit 2 ;;
  esac
  shift
done

target_dir=${CARGO_TARGET_DIR:-target}
# The version wasm-bindgen-cli must have: the one the crate was compiled against.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$bindgen_version" ] || { echo "build.sh: no wasm-bindgen in Cargo.lock" >&2; exit 1; }

if command -v rustup >/dev/null; then
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  echo "== installing wasm-bindgen-cli $bindgen_version (once; a few minutes)"
  # --locked builds what its authors tested; if a registry mirror lacks one of those exact
  # versions, the newest compatible ones do as well.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --locked \
    || cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

echo "== cargo build -p relu-lab-web --target wasm32-unknown-unknown --profile $profile"
cargo build -p relu-lab-web --lib --target wasm32-unknown-unknown --profile "$profile"
profile_dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
wasm="$target_dir/wasm32-unknown-unknown/$profile_dir/relu_lab_web.wasm"

echo "== wasm-bindgen -> $out/"
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen "$wasm" --target web --no-typescript --out-dir "$out"
cp web/index.html web/trainer-worker.js "$out/"

# Never with --fast-math: it reorders floating-point arithmetic, and replays must stay bit for bit
# the same.
if [ "$wasm_opt" = true ]; then
  command -v wasm-opt >/dev/null || { echo "build.sh: --wasm-opt needs wasm-opt on the PATH" >&2; exit 1; }
  echo "== wasm-opt -O2"
  wasm-opt "$out/relu_lab_web_bg.wasm" -O2 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$out/relu_lab_web_bg.wasm.opt"
  mv "$out/relu_lab_web_bg.wasm.opt" "$out/relu_lab_web_bg.wasm"
fi

raw=$(cat "$out"/* | wc -c)
gzipped=$(for file in "$out"/*; do gzip -9 -c "$file"; done | wc -c)
echo "== $out/: $(ls "$out" | tr '\n' ' ')"
echo "   $((raw / 1024)) KiB raw, $((gzipped / 1024)) KiB gzipped (gzip -9)"
