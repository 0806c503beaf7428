#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# plock: exclusive, shared and counting locks, their codes and timings,
# the lifetime rules (kernel-released, inherited, never stale), the holder
# query, and bad input.  tests/redis-run runs it again on Redis
# (PKIT_TEST_BACKEND=redis: pkit_name gives redis: names); what a lease
# does differently, as plock(1) documents, is skipped there (files_only).
# shellcheck disable=SC2154 # top_builddir, output, status come from bats
# shellcheck disable=SC2016 # $ in single quotes is for the inner shell

load ../helper
load lock
bats_require_minimum_version 1.5.0

# The ticket rush: 8 buyers, 2 tickets, each buying under plock.
rush() {
	local db=$BATS_TEST_TMPDIR/tickets n _
	n=$(pkit_name tickets)
	echo 2 > "$db"
	: > "$db.log"
	for _ in 1 2 3 4 5 6 7 8; do
		plock "$n" sh -c '
			n=$(cat "$1"); sleep 0.005
			if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$1"; echo sold >> "$1.log"
			else echo failed >> "$1.log"; fi' sh "$db" 3>&- &
	done
	wait
	echo "$(grep -c sold "$db.log") $(grep -c failed "$db.log") $(cat "$db")"
}

# sweep_due: the next new since-when record sweeps, as if the last sweep
# were long ago (locks/.sweep's mtime says when it began; a minute apart).
sweep_due() {
	touch -d @0 "$PKIT_DIR/locks/.sweep"
}

@test "plock: no arguments is a usage error (125)" {
	run --separate-stderr plock
	assert_failure 125
	assert_output ""
	[[ "$stderr" == *"usage: plock"* ]]
}

@test "plock: -h prints the usage on stdout and exits 0" {
	run --separate-stderr plock -h
	assert_success
	assert_line --index 0 --partial "usage: plock [-s | -c COUNT]"
	assert_line --index 1 --partial "plock -q [-v] NAME"
}

@test "plock: runs the command holding the lock, stdout clean" {
	run --separate-stderr plock "$(pkit_name l)" echo hello
	assert_success
	assert_output hello
	[ -z "$stderr" ]
}

@test "plock: the ticket rush under plock sells exactly 2 of 2, 20 runs in a row" {
	local _
	for _ in $(seq 1 20); do
		run rush
		assert_output "2 6 0"
	done
}

@test "plock: exclusive lets one holder in at a time (probe max 1)" {
	local n _
	make_probe
	n=$(pkit_name x)
	for _ in 1 2 3 4 5 6; do
		plock "$n" "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/pr" 3>&- &
	done
	wait
	run max_holders
	assert_output 1
	run wc -l < "$BATS_TEST_TMPDIR/pr/max"
	assert_output 6
}

@test "plock: -s lets every shared holder in at once (probe max 6)" {
	local n _
	make_probe
	n=$(pkit_name s)
	for _ in 1 2 3 4 5 6; do
		plock -s "$n" "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/pr" 6 3>&- &
	done
	wait
	run max_holders
	assert_output 6
}

@test "plock: -c 3 lets exactly 3 of 8 in at once (probe max 3)" {
	local n _
	make_probe
	n=$(pkit_name c)
	for _ in 1 2 3 4 5 6 7 8; do
		plock -c 3 "$n" "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/pr" 3 3>&- &
	done
	wait
	run max_holders
	assert_output 3
	run wc -l < "$BATS_TEST_TMPDIR/pr/max"
	assert_output 8
}

@test "plock: -n on a held lock exits 124 at once and names the holder" {
	local n
	n=$(pkit_name x)
	hold "$n"
	timed_run --separate-stderr plock -n "$n" echo never
	assert_failure 124
	assert_output ""
	[ "$elapsed" -lt 3000 ]
	[[ "$stderr" == "plock: $n: busy, held by pid $held" ]]
}

@test "plock: -q with a command keeps the busy line quiet" {
	local n
	n=$(pkit_name x)
	hold "$n"
	run --separate-stderr plock -q -n "$n" echo never
	assert_failure 124
	assert_output ""
	[ -z "$stderr" ]
}

@test "plock: -t 1 on a held lock exits 124 after about 1 s" {
	local n
	n=$(pkit_name x)
	hold "$n"
	timed_run --separate-stderr plock -t 1 "$n" echo never
	assert_failure 124
	assert_output ""
	[ "$elapsed" -ge 900 ] || fail "returned after $elapsed ms, before the 1 s timeout"
	[ "$elapsed" -lt 3000 ] || fail "returned after $elapsed ms"
	[[ "$stderr" == *"held by pid $held" ]]
}

@test "plock: -t 0 does not wait" {
	local n
	n=$(pkit_name x)
	hold "$n"
	timed_run plock -t 0 "$n" true
	assert_failure 124
	[ "$elapsed" -lt 3000 ]
}

@test "plock: -t takes the lock as soon as it frees, before the deadline" {
	local n
	n=$(pkit_name x)
	plock "$n" sleep 0.5 3>&- &
	pkit_track $!
	wait_until 5 plock -q "$n"
	timed_run plock -t 10 "$n" echo got
	assert_success
	assert_output got
	[ "$elapsed" -lt 3000 ]
}

@test "plock: after -t took the lock the command gets no SIGALRM" {
	local n
	n=$(pkit_name x)
	# The holder lets go when told, not after a fixed time that a loaded
	# machine could spend before plock -q even looks.
	plock "$n" sh -c 'while [ ! -e "$0" ]; do sleep 0.05; done' \
	    "$BATS_TEST_TMPDIR/go" 3>&- &
	pkit_track $!
	wait_until 5 plock -q "$n"
	(sleep 0.3; touch "$BATS_TEST_TMPDIR/go") &
	pkit_track $!
	# The timer would have fired at 2 s, inside the command's 2.5 s.
	run plock -t 2 "$n" sh -c 'sleep 2.5; echo alive'
	assert_success
	assert_output alive
}

