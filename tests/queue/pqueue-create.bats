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
	shm_only "a segment in /dev/shm with a mode"
	local q
	q=$(pkit_name c)
	run --separate-stderr pqueue-create "$q"
	assert_success
	assert_output ""
	run stat -c '%a %u' "/dev/shm/pqueue.$q"
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
	run stat -c %a "/dev/shm/pqueue.$q"
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
		assert_file_not_exists "/dev/shm/pqueue.$q"
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
	run --separate-stderr pqueue-create 'a/b'
	assert_failure 125
	[[ "$stderr" == *"bad queue name"* ]]
	run pqueue-create .hidden
	assert_failure 125
	run pqueue-create "$q" extra
	assert_failure 125
	assert_file_not_exists "/dev/shm/pqueue.$q"
}

@test "pqueue-create: the segment's memory follows -s (lease buffers no bigger than the ring)" {
	local q small big
	shm_only "a segment in /dev/shm"
	q=$(pkit_name sz)
	pqueue-create -s 4096 "$q"
	small=$(stat -c %s "/dev/shm/pqueue.$q")
	pqueue-rm "$q"
	pqueue-create "$q"
	big=$(stat -c %s "/dev/shm/pqueue.$q")
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
