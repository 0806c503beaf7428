#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# queue.sh: pqueue beside what a user would use instead.
#  1. Streaming: MSGS (default 1 000 000) 64-byte lines from a producer
#     process to a consumer process through pqueue-put | pqueue-get, beside
#     a pipe through cat (the floor), a POSIX message queue C pair and
#     Python's multiprocessing.Queue.  Each run checks the line count.
#  2. One message: N (default 500) x `pqueue-put q x; pqueue-get q`,
#     beside the same with a POSIX mq command pair, and exec'ing a tiny
#     program twice (linked like the tools, with libbsd).
#  3. Streaming 16-byte lines (MSGS16, default 2 000 000), beside the
#     pipe through cat only.
# Medians over interleaved rounds.  Targets: streaming >= 20x Python's
# Queue and >= 3x the mq C pair, and at pipe speed: <= 1.0x the time of
# the pipe through cat with 64-byte lines, <= 1.2x with 16-byte lines;
# one put+get <= 1.0x the mq command pair and <= 1.3x two tiny execs.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MSGS=${MSGS:-$([ "${QUICK:-0}" = 1 ] && echo 100000 || echo 1000000)}
N=${N:-$([ "${QUICK:-0}" = 1 ] && echo 200 || echo 500)}
MSGS16=${MSGS16:-$([ "${QUICK:-0}" = 1 ] && echo 200000 || echo 2000000)}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_init >/dev/null
command -v pqueue-put >/dev/null || { echo "queue.sh: pqueue-put not on PATH" >&2; exit 125; }

work=$(mktemp -d)
cleanup() {
	pqueue-rm "bench.$$" 2>/dev/null || true
	"$work/mqpair" unlink "/bench.$$" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -o "$work/mqpair" "$here/mqpair.c" -lrt
printf '#include <stdlib.h>\nint main(void) { return getprogname() == NULL; }\n' > "$work/tiny.c"
# shellcheck disable=SC2046 # pkg-config's words are meant to split
cc -O2 -o "$work/tiny" "$work/tiny.c" $(pkg-config --cflags --libs libbsd-overlay)
awk -v n="$MSGS" 'BEGIN { for (i = 0; i < n; i++) printf "%063d\n", i }' > "$work/in"
awk -v n="$MSGS16" 'BEGIN { for (i = 0; i < n; i++) printf "%015d\n", i }' > "$work/in16"
bench_mpq "$work/mpq.py"
export work MSGS N MSGS16
export Q="bench.$$" MQ="/bench.$$"

# check: the consumer's line count must be MSGS.
check='[ "$(cat "$work/count")" -eq "$MSGS" ]'
bench_case "streaming $MSGS 64-byte lines, producer -> consumer" lines "$MSGS" \
	"pqueue put to get" "pqueue-create \$Q; pqueue-put \$Q < \$work/in &
		pqueue-get -c \$MSGS \$Q | wc -l > \$work/count; wait; pqueue-rm \$Q; $check" \
	"pipe through cat" "cat \$work/in | cat | wc -l > \$work/count; $check" \
	"POSIX mq C pair" "\$work/mqpair create \$MQ; \$work/mqpair send \$MQ < \$work/in &
		\$work/mqpair recv \$MQ | wc -l > \$work/count; wait; \$work/mqpair unlink \$MQ; $check" \
	"Python mp.Queue" "python3 \$work/mpq.py \$work/in > \$work/count; $check"

bench_case "streaming $MSGS16 16-byte lines, producer -> consumer" lines "$MSGS16" \
	"pqueue put to get" "pqueue-create \$Q; pqueue-put \$Q < \$work/in16 &
		pqueue-get -c \$MSGS16 \$Q | wc -l > \$work/count; wait; pqueue-rm \$Q
		[ \"\$(cat \$work/count)\" -eq \$MSGS16 ]" \
	"pipe through cat" "cat \$work/in16 | cat | wc -l > \$work/count
		[ \"\$(cat \$work/count)\" -eq \$MSGS16 ]"

bench_case "one message: $N x put then get, one process each" "put+get" "$N" \
	"pqueue-put, pqueue-get" "pqueue-create \$Q; for i in \$(seq \$N); do
		pqueue-put \$Q m\$i; [ \"\$(pqueue-get \$Q)\" = m\$i ]; done; pqueue-rm \$Q" \
	"POSIX mq CLI pair" "\$work/mqpair create \$MQ; for i in \$(seq \$N); do
		\$work/mqpair put \$MQ m\$i; [ \"\$(\$work/mqpair get \$MQ)\" = m\$i ]; done
		\$work/mqpair unlink \$MQ" \
	"two tiny execs" "for i in \$(seq \$N); do \$work/tiny; [ \"\$(\$work/tiny; echo m\$i)\" = m\$i ]; done"

# The bars (issue 20 for the pipe; speed-ups say so).
s="streaming $MSGS 64-byte lines, producer -> consumer"
o="one message: $N x put then get, one process each"
s16="streaming $MSGS16 16-byte lines, producer -> consumer"
pq="pqueue put to get"
bench_bar "streaming 1 -> 1, 64 B lines: $pq / pipe through cat" \
	"$(bench_ratio "$s" "$pq" "pipe through cat")" "<=" 1.0
bench_bar "streaming 1 -> 1, 16 B lines: $pq / pipe through cat" \
	"$(bench_ratio "$s16" "$pq" "pipe through cat")" "<=" 1.2
bench_bar "speed-up, streaming 64 B lines: Python mp.Queue / $pq" \
	"$(bench_ratio "$s" "Python mp.Queue" "$pq")" ">=" 20
bench_bar "speed-up, streaming 64 B lines: POSIX mq C pair / $pq" \
	"$(bench_ratio "$s" "POSIX mq C pair" "$pq")" ">=" 3
bench_bar "one put+get: pqueue-put, pqueue-get / POSIX mq CLI pair" \
	"$(bench_ratio "$o" "pqueue-put, pqueue-get" "POSIX mq CLI pair")" "<=" 1.0
bench_bar "one put+get: pqueue-put, pqueue-get / two tiny execs" \
	"$(bench_ratio "$o" "pqueue-put, pqueue-get" "two tiny execs")" "<=" 1.3
