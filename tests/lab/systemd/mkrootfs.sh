#!/usr/bin/env bash
# Make (once) a Debian 12 root file system with systemd for the lab's systemd test, packed as a
# gzip'd cpio archive that boots as an initramfs, and print its path.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: mkrootfs.sh [--cache DIR] [--include PKG,...] [--mirror URL]

debootstrap --variant=minbase bookworm with systemd-sysv, procps, passwd and the packages given
with --include (the runtime dependencies of the pagemig package), packed with cpio and gzip.
The result is kept in the cache under a name that encodes the package list, so a later run with
the same list reuses it; an older image is removed when a new one is made.

  --cache DIR     default $PAGEMIG_LAB_CACHE, else /var/cache/pagemig-lab
  --include LIST  comma-separated extra packages
  --mirror URL    Debian mirror (default: $PAGEMIG_LAB_MIRROR, else the first one this machine's
                  apt sources use for bookworm main)

Exit status: 0 (the path on stdout), 1 failure, 77 debootstrap is missing or the archive cannot
be reached and nothing is cached (both failures when $CI is set).
EOF
}

log() { echo "mkrootfs: $*" >&2; }
die() {
	log "$*"
	exit 1
}
skip() {
	if [ -n "${CI:-}" ]; then
		die "$* (a failure with CI set: the lab must run in CI)"
	fi
	log "SKIP: $*"
	exit 77
}

cache=${PAGEMIG_LAB_CACHE:-/var/cache/pagemig-lab}
extra='' mirror=${PAGEMIG_LAB_MIRROR:-}
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--cache) cache=${2:?--cache needs a directory}; shift 2 ;;
	--include) extra=${2?--include needs a list}; shift 2 ;;
	--mirror) mirror=${2:?--mirror needs a URL}; shift 2 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

suite=bookworm
# Version of this recipe: bump it when the image's content changes for reasons other than the list.
recipe=1
packages=$(echo "systemd-sysv,procps,passwd,$extra" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)
key=$(echo "$recipe $suite $packages" | sha256sum | cut -c1-12)
image=$cache/rootfs-$suite-$key.cpio.gz

mkdir -p "$cache" 2>/dev/null || die "cannot create $cache (set PAGEMIG_LAB_CACHE)"
exec 8>"$cache/.rootfs.lock"
flock 8
if [ -s "$image" ]; then
	log "cached: $image ($packages)"
	echo "$image"
	exit 0
fi

command -v debootstrap >/dev/null || skip "debootstrap is not installed (apt-get install debootstrap)"
[ "$(id -u)" = 0 ] || skip "debootstrap needs root"

# The machine's own mirror for bookworm main, from deb822 .sources or one-line .list files.
find_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v suite="$suite" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") &&
				    (" " comps " ") ~ / main / && uris != "") { split(uris, u, " "); print u[1]; found = 1; exit }
				types = suites = comps = uris = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
			/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
			/^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
			/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
			END { if (!found) flush() }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		sed -n "s/^deb \(\[[^]]*\] \)\?\([^ ]*\) $suite .*\bmain\b.*/\2/p" "$f"
	done
}
if [ -z "$mirror" ]; then
	mirror=$(find_mirror | head -n 1)
	[ -n "$mirror" ] || die "no apt source for $suite main on this machine: give --mirror URL"
fi

work=$(mktemp -d "$cache/.rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache/debootstrap-debs"
log "debootstrap $suite from $mirror with $packages"
t0=$SECONDS
if ! debootstrap --variant=minbase --include="$packages" --cache-dir="$cache/debootstrap-debs" \
	"$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
	tail -n 20 "$work/debootstrap.log" >&2
	if grep -qiE 'Failed getting release file|Couldn.t download|Could not resolve|unable to fetch|Connection (refused|timed out)' \
		"$work/debootstrap.log"; then
		skip "the Debian archive at $mirror cannot be reached"
	fi
	die "debootstrap failed (log above)"
fi
log "debootstrap took $((SECONDS - t0)) s"

# Smaller and quicker to unpack: no package caches, lists, documentation or locales.
r=$work/root
rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* "$r"/usr/share/doc/* \
	"$r"/usr/share/man/* "$r"/usr/share/locale/* "$r"/usr/share/info/*
echo pagemig-lab >"$r/etc/hostname"
# The image is the root file system itself: nothing to mount, no fsck, no swap.
: >"$r/etc/fstab"

t0=$SECONDS
(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 >"$work/image.cpio.gz"
rm -f "$cache"/rootfs-"$suite"-*.cpio.gz
mv "$work/image.cpio.gz" "$image"
log "packed $(du -m "$image" | cut -f1) MiB in $((SECONDS - t0)) s: $image"
echo "$image"
