#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pspawn: start a command, print its pid, return at once; keeper, records,
# -n, -D, files, environment, exit codes.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
load spawn

@test "pspawn: no command is a usage error (125, usage on stderr)" {
	run --separate-stderr pspawn
	assert_failure 125
	assert_output ""
	[[ "$stderr" == *"usage: pspawn"* ]]
}

@test "pspawn: -h prints usage on stdout and exits 0" {
	run --separate-stderr pspawn -h
	assert_success
	assert_output --partial "usage: pspawn [-D] [-g] [-n COUNT]"
}

@test "pspawn: prints the pid of the running command and returns at once" {
	timed_run --separate-stderr pspawn sleep 100
	assert_success
	pkit_track "$output"
	assert_output --regexp '^[0-9]+$'
	[ "$elapsed" -lt 3000 ] || fail "took $elapsed ms"
	assert_equal "$(cat "/proc/$output/comm")" sleep
	[ -z "$stderr" ]
}

@test "pspawn: p=\$(pspawn sleep 100) returns at once (stdout not held)" {
	timed_run bash -c 'p=$(pspawn sleep 100 2>/dev/null); echo "$p"'
	assert_success
	pkit_track "$output"
	[ "$elapsed" -lt 3000 ] || fail "took $elapsed ms"
	alive "$output"
}

@test "pspawn: a command not found exits 127, one line on stderr, nothing on stdout" {
	run --separate-stderr pspawn no-such-command-pkit
	assert_failure 127
	assert_output ""
	assert_equal "$stderr" "pspawn: no-such-command-pkit: No such file or directory"
}

@test "pspawn: a command that cannot be executed exits 126" {
	printf 'echo hi\n' > "$BATS_TEST_TMPDIR/noexec"
	chmod 644 "$BATS_TEST_TMPDIR/noexec"
	run --separate-stderr pspawn "$BATS_TEST_TMPDIR/noexec"
	assert_failure 126
	assert_output ""
	[[ "$stderr" == "pspawn: $BATS_TEST_TMPDIR/noexec: Permission denied" ]]
}

@test "pspawn: -n with a missing command starts nothing and prints nothing" {
	run --separate-stderr pspawn -n 3 no-such-command-pkit
	assert_failure 127
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
}

@test "pspawn: -n: a later copy that cannot be executed is the last started, one line" {
	# Copy 10 is the first whose environment (PKIT_INDEX=10) is one byte
	# longer: with PAD one byte short of the exec limit it gets E2BIG,
	# deterministically, after nine copies ran.  PAD is found for this
	# kernel: the longest with which one copy ("-n 01", as long as
	# "-n 12") still executes.  ./pspawn: its own exec must not be the
	# one that fails first (the copy's environment is the longer).
	local lo=0 hi=140000 mid p pids
	cd "$BATS_TEST_TMPDIR"
	ln -s "$(command -v pspawn)" pspawn
	ulimit -s 256
	while [ $((hi - lo)) -gt 1 ]; do
		mid=$(( (lo + hi) / 2 ))
		if PAD=$(printf "%${mid}s" "") ./pspawn -n 01 /bin/true > /dev/null 2>&1; then
			lo=$mid
		else
			hi=$mid
		fi
	done
	# (Not bats' run: its mktemp would get PAD too.)
	PAD=$(printf "%${hi}s" "") ./pspawn -n 01 /bin/true > out 2> err && p=0 || p=$?
	assert_equal "$p" 126
	assert_equal "$(cat err)" "pspawn: /bin/true: Argument list too long"
	PAD=$(printf "%${lo}s" "") ./pspawn -n 12 /bin/true > out 2> err && p=0 || p=$?
	assert_equal "$p" 126
	# No copy after the one that failed: nine pids, one reason.
	assert_equal "$(wc -l < out)" 9
	assert_equal "$(cat err)" "pspawn: /bin/true: Argument list too long"
	# The nine were recorded, and ended well.
	mapfile -t pids < out
	run pjoin "${pids[@]}"
	assert_success
	for p in "${pids[@]}"; do
		grep -q ' exit 0 ' "$PKIT_DIR/jobs/$p.job" || fail "no final record for $p"
	done
}

