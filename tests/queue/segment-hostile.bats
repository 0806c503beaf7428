#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# segment-hostile.bats: hostile and corrupt queue segments, in the
# runtime directory's queues/ or (another user's) in a directory shared
# on purpose and named by path.  Another user's segment, widened modes,
# symlinks, FIFOs,
# truncation at every interesting size, random bytes, a valid header
# with out-of-range fields (tests/queue/segpatch keeps its checksum right), a
# future layout, a half-created one: every tool that opens it exits 125
# with one line saying what is wrong, never a signal, never a hang; and
# pqueue-rm still removes a segment of ours.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0
# "Never a hang": a tool that hung on a segment would fail its test here
# (bats ends it after this long) rather than by a timeout(1) around each
# of the ~350 calls all_refuse makes.  Under check-valgrind
# (PKIT_TIME_FACTOR=10) each call costs about a CPU second, and the
# header table alone took 120 s in .ci/run: the bound scales.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-$((120 * ${PKIT_TIME_FACTOR:-1}))}

segpatch() {
	"$top_builddir/tests/queue/segpatch" "$@"
}

# all_refuse Q TEXT: every tool that opens Q exits 125, at once, with
# nothing on stdout and one stderr line containing TEXT.
all_refuse() {
	local t
	for t in "pqueue-put -n $1 x" "pqueue-get -n $1" "pqueue-get -t 0.1 $1" \
	    "pqueue-stat $1" "pqueue-stat -e $1" "pqueue-close $1" \
	    "pqueue-done $1" "pqueue-join -t 0.1 $1"; do
		# shellcheck disable=SC2086 # word splitting of $t is wanted
		quick_run $t
		[ "$status" -eq 125 ] ||
			fail "$t: exit $status, not 125: $stderr"
		[ -z "$output" ] || fail "$t wrote to stdout: $output"
		[ "${#stderr_lines[@]}" -eq 1 ] ||
			fail "$t: not one line: $stderr"
		[[ "$stderr" == *"$2"* ]] || fail "$t: '$stderr' lacks '$2'"
	done
}

# removed Q: pqueue-rm removes it (ours, whatever its state).
removed() {
	quick_run pqueue-rm "$1"
	assert_success
	assert_file_not_exists "$PKIT_DIR/queues/$1"
}

# as_nobody CMD...: run CMD as user nobody (group root with -g).
as_nobody() {
	local g=nogroup
	if [ "$1" = -g ]; then
		g=0
		shift
	fi
	setpriv --reuid=nobody --regid="$g" --clear-groups "$@"
}

nobody_can_run() {
	command -v setpriv > /dev/null || return 1
	as_nobody pqueue-stat -h > /dev/null 2>&1
}

# shared_dir: print a new world-writable sticky directory (like /tmp)
# where users share queues by path; teardown removes it.
shared_dir() {
	local d
	d=$(mktemp -d /dev/shm/pkit-share.XXXXXX)
	chmod 1777 "$d"
	printf '%s\n' "$d" >> "$BATS_TEST_TMPDIR/.shared"
	printf '%s\n' "$d"
}

teardown() {
	local d
	pkit_teardown
	[ -f "$BATS_TEST_TMPDIR/.shared" ] || return 0
	while read -r d; do
		case $d in
		/dev/shm/pkit-share.?*) rm -rf "$d" ;;
		esac
	done < "$BATS_TEST_TMPDIR/.shared"
}

# fresh Q: a small queue holding three messages.
fresh() {
	pqueue-create -s 4096 "$1"
	pqueue-put "$1" a bb ccc
}

@test "segments: a queue another user created is refused, and not removed" {
	local q
	nobody_can_run || skip "user nobody cannot run the built tools"
	q=$(shared_dir)/$(pkit_name adv)
	as_nobody pqueue-create "$q"
	as_nobody pqueue-put "$q" secret
	run stat -c %U "$q"
	assert_output nobody
	all_refuse "$q" "owned by uid $(id -u nobody), not by us; refused"
	run --separate-stderr pqueue-rm "$q"
	assert_failure 125
	assert_equal "$stderr" "pqueue-rm: $q: segment is not ours; refused"
	assert_file_exists "$q"
	run as_nobody pqueue-get -n "$q"
	assert_output secret
	as_nobody pqueue-rm "$q"
}

