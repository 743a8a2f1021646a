#!/usr/bin/env bash
# Inspect the Debian package that `--target package-deb` built (the fixture test package-deb).
#
#   check-deb.sh BUILD_DIR [PROGRAM...]
#
# The newest BUILD_DIR/pagemig_*.deb must: ship the unit, the sysusers.d snippet, the manual,
# libpagemig and /etc/pagemig.conf as a conffile; ship each PROGRAM (pagemigd, pagemigctl, when
# built) in a bin or sbin directory with its shared-library dependencies declared; depend on
# procps (ExecReload=/bin/kill); install the service disabled (no enablement symlink, no
# enable/start in the maintainer scripts); and name /usr/sbin/pagemigd and /etc/pagemig.conf in
# ExecStart=.
set -euo pipefail

build=${1:?usage: check-deb.sh BUILD_DIR [PROGRAM...]}
shift
fail=0
ok() { echo "ok - $*"; }
bad() {
	echo "not ok - $*"
	fail=1
}

deb=$(ls -t "$build"/pagemig_*.deb 2>/dev/null | head -n 1 || true)
[ -n "$deb" ] || {
	echo "FAIL: no $build/pagemig_*.deb (the fixture test package-deb builds it)"
	exit 1
}
echo "package: $deb"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
files=$(cd "$work/root" && find . -mindepth 1 \( -type f -o -type l \) | sed 's|^\./|/|' | sort)
field() { dpkg-deb -f "$deb" "$1"; }
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)

for f in /lib/systemd/system/pagemigd.service /usr/lib/sysusers.d/pagemig.conf /etc/pagemig.conf \
	/usr/share/man/man8/pagemigd.8.gz /usr/share/man/man8/pagemigctl.8.gz \
	/usr/share/man/man5/pagemig.conf.5.gz /usr/share/man/man3/libpagemig.3.gz; do
	grep -qx "$f" <<<"$files" && ok "ships $f" || bad "does not ship $f"
done
grep -q '/libpagemig\.so\.0$' <<<"$files" && ok "ships libpagemig.so.0" || bad "does not ship libpagemig.so.0"
grep -qx /etc/pagemig.conf "$work/control/conffiles" 2>/dev/null && ok "/etc/pagemig.conf is a conffile" ||
	bad "/etc/pagemig.conf is not listed in conffiles"

depends=$(field Depends)
echo "Depends: $depends"
grep -qw procps <<<"$depends" && ok "depends on procps" || bad "does not depend on procps"
for prog in "$@"; do
	path=$(grep -E "/s?bin/$prog\$" <<<"$files" | head -n 1 || true)
	if [ -z "$path" ]; then
		bad "does not ship $prog"
		continue
	fi
	ok "ships $path"
	# every library it links (except our own) must come with a declared dependency
	for lib in $(objdump -p "$work/root$path" | awk '/NEEDED/ {print $2}'); do
		case $lib in libpagemig.so.*) continue ;; esac
		pkg=''
		for dir in /lib/$multiarch /usr/lib/$multiarch /lib /usr/lib; do
			pkg=$(dpkg -S "$dir/$lib" 2>/dev/null | head -n 1 | cut -d: -f1 || true)
			[ -z "$pkg" ] || break
		done
		[ -n "$pkg" ] || { bad "$prog needs $lib, which no installed package provides"; continue; }
		grep -qw "$pkg" <<<"$depends" && ok "$prog needs $lib: depends on $pkg" ||
			bad "$prog needs $lib from $pkg, not in Depends"
	done
done

grep -q '/etc/systemd/system/' <<<"$files" && bad "ships an enablement symlink" ||
	ok "ships no enablement symlink"
if cat "$work/control/postinst" "$work/control/preinst" 2>/dev/null | grep -v '^[[:space:]]*#' |
	grep -E 'systemctl +(enable|start|restart|reenable)|deb-systemd-invoke +start'; then
	bad "a maintainer script enables or starts the service (above)"
else
	ok "the maintainer scripts neither enable nor start the service"
fi
grep -q 'systemd-sysusers' "$work/control/postinst" && ok "postinst runs systemd-sysusers" ||
	bad "postinst does not create the group"
grep -qx 'ExecStart=/usr/sbin/pagemigd --config /etc/pagemig.conf' \
	"$work/root/lib/systemd/system/pagemigd.service" && ok "ExecStart= names /usr/sbin/pagemigd and /etc/pagemig.conf" ||
	bad "ExecStart= does not name /usr/sbin/pagemigd --config /etc/pagemig.conf"

if [ $fail = 0 ]; then echo "PASS: $(basename "$deb")"; else echo "FAIL: $(basename "$deb")"; fi
exit $fail
