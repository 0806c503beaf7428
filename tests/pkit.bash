# SPDX-License-Identifier: ISC
# pkit.bash: bats helpers for testing scripts that use pkit.
#
# Load it from a .bats file (`load /usr/share/pkit/bats/pkit.bash`, or
# `bats_load_library pkit` with BATS_LIB_PATH set), then call pkit_setup in
# setup() and pkit_teardown in teardown().  Each test then gets:
#   - its own runtime directory ($PKIT_DIR), so records and locks of one
#     test never meet another's;
#   - pkit_name PREFIX: a queue or lock name unique to this test (with
#     PKIT_TEST_BACKEND=redis, a redis:NAME on the server in
#     $PKIT_REDIS_URL, to run the same suite against Redis);
#   - pkit_track PID...: processes to end (by pid, never by pattern) at
#     teardown, with their descendants; pids started with pspawn in this
#     test are found from the runtime directory's records as well;
#   - wait_until SECONDS CMD [ARG...]: poll CMD until it succeeds, or fail
#     after SECONDS (fractions allowed) - use it instead of a bare sleep.
# shellcheck shell=bash

pkit_setup() {
	PKIT_DIR="${BATS_TEST_TMPDIR:?run under bats}/pkit"
	export PKIT_DIR
	PKIT_TEST_TAG="t$$x${BATS_TEST_NUMBER:-0}"
	: > "$BATS_TEST_TMPDIR/.pkit-pids"
	: > "$BATS_TEST_TMPDIR/.pkit-queues"
}

# pkit_name PREFIX: print a name unique to this test run and test, and
# remember it so that pkit_teardown removes the queue of that name.
pkit_name() {
	local n="${1:-q}-${PKIT_TEST_TAG:?call pkit_setup first}-$RANDOM"
	[ "${PKIT_TEST_BACKEND:-}" = redis ] && n="redis:$n"
	printf '%s\n' "$n" >> "$BATS_TEST_TMPDIR/.pkit-queues"
	printf '%s\n' "$n"
}

# pkit_track PID...: end these at teardown if they still run.
pkit_track() {
	local p
	for p in "$@"; do
		printf '%s\n' "$p" >> "$BATS_TEST_TMPDIR/.pkit-pids"
	done
}

# _pkit_alive PID: true if PID is a running (non-zombie) process.
_pkit_alive() {
	local st
	[ "$1" -gt 1 ] 2>/dev/null || return 1
	{ read -r st < "/proc/$1/stat"; } 2>/dev/null || return 1
	st=${st##*) }
	st=${st:0:1}
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# _pkit_descendants PID: append PID's descendants to the array
# _pkit_all, read from /proc/PID/task/*/children (no process started).
_pkit_descendants() {
	local f c kids
	[ "$1" -gt 1 ] 2>/dev/null || return 0
	for f in /proc/"$1"/task/*/children; do
		kids=
		# (the file has no newline: read "fails" having read it all)
		{ read -r kids < "$f"; } 2>/dev/null || :
		for c in $kids; do
			_pkit_all+=("$c")
			_pkit_descendants "$c"
		done
	done
}

# _pkit_kill PID: SIGTERM, then SIGKILL after a second; only pids > 1.
_pkit_kill() {
	local p=$1 _
	[ "$p" -gt 1 ] 2>/dev/null || return 0
	_pkit_alive "$p" || return 0
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		_pkit_alive "$p" || return 0
		_pkit_nap 0.05
	done
	kill -KILL "$p" 2>/dev/null || true
}

# _pkit_nap SECONDS: sleep without starting a process (read -t on a FIFO
# in the test's directory that never has data).
_pkit_nap() {
	local fifo=${BATS_TEST_TMPDIR:?run under bats}/.pkit-nap nap _
	[ -p "$fifo" ] || mkfifo "$fifo" || return 1
	exec {nap}<>"$fifo"
	read -r -t "$1" -u "$nap" _ || :
	exec {nap}<&-
}

pkit_teardown() {
	local p q d
	local -a _pkit_all=()
	if [ -f "$BATS_TEST_TMPDIR/.pkit-pids" ]; then
		while read -r p; do
			_pkit_all+=("$p")
		done < "$BATS_TEST_TMPDIR/.pkit-pids"
	fi
	# Processes started with pspawn in this test: their records name them.
	if [ -d "$PKIT_DIR/jobs" ]; then
		for p in "$PKIT_DIR"/jobs/*; do
			[ -e "$p" ] || continue
			p=${p##*/}
			p=${p%%[!0-9]*}
			[ -n "$p" ] && _pkit_all+=("$p")
		done
	fi
	# Their descendants too, found before any of them dies (a child
	# orphaned by its parent's SIGTERM, a `sleep` under `sh -c`, would
	# otherwise live on, holding the test's output open: bats waits for
	# it at the end of the file).
	d=${#_pkit_all[@]}
	for ((q = 0; q < d; q++)); do
		_pkit_descendants "${_pkit_all[q]}"
	done
	for p in "${_pkit_all[@]}"; do
		_pkit_kill "$p"
	done
	if [ -f "$BATS_TEST_TMPDIR/.pkit-queues" ] && command -v pqueue-rm >/dev/null; then
		while read -r q; do
			case $q in
			redis:*) pqueue-rm "$q" 2>/dev/null ;;
			*/*) [ -e "$q" ] && pqueue-rm "$q" 2>/dev/null ;;
			*) [ -e "$PKIT_DIR/queues/$q" ] && pqueue-rm "$q" 2>/dev/null ;;
			esac
		done < "$BATS_TEST_TMPDIR/.pkit-queues"
	fi
	return 0
}

# wait_until SECONDS CMD [ARG...]: poll CMD every 20 ms until it succeeds;
# return 1 (and say so) if SECONDS (a decimal: 5, 0.5) pass first.  The
# clock and the nap are bash's own ($EPOCHREALTIME, _pkit_nap), so a poll
# costs what CMD costs and no more processes: suites poll a lot, on
# machines where a fork is dear.  CMD never holds the nap's FIFO open.
wait_until() {
	local limit=$1 s f end
	shift
	s=${limit%%.*}
	f=
	[[ $limit == *.* ]] && f=${limit#*.}
	f=${f}000000
	end=$(( ${EPOCHREALTIME//[!0-9]/} + 10#${s:-0} * 1000000 + 10#${f:0:6} ))
	while ! "$@"; do
		if [ "${EPOCHREALTIME//[!0-9]/}" -gt "$end" ]; then
			echo "wait_until: timed out after ${limit}s: $*" >&2
			return 1
		fi
		_pkit_nap 0.02
	done
}
