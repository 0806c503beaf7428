#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Many producers and consumers at once: nothing lost, nothing doubled.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

@test "concurrency: 3 streaming producers, 3 -f consumers: each message once" {
	local q i c p pids=() cons=()
	q=$(pkit_name cc)
	pqueue-create -s 8192 "$q"
	for i in 1 2 3; do
		pqueue-get -f "$q" > "$BATS_TEST_TMPDIR/c$i" & cons+=($!)
	done
	for i in 1 2 3; do
		seq 1 5000 | sed "s/^/p$i-/" | pqueue-put "$q" & pids+=($!)
	done
	pkit_track "${pids[@]}" "${cons[@]}"
	# Each one's status: a wait for all would return the last one's only.
	for p in "${pids[@]}"; do wait "$p" || fail "producer $p exited $?"; done
	pqueue-close "$q"
	for p in "${cons[@]}"; do wait "$p" || fail "consumer $p exited $?"; done
	run sh -c "cat $BATS_TEST_TMPDIR/c? | wc -l"
	assert_output 15000
	run sh -c "cat $BATS_TEST_TMPDIR/c? | sort | uniq -d | wc -l"
	assert_output 0
	# Each producer's messages arrive in its order in each consumer.
	for c in 1 2 3; do
		for i in 1 2 3; do
			grep "^p$i-" "$BATS_TEST_TMPDIR/c$c" | cut -d- -f2 | sort -n -c ||
				fail "consumer $c got producer $i's messages out of order"
		done
	done
	run pqueue-stat -k "$q"
	assert_line "size=0"
	assert_line "inflight=0"
	assert_line "unfinished=15000"
}

@test "concurrency: 3 producers of big batches (copied without the lock), 3 consumers: each message once, in order" {
	local q i c p pids=() cons=()
	q=$(pkit_name cc)
	# The default ring (1 MiB): a batch of 4096 lines is 128 KiB of
	# records, copied with the mutex let go (doc/QUEUE.md); the other
	# producers wait for each copy, the consumers do not.
	pqueue-create "$q"
	for i in 1 2 3; do
		pqueue-get -f "$q" > "$BATS_TEST_TMPDIR/c$i" & cons+=($!)
	done
	for i in 1 2 3; do
		seq 1 60000 | sed "s/^/p$i-/" | pqueue-put "$q" & pids+=($!)
	done
	pkit_track "${pids[@]}" "${cons[@]}"
	# Each one's status: a wait for all would return the last one's only.
	for p in "${pids[@]}"; do wait "$p" || fail "producer $p exited $?"; done
	pqueue-close "$q"
	for p in "${cons[@]}"; do wait "$p" || fail "consumer $p exited $?"; done
	run sh -c "cat $BATS_TEST_TMPDIR/c? | wc -l"
	assert_output 180000
	run sh -c "cat $BATS_TEST_TMPDIR/c? | sort | uniq -d | wc -l"
	assert_output 0
	for c in 1 2 3; do
		for i in 1 2 3; do
			grep "^p$i-" "$BATS_TEST_TMPDIR/c$c" | cut -d- -f2 | sort -n -c ||
				fail "consumer $c got producer $i's messages out of order"
		done
	done
	run pqueue-stat -k "$q"
	assert_line "size=0"
	assert_line "inflight=0"
	assert_line "recoveries=0"
}

@test "concurrency: 20 one-shot putters and getters in parallel lose nothing" {
	local q i
	q=$(pkit_name cc)
	pqueue-create -m 4 "$q"
	for i in $(seq 20); do
		pqueue-get -t 20 "$q" > "$BATS_TEST_TMPDIR/g$i" &
		pqueue-put -t 20 "$q" "m$i" &
	done
	wait
	run sh -c "cat $BATS_TEST_TMPDIR/g* | sort"
	assert_output "$(seq 20 | sed 's/^/m/' | sort)"
}
