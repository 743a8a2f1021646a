#!/usr/bin/env bash
# bench/field/run.sh: the benchmarks against the field (issue 9), one command, one report.
#
# Builds what it needs, runs every case (NUMA-lab cases in QEMU guests, host cases here), keeps
# the raw output in bench/field/results/ and writes bench/RESULTS.md with tables and plots
# (bench/field/report.sh, gnuplot). See bench/field/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

usage() {
	cat <<'EOF'
Usage: bench/field/run.sh [options]

Runs the field benchmarks and writes bench/RESULTS.md. Cases (default: all but numad-long, in
this order):
  static      convergence, memory on node 0 / thread on cpu 1         (lab)
  throughput  bench-move 64,256,512 MiB 4k+THP; bench-process 64, 256 MiB (lab)
  tiering     convergence, hot+cold sets on memory-only node 2        (lab)
  shared      convergence, pages written from both nodes              (lab)
  phase       convergence, threads switch node every 20 s             (lab)
  small-lab   small requests (1-16 pages) across nodes                (lab)
  overhead    pagemigd CPU and RSS with 10/100/1000 processes         (host, root)
  small-host  small requests, same node (overhead only)               (host)
  large       static with a 1 GiB hot set, 2 GiB nodes                 (lab)
  numad-long  numad alone on the static workload for 400 s (optional) (lab)

  --cases LIST     comma-separated subset of the above
  --reps N         repetitions (default 5)
  --movers LIST    movers of the convergence cases run now, instead of each case's own list
  --build DIR      CMake build directory (default build-field; configured and built here)
  --kernel K       lab kernel, 6.12 or 6.1 (default 6.12)
  --quick          1 repetition, short runs, small sizes: does everything work? (~15 min)
  --keep           do not rerun a case whose results exist (resume an interrupted run)
  --report-only    only regenerate bench/RESULTS.md and the plots from results/
  --test-crash-after K
                   testing this driver: the first guest of every convergence case crashes
                   itself after K runs (the case must go on in a new guest and finish)
  -h, --help       this text

Lab cases boot the guest once per case (tests/lab/run-lab.sh, MANUAL case field_lab, the run
chosen with field.args= on the kernel command line). While a guest runs, the host CPU time of
its two vCPU threads is sampled every 0.5 s (results/lab-CASE.host) so that the workload's
progress can also be measured per emulated-CPU second, which the host's other load cannot skew.
EOF
}

build=$root/build-field kernel=6.12 reps=5 quick=0 keep=0 report_only=0 movers_all='' crash_after=''
cases=static,throughput,tiering,shared,phase,small-lab,overhead,small-host,large
while [ $# -gt 0 ]; do
	case $1 in
	--cases) cases=${2:?}; shift 2 ;;
	--reps) reps=${2:?}; shift 2 ;;
	--movers) movers_all=${2:?}; shift 2 ;;
	--build) build=$(realpath -m "${2:?}"); shift 2 ;;
	--kernel) kernel=${2:?}; shift 2 ;;
	--quick) quick=1; shift ;;
	--keep) keep=1; shift ;;
	--report-only) report_only=1; shift ;;
	--test-crash-after) crash_after=${2:?}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --reps needs a positive number" >&2; exit 2; }
[[ -z $crash_after || $crash_after =~ ^[0-9]+$ ]] ||
	{ echo "run.sh: --test-crash-after needs a count" >&2; exit 2; }
results=$here/results
mkdir -p "$results"

log() { printf '[%s] %s\n' "$(date -u '+%F %T')" "$*" | tee -a "$results/run.log" >&2; }

if [ "$report_only" = 1 ]; then
	exec "$here/report.sh" "$results"
fi

if [ "$quick" = 1 ]; then
	reps=1
fi

# --- build ------------------------------------------------------------------------------------
"$here/fetch-numad.sh" "$build/bench/field/numad" ||
	log "numad could not be fetched: the numad runs will say so"
if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
else
	cmake "$build" >/dev/null # picks up numad's files.txt
fi
cmake --build "$build" --target lab-image field-small field-overhead pagemigd pagemigctl \
	bench-move bench-process >/dev/null
