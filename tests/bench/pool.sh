#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# pool.sh: the worker pool (pqueue-get -j 4, lib/pqworker.h) beside what
# a user would reach for: TASKS tiny tasks (default 2000, 200 with
# QUICK=1), `echo N` for N in 1..TASKS, 4 at a time.
#  1. pqueue-get -j 4 -f Q echo {} (queue filled and closed first, each
#     task leased, run in its own process group, done on exit 0) vs
#     xargs -P 4 -n 1 echo, GNU parallel -j4 echo (as typed, with its
#     default output grouping) and Python's
#     multiprocessing.Pool(4).map(subprocess.run, ...).
#  2. The same pool with pqueue-join -p watching it: what the progress
#     line costs (its bar is on the ratio to the pool alone).
# Every run checks its own answer: the tasks' output holds each of
# 1..TASKS exactly once, every tool exits 0, and the queue is left with
# nothing unfinished; so a tool that skips, repeats or fails tasks fails
# the run instead of looking fast (the tasks are echo, not true, to leave
# that trace).  Bars (issue 14): the pool <= 1.0x the time of xargs -P 4,
# <= 0.3x GNU parallel's, <= 0.5x Python's Pool; progress <= 1.02x.
# Three rounds: GNU parallel alone takes a minute or more for 2000 tasks
# here.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${ROUNDS:=3}"
TASKS=${TASKS:-$([ "${QUICK:-0}" = 1 ] && echo 200 || echo 2000)}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_init >/dev/null
command -v pqueue-get >/dev/null || { echo "pool.sh: pqueue-get not on PATH" >&2; exit 125; }
command -v parallel >/dev/null || { echo "pool.sh: GNU parallel not found (./bootstrap installs it)" >&2; exit 125; }

work=$(mktemp -d)
cleanup() {
	pqueue-rm "bench.$$" 2>/dev/null || true
	pqueue-rm "bench.$$.dead" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
seq "$TASKS" > "$work/tasks"
cat > "$work/pool.py" <<'PY'
import multiprocessing, subprocess, sys

def run(n):
    return subprocess.run(["echo", n]).returncode

if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        tasks = f.read().split()
    with multiprocessing.Pool(4) as p:
        sys.exit(max(p.map(run, tasks)))
PY
# A GNU parallel that asks for a citation would wait on a terminal.
mkdir -p "$work/home/.parallel"
touch "$work/home/.parallel/will-cite"
export work TASKS Q="bench.$$" PARALLEL_HOME="$work/home/.parallel"

# Each snippet: set -e, so that any tool's error fails the run; then the
# answer: 1..TASKS, each once, in $work/out.
answer='sort -n $work/out | awk -v n=$TASKS '\''$0 != NR { exit 1 } END { exit NR != n }'\'
fill='set -e; pqueue-create $Q; pqueue-put $Q < $work/tasks; pqueue-close $Q'
drained='[ "$(pqueue-stat -k $Q | sed -n "s/^unfinished=//p")" = 0 ]; pqueue-rm $Q'
pool="pqueue-get -j 4 -f \$Q echo {} > \$work/out"

t="pool: $TASKS tasks running echo {}, 4 at a time"
p="pqueue-get -j 4"
pp="$p, pqueue-join -p"
bench_case "$t" tasks "$TASKS" \
	"$p" "$fill; $pool; $drained; $answer" \
	"$pp" "$fill; pqueue-join -p -t $BENCH_TIMEOUT \$Q 2> /dev/null & j=\$!
		$pool; wait \$j; $drained; $answer" \
	"xargs -P 4 -n 1" "set -e; xargs -P 4 -n 1 echo < \$work/tasks > \$work/out; $answer" \
	"GNU parallel -j4" "set -e; parallel -j4 echo < \$work/tasks > \$work/out; $answer" \
	"Python Pool(4).map" "set -e; python3 \$work/pool.py \$work/tasks > \$work/out; $answer"
for a in "xargs -P 4 -n 1:1.0" "GNU parallel -j4:0.3" "Python Pool(4).map:0.5"; do
	bench_bar "pool of 4, $TASKS tasks: $p / ${a%:*}" \
		"$(bench_ratio "$t" "$p" "${a%:*}")" "<=" "${a##*:}"
done
bench_bar "progress: pool watched by pqueue-join -p / pool alone, $TASKS tasks" \
	"$(bench_ratio "$t" "$pp" "$p")" "<=" 1.02
