#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# joinable.sh: the crash-safe (leased, at-least-once) paths of pqueue and
# JoinableQueue, beside what a user would use instead.
#  1. Streaming 1 -> 1 and 4 -> 4: MSGS 64-byte lines through pqueue-put |
#     pqueue-get (leased, committed per batch), every task then done and
#     joined; beside pipes through cat (the floor, no guarantee at all)
#     and Python's multiprocessing.JoinableQueue (get, task_done, join).
#  2. Workers: TASKS tasks, each running true(1), by 4 `pqueue-get -f Q
#     true` workers (lease held while the command runs, done on exit 0),
#     beside xargs -P 4 (no queue, no retry, no join).
#  3. The lease protocol's cost, on the C API: the engine always leases;
#     one lease and commit per batch vs per message vs per message with
#     the task_done in the commit (tests/bench/leasecost.c).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MSGS=${MSGS:-$([ "${QUICK:-0}" = 1 ] && echo 100000 || echo 500000)}
TASKS=${TASKS:-$([ "${QUICK:-0}" = 1 ] && echo 200 || echo 1000)}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_init >/dev/null
command -v pqueue-put >/dev/null || { echo "joinable.sh: pqueue-put not on PATH" >&2; exit 125; }
: "${top_builddir:=$here/../..}"
top_srcdir=$(cd "$here/../.." && pwd)

work=$(mktemp -d)
cleanup() {
	pqueue-rm "bench.$$" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
awk -v n="$MSGS" 'BEGIN { for (i = 0; i < n; i++) printf "%063d\n", i }' > "$work/in"
split -n l/4 -d "$work/in" "$work/part"
seq "$TASKS" > "$work/tasks"
cat > "$work/jq.py" <<'PY'
import multiprocessing as mp, sys

def produce(q, path):
    with open(path) as f:
        for line in f:
            q.put(line)

def consume(q, out):
    n = 0
    while True:
        item = q.get()
        if item is None:
            q.task_done()
            out.put(n)
            return
        n += 1
        q.task_done()

if __name__ == "__main__":
    paths = sys.argv[1:]
    q = mp.JoinableQueue(10000)
    out = mp.Queue()
    cons = [mp.Process(target=consume, args=(q, out), daemon=True)
            for _ in paths]
    prods = [mp.Process(target=produce, args=(q, p)) for p in paths]
    for p in cons + prods:
        p.start()
    for p in prods:
        p.join()
    q.join()
    for _ in cons:
        q.put(None)
    print(sum(out.get() for _ in cons))
PY
export work MSGS TASKS Q="bench.$$"
check='[ "$(cat "$work/count")" -eq "$MSGS" ]'

bench_case "JoinableQueue streaming 1 -> 1, $MSGS 64-byte lines" lines "$MSGS" \
	"pqueue leased, then done+join" "pqueue-create \$Q; pqueue-put \$Q < \$work/in &
		pqueue-get -c \$MSGS \$Q | wc -l > \$work/count; wait
		pqueue-done -c \$MSGS \$Q; pqueue-join -t 10 \$Q; pqueue-rm \$Q; $check" \
	"pipe through cat" "cat \$work/in | cat | wc -l > \$work/count; $check" \
	"Python JoinableQueue" "python3 \$work/jq.py \$work/in > \$work/count; $check"

bench_case "JoinableQueue streaming 4 -> 4, $MSGS 64-byte lines" lines "$MSGS" \
	"pqueue leased, then done+join" "pqueue-create \$Q; pids=
		for i in 0 1 2 3; do pqueue-put \$Q < \$work/part0\$i & pids=\"\$pids \$!\"; done
		for i in 0 1 2 3; do pqueue-get -f \$Q > \$work/out\$i & done
		wait \$pids; pqueue-close \$Q; wait
		cat \$work/out? | wc -l > \$work/count
		pqueue-done -c \$MSGS \$Q; pqueue-join -t 10 \$Q; pqueue-rm \$Q; $check" \
	"4 pipes through cat" "for i in 0 1 2 3; do cat \$work/part0\$i | cat > \$work/out\$i & done; wait
		cat \$work/out? | wc -l > \$work/count; $check" \
	"Python JoinableQueue" "python3 \$work/jq.py \$work/part0? > \$work/count; $check"

bench_case "workers: $TASKS tasks running true(1), 4 at a time" tasks "$TASKS" \
	"4 pqueue-get -f workers" "pqueue-create \$Q; pqueue-put \$Q < \$work/tasks
		for i in 1 2 3 4; do pqueue-get -f \$Q true & done
		pqueue-join \$Q; pqueue-close \$Q; wait; pqueue-rm \$Q" \
	"xargs -P 4 -n 1" "xargs -P 4 -n 1 true < \$work/tasks"

# The lease protocol on the C API.
# shellcheck disable=SC2046 # pkg-config's words are meant to split
cc -O2 -include "$top_builddir/config.h" -I"$top_srcdir/lib" \
	$(pkg-config --cflags libbsd-overlay hiredis) -o "$work/leasecost" "$here/leasecost.c" \
	"$top_builddir/lib/libpkit.a" $(pkg-config --libs libbsd-overlay hiredis)
export LEASECOST="$work/leasecost"
bench_case "lease protocol, C API, $MSGS 64-byte messages 1 -> 1" msgs "$MSGS" \
	"lease+commit per batch" "[ \"\$(\$LEASECOST batch \$MSGS)\" -eq \$MSGS ]" \
	"lease+commit per message" "[ \"\$(\$LEASECOST one \$MSGS)\" -eq \$MSGS ]" \
	"per message, done in commit" "[ \"\$(\$LEASECOST done \$MSGS)\" -eq \$MSGS ]"

s1="JoinableQueue streaming 1 -> 1, $MSGS 64-byte lines"
s4="JoinableQueue streaming 4 -> 4, $MSGS 64-byte lines"
w="workers: $TASKS tasks running true(1), 4 at a time"
l="lease protocol, C API, $MSGS 64-byte messages 1 -> 1"
p="pqueue leased, then done+join"
bench_bar "speed-up, crash-safe streaming 1 -> 1: Python JoinableQueue / $p" \
	"$(bench_ratio "$s1" "Python JoinableQueue" "$p")" ">=" 20
bench_bar "speed-up, crash-safe streaming 4 -> 4: Python JoinableQueue / $p" \
	"$(bench_ratio "$s4" "Python JoinableQueue" "$p")" ">=" 20
bench_note "crash-safe streaming with done+join takes $(bench_ratio "$s1" "$p" "pipe through cat")x / $(bench_ratio "$s4" "$p" "4 pipes through cat")x the time of pipes 1 -> 1 / 4 -> 4 (no bar: the pipes give no guarantee)."
bench_note "a worker task costs $(bench_ratio "$w" "4 pqueue-get -f workers" "xargs -P 4 -n 1")x one by xargs -P 4 (the -j pool is in pool.sh)."
bench_note "leasing per message instead of per batch costs $(bench_ratio "$l" "lease+commit per message" "lease+commit per batch")x; with the task_done in each commit $(bench_ratio "$l" "per message, done in commit" "lease+commit per batch")x."