log "built in $build (kernel $kernel, reps $reps, quick $quick)"

# --- host facts, once ---------------------------------------------------------------------------
{
	echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host=$(hostname)"
	echo "host_kernel=$(uname -r)"
	echo "host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "host_cpus=$(nproc)"
	echo "host_mem_gib=$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)"
	echo "qemu=$(qemu-system-x86_64 --version | head -n 1)"
	echo "gcc=$(gcc --version | head -n 1)"
	echo "git=$(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet 2>/dev/null || echo +dirty)"
	# the tree the build was configured from (a clean export of a commit, if it says which)
	src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
	echo "build_src=$src${src:+$([ -f "$src/.field-commit" ] && echo " (export of $(cut -c1-7 "$src/.field-commit"))")}"
	echo "lab_kernel=$(readlink "${PAGEMIG_LAB_CACHE:-/var/cache/pagemig-lab}/$kernel" 2>/dev/null || echo "$kernel")"
	echo "reps=$reps"
	echo "quick=$quick"
} >"$results/env.txt"

# results/cases.txt: when and from which build each case's results were made (one line per case,
# replaced when the case runs again; the report shows it, as results of several runs mix)
provenance() { # CASE [details]; case_reps: the repetitions when the case caps them
	local f=$results/cases.txt
	touch "$f"
	sed -i "/^$1 /d" "$f"
	echo "$1 ${prov_time:-$(date -u +%Y-%m-%dT%H:%MZ)} $(sed -n 's/^git=/git=/p; s/^build_src=.*(export of \([0-9a-f]*\))/export=\1/p' "$results/env.txt" | tr '\n' ' ')reps=${case_reps:-$reps} ${2:-}" >>"$f"
}

# --- the host-side sampler of a lab guest ----------------------------------------------------------
# qemu started (through timeout) by the run-lab.sh whose pid is $1
find_qemu() {
	ps -e -o pid=,ppid=,comm= | awk -v root="$1" '
		{ pp[$1] = $2; c[$1] = $3 }
		END { for (p in c) if (c[p] ~ /^qemu-system/) { q = p
			while (q in pp && q != root && q > 1) q = pp[q]
			if (q == root) { print p; exit } } }'
}
thread_ticks() { # utime + stime of /proc/$1/task/$2
	local s
	s=$(<"/proc/$1/task/$2/stat") || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}
