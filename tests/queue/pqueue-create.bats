#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pqueue-create: options, modes, limits and refusals.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

@test "pqueue-create: no operand is a usage error" {
	run --separate-stderr pqueue-create
	assert_failure 125
	assert_output ""
	[[ "$stderr" == *"usage: pqueue-create"* ]]
}

@test "pqueue-create: -h prints the usage on stdout" {
	run --separate-stderr pqueue-create -h
	assert_success
	assert_output --partial "usage: pqueue-create [-p]"
}

@test "pqueue-create: a new queue is a 0600 segment of ours, empty" {
	shm_only "a segment file with a mode"
	local q
	q=$(pkit_name c)
	run --separate-stderr pqueue-create "$q"
	assert_success
	assert_output ""
	run stat -c '%a %u' "$PKIT_DIR/queues/$q"
	assert_output "600 $(id -u)"
	run pqueue-stat -k "$q"
	assert_line "size=0"
	assert_line "maxsize=0"
	assert_line "maxbytes=1048576"
	assert_line "lifo=0"
	assert_line "closed=0"
}

@test "pqueue-create: an existing name fails with 125, -p accepts it" {
	local q
	q=$(pkit_name c)
	pqueue-create "$q"
	pqueue-put "$q" keep
	run --separate-stderr pqueue-create "$q"
	assert_failure 125
	[[ "$stderr" == *"$q: queue exists"* ]]
	run pqueue-create -p "$q"
	assert_success
	run pqueue-get -n "$q"
	assert_output keep
}

@test "pqueue-create: -M applies the mode exactly, whatever the umask" {
	shm_only "modes (Redis: ACLs)"
	local q
	q=$(pkit_name c)
	(umask 077 && pqueue-create -M 0640 "$q")
	run stat -c %a "$PKIT_DIR/queues/$q"
	assert_output 640
	run pqueue-stat -k "$q"
	assert_line "mode=0640"
}

@test "pqueue-create: world-writable and malformed modes are refused" {
	local q m
	q=$(pkit_name c)
	for m in 0666 0602 1777 0400 abc 8 ''; do
		run --separate-stderr pqueue-create -M "$m" "$q"
		assert_failure 125
		[ "${#stderr}" -gt 0 ]
		assert_file_not_exists "$PKIT_DIR/queues/$q"
	done
}

@test "pqueue-create: -m bounds the count, 0 means no count limit" {
	local q r i
	q=$(pkit_name c)
	pqueue-create -m 2 "$q"
	pqueue-put -n "$q" a b
	run pqueue-put -n "$q" c
	assert_failure 124
	r=$(pkit_name c)
	pqueue-create -m 0 "$r"
	for i in $(seq 1500); do echo "$i"; done | pqueue-put -n "$r"
	run pqueue-stat -k "$r"
	assert_line "size=1500"
}

@test "pqueue-create: -s bounds the bytes and the largest message" {
	local q
	q=$(pkit_name c)
	pqueue-create -s 64 "$q"
	run pqueue-stat -k "$q"
	assert_line "maxbytes=64"
	assert_line "maxmsg=40"
	run pqueue-put -n "$q" "$(printf '%040d' 0)"
	assert_success
	run pqueue-put -n "$q" x
	assert_failure 124
	run --separate-stderr pqueue-put -n "$q" "$(printf '%041d' 0)"
	assert_failure 125
	[[ "$stderr" == *"message of 41 bytes is over the limit of 40 bytes"* ]]
}

@test "pqueue-create: -L makes a LIFO queue" {
	shm_only "LIFO (refused on Redis)"
	local q
	q=$(pkit_name c)
	pqueue-create -L "$q"
	pqueue-put "$q" 1 2 3
	run pqueue-get -c 3 "$q"
	assert_output "$(printf '3\n2\n1')"
	run pqueue-stat -k "$q"
	assert_line "lifo=1"
}

