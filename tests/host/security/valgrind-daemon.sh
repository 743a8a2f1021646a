#!/bin/sh
# valgrind memcheck over a daemon's life: start (the sampler's BPF programs included), a few
# policy cycles with a managed process, status and metrics requests, a reload (SIGHUP), a stop
# (SIGTERM). Fails on any memcheck error, on definitely or indirectly lost memory, and when the
# daemon does not stop cleanly. valgrind.supp holds the suppressions, each with its reason.
#
#   valgrind-daemon.sh PAGEMIGD PAGEMIGCTL WORKLOAD [SECONDS]
set -u
pagemigd=$1
pagemigctl=$2
workload=$3
secs=${4:-10}
here=$(cd "$(dirname "$0")" && pwd)

command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (BPF)"; exit 77; }

dir=$(mktemp -d /tmp/pagemig-valgrind-XXXXXX)
# PAGEMIG_VALGRIND_KEEP=DIR keeps the logs there
trap 'kill $work 2>/dev/null; [ -n "${vg:-}" ] && kill -KILL $vg 2>/dev/null
      [ -n "${PAGEMIG_VALGRIND_KEEP:-}" ] && cp "$dir"/*.log "$PAGEMIG_VALGRIND_KEEP"/
      rm -rf "$dir"' EXIT
conf=$dir/pagemig.conf
sock=$dir/pagemigd.sock
cat >"$conf" <<CONF
[daemon]
socket = $sock
interval = 250ms
log_level = debug
[sampler]
rearm = 1s
[migrate]
min_rss = 1MiB
[policy work]
comm = pagemig-work*
type = locality
CONF
chmod 0644 "$conf"

# a managed process (pagemig-workload: 8 MiB written over and over, checked at exit)
"$workload" --hot 8 --cold 8 >/dev/null &
work=$!

valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
	--num-callers=30 --suppressions="$here/valgrind.supp" --log-file="$dir/valgrind.log" \
	"$pagemigd" -f -c "$conf" 2>"$dir/pagemigd.log" &
vg=$!

# start-up under valgrind (BTF parsing, BPF loading) takes a while
i=0
until "$pagemigctl" --socket "$sock" --timeout 5 status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -ge 180 ] || ! kill -0 $vg 2>/dev/null; then
		echo "not ok - pagemigd did not answer under valgrind"
		cat "$dir/pagemigd.log" "$dir/valgrind.log"
		exit 1
	fi
	sleep 1
done
echo "ok - started under valgrind in about ${i} s"
half=$((secs / 2))
sleep $half
"$pagemigctl" --socket "$sock" --timeout 20 procs >/dev/null || echo "(procs failed)"
"$pagemigctl" --socket "$sock" --timeout 20 metrics >/dev/null || echo "(metrics failed)"
kill -HUP $vg
sleep $((secs - half))
"$pagemigctl" --socket "$sock" --timeout 20 status | sed -n 's/^/  /p' | head -12
# pagemigctl --json status: the cycles, for the record
"$pagemigctl" --socket "$sock" --timeout 20 --json status >"$dir/status.json" 2>/dev/null
kill -TERM $vg
wait $vg
rc=$?
vg=
echo "  daemon log: $(wc -l <"$dir/pagemigd.log") lines; reloaded: $(grep -c 'configuration reloaded' "$dir/pagemigd.log")"
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|suppressed:" "$dir/valgrind.log" | sed 's/^==[0-9]*== /  /'
fail=0
if [ $rc -ne 0 ]; then
	echo "not ok - pagemigd under valgrind exited with $rc"
	sed -n '/== [A-Z].*\(Invalid\|uninitialised\|Conditional\|Syscall param\|definitely\|indirectly\)/,/==$/p' \
		"$dir/valgrind.log" | head -150
	tail -20 "$dir/pagemigd.log"
	fail=1
fi
grep -q "configuration reloaded" "$dir/pagemigd.log" || { echo "not ok - no reload"; fail=1; }
# valgrind 3.19 (Debian 12) does not know pidfd_open(2) (ENOSYS): under it no process is
# managed, and the daemon says why once; the managed paths run under ASan (scripts/test.sh)
if grep -q "managing process" "$dir/pagemigd.log"; then
	echo "  a process was managed"
elif grep -q "cannot manage process.*pidfd_open" "$dir/pagemigd.log"; then
	echo "  no process managed: valgrind has no pidfd_open (the daemon said so)"
else
	echo "not ok - the workload was neither managed nor refused with a reason"
	fail=1
fi
cycles=$(grep -o '"cycles": *[0-9]*' "$dir/status.json" | grep -o '[0-9]*$')
echo "  cycles run under valgrind: ${cycles:-?}"
[ "${cycles:-0}" -ge 3 ] || { echo "not ok - fewer than 3 cycles"; fail=1; }
[ $fail -eq 0 ] && echo "ok - memcheck clean over start, cycles, requests, reload and stop"
exit $fail
