#!/usr/bin/env bash
# Writes the benchmark models of BENCHMARKS.md: the qwen2.5-0.5b and
# llama3.2-1b shapes with random weights and their real tokenizers (F16,
# by ingot-synth), then quantized by `ingot quantize` (Q4_K_M, Q8_0, Q4_0
# by default). Files go to DIR (default /tmp/ingot-bench), never into the
# repository; existing files are kept unless --force.
#
#   bench/make-models.sh [DIR] [--build BUILD_DIR] [--types "Q4_K_M Q8_0 Q4_0"]
#                        [--shapes "qwen2.5-0.5b llama3.2-1b"] [--force] [--drop-f16]
#
# Binaries: $INGOT and $INGOT_SYNTH, else BUILD_DIR/ingot and
# BUILD_DIR/tests/ingot-synth (BUILD_DIR defaults to build/ in the repo).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=/tmp/ingot-bench
build="$src/build"
types="Q4_K_M Q8_0 Q4_0"
shapes="qwen2.5-0.5b llama3.2-1b"
force=0
drop=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --types) types=$2; shift 2 ;;
    --shapes) shapes=$2; shift 2 ;;
    --force) force=1; shift ;;
    --drop-f16) drop=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "make-models: unknown option $1" >&2; exit 2 ;;
    *) dir=$1; shift ;;
  esac
done
ingot=${INGOT:-$build/ingot}
synth=${INGOT_SYNTH:-$build/tests/ingot-synth}
for b in "$ingot" "$synth"; do
  if [ ! -x "$b" ]; then
    echo "make-models: $b not found; build it first:" >&2
    echo "  cmake -S . -B build && cmake --build build -j2 --target ingot ingot-synth" >&2
    exit 1
  fi
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
case "$dir/" in
  "$src"/*) echo "make-models: $dir is inside the repository; pick a directory outside it" >&2; exit 2 ;;
esac
export INGOT_FIXTURES=${INGOT_FIXTURES:-$(cd "$src/../shared/fixtures" 2> /dev/null && pwd)}
threads=$(nproc 2> /dev/null || echo 2)

for shape in $shapes; do
  f16="$dir/$shape-F16.gguf"
  todo=""
  for t in $types; do
    out="$dir/$shape-$t.gguf"
    if [ "$force" = 1 ] || [ ! -s "$out" ] || { [ -e "$f16" ] && [ "$out" -ot "$f16" ]; }; then todo="$todo $t"; fi
  done
  if [ "$force" = 1 ] || { [ ! -s "$f16" ] && { [ -n "$todo" ] || [ "$drop" = 0 ]; }; }; then
    echo "== $shape: synthesizing $f16"
    "$synth" --shape "$shape" -o "$f16" -t "$threads"
  fi
  for t in $todo; do
    echo "== $shape: quantizing to $t"
    "$ingot" quantize "$f16" "$dir/$shape-$t.gguf" "$t" -t "$threads"
  done
  if [ "$drop" = 1 ]; then rm -f "$f16"; fi
done
echo "== models in $dir:"
ls -l "$dir"/*.gguf