@test "pqueue-create: -s takes K, M and G suffixes, 1K being 1024" {
	local q v
	for v in 64K:65536 2M:2097152 1k:1024 3m:3145728; do
		q=$(pkit_name c)
		pqueue-create -s "${v%%:*}" "$q"
		run pqueue-stat -k "$q"
		assert_line "maxbytes=${v#*:}"
	done
	q=$(pkit_name c)
	run --separate-stderr pqueue-create -s 5G "$q"
	assert_failure 125
	assert_equal "$stderr" "pqueue-create: bad size '5G': too large (64..4294967296)"
	run --separate-stderr pqueue-create -s 99999999999999999999G "$q"
	assert_failure 125
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == *"too large"* ]] || fail "$stderr"
	run --separate-stderr pqueue-create -s 5T "$q"
	assert_failure 125
	[[ "$stderr" == *"not a number of bytes, with K, M or G"* ]] || fail "$stderr"
}

@test "pqueue-create: bad numbers, sizes and names are usage errors" {
	local q
	q=$(pkit_name c)
	run pqueue-create -m x "$q"
	assert_failure 125
	run pqueue-create -m -1 "$q"
	assert_failure 125
	run pqueue-create -s 10 "$q"
	assert_failure 125
	run pqueue-create -s 99999999999999 "$q"
	assert_failure 125
	run --separate-stderr pqueue-create 'a/'
	assert_failure 125
	[[ "$stderr" == *"bad queue name"* ]]
	run pqueue-create .hidden
	assert_failure 125
	run pqueue-create "$q" extra
	assert_failure 125
	assert_file_not_exists "$PKIT_DIR/queues/$q"
}

@test "pqueue-create: a fresh PKIT_DIR is made 0700 with the queue inside, and names are per PKIT_DIR" {
	shm_only "queues in the runtime directory"
	local q other
	q=$(pkit_name ns)
	other=$BATS_TEST_TMPDIR/other
	[ ! -e "$PKIT_DIR" ]
	pqueue-create "$q"
	run stat -c '%a %U %F' "$PKIT_DIR" "$PKIT_DIR/queues" "$PKIT_DIR/queues/$q"
	assert_output $'700 root directory\n700 root directory\n600 root regular file'
	pqueue-put "$q" mine
	# another PKIT_DIR is another namespace: no such queue there, and
	# one of the same name there is another queue
	run --separate-stderr env PKIT_DIR="$other" pqueue-get -n "$q"
	assert_failure 125
	assert_equal "$stderr" "pqueue-get: $q: no such queue"
	PKIT_DIR=$other pqueue-create "$q"
	PKIT_DIR=$other pqueue-put "$q" theirs
	run pqueue-get -n "$q"
	assert_output mine
	run env PKIT_DIR="$other" pqueue-get -n "$q"
	assert_output theirs
	PKIT_DIR=$other pqueue-rm "$q"
}

