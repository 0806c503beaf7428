# SPDX-License-Identifier: ISC
# lib.sh: the benchmark instrument, sourced by tests/bench/*.sh.
#
#   bench_init                 once: machine header, output files
#   bench_case TITLE UNIT N  NAME1 CMD1  NAME2 CMD2 ...
#       runs each CMD (a bash snippet doing N units of work) ROUNDS
#       rounds (after a warm-up run with BENCH_WARMUP=1; by default none:
#       the median of interleaved rounds absorbs a cold first one), rotating the order each round (A B C,
#       B C A, ...) so a noisy machine hits all alike; prints and records
#       per alternative the median seconds, N/median as UNIT/s, peak RSS,
#       and the ratio of the first alternative (pkit) to each.  A CMD that
#       exits non-zero (a wrong answer) fails the whole run.
#       Each run is ended (and the whole run failed) after BENCH_TIMEOUT
#       seconds (default 1200), so that a hung tool cannot hang CI.
#   bench_note TEXT            a line under the current table
#   bench_ratio TITLE A B      median seconds of alternative A over B's
#                              in case TITLE (from data.tsv), as %.2f
#   bench_bar WHAT RATIO OP BAR
#       a ratio beside its bar (OP is <= or >=): a line under the current
#       table saying whether it is met, and a row in bars.tsv, which
#       tests/bench/run gathers into one table at the end of results.md.
#       A missed bar is reported, never an error: the figures depend on
#       the machine and its load.  A wrong answer fails in bench_case.
#
# Environment: QUICK=1 (fewer rounds; callers also shrink N), ROUNDS,
# BENCH_OUT (directory for results.md and data files; default
# ./bench-results), MEASURE (the measure helper), BENCH_TIMEOUT,
# BENCH_WARMUP.
# shellcheck shell=bash

: "${BENCH_OUT:=$PWD/bench-results}"
: "${ROUNDS:=$([ "${QUICK:-0}" = 1 ] && echo 3 || echo 5)}"
: "${BENCH_TIMEOUT:=1200}"
: "${BENCH_WARMUP:=0}"

bench_init() {
	mkdir -p "$BENCH_OUT"
	BENCH_MD="$BENCH_OUT/results.md"
	if [ -z "${MEASURE:-}" ]; then
		MEASURE="$BENCH_OUT/measure"
		if [ ! -x "$MEASURE" ]; then
			cc -O2 -o "$MEASURE" "$(dirname "${BASH_SOURCE[0]}")/measure.c" ||
				{ echo "bench: cannot build measure" >&2; exit 125; }
		fi
	fi
	if [ ! -s "$BENCH_MD" ]; then
		{
			echo "# pkit benchmarks"
			echo
			echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
			echo "- cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores"
			echo "- kernel: $(uname -sr); rounds: $ROUNDS (median); quick: ${QUICK:-0}; warm-up run: $BENCH_WARMUP"
			echo "- load average at the start: $(cut -d ' ' -f 1-3 /proc/loadavg)"
		} > "$BENCH_MD"
		cat "$BENCH_MD"
	fi
}

# _median FILE: the median of the first column.
_median() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

_maxcol2() {
	sort -g -k2 "$1" | tail -n 1 | awk '{ print $2 }'
}

