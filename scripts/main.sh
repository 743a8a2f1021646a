#!/usr/bin/env bash
# Quick start, command 1: install what is needed, build, and run the main job: pagemigd.
#
# On a machine with two or more memory nodes, pagemigd runs here in the foreground with the
# shipped configuration (conf/pagemig.conf; its control socket at /run/pagemig/pagemigd.sock, so
# `pagemigctl status` works from another terminal). Stop it with Ctrl-C: every process is left
# as it is. Arguments are passed to pagemigd (e.g. --observe).
#
# With fewer than two memory nodes there is nothing to place here: the same daemon then runs
# inside the NUMA lab (a QEMU guest with Debian's 6.12 kernel and three nodes) next to a demo
# workload, printing what it moves and the local-access share over time.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${PAGEMIG_BUILD_DIR:-$src/build}

"$src/scripts/install-deps.sh"
"$src/scripts/build.sh"

nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | while read -r n; do
	# a node has memory when its meminfo reports some
	awk '/MemTotal/ { if ($4 > 0) print }' "$n/meminfo"
done | wc -l)
if [ "$nodes" -ge 2 ]; then
	echo "main: $nodes memory nodes: starting pagemigd in the foreground (Ctrl-C stops it)"
	exec "$build/daemon/pagemigd" --foreground --config "$src/conf/pagemig.conf" "$@"
fi
echo "main: this machine has $nodes memory node(s): pages have nowhere to go here."
echo "main: running the same pagemigd inside the NUMA lab (3 nodes, Debian 6.12) with a demo"
echo "main: workload instead; the first run downloads the kernel package (about 100 MB)."
exec "$src/tests/lab/run-lab.sh" --build "$build" --kernel 6.12 --nodes 3 --tests lab_demo -v
