#!/usr/bin/env bash
# Checks of systemd/pagemigd.service with the host's systemd-analyze (no running systemd needed).
#
#   check-unit.sh verify UNIT MANPATH [DAEMON]
#       `systemd-analyze verify` prints nothing. ExecStart= is pointed at DAEMON (the built
#       pagemigd) or, before it is built, at /bin/true: verify insists the binary exists.
#       MANPATH holds the built pages, for the Documentation= check.
#   check-unit.sh security UNIT UNIT_IN MANPAGE
#       `systemd-analyze security --offline` rates the unit's exposure at most 3.0, and the
#       figure stated in UNIT_IN's header comment and in MANPAGE (pagemigd.8) is the one measured.
#
# Exit status: 0 pass, 1 fail, 77 skip (no systemd-analyze or /bin/kill; a failure with $CI set).
set -euo pipefail

skip() {
	if [ -n "${CI:-}" ]; then
		echo "FAIL: $* (scripts/install-deps.sh installs it)"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}
fail() {
	echo "FAIL: $*"
	exit 1
}

mode=${1:?usage: check-unit.sh verify|security ...}
unit=${2:?unit file}
[ -r "$unit" ] || fail "cannot read $unit"
command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed (package systemd)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case $mode in
verify)
	manpath=$(cd "${3:?MANPATH}" && pwd)
	daemon=${4:-}
	[ -x /bin/kill ] || skip "/bin/kill (ExecReload=) not installed (package procps)"
	if [ -z "$daemon" ] || [ ! -x "$daemon" ]; then
		echo "note: pagemigd is not built; ExecStart= checked against /bin/true"
		daemon=/bin/true
	fi
	grep -q '^ExecStart=/[^ ]*/pagemigd ' "$unit" || fail "no ExecStart=.../pagemigd line in $unit"
	sed "s|^ExecStart=/[^ ]*/pagemigd |ExecStart=$daemon |" "$unit" >"$work/pagemigd.service"
	man_opt=()
	if command -v man >/dev/null; then
		export MANPATH=$manpath
	else
		echo "note: man is not installed; Documentation= not checked by systemd-analyze"
		man_opt=(--man=no)
		for page in pagemigd.8 pagemig.conf.5 pagemigctl.8; do
			ls "$manpath"/man*/"$page"* >/dev/null 2>&1 || fail "$page is not in $manpath"
		done
	fi
	out=$(cd "$work" && systemd-analyze verify "${man_opt[@]}" ./pagemigd.service 2>&1) || {
		echo "$out"
		fail "systemd-analyze verify failed"
	}
	if [ -n "$out" ]; then
		echo "$out"
		fail "systemd-analyze verify printed the messages above"
	fi
	echo "ok - systemd-analyze verify: clean ($(systemd-analyze --version | head -n 1))"
	;;
security)
	unit_in=${3:?UNIT_IN}
	manpage=${4:?MANPAGE}
	cp "$unit" "$work/pagemigd.service"
	out=$(cd "$work" && systemd-analyze security --offline=true ./pagemigd.service 2>&1) || {
		echo "$out"
		fail "systemd-analyze security failed"
	}
	figure=$(sed -n 's/.*Overall exposure level for pagemigd.service: \([0-9.]*\).*/\1/p' <<<"$out")
	[ -n "$figure" ] || {
		echo "$out"
		fail "no overall exposure level in the output above"
	}
	# Everything not fully restricted, for the log.
	grep -E '^✗' <<<"$out" | sed 's/  */ /g' || true
	echo "exposure: $figure"
	awk -v f="$figure" 'BEGIN { exit !(f <= 3.0) }' || fail "exposure $figure is above 3.0"
	echo "ok - exposure $figure <= 3.0"
	stated=$(sed -n 's/^# systemd-analyze security pagemigd.service: exposure \([0-9.]*\) .*/\1/p' "$unit_in")
	[ "$stated" = "$figure" ] ||
		fail "$unit_in states exposure '${stated:-none}', systemd-analyze measures $figure: update the header comment"
	echo "ok - the unit's header states $figure"
	grep -q "^rates its exposure $figure of 10\.\$" "$manpage" ||
		fail "$manpage does not say 'rates its exposure $figure of 10.': update its SECURITY section"
	echo "ok - pagemigd(8) states $figure"
	;;
*)
	fail "unknown mode '$mode'"
	;;
esac
