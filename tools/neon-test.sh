#!/bin/sh
# Cross-builds the kernel test (tests/test_kernels.c) for aarch64 with the
# NEON kernel set and runs it under qemu-user; also runs the kernel timing
# program once (emulated timings mean nothing; it checks that it runs).
# Self-contained: compiles only the sources the test needs, statically.
# Needs Debian packages gcc-aarch64-linux-gnu and qemu-user.
# Usage: tools/neon-test.sh [build dir, default build-neon]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build-neon}
cc=${CROSS_CC:-aarch64-linux-gnu-gcc}
qemu=${QEMU:-qemu-aarch64}
command -v "$cc" >/dev/null || { echo "neon-test: $cc not found (apt-get install gcc-aarch64-linux-gnu)" >&2; exit 2; }
command -v "$qemu" >/dev/null || { echo "neon-test: $qemu not found (apt-get install qemu-user)" >&2; exit 2; }
mkdir -p "$out"
cflags="-std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Wvla -Wshadow=local -Wno-unused-parameter -Werror"
inc="-I$src/include -I$src/src -I$src/tests"
lib="$src/src/base/platform.c $src/src/tensor/types.c $src/src/tensor/quant_float.c \
     $src/src/tensor/quant_legacy.c $src/src/tensor/quant_k.c $src/src/tensor/quant_k_quantize.c \
     $src/src/tensor/quant_iq.c $src/src/tensor/kernels.c $src/src/tensor/kernels_neon.c"
fixtures=$(cd "$src/.." && pwd)/shared/fixtures
# shellcheck disable=SC2086
"$cc" $cflags $inc -DINGOT_FIXTURES="\"$fixtures\"" -static -o "$out/test_kernels" \
    "$src/tests/test_kernels.c" $lib -lm -lpthread
# shellcheck disable=SC2086
"$cc" $cflags $inc -static -o "$out/kernels_bench" "$src/bench/kernels_bench.c" $lib -lm -lpthread
"$qemu" "$out/test_kernels"
"$qemu" "$out/kernels_bench" 256 5 >/dev/null
echo "neon-test: ok"
