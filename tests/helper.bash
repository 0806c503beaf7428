# SPDX-License-Identifier: ISC
# helper.bash: loaded by every suite of pkit's own tests, which live in
# one folder per component (tests/queue/pqueue-put.bats: `load ../helper`).
# shellcheck shell=bash

# bats sources a test file, and so this one, once for every test: what
# runs here runs 700 times a `make check`, so it forks nothing.  The
# helper libraries' own load.bash files fork a dirname for every file they
# source (19 a test, a fifth of all the processes the suite started);
# their src/ files are sourced here directly instead, where they are.
bats_lib=${BATS_LIB_DIR:-/usr/lib/bats}
for _f in support/src/output support/src/error support/src/lang \
    assert/src/assert assert/src/refute assert/src/assert_equal \
    assert/src/assert_not_equal assert/src/assert_success \
    assert/src/assert_failure assert/src/assert_output \
    assert/src/refute_output assert/src/assert_line \
    assert/src/refute_line assert/src/assert_regex \
    assert/src/refute_regex file/src/file file/src/temp; do
	if [ -f "$bats_lib/bats-$_f.bash" ]; then
		# shellcheck disable=SC1090 # the helper libraries, as above
		source "$bats_lib/bats-$_f.bash"
	else	# another layout: its load.bash knows it
		load "$bats_lib/bats-${_f%%/*}/load.bash"
	fi