@test "segments: another user can neither read nor write our queue" {
	local q
	nobody_can_run || skip "user nobody cannot run the built tools"
	q=$(shared_dir)/$(pkit_name adv)
	fresh "$q"
	run --separate-stderr as_nobody pqueue-get -n "$q"
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pqueue-get: $q: Permission denied"
	run --separate-stderr as_nobody pqueue-put -n "$q" intruder
	assert_failure 125
	run --separate-stderr as_nobody pqueue-rm "$q"
	assert_failure 125
	run pqueue-get -c 3 "$q"
	assert_output $'a\nbb\nccc'
	run pqueue-stat -e "$q"
	assert_success
}

# as_them CMD...: CMD as user nobody, in their own runtime directory.
as_them() {
	PKIT_DIR=$theirs as_nobody "$@"
}

@test "namespace: another user cannot see, squat, open or remove our queues" {
	local q
	nobody_can_run || skip "user nobody cannot run the built tools"
	q=$(pkit_name jobs)
	theirs=$(shared_dir)/nobody-rundir
	# nobody takes the name first, in their own runtime directory
	as_them pqueue-create "$q"
	as_them pqueue-put "$q" theirs
	# ours is another queue of the same name: create, -p, put, get work
	run --separate-stderr pqueue-create "$q"
	assert_success
	run --separate-stderr pqueue-create -p "$q"
	assert_success
	pqueue-put "$q" ours
	run pqueue-get -n "$q"
	assert_output ours
	pqueue-put "$q" again
	# they list only theirs, and get only theirs by that name
	run --separate-stderr as_them pqueue-stat
	assert_success
	assert_output "$q"
	run --separate-stderr as_them pqueue-get -n "$q"
	assert_output theirs
	# ours by its path: no way through our 0700 runtime directory
	for t in "pqueue-get -n" "pqueue-put -n" "pqueue-stat" "pqueue-rm" \
	    "pqueue-close"; do
		# shellcheck disable=SC2086 # word splitting of $t is wanted
		run --separate-stderr as_them $t "$PKIT_DIR/queues/$q"
		assert_failure 125
		[[ "$stderr" == *": $PKIT_DIR/queues/$q: $PKIT_DIR/queues: Permission denied" ]]
	done
	# with our runtime directory, they are refused outright
	run --separate-stderr as_nobody pqueue-get -n "$q"
	assert_failure 125
	[[ "$stderr" == *": $q: runtime directory $PKIT_DIR: Permission denied" ]]
	run pqueue-get -n "$q"
	assert_output again
	run pqueue-stat -k "$q"
	assert_line closed=0
	run stat -c '%a %U' "$PKIT_DIR" "$PKIT_DIR/queues"
	assert_output $'700 root\n700 root'
}

@test "segments: their queue is ours to use only if -M shared it with our group" {
	local q
	nobody_can_run || skip "user nobody cannot run the built tools"
	[ "$(id -g)" = 0 ] || skip "the test shares through group 0"
	q=$(shared_dir)/$(pkit_name adv)
	as_nobody -g pqueue-create -M 0660 "$q"
	pqueue-put "$q" shared
	run as_nobody -g pqueue-get -n "$q"
	assert_output shared
	as_nobody -g pqueue-rm "$q"
	as_nobody -g pqueue-create "$q"
	all_refuse "$q" "owned by uid $(id -u nobody)"
	as_nobody -g pqueue-rm "$q"
}

@test "segments: a mode widened after create is refused; -M 0644 is not" {
	local q m
	q=$(pkit_name adv)
	fresh "$q"
	for m in 0644 0640 0604 0660; do
		chmod "$m" "$PKIT_DIR/queues/$q"
		all_refuse "$q" "segment mode $m is wider than it was created with (0600); refused"
	done
	for m in 0666 0602 0622; do
		chmod "$m" "$PKIT_DIR/queues/$q"
		all_refuse "$q" "world-writable; refused"
	done
	removed "$q"
	pqueue-create -M 0644 "$q"
	pqueue-put "$q" fine
	run pqueue-get "$q"
	assert_output fine
	# narrower than created is fine: it shares less
	chmod 0600 "$PKIT_DIR/queues/$q"
	run pqueue-stat -e "$q"
	assert_success
}