@test "plock: -s holders share, an exclusive holder keeps them out" {
	local n
	n=$(pkit_name s)
	hold "$n" -s
	run plock -s -n "$n" echo shared
	assert_success
	assert_output shared
	run plock -n -q "$n" true
	assert_failure 124
	n=$(pkit_name x)
	hold "$n"
	run plock -s -n -q "$n" true
	assert_failure 124
}

@test "plock: -c COUNT: -n and -t give 124 while all slots are held" {
	local n a b
	n=$(pkit_name c)
	hold "$n" -c 2
	a=$held
	run plock -c 2 -n "$n" echo third
	assert_success
	assert_output third
	hold "$n" -c 2
	b=$held
	timed_run --separate-stderr plock -c 2 -n "$n" true
	assert_failure 124
	[ "$elapsed" -lt 3000 ]
	[[ "$stderr" == "plock: $n: busy, held by pids $a $b" || \
	   "$stderr" == "plock: $n: busy, held by pids $b $a" ]]
	timed_run plock -c 2 -t 1 -q "$n" true
	assert_failure 124
	[ "$elapsed" -ge 900 ] && [ "$elapsed" -lt 3000 ]
}

@test "plock: -c waiter wakes when any slot frees, not a given one" {
	local n
	n=$(pkit_name c)
	hold "$n" -c 2
	plock -c 2 "$n" sleep 0.5 3>&- &
	pkit_track $!
	wait_until 5 holds "$n" $!
	# The first slot is held for 30 s, the second frees after 0.5 s.
	timed_run plock -c 2 "$n" echo in
	assert_success
	assert_output in
	[ "$elapsed" -lt 3000 ]
}

@test "plock: an exclusive plock keeps out and waits for -c holders" {
	local n
	n=$(pkit_name c)
	hold "$n" -c 3
	run plock -n -q "$n" true
	assert_failure 124
	n=$(pkit_name c)
	hold "$n"
	run plock -c 3 -n -q "$n" true
	assert_failure 124
}

@test "plock: waiters sleep in the kernel, they do not poll" {
	local n p q
	n=$(pkit_name x)
	hold "$n"
	plock "$n" true 3>&- &
	p=$!
	pkit_track "$p"
	n=$(pkit_name c)
	hold "$n" -c 2
	hold "$n" -c 2
	plock -c 2 -t 30 "$n" true 3>&- &
	q=$!
	pkit_track "$q"
	wait_until 10 waiting "$p"
	wait_until 10 waiting "$q"
	# What start-up cost (more under ASan, a TLS or Redis hand-shake) is
	# not waiting: count only the ticks spent over 2 s of the wait.
	local p0 q0
	p0=$(cpu_ticks "$p")
	q0=$(cpu_ticks "$q")
	sleep 2
	waiting "$p"
	waiting "$q"
	[ "$(($(cpu_ticks "$p") - p0))" -le 3 ]
	[ "$(($(cpu_ticks "$q") - q0))" -le 3 ]
}

@test "plock: a SIGKILLed holder hands the lock to the next waiter at once" {
	files_only "the kernel releases at once, a lease runs out"
	local n w
	n=$(pkit_name x)
	hold "$n"
	plock "$n" echo next > "$BATS_TEST_TMPDIR/out" 3>&- &
	w=$!
	pkit_track "$w"
	wait_until 5 waiting "$w"
	# A waiter has the file open but holds nothing: not a holder.
	run plock -q "$n"
	assert_output "$held"
	kill -KILL "$held"
	wait_until 1 test -s "$BATS_TEST_TMPDIR/out"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output next
}

@test "plock: a SIGKILLed -c holder hands its slot to a waiter at once" {
	files_only "the kernel releases at once, a lease runs out"
	local n w
	n=$(pkit_name c)
	hold "$n" -c 1
	plock -c 1 "$n" echo next > "$BATS_TEST_TMPDIR/out" 3>&- &
	w=$!
	pkit_track "$w"
	wait_until 5 waiting "$w"
	run plock -q "$n"
	assert_output "$held"
	kill -KILL "$held"
	wait_until 1 test -s "$BATS_TEST_TMPDIR/out"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output next
}

@test "plock: the command is plock itself: same pid, -q names it" {
	files_only "chainloading (on Redis plock stays the parent)"
	local n p
	n=$(pkit_name x)
	plock "$n" sh -c 'echo $$ > "$1"; exec sleep 30' sh "$BATS_TEST_TMPDIR/pid" 3>&- &
	p=$!
	pkit_track "$p"
	wait_until 5 test -s "$BATS_TEST_TMPDIR/pid"
	run cat "$BATS_TEST_TMPDIR/pid"
	assert_output "$p"
	run --separate-stderr plock -q "$n"
	assert_success
	assert_output "$p"
}

@test "plock: -q run inside the locked command names the holder, not itself" {
	files_only "an inherited lock descriptor"
	local n
	n=$(pkit_name x)
	# the command (sh, which holds the lock) prints its pid, then asks
	run --separate-stderr plock "$n" sh -c 'echo $$; plock -q "$0"' "$n"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[1]}" "${lines[0]}"
}

@test "plock: -q that the holder itself became (exec) names it: held, not free" {
	files_only "an inherited lock descriptor"
	local n
	n=$(pkit_name x)
	# CMD execs the query: the one holder is the process that asks.
	run --separate-stderr plock "$n" sh -c 'echo $$; exec plock -q "$1"' sh "$n"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[1]}" "${lines[0]}"
	# The script lock (-F), then the script execs the query.
	run --separate-stderr sh -c 'exec 9>>"$(plock -w "$1")" && plock -F 9 "$1" || exit
		echo $$; exec plock -q -v "$1"' sh "$n"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --regexp "^${lines[0]} [0-9]{4}-[0-9]{2}-[0-9]{2}T"
}

