#!/usr/bin/env bash
# Run the benchmarks on this machine with the defaults of bench/README.md and keep their raw
# output in bench/results/host-<date>.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

usage() {
	cat <<'EOF'
Usage: bench/run.sh [--build DIR] [--reps R] [--quick] [--out FILE]

Build bench-move and bench-process (CMake, Ninja, BPF off) if needed, run them on this
machine and write their raw output to bench/results/host-<UTC date and time>.txt (also shown on
stdout). Runs, in this order:

  bench-move --extra defaults,noverify,nodedup    64 MiB, N=512, 4 KiB and THP pages
  bench-move --sweep --extra noverify             N = 64,256,512,1024,4096, both cases
  bench-process                                   (needs two memory nodes; skips on one)

each with --reps R (default 15: host runs take seconds, more repetitions cost little).
The machine should be otherwise idle: the output header shows the load average.

  --build DIR   CMake build directory (default: build-bench in the source tree)
  --reps R      timed repetitions per method (default 15)
  --quick       8 MiB, 3 reps, no sweep: checks that everything runs, measures little
  --out FILE    write the output here instead
  -h, --help    this text

Exit status: 0 every benchmark ran (skips included), 1 a benchmark failed, 2 usage error.
EOF
}

build="$top/build-bench" quick=0 out='' reps=15
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--build) build=${2:?--build needs a directory}; shift 2 ;;
	--reps) reps=${2:?--reps needs a number}; shift 2 ;;
	--quick) quick=1; shift ;;
	--out) out=${2:?--out needs a file}; shift 2 ;;
	*) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$top" -B "$build" -G Ninja -DPAGEMIG_BPF=OFF >/dev/null
fi
cmake --build "$build" --target bench-move bench-process >/dev/null

if [ -z "$out" ]; then
	mkdir -p "$here/results"
	out="$here/results/host-$(date -u +%Y-%m-%dT%H%M%SZ).txt"
fi

if [ "$quick" = 1 ]; then
	runs=("bench-move --size 8 --reps 3 --extra defaults,noverify,nodedup"
		"bench-process --size 8 --reps 3")
else
	runs=("bench-move --reps $reps --extra defaults,noverify,nodedup"
		"bench-move --reps $reps --sweep --extra noverify"
		"bench-process --reps $reps")
fi

failed=0
{
	echo "# bench/run.sh on $(uname -n), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# source: $(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "# load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
	for r in "${runs[@]}"; do
		echo
		echo "######## $r"
		rc=0
		# shellcheck disable=SC2086 # the words of $r are the program and its arguments
		"$build/bench/"$r 2>&1 || rc=$?
		case $rc in
		0) ;;
		77) echo "######## skipped (exit 77): $r" ;;
		*) echo "######## FAILED (exit $rc): $r"; failed=1 ;;
		esac
	done
	echo
	echo "######## summary"
} 2>&1 | tee "$out"

grep '^RESULT' "$out" | tee -a "$out" || true
if grep -q '^######## FAILED' "$out"; then
	failed=1
fi
echo "run.sh: output in $out"
exit "$failed"
