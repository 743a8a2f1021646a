#!/usr/bin/env bash
# Configure and build pagemig into ${PAGEMIG_BUILD_DIR:-build} (relative to the source tree).
# Extra arguments go to cmake's configure step, e.g. -DPAGEMIG_SANITIZE=ON.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${PAGEMIG_BUILD_DIR:-$src/build}
cmake -S "$src" -B "$build" -G Ninja "$@" >/dev/null
cmake --build "$build"
