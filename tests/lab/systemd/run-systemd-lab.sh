#!/usr/bin/env bash
# The NUMA lab's systemd test: boot Debian 12 with systemd as PID 1 in the QEMU guest, install
# the pagemig package and check the service (tests/lab/systemd/README.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

usage() {
	cat <<'EOF2'
Usage: run-systemd-lab.sh --build DIR [--kernel 6.12|6.1] [--nodes 3|2] [--timeout SECONDS] [-v]

Needs DIR/pagemig_*.deb (cmake --build DIR --target package-deb) and DIR/tests/lab/systemd/
workload. Makes (or reuses) the cached Debian root file system with mkrootfs.sh, adds the
package, the workload and the test to it, and boots it with tests/lab/run-lab.sh and the
kernel command line rdinit=/lib/systemd/systemd systemd.mask=serial-getty@ttyS0.service.

Exit status: 0 pass, 1 fail, 2 usage, 77 skipped (no QEMU, no debootstrap, no archive; each of
them a failure when $CI is set).
EOF2
}

build='' kernel=${PAGEMIG_LAB_KERNEL:-6.12} nodes=3 timeout=720 verbose=()
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--build) build=${2:?--build needs a directory}; shift 2 ;;
	--kernel) kernel=${2:?--kernel needs 6.1 or 6.12}; shift 2 ;;
	--nodes) nodes=${2:?--nodes needs 2 or 3}; shift 2 ;;
	--timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
	-v | --verbose) verbose=(-v); shift ;;
	*) echo "run-systemd-lab: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ -n "$build" ] || { usage >&2; exit 2; }
build=$(cd "$build" && pwd)
skip() {
	if [ -n "${CI:-}" ]; then
		echo "run-systemd-lab: FAIL: $* (in CI the lab must run: scripts/install-deps.sh)" >&2
		exit 1
	fi
	echo "run-systemd-lab: SKIP: $*" >&2
	exit 77
}
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"

t_start=$SECONDS
deb=$(ls -t "$build"/pagemig_*.deb 2>/dev/null | head -n 1 || true)
[ -n "$deb" ] || { echo "run-systemd-lab: no $build/pagemig_*.deb: cmake --build $build --target package-deb" >&2; exit 1; }
workload=$build/tests/lab/systemd/workload
[ -x "$workload" ] || { echo "run-systemd-lab: no $workload: build the tree first" >&2; exit 1; }

# The package's dependencies go into the root file system: the guest has no network.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/ //g' | sed '/^$/d' | paste -sd, -)
set +e
rootfs=$("$here/mkrootfs.sh" --include "$deps")
st=$?
set -e
[ $st = 77 ] && exit 77
[ $st = 0 ] || { echo "run-systemd-lab: FAIL: cannot make the Debian root file system" >&2; exit 1; }
t_rootfs=$SECONDS

# The overlay: a second cpio archive after the cached one (the kernel unpacks both).
out=$build/tests/lab/systemd
overlay=$out/overlay
rm -rf "$overlay"
mkdir -p "$overlay/lab" "$overlay/etc/systemd/system/multi-user.target.wants"
cp "$deb" "$overlay/lab/pagemig.deb"
cp "$workload" "$here/guest-test.sh" "$overlay/lab/"
cp "$here/pagemig-lab.service" "$overlay/etc/systemd/system/"
ln -s ../pagemig-lab.service "$overlay/etc/systemd/system/multi-user.target.wants/pagemig-lab.service"
(cd "$overlay" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out/overlay.cpio"
# An uncompressed archive must start at a multiple of 4 bytes: zeros pad the gzip'd one.
cp "$rootfs" "$out/initramfs-systemd.cpio"
size=$(stat -c %s "$out/initramfs-systemd.cpio")
truncate -s $(((size + 3) / 4 * 4)) "$out/initramfs-systemd.cpio"
cat "$out/overlay.cpio" >>"$out/initramfs-systemd.cpio"
echo "run-systemd-lab: image: $(basename "$rootfs") + $(basename "$deb"), workload, test" \
	"($(du -m "$out/initramfs-systemd.cpio" | cut -f1) MiB; root file system ready after $((t_rootfs - t_start)) s)"

set +e
"$here/../run-lab.sh" --initramfs "$out/initramfs-systemd.cpio" --kernel "$kernel" --nodes "$nodes" \
	--timeout "$timeout" --log "$out/console-systemd-$kernel-${nodes}node.log" --tests systemd -a \
	--append "rdinit=/lib/systemd/systemd systemd.mask=serial-getty@ttyS0.service systemd.show_status=false" \
	"${verbose[@]}"
st=$?
set -e
echo "run-systemd-lab: total $((SECONDS - t_start)) s (root file system $((t_rootfs - t_start)) s)"
exit $st