@test "pqueue-create: a group-writable, foreign or symlinked runtime directory is refused" {
	shm_only "queues in the runtime directory"
	local q d t
	q=$(pkit_name ns)
	for d in gw foreign link qgw qlink; do
		PKIT_DIR=$BATS_TEST_TMPDIR/$d
		case $d in
		gw) mkdir -m 0770 "$PKIT_DIR"; chmod 0770 "$PKIT_DIR" ;;
		foreign) mkdir -m 0700 "$PKIT_DIR"; chown nobody "$PKIT_DIR" ;;
		link) mkdir -m 0700 "$BATS_TEST_TMPDIR/real"
		    ln -s "$BATS_TEST_TMPDIR/real" "$PKIT_DIR" ;;
		qgw) mkdir -m 0700 "$PKIT_DIR" "$PKIT_DIR/queues"
		    chmod 0770 "$PKIT_DIR/queues" ;;
		qlink) mkdir -m 0700 "$PKIT_DIR" "$BATS_TEST_TMPDIR/realq"
		    ln -s "$BATS_TEST_TMPDIR/realq" "$PKIT_DIR/queues" ;;
		esac
		for t in "pqueue-create" "pqueue-create -p" "pqueue-put -n" \
		    "pqueue-get -n" "pqueue-stat" "pqueue-rm"; do
			# shellcheck disable=SC2086 # word splitting of $t is wanted
			run --separate-stderr env PKIT_DIR="$PKIT_DIR" $t "$q"
			assert_failure 125
			assert_equal "${#stderr_lines[@]}" 1
			[[ "$stderr" == *"$q: runtime directory $PKIT_DIR"* ]] ||
				fail "$d: $t: $stderr"
		done
		run --separate-stderr env PKIT_DIR="$PKIT_DIR" pqueue-stat
		assert_failure 125
		[[ "$stderr" == *"runtime directory"*"$PKIT_DIR"* ]]
	done
	# nothing was created through the links
	run ls -A "$BATS_TEST_TMPDIR/real" "$BATS_TEST_TMPDIR/realq"
	assert_output "$BATS_TEST_TMPDIR/real:"$'\n\n'"$BATS_TEST_TMPDIR/realq:"
}

@test "pqueue-create: a name with '/' is the queue's path, never through a final symlink" {
	shm_only "a queue file at a path"
	local d
	d=$BATS_TEST_TMPDIR/share
	mkdir -m 0755 "$d"
	pqueue-create -M 0640 "$d/q"
	run stat -c '%a %F' "$d/q"
	assert_output "640 regular file"
	pqueue-put "$d/q" one two
	run pqueue-get -c 2 "$d/q"
	assert_output $'one\ntwo'
	# the path's queue is not in the runtime directory, nor listed
	[ ! -e "$PKIT_DIR/queues/q" ]
	run pqueue-stat
	assert_success
	assert_output ""
	ln -s q "$d/alias"
	run --separate-stderr pqueue-put "$d/alias" x
	assert_failure 125
	assert_equal "$stderr" "pqueue-put: $d/alias: segment is a symbolic link; refused"
	run --separate-stderr pqueue-create "$d/alias2/x"
	assert_failure 125
	pqueue-rm "$d/q"
	[ ! -e "$d/q" ]
}

@test "pqueue-create: the segment's memory follows -s (lease buffers no bigger than the ring)" {
	local q small big
	shm_only "a segment file"
	q=$(pkit_name sz)
	pqueue-create -s 4096 "$q"
	small=$(stat -c %s "$PKIT_DIR/queues/$q")
	pqueue-rm "$q"
	pqueue-create "$q"
	big=$(stat -c %s "$PKIT_DIR/queues/$q")
	# pqueue-create(1): 64 buffers of min(64 KiB, -s), the ring, ~24 KiB.
	[ "$small" -le $((64 * 4096 + 4096 + 32768)) ]
	[ "$big" -le $((64 * 65536 + 1048576 + 32768)) ]
	[ "$big" -gt $((64 * 65536 + 1048576)) ]
	# A message as large as the ring allows still goes through.
	pqueue-rm "$q"
	pqueue-create -s 4096 "$q"
	head -c 4072 /dev/zero | tr '\0' x | pqueue-put "$q"
	run pqueue-get -n "$q"
	assert_success
	assert_equal "${#output}" 4072
}

@test "pqueue-create: a runtime directory path too long for the message still ends with why" {
	shm_only "a Redis queue uses no runtime directory"
	local long
	long=/tmp/$(printf 'x%.0s' {1..4095})
	# The line was cut at 511 bytes, inside the path: no reason at all.
	PKIT_DIR=$long run --separate-stderr pqueue-create "$(pkit_name q)"
	assert_failure 125
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == "pqueue-create: "*": runtime directory /tmp/xxx"*"...xxx"*": path too long" ]] ||
		fail "no reason at the end: ${stderr: -80}"
}
