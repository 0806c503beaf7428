#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Every example a user can paste runs: the EXAMPLES of every man page and
# the tour in README.md, each block with bash -e in a scratch directory with
# its own runtime directory, bounded in time.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper

# run_examples FILE: run each extracted block; fail naming the first that
# does not exit 0.
run_examples() {
	local file=$1 dir n i
	dir="$BATS_TEST_TMPDIR/ex"
	n=$("$top_srcdir/tests/docs/extract.sh" "$file" "$dir")
	for i in $(seq 1 "$n"); do
		mkdir -p "$BATS_TEST_TMPDIR/work$i"
		run bash -c "cd '$BATS_TEST_TMPDIR/work$i' && timeout 30 bash -e '$dir/$i.sh'"
		[ "$status" -eq 0 ] || fail "${file##*/}: example $i exited $status:
$(cat "$dir/$i.sh")
--- output:
$output"
	done
	echo "$n examples"
}

@test "examples: README's tour runs as written" {
	run_examples "$top_srcdir/README.md"
}

@test "examples: every man page's EXAMPLES run as written" {
	local p
	for p in "$top_srcdir"/man/*.[1-8]; do
		run_examples "$p"
	done
}