# t vcpu0_ticks vcpu1_ticks console_lines loadavg1, every 0.5 s, while run-lab.sh ($1) runs
# (console lines counted from $3: a resumed case's console follows the crashed guest's)
host_sampler() {
	local rl=$1 console=$2 offset=${3:-0} q='' t0='' t1='' a b n tids
	while kill -0 "$rl" 2>/dev/null; do
		if [ -z "$q" ]; then
			q=$(find_qemu "$rl")
			if [ -n "$q" ]; then
				# QEMU creates its threads in order: main loop, RCU, then vCPU 0 and vCPU 1
				# (run-lab.sh does not name them: no -name debug-threads=on)
				mapfile -t tids < <(ls /proc/"$q"/task | sort -n)
				if [ ${#tids[@]} -ge 4 ]; then
					t0=${tids[2]} t1=${tids[3]}
				else
					q=''
				fi
			fi
		fi
		if [ -n "$q" ]; then
			a=$(thread_ticks "$q" "$t0" 2>/dev/null) || break
			b=$(thread_ticks "$q" "$t1" 2>/dev/null) || break
			n=$(wc -l <"$console" 2>/dev/null || echo 0)
			echo "${EPOCHREALTIME:-$(date +%s.%N)} $a $b $((n + offset)) $(cut -d' ' -f1 /proc/loadavg)"
		fi
		sleep 0.5
	done
}

# a line of field_lab's that ends a run (FIELD-SUM cut short by a crash does not count)
run_end='FIELD-SUM .* (data=(ok|BAD)|error=[a-z-]+)'$'\r''?$'
guest_crash='\[ *[0-9]+\.[0-9]+\] (Kernel panic|Oops: )'

# boot NAME TIMEOUT ARGS CONSOLE OFFSET: one guest; its console in CONSOLE, the host sampler's
# lines appended to lab-NAME.host (console lines counted from OFFSET)
boot() {
	local name=$1 timeout=$2 args=$3 console=$4 offset=$5 rc=0 pid mib=${lab_node_mib:-1024}
	: >"$console"
	# multi: one host thread per vCPU, as in every earlier run, and host_sampler times them.
	"$root/tests/lab/run-lab.sh" --build "$build" --kernel "$kernel" --nodes 3 --node-mib "$mib" --tests field_lab \
		--tcg-threads multi --timeout "$timeout" --log "$console" --append "field.args=$args" \
		>"$results/lab-$name.runlab" 2>&1 &
	pid=$!
	host_sampler "$pid" "$console" "$offset" >>"$results/lab-$name.host" &
	wait "$pid" || rc=$?
	wait || true
	tail -n 3 "$results/lab-$name.runlab" | sed 's/^/    /' >&2
	return $rc
}

# lab NAME TIMEOUT ARGS: one guest running field_lab with field.args=ARGS (':' separated).
# A convergence case whose guest crashed (the multi-threaded-TCG kernel oops of
# observations.md) goes on in a new guest from the first run not finished, at most twice: the
# crashed console is kept as lab-NAME.crashN.log, the merged one ends at the last finished run
# before the new guest's output.
lab() {
	local name=$1 timeout=$2 args=$3 console=$results/lab-$1.log rc attempt=1 done_runs=0
	local mib=${lab_node_mib:-1024} part extra keep_lines started
	if [ "$keep" = 1 ] && grep -q 'LAB-DONE' "$console" 2>/dev/null; then
		log "lab $name: kept (results exist)"
		return 0
	fi
	log "lab $name: booting ($args, nodes of $mib MiB), at most $timeout s; host load $(cut -d' ' -f1-3 /proc/loadavg)"
	started=$(date -u +%Y-%m-%dT%H:%MZ)
	prov_time=$started provenance "$name" "nodes=${mib}MiB"
	rm -f "$results/lab-$name".crash*.log
	: >"$results/lab-$name.host"
	: >"$console"
	while :; do
		part=$console
		extra=''
		if [ "$attempt" -gt 1 ]; then
			part=$results/lab-$name.part.log
			extra=":--skip:$done_runs"
		elif [ -n "$crash_after" ] && [[ $args == converge:* ]]; then
			extra=":--crash-after:$crash_after"
		fi
		rc=0
		boot "$name" "$timeout" "$args$extra" "$part" "$(wc -l <"$console")" || rc=$?
		if [ "$part" != "$console" ]; then
			cat "$part" >>"$console"
			rm -f "$part"
		fi
		log "lab $name: done (run-lab status $rc); host load $(cut -d' ' -f1-3 /proc/loadavg)"
		[ "$rc" = 0 ] && break
		[[ $args == converge:* ]] || break
		grep -aEq "$guest_crash" "$console" || break
		cp "$console" "$results/lab-$name.crash$attempt.log"
		if [ "$attempt" -ge 3 ]; then
			log "lab $name: the guest crashed $attempt times: the case stays incomplete (consoles in lab-$name.crash*.log)"
			break
		fi
		# keep the console up to the last finished run, the host samples up to that line
		keep_lines=$(grep -anE "$run_end" "$console" | tail -n 1 | cut -d: -f1)
		keep_lines=${keep_lines:-0}
		done_runs=$(head -n "$keep_lines" "$console" | grep -acE "$run_end" || true)
		head -n "$keep_lines" "$console" >"$console.tmp" && mv "$console.tmp" "$console"
		awk -v n="$keep_lines" '$4 <= n' "$results/lab-$name.host" >"$results/lab-$name.host.tmp" &&
			mv "$results/lab-$name.host.tmp" "$results/lab-$name.host"
		attempt=$((attempt + 1))
		log "lab $name: the guest crashed (console kept in lab-$name.crash$((attempt - 1)).log); a new guest goes on after the $done_runs runs finished"
		prov_time=$started provenance "$name" "nodes=${mib}MiB guest_restarts=$((attempt - 1))"
	done
	return 0
}

# converge NAME WORKLOAD MOVERS SECONDS [extra args [reps]]
converge() {
	local name=$1 w=$2 movers=${movers_all:-$3} secs=$4 extra=${5:-} r=${6:-$reps} n
	n=$(tr ',' '\n' <<<"$movers" | wc -l)
	[ "$quick" = 1 ] && secs=$((secs / 2)) r=1
	case_reps=$r lab "$name" $((r * n * (secs + 90) + 600)) \
		"converge:--workload:$w:--movers:$movers:--reps:$r:--seconds:$secs$extra"
}

for c in ${cases//,/ }; do
	case $c in
	static) converge static static none,pagemigd,pagemigd-shipped,nb1,numad 60 ;;
	tiering) converge tiering tiering none,pagemigd,pagemigd-shipped,nb1,nb2,numad 60 ;;
	shared) converge shared shared none,pagemigd,pagemigd-shipped,nb1,numad 40 ;;
	phase) converge phase phase none,pagemigd,pagemigd-shipped,nb1,numad 80 ":--phase:20" ;;
	large)
		# a 1 GiB hot set (+64 MiB cold) on nodes of 2 GiB (guest RAM 6 GiB); no "none" run:
		# this case is about time to local, the 256 MiB case has the progress figures
		lab_node_mib=2048 converge large static pagemigd,pagemigd-shipped,nb1 100 \
			":--hot:1024:--cold:64"
		;;
	numad-long)
		if [ "$quick" = 1 ]; then
			log "numad-long: skipped with --quick"
		else
			lab numad-long 1200 "converge:--workload:static:--movers:numad:--reps:1:--seconds:400"
		fi
		;;
	throughput)
		if [ "$quick" = 1 ]; then
			sizes=64 preps=1
		else
			sizes=64,256,512 preps=$reps
		fi
		lab throughput $((2400 * preps + 600)) \
			"exec:bench-move:--size:$sizes:--reps:$preps:--extra:none:--then:bench-process:--size:64:--reps:$preps:--then:bench-process:--size:64:--reps:$preps:--thp:--then:bench-process:--size:256:--reps:$preps:--then:bench-process:--size:64:--reps:$preps:--threads:2:--then:bench-process:--size:256:--reps:$preps:--threads:2"
		;;
	small-lab)
		lab small-lab $((900 * reps + 600)) "exec:field-small:--size:$([ "$quick" = 1 ] && echo 8 || echo 32):--reps:$reps"
		;;
	small-host)
		log "small-host: field-small on this host (same node), host load $(cut -d' ' -f1-3 /proc/loadavg)"
		provenance small-host
		"$build/bench/field/field-small" --size 64 --reps "$reps" >"$results/host-small.txt" 2>&1 ||
			log "small-host: field-small failed (status $?)"
		;;
	overhead)
		if [ "$(id -u)" != 0 ]; then
			log "overhead: needs root (pagemigd's eBPF sampler): skipped"
			continue
		fi
		log "overhead: pagemigd with 10/100/1000 processes, host load $(cut -d' ' -f1-3 /proc/loadavg)"
		if [ "$quick" = 1 ]; then osec=15 oreps=1; else osec=60 oreps=$reps; fi
		case_reps=$oreps provenance overhead
		# one field-overhead per N, so that a failure at one N keeps the others' results
		: >"$results/host-overhead.txt"
		for n in 10 100 1000; do
			"$build/bench/field/field-overhead" --procs "$n" --seconds "$osec" \
				--reps "$oreps" --pagemigd "$build/daemon/pagemigd" \
				--pagemigctl "$build/ctl/pagemigctl" >>"$results/host-overhead.txt" 2>&1 ||
				log "overhead: field-overhead --procs $n failed (status $?)"
		done
		;;
	*) echo "run.sh: unknown case '$c' (see --help)" >&2; exit 2 ;;
	esac
done

log "all cases done; writing the report"
"$here/report.sh" "$results"
