#!/usr/bin/env bash
# fetch-numad.sh DIR: download Debian's numad package with apt-get download, unpack it into DIR and
# write DIR/files.txt ("SRC DEST" per line: the numad binary and the shared libraries it needs)
# for bench/field/CMakeLists.txt, which puts them into the NUMA lab image. Idempotent.
set -euo pipefail
dir=${1:?usage: fetch-numad.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ ! -x "$dir/root/usr/bin/numad" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download numad >/dev/null 2>&1) || {
		apt-get update -qq >/dev/null 2>&1 || true
		(cd "$tmp" && apt-get download numad >/dev/null)
	}
	deb=$(ls "$tmp"/numad_*.deb)
	rm -rf "$dir/root"
	dpkg-deb -x "$deb" "$dir/root"
	basename "$deb" >"$dir/package"
fi
bin=$dir/root/usr/bin/numad
{
	echo "$bin /usr/sbin/numad"
	# its libraries at their host paths (the image has the host's loader and libc)
	ldd "$bin" | sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' | while read -r lib; do
		echo "$(readlink -f "$lib") $lib"
	done
} >"$dir/files.txt"
echo "fetch-numad: $(cat "$dir/package") in $dir ($(wc -l <"$dir/files.txt") files for the image)"
