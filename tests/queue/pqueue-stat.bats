#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pqueue-stat: the human and key=value views, -e and -F, the listing.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

@test "pqueue-stat: -e and -F without NAME, or with -k, are usage errors" {
	run pqueue-stat -e
	assert_failure 125
	run pqueue-stat -F
	assert_failure 125
	run pqueue-stat -e -F q
	assert_failure 125
	run pqueue-stat -e -k q
	assert_failure 125
	run pqueue-stat a b
	assert_failure 125
}

@test "pqueue-stat: without NAME lists this user's queues, sorted" {
	shm_only "the list is of the runtime directory's queues/"
	local a b
	b=$(pkit_name zz)
	a=$(pkit_name aa)
	pqueue-create "$b"
	pqueue-create "$a"
	run --separate-stderr pqueue-stat
	assert_success
	assert_line "$a"
	assert_line "$b"
	# Sorted: a's line comes before b's.
	[ "$(printf '%s\n' "${lines[@]}" | grep -n -x -e "$a" -e "$b" | cut -d: -f2 | head -n 1)" = "$a" ]
	pqueue-rm "$a"
	run pqueue-stat
	refute_line "$a"
}

# DESIGN.md's one line, "prog: what: why", worded as every other tool
# words a refused runtime directory: "runtime directory PATH: why".
@test "pqueue-stat: without NAME, a refused runtime directory is one prog: what: why line" {
	shm_only "the list is of the runtime directory's queues/"
	local d=$BATS_TEST_TMPDIR/gw
	mkdir -m 0700 "$d"
	chmod 0770 "$d"
	run --separate-stderr env PKIT_DIR="$d" pqueue-stat
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pqueue-stat: runtime directory $d: group or other writable"
	d=$BATS_TEST_TMPDIR/none/pkit
	run --separate-stderr env PKIT_DIR="$d" pqueue-stat
	assert_failure 125
	assert_equal "$stderr" "pqueue-stat: runtime directory $d: No such file or directory"
}

@test "pqueue-stat: -e answers empty? and -F full? by exit status alone" {
	local q
	q=$(pkit_name s)
	pqueue-create -m 2 "$q"
	run --separate-stderr pqueue-stat -e "$q"
	assert_success
	assert_output ""
	run pqueue-stat -F "$q"
	assert_failure 1
	pqueue-put "$q" a
	run pqueue-stat -e "$q"
	assert_failure 1
	run pqueue-stat -F "$q"
	assert_failure 1
	pqueue-put "$q" b
	run pqueue-stat -F "$q"
	assert_success
	assert_output ""
}

@test "pqueue-stat: a byte-full queue is full too" {
	local q
	q=$(pkit_name s)
	pqueue-create -s 64 "$q"
	pqueue-put "$q" "$(printf '%040d' 0)"
	run pqueue-stat -F "$q"
	assert_success
}

@test "pqueue-stat: -k prints key=value lines that follow the queue" {
	local q
	q=$(pkit_name s)
	pqueue-create -m 5 -s 4096 "$q"
	pqueue-put "$q" hello world
	pqueue-get "$q" > /dev/null
	run --separate-stderr pqueue-stat -k "$q"
	assert_success
	assert_line "name=$q"
	assert_line "size=1"
	assert_line "bytes=32"
	assert_line "maxsize=5"
	assert_line "maxbytes=4096"
	assert_line "unfinished=2"
	assert_line "closed=0"
	assert_line "empty=0"
	assert_line "full=0"
	assert_line "puts=2"
	assert_line "gets=1"
	pqueue-close "$q"
	run pqueue-stat -k "$q"
	assert_line "closed=1"
}

@test "pqueue-stat: the human view names the counts in words" {
	local q
	q=$(pkit_name s)
	pqueue-create -m 3 "$q"
	pqueue-put "$q" x
	run --separate-stderr pqueue-stat "$q"
	assert_success
	assert_line "queue:       $q (FIFO)"
	assert_line "messages:    1 of at most 3"
	assert_line "unfinished:  1"
	assert_line "in flight:   0 (0 bytes)"
}

@test "pqueue-stat: a missing queue fails with 125 and one line" {
	local q
	q=$(pkit_name s)
	run --separate-stderr pqueue-stat "$q"
	assert_failure 125
	assert_output ""
	[[ "$stderr" == "pqueue-stat: $q: no such queue" ]]
}

@test "pqueue-stat: stdout closed: 125, and the queue is untouched" {
	local q
	q=$(pkit_name s)
	pqueue-create "$q"
	pqueue-put "$q" kept
	# The old pqueue-stat wrote its report over the segment's header.
	run --separate-stderr sh -c 'pqueue-stat "$1" >&-' _ "$q"
	assert_failure 125
	[[ "$stderr" == *"stdout: Bad file descriptor"* ]]
	run pqueue-get -n "$q"
	assert_success
	assert_output kept
}

