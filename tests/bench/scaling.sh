#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# scaling.sh: how pqueue's throughput moves
#  1. with the number of producers = consumers (1, 2, 4, 8), 64-byte
#     lines, beside the same number of pipes through cat;
#  2. with the message size (16 B .. 64 KiB), one producer process (cat)
#     feeding pqueue-put, pqueue-get feeding one consumer (wc), beside
#     the same producer | cat | consumer.  Sizes of 4 KiB and more move
#     BIG bytes (default 1 GiB: a file of at most 64 MiB, sent again and
#     again), so that process start-up stays under 5 % of the run.
# Every run checks that the consumers got every message.  Each consumer
# takes its share (-c): no pqueue-close and no polling of jobs, so the
# pkit side starts two processes more than the pipes (create, rm), not
# five, which under load is much of a short run.  The curves go
# to scaling-procs.tsv and scaling-size.tsv, which tests/bench/run plots
# (a PNG and a text chart each); a table of pqueue's figures over the
# pipes' follows each, every row with its bar (issue 20) and whether it
# is met: time <= 1.2x for N -> N and for 16-byte lines, <= 1.0x for
# 64-byte lines 1 -> 1, and bytes/s >= 0.9x a pipe's for 4 KiB and more
# (65000 B is the top size: a message holds at most PQ_MAXMSG, 65512).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
quick=${QUICK:-0}
MSGS=${MSGS:-$([ "$quick" = 1 ] && echo 100000 || echo 400000)}
BYTES=${BYTES:-$([ "$quick" = 1 ] && echo 16000000 || echo 64000000)}
BIG=${BIG:-$([ "$quick" = 1 ] && echo 32000000 || echo 1073741824)}
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

# table_head TITLE: the summary table's header in results.md.
table_head() {
	{
		echo
		echo "## $1"
		echo
		echo "| case | pqueue msgs/s | pipe msgs/s | pqueue MB/s | pipe MB/s | pqueue / pipe | bar | |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
	} > "$work/table"
}

# table_row CASE TITLE PIPE BYTES [OP BAR [bytes]]: one row from the
# medians; with a bar, the bar and whether it is met, also in bars.tsv
# (bench_bar).  The ratio is of the times, or with "bytes" of the
# bytes/s (the pipe's time over pqueue's).
table_row() {
	local pq pp r what=time met=''
	pq=$(rate "$2" pqueue)
	pp=$(rate "$2" "$3")
	r=$(bench_ratio "$2" pqueue "$3")
	if [ "${7:-}" = bytes ]; then
		what=bytes/s
		r=$(bench_ratio "$2" "$3" pqueue)
	fi
	if [ -n "${5:-}" ]; then
		met=$(_bar_met "$r" "$5" "$6")
		bench_bar "scaling, $1: pqueue / $3, $what" "$r" "$5" "$6"
	fi
	printf '| %s | %s | %s | %.1f | %.1f | %sx %s | %s | %s |\n' "$1" "$pq" "$pp" \
		"$(awk -v r="$pq" -v b="$4" 'BEGIN { print r * b / 1e6 }')" \
		"$(awk -v r="$pp" -v b="$4" 'BEGIN { print r * b / 1e6 }')" \
		"$r" "$what" "${5:+$5 ${6}x}" "$met" >> "$work/table"
}

printf '# producers = consumers\tmessages/s\n' > "$BENCH_OUT/scaling-procs.tsv"
table_head "scaling with processes: pqueue over the pipes, 64-byte lines"
for p in 1 2 4 8; do
	per=$((MSGS / p))
	lines "$per" 64 "$work/in"
	export P=$p PER=$per
	title="scaling: $p producers, $p consumers, $((per * p)) x 64 B"
	bench_case "$title" msgs "$((per * p))" \
		"pqueue" 'pqueue-create $Q
			for i in $(seq $P); do pqueue-put $Q < $work/in & done
			for i in $(seq $P); do pqueue-get -c $PER $Q > $work/out.$i & done
			wait; pqueue-rm $Q
			[ "$(cat $work/out.* | wc -l)" -eq $((P * PER)) ]' \
		"pipes through cat" 'for i in $(seq $P); do
				cat $work/in | cat > $work/out.$i &
			done; wait
			[ "$(cat $work/out.* | wc -l)" -eq $((P * PER)) ]'
	for a in pqueue "pipes through cat"; do
		printf '%s\t%s\t%s\n' "$a" "$p" "$(rate "$title" "$a")" >> "$BENCH_OUT/scaling-procs.tsv"
	done
	table_row "$p -> $p, 64 B" "$title" "pipes through cat" 64 \
		"<=" "$([ "$p" = 1 ] && echo 1.0 || echo 1.2)"
	rm -f "$work"/out.*
done
tee -a "$BENCH_OUT/results.md" < "$work/table"

printf '# message size, bytes\tmessages/s\n' > "$BENCH_OUT/scaling-size.tsv"
table_head "scaling with message size: pqueue over a pipe, 1 -> 1"
for s in 16 64 256 1024 4096 16384 65000; do
	n=$((BYTES / s))
	[ "$n" -le "$MSGS" ] || n=$MSGS
	rep=1
	if [ "$s" -ge 4096 ]; then	# bandwidth: BIG bytes, the file 64 MiB at most
		n=$((BIG / s))
		while [ $((n * s / rep)) -gt 67108864 ]; do rep=$((rep * 2)); done
		n=$((n / rep))
	fi
	lines "$n" "$s" "$work/in"
	export N=$((n * rep)) REP=$rep
	title="scaling: 1 -> 1, $((n * rep)) x $s B"
	bench_case "$title" msgs "$((n * rep))" \
		"pqueue" 'pqueue-create -s 8388608 $Q
			for i in $(seq $REP); do cat $work/in; done | pqueue-put $Q &
			pqueue-get -c $N $Q | wc -l > $work/count
			wait; pqueue-rm $Q; [ "$(cat $work/count)" -eq $N ]' \
		"pipe through cat" 'for i in $(seq $REP); do cat $work/in; done |
			cat | wc -l > $work/count
			[ "$(cat $work/count)" -eq $N ]'
	for a in pqueue "pipe through cat"; do
		printf '%s\t%s\t%s\n' "$a" "$s" "$(rate "$title" "$a")" >> "$BENCH_OUT/scaling-size.tsv"
	done
	bar=()
	case $s in
	16) bar=("<=" 1.2) ;;
	64) bar=("<=" 1.0) ;;
	4096 | 16384 | 65000) bar=(">=" 0.9 bytes) ;;
	esac
	table_row "1 -> 1, $s B, $((n * rep * s / 1048576)) MiB" "$title" "pipe through cat" "$s" "${bar[@]}"
done
tee -a "$BENCH_OUT/results.md" < "$work/table"
