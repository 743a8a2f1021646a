#!/usr/bin/env bash
# Boot the NUMA lab guest in QEMU (TCG), run the lab cases, report their results.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

usage() {
	cat <<'EOF'
Usage: run-lab.sh [options]   (--initramfs FILE or --build DIR is required)

Boot a Debian kernel under qemu-system-x86_64 (TCG, 2 vCPUs) with a NUMA topology, run the lab
cases inside and report. Exit status: 0 every planned case ran and none failed; 1 a case failed,
the guest hung (killed at --timeout) or crashed; 2 usage error; 77 QEMU is not installed (only
outside CI: with $CI set that is a failure).

  --kernel 6.1|6.12   Debian kernel, fetched once into the cache by fetch-kernel.sh
                      (default $PAGEMIG_LAB_KERNEL, else 6.12)
  --vmlinuz FILE      boot this kernel image instead of a Debian one
  --initramfs FILE    image built by mkinitramfs.sh
  --build DIR         CMake build directory: --initramfs DIR/tests/lab/initramfs.cpio.gz
  --nodes 3|2         3: node 0 = cpu 0 + 1 GiB, node 1 = cpu 1 + 1 GiB, node 2 = 1 GiB, no cpu,
                         distances 0-1 21, 0-2 30, 1-2 30 (default $PAGEMIG_LAB_NODES, else 3)
                      2: node 0 = cpu 0 + 1 GiB, node 1 = cpu 1 + 1 GiB, distance 21
  --node-mib N        memory of every node in MiB instead of 1 GiB (guest RAM = nodes x N;
                      default $PAGEMIG_LAB_NODE_MIB, else 1024; at least 256)
  --tests A,B         run only these cases (default: every case of the topology)
  --timeout SECONDS   kill the guest after this long (default 600)
  --log FILE          console log (default: console-KERNEL-Nnode.log next to the initramfs)
  --balancing         leave kernel NUMA balancing on for every case (default off)
  --append ARGS       extra kernel command-line arguments
  --tcg-threads single|multi
                      single (default): one host thread runs both vCPUs in turn. multi: one host
                      thread per vCPU (QEMU's default; bench/field needs it: it times the
                      vCPU threads). Multi-threaded guests died twice in our test runs on an
                      int3 left by kernel text patching (tests/lab/README.md); a single thread
                      runs the cases about 30% slower.
  -a, --all-output    after the results, print every case's output (not only failing ones)
  -v, --verbose       copy the guest console to stdout while it runs
  -h, --help          this text

Console protocol (guest -> runner), one line each:
  LAB-BOOT kernel=K nodes=N uptime=S    LAB-PLAN a b ...    LAB-BEGIN a
  LAB-RESULT a PASS|FAIL|SKIP seconds [reason]              LAB-DONE pass=N fail=N skip=N
EOF
}

die() {
	echo "run-lab: $*" >&2
	exit 2
}

kernel=${PAGEMIG_LAB_KERNEL:-6.12} nodes=${PAGEMIG_LAB_NODES:-3} node_mib=${PAGEMIG_LAB_NODE_MIB:-1024}
vmlinuz='' initramfs='' tests=all timeout=600 log='' balancing=0 append='' shell=0
tcg_threads=${PAGEMIG_LAB_TCG_THREADS:-single}
verbose=0 all_output=0
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--kernel) kernel=${2:?--kernel needs 6.1 or 6.12}; shift 2 ;;
	--vmlinuz) vmlinuz=${2:?--vmlinuz needs a file}; shift 2 ;;
	--initramfs) initramfs=${2:?--initramfs needs a file}; shift 2 ;;
	--build) initramfs=${2:?--build needs a directory}/tests/lab/initramfs.cpio.gz; shift 2 ;;
	--nodes) nodes=${2:?--nodes needs 2 or 3}; shift 2 ;;
	--node-mib) node_mib=${2:?--node-mib needs a size in MiB}; shift 2 ;;
	--tests) tests=${2:?--tests needs a comma-separated list}; shift 2 ;;
	--timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
	--log) log=${2:?--log needs a file}; shift 2 ;;
	--balancing) balancing=1; shift ;;
	--append) append=${2?--append needs arguments}; shift 2 ;;
	--shell) shell=1; shift ;;
	--tcg-threads) tcg_threads=${2:?--tcg-threads needs single or multi}; shift 2 ;;
	-v | --verbose) verbose=1; shift ;;
	-a | --all-output) all_output=1; shift ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[ -n "$initramfs" ] || die "no image given: use --build DIR or --initramfs FILE (see --help)"
