#!/usr/bin/env bash
# Checks of the manual (man/).
#
#   check-man.sh lint PAGE...
#       `mandoc -Tlint -W warning` reports nothing for any PAGE (style notes are not counted).
#   check-man.sh keys GEN PAGE
#       the key reference between the BEGIN KEYS and END KEYS lines of PAGE (pagemig.conf.5)
#       is exactly what GEN (man/gen-conf-keys, from the parser's key table) prints.
#
# Exit status: 0 pass, 1 fail, 77 skip (no mandoc; a failure with $CI set).
set -euo pipefail

fail() {
	echo "FAIL: $*"
	exit 1
}

case ${1:?usage: check-man.sh lint|keys ...} in
lint)
	shift
	if ! command -v mandoc >/dev/null; then
		[ -z "${CI:-}" ] || fail "mandoc is not installed (scripts/install-deps.sh installs it)"
		echo "SKIP: mandoc is not installed (apt-get install mandoc)"
		exit 77
	fi
	bad=0
	for page in "$@"; do
		out=$(mandoc -Tlint -W warning "$page" 2>&1) || true
		if [ -n "$out" ]; then
			echo "$out"
			echo "not ok - $(basename "$page")"
			bad=1
		else
			echo "ok - $(basename "$page"): mandoc -Tlint -W warning is silent"
		fi
	done
	[ $bad = 0 ] || fail "mandoc found problems (above)"
	;;
keys)
	gen=${2:?generator}
	page=${3:?page}
	committed=$(sed -n '/^\.\\" BEGIN KEYS/,/^\.\\" END KEYS/p' "$page")
	[ -n "$committed" ] || fail "$page has no BEGIN KEYS ... END KEYS block"
	generated=$("$gen")
	if [ "$committed" != "$generated" ]; then
		diff -u <(echo "$committed") <(echo "$generated") | head -n 60 || true
		fail "$page's key reference is behind daemon/config.c's key table: run 'cmake --build BUILD --target man-update-conf' and commit the page"
	fi
	echo "ok - $(basename "$page") documents the $(grep -c '^\.It Cm' <<<"$generated") keys of the key table, as generated"
	;;
*)
	fail "unknown mode '$1'"
	;;
esac
