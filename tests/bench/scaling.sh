#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# scaling.sh: how pqueue's throughput moves
#  1. with the number of producers = consumers (1, 2, 4, 8), 64-byte
#     lines, beside the same number of pipes through cat;
#  2. with the message size (16 B .. 64 KiB), one producer and one
#     consumer, beside a pipe through cat.
# Every run checks that the consumers got every message.  The curves go
# to scaling-procs.tsv and scaling-size.tsv, which tests/bench/run plots.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
quick=${QUICK:-0}
MSGS=${MSGS:-$([ "$quick" = 1 ] && echo 100000 || echo 400000)}
BYTES=${BYTES:-$([ "$quick" = 1 ] && echo 16000000 || echo 64000000)}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_init >/dev/null
command -v pqueue-put >/dev/null || { echo "scaling.sh: pqueue-put not on PATH" >&2; exit 125; }

work=$(mktemp -d)
cleanup() {
	pqueue-rm "scale.$$" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
export work
export Q="scale.$$"

# lines N SIZE FILE: N lines of SIZE bytes each, newline included.
lines() {
	awk -v n="$1" -v s="$2" 'BEGIN {
		pad = "0"; while (length(pad) < s) pad = pad pad
		for (i = 0; i < n; i++) print substr(i pad, 1, s - 1) }' > "$3"
}

# rate TITLE NAME: messages per second from the last bench_case's data.
rate() {
	awk -F'\t' -v t="$1" -v a="$2" '$1 == t && $2 == a { r = $4 / $3 }
		END { printf "%.0f", r }' "$BENCH_OUT/data.tsv"
}

printf '# producers = consumers\tmessages/s\n' > "$BENCH_OUT/scaling-procs.tsv"
for p in 1 2 4 8; do
	per=$((MSGS / p))
	lines "$per" 64 "$work/in"
	export P=$p PER=$per
	title="scaling: $p producers, $p consumers, $((per * p)) x 64 B"
	bench_case "$title" msgs "$((per * p))" \
		"pqueue" 'pqueue-create $Q
			for i in $(seq $P); do pqueue-put $Q < $work/in & done
			for i in $(seq $P); do pqueue-get -f $Q > $work/out.$i & done
			while [ "$(jobs -p | wc -l)" -gt $P ]; do wait -n; done
			pqueue-close $Q; wait; pqueue-rm $Q
			[ "$(cat $work/out.* | wc -l)" -eq $((P * PER)) ]' \
		"pipes through cat" 'for i in $(seq $P); do
				cat $work/in | cat > $work/out.$i &
			done; wait
			[ "$(cat $work/out.* | wc -l)" -eq $((P * PER)) ]'
	for a in pqueue "pipes through cat"; do
		printf '%s\t%s\t%s\n' "$a" "$p" "$(rate "$title" "$a")" >> "$BENCH_OUT/scaling-procs.tsv"
	done
	rm -f "$work"/out.*
done

printf '# message size, bytes\tmessages/s\n' > "$BENCH_OUT/scaling-size.tsv"
for s in 16 64 256 1024 4096 16384 65000; do
	n=$((BYTES / s))
	[ "$n" -le "$MSGS" ] || n=$MSGS
	lines "$n" "$s" "$work/in"
	export N=$n
	title="scaling: 1 -> 1, $n x $s B"
	bench_case "$title" msgs "$n" \
		"pqueue" 'pqueue-create -s 8388608 $Q
			pqueue-put $Q < $work/in & pqueue-get -c $N $Q | wc -l > $work/count
			wait; pqueue-rm $Q; [ "$(cat $work/count)" -eq $N ]' \
		"pipe through cat" 'cat $work/in | cat | wc -l > $work/count
			[ "$(cat $work/count)" -eq $N ]'
	for a in pqueue "pipe through cat"; do
		printf '%s\t%s\t%s\n' "$a" "$s" "$(rate "$title" "$a")" >> "$BENCH_OUT/scaling-size.tsv"
	done
done