[ -r "$initramfs" ] ||
	die "cannot read $initramfs: build it first (cmake --build BUILD_DIR --target lab-image)"
[[ $nodes == [23] ]] || die "--nodes must be 2 or 3, not '$nodes'"
[[ $node_mib =~ ^[1-9][0-9]*$ ]] && [ "$node_mib" -ge 256 ] ||
	die "--node-mib must be a number of MiB, at least 256, not '$node_mib'"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive number of seconds"
case $tcg_threads in
single | multi) ;;
*) die "--tcg-threads must be single or multi, not '$tcg_threads'" ;;
esac
[[ $tests =~ ^[A-Za-z0-9_,-]+$ ]] || die "--tests must be a comma-separated list of case names"

qemu=$(command -v qemu-system-x86_64 || true)
if [ -z "$qemu" ]; then
	if [ -n "${CI:-}" ]; then
		echo "run-lab: qemu-system-x86_64 not found; the lab must run in CI: install qemu-system-x86 (scripts/install-deps.sh)" >&2
		exit 1
	fi
	echo "run-lab: SKIP: qemu-system-x86_64 not found (install qemu-system-x86: scripts/install-deps.sh)" >&2
	exit 77
fi

if [ -z "$vmlinuz" ]; then
	kdir=$("$here/fetch-kernel.sh" "$kernel") || {
		echo "run-lab: cannot obtain Debian kernel $kernel (see fetch-kernel.sh's messages above)" >&2
		exit 1
	}
	vmlinuz=$kdir/vmlinuz
	label=$kernel
else
	label=$(basename "$vmlinuz")
fi
[ -r "$vmlinuz" ] || die "cannot read kernel image $vmlinuz"
[ -n "$log" ] || log=$(dirname "$initramfs")/console-$label-${nodes}node.log
mkdir -p "$(dirname "$log")"

# Topology: one RAM backend per node; node 2 (3-node variant) has memory and no CPU.
topo=(-smp "2,sockets=2,cores=1,threads=1" -m "$((nodes * node_mib))M")
for n in $(seq 0 $((nodes - 1))); do
	cpus=''
	if [ "$n" -lt 2 ]; then cpus=",cpus=$n"; fi
	topo+=(-object "memory-backend-ram,id=mem$n,size=${node_mib}M" -numa "node,nodeid=$n,memdev=mem$n$cpus")
done
topo+=(-numa "dist,src=0,dst=1,val=21")
if [ "$nodes" = 3 ]; then
	topo+=(-numa "dist,src=0,dst=2,val=30" -numa "dist,src=1,dst=2,val=30")
fi

cmdline="console=ttyS0 panic=-1 quiet mitigations=off lab.nodes=$nodes lab.tests=$tests"
cmdline+=" lab.balancing=$balancing lab.shell=$shell${append:+ $append}"
qemu_cmd=("$qemu" -accel "tcg,thread=$tcg_threads" -cpu max "${topo[@]}" -nographic -no-reboot -nic none
	-kernel "$vmlinuz" -initrd "$initramfs" -append "$cmdline")

if [ "$shell" = 1 ]; then
	echo "run-lab: shell in the lab guest ($label, $nodes nodes); Ctrl-A x kills QEMU" >&2
	exec "${qemu_cmd[@]}"
fi