bench_case() {
	local title=$1 unit=$2 n=$3 i r k nalt med rss base st
	shift 3
	local -a names=() cmds=()
	while [ $# -ge 2 ]; do
		names+=("$1")
		cmds+=("$2")
		shift 2
	done
	nalt=${#names[@]}
	local tmp
	tmp=$(mktemp -d)
	for ((i = 0; i < nalt; i++)); do
		: > "$tmp/$i"
		[ "$BENCH_WARMUP" = 0 ] && continue
		timeout -k 10 "$BENCH_TIMEOUT" bash -c "${cmds[i]}" > /dev/null ||
			{ echo "bench: $title: ${names[i]}: warm-up failed" >&2; rm -rf "$tmp"; exit 1; }
	done
	for ((r = 0; r < ROUNDS; r++)); do
		for ((k = 0; k < nalt; k++)); do
			i=$(( (k + r) % nalt ))
			timeout -k 10 "$BENCH_TIMEOUT" "$MEASURE" "$tmp/$i" bash -c "${cmds[i]}" > /dev/null || {
				st=$?
				if [ "$st" = 124 ]; then
					echo "bench: $title: ${names[i]}: still running after ${BENCH_TIMEOUT}s, ended" >&2
				else
					echo "bench: $title: ${names[i]}: failed with $st (wrong answer or error)" >&2
				fi
				rm -rf "$tmp"
				exit 1
			}
		done
	done
	{
		echo
		echo "## $title"
		echo
		echo "| alternative | median s | $unit/s | peak RSS KiB | ${names[0]} vs this |"
		echo "| --- | ---: | ---: | ---: | ---: |"
	} | tee -a "$BENCH_MD"
	base=$(_median "$tmp/0")
	for ((i = 0; i < nalt; i++)); do
		med=$(_median "$tmp/$i")
		rss=$(_maxcol2 "$tmp/$i")
		awk -v name="${names[i]}" -v m="$med" -v n="$n" -v rss="$rss" -v b="$base" \
			'BEGIN { printf "| %s | %.4f | %.0f | %d | %.2fx |\n", name, m, n / m, rss, b / m }' |
			tee -a "$BENCH_MD"
		printf '%s\t%s\t%s\t%s\n' "$title" "${names[i]}" "$med" "$n" >> "$BENCH_OUT/data.tsv"
	done
	rm -rf "$tmp"
}

bench_note() {
	printf '\n%s\n' "$*" | tee -a "$BENCH_MD"
}

bench_ratio() {
	awk -F'\t' -v t="$1" -v a="$2" -v b="$3" '$1 == t && $2 == a { ta = $3 }
		$1 == t && $2 == b { tb = $3 } END {
		if (ta > 0 && tb > 0) printf "%.2f", ta / tb; else printf "none" }' "$BENCH_OUT/data.tsv"
}

# _bar_met RATIO OP BAR: met, MISSED, or "no figure".
_bar_met() {
	awk -v v="$1" -v op="$2" -v b="$3" 'BEGIN {
		if (v !~ /^[0-9]+(\.[0-9]+)?$/) print "no figure"
		else if (op == "<=" ? v + 0 <= b + 0 : v + 0 >= b + 0) print "met"
		else print "MISSED" }'
}

bench_bar() {
	local met
	met=$(_bar_met "$2" "$3" "$4")
	printf '%s\t%s\t%s %s\t%s\n' "$1" "$2" "$3" "$4" "$met" >> "$BENCH_OUT/bars.tsv"
	bench_note "$1: ${2}x (bar $3 ${4}x: $met)"
}

# bench_redis_setup: a work directory ($work, removed at exit) and a
# private redis-server on 127.0.0.1 at a free port ($port), its files in
# $work, stopped by its pid at exit (an EXIT trap).  Exits 125 without
# redis-server.
bench_redis_setup() {
	command -v redis-server >/dev/null || {
		echo "${0##*/}: redis-server not found (./bootstrap installs it)" >&2
		exit 125
	}
	work=$(mktemp -d)
	_bench_redis_pid=0
	trap _bench_redis_cleanup EXIT
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --bind 127.0.0.1 --port "$port" --dir "$work" --save '' \
		--appendonly no --logfile "$work/log" </dev/null >/dev/null 2>&1 &
	_bench_redis_pid=$!
	for _ in $(seq 1 100); do
		redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	echo "bench: redis-server would not start; see $work/log" >&2
	exit 1
}

_bench_redis_cleanup() {
	if [ "$_bench_redis_pid" -gt 1 ]; then
		kill "$_bench_redis_pid" 2>/dev/null && wait "$_bench_redis_pid" 2>/dev/null
	fi
	rm -rf "$work"
}

# bench_mpq FILE: write Python's multiprocessing.Queue case to FILE: a
# producer process puts each line of argv[1], the parent counts them.
bench_mpq() {
	cat > "$1" <<'PY'
import multiprocessing as mp, sys

def produce(q, path):
    with open(path) as f:
        for line in f:
            q.put(line)
    q.put(None)

if __name__ == "__main__":
    q = mp.Queue(10000)
    p = mp.Process(target=produce, args=(q, sys.argv[1]))
    p.start()
    n = 0
    while q.get() is not None:
        n += 1
    p.join()
    print(n)
PY
}
