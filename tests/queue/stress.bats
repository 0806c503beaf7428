#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The crash stress test at make check's size: tests/queue/stress_queue
# with its defaults (3 producers, 4 consumers, 3 x 5000 messages, >= 500
# SIGKILLs at random moments), counting that nothing acknowledged is
# lost.  make check-long runs the full count (crowds.bats).  A bats file
# rather than the program itself in TESTS: make starts a program's log
# only after the suites listed after it (it checks the program first),
# which left this 20 s, two-core run alone at the end of make check.

load ../helper
load joinable
bats_require_minimum_version 1.5.0

@test "stress: at least 500 SIGKILLs over 3 x 5000 messages lose nothing acknowledged" {
	stress_check 500
}