echo "run-lab: booting kernel $label, $nodes nodes, cases: $tests (console log: $log)"
start=$SECONDS
set +e
if [ "$verbose" = 1 ]; then
	timeout -k 10 "$timeout" "${qemu_cmd[@]}" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
else
	timeout -k 10 "$timeout" "${qemu_cmd[@]}" </dev/null >"$log" 2>&1
	rc=$?
fi
set -e
wall=$((SECONDS - start))
tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"

# --- Parse the console ------------------------------------------------------------------------
# Protocol lines may follow a case's unterminated output or a kernel message on the same line.
field() { grep -o "$1.*" "$log" | tail -n 1 || true; }
boot=$(field 'LAB-BOOT ')
plan=$(field 'LAB-PLAN')
done_line=$(field 'LAB-DONE ')
mapfile -t results < <(grep -o 'LAB-RESULT .*' "$log" || true)

output_of() { # the console lines between LAB-BEGIN NAME and LAB-RESULT NAME
	awk -v b="LAB-BEGIN $1" -v r="LAB-RESULT $1 " '
		!on && (i = index($0, b)) && substr($0, i + length(b)) == "" { on = 1; next }
		on && (i = index($0, r)) { if (i > 1) print substr($0, 1, i - 1); exit }
		on { print }' "$log" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' # no trailing blank lines
}

status=0
uptime=$(sed -n 's/.* uptime=\([0-9.]*\).*/\1/p' <<<"$boot")
echo "run-lab: kernel ${boot:+$(sed -n 's/.*kernel=\([^ ]*\).*/\1/p' <<<"$boot")}, $nodes nodes," \
	"init started at ${uptime:-?} s guest uptime, wall time $wall s"
declare -A seen=()
failed=() lost=
for r in "${results[@]}"; do
	read -r _ name verdict secs reason <<<"$r"
	seen[$name]=1
	printf '  %-4s %-32s %7s s%s\n' "$verdict" "$name" "$secs" "${reason:+  ($reason)}"
	[ "$verdict" = FAIL ] && failed+=("$name")
done
for name in ${plan#LAB-PLAN}; do
	if [ -z "${seen[$name]:-}" ]; then
		printf '  %-4s %-32s %7s   (no result: the guest stopped while it ran)\n' LOST "$name" -
		failed+=("$name")
		lost=$name
	fi
done
shown=("${failed[@]}")
[ "$all_output" = 0 ] || mapfile -t shown < <(sed -n 's/^LAB-RESULT \([^ ]*\) .*/\1/p' <<<"$(printf '%s\n' "${results[@]}")")
for name in "${shown[@]}"; do
	[ "$name" = "$lost" ] && continue # its output runs to the end: in the console tail below
	echo "---- output of $name ----"
	output_of "$name" | tail -n 200
done

if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "run-lab: FAIL: the guest did not finish within $timeout s and was killed"
	status=1
elif [ -z "$done_line" ]; then
	echo "run-lab: FAIL: the guest stopped without reporting LAB-DONE (QEMU exit status $rc)"
	status=1
fi
if [ "$status" != 0 ] || [ -z "$boot" ]; then
	echo "---- last 60 lines of the console ($log) ----"
	tail -n 60 "$log"
	status=1
fi
crash='\[ *[0-9]+\.[0-9]+\] (Kernel panic|BUG: |Oops: |general protection fault)'
if grep -qE "$crash" "$log"; then
	echo "run-lab: FAIL: the guest kernel crashed or hit a BUG (see $log):"
	grep -nE "$crash" "$log" | head -n 10
	status=1
elif grep -q 'WARNING: CPU:' "$log"; then
	echo "run-lab: note: the guest kernel printed warnings (see $log):"
	grep -n 'WARNING: CPU:' "$log" | head -n 10
fi
[ ${#failed[@]} -eq 0 ] || status=1
echo "run-lab: ${done_line:-no LAB-DONE} -> $([ $status = 0 ] && echo PASS || echo FAIL)"
exit $status