@test "plock: the taker SIGKILLed, an inheriting child holds on; -q names it, not the dead pid" {
	files_only "an inherited lock descriptor"
	local n p c
	n=$(pkit_name x)
	plock "$n" sh -c 'sleep 30 & echo $! > "$1"; wait' sh "$BATS_TEST_TMPDIR/child" 3>&- &
	p=$!
	pkit_track "$p"
	wait_until 5 test -s "$BATS_TEST_TMPDIR/child"
	c=$(cat "$BATS_TEST_TMPDIR/child")
	pkit_track "$c"
	run plock -q "$n"
	assert_success
	assert_output "$(printf '%s\n' "$p" "$c" | sort -n)"
	kill -KILL "$p"
	wait "$p" || true
	# /proc/locks still names the dead taker; plock -q names the holder.
	run plock -q "$n"
	assert_success
	assert_output "$c"
	# ...with the since-when of the lock it inherited.
	run plock -q -v "$n"
	assert_output --regexp "^$c [0-9]{4}-[0-9]{2}-[0-9]{2}T"
	run plock -n "$n" true
	assert_failure 124
	# The child ends when the test says, not when a slow machine let
	# its own sleep run out before the checks above.
	kill -TERM "$c"
	wait_until 10 bash -c "! kill -0 $c 2>/dev/null"
	run plock -q "$n"
	assert_failure 1
	assert_output ""
	run plock -n "$n" echo free
	assert_output free
}

@test "plock: a child started with the lock fd closed does not hold the lock" {
	files_only "the lock descriptor (no PKIT_LOCK_FD on Redis)"
	local n c
	n=$(pkit_name x)
	run plock "$n" bash -c 'sleep 30 {PKIT_LOCK_FD}>&- >/dev/null 2>&1 3>&- & echo $!'
	assert_success
	c=$output
	pkit_track "$c"
	kill -0 "$c"
	run plock -q "$n"
	assert_failure 1
}

@test "plock: PKIT_LOCK_FD names the lock file, and no other fd leaks in" {
	files_only "the lock descriptor (no PKIT_LOCK_FD on Redis)"
	local n expect got
	n=$(pkit_name x)
	run plock "$n" sh -c 'readlink "/proc/$$/fd/$PKIT_LOCK_FD"'
	assert_output "$PKIT_DIR/locks/$n"
	# The command's descriptors are the caller's plus the lock's, no more.
	sh -c 'ls /proc/$$/fd > "$1"' sh "$BATS_TEST_TMPDIR/base"
	run plock "$n" sh -c 'ls /proc/$$/fd > "$1"; echo "$PKIT_LOCK_FD"' sh \
		"$BATS_TEST_TMPDIR/with"
	assert_success
	expect=$({ cat "$BATS_TEST_TMPDIR/base"; echo "$output"; } | sort -n | tr '\n' ' ')
	got=$(sort -n "$BATS_TEST_TMPDIR/with" | tr '\n' ' ')
	[ "$got" = "$expect" ] || fail "fds: got $got, expected $expect"
}

@test "plock: INT, TERM and HUP reach the command, which exits its own way" {
	local n sig
	for sig in INT TERM HUP; do
		n=$(pkit_name x)
		run bash -c '
			set -m
			plock "$1" sh -c "trap \"echo got $2; exit 7\" $2; echo ready; while :; do sleep 0.05; done" 3>&- > "$3" &
			p=$!
			i=0
			until grep -q ready "$3" || [ $i -gt 200 ]; do sleep 0.02; i=$((i + 1)); done
			kill -s "$2" "$p"
			wait "$p"' sh "$n" "$sig" "$BATS_TEST_TMPDIR/sig.$sig"
		assert_failure 7
		run cat "$BATS_TEST_TMPDIR/sig.$sig"
		assert_line "got $sig"
	done
}

@test "plock: the command's status passes through, 128+N for a signal" {
	run plock "$(pkit_name x)" sh -c 'exit 3'
	assert_failure 3
	run plock "$(pkit_name x)" sh -c 'kill -KILL $$'
	assert_failure 137
	run plock -c 2 "$(pkit_name x)" sh -c 'exit 42'
	assert_failure 42
}

@test "plock: a command writing to a closed pipe dies of SIGPIPE (141), also re-entered" {
	local n
	n=$(pkit_name x)
	# yes never ends by itself: only SIGPIPE, or EPIPE ignored (status 1).
	run bash -c 'plock "$1" yes | head -n 1; echo "${PIPESTATUS[0]}"' _ "$n"
	assert_output "y
141"
	run plock "$n" bash -c 'plock "$1" yes | head -n 1; echo "${PIPESTATUS[0]}"' _ "$n"
	assert_output "y
141"
}

@test "plock: a command that is not found exits 127, not executable 126" {
	run -127 --separate-stderr plock "$(pkit_name x)" no-such-command-pkit
	assert_failure 127
	assert_output ""
	[[ "$stderr" == "plock: no-such-command-pkit: "* ]]
	: > "$BATS_TEST_TMPDIR/noexec"
	run --separate-stderr plock "$(pkit_name x)" "$BATS_TEST_TMPDIR/noexec"
	assert_failure 126
}