@test "pspawn: the command's stdout and stderr go to pspawn's stderr" {
	run --separate-stderr bash -c 'p=$(pspawn sh -c "echo to-out; echo to-err >&2"); pjoin "$p"'
	assert_success
	assert_output ""
	[[ "$stderr" == *to-out* && "$stderr" == *to-err* ]]
}

@test "pspawn: -o and -e append the command's output to files" {
	echo old > "$BATS_TEST_TMPDIR/out"
	echo old > "$BATS_TEST_TMPDIR/err"
	run --separate-stderr bash -c 'pjoin $(pspawn -o "$1/out" -e "$1/err" sh -c "echo o; echo e >&2")' _ "$BATS_TEST_TMPDIR"
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "old
o"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" "old
e"
	[ -z "$stderr" ]
}

@test "pspawn: with -o and -e, nothing holds pspawn's stderr either" {
	timed_run bash -c 'pspawn -o /dev/null -e /dev/null sleep 100 2>&1'
	assert_success
	pkit_track "$output"
	[ "$elapsed" -lt 3000 ] || fail "took $elapsed ms"
}

@test "pspawn: stdin is /dev/null, or -i FILE" {
	run bash -c 'pjoin $(pspawn -o "$1/a" cat) < /etc/passwd' _ "$BATS_TEST_TMPDIR"
	assert_success
	assert_file_empty "$BATS_TEST_TMPDIR/a"
	printf 'line\n' > "$BATS_TEST_TMPDIR/in"
	run bash -c 'pjoin $(pspawn -i "$1/in" -o "$1/b" cat)' _ "$BATS_TEST_TMPDIR"
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/b")" line
}

@test "pspawn: -o, -e and -i given twice: the last counts, the first is not opened" {
	local d=$BATS_TEST_TMPDIR
	printf 'in\n' > "$d/in"
	run --separate-stderr bash -c 'pjoin $(pspawn -o "$1/o1" -o "$1/o2" \
	    -e "$1/e1" -e "$1/e2" -i "$1/none" -i "$1/in" \
	    sh -c "cat; echo e >&2")' _ "$d"
	assert_success
	assert_equal "$stderr" ""
	assert_file_not_exists "$d/o1"
	assert_file_not_exists "$d/e1"
	assert_equal "$(cat "$d/o2")" in
	assert_equal "$(cat "$d/e2")" e
	# a usage error opens nothing either
	run --separate-stderr pspawn -o "$d/o3"
	assert_failure 125
	assert_file_not_exists "$d/o3"
}

@test "pspawn: a file that cannot be opened exits 125 and starts nothing" {
	run --separate-stderr pspawn -i "$BATS_TEST_TMPDIR/none" true
	assert_failure 125
	assert_output ""
	run --separate-stderr pspawn -o "$BATS_TEST_TMPDIR/no/dir/f" true
	assert_failure 125
	if any_record; then
		fail "a job record was made: $(ls "$PKIT_DIR/jobs")"
	fi
}

@test "pspawn: a symlink or another user's file planted at -o or -e is refused" {
	local d
	command -v setpriv > /dev/null || skip "no setpriv"
	[ "$(id -u)" -eq 0 ] || skip "needs root to become nobody"
	d=$(planted_dir out err)
	# As with pdaemon -o: root appended CMD's output to the file the
	# neighbour's link named.
	run --separate-stderr pspawn -o "$d/out" echo PWNED
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pspawn: $d/out: a symbolic link; refused"
	run --separate-stderr pspawn -e "$d/err" sh -c 'echo PWNED >&2'
	assert_failure 125
	assert_equal "$stderr" "pspawn: $d/err: a symbolic link; refused"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/victim")" precious
	# A file nobody planted (not a link) would have them read our output.
	rm -f "$d/out"
	setpriv --reuid=nobody --regid=nogroup --clear-groups touch "$d/out"
	run --separate-stderr pspawn -o "$d/out" echo secret
	assert_failure 125
	assert_equal "$stderr" "pspawn: $d/out: not ours, in a directory others may write; refused"
	assert_file_empty "$d/out"
	# Ours, in the sticky directory, is fine; so is a relative path
	# with -C, still our directory's.
	run bash -c 'pjoin $(pspawn -o "$1/mine" echo ok)' _ "$d"
	assert_success
	assert_equal "$(cat "$d/mine")" ok
	run bash -c 'cd "$1" && pjoin $(pspawn -C / -o mine2 echo ok)' _ "$d"
	assert_success
	assert_equal "$(cat "$d/mine2")" ok
}

