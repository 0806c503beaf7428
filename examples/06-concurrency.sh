#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 6, 并发/并行 (concurrency vs parallelism): N CPU-bound workers
# run one after the other, then all at once with pspawn -n and pjoin.  On
# a machine with several cores the parallel run takes about 1/N of the
# time (the amount of work scales with PKIT_DEMO_DELAY; even at 0 each
# worker does some, so that there is something to compare).
. "$(dirname "$0")/demo.sh"
heading "6. concurrency vs parallelism: N workers, one by one and at once"

n=$(nproc 2>/dev/null || echo 2)
[ "$n" -gt 4 ] && n=4
[ "$n" -lt 2 ] && n=2
loops=$(awk -v f="${PKIT_DEMO_DELAY:-1}" 'BEGIN { n = 3000000 * f; printf "%d", n < 10000 ? 10000 : n }')
work='awk -v i="$PKIT_INDEX" -v n="$1" "BEGIN { for (k = 0; k < n; k++) s += k % 7; print \"worker\", i, \"sum\", s + 0 }"'
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
now() { date +%s%N; }

t0=$(now)
i=1
while [ $i -le "$n" ]; do
	PKIT_INDEX=$i sh -c "$work" sh "$loops" >> "$out/serial"
	i=$((i + 1))
done
t1=$(now)
# shellcheck disable=SC2046 # one word per pid
pjoin $(pspawn -n "$n" -o "$out/parallel" sh -c "$work" sh "$loops")
t2=$(now)

echo "-- one by one"; cat "$out/serial"
echo "-- at once"; sort -k2n "$out/parallel"
echo "$n workers: one by one $(( (t1 - t0) / 1000000 )) ms, at once $(( (t2 - t1) / 1000000 )) ms"