@test "plock: bad input is one line and 125" {
	local bad
	for bad in "'bad name'" .hidden "-t 1x" "-t -1" "-c 0" "-c x" "-c 1001" \
	    "-c ''" "-s -c 2" "-c 2 -s" "-n -t 1" "-v"; do
		run --separate-stderr bash -c "plock $bad lk true"
		[ "$status" -eq 125 ] || fail "plock $bad: status $status"
		[ -z "$output" ] || fail "plock $bad: wrote to stdout"
		[ "${#stderr_lines[@]}" -le 2 ] || fail "plock $bad: $stderr"
	done
	run --separate-stderr plock "bad name" true
	assert_failure 125
	[ "${#stderr_lines[@]}" -eq 1 ]
	run --separate-stderr plock -c 0 lk true
	assert_failure 125
	[ "${#stderr_lines[@]}" -eq 1 ]
	: > "$BATS_TEST_TMPDIR/file"
	run --separate-stderr plock "$BATS_TEST_TMPDIR/file/lock" true
	assert_failure 125
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "plock: $BATS_TEST_TMPDIR/file/lock: "* ]]
	run --separate-stderr plock /nonexistent-pkit/dir/lock true
	assert_failure 125
	run --separate-stderr plock -q -s lk
	assert_failure 125
	run --separate-stderr plock -q -n lk
	assert_failure 125
}

@test "plock: a plain name is a 0600 file in locks/, never a symlink" {
	files_only "the lock file"
	local n
	n=$(pkit_name x)
	run plock "$n" true
	assert_success
	run stat -c %a "$PKIT_DIR/locks/$n"
	assert_output 600
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$PKIT_DIR/locks/evil"
	run --separate-stderr plock evil true
	assert_failure 125
	assert_file_not_exists "$BATS_TEST_TMPDIR/elsewhere"
}

@test "plock: a name with / is a path, created if missing, shared with flock(1)" {
	local f=$BATS_TEST_TMPDIR/my.lock
	run plock "$f" echo ok
	assert_success
	assert_file_exists "$f"
	bash -c 'exec 9>>"$1" && flock 9 && exec sleep 30' sh "$f" 3>&- &
	pkit_track $!
	wait_until 5 bash -c "plock -q '$f' >/dev/null"
	run plock -n -q "$f" true
	assert_failure 124
}

@test "plock: a path's symlink is followed as flock(1) does, but not one others could plant" {
	local d=$BATS_TEST_TMPDIR/own s
	command -v setpriv > /dev/null || skip "no setpriv"
	[ "$(id -u)" -eq 0 ] || skip "needs root to become nobody"
	mkdir -m 755 "$d" "$d/rootonly"
	chmod 700 "$d/rootonly"
	# in a directory of ours, a link of ours is followed, as by flock(1)
	ln -s "$d/target" "$d/link"
	run plock "$d/link" echo ok
	assert_success
	assert_file_exists "$d/target"
	# in a sticky directory anyone may write (/tmp), nobody's link made
	# root create a file in a directory nobody cannot even read
	s=$(mktemp -d /tmp/pkit-plock.XXXXXX)
	chmod 1777 "$s"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    ln -s "$d/rootonly/created" "$s/lk"
	# (a plain file there is a lock shared between users, as before)
	plock "$s/shared" echo ok > "$d/shared.out" 2>&1 || echo "status $?" >> "$d/shared.out"
	run --separate-stderr plock "$s/lk" echo ran
	rm -rf "${s:?}"
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "plock: $s/lk: a symbolic link"
	assert_file_not_exists "$d/rootonly/created"
	assert_equal "$(cat "$d/shared.out")" ok
}

@test "plock: -q on a free or never used lock exits 1 and prints nothing" {
	local n
	n=$(pkit_name x)
	run --separate-stderr plock -q "$n"
	assert_failure 1
	assert_output ""
	plock "$n" true
	run --separate-stderr plock -q "$n"
	assert_failure 1
	assert_output ""
}

@test "plock: -q -v gives since-when from the holder's own record" {
	files_only "the -v line (on Redis PID SINCE HOST)"
	local n t0
	n=$(pkit_name x)
	t0=$(date +%s)
	hold "$n" -s
	run --separate-stderr plock -q -v "$n"
	assert_success
	assert_output --regexp "^$held [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[+-][0-9]{4}$"
	local when
	when=$(date -d "$(echo "$output" | awk '{ print $2 }')" +%s)
	[ "$when" -ge "$t0" ] && [ "$when" -le "$(date +%s)" ]
}

@test "plock: -q -v never shows a stale or half-written record as current" {
	files_only "the since-when records in locks/"
	local n f r
	n=$(pkit_name x)
	plock "$n" true
	f=$PKIT_DIR/locks/$n
	r=$(echo "$PKIT_DIR"/locks/.rec-*.x)
	assert_file_exists "$r"
	# Someone takes the lock without writing a record: the old one is stale.
	bash -c 'exec 9>>"$1" && flock 9 && exec sleep 30' sh "$f" 3>&- &
	pkit_track $!
	wait_until 5 plock -q "$n"
	run plock -q -v "$n"
	assert_success
	assert_output --regexp '^[0-9]+ -$'
	kill $!
	wait_until 5 bash -c "! plock -q '$n'"
	hold "$n"
	printf '%s 1' "$held" > "$r"
	run plock -q -v "$n"
	assert_output "$held -"
}

