#!/usr/bin/env bash
# Fetch a Debian kernel for the NUMA lab with `apt-get download` and cache its /boot files.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: fetch-kernel.sh [--cache DIR] VERSION

Obtain Debian's kernel VERSION (6.1 or 6.12) from the Debian archive with `apt-get download`,
extract /boot/vmlinuz-* and /boot/config-* into the cache and print the kernel's cache directory
on stdout. A kernel already in the cache is not downloaded again.

  6.1   the dependency of linux-image-amd64        (e.g. linux-image-6.1.0-56-amd64)
  6.12  the dependency of linux-image-6.12-amd64   (e.g. linux-image-6.12.117+deb12-amd64)

Cache: --cache DIR, else $PAGEMIG_LAB_CACHE, else /var/cache/pagemig-lab. Layout:
  DIR/<package>_<version>/{vmlinuz,config,package}
  DIR/<VERSION> -> <package>_<version>      (the kernel last resolved for VERSION)

`apt-get update` is run only when the package cannot be resolved or downloaded for lack of
package lists. When the archive cannot be reached but VERSION was fetched before, the cached
kernel is used.
EOF
}

die() {
	echo "fetch-kernel: $*" >&2
	exit 1
}
log() { echo "fetch-kernel: $*" >&2; }

cache=${PAGEMIG_LAB_CACHE:-/var/cache/pagemig-lab}
version=
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--cache) [ $# -ge 2 ] || die "--cache needs a directory"; cache=$2; shift 2 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) [ -z "$version" ] || die "only one VERSION allowed (see --help)"; version=$1; shift ;;
	esac
done
case $version in
6.1) meta=linux-image-amd64 ;;
6.12) meta=linux-image-6.12-amd64 ;;
'') usage >&2; exit 2 ;;
*) die "unsupported kernel version '$version': use 6.1 or 6.12" ;;
esac

mkdir -p "$cache" 2>/dev/null || die "cannot create cache directory $cache (set PAGEMIG_LAB_CACHE to a writable directory)"
[ -w "$cache" ] || die "cache directory $cache is not writable (set PAGEMIG_LAB_CACHE to a writable directory)"

# One fetch at a time per cache (ctest may run several lab tests in parallel).
exec 9>"$cache/.lock"
flock 9

# The metapackage depends on the versioned image package, e.g. linux-image-6.1.0-56-amd64.
# That one is the signed image; it holds /boot/vmlinuz-* just like its -unsigned twin.
resolve() {
	apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | grep -v -- '-unsigned$' | head -n 1 || true
}

use_cached() {
	[ -f "$cache/$version/vmlinuz" ] || return 1
	log "$1; using the cached kernel $(cat "$cache/$version/package" 2>/dev/null || echo "$version")"
	cd "$cache/$version" && pwd -P
	exit 0
}

# apt-get update, once. Its status is not trusted either way: a failing third-party source
# makes it fail although Debian's lists arrived; the caller retries and judges by the result.
updated=${PAGEMIG_LAB_FETCH_UPDATED:+true}
updated=${updated:-false}
apt_update() {
	$updated && return 1
	updated=true
	log "running apt-get update ($1)"
	apt-get update -qq >&2 || log "apt-get update reported errors (continuing)"
}

# Fast path: nothing to resolve again while the package lists are older than our last answer.
lists=/var/lib/apt/lists
eval "$(apt-config shell lists Dir::State::lists/d 2>/dev/null)"
if [ -f "$cache/$version/package" ] && [ -f "$cache/$version/vmlinuz" ] &&
	[ -z "$(find "$lists" -maxdepth 1 -name '*_Packages*' -newer "$cache/$version/package" 2>/dev/null | head -n 1)" ] &&
	ls "$lists"/*_Packages* >/dev/null 2>&1; then
	log "cached: $(cut -d' ' -f1,2 "$cache/$version/package")"
	cd "$cache/$version" && pwd -P
	exit 0
fi

pkg=$(resolve)
if [ -z "$pkg" ]; then
	apt_update "no package list knows $meta"
	pkg=$(resolve)
	[ -n "$pkg" ] || use_cached "cannot resolve $meta" ||
		die "cannot resolve the kernel package that $meta depends on, even after apt-get update (apt-cache depends $meta); check access to the Debian archive"
fi
pkgver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
[ -n "$pkgver" ] || die "apt-cache knows no version of $pkg"

name="${pkg}_${pkgver}"
dir="$cache/$name"
if [ -f "$dir/vmlinuz" ] && [ -f "$dir/config" ]; then
	ln -sfn "$name" "$cache/$version"
	touch "$dir/package" # resolved against the current lists
	log "cached: $pkg $pkgver"
	echo "$dir"
	exit 0
fi

work=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
# As root, apt downloads as its _apt user when that user can write the directory.
[ "$(id -u)" != 0 ] || ! id _apt >/dev/null 2>&1 || chown _apt "$work"

download() {
	(cd "$work" && apt-get download -q "$pkg=$pkgver" >"$work/apt.log" 2>&1)
}
t0=$SECONDS
log "downloading $pkg $pkgver"
if ! download; then
	if grep -qiE 'unable to locate|no candidate|404|not found' "$work/apt.log" && ! $updated; then
		# Stale lists: update them and start over, as the dependency may have moved on too.
		apt_update "download failed: $(grep -iE 'unable to locate|no candidate|404|not found' "$work/apt.log" | head -n 1)"
		rm -rf "$work"
		PAGEMIG_LAB_FETCH_UPDATED=1 exec "$0" --cache "$cache" "$version"
	else
		cat "$work/apt.log" >&2
		use_cached "download failed" || die "apt-get download $pkg=$pkgver failed (see the messages above)"
	fi
fi
deb=$(find "$work" -maxdepth 1 -name '*.deb' | head -n 1)
[ -n "$deb" ] || die "apt-get download left no .deb in $work"
log "downloaded $(du -m "$deb" | cut -f1) MiB in $((SECONDS - t0)) s; extracting /boot"

mkdir -p "$work/x"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/x" --wildcards './boot/*' ||
	die "cannot extract /boot from $deb"
mkdir -p "$work/out"
# (Debian's System.map is a placeholder pointing at the -dbg package: not kept.)
for f in vmlinuz config; do
	src=$(find "$work/x/boot" -maxdepth 1 -name "$f-*" | head -n 1)
	[ -n "$src" ] || die "$deb holds no /boot/$f-* (is $pkg really a kernel image package?)"
	cp "$src" "$work/out/$f"
done
printf '%s %s %s\n' "$pkg" "$pkgver" "$(basename "$(find "$work/x/boot" -name 'vmlinuz-*' | head -n 1)" | sed 's/^vmlinuz-//')" >"$work/out/package"

rm -rf "$dir"
mv "$work/out" "$dir"
ln -sfn "$name" "$cache/$version"
log "cached $pkg $pkgver in $dir"
echo "$dir"
