#!/usr/bin/env bash
# Quick start, command 2: install what is needed, build, and run every test: unit, host (the
# running kernel) and the NUMA lab (QEMU guests with Debian's 6.1 and 6.12 kernels); then the
# unit and host suites again under AddressSanitizer and UndefinedBehaviorSanitizer (BPF sampler
# included), and every fuzz target for 60 s (libFuzzer, clang).
# Arguments go to ctest, e.g. -L unit or -R lab.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${PAGEMIG_BUILD_DIR:-$src/build}
jobs=$(nproc)

"$src/scripts/install-deps.sh"
echo "== build"
"$src/scripts/build.sh" -DPAGEMIG_WERROR=ON
echo "== tests"
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@"
if [ $# -eq 0 ]; then
	echo "== unit and host tests with ASan and UBSan"
	PAGEMIG_BUILD_DIR="$build-sanitize" "$src/scripts/build.sh" -DPAGEMIG_WERROR=ON \
		-DPAGEMIG_SANITIZE=ON -DPAGEMIG_BPF=ON -DPAGEMIG_LAB=OFF
	ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir "$build-sanitize" --output-on-failure -j "$jobs" -L 'unit|host'
	echo "== fuzz targets, 60 s each (libFuzzer, ASan, UBSan; clang)"
	cmake -S "$src" -B "$build-fuzz" -G Ninja -DCMAKE_C_COMPILER=clang -DPAGEMIG_WERROR=ON \
		-DPAGEMIG_FUZZ=ON -DPAGEMIG_SANITIZE=ON -DPAGEMIG_BPF=OFF -DPAGEMIG_LAB=OFF >/dev/null
	cmake --build "$build-fuzz" --target fuzz-all
	ctest --test-dir "$build-fuzz" --output-on-failure -j "$jobs" -L fuzz
fi