@test "segments: a symlink at the segment path is refused, its target untouched" {
	local q real sum
	q=$(pkit_name adv)
	real=$(pkit_name adv)
	fresh "$real"
	sum=$(sha256sum < "$PKIT_DIR/queues/$real")
	ln -s "$real" "$PKIT_DIR/queues/$q"
	all_refuse "$q" "segment is a symbolic link; refused"
	run --separate-stderr pqueue-create -p "$q"
	assert_failure 125
	run --separate-stderr pqueue-rm "$q"
	assert_failure 125
	assert_equal "$stderr" "pqueue-rm: $q: segment is a symbolic link; refused"
	[ -L "$PKIT_DIR/queues/$q" ]
	assert_equal "$(sha256sum < "$PKIT_DIR/queues/$real")" "$sum"
	rm -f "$PKIT_DIR/queues/$q"
	run pqueue-get -c 3 "$real"
	assert_output $'a\nbb\nccc'
}

@test "segments: a symlink to another user's file is refused, the file untouched" {
	local q target
	q=$(pkit_name adv)
	target=$BATS_TEST_TMPDIR/theirs
	printf 'not yours\n' > "$target"
	chown nobody "$target"
	queues_dir
	ln -s "$target" "$PKIT_DIR/queues/$q"
	all_refuse "$q" "symbolic link"
	run pqueue-create "$q"
	assert_failure 125
	assert_equal "$(cat "$target")" "not yours"
	run stat -c '%U %s' "$target"
	assert_output "nobody 10"
	rm -f "$PKIT_DIR/queues/$q"
}

@test "segments: a FIFO or a directory at the segment path is refused, no hang" {
	local q
	q=$(pkit_name adv)
	queues_dir
	mkfifo -m 600 "$PKIT_DIR/queues/$q"
	all_refuse "$q" "not a regular file"
	# not a segment: pqueue-rm leaves it alone, and does not block on it
	run --separate-stderr timeout 10 pqueue-rm "$q"
	assert_failure 125
	[ -p "$PKIT_DIR/queues/$q" ]
	rm -f "$PKIT_DIR/queues/$q"
	mkdir -m 700 "$PKIT_DIR/queues/$q"
	run --separate-stderr timeout 10 pqueue-get -n "$q"
	assert_failure 125
	[ "${#stderr_lines[@]}" -eq 1 ]
	rmdir "$PKIT_DIR/queues/$q"
}

@test "segments: truncated to 0, header-1, header, a page, mid-ring, size-1: refused, removable" {
	local q size s
	q=$(pkit_name adv)
	fresh "$q"
	size=$(stat -c %s "$PKIT_DIR/queues/$q")
	for s in 0 135 136 4095 4096 $((size / 2)) $((size - 8)) $((size - 1)); do
		[ -e "$PKIT_DIR/queues/$q" ] || fresh "$q"
		truncate -s "$s" "$PKIT_DIR/queues/$q"
		all_refuse "$q" "truncated"
		removed "$q"
	done
	# grown is no better than shrunk
	fresh "$q"
	truncate -s $((size + 4096)) "$PKIT_DIR/queues/$q"
	all_refuse "$q" "size does not match its header"
	removed "$q"
}

@test "segments: random bytes are not a queue, and are removable" {
	local q
	q=$(pkit_name adv)
	queues_dir
	head -c 5263360 /dev/urandom > "$PKIT_DIR/queues/$q"
	chmod 600 "$PKIT_DIR/queues/$q"
	all_refuse "$q" "not a pqueue segment (bad magic)"
	run --separate-stderr pqueue-create -p "$q"
	assert_failure 125
	removed "$q"
}