@test "plock: since-when records go once their lock is free, not one per path ever locked" {
	files_only "the since-when records in locks/"
	local d i recs
	d=$BATS_TEST_TMPDIR/paths
	mkdir "$d"
	hold "$d/held"
	for i in 1 2 3 4 5 6 7 8; do
		sweep_due
		plock "$d/l$i" true
		sweep_due
		plock -s "$d/l$i" true
		sweep_due
		plock -c 2 "$d/l$i" true
	done
	# The last path's three may wait for the next new record; the held
	# lock's stays, and still tells since when.
	recs=$(find "$PKIT_DIR/locks" -name '.rec-*' | wc -l)
	[ "$recs" -le 4 ] || fail "$recs records for 1 held lock: $(ls -A "$PKIT_DIR/locks")"
	run plock -q -v "$d/held"
	assert_output --regexp "^$held [0-9]{4}-[0-9]{2}-[0-9]{2}T"
	# A plain name's record stays with its lock file, which stays too.
	sweep_due
	plock "$(pkit_name x)" true
	sweep_due
	plock "$d/l9" true
	recs=$(find "$PKIT_DIR/locks" -name '.rec-*' | wc -l)
	[ "$recs" -eq 3 ] || fail "$recs records: $(ls -A "$PKIT_DIR/locks")"
}

@test "plock: since-when records are swept once a minute at most, not at every new one" {
	files_only "the since-when records in locks/"
	local d i recs
	d=$BATS_TEST_TMPDIR/paths
	mkdir "$d"
	plock "$d/l0" true
	sweep_due
	plock "$d/l1" true
	# That sweep was the last for a minute: the next paths' records stay.
	for i in 2 3 4 5; do
		plock "$d/l$i" true
	done
	recs=$(find "$PKIT_DIR/locks" -name '.rec-*' | wc -l)
	[ "$recs" -eq 5 ] || fail "$recs records: $(ls -A "$PKIT_DIR/locks")"
	# A minute on, the next new record sweeps them all but its own.
	sweep_due
	plock "$d/l6" true
	recs=$(find "$PKIT_DIR/locks" -name '.rec-*' | wc -l)
	[ "$recs" -eq 1 ] || fail "$recs records: $(ls -A "$PKIT_DIR/locks")"
}

@test "plock: a holder's record written while a sweep looks is not swept away" {
	files_only "the since-when records in locks/"
	strace_ready
	local d log s h when
	d=$BATS_TEST_TMPDIR/paths
	log=$BATS_TEST_TMPDIR/strace.log
	mkdir "$d"
	# S creates a record and sweeps: it finds p's record with p free,
	# and strace holds it 2 s at the move of that record aside, before
	# it (H then writes over the old record in place, which S moves) or
	# after it (H finds none and creates its own).  Either way S must
	# look again and leave H's record.  The first sweep, which unlinked
	# what it had found free, lost H's record.
	for when in delay_enter delay_exit; do
		plock "$d/p" true
		sweep_due
		: > "$log"
		strace -qq -o "$log" -e trace=renameat \
			-e inject=renameat:"$when"=2000000 plock "$d/s.$when" true 3>&- &
		s=$!
		pkit_track "$s"
		wait_until 10 grep -qs renameat "$log"
		plock "$d/p" sleep 30 3>&- &
		h=$!
		pkit_track "$h"
		wait_until 5 holds "$d/p" "$h"
		wait "$s"
		run plock -q -v "$d/p"
		assert_output --regexp "^$h [0-9]{4}-[0-9]{2}-[0-9]{2}T" ||
			fail "$when: $(ls -A "$PKIT_DIR/locks")"
		kill "$h"
		wait "$h" || true
	done
	# Nothing is left moved aside.
	run ls -A "$PKIT_DIR/locks"
	refute_output --partial .gone-
}

@test "plock: a sweeper held up in its sweep holds up no other holder" {
	files_only "the since-when records in locks/"
	strace_ready
	local d log s
	d=$BATS_TEST_TMPDIR/paths
	log=$BATS_TEST_TMPDIR/strace.log
	mkdir "$d"
	plock "$d/p" true
	sweep_due
	# S is held 8 s in its sweep (as by SIGSTOP or ^Z).  The sweep that
	# held locks/.sweep while holders waited for it to write their
	# records made every new holder wait the 8 s too.
	strace -qq -o "$log" -e trace=renameat \
		-e inject=renameat:delay_enter=8000000 plock "$d/s" true 3>&- &
	s=$!
	pkit_track "$s"
	wait_until 10 grep -qs renameat "$log"
	timed_run plock "$d/q" echo ran
	assert_success
	assert_output ran
	[ "$elapsed" -lt 4000 ] || fail "took $elapsed ms"
	timed_run plock "$d/p" echo ran
	assert_output ran
	[ "$elapsed" -lt 4000 ] || fail "took $elapsed ms"
	wait "$s"
}

@test "plock: a path is locked without a usable runtime directory, only since-when is lost" {
	files_only "a path's lock file (on Redis no runtime directory is used)"
	local f=$BATS_TEST_TMPDIR/p.lock open=$BATS_TEST_TMPDIR/open d
	mkdir -m 777 "$open"
	# Missing with its parent, and refused (other-writable).
	for d in /nonexistent-pkit/dir "$open"; do
		export PKIT_DIR=$d
		run --separate-stderr plock "$f" echo ok
		assert_success
		assert_output ok
		[ -z "$stderr" ] || fail "$d: $stderr"
		hold "$f"
		run --separate-stderr plock -q -v "$f"
		assert_success
		assert_output "$held -"
		run plock -n "$f" true
		assert_failure 124
		run sh -c 'exec 9>>"$(plock -w "$1")" && plock -F 9 -n -q "$1"' sh "$f"
		assert_failure 124
		kill -TERM "$held"
		wait_until 5 bash -c "! plock -q '$f'"
		run sh -c 'exec 9>>"$(plock -w "$1")" && plock -F 9 -n "$1" &&
			plock -q "$1"' sh "$f"
		assert_success
		# A plain name lives in the runtime directory: that still fails.
		run --separate-stderr plock "$(pkit_name x)" true
		assert_failure 125
	done
	export PKIT_DIR=$BATS_TEST_TMPDIR/pkit
	assert_file_not_exists /nonexistent-pkit
	[ -z "$(ls -A "$open")" ] || fail "written in $open: $(ls -A "$open")"
}

