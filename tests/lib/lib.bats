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