@test "segments: a header field out of range is refused with its reason" {
	local q spec field value why
	q=$(pkit_name adv)
	while IFS='|' read -r spec why; do
		field=${spec% *}
		value=${spec#* }
		fresh "$q"
		segpatch "$PKIT_DIR/queues/$q" "$field" "$value"
		all_refuse "$q" "$why"
		removed "$q"
	done <<-'EOF'
	version 1|made by another layout version of pkit
	version 3|made by another layout version of pkit
	version 0|made by another layout version of pkit
	hdr_size 0|made by another build of pkit
	abi 0|made for another ABI
	flags 2|unknown feature flags
	nslots 0|slot count out of range
	nslots 5000|slot count out of range
	slotbuf_size 7|slot buffer size out of range
	max_msg 0|message size limit out of range
	max_msg 99999999|message size limit out of range
	ring_cap 0|ring size out of range
	ring_cap 4294967304|ring size out of range
	idwin 0|id window out of range
	total_size 1|size does not match its header
	off_ctl 0|control block offset out of range
	off_ctl 4097|control block offset out of range
	off_ctl 18446744073709551360|control block offset out of range
	off_slots 0|slot table offset out of range
	off_done 18446744073709551615|done bitmap offset out of range
	off_slotbuf 0|slot buffer offset out of range
	off_ring 0|ring offset out of range
	off_ring 18446744073709551608|ring offset out of range
	crc 0|header checksum mismatch
	magic 1|not a pqueue segment (bad magic)
	EOF
}

@test "segments: a control-block counter out of range is refused with its reason" {
	local q spec field value why
	q=$(pkit_name adv)
	while IFS='|' read -r spec why; do
		field=${spec% *}
		value=${spec#* }
		fresh "$q"
		segpatch "$PKIT_DIR/queues/$q" "$field" "$value"
		all_refuse "$q" "queue segment corrupt: $why"
		removed "$q"
	done <<-'EOF'
	state.head 4096|ring head out of range
	state.head 3|ring head out of range
	state.used 5000|ring usage out of range
	state.used 24|message count out of range
	state.nmsgs 999|message count out of range
	state.inflight 5|leased bytes out of range
	state.inflight_bytes 99999|leased bytes out of range
	state.next_id 0|message ids out of range
	state.done_base 999|message ids out of range
	state.forgot 0|message ids out of range
	state.unfinished 999|unfinished count out of range
	state.nwait_get 16777217|waiter counts out of range
	state.redo_slot 64|redo slot out of range
	state.redo_slot -2|redo slot out of range
	state.redo_clr_to 99999999|redo range out of range
	cur 2|bad state index
	EOF
}

@test "segments: garbage records in the ring are caught at get, then refused" {
	local q off
	q=$(pkit_name adv)
	fresh "$q"
	off=$(od -An -t u8 -j 112 -N 8 "$PKIT_DIR/queues/$q" | tr -d ' ')
	head -c 200 /dev/urandom |
	    dd of="$PKIT_DIR/queues/$q" bs=1 seek="$off" conv=notrunc status=none
	run --separate-stderr timeout 10 pqueue-get -n "$q"
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pqueue-get: $q: queue segment corrupt: bad record in the ring"
	all_refuse "$q" "queue segment corrupt; remove it with pqueue-rm"
	removed "$q"
	# a record shifted off its boundary is caught the same way
	fresh "$q"
	segpatch "$PKIT_DIR/queues/$q" state.head 8
	run --separate-stderr timeout 10 pqueue-get -n "$q"
	assert_failure 125
	[[ "$stderr" == *"bad record in the ring"* ]]
	removed "$q"
}

@test "segments: a lock that is not our robust mutex is refused" {
	local q off
	q=$(pkit_name adv)
	fresh "$q"
	off=$(od -An -t u8 -j 80 -N 8 "$PKIT_DIR/queues/$q" | tr -d ' ')
	head -c 40 /dev/zero |
	    dd of="$PKIT_DIR/queues/$q" bs=1 seek="$off" conv=notrunc status=none
	all_refuse "$q" "its lock is not a robust mutex"
	removed "$q"
}

@test "segments: a half-created one (magic never published) is refused at once, removable" {
	local q
	q=$(pkit_name adv)
	fresh "$q"
	segpatch "$PKIT_DIR/queues/$q" magic 0
	timed_run --separate-stderr timeout 10 pqueue-put -n "$q" x
	assert_failure 125
	assert_equal "$stderr" "pqueue-put: $q: incomplete queue (its creator died); remove it with pqueue-rm"
	# "at once": no wait for a creator (valgrind: PKIT_TIME_FACTOR)
	[ "$elapsed" -lt $((3000 * ${PKIT_TIME_FACTOR:-1})) ]
	all_refuse "$q" "incomplete queue"
	run --separate-stderr pqueue-create -p "$q"
	assert_failure 125
	removed "$q"
	run pqueue-create "$q"
	assert_success
}

@test "segments: a scan time of INT64_MIN does not stop dead leases coming back" {
	# The fuzzer's find (lib/queue-shm.c due()): now - at overflowed, so
	# a garbage reclaim_at far in the past read as "not due" forever and
	# a dead getter's lease was never requeued.
	local q
	q=$(pkit_name adv)
	pqueue-create "$q"
	lease_stuck "$q"
	getter_dies
	segpatch "$PKIT_DIR/queues/$q" reclaim_at -9223372036854775808
	segpatch "$PKIT_DIR/queues/$q" recount_at -9223372036854775808
	run --separate-stderr timeout 10 pqueue-get -i -t 2 "$q"
	assert_success
	assert_output "$stuck	$stuck_msg"
	run pqueue-stat -k "$q"
	assert_line "requeues=1"
	assert_line "inflight=0"
}