@test "pqueue-stat: waiters killed with SIGKILL are no longer counted" {
	local q f g p j
	q=$(pkit_name w)
	f=$(pkit_name f)
	pqueue-create "$q"
	pqueue-create -m 1 "$f"
	pqueue-put "$f" full
	pqueue-get "$q" > /dev/null 3>&- &
	g=$!
	pkit_track "$g"
	pqueue-put "$f" more 3>&- &
	p=$!
	pkit_track "$p"
	pqueue-join "$f" 3>&- &
	j=$!
	pkit_track "$j"
	wait_until 20 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_get=1' sh "$q"
	wait_until 20 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_put=1' sh "$f"
	wait_until 20 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_join=1' sh "$f"
	kill -KILL "$g" "$p" "$j"
	wait "$g" "$p" "$j" || true
	wait_until 20 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_get=0' sh "$q"
	wait_until 20 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_put=0' sh "$f"
	wait_until 20 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_join=0' sh "$f"
	run pqueue-stat -k "$f"
	assert_line size=1
}

# tracee_stopped PID: the process strace PID runs is stopped; sets $tracee.
tracee_stopped() {
	local st
	tracee=
	# (the file has no newline: read "fails" having read it all)
	{ read -r tracee < "/proc/$1/task/$1/children"; } 2>/dev/null || :
	tracee=${tracee%% *}
	[ -n "$tracee" ] || return 1
	{ read -r st < "/proc/$tracee/stat"; } 2>/dev/null || return 1
	st=${st##*) }
	[[ ${st:0:1} == [tT] ]]
}

@test "pqueue-stat: -l lists every message, the leased one too, however many were put since it sized its list" {
	local q w k s tracee
	strace_ready
	q=$(pkit_name l)
	pqueue-create "$q"
	pqueue-put "$q" first
	pqueue-get "$q" sleep 60 &
	w=$!
	pkit_track "$w"
	wait_until 10 sh -c 'pqueue-stat -k "$1" | grep -qx inflight=1' sh "$q"
	seq 2000 | pqueue-put "$q"
	# -l sizes its list from a first look (pq_stat), allocates it (2065
	# entries: a calloc big enough for an mmap of its own), then lists
	# (pq_peek).  A dry run finds that mmap; strace stops pqueue-stat
	# right after it, 100 more messages go in, and it goes on.  Before
	# the fix it listed 2065 and left the rest out silently: on shared
	# memory the leased message, listed last, among them.
	strace -o "$BATS_TEST_TMPDIR/dry" -e trace=mmap pqueue-stat -l "$q" > /dev/null
	k=$(awk '/^mmap\(NULL, [0-9]+, .*MAP_ANONYMOUS/ {
		split($2, a, ","); if (a[1] + 0 >= 131072) { print NR; exit } }' \
		"$BATS_TEST_TMPDIR/dry")
	[ -n "$k" ]
	strace -qq -o /dev/null -e trace=mmap -e inject=mmap:signal=STOP:when="$k" \
		pqueue-stat -l "$q" > "$BATS_TEST_TMPDIR/out" &
	s=$!
	pkit_track "$s"
	wait_until 10 tracee_stopped "$s"
	seq 2001 2100 | pqueue-put "$q"
	kill -CONT "$tracee"
	wait "$s"
	run cut -f 1 "$BATS_TEST_TMPDIR/out"
	assert_equal "${#lines[@]}" 2101
	sort -n "$BATS_TEST_TMPDIR/out" | cut -f 1 | cmp - <(seq 2101)
	run grep -c "	leased:$w	" "$BATS_TEST_TMPDIR/out"
	assert_output 1
}

@test "pqueue-stat: -l on a LIFO queue lists the newest first, as they will be delivered" {
	shm_only "Redis queues have no LIFO order"
	local q w
	q=$(pkit_name l)
	pqueue-create -L "$q"
	pqueue-put "$q" 1 2 3 4 5
	# Before the fix -l walked the ring from its head, in put order
	# (1 to 5), while a get takes from the top.
	run --separate-stderr pqueue-stat -l "$q"
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -f 5 | tr '\n' ' ')" "5 4 3 2 1 "
	run --separate-stderr pqueue-get -c 2 "$q"
	assert_output $'5\n4'
	pqueue-get "$q" sleep 60 &
	w=$!
	pkit_track "$w"
	wait_until 10 sh -c 'pqueue-stat -k "$1" | grep -qx inflight=1' sh "$q"
	run --separate-stderr pqueue-stat -l "$q"
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -f 2,5 | tr '\t\n' ': ')" \
	    "queued:2 queued:1 leased:$w:3 "
}
