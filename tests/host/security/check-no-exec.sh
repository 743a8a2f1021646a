#!/bin/sh
# No path from configuration or socket input to a shell or to loaded code: the binaries import
# no function that runs a program (system, popen, exec*, posix_spawn*) or loads a library
# (dlopen). pagemigd's one fork(2) (the soft-dirty probe, daemon/sampler_softdirty.c) runs no
# program. Usage: check-no-exec.sh BINARY...
set -eu
command -v nm >/dev/null || { echo "SKIP: no nm"; exit 77; }
bad=0
for bin in "$@"; do
	found=$(nm -D --undefined-only "$bin" | awk '{print $2}' | sed 's/@.*//' |
		grep -E '^(system|popen|execl|execle|execlp|execv|execve|execvp|execvpe|fexecve|posix_spawn|posix_spawnp|dlopen|dlmopen)$' || true)
	if [ -n "$found" ]; then
		echo "not ok - $bin imports: $found"
		bad=1
	else
		echo "ok - $bin imports no exec, shell or dlopen"
	fi
done
exit $bad
