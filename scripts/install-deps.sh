#!/usr/bin/env bash
# Install every Debian package that pagemig's build, tests, benchmarks and NUMA lab need.
# Idempotent: packages already present are left alone. Run as root on Debian 12.
set -euo pipefail

packages=(
	# build
	build-essential cmake ninja-build pkg-config clang llvm clang-format
	# libraries
	libbpf-dev bpftool libelf-dev zlib1g-dev libnuma-dev libhwloc-dev libsystemd-dev
	libjson-c-dev libinih-dev libcmocka-dev
	# host tests and benchmarks; valgrind (memcheck over the daemon), libclang-rt-14-dev
	# (libFuzzer for clang's -fsanitize=fuzzer: tests/fuzz), gnuplot-nox (bench/field's plots)
	numactl valgrind libclang-rt-14-dev gnuplot-nox
	# NUMA lab: guest kernel comes from the archive via apt-get download (tests/lab)
	qemu-system-x86 busybox-static cpio kmod
	# service integration: systemd.pc and systemd-analyze (unit dirs, verify, security), procps
	# (/bin/kill of ExecReload=, checked by verify), mandoc (man page lint), file and dpkg-dev
	# (CPack's DEB generator: shlibdeps), debootstrap (the lab's Debian root with systemd)
	systemd procps mandoc file dpkg-dev debootstrap
)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (apt-get needs it)" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
