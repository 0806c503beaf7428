#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# bash completion offers each tool's options and the user's queue and lock
# names.
# shellcheck disable=SC2154,SC2034 # COMP_* are read by the completion

load ../helper

# complete_words WORD...: the completions bash would offer for this line,
# the last word being the one under the cursor.
complete_words() {
	# shellcheck source=completion/pkit.bash
	. "$top_srcdir/completion/pkit.bash"
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_pkit
	printf '%s\n' "${COMPREPLY[@]}"
}

@test "completion: options of pqueue-get" {
	run complete_words pqueue-get -
	assert_success
	assert_line -- -f
	assert_line -- -0
	assert_line -- -t
}

@test "completion: lock names come from the runtime directory" {
	mkdir -m 700 "$PKIT_DIR" "$PKIT_DIR/locks"
	: > "$PKIT_DIR/locks/nightly-backup"
	run complete_words plock -n night
	assert_success
	assert_output nightly-backup
}

@test "completion: the command after plock NAME is a command" {
	mkdir -m 700 "$PKIT_DIR" "$PKIT_DIR/locks"
	run complete_words plock -t 5 mylock bas
	assert_success
	assert_line bash
}

@test "completion: a duration after -t is left alone" {
	run complete_words pjoin -t ""
	assert_success
	assert_output ""
}

@test "completion: plock -p takes a pid, then a lock name" {
	mkdir -m 700 "$PKIT_DIR" "$PKIT_DIR/locks"
	: > "$PKIT_DIR/locks/nightly"
	run complete_words plock -
	assert_line -- -p
	run complete_words plock -p ""
	assert_output ""
	run complete_words plock -p 42 night
	assert_output nightly
}
