#!/usr/bin/env bash
# Quick start, command 1: install what is needed, build, and run the main job.
# Until pagemigd exists the main job is the libpagemig demo: move a buffer between NUMA nodes
# and print the library's report (on a one-node machine it says so and runs the same-node move).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/install-deps.sh"
"$src/scripts/build.sh"
exec "${PAGEMIG_BUILD_DIR:-$src/build}/examples/pagemig-demo" "$@"
