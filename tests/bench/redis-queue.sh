#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# redis-queue.sh: pqueue on Redis (redis:// names) beside what a user
# would do with redis-cli, on a private redis-server (127.0.0.1, a free
# port), and Python's multiprocessing.Queue.
#  1. Streaming: MSGS (default 200 000) 64-byte lines from a producer to a
#     consumer: pqueue-put | pqueue-get on a redis:// queue (acknowledged,
#     at-least-once) beside `redis-cli --pipe` RPUSH and `redis-cli -r MSGS
#     BLPOP` (no acknowledgement: a consumer killed mid-way loses what it
#     popped), and Python's Queue (one machine only).
#  2. One message: N (default 300) x `pqueue-put q x; pqueue-get q` beside
#     `redis-cli RPUSH l x; redis-cli LPOP l`.
# Medians over interleaved rounds (3 by default; 5 for one message).
# Targets: streaming >= 5x the redis-cli pair; one put+get <= 0.3x the
# redis-cli pair.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The redis-cli pair takes ~16 s for 200 000 messages: three rounds.
: "${ROUNDS:=3}"
MSGS=${MSGS:-$([ "${QUICK:-0}" = 1 ] && echo 20000 || echo 200000)}
N=${N:-$([ "${QUICK:-0}" = 1 ] && echo 50 || echo 300)}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_init >/dev/null
command -v pqueue-put >/dev/null || { echo "redis-queue.sh: pqueue-put not on PATH" >&2; exit 125; }
work='' port=0	# set by bench_redis_setup
bench_redis_setup
awk -v n="$MSGS" 'BEGIN { for (i = 0; i < n; i++) printf "%063d\n", i }' > "$work/in"
awk '{ printf "*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$%d\r\n%s\r\n", length($0), $0 }' \
	"$work/in" > "$work/in.resp"
bench_mpq "$work/mpq.py"
export work MSGS N port
export Q="redis://127.0.0.1:$port/bench"

check='[ "$(cat "$work/count")" -eq "$MSGS" ]'
s="redis, streaming $MSGS 64-byte lines, producer -> consumer"
bench_case "$s" lines "$MSGS" \
	"pqueue redis://" "pqueue-create -s 16777216 \$Q; pqueue-put \$Q < \$work/in &
		pqueue-get -c \$MSGS \$Q | wc -l > \$work/count; wait; pqueue-rm \$Q; $check" \
	"redis-cli --pipe + -r BLPOP" "redis-cli -p \$port --pipe < \$work/in.resp > /dev/null &
		redis-cli -p \$port -r \$MSGS blpop l 0 | grep -c '^0' > \$work/count; wait
		redis-cli -p \$port del l > /dev/null; $check" \
	"Python mp.Queue" "python3 \$work/mpq.py \$work/in > \$work/count; $check"

o="redis, one message: $N x put then get, one process each"
# The single-call target is judged on the median of 5 rounds (3 quick).
ROUNDS=${ROUNDS_ONE:-$([ "${QUICK:-0}" = 1 ] && echo 3 || echo 5)}
bench_case "$o" "put+get" "$N" \
	"pqueue-put, pqueue-get" "pqueue-create \$Q; for i in \$(seq \$N); do
		pqueue-put \$Q m\$i; [ \"\$(pqueue-get \$Q)\" = m\$i ]; done; pqueue-rm \$Q" \
	"redis-cli RPUSH, LPOP" "for i in \$(seq \$N); do
		redis-cli -p \$port rpush l1 m\$i > /dev/null
		[ \"\$(redis-cli -p \$port lpop l1)\" = m\$i ]; done"

bench_bar "speed-up, redis streaming 64 B lines: redis-cli --pipe + -r BLPOP / pqueue redis://" \
	"$(bench_ratio "$s" "redis-cli --pipe + -r BLPOP" "pqueue redis://")" ">=" 5
bench_note "pqueue on redis streams $(bench_ratio "$s" "Python mp.Queue" "pqueue redis://")x as fast as Python's Queue (no bar)."
bench_bar "redis, one put+get, median of $ROUNDS: pqueue-put, pqueue-get / redis-cli RPUSH, LPOP" \
	"$(bench_ratio "$o" "pqueue-put, pqueue-get" "redis-cli RPUSH, LPOP")" "<=" 0.3
