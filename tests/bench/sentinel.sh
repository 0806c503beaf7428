#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# sentinel.sh: what Sentinel and ?replicas=1 cost.  On a private topology
# (tests/sentinel.bash: one master, two replicas, three sentinels on
# 127.0.0.1, stopped by pid at exit), MSGS (default 200 000, QUICK=1:
# 20 000) 64-byte lines streamed producer -> consumer through
#  - redis://MASTER/q: the single server, no WAIT;
#  - redis-sentinel://S1,S2,S3/m/q?replicas=1: the master found through
#    the sentinels, every put batch and commit confirmed by WAIT 1.
# Medians over interleaved rounds (3 by default); the cost of WAIT as a
# ratio.  Target: <= 2x the single-server time.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${ROUNDS:=3}"
MSGS=${MSGS:-$([ "${QUICK:-0}" = 1 ] && echo 20000 || echo 200000)}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_init >/dev/null
command -v pqueue-put >/dev/null || { echo "sentinel.sh: pqueue-put not on PATH" >&2; exit 125; }
command -v redis-sentinel >/dev/null || { echo "sentinel.sh: redis-sentinel not found (./bootstrap installs it)" >&2; exit 125; }
# shellcheck source=tests/pkit.bash
. "$here/../pkit.bash"
# shellcheck source=tests/sentinel.bash
. "$here/../sentinel.bash"
BATS_TEST_TMPDIR=$(mktemp -d)
: > "$BATS_TEST_TMPDIR/.pkit-pids"
cleanup() {
	local p
	while read -r p; do
		_pkit_kill "$p"
	done < "$BATS_TEST_TMPDIR/.pkit-pids"
	rm -rf "$BATS_TEST_TMPDIR"
}
trap cleanup EXIT
sentinel_start
work=$BATS_TEST_TMPDIR
awk -v n="$MSGS" 'BEGIN { for (i = 0; i < n; i++) printf "%063d\n", i }' > "$work/in"
export work MSGS
export Q1="redis://127.0.0.1:$MPORT/bench1"
export Q2="$SNAME/bench2?replicas=1"

# shellcheck disable=SC2016 # expanded by bench_case
check='[ "$(cat "$work/count")" -eq "$MSGS" ]'
s="redis, streaming $MSGS 64-byte lines, single server vs Sentinel + replicas=1"
bench_case "$s" lines "$MSGS" \
	"redis:// (no WAIT)" "pqueue-create -s 16777216 \$Q1; pqueue-put \$Q1 < \$work/in &
		pqueue-get -c \$MSGS \$Q1 | wc -l > \$work/count; wait; pqueue-rm \$Q1; $check" \
	"redis-sentinel:// ?replicas=1" "pqueue-create -s 16777216 \"\$Q2\"; pqueue-put \"\$Q2\" < \$work/in &
		pqueue-get -c \$MSGS \"\$Q2\" | wc -l > \$work/count; wait; pqueue-rm \"\$Q2\"; $check"

ratio() {	# ratio TITLE A B: median(B) / median(A)
	awk -F'\t' -v t="$1" -v a="$2" -v b="$3" '$1 == t && $2 == a { ta = $3 }
		$1 == t && $2 == b { tb = $3 } END { printf "%.2f", tb / ta }' "$BENCH_OUT/data.tsv"
}
bench_note "through Sentinel with replicas=1 (WAIT 1 after every batch) a stream takes $(ratio "$s" "redis:// (no WAIT)" "redis-sentinel:// ?replicas=1")x the single server's time (target <= 2)."
