#!/bin/bash
# The systemd lab test, inside the guest: Debian 12 with systemd as PID 1, run by
# pagemig-lab.service once multi-user.target is reached. Reports on the console with the lab's
# protocol (tests/lab/README.md: LAB-BOOT, LAB-PLAN, LAB-BEGIN, LAB-RESULT, LAB-DONE) and powers
# the guest off.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export SYSTEMD_PAGER='' SYSTEMD_COLORS=0 LC_ALL=C.UTF-8

lab=/lab
conf=/etc/pagemig.conf
wl_dir=/run/lab-workload
cases=(install start sources control reload watchdog stop)
pass=0 fail=0 skip=0
failures=0 # of the current case

ok() { echo "ok - $*"; }
bad() {
	echo "not ok - $*"
	failures=$((failures + 1))
}
# check DESCRIPTION COMMAND...: run it, ok when it exits 0.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what (exit status $?)"; fi
}
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; } # seconds since uptime $1
prop() { systemctl show -p "$2" --value "$1"; }
as_user() { # as_user USER COMMAND...: with the user's groups, exit status of COMMAND
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
}
# wait_for SECONDS COMMAND...: until it succeeds, every 0.2 s
wait_for() {
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
# "name=state name=state ..." of the sampler's sources from `pagemigctl --json status` (stdin).
sources_of() {
	tr -d '\n' | grep -o '"name": *"[a-z_]*", *"state": *"[a-z]*"' |
		sed 's/"name": *"\([a-z_]*\)", *"state": *"\([a-z]*\)"/\1=\2/' | paste -sd' ' -
}
json_num() { grep -o "\"$1\": *[0-9.]*" | head -n 1 | sed 's/.*: *//'; }

case_install() {
	local t0 out
	t0=$(now)
	check "dpkg -i pagemig.deb" dpkg -i "$lab/pagemig.deb"
	echo "dpkg -i took $(since "$t0") s"
	[ "$(systemctl is-enabled pagemigd.service 2>&1)" = disabled ] &&
		ok "pagemigd.service is installed disabled" || bad "pagemigd.service is $(systemctl is-enabled pagemigd.service 2>&1), not disabled"
	[ "$(systemctl is-active pagemigd.service)" = inactive ] && ok "pagemigd is not running after install" ||
		bad "pagemigd is $(systemctl is-active pagemigd.service) after install"
	check "the group pagemig exists (systemd-sysusers in postinst)" getent group pagemig
	dpkg-query -W -f='${Conffiles}\n' pagemig | grep -q "^ $conf " &&
		ok "$conf is a conffile" || bad "$conf is not a conffile"
	out=$(systemd-analyze verify --man=no pagemigd.service 2>&1)
	[ -z "$out" ] && ok "systemd-analyze verify pagemigd.service is clean" ||
		bad "systemd-analyze verify: $out"
	out=$(systemd-analyze security pagemigd.service 2>&1 | grep 'Overall exposure')
	echo "$out"
	awk -v f="$(sed 's/.*: \([0-9.]*\).*/\1/' <<<"$out")" 'BEGIN { exit !(f != "" && f <= 3.0) }' &&
		ok "exposure at most 3.0 on the guest's systemd too" || bad "exposure: '$out'"
	# users for the access checks and the workload
	useradd --no-create-home --groups pagemig labmember && useradd --no-create-home labother
	check "users labmember (in pagemig) and labother" id labmember
}

# The workload runs as another user in its own transient unit, outside pagemigd's cgroup.
start_workload() {
	systemctl reset-failed lab-workload.service 2>/dev/null
	systemd-run --quiet --unit=lab-workload --uid=labother --gid=labother \
		-p RuntimeDirectory=lab-workload -p RuntimeDirectoryPreserve=yes \
		"$lab/workload" --size 288 --ready "$wl_dir/ready" --result "$wl_dir/result" &&
		wait_for 120 test -e "$wl_dir/ready"
}

unconfined_sources=''
case_start() {
	local t0 secs st pid started_line ready_line
	check "the workload runs (288 MiB, user labother)" start_workload

	# The same daemon without the unit's sandbox, for case sources to compare with.
	/usr/sbin/pagemigd --foreground --observe --socket /run/lab-unconfined.sock \
		>/run/lab-unconfined.log 2>&1 &
	pid=$!
	if wait_for 180 pagemigctl -s /run/lab-unconfined.sock status >/dev/null 2>&1; then
		unconfined_sources=$(pagemigctl -s /run/lab-unconfined.sock --json status | sources_of)
		ok "pagemigd without sandbox answers; sources: $unconfined_sources"
	else
		bad "pagemigd without sandbox did not answer within 180 s"
		tail -n 20 /run/lab-unconfined.log
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	st=$?
	[ "$st" = 0 ] && ok "SIGTERM: it exits 0" || bad "SIGTERM: exit status $st"

	t0=$(now)
	check "systemctl start pagemigd" systemctl start pagemigd.service
	secs=$(since "$t0")
	echo "systemctl start took $secs s"
	# Type=notify: start returned after READY=1, which comes after the socket is bound.
	check "pagemigctl answers at once after start returned" pagemigctl --timeout 5 status
	[ "$(prop pagemigd ActiveState)/$(prop pagemigd SubState)" = active/running ] &&
		ok "active (running)" || bad "state $(prop pagemigd ActiveState)/$(prop pagemigd SubState)"
	[ -n "$(prop pagemigd StatusText)" ] && ok "STATUS=: $(prop pagemigd StatusText)" ||
		bad "no STATUS= text"
	# the daemon's own 'started' line precedes systemd's 'Started' (the job ends with READY)
	journalctl -o short-monotonic --no-hostname -b _SYSTEMD_UNIT=pagemigd.service + UNIT=pagemigd.service |
		grep -nE 'pagemigd .* started|Started pagemigd.service' >/run/lab-start.txt
	cat /run/lab-start.txt
	started_line=$(grep -m1 'pagemigd .* started' /run/lab-start.txt | cut -d: -f1)
	ready_line=$(grep -m1 'Started pagemigd.service' /run/lab-start.txt | cut -d: -f1)
	[ -n "$started_line" ] && [ -n "$ready_line" ] && [ "$started_line" -lt "$ready_line" ] &&
		ok "the unit became active only after the daemon was set up" ||
		bad "journal order of 'started' ($started_line) and 'Started' ($ready_line)"
}

case_sources() {
	local confined
	[ -n "$unconfined_sources" ] || { echo "no unconfined run to compare with"; return 77; }
	confined=$(pagemigctl --json status | sources_of)
	echo "without the sandbox: $unconfined_sources"
	echo "under the unit:      $confined"
	[ "$confined" = "$unconfined_sources" ] &&
		ok "the unit's sandbox and capabilities cost no sampler source" ||
		bad "the sandbox changes the sampler's sources"
	grep -q '=active' <<<"$confined" && ok "some source is active" || bad "no source is active"
	# The unit's bounding set: CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE,
	# CAP_SYS_NICE, CAP_PERFMON, CAP_BPF; the daemon may have dropped more from CapEff.
	grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$(prop pagemigd MainPID)/status"
	[ "$(sed -n 's/^CapBnd:\t//p' "/proc/$(prop pagemigd MainPID)/status")" = 000000c000880006 ] &&
		ok "bounding set: the unit's six capabilities" || bad "unexpected bounding set"
	journalctl -b -u pagemigd --no-hostname -o cat | grep -iE 'source|privilege|capab' | head -n 20
}

case_control() {
	local st
	check "root: pagemigctl status" pagemigctl status
	check "pagemig member: pagemigctl status" as_user labmember pagemigctl status
	check "pagemig member: pagemigctl --json status" as_user labmember pagemigctl --json status
	as_user labmember pagemigctl pause
	st=$?
	[ "$st" = 4 ] && ok "pagemig member: pause refused (exit 4)" || bad "pagemig member: pause exit status $st, not 4"
	as_user labother pagemigctl status
	st=$?
	[ "$st" = 4 ] && ok "other user: status refused (exit 4)" || bad "other user: status exit status $st, not 4"
	check "root: pause" pagemigctl pause
	pagemigctl --json status | grep -q '"paused": *true' && ok "paused" || bad "not paused after pause"
	check "root: resume" pagemigctl resume
	ls -l /run/pagemig/
}

interval_is() { [ "$(pagemigctl --json status | json_num interval_ms)" = "$1" ]; }

case_reload() {
	local pid
	pid=$(prop pagemigd MainPID)
	cp "$conf" /run/lab-pagemig.conf.orig
	check "interval is the default 5s" interval_is 5000
	sed -i 's/^#interval = 5s$/interval = 2s/' "$conf"
	grep -q '^interval = 2s$' "$conf" || bad "could not set interval in $conf"
	check "systemctl reload pagemigd" systemctl reload pagemigd.service
	wait_for 20 interval_is 2000 && ok "reload applied interval = 2s" || bad "interval still $(pagemigctl --json status | json_num interval_ms) ms"

	sed -i 's/^interval = 2s$/interval = banana/' "$conf"
	check "systemctl reload pagemigd (a bad file)" systemctl reload pagemigd.service
	wait_for 20 sh -c "systemctl show -p StatusText --value pagemigd | grep -q 'reload failed'" &&
		ok "STATUS= says: $(prop pagemigd StatusText)" || bad "STATUS= is '$(prop pagemigd StatusText)'"
	sleep 5 # two cycles, each with a new status line
	prop pagemigd StatusText | grep -q 'reload failed' &&
		ok "STATUS= still says it after 5 s" || bad "STATUS= is '$(prop pagemigd StatusText)' after 5 s"
	check "the old configuration stays (interval 2s)" interval_is 2000
	[ "$(prop pagemigd ActiveState)" = active ] && [ "$(prop pagemigd MainPID)" = "$pid" ] &&
		ok "still active, same process" || bad "state $(prop pagemigd ActiveState), pid $(prop pagemigd MainPID) (was $pid)"
	journalctl -b -u pagemigd --no-hostname -o cat | grep -E "$conf:[0-9]+:" | tail -n 3
	journalctl -b -u pagemigd --no-hostname -o cat | grep -qE "$conf:[0-9]+: .*interval" &&
		ok "the journal names the bad line" || bad "no '$conf:LINE: ... interval' message in the journal"
	cp /run/lab-pagemig.conf.orig "$conf"
	check "systemctl reload pagemigd (the shipped file again)" systemctl reload pagemigd.service
	wait_for 20 interval_is 5000 || bad "interval not back to 5s"
	prop pagemigd StatusText | grep -q 'reload failed' &&
		bad "STATUS= still says the reload failed: '$(prop pagemigd StatusText)'" ||
		ok "STATUS= after a good reload: $(prop pagemigd StatusText)"
}

restarted() { # restarted OLDPID: a new main process is up and answers
	local p
	p=$(prop pagemigd MainPID)
	[ "$p" != 0 ] && [ "$p" != "$1" ] && [ "$(prop pagemigd ActiveState)" = active ] &&
		pagemigctl --timeout 2 status >/dev/null 2>&1
}

case_watchdog() {
	local pid restarts t0 secs
	pid=$(prop pagemigd MainPID)
	restarts=$(prop pagemigd NRestarts)
	echo "WatchdogUSec=$(prop pagemigd WatchdogUSec) main pid $pid, restarts so far $restarts"
	t0=$(now)
	kill -STOP "$pid"
	if wait_for 180 restarted "$pid"; then
		secs=$(since "$t0")
		ok "stopped with SIGSTOP: killed by the watchdog and restarted in $secs s (pid $(prop pagemigd MainPID))"
	else
		bad "not restarted within 180 s: state $(prop pagemigd ActiveState), pid $(prop pagemigd MainPID)"
	fi
	[ "$(prop pagemigd NRestarts)" -gt "$restarts" ] && ok "NRestarts=$(prop pagemigd NRestarts)" ||
		bad "NRestarts=$(prop pagemigd NRestarts)"
	journalctl -b -u pagemigd --no-hostname -o cat | grep -i 'watchdog' | tail -n 2
	journalctl -b -u pagemigd --no-hostname -o cat | grep -qi 'watchdog timeout' &&
		ok "the journal says: watchdog timeout" || bad "no watchdog timeout in the journal"
}

case_stop() {
	local wpid t0 secs
	wpid=$(prop lab-workload MainPID)
	[ "$wpid" != 0 ] || { bad "the workload is not running"; return; }
	t0=$(now)
	check "systemctl stop pagemigd" systemctl stop pagemigd.service
	secs=$(since "$t0")
	echo "systemctl stop took $secs s"
	[ "$(prop pagemigd ActiveState)" = inactive ] && ok "pagemigd is inactive (a clean exit)" ||
		bad "pagemigd is $(prop pagemigd ActiveState) ($(prop pagemigd Result))"
	[ "$(prop lab-workload ActiveState)" = active ] && [ "$(prop lab-workload MainPID)" = "$wpid" ] &&
		ok "the workload still runs (pid $wpid)" || bad "the workload is $(prop lab-workload ActiveState)"
	rm -f "$wl_dir/result"
	kill -USR1 "$wpid"
	if wait_for 60 test -s "$wl_dir/result"; then
		echo "workload: $(cat "$wl_dir/result")"
		grep -q '^intact' "$wl_dir/result" && ok "its memory is intact" || bad "its memory is not intact"
	else
		bad "the workload did not answer SIGUSR1 within 60 s"
	fi
	systemctl stop lab-workload.service
}

run_case() {
	local name=$1 t0 st secs verdict reason=''
	echo "LAB-BEGIN $name"
	failures=0
	t0=$(now)
	"case_$name"
	st=$?
	secs=$(since "$t0")
	if [ "$st" = 77 ]; then
		verdict=SKIP skip=$((skip + 1))
	elif [ "$failures" = 0 ]; then
		verdict=PASS pass=$((pass + 1))
	else
		verdict=FAIL fail=$((fail + 1)) reason="$failures checks failed"
	fi
	echo "LAB-RESULT $name $verdict $secs${reason:+ $reason}"
}

nodes=$(sed -n 's/.*lab\.nodes=\([0-9]*\).*/\1/p' /proc/cmdline)
echo "LAB-BOOT kernel=$(uname -r) nodes=${nodes:-?} uptime=$(now) systemd=$(systemctl --version | head -n 1 | cut -d' ' -f2) state=$(systemctl is-system-running)"
echo "LAB-PLAN ${cases[*]}"
for c in "${cases[@]}"; do
	run_case "$c"
done
echo "LAB-DONE pass=$pass fail=$fail skip=$skip"
if [ "$fail" != 0 ]; then
	echo "---- journal of pagemigd ----"
	journalctl -b -u pagemigd --no-hostname -o short-monotonic | tail -n 60
fi
systemctl poweroff --no-block
