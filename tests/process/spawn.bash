# SPDX-License-Identifier: ISC
# spawn.bash: what tests/process/pspawn.bats and pjoin.bats share.
# shellcheck shell=bash

# keepers: pids of pspawn keepers started in this test: those that hold
# this test's jobs directory open (their environment is overwritten by
# their title).
keepers() {
	local p
	for p in $(pgrep -f '^pspawn: keeper' || true); do
		[ "$p" -gt 1 ] || continue
		find "/proc/$p/fd" -mindepth 1 -printf '%l\n' 2>/dev/null |
			grep -qxF "$PKIT_DIR/jobs" && echo "$p"
	done
	return 0
}

no_keepers() {
	[ -z "$(keepers)" ]
}

# After each test: what it started is ended (pkit_teardown), and then no
# keeper of this test lingers, and the test shell has no zombie child.
# A tmpfs a test mounted (its path in .pkit-mount) is unmounted last.
teardown() {
	pkit_teardown
	wait_until 5 no_keepers || fail "stray keeper left: $(keepers)"
	if [ -s "$BATS_TEST_TMPDIR/.pkit-mount" ]; then
		umount "$(cat "$BATS_TEST_TMPDIR/.pkit-mount")" ||
			umount -l "$(cat "$BATS_TEST_TMPDIR/.pkit-mount")"
	fi
	[ -z "$(zombies_of $$)" ] || fail "zombie left: $(zombies_of $$)"
	planted_cleanup
}

# field22 PID: the start time the records are keyed by.
field22() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $20 }'
}

# alive PID: running and not a zombie.
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}
