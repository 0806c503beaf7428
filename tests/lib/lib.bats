#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The runtime directory rules of lib/rundir.c, through tests/lib/rundir_probe.
# shellcheck disable=SC2154 # top_builddir and the like come from helper.bash

load ../helper

probe() {
	"$top_builddir/tests/lib/rundir_probe" "$@"
}

@test "rundir: PKIT_DIR is created 0700 and used" {
	run --separate-stderr probe
	assert_success
	assert_output "$PKIT_DIR"
	run stat -c %a "$PKIT_DIR"
	assert_output 700
}

@test "rundir: XDG_RUNTIME_DIR/pkit when PKIT_DIR is unset" {
	mkdir -m 700 "$BATS_TEST_TMPDIR/xdg"
	PKIT_DIR='' XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg" run probe
	assert_success
	assert_output "$BATS_TEST_TMPDIR/xdg/pkit"
	assert_dir_exists "$BATS_TEST_TMPDIR/xdg/pkit"
}

@test "rundir: /dev/shm/pkit-UID (a tmpfs) when neither is set" {
	run env -u PKIT_DIR -u XDG_RUNTIME_DIR "$top_builddir/tests/lib/rundir_probe"
	assert_success
	assert_output "/dev/shm/pkit-$(id -u)"
}

@test "rundir: a symlink to our own 0700 directory is refused" {
	mkdir -m 700 "$BATS_TEST_TMPDIR/real"
	ln -s "$BATS_TEST_TMPDIR/real" "$PKIT_DIR"
	run probe
	assert_failure 125
	assert_output --partial "not a directory"
	assert [ "${#lines[@]}" -eq 1 ]
}

@test "rundir: a plain file at the path is refused" {
	: > "$PKIT_DIR"
	run probe
	assert_failure 125
}

@test "rundir: group- or other-writable is refused" {
	mkdir -m 700 "$PKIT_DIR"
	chmod 770 "$PKIT_DIR"
	run probe
	assert_failure 125
	assert_output --partial "group or other writable"
	chmod 707 "$PKIT_DIR"
	run probe
	assert_failure 125
}

@test "rundir: a directory owned by another user is refused" {
	mkdir -m 700 "$PKIT_DIR"
	chown nobody "$PKIT_DIR"
	run probe
	assert_failure 125
	assert_output --partial "not owned by you"
}

@test "rundir: a missing parent is an error, not created" {
	PKIT_DIR="$BATS_TEST_TMPDIR/no/such/dir" run probe
	assert_failure 125
	assert_not_exist "$BATS_TEST_TMPDIR/no"
}

@test "rundir: a symlink planted as a subdirectory is refused" {
	mkdir -m 700 "$PKIT_DIR" "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$PKIT_DIR/jobs"
	run probe jobs
	assert_failure 125
	assert_output --partial "not a directory"
}

@test "pkit.bash: wait_until waits for the command, fractions allowed, and times out saying so" {
	local f=$BATS_TEST_TMPDIR/flag p
	( sleep 0.3; : > "$f" ) &
	p=$!
	pkit_track "$p"
	timed_run wait_until 5 test -e "$f"
	assert_success
	[ "$elapsed" -ge 250 ] || fail "returned after ${elapsed} ms, before the file"
	timed_run --separate-stderr wait_until 0.5 false
	assert_failure 1
	assert_equal "$stderr" "wait_until: timed out after 0.5s: false"
	[ "$elapsed" -ge 480 ] || fail "gave up after ${elapsed} ms"
	# The command does not inherit the descriptor wait_until naps on.
	run wait_until 1 sh -c 'ls -l /proc/self/fd | grep -q pkit-nap && exit 2; exit 0'
	assert_success
}

@test "pkit.bash: pkit_teardown ends what pkit_track named, its descendants, and only that" {
	local a b
	sleep 60 &
	a=$!
	sleep 60 &
	b=$!
	pkit_track "$a" junk
	# A tracked shell's child, which SIGTERM to the shell alone orphans.
	sh -c 'sleep 60 & echo $! > "$1"; wait' _ "$BATS_TEST_TMPDIR/kid" &
	pkit_track $!
	wait_until 5 test -s "$BATS_TEST_TMPDIR/kid"
	pkit_teardown
	run _pkit_alive "$a"
	assert_failure
	run _pkit_alive "$(cat "$BATS_TEST_TMPDIR/kid")"
	assert_failure
	_pkit_alive "$b" || fail "an untracked process was ended"
	kill -KILL "$b"
	wait "$b" || true
	wait "$a" || true
	run _pkit_alive "$b"
	assert_failure
	run _pkit_alive 1
	assert_failure
}

@test "helper.bash: quick_run sets what run --separate-stderr sets" {
	local cmd s o e l sl
	for cmd in "printf 'a\n\nb\n\n'; printf 'e1\n\ne2\n' >&2; exit 3" \
	    "exit 0" "printf x" "printf '\n\n' >&2; exit 125"; do
		run --separate-stderr sh -c "$cmd"
		s=$status o=$output e=$stderr
		l=$(declare -p lines | sed 's/^[^=]*=//')
		sl=$(declare -p stderr_lines | sed 's/^[^=]*=//')
		quick_run sh -c "$cmd"
		assert_equal "$status" "$s"
		assert_equal "$output" "$o"
		assert_equal "$stderr" "$e"
		assert_equal "$(declare -p lines | sed 's/^[^=]*=//')" "$l"
		assert_equal "$(declare -p stderr_lines | sed 's/^[^=]*=//')" "$sl"
	done
}