@test "pspawn: -o and -e in a directory of ours follow links as >> does" {
	local d=$BATS_TEST_TMPDIR/own
	mkdir -m 755 "$d"
	# /dev/stderr and a link of our own are what a user writes; only a
	# directory others may write is a place for planted links
	run --separate-stderr bash -c 'pjoin $(pspawn -e /dev/stderr sh -c "echo to-err >&2")'
	assert_success
	assert_equal "$stderr" "to-err"
	: > "$d/real"
	ln -s real "$d/link"
	run bash -c 'pjoin $(pspawn -o "$1/link" echo via-link)' _ "$d"
	assert_success
	assert_equal "$(cat "$d/real")" via-link
	# a group-writable directory that is not sticky: its writers could
	# replace our files anyway; a file is used, a link is not followed
	chmod 2775 "$d"
	run bash -c 'pjoin $(pspawn -o "$1/team" echo shared)' _ "$d"
	assert_success
	assert_equal "$(cat "$d/team")" shared
	run --separate-stderr pspawn -o "$d/link" echo no
	assert_failure 125
	assert_equal "$stderr" "pspawn: $d/link: a symbolic link; refused"
}

@test "pspawn: a check that fails leaves no -o or -e file behind" {
	local d=$BATS_TEST_TMPDIR
	# Each was 125 with an empty file made: -o and -e were created first.
	run --separate-stderr pspawn -o "$d/o1" -e "$d/e1" -C "$d/nowhere" true
	assert_failure 125
	run --separate-stderr pspawn -o "$d/o2" -e "$d/e2" -i "$d/none" true
	assert_failure 125
	mkdir -p "$PKIT_DIR"
	chmod 770 "$PKIT_DIR"
	run --separate-stderr pspawn -o "$d/o3" -e "$d/e3" true
	assert_failure 125
	chmod 700 "$PKIT_DIR"
	for f in o1 e1 o2 e2 o3 e3; do
		assert_file_not_exists "$d/$f"
	done
	# A relative -o is still our directory's, not -C DIR's.
	mkdir "$d/wd"
	run bash -c 'cd "$1" && pjoin $(pspawn -C wd -o out pwd)' _ "$d"
	assert_success
	assert_equal "$(cat "$d/out")" "$d/wd"
}

@test "pspawn: stdout that cannot be written: 125, one line, the command killed" {
	local j p
	# It was 125 without a word, the command running on, its pid untold.
	run --separate-stderr timeout -k 5 30 bash -c 'exec pspawn sleep 1000 > /dev/full'
	assert_failure 125
	assert_equal "$stderr" "pspawn: stdout: No space left on device: sleep killed"
	# Recorded as ever: pjoin finds it killed by SIGKILL.
	for j in "$PKIT_DIR"/jobs/*.job; do
		p=${j##*/}
		p=${p%.job}
	done
	[ -n "$p" ] && [ "$p" != "*" ] || fail "no job record"
	run pjoin -t 10 "$p"
	assert_failure 137
}

@test "pspawn: -C DIR runs the command there; a missing DIR exits 125" {
	mkdir "$BATS_TEST_TMPDIR/wd"
	run bash -c 'pjoin $(pspawn -C "$1/wd" -o "$1/pwd" pwd)' _ "$BATS_TEST_TMPDIR"
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/pwd")" "$BATS_TEST_TMPDIR/wd"
	run --separate-stderr pspawn -C "$BATS_TEST_TMPDIR/nowhere" true
	assert_failure 125
	assert_output ""
}

@test "pspawn: PKIT_PARENT is the pid of the shell that ran pspawn" {
	run bash -c 'pjoin $(pspawn -o "$1/pp" sh -c "echo \$PKIT_PARENT"); echo $$' _ "$BATS_TEST_TMPDIR"
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/pp")" "$output"
}

