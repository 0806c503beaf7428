#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# redis-lock.sh: plock on Redis beside what a user would do with
# redis-cli, on a private redis-server (127.0.0.1, a free port).
#  1. Uncontended: N (default 300) x `plock redis://.../NAME true` beside
#     the bare minimum by hand: `redis-cli SET NAME x NX PX 10000` then
#     `redis-cli DEL NAME` (no token check, no renewal, no fencing).
#  2. The ticket workload: 4 processes x ITERS (default 50) lock,
#     increment a counter file, unlock; the count must come out right.
# Medians over interleaved rounds.  Target: plock <= 0.5x the redis-cli
# pair uncontended (one process and one connection instead of two).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${ROUNDS:=$([ "${QUICK:-0}" = 1 ] && echo 3 || echo 5)}"
ITERS=${ITERS:-$([ "${QUICK:-0}" = 1 ] && echo 20 || echo 50)}
N=${N:-$([ "${QUICK:-0}" = 1 ] && echo 100 || echo 300)}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_init >/dev/null
command -v plock >/dev/null || { echo "redis-lock.sh: plock not on PATH" >&2; exit 125; }
work='' port=0	# set by bench_redis_setup
bench_redis_setup
export port work N ITERS
T=$(type -P true)
export T
export STEP='n=$(cat "$1"); echo $((n + 1)) > "$1"'

bench_case "redis, uncontended: $N x lock and run true" runs "$N" \
	"plock redis://" 'for ((i = 0; i < N; i++)); do plock "redis://127.0.0.1:$port/solo" "$T"; done' \
	"redis-cli SET NX + DEL" 'for ((i = 0; i < N; i++)); do
		redis-cli -p "$port" set solo2 x nx px 10000 >/dev/null; "$T"
		redis-cli -p "$port" del solo2 >/dev/null; done' \
	"plock NAME (files)" 'for ((i = 0; i < N; i++)); do PKIT_DIR=$work plock solo "$T"; done'

bench_case "redis, ticket workload: 4 procs x $ITERS lock/increment/unlock" steps $((4 * ITERS)) \
	"plock redis://" 'echo 0 > "$work/c"
	for p in 1 2 3 4; do
		for ((i = 0; i < ITERS; i++)); do plock "redis://127.0.0.1:$port/tickets" sh -c "$STEP" sh "$work/c"; done &
	done
	wait
	[ "$(cat "$work/c")" -eq $((4 * ITERS)) ]' \
	"plock NAME (files)" 'echo 0 > "$work/c"
	for p in 1 2 3 4; do
		for ((i = 0; i < ITERS; i++)); do PKIT_DIR=$work plock tickets sh -c "$STEP" sh "$work/c"; done &
	done
	wait
	[ "$(cat "$work/c")" -eq $((4 * ITERS)) ]'

bench_bar "redis, uncontended lock and run: plock redis:// / redis-cli SET NX + DEL" \
	"$(bench_ratio "redis, uncontended: $N x lock and run true" "plock redis://" "redis-cli SET NX + DEL")" "<=" 0.5
