#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# lock.sh: plock beside what a user would use instead.
#  1. The ticket workload: 8 processes x ITERS (default 100) times take the
#     lock, read a counter file, write it back plus one, unlock; the count
#     must come out right.  plock NAME sh -c ... beside flock FILE sh -c ...,
#     Python multiprocessing.Lock (no exec per step) and a C flock(2) loop
#     (the limit: no exec, no shell).
#  2. Uncontended: N (default 500) x `plock NAME true` beside
#     `flock FILE true` and a bare exec of true.
# Medians over interleaved rounds.  Target: plock <= 1.0x flock(1) on both.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${ROUNDS:=$([ "${QUICK:-0}" = 1 ] && echo 3 || echo 5)}"
ITERS=${ITERS:-$([ "${QUICK:-0}" = 1 ] && echo 50 || echo 100)}
N=${N:-$([ "${QUICK:-0}" = 1 ] && echo 200 || echo 500)}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_init >/dev/null
command -v plock >/dev/null || { echo "lock.sh: plock not on PATH" >&2; exit 125; }

# Lock files of both tools side by side, in tmpfs where there is one, as
# $XDG_RUNTIME_DIR is in a login session.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	work=$(mktemp -d /dev/shm/pkit-bench.XXXXXX)
else
	work=$(mktemp -d)
fi
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/flockloop" "$here/flockloop.c"
cat > "$work/mplock.py" <<'PY'
import multiprocessing as mp, sys

def buyer(lock, path, iters):
    for _ in range(iters):
        with lock:
            with open(path) as f:
                n = int(f.read())
            with open(path, "w") as f:
                f.write("%d\n" % (n + 1))

if __name__ == "__main__":
    procs, iters, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    lock = mp.Lock()
    ps = [mp.Process(target=buyer, args=(lock, path, iters)) for _ in range(procs)]
    for p in ps: p.start()
    for p in ps: p.join()
    sys.exit(any(p.exitcode for p in ps))
PY
# The lock files in the same place for both tools.
export PKIT_DIR="$work/pkit" ITERS N work
mkdir -m 700 "$PKIT_DIR"
T=$(type -P true)
export T

# One step of the workload, the same shell for every tool.
export STEP='n=$(cat "$1"); echo $((n + 1)) > "$1"'
# ticket TOOLCMD: 8 processes x ITERS steps under TOOLCMD, then check.
ticket='echo 0 > "$work/c"
	for p in 1 2 3 4 5 6 7 8; do
		for ((i = 0; i < ITERS; i++)); do $LOCK sh -c "$STEP" sh "$work/c"; done &
	done
	wait
	[ "$(cat "$work/c")" -eq $((8 * ITERS)) ]'

bench_case "ticket workload: 8 procs x $ITERS lock/increment/unlock" steps $((8 * ITERS)) \
	"plock" "LOCK='plock tickets'; $ticket" \
	"flock(1)" "LOCK='flock $work/tickets.lock'; $ticket" \
	"Python mp.Lock" 'echo 0 > "$work/c"; python3 "$work/mplock.py" 8 "$ITERS" "$work/c" &&
		[ "$(cat "$work/c")" -eq $((8 * ITERS)) ]' \
	"C flock(2) loop" 'echo 0 > "$work/c"; "$work/flockloop" 8 "$ITERS" "$work/l" "$work/c" &&
		[ "$(cat "$work/c")" -eq $((8 * ITERS)) ]'

bench_case "uncontended: $N x lock and run true" runs "$N" \
	"plock NAME true" 'for ((i = 0; i < N; i++)); do plock solo "$T"; done' \
	"flock FILE true" 'for ((i = 0; i < N; i++)); do flock "$work/solo.lock" "$T"; done' \
	"bare exec true" 'for ((i = 0; i < N; i++)); do "$T"; done'

bench_bar "ticket workload, 8 procs: plock / flock(1)" \
	"$(bench_ratio "ticket workload: 8 procs x $ITERS lock/increment/unlock" plock "flock(1)")" "<=" 1.0
bench_bar "uncontended lock and run: plock / flock(1)" \
	"$(bench_ratio "uncontended: $N x lock and run true" "plock NAME true" "flock FILE true")" "<=" 1.0
bench_note "lock files on: $(df -T "$work" | awk 'NR == 2 { print $2 }')"