@test "plock: a refused runtime directory is named, escaped, in the one line" {
	files_only "the runtime directory (a redis: name uses none)"
	local n d=$BATS_TEST_TMPDIR/o$'\n'pen shown
	n=$(pkit_name x)
	shown="runtime directory $BATS_TEST_TMPDIR/o\\x0apen"
	mkdir -m 777 "$d"
	chmod 777 "$d"
	# It said "plock: NAME: group or other writable": which directory?
	PKIT_DIR=$d run --separate-stderr plock "$n" true
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "plock: $n: $shown: group or other writable"
	PKIT_DIR=$d run --separate-stderr plock -q "$n"
	assert_failure 125
	assert_equal "$stderr" "plock: $n: $shown: group or other writable"
	chmod 700 "$d"
	mkdir -m 777 "$d/locks"
	chmod 777 "$d/locks"
	PKIT_DIR=$d run --separate-stderr plock "$n" true
	assert_failure 125
	assert_equal "$stderr" "plock: $n: $shown/locks: group or other writable"
}

@test "plock: -c: the waiter at the head of the line gets the next slot, not a newcomer" {
	files_only "the turnstile (none on Redis)"
	local n h a b
	n=$(pkit_name c)
	# The slot is held until the test lets it go, however slow the
	# machine: both takers are asleep in line by then.
	plock -c 1 "$n" sleep 30 3>&- &
	h=$!
	pkit_track "$h"
	wait_until 10 holds "$n" "$h"
	plock -c 1 "$n" sh -c 'echo first >> "$1"' sh "$BATS_TEST_TMPDIR/order" 3>&- &
	a=$!
	pkit_track "$a"
	wait_until 10 waiting "$a"
	sleep 0.2
	plock -c 1 "$n" sh -c 'echo second >> "$1"' sh "$BATS_TEST_TMPDIR/order" 3>&- &
	b=$!
	pkit_track "$b"
	wait_until 10 waiting "$b"
	kill -TERM "$h"
	wait "$a"
	wait "$b"
	run cat "$BATS_TEST_TMPDIR/order"
	assert_output "first
second"
}

@test "plock: -q -v gives each -c holder its own since-when" {
	local n
	n=$(pkit_name c)
	hold "$n" -c 2
	hold "$n" -c 2
	run --separate-stderr plock -q -v "$n"
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 0 --regexp '^[0-9]+ [0-9]{4}-[0-9]{2}-[0-9]{2}T'
	assert_line --index 1 --regexp '^[0-9]+ [0-9]{4}-[0-9]{2}-[0-9]{2}T'
}

@test "plock: -q as another user says held, not free, when it cannot name the holders" {
	local d
	d=$(mktemp -d /tmp/pkit-plock-other.XXXXXX)
	chmod 755 "$d"
	mkdir -m 700 "$d/rundir"
	chown nobody "$d/rundir"
	plock "$d/shared.lock" sleep 30 3>&- &
	pkit_track $!
	wait_until 5 plock -q "$d/shared.lock"
	chmod 644 "$d/shared.lock"
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env PKIT_DIR="$d/rundir" "$(command -v plock)" -q "$d/shared.lock"
	rm -rf "$d"
	assert_success
	assert_output ""
	[[ "$stderr" == *"held by processes you may not see" ]]
}

@test "plock: -q as another user calls a free path free, though a held one elsewhere has its inode number" {
	files_only "the kernel's lock list (/proc/locks)"
	unshare -m true 2> /dev/null || skip "no mount namespace here (unshare)"
	local d
	d=$(mktemp -d /tmp/pkit-plock-ino.XXXXXX)
	chmod 755 "$d"
	mkdir -m 700 "$d/rundir"
	chown nobody "$d/rundir"
	mkdir "$d/a" "$d/b"
	# Two new tmpfs number their files alike: a/l and b/l share an inode
	# number on two devices.  a/l is held (by root), b/l is free.
	run --separate-stderr unshare -m sh -c '
		mount -t tmpfs -o mode=755 none "$1/a" &&
			mount -t tmpfs -o mode=755 none "$1/b" || exit 99
		: > "$1/a/l"; : > "$1/b/l"; chmod 644 "$1/a/l" "$1/b/l"
		[ "$(stat -c %i "$1/a/l")" = "$(stat -c %i "$1/b/l")" ] || exit 98
		plock "$1/a/l" sleep 30 3>&- &
		i=0
		until plock -q "$1/a/l" > /dev/null || [ $i -ge 250 ]; do
			sleep 0.02; i=$((i + 1))
		done
		q() { setpriv --reuid=nobody --regid=nogroup --clear-groups \
			env PKIT_DIR="$1/rundir" "$2" -q "$3"; }
		q "$1" "$2" "$1/b/l"; echo "b=$?"
		q "$1" "$2" "$1/a/l"; echo "a=$?"
		kill $!' sh "$d" "$(command -v plock)"
	rm -rf "$d"
	[ "$status" -ne 99 ] || skip "tmpfs cannot be mounted here"
	[ "$status" -ne 98 ] || skip "the two tmpfs numbered their files apart"
	assert_success
	assert_output "b=1
a=0"
	[ "$stderr" = "plock: $d/a/l: held by processes you may not see" ] || fail "$stderr"
}