done
unset _f
pkit_tests_dir=${BASH_SOURCE[0]%/*}
case $pkit_tests_dir in
/*) ;;
"${BASH_SOURCE[0]}") pkit_tests_dir=$PWD ;;
*) pkit_tests_dir=$PWD/$pkit_tests_dir ;;
esac
load "$pkit_tests_dir/pkit.bash"

: "${top_srcdir:=${pkit_tests_dir%/tests*}}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

setup() {
	pkit_setup
}

teardown() {
	pkit_teardown
	planted_cleanup
}

# planted_dir LINK...: print a new world-writable sticky directory (like
# /tmp, but under /dev/shm, which user nobody can reach) in which nobody
# planted each symlink LINK to a file of ours, $BATS_TEST_TMPDIR/victim,
# holding "precious": the neighbour's attack on a tool run as root.
# planted_cleanup (in teardown) removes it.
planted_dir() {
	local d l
	d=$(mktemp -d /dev/shm/pkit-planted.XXXXXX) || return 1
	printf '%s\n' "$d" >> "$BATS_TEST_TMPDIR/.pkit-planted"
	chmod 1777 "$d"
	printf 'precious\n' > "$BATS_TEST_TMPDIR/victim"
	for l in "$@"; do
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    ln -s "$BATS_TEST_TMPDIR/victim" "$d/$l" || return 1
		[ "$(stat -c %U "$d/$l")" = nobody ] || return 1
	done
	printf '%s\n' "$d"
}

# planted_cleanup: remove what planted_dir made in this test.
planted_cleanup() {
	local d
	[ -f "$BATS_TEST_TMPDIR/.pkit-planted" ] || return 0
	while read -r d; do
		case $d in
		/dev/shm/pkit-planted.?*) rm -rf "$d" ;;
		esac
	done < "$BATS_TEST_TMPDIR/.pkit-planted"
}

# timed_run [run's flags] CMD...: bats' run, and set $elapsed to how long
# it took in milliseconds.
# shellcheck disable=SC2034 # elapsed is for the caller
timed_run() {
	local t0
	t0=${EPOCHREALTIME//[!0-9]/}
	run "$@"
	elapsed=$(( (${EPOCHREALTIME//[!0-9]/} - t0) / 1000 ))
}

# quick_run CMD...: what bats' `run --separate-stderr CMD...` sets
# ($status, $output, $stderr, $lines, $stderr_lines: trailing newlines
# cut, empty lines dropped from the arrays), without its subshell and
# mktemp: for loops of hundreds of calls (args.bats, segment-hostile.bats).
# CMD is an external command (a function would run in this shell).
# shellcheck disable=SC2034 # status, lines, stderr_lines are for the caller
quick_run() {
	local o=$BATS_TEST_TMPDIR/.quick-out e=$BATS_TEST_TMPDIR/.quick-err
	"$@" > "$o" 2> "$e" && status=0 || status=$?
	output='' stderr=''
	{ IFS= read -r -d '' output || :; } < "$o"
	{ IFS= read -r -d '' stderr || :; } < "$e"
	while [[ $output == *$'\n' ]]; do output=${output%$'\n'}; done
	while [[ $stderr == *$'\n' ]]; do stderr=${stderr%$'\n'}; done
	lines=() stderr_lines=()
	[ -z "$output" ] || IFS=$'\n' read -d '' -r -a lines <<< "$output" || :
	[ -z "$stderr" ] || IFS=$'\n' read -d '' -r -a stderr_lines <<< "$stderr" || :
}

# lease_stuck Q: put eight 60 KB messages (A$big ... H$big) in Q and
# start a getter of all eight whose stdout (a FIFO opened on fd 7, never
# read) blocks on one of them: more than the pipe holds, even grown to
# the 256 KiB pqueue-get grows it to.  Returns once pqueue-stat shows
# the lease alive and settled on one message (the same id twice, 0.2 s
# apart); sets $big, $getter (its pid), $stuck (that message's id) and
# $stuck_msg (the message).
# getter_dies: SIGKILL that getter, reap it, close fd 7.
# shellcheck disable=SC2034 # big, getter, stuck_msg are for the caller
lease_stuck() {
	local prev=0 l
	big=$(head -c 60000 /dev/zero | tr '\0' z)
	pqueue-put "$1" "A$big" "B$big" "C$big" "D$big" "E$big" "F$big" \
		"G$big" "H$big"
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	pqueue-get -c 8 "$1" > "$BATS_TEST_TMPDIR/fifo" &
	getter=$!
	pkit_track "$getter"
	exec 7< "$BATS_TEST_TMPDIR/fifo"
	for l in $(seq 50); do
		stuck=$(pqueue-stat -k "$1" | sed -n "s/^lease=pid:$getter messages:1 first_id:\([0-9]*\) .* alive$/\1/p")
		[ -n "$stuck" ] && [ "$stuck" = "$prev" ] && break
		prev=${stuck:-0}
		sleep 0.2
	done
	[ -n "$stuck" ] && [ "$stuck" = "$prev" ] ||
		fail "lease_stuck: no settled lease of $getter in 10 s"
	stuck_msg=$(printf "\\$(printf %03o $((64 + stuck)))")$big
}
getter_dies() {
	kill -KILL "$getter"
	wait "$getter" || true
	exec 7<&-
}

# zombies_of PID: print the pids of zombie children of PID.
zombies_of() {
	ps -o pid=,stat= --ppid "$1" 2>/dev/null | awk '$2 ~ /^Z/ { print $1 }'
}

# queues_dir: make sure the runtime directory's queues/ exists (0700, as
# pqueue-create makes it), to plant files in it.
queues_dir() {
	[ -d "$PKIT_DIR" ] || mkdir -m 700 "$PKIT_DIR"
	[ -d "$PKIT_DIR/queues" ] || mkdir -m 700 "$PKIT_DIR/queues"
}

# shm_only WHY: skip this test in the Redis run of its suite (see
# tests/redis-run), saying which documented difference it touches.
shm_only() {
	if [ "${PKIT_TEST_BACKEND:-}" = redis ]; then
		skip "shared memory only: $*"
	fi
}

# not_wrapped WHY: skip when the tools run through a wrapper script (make
# check-valgrind's vg-tools, each exec'ing valgrind), saying WHY that test
# needs the tools themselves.
not_wrapped() {
	[ "$(head -c 2 "$(command -v pqueue-get)")" != '#!' ] ||
		skip "the tools run through a wrapper (valgrind): $*"
}

# strace_ready: skip unless strace can trace the tools themselves: it is
# installed, ptrace is allowed here, and the tools are not run through a
# wrapper, whose own system calls strace would see and count.
strace_ready() {
	command -v strace > /dev/null || skip "strace is needed (./bootstrap installs it)"
	strace -qq -o /dev/null true 2> /dev/null || skip "ptrace is not allowed here"
	not_wrapped "strace would count its calls"
}

# files_only WHY: skip this test of tests/plock.bats in its Redis run,
# saying which documented difference of a lease it touches (plock(1),
# "Locks on Redis": no chainloading, no lock file, no instant release).
files_only() {
	if [ "${PKIT_TEST_BACKEND:-}" = redis ]; then
		skip "file locks only: $*"
	fi
}

# lesson_path FILE: the lesson examples/FILE to run.  In the Redis run,
# a copy whose queue (the line q=...) is on the private server instead,
# beside the demo.sh it sources: the rest of the lesson runs unchanged.
lesson_path() {
	if [ "${PKIT_TEST_BACKEND:-}" = redis ]; then
		sed 's/^q=/q=redis:/' "$top_srcdir/examples/$1" > "$BATS_TEST_TMPDIR/$1"
		cp "$top_srcdir/examples/demo.sh" "$BATS_TEST_TMPDIR/"
		printf '%s\n' "$BATS_TEST_TMPDIR/$1"
	else
		printf '%s\n' "$top_srcdir/examples/$1"
	fi
}
