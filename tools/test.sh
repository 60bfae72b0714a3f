#!/usr/bin/env bash
# The test command: builds and runs the whole suite (ctest), then the same
# suite built with AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: tools/test.sh [--no-sanitize] [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=1
if [ "${1:-}" = "--no-sanitize" ]; then sanitize=0; shift; fi
if [ ! -d ../shared/fixtures ]; then
  echo "tools/test.sh: ../shared/fixtures not found: the shared/ folder must sit beside this repository" >&2
  exit 2
fi
bash tools/setup.sh
cmake -S . -B build -DINGOT_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
(cd build && ctest --output-on-failure -j2 "$@")
if [ "$sanitize" = 1 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DINGOT_SANITIZE=ON -DINGOT_WERROR=ON >/dev/null
  cmake --build build-asan -j"$(nproc)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j2 "$@")
fi
