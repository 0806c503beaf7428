#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# spawn.sh: start and join N processes of `true` (default 500), four ways,
# medians of interleaved rounds: bash's `true & wait $!` loop, a C
# posix_spawn + waitpid loop (the floor), pkit one pair at a time
# (p=$(pspawn true); pjoin $p) and pkit in one batch (one pspawn -n N,
# one pjoin of every pid); for reference, bash forking its builtin `true`
# without any exec, and the pair's floor: the same loop with two commands
# that do nothing but start the process (tests/bench/pairfloor.c).
# Prints pkit's time as a multiple of bash's.
# Targets: batch <= 1.0x bash, single pair <= 2.5x bash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The single-pair target is judged on the median of 5 rounds (3 quick).
: "${ROUNDS:=$([ "${QUICK:-0}" = 1 ] && echo 3 || echo 5)}"
N=${N:-$([ "${QUICK:-0}" = 1 ] && echo 200 || echo 500)}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_init >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/spawnloop" "$here/spawnloop.c"
cc -O2 -o "$work/pairfloor" "$here/pairfloor.c"
# A runtime directory of its own, so records of other runs do not weigh,
# in tmpfs where there is one, as $XDG_RUNTIME_DIR is in a login session
# (two files per process: on a disk file system each creation can cost
# more than the process itself).
rdir=$work
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	rdir=$(mktemp -d /dev/shm/pkit-bench.XXXXXX)
	trap 'rm -rf "$work" "$rdir"' EXIT
fi
# Every alternative runs the same program: bash's builtin `true` would
# fork without an exec, so it gets the path of the real one.
T=$(type -P true)
export PKIT_DIR="$rdir/pkit" N work T
command -v pspawn >/dev/null || { echo "spawn.sh: pspawn not on PATH" >&2; exit 125; }

bench_case "start and join $N x true" procs "$N" \
	"pkit batch" 'pjoin $(pspawn -n "$N" "$T")' \
	"pkit pair" 'for ((i = 0; i < N; i++)); do p=$(pspawn "$T"); pjoin "$p"; done' \
	"pair floor" 'for ((i = 0; i < N; i++)); do p=$("$work/pairfloor" spawn "$T"); "$work/pairfloor" join "$p"; done' \
	"bash & wait" 'for ((i = 0; i < N; i++)); do "$T" & wait $!; done' \
	"C posix_spawn" '"$work/spawnloop" "$N" "$T"' \
	"bash builtin" 'for ((i = 0; i < N; i++)); do true & wait $!; done'

# pkit vs bash, from the medians just recorded.
t="start and join $N x true"
bench_bar "start and join: pkit batch (pspawn -n, one pjoin) / bash & wait" \
	"$(bench_ratio "$t" "pkit batch" "bash & wait")" "<=" 1.0
bench_bar "start and join, median of $ROUNDS: pkit pair (pspawn, pjoin) / bash & wait" \
	"$(bench_ratio "$t" "pkit pair" "bash & wait")" "<=" 2.5
bench_note "the C floor (posix_spawn, waitpid) takes $(bench_ratio "$t" "C posix_spawn" "bash & wait")x bash's time."
bench_note "the pair floor (the same loop with two commands that only vfork and exec, and exit: tests/bench/pairfloor.c) takes $(bench_ratio "$t" "pair floor" "bash & wait")x bash's time; pkit's pair takes $(bench_ratio "$t" "pkit pair" "pair floor")x the floor's."
bench_note "runtime directory: $(df -T "$rdir" | awk 'NR == 2 { print $2 }')"

# Python's multiprocessing beside pkit, on fewer processes: a spawn-method
# Process starts a whole interpreter, about 50 ms each here.
NPY=${NPY:-$([ "${QUICK:-0}" = 1 ] && echo 20 || echo 100)}
export NPY
cat > "$work/mp.py" <<'PY'
import multiprocessing as mp, sys

def work():
    pass

if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    ps = [mp.Process(target=work) for _ in range(int(sys.argv[2]))]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    sys.exit(max(p.exitcode for p in ps))
PY
bench_case "start and join $NPY processes, beside Python" procs "$NPY" \
	"pkit batch" 'pjoin $(pspawn -n "$NPY" "$T")' \
	"pkit pair" 'for ((i = 0; i < NPY; i++)); do p=$(pspawn "$T"); pjoin "$p"; done' \
	"Python Process, fork" 'python3 "$work/mp.py" fork "$NPY"' \
	"Python Process, spawn" 'python3 "$work/mp.py" spawn "$NPY"'