@test "pspawn: -n COUNT starts COUNT copies under one keeper, PKIT_INDEX 1..COUNT" {
	run --separate-stderr pspawn -n 5 -o "$BATS_TEST_TMPDIR/idx" sh -c 'echo "$PKIT_INDEX"; sleep 100'
	assert_success
	pkit_track "${lines[@]}"
	assert_equal "${#lines[@]}" 5
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" 5
	local p ppids
	ppids=$(for p in "${lines[@]}"; do ps -o ppid= -p "$p"; done | sort -u)
	assert_equal "$(wc -l <<< "$ppids")" 1
	assert_equal "$(tr '\0' ' ' < "/proc/${ppids// /}/cmdline" | sed 's/ *$//')" "pspawn: keeper sh"
	wait_until 3 test "$(wc -l < "$BATS_TEST_TMPDIR/idx")" -eq 5
	assert_equal "$(sort -n "$BATS_TEST_TMPDIR/idx" | tr '\n' ' ')" "1 2 3 4 5 "
}

@test "pspawn: -n needs a positive number" {
	run --separate-stderr pspawn -n 0 true
	assert_failure 125
	run --separate-stderr pspawn -n 2x true
	assert_failure 125
	assert_output ""
}

@test "pspawn: without -n, an inherited PKIT_INDEX is removed" {
	PKIT_INDEX=9 run bash -c 'pjoin $(pspawn -o "$1/i" sh -c "echo \${PKIT_INDEX-unset}")' _ "$BATS_TEST_TMPDIR"
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/i")" unset
}

@test "pspawn: the keeper is titled and leaves no zombie when the command ends" {
	# Two copies: the first ends at once, the second keeps the keeper
	# alive, so the first's end is looked at while its parent is still
	# there (a zombie left by a keeper that had gone would be reaped by
	# the subreaper and be seen by nobody).
	run --separate-stderr pspawn -n 2 sh -c '[ "$PKIT_INDEX" = 1 ] || exec sleep 100'
	assert_success
	pkit_track "${lines[@]}"
	assert_equal "${#lines[@]}" 2
	local p1=${lines[0]} p2=${lines[1]} k
	k=$(ps -o ppid= -p "$p2" | tr -d ' ')
	[ -n "$k" ] || fail "no parent for $p2"
	assert_equal "$(tr '\0' ' ' < "/proc/$k/cmdline" | sed 's/ *$//')" "pspawn: keeper sh"
	# kill -0 reaches a zombie too: the first copy is gone only once
	# reaped.
	wait_until 10 eval '! kill -0 '"$p1"' 2>/dev/null' ||
		fail "the ended copy $p1 is still there: $(ps -o pid=,stat=,ppid= -p "$p1")"
	alive "$k" || fail "the keeper $k went before the second copy ended"
	[ -z "$(zombies_of "$k")" ] || fail "zombies of the keeper: $(zombies_of "$k")"
	# The last copy ends: it is reaped, and the keeper goes.
	kill -TERM "$p2"
	wait_until 10 eval '! kill -0 '"$p2"' 2>/dev/null' || fail "the ended copy $p2 is still there"
	wait_until 10 eval '! kill -0 '"$k"' 2>/dev/null' || fail "the keeper $k is still there"
}

# any_record: a job record exists.
any_record() {
	compgen -G "$PKIT_DIR/jobs/*.job" > /dev/null
}

# all_final N: N job records, none of them still "running".
all_final() {
	local n
	n=$(find "$PKIT_DIR/jobs" -name '*.job' | wc -l)
	[ "$n" -eq "$1" ] && ! grep -qs ' running ' "$PKIT_DIR"/jobs/*.job
}

@test "pspawn: killed while its keeper still starts copies, the copies' ends are still recorded" {
	local p
	# 200 copies take the keeper a while to start: pspawn is killed as
	# soon as the first is recorded, before the keeper can tell it the
	# verdict.  The copies run on; the keeper must still record each
	# one's end (a later pjoin has nothing else to go by), not leave
	# them "running" for ever.
	pspawn -n 200 sleep 1 > "$BATS_TEST_TMPDIR/out" 2>&1 &
	p=$!
	pkit_track "$p"
	wait_until 10 any_record
	kill -TERM "$p"
	wait "$p" || true
	wait_until 30 all_final 200
	run pjoin "$(cd "$PKIT_DIR/jobs" && ls -- *.job | sed -n '1s/\.job$//p')"
	assert_success
}

@test "pspawn: a script without #! gets all of 140000 arguments" {
	local p
	# execvp runs such a script with /bin/sh, building a new argument
	# vector on the stack: the keeper's, where each copy is vforked.
	printf 'echo "ran with $# args" > "%s"\n' "$BATS_TEST_TMPDIR/ran" \
	    > "$BATS_TEST_TMPDIR/noshebang"
	chmod +x "$BATS_TEST_TMPDIR/noshebang"
	# shellcheck disable=SC2046 # 140000 words
	run pspawn "$BATS_TEST_TMPDIR/noshebang" $(yes x | head -n 140000)
	assert_success
	p=$output
	run pjoin "$p"
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/ran")" "ran with 140000 args"
}

@test "pspawn: a record names the process by pid and start time, running then final" {
	run --separate-stderr pspawn sleep 100
	assert_success
	local p=$output st
	pkit_track "$p"
	st=$(field22 "$p")
	assert_file_exists "$PKIT_DIR/jobs/$p.job"
	# the status slot (48 bytes, its hash last), then the command
	run cat "$PKIT_DIR/jobs/$p.job"
	assert_line -n 0 --regexp "^$st running +[0-9a-f]{8}\$"
	assert_equal "${#lines[0]}" 47
	assert_line -n 1 "cmd sleep 100"
	kill -KILL "$p"
	wait_until 5 grep -qE "^$st signal 9 +[0-9a-f]{8}\$" "$PKIT_DIR/jobs/$p.job"
	run pspawn sh -c 'exit 3'
	p=$output
	run pjoin "$p"
	assert_failure 3
	run cat "$PKIT_DIR/jobs/$p.job"
	assert_line -n 0 --regexp '^[0-9]+ exit 3 +[0-9a-f]{8}$'
	assert_line -n 1 "cmd sh -c exit 3"
	# Only records and the pruning stamp: no temporary is left behind.
	run find "$PKIT_DIR/jobs" -name '.*' ! -name .pruned
	assert_output ""
}

@test "pspawn: the command gets default signal dispositions, not the keeper's" {
	run --separate-stderr pspawn sleep 100
	local p=$output
	pkit_track "$p"
	kill -INT "$p"
	run pjoin -t 5 "$p"
	assert_failure 130
}

@test "pspawn: without -D the command outlives the shell that started it" {
	run bash -c 'pspawn sleep 100 2>/dev/null'
	assert_success
	local p=$output
	pkit_track "$p"
	sleep 0.3
	alive "$p"
}

@test "pspawn: -D ends the command (SIGTERM) when the shell that ran it exits" {
	timed_run bash -c 'pspawn -D sleep 100; sleep 0.2'
	[ "$elapsed" -lt 2000 ] || fail "took $elapsed ms"
	assert_success
	local p=$output
	pkit_track "$p"
	timed_run pjoin -t 5 "$p"
	assert_failure 143
	[ "$elapsed" -lt 2000 ] || fail "took $elapsed ms"
}

@test "pspawn: -D ends the command also when the shell that ran it is SIGKILLed" {
	run bash -c 'pspawn -D sleep 100; kill -KILL $$'
	local p=${lines[0]}
	pkit_track "$p"
	run pjoin -t 5 "$p"
	assert_failure 143
}

@test "pspawn: -D sends SIGKILL after the grace period to a command ignoring SIGTERM" {
	run bash -c 'pspawn -D sh -c "trap \"\" TERM; exec sleep 100" 2>/dev/null; sleep 0.2'
	local p=$output
	pkit_track "$p"
	timed_run pjoin -t 8 "$p"
	assert_failure 137
	[ "$elapsed" -ge 1500 ] && [ "$elapsed" -lt 6000 ] || fail "took $elapsed ms"
}

@test "pspawn: -D commands die with their keeper" {
	bash -c 'pspawn -D sleep 100 > "$1"; exec sleep 100' _ "$BATS_TEST_TMPDIR/pid" &
	pkit_track $!
	wait_until 3 test -s "$BATS_TEST_TMPDIR/pid"
	local p k
	p=$(cat "$BATS_TEST_TMPDIR/pid")
	pkit_track "$p"
	k=$(ps -o ppid= -p "$p" | tr -d ' ')
	assert_equal "$(keepers)" "$k"
	[ "$k" -gt 1 ] && kill -KILL "$k"
	wait_until 3 eval '! alive '"$p"
}

@test "pspawn: records older than an hour are pruned, recent ones kept" {
	mkdir -m 700 "$PKIT_DIR" "$PKIT_DIR/jobs"
	local i
	# Old records under pids no process can have (above Linux's
	# PID_MAX_LIMIT, 4194304): a real job's record never shares a name
	# or a pattern with them.
	for i in $(seq 2000000001 2000000100); do echo "100 exit 0" > "$PKIT_DIR/jobs/$i.job"; done
	touch -d '2 hours ago' "$PKIT_DIR"/jobs/*
	echo "100 exit 1" > "$PKIT_DIR/jobs/2000000200.job"
	run bash -c 'pjoin $(pspawn -n 64 true)'
	assert_success
	wait_until 5 test ! -e "$PKIT_DIR/jobs/2000000001.job"
	wait_until 5 no_keepers
	assert_file_exists "$PKIT_DIR/jobs/2000000200.job"
	assert_equal "$(find "$PKIT_DIR/jobs" -type f -name '*.job' | wc -l)" 65
}

@test "pspawn: the records are scanned for pruning at most every 30 seconds" {
	mkdir -m 700 "$PKIT_DIR" "$PKIT_DIR/jobs"
	local i
	for i in $(seq 2000000001 2000000010); do echo "100 exit 0" > "$PKIT_DIR/jobs/$i.job"; done
	touch -d '2 hours ago' "$PKIT_DIR"/jobs/*
	# Pruned a moment ago: the old records stay, even for a big batch.
	touch "$PKIT_DIR/jobs/.pruned"
	run bash -c 'pjoin $(pspawn -n 64 true)'
	assert_success
	wait_until 5 no_keepers
	assert_file_exists "$PKIT_DIR/jobs/2000000001.job"
	# Pruned 40 seconds ago: one pspawn removes them.
	touch -d '40 seconds ago' "$PKIT_DIR/jobs/.pruned"
	run bash -c 'pjoin $(pspawn true)'
	assert_success
	wait_until 5 test ! -e "$PKIT_DIR/jobs/2000000001.job"
	wait_until 5 no_keepers
	assert_equal "$(find "$PKIT_DIR/jobs" -name '2000000*.job' | wc -l)" 0
}

@test "pspawn: a group-writable runtime directory is refused (125), nothing started" {
	mkdir -m 700 "$PKIT_DIR"
	chmod 770 "$PKIT_DIR"
	run --separate-stderr pspawn sh -c 'echo ran > "$1"' sh "$BATS_TEST_TMPDIR/ran"
	assert_failure 125
	assert_output ""
	[ -n "$stderr" ] || fail "refused without a word"
	# What would have started writes at once: give it time to.
	sleep 0.5
	assert_file_not_exists "$BATS_TEST_TMPDIR/ran"
	if any_record; then
		fail "a job record was made: $(ls "$PKIT_DIR/jobs")"
	fi
}

@test "pspawn: a relative PKIT_DIR is refused (125, one line), never resolved under -C DIR" {
	local d=$BATS_TEST_TMPDIR
	mkdir -m 700 "$d/sub"
	# It was taken: pspawn -C sub wrote the record under sub/rel, and
	# pjoin, in the first directory, said "no such process" (127).
	run --separate-stderr bash -c 'cd "$1" && PKIT_DIR=rel pspawn -C sub true' _ "$d"
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pspawn: runtime directory rel: PKIT_DIR is not an absolute path"
	assert_not_exist "$d/rel"
	assert_not_exist "$d/sub/rel"
	run --separate-stderr bash -c 'cd "$1" && PKIT_DIR=rel pjoin -l' _ "$d"
	assert_failure 125
	assert_equal "${#stderr_lines[@]}" 1
}

@test "pspawn: a relative XDG_RUNTIME_DIR is ignored, as the XDG specification says" {
	local d=$BATS_TEST_TMPDIR p
	mkdir -m 700 "$d/sub"
	p=$(cd "$d" && PKIT_DIR='' XDG_RUNTIME_DIR=rel pspawn -C sub sh -c 'exit 3')
	assert_not_exist "$d/rel"
	assert_not_exist "$d/sub/rel"
	run bash -c 'cd "$1" && PKIT_DIR="" XDG_RUNTIME_DIR=rel pjoin -t 10 "$2"' _ "$d" "$p"
	assert_failure 3
}