@test "plock: SIGKILL to plock's pid while CMD runs hits CMD itself: nothing is left holding" {
	files_only "the kernel releases at once, a lease runs out"
	local n p
	n=$(pkit_name x)
	plock "$n" sh -c 'echo $$ > "$1"; exec sleep 30' sh "$BATS_TEST_TMPDIR/pid" 3>&- &
	p=$!
	pkit_track "$p"
	wait_until 5 test -s "$BATS_TEST_TMPDIR/pid"
	[ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$p" ]
	kill -KILL "$p"
	wait "$p" || true
	run plock -q "$n"
	assert_failure 1
	run plock -n "$n" echo free
	assert_success
	assert_output free
}

@test "plock: started with stdout closed, the lock never lands on fd 0, 1 or 2" {
	files_only "the lock descriptor (no PKIT_LOCK_FD on Redis)"
	local n
	n=$(pkit_name x)
	plock "$n" sh -c 'echo "$PKIT_LOCK_FD" >&2; echo oops 2>/dev/null; true' >&- 2> "$BATS_TEST_TMPDIR/err" <&-
	run cat "$BATS_TEST_TMPDIR/err"
	[ "$output" -ge 3 ] || fail "lock on fd $output"
	assert_file_empty "$PKIT_DIR/locks/$n"
}

@test "plock: -s with -c, and -n with -t, name the conflict on one line" {
	run --separate-stderr plock -s -c 2 lk true
	assert_failure 125
	assert_equal "$stderr" "plock: -s and -c cannot be used together"
	run --separate-stderr plock -c 2 -s lk true
	assert_failure 125
	assert_equal "$stderr" "plock: -s and -c cannot be used together"
	run --separate-stderr plock -n -t 1 lk true
	assert_failure 125
	assert_equal "$stderr" "plock: -n and -t cannot be used together"
	run --separate-stderr plock -q -c 2 lk
	assert_failure 125
	assert_equal "$stderr" "plock: -c needs a command"
	assert_equal "$output" ""
}

# Re-entrance (issue 18): a plock inside the lock it asks for.

@test "plock: exclusive inside exclusive, three levels deep, runs at once" {
	local n
	n=$(pkit_name x)
	run plock -t 5 "$n" sh -c 'plock -n "$1" sh -c "plock -n \"\$1\" echo deep; echo \$?" sh "$1"' sh "$n"
	assert_success
	assert_output "deep
0"
}

@test "plock: shared inside shared, and shared inside exclusive, run at once" {
	local n
	n=$(pkit_name s)
	run plock -s "$n" sh -c 'plock -n -s "$1" echo ss' sh "$n"
	assert_success
	assert_output ss
	run plock "$n" sh -c 'plock -n -s "$1" echo xs; plock -n -c 2 "$1" echo xc' sh "$n"
	assert_success
	assert_output "xs
xc"
}

@test "plock: -c inside -c takes no second slot" {
	local n
	n=$(pkit_name c)
	# One slot only: a second taker would wait for ever.
	run plock -c 1 "$n" sh -c 'plock -n -c 1 "$1" echo cc' sh "$n"
	assert_success
	assert_output cc
}

@test "plock: shared asking exclusive is refused with 125, not a wait for ever" {
	local n
	n=$(pkit_name s)
	run plock -s "$n" sh -c 'plock -t 20 "$1" true' sh "$n"
	assert_failure 125
	assert_output --partial "held shared by this process"
	run plock -c 2 "$n" sh -c 'plock -t 20 "$1" true' sh "$n"
	assert_failure 125
	assert_output --partial "held counting"
}

@test "plock: re-entrant in a child the outer command forked" {
	local n
	n=$(pkit_name x)
	run plock -t 5 "$n" sh -c '( sleep 0.1; plock -n "$1" echo child ) & plock -n "$1" echo parent; wait' sh "$n"
	assert_success
	assert_line parent
	assert_line child
}

@test "plock: re-entrant through a lock of another name taken in between (a, b, a, b)" {
	local a b
	a=$(pkit_name a)
	b=$(pkit_name b)
	# The plock of b hands b down to its command: a must stay handed
	# down too, else the innermost plock of a waits on its own ancestor.
	run plock -n "$a" plock -n "$b" plock -n "$a" plock -n "$b" echo deep
	assert_success
	assert_output deep
	# What is held must still cover what is asked, at every level.
	run plock -s "$a" plock -n "$b" plock -n "$a" true
	assert_failure 125
	assert_output --partial "held shared by this process"
}

@test "plock: a re-entered plock is no new holder; a waiting one never names itself" {
	files_only "chainloading: the holder is the command's own pid"
	local n
	n=$(pkit_name x)
	# plock -q inside the lock inherited the descriptor: not a holder.
	run plock "$n" sh -c 'plock -q "$1"; echo "$$"' sh "$n"
	assert_success
	[ "${lines[0]}" = "${lines[1]}" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "plock: a forged or unrelated lock hand-down is not re-entrance" {
	local n
	n=$(pkit_name x)
	hold "$n"
	if [ "${PKIT_TEST_BACKEND:-}" = redis ]; then
		PKIT_LOCK_HOLDER="0123456789abcdef 1 $held x" run plock -n "$n" true
		assert_failure 124
		PKIT_LOCK_HOLDERS="0123456789abcdef 1 $held x
junk" run plock -n "$n" true
		assert_failure 124
		return
	fi
	# The number of a descriptor that is not the lock file.
	PKIT_LOCK_FD=0 run plock -n "$n" true
	assert_failure 124
	PKIT_LOCK_FDS="0 -1 99999999999999999999 x" run plock -n "$n" true
	assert_failure 124
	# The lock file, but an open file description that holds nothing.
	run sh -c 'exec 7>>"$(plock -w "$1")"; PKIT_LOCK_FD=7 plock -n "$1" true' sh "$n"
	assert_failure 124
	assert_output --partial "held by pid $held"
}

# Lock the rest of a script: on files exec 9>>"$(plock -w NAME)" and
# plock -F 9 NAME, on Redis plock -p $$ NAME (script_lock, lock.bash).

@test "plock: the script lock holds until the script ends; -q names it; -n is 124 meanwhile; SIGKILL lets go" {
	local n p
	n=$(pkit_name x)
	sh -c "$(script_lock)"'
		echo $$ > "$2"; exec sleep 30' sh "$n" "$BATS_TEST_TMPDIR/pid" 3>&- &
	p=$!
	pkit_track "$p"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/pid"
	run cat "$BATS_TEST_TMPDIR/pid"
	assert_output "$p"
	# The script, not plock (gone) nor a keeper, is the holder.
	run plock -q "$n"
	assert_success
	assert_output "$p"
	run plock -n "$n" true
	assert_failure 124
	assert_output --partial "held by pid $p"
	# SIGKILLed: the kernel, or the keeper watching its pidfd, lets go
	# (not the lease running out: PKIT_LOCK_LEASE is 10 s here).
	kill -KILL "$p"
	wait_until 8 plock -n "$n" true
}

@test "plock: the script lock waits with -t, gives 124 when -t runs out, and takes it once free" {
	local n p
	n=$(pkit_name x)
	hold "$n"
	p=$held
	run sh -c "$(script_lock -t 0.3 -q)"'
		echo inside' sh "$n"
	assert_failure 124
	assert_output ""
	sh -c "$(script_lock -t 30)"'
		echo $$ > "$2"; exec sleep 30' sh "$n" "$BATS_TEST_TMPDIR/pid" 3>&- &
	pkit_track "$!"
	kill -TERM "$p"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/pid"
	wait_until 5 holds "$n" "$(cat "$BATS_TEST_TMPDIR/pid")"
}

@test "plock: the script lock -s in two scripts at once, an exclusive -n is 124; -c 1 is a slot" {
	local n p1 p2
	n=$(pkit_name s)
	for i in 1 2; do
		sh -c "$(script_lock -s -n)"'
			: > "$2"; exec sleep 30' sh "$n" "$BATS_TEST_TMPDIR/in$i" 3>&- &
		pkit_track "$!"
		eval "p$i=\$!"
	done
	wait_until 10 test -e "$BATS_TEST_TMPDIR/in1" -a -e "$BATS_TEST_TMPDIR/in2"
	run plock -q "$n"
	assert_output "$(printf '%s\n' "$p1" "$p2" | sort -n)"
	run plock -n "$n" true
	assert_failure 124
	kill -KILL "$p1" "$p2"
	n=$(pkit_name c)
	run sh -c "$(script_lock -c 1)"'
		plock -n -c 1 "$1" echo taken; echo "$?"' sh "$n"
	assert_output --partial "busy"
	assert_line 124
}

@test "plock: -F with PKIT_LOCK_FD exported makes the script's own plocks re-entrant" {
	files_only "a lease held for a pid hands nothing down (plock(1))"
	local n
	n=$(pkit_name x)
	run sh -c 'exec 9>>"$(plock -w "$1")" && plock -F 9 "$1" || exit
		export PKIT_LOCK_FD=9; plock -n "$1" echo inside' sh "$n"
	assert_success
	assert_output inside
}

@test "plock: -F on a descriptor that is not open is refused, not a lock on plock's own" {
	files_only "the lock descriptor (no -F on Redis)"
	local n
	n=$(pkit_name x)
	# plock opened the lock file on the lowest free number, 3, then
	# locked and closed that: the old plock exited 0, holding nothing.
	run --separate-stderr sh -c 'exec 3>&-; plock -F 3 "$1"' _ "$n"
	assert_failure 125
	[[ "$stderr" == "plock: $n: the descriptor is not open"* ]] || fail "$stderr"
	run plock -n "$n" true
	assert_success
}

@test "plock: -q in a pid namespace of its own still sees a lock whose taker has exited" {
	files_only "the kernel's lock list (/proc/locks)"
	unshare -pfm --mount-proc true 2> /dev/null || skip "no pid namespace here (unshare)"
	local n
	n=$(pkit_name x)
	# In a namespace other than the first, /proc/locks leaves out a lock
	# whose taker has no pid there: plock -F's, which exits at once.
	# The old plock -q took that for free (1).
	run unshare -pfm --mount-proc sh -c '
		exec 9>>"$(plock -w "$1")" && plock -F 9 "$1" || exit 99
		plock -q "$1"; echo "q=$?"
		plock -n "$1" true; echo "n=$?"' _ "$n"
	assert_success
	assert_line "q=0"
	assert_line "n=124"
	assert_line --regexp '^[0-9]+$'
}

@test "plock: -F and -p refuse the other backend's form, a bad descriptor and a gone pid" {
	local n d
	n=$(pkit_name x)
	run plock -F 0 "$n" < /dev/null
	assert_failure 125
	true &
	d=$!
	wait "$d"
	if [ "${PKIT_TEST_BACKEND:-}" = redis ]; then
		assert_output --partial "-F locks files only"
		run plock -w "$n"
		assert_failure 125
		run plock -p "$d" "$n"
		assert_failure 125
		assert_output "plock: pid $d: No such process"
	else
		assert_output --partial "not open on this lock's file"
		run plock -w "$n"
		assert_success
		[ -f "$output" ]
		run plock -p "$$" "$n"
		assert_failure 125
		assert_output --partial "-p holds leases only"
	fi
	run plock -F 9 "$n" true
	assert_failure 125
	assert_output --partial "cannot be used together"
	run plock -p "$$" "$n" true
	assert_failure 125
	assert_output "plock: -p and a command cannot be used together"
	run plock -p "$$" -F 9 "$n"
	assert_failure 125
	assert_output --partial "cannot be used together"
	run plock -p 1 "$n"
	assert_failure 125
}
