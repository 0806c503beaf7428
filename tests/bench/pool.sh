#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# pool.sh: the worker pool (pqueue-get -j 4, lib/pqworker.h) beside what
# a user would reach for: TASKS tiny tasks (`true N`), 4 at a time.
#  1. pqueue-get -j 4 -f Q true {} (queue filled and closed first, each
#     task leased, run in its own process group, done on exit 0) vs
#     xargs -P 4 -n 1 true, GNU parallel -j4 true, and Python's
#     multiprocessing.Pool(4).map(subprocess.run, ...).
#  2. The same pool, with and without pqueue-join -p watching it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TASKS=${TASKS:-$([ "${QUICK:-0}" = 1 ] && echo 500 || echo 2000)}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_init >/dev/null
command -v pqueue-get >/dev/null || { echo "pool.sh: pqueue-get not on PATH" >&2; exit 125; }
command -v parallel >/dev/null || { echo "pool.sh: GNU parallel not found (./bootstrap installs it)" >&2; exit 125; }

work=$(mktemp -d)
cleanup() {
	pqueue-rm "bench.$$" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
seq "$TASKS" > "$work/tasks"
cat > "$work/pool.py" <<'PY'
import multiprocessing, subprocess, sys

def run(n):
    return subprocess.run(["true", n]).returncode

if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        tasks = f.read().split()
    with multiprocessing.Pool(4) as p:
        sys.exit(max(p.map(run, tasks)))
PY
export work TASKS Q="bench.$$"
fill='pqueue-create $Q; pqueue-put $Q < $work/tasks; pqueue-close $Q'
check='[ "$(pqueue-stat -k $Q | sed -n "s/^unfinished=//p")" = 0 ]; pqueue-rm $Q'

t="pool: $TASKS tasks running true {}, 4 at a time"
bench_case "$t" tasks "$TASKS" \
	"pqueue-get -j 4" "$fill; pqueue-get -j 4 -f \$Q true '{}'; $check" \
	"xargs -P 4 -n 1" "xargs -P 4 -n 1 true < \$work/tasks" \
	"GNU parallel -j4" "parallel -j4 true < \$work/tasks" \
	"Python Pool(4).map" "python3 \$work/pool.py \$work/tasks"

tp="pool with progress: $TASKS tasks running true {}, 4 at a time"
bench_case "$tp" tasks "$TASKS" \
	"pqueue-get -j 4" "$fill; pqueue-get -j 4 -f \$Q true '{}'; $check" \
	"with pqueue-join -p" "$fill; pqueue-join -p \$Q 2> /dev/null & j=\$!
		pqueue-get -j 4 -f \$Q true '{}'; wait \$j; $check"

ratio() {	# ratio TITLE A B: median(A) / median(B)
	awk -F'\t' -v t="$1" -v a="$2" -v b="$3" '$1 == t && $2 == a { ta = $3 }
		$1 == t && $2 == b { tb = $3 } END { printf "%.2f", ta / tb }' "$BENCH_OUT/data.tsv"
}
p="pqueue-get -j 4"
bench_note "the pool takes $(ratio "$t" "$p" "xargs -P 4 -n 1")x the time of xargs -P 4 (target <= 1.0), $(ratio "$t" "$p" "GNU parallel -j4")x GNU parallel's (<= 0.3), $(ratio "$t" "$p" "Python Pool(4).map")x Python's Pool (<= 0.5); pqueue-join -p costs $(ratio "$tp" "with pqueue-join -p" "$p")x (<= 1.02). Load: $(uptime | sed 's/.*load/load/')."
