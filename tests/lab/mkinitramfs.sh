#!/usr/bin/env bash
# Build the NUMA lab's initramfs: busybox, /init, the lab cases and everything they link against.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

usage() {
	cat <<'EOF'
Usage: mkinitramfs.sh -o OUT.cpio.gz [--manifest FILE] [--case PATH]... [--program PATH]...
                      [--host-program NAME]... [--file SRC:DEST]...

Build a gzip'd cpio initramfs for the NUMA lab guest holding:
  /init, /usr/local/bin/lab-run   the guest init and case runner (tests/lab/guest/)
  busybox                   static, with its applet links
  /lab/bin/NAME             every lab case, and extra programs
  /lab/manifest             "NAME NODES TIMEOUT FLAGS ARGS..." per case, read by lab-run
  numactl, migratepages     copied from the host (at their host paths) for comparisons
  shared libraries          of all the above, found with ldd, at their host paths, with the
                            dynamic loader; the host's merged-/usr symlinks are reproduced

  -o, --output FILE      the initramfs to write (required)
  --manifest FILE        host manifest written by CMake (tests/lab/PagemigLab.cmake); lines of
                         tab-separated fields:
                           case<TAB>NAME<TAB>PATH<TAB>NODES<TAB>TIMEOUT<TAB>FLAGS<TAB>ARGS
                           program<TAB>PATH
                           file<TAB>SRC<TAB>/DEST
  --case PATH            add the executable PATH as a case named after it (nodes 2,3, 60 s)
  --program PATH         add the executable PATH as /lab/bin/NAME without making it a case
  --host-program NAME    add a host program (found in PATH) at its host path; numactl and
                         migratepages are always added
  --file SRC:DEST        add the file SRC at DEST in the image
EOF
}

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

out='' manifest=''
cases=() programs=() host_programs=(numactl migratepages) files=()
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-o | --output) out=${2:?}; shift 2 ;;
	--manifest) manifest=${2:?}; shift 2 ;;
	--case) cases+=("$(basename "$2")	${2:?}	2,3	60	-	"); shift 2 ;;
	--program) programs+=("${2:?}"); shift 2 ;;
	--host-program) host_programs+=("${2:?}"); shift 2 ;;
	--file) files+=("${2:?}"); shift 2 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[ -n "$out" ] || die "no output given: use -o OUT.cpio.gz (see --help)"
for tool in cpio gzip ldd; do
	command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh"
done
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	die "no static busybox found in PATH: install busybox-static (scripts/install-deps.sh)"
fi

if [ -n "$manifest" ]; then
	[ -r "$manifest" ] || die "cannot read manifest $manifest"
	while IFS= read -r line; do
		case $line in
		case$'\t'*) cases+=("${line#case$'\t'}") ;;
		program$'\t'*) programs+=("${line#program$'\t'}") ;;
		file$'\t'*) line=${line#file$'\t'}; files+=("${line%%$'\t'*}:${line#*$'\t'}") ;;
		'' | '#'*) ;;
		*) die "$manifest: bad line '$line'" ;;
		esac
	done <"$manifest"
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/pagemig-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

# Same top-level layout as the host: Debian 12 has /bin -> usr/bin, /lib -> usr/lib, ...
mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,dev,proc,sys,tmp,run,etc,root,lab/bin}
for d in bin sbin lib lib32 lib64; do
	if [ -L "/$d" ]; then
		ln -s "$(readlink "/$d")" "$root/$d"
		mkdir -p "$root/$(readlink -f "/$d")"
	else
		mkdir -p "$root/$d"
	fi
done

# put SRC DEST: copy a file (dereferenced) to DEST inside the image, creating its directory.
put() {
	[ -f "$1" ] || die "missing file $1"
	mkdir -p "$root$(dirname "$2")"
	cp -L "$1" "$root$2"
}

# Copy an executable's shared libraries and its loader to their paths on the host.
declare -A copied=()
put_libs() {
	local exe=$1 ldd_out lib
	ldd_out=$(ldd "$exe" 2>&1) || {
		grep -q 'not a dynamic executable' <<<"$ldd_out" && return 0
		die "ldd $exe failed: $ldd_out"
	}
	if grep -q 'not found' <<<"$ldd_out"; then
		die "$exe needs libraries that ldd cannot find:"$'\n'"$(grep 'not found' <<<"$ldd_out")"
	fi
	while read -r lib; do
		[ -n "${copied[$lib]:-}" ] && continue
		copied[$lib]=1
		put "$lib" "$lib"
		# The guest mounts tmpfs on /tmp (and /run): a library of a build tree under one of
		# them would be hidden there, so build-tree libraries also go to /lab/lib, which
		# the guest's LD_LIBRARY_PATH searches before any RUNPATH.
		case $lib in
		/lib/* | /lib64/* | /usr/lib/* | /usr/lib64/*) ;;
		*) put "$lib" "/lab/lib/$(basename "$lib")" ;;
		esac
	done < <(sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' <<<"$ldd_out")
}

put "$busybox" /usr/bin/busybox
while read -r applet; do
	[ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /usr/bin/busybox "$root/$applet"
done < <("$busybox" --list-full)

put "$here/guest/init" /init
put "$here/guest/lab-run" /usr/local/bin/lab-run
chmod 755 "$root/init" "$root/usr/local/bin/lab-run"

for p in "${host_programs[@]}"; do
	path=$(command -v "$p" || true)
	[ -n "$path" ] || die "host program $p not found (numactl and migratepages come with numactl: scripts/install-deps.sh)"
	path=$(readlink -f "$path")
	put "$path" "$path"
	put_libs "$path"
done

: >"$root/lab/manifest"
for c in "${cases[@]}"; do
	IFS=$'\t' read -r name path nodes timeout flags args <<<"$c"
	[[ $name =~ ^[A-Za-z0-9_-]+$ ]] || die "bad case name '$name' (letters, digits, _ and - only)"
	[ -x "$path" ] || die "case $name: $path is not an executable (was it built?)"
	[ -e "$root/lab/bin/$name" ] && die "two cases or programs are named $name"
	put "$path" "/lab/bin/$name"
	put_libs "$path"
	echo "$name ${nodes:-3} ${timeout:-60} ${flags:--} $args" >>"$root/lab/manifest"
done
for p in "${programs[@]}"; do
	[ -x "$p" ] || die "program $p is not an executable (was it built?)"
	[ -e "$root/lab/bin/$(basename "$p")" ] && die "two cases or programs are named $(basename "$p")"
	put "$p" "/lab/bin/$(basename "$p")"
	put_libs "$p"
done
for f in "${files[@]}"; do
	[[ $f == *:/* ]] || die "--file $f: expected SRC:/absolute/dest"
	put "${f%%:/*}" "/${f#*:/}"
done

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
lab:x:1000:1000:lab user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
lab:x:1000:
nogroup:x:65534:
EOF
printf 'lab\n' >"$root/etc/hostname"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) |
	gzip -6 >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: wrote $out ($(du -k "$out" | cut -f1) KiB, ${#cases[@]} cases)" >&2
