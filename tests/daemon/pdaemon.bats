#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pdaemon: detaching, the locked pidfile, the log, supervision (-r), stop
# (-k) and status (-s), and the service half of lesson 5.  Every daemon a
# test starts is tracked by pid and ended at teardown.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
load daemon
bats_require_minimum_version 1.5.0

# The process that adopts orphans here: the nearest tests/subreaper above
# us (make check runs every suite under one), else init.
reaper() {
	local p=$$
	while [ "$p" -gt 1 ]; do
		if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = subreaper ]; then
			echo "$p"
			return
		fi
		p=$(stat_field "$p" 2) || break
	done
	echo 1
}

# lines_at_least FILE PATTERN N: true once N lines of FILE match PATTERN.
lines_at_least() {
	[ "$(log_count "$1" "$2")" -ge "$3" ]
}

# no_new_reaper_children LIST: true when the reaper has no child that is
# not in LIST (earlier tests' processes may still be on their way out).
no_new_reaper_children() {
	[ -z "$(comm -13 <(printf '%s\n' "$1") <(procs_of_reaper))" ]
}

# fds PID: the descriptor numbers PID has open, sorted, on one line.
fds() {
	ls "/proc/$1/fd" | sort -n | tr '\n' ' '
}

setup() {
	pkit_setup
	pf=$BATS_TEST_TMPDIR/d.pid
	log=$BATS_TEST_TMPDIR/d.log
}

# --- usage --------------------------------------------------------------

@test "pdaemon: no arguments is a usage error (125)" {
	run --separate-stderr pdaemon
	assert_failure 125
	assert_output ""
	[[ "$stderr" == *"usage: pdaemon"* ]]
}

@test "pdaemon: -h prints the usage on stdout and exits 0" {
	run --separate-stderr pdaemon -h
	assert_success
	assert_line --index 0 --partial "usage: pdaemon [-r | -R] [-L N/DURATION] [-p PIDFILE]"
	assert_line --index 1 --partial "pdaemon -k [-t DURATION] PIDFILE"
	assert_line --index 2 --partial "pdaemon -s [-v] PIDFILE"
}

@test "pdaemon: conflicting or misplaced options are usage errors (125)" {
	local args
	for args in "-k -s $pf" "-k" "-s" "-k $pf $pf" "-k -r $pf" \
	    "-s -t 1 $pf" "-k -p $pf $pf" "-s -o $log $pf" "-t 1 true" \
	    "-T name true" "-r" "-p" "-k -t" "-r -R true" "-R -r true" \
	    "-L 3/1s true" "-k -R $pf" "-s -L 3/1s $pf" "-r -L 3 true" \
	    "-r -L x/1s true" "-r -L 3/x true" "-r -L 0/1s true"; do
		# shellcheck disable=SC2086 # split on purpose
		run --separate-stderr pdaemon $args
		[ "$status" -eq 125 ] || fail "pdaemon $args: status $status"
		[ -z "$output" ] || fail "pdaemon $args wrote to stdout"
	done
}

@test "pdaemon: a bad duration is one line and 125" {
	local d
	for d in abc -1 1x "" 1.2.3; do
		run --separate-stderr pdaemon -k -t "$d" "$pf"
		assert_failure 125
		assert_output ""
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "-t '$d': $stderr"
		[[ "$stderr" == "pdaemon: "* ]] || fail "$stderr"
	done
}

# --- detaching ----------------------------------------------------------

@test "pdaemon: prints the pid written to the pidfile, once CMD runs" {
	timed_run --separate-stderr pdaemon -p "$pf" sleep 1000
	assert_success
	pid=$output
	pkit_track "$pid"
	[ "$elapsed" -lt 3000 ] || fail "took ${elapsed}ms"
	assert_equal "$stderr" ""
	assert_equal "$(cat "$pf")" "$pid"
	# Without -r the pidfile names CMD itself, already exec'd.
	assert_equal "$(cat "/proc/$pid/comm")" sleep
}

@test "pdaemon: the daemon leads no session and has no controlling terminal" {
	local out=$BATS_TEST_TMPDIR/out sid pgrp tty shell_tty
	# Give pdaemon a terminal: the daemon must not keep it.
	script -qec "pdaemon -p '$pf' sleep 1000 > '$out';
	    cat /proc/\$\$/stat > '$BATS_TEST_TMPDIR/shell'" /dev/null \
	    > /dev/null
	pid=$(cat "$out")
	pkit_track "$pid"
	shell_tty=$(awk '{ sub(/.*\) /, ""); print $5 }' "$BATS_TEST_TMPDIR/shell")
	[ "$shell_tty" -ne 0 ] || skip "script(1) gave no terminal"
	sid=$(stat_field "$pid" 4)
	pgrp=$(stat_field "$pid" 3)
	tty=$(stat_field "$pid" 5)
	assert_equal "$tty" 0
	# A new session (not ours), whose leader has exited: the daemon is
	# not a session leader, so it can never acquire a terminal.
	[ "$sid" -ne "$(stat_field $$ 4)" ] || fail "same session as the test"
	[ "$sid" -ne "$pid" ] || fail "the daemon leads its session"
	assert_equal "$pgrp" "$sid"
	dead "$sid"
}

@test "pdaemon: the daemon's parent is the subreaper or init" {
	start sleep 1000
	assert_equal "$(stat_field "$pid" 2)" "$(reaper)"
}

@test "pdaemon: the daemon runs in / with umask 022" {
	umask 077
	cd "$BATS_TEST_TMPDIR"
	start sleep 1000
	assert_equal "$(readlink "/proc/$pid/cwd")" /
	run grep Umask "/proc/$pid/status"
	assert_output --regexp "Umask:[[:space:]]+0022"
}

@test "pdaemon: a relative CMD is found from the caller's directory, not /" {
	mkdir -p "$BATS_TEST_TMPDIR/w/bin"
	printf '#!/bin/sh\nexec sleep 1000\n' > "$BATS_TEST_TMPDIR/w/bin/svc.sh"
	chmod +x "$BATS_TEST_TMPDIR/w/bin/svc.sh"
	cd "$BATS_TEST_TMPDIR/w"
	start -p x.pid ./bin/svc.sh
	assert_equal "$(cat x.pid)" "$pid"
	assert_equal "$(readlink "/proc/$pid/cwd")" /
	start -r -p y.pid bin/svc.sh
	pkit_track "$(one_child "$pid")"
	# Not there: the message names the path it looked for.
	run -127 --separate-stderr pdaemon -p z.pid ./nope.sh
	assert_equal "$stderr" "pdaemon: $BATS_TEST_TMPDIR/w/nope.sh: No such file or directory"
	gone z.pid
}

@test "pdaemon: -C DIR runs in DIR, where a relative CMD is found" {
	mkdir "$BATS_TEST_TMPDIR/work"
	printf '#!/bin/sh\nexec sleep 1000\n' > "$BATS_TEST_TMPDIR/work/svc"
	chmod +x "$BATS_TEST_TMPDIR/work/svc"
	start -C "$BATS_TEST_TMPDIR/work" ./svc
	assert_equal "$(readlink "/proc/$pid/cwd")" "$BATS_TEST_TMPDIR/work"
	assert_equal "$(cat "/proc/$pid/comm")" sleep
}

@test "pdaemon: -C with a missing directory is 125 and starts nothing" {
	run --separate-stderr pdaemon -p "$pf" -C "$BATS_TEST_TMPDIR/nope" sleep 1000
	assert_failure 125
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == *nope* ]]
	gone "$pf"
}

@test "pdaemon: inherited descriptors are closed: only 0, 1, 2 and the lock" {
	exec 5> "$BATS_TEST_TMPDIR/five" 6< /dev/null 9> "$BATS_TEST_TMPDIR/nine"
	start -p "$pf" -o "$log" sleep 1000
	exec 5>&- 6<&- 9>&-
	run fds "$pid"
	assert_output --regexp "^0 1 2 [0-9]+ $"
	lockfd=$(fds "$pid" | awk '{ print $4 }')
	assert_equal "$(readlink "/proc/$pid/fd/$lockfd")" "$pf"
	assert_equal "$(readlink "/proc/$pid/fd/0")" /dev/null
	assert_equal "$(readlink "/proc/$pid/fd/1")" "$log"
	assert_equal "$(readlink "/proc/$pid/fd/2")" "$log"
}

@test "pdaemon: without -p and -o the daemon has 0, 1, 2 on /dev/null only" {
	exec 7> "$BATS_TEST_TMPDIR/seven"
	start sleep 1000
	exec 7>&-
	run fds "$pid"
	assert_output "0 1 2 "
	assert_equal "$(readlink "/proc/$pid/fd/1")" /dev/null
	assert_equal "$(readlink "/proc/$pid/fd/2")" /dev/null
}

@test "pdaemon: stdout and stderr are appended to the log" {
	echo "an old line" > "$log"
	start -o "$log" sh -c 'echo to-stdout; echo to-stderr >&2; exec sleep 1000'
	wait_until 5 grep -q to-stderr "$log"
	run cat "$log"
	assert_line --index 0 "an old line"
	assert_line to-stdout
	assert_line to-stderr
}

@test "pdaemon: the daemon's stdin is /dev/null, not the caller's" {
	start -o "$log" sh -c 'cat; echo "stdin ended"; exec sleep 1000' <<< "secret"
	wait_until 5 grep -q "stdin ended" "$log"
	run cat "$log"
	refute_output --partial secret
	assert_equal "$(readlink "/proc/$pid/fd/0")" /dev/null
}

@test "pdaemon: signal dispositions are reset: an ignored SIGTERM is not kept" {
	# bash ignores SIGINT/SIGQUIT for background jobs; trap '' ignores TERM.
	(trap '' TERM INT HUP; pdaemon -p "$pf" sleep 1000 > "$BATS_TEST_TMPDIR/out")
	pid=$(cat "$BATS_TEST_TMPDIR/out")
	pkit_track "$pid"
	# Signals 1 to 31; 32 and 33 belong to the C library, not to us.
	local ign blk
	ign=$(awk '/^SigIgn/ { print $2 }' "/proc/$pid/status")
	blk=$(awk '/^SigBlk/ { print $2 }' "/proc/$pid/status")
	assert_equal "$(( 0x$ign & 0x7fffffff ))" 0
	assert_equal "$(( 0x$blk & 0x7fffffff ))" 0
}

# --- the pidfile ----------------------------------------------------------

@test "pdaemon: the pidfile is locked while the daemon runs" {
	start -p "$pf" sleep 1000
	run flock -n "$pf" true
	assert_failure 1
	kill -TERM "$pid"
	wait_until 5 dead "$pid"
	run flock -n "$pf" true
	assert_success
}

@test "pdaemon: the pidfile is created mode 0644 whatever the umask" {
	local m
	# It followed the umask: 0600 under umask 077.
	for m in 077 000; do
		umask "$m"
		start -p "$pf" sleep 1000
		umask 022
		assert_equal "$(stat -c %a "$pf")" 644
		run pdaemon -k "$pf"
		assert_success
	done
}

@test "pdaemon: a relative pidfile is relative to the caller's directory" {
	cd "$BATS_TEST_TMPDIR"
	start -p d.pid -r sleep 1000
	assert_equal "$(cat "$pf")" "$pid"
	# The supervisor, in /, removes it by its full path when it stops.
	kill -TERM "$pid"
	wait_until 5 gone "$pf"
}

@test "pdaemon: a second start exits 1 naming the running pid, starts nothing" {
	start -p "$pf" -o "$log" sleep 1000
	run --separate-stderr pdaemon -p "$pf" -o "$log" sh -c 'echo second >&2'
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "pdaemon: $pf: already running, pid $pid"
	assert_equal "$(cat "$pf")" "$pid"
	run grep -c second "$log"
	assert_output 0
	alive "$pid"
}

@test "pdaemon: a start over a stale pidfile takes it over" {
	start -p "$pf" sh -c 'exit 0'
	wait_until 5 dead "$pid"
	assert_file_exists "$pf"
	start -p "$pf" sleep 1000
	assert_equal "$(cat "$pf")" "$pid"
	run pdaemon -s "$pf"
	assert_success
	assert_output "$pid"
}

@test "pdaemon: an unwritable pidfile is one line and 125, nothing started" {
	run --separate-stderr pdaemon -p "$BATS_TEST_TMPDIR/no/such/d.pid" \
	    -o "$log" sh -c 'echo started'
	assert_failure 125
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == "pdaemon: $BATS_TEST_TMPDIR/no/such/d.pid: "* ]]
	run cat "$log"
	refute_output --partial started
}

@test "pdaemon: an unwritable log is one line and 125, no pidfile left" {
	mkdir "$BATS_TEST_TMPDIR/adir"
	run --separate-stderr pdaemon -p "$pf" -o "$BATS_TEST_TMPDIR/adir" sleep 1000
	assert_failure 125
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == "pdaemon: $BATS_TEST_TMPDIR/adir: "* ]]
	gone "$pf"
	run --separate-stderr pdaemon -o "$BATS_TEST_TMPDIR/no/such/log" sleep 1000
	assert_failure 125
	assert_output ""
}

teardown() {
	pkit_teardown
	planted_cleanup
}

# planted: $tmp, a sticky directory where nobody planted symlinks d.pid
# and d.log to a file of root's, victim (planted_dir).
planted() {
	tmp=$(planted_dir d.pid d.log) || fail "cannot plant as nobody"
}

@test "pdaemon: -k and -s refuse a symlink at PIDFILE, as a start does" {
	local pf=$BATS_TEST_TMPDIR/real.pid link=$BATS_TEST_TMPDIR/link.pid
	start -p "$pf" sleep 100
	ln -s "$pf" "$link"
	# -k through the link stopped the daemon, removed the link, left the
	# real pidfile and said 0: the link named another service's pidfile
	run --separate-stderr pdaemon -k -t 1 "$link"
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pdaemon: $link: a symbolic link; refused"
	alive "$pid"
	[ -L "$link" ] && [ -f "$pf" ]
	run --separate-stderr pdaemon -s "$link"
	assert_failure 125
	assert_equal "$stderr" "pdaemon: $link: a symbolic link; refused"
	run pdaemon -k -t 1 "$pf"
	assert_success
	wait_until 5 dead "$pid"
	gone "$pf"
}

@test "pdaemon: a symlink planted at the pidfile or log path is refused, never followed" {
	command -v setpriv > /dev/null || skip "no setpriv"
	planted
	run --separate-stderr pdaemon -p "$tmp/d.pid" sh -c 'echo started'
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pdaemon: $tmp/d.pid: a symbolic link; refused"
	run --separate-stderr pdaemon -o "$tmp/d.log" sh -c 'echo started'
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pdaemon: $tmp/d.log: a symbolic link; refused"
	run cat "$BATS_TEST_TMPDIR/victim"
	assert_output precious
	# a file nobody planted there (not a link) is not ours: refused too
	rm -f "$tmp/d.pid"
	setpriv --reuid=nobody --regid=nogroup --clear-groups touch "$tmp/d.pid"
	run --separate-stderr pdaemon -p "$tmp/d.pid" sh -c 'echo started'
	assert_failure 125
	assert_equal "$stderr" "pdaemon: $tmp/d.pid: not ours, in a directory others may write; refused"
	# ours, in the sticky directory, is fine
	start -p "$tmp/mine.pid" -o "$tmp/mine.log" sh -c 'echo started; exec sleep 1000'
	wait_until 20 grep -q started "$tmp/mine.log"
	assert_equal "$(cat "$tmp/mine.pid")" "$pid"
	run pdaemon -k "$tmp/mine.pid"
	assert_success
}

@test "pdaemon: a pidfile or log in a directory others may write (not sticky) is refused" {
	local d m
	for m in 0770 0777 0775; do
		d=$BATS_TEST_TMPDIR/open$m
		mkdir "$d"
		chmod "$m" "$d"
		run --separate-stderr pdaemon -p "$d/d.pid" sh -c 'echo started'
		assert_failure 125
		assert_output ""
		assert_equal "$stderr" "pdaemon: $d/d.pid: in a directory writable by others (not sticky); refused"
		run --separate-stderr pdaemon -o "$d/d.log" sh -c 'echo started'
		assert_failure 125
		assert_equal "$stderr" "pdaemon: $d/d.log: in a directory writable by others (not sticky); refused"
		gone "$d/d.pid"
		gone "$d/d.log"
	done
}

# --- exec failures --------------------------------------------------------

# procs_of_reaper: the reaper's children, sorted (the daemons it adopted).
procs_of_reaper() {
	ps -o pid= --ppid "$(reaper)" | tr -d ' ' | sort
}

@test "pdaemon: a command not found is 127, with no pidfile and no process left" {
	local before r
	for r in "" -r; do
		before=$(procs_of_reaper)
		# shellcheck disable=SC2086 # "" or -r
		run -127 --separate-stderr pdaemon $r -p "$pf" -o "$log" no-such-command-here
		assert_failure 127
		assert_output ""
		assert_equal "$stderr" \
		    "pdaemon: no-such-command-here: No such file or directory"
		gone "$pf"
		# Anything new may only be on its way out (a zombie being reaped).
		wait_until 5 no_new_reaper_children "$before" ||
		    fail "left behind: $(procs_of_reaper) (was $before)"
	done
}

@test "pdaemon: stdout that cannot be written: 125, one line, nothing left" {
	local before r how why
	# The daemon ran on, its pid untold: a retry said "already running".
	# To a pipe nobody reads, pdaemon died of SIGPIPE with it running.
	for how in full closed pipe; do
		case $how in
		full) why="No space left on device" ;;
		closed) why="Bad file descriptor" ;;
		pipe) why="Broken pipe" ;;
		esac
		for r in "" -r; do
			before=$(procs_of_reaper)
			# shellcheck disable=SC2016 # $@ is for the inner shell
			case $how in
			full) run --separate-stderr timeout -k 5 30 bash -c \
			    'exec pdaemon "$@" > /dev/full' _ $r -p "$pf" sleep 1000 ;;
			closed) run --separate-stderr timeout -k 5 30 bash -c \
			    'exec pdaemon "$@" >&-' _ $r -p "$pf" sleep 1000 ;;
			pipe) run --separate-stderr timeout -k 5 30 python3 -c \
			    'import os, signal, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
r, w = os.pipe(); os.close(r); os.dup2(w, 1); os.close(w)
os.execvp(sys.argv[1], sys.argv[1:])' pdaemon $r -p "$pf" sleep 1000 ;;
			esac
			[ -s "$pf" ] && pkit_track "$(cat "$pf")"
			[ "$status" -eq 125 ] || fail "$how $r: status $status"
			assert_equal "$stderr" "pdaemon: stdout: $why: sleep stopped"
			gone "$pf"
			wait_until 10 no_new_reaper_children "$before" ||
			    fail "left behind: $(procs_of_reaper) (was $before)"
		done
	done
}

@test "pdaemon: a command that cannot be executed is 126, nothing left" {
	local r
	printf 'not a program\n' > "$BATS_TEST_TMPDIR/noexec"
	chmod 644 "$BATS_TEST_TMPDIR/noexec"
	for r in "" -r; do
		# shellcheck disable=SC2086 # "" or -r
		run --separate-stderr pdaemon $r -p "$pf" "$BATS_TEST_TMPDIR/noexec"
		assert_failure 126
		assert_output ""
		assert_equal "$stderr" \
		    "pdaemon: $BATS_TEST_TMPDIR/noexec: Permission denied"
		gone "$pf"
	done
}

@test "pdaemon: -r: the supervisor's own failure to start CMD is 125, not 126" {
	local n seen=0
	# Short of descriptors, the supervisor's fork of CMD failed (or its
	# signalfd, its pipe): that went back as CMD's exec failure, 126,
	# "sleep: Too many open files".  Where the limit falls depends on the
	# descriptors each step takes: try a few.
	for n in 6 7 8 9 10 11 12; do
		run --separate-stderr bash -c 'ulimit -n "$1"; shift; exec pdaemon "$@"' \
		    _ "$n" -r -p "$pf" -o "$log" sleep 1000
		[[ "$output" =~ ^[0-9]+$ ]] && pkit_track "$output"
		case $status in
		0) pdaemon -k "$pf" ;;
		125)
			[ "${#stderr_lines[@]}" -eq 1 ] || fail "ulimit -n $n: $stderr"
			gone "$pf"
			if [[ $stderr == *"cannot start: Too many open files" ]]; then
				seen=1
			fi
			;;
		*) fail "ulimit -n $n: status $status: $stderr" ;;
		esac
	done
	[ "$seen" -eq 1 ] || skip "no limit made the supervisor's fork fail here"
}

# --- -s and -k ------------------------------------------------------------

@test "pdaemon: -s says running (0, the pid) or not (1)" {
	start -p "$pf" sleep 1000
	run --separate-stderr pdaemon -s "$pf"
	assert_success
	assert_output "$pid"
	kill -TERM "$pid"
	wait_until 5 dead "$pid"
	run --separate-stderr pdaemon -s "$pf"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" ""
}

@test "pdaemon: -k stops a daemon with SIGTERM, removes the pidfile, exits 0" {
	start -p "$pf" -o "$log" sh -c \
	    'trap "echo got TERM; exit 0" TERM; while :; do sleep 0.05; done'
	timed_run --separate-stderr pdaemon -k "$pf"
	assert_success
	assert_output ""
	[ "$elapsed" -lt 3000 ] || fail "took ${elapsed}ms"
	dead "$pid"
	gone "$pf"
	run cat "$log"
	assert_output --partial "got TERM"
	run pdaemon -s "$pf"
	assert_failure 1
	run pdaemon -k "$pf"
	assert_failure 1
}

@test "pdaemon: -k and -s on a missing pidfile exit 1" {
	run --separate-stderr pdaemon -k "$pf"
	assert_failure 1
	assert_output ""
	run --separate-stderr pdaemon -s "$pf"
	assert_failure 1
	assert_output ""
}

@test "pdaemon: a stale pidfile reads as not running; -k removes it" {
	start -p "$pf" sh -c 'exit 0'
	wait_until 5 dead "$pid"
	assert_file_exists "$pf"
	run pdaemon -s "$pf"
	assert_failure 1
	run pdaemon -k "$pf"
	assert_failure 1
	gone "$pf"
}

@test "pdaemon: -k leaves an unlocked file that is not a pidfile in place" {
	local f=$BATS_TEST_TMPDIR/notes.txt c
	# It was removed as a stale pidfile, whatever it held.
	printf 'important\n' > "$f"
	run --separate-stderr pdaemon -k "$f"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "pdaemon: $f: not a pidfile: left in place"
	assert_equal "$(cat "$f")" important
	# What pdaemon writes, or an empty file, is still tidied up.
	for c in "" "12345" $'12345\n'; do
		printf '%s' "$c" > "$pf"
		run --separate-stderr pdaemon -k "$pf"
		assert_failure 1
		assert_equal "$stderr" ""
		gone "$pf"
	done
}

@test "pdaemon: unlocked garbage pidfiles are not running, nothing is signalled" {
	local c
	sleep 1000 3>&- &
	local victim=$!
	pkit_track "$victim"
	for c in "" "abc" "-1" "0" "1" "$victim" "$$" " $victim"; do
		printf '%s\n' "$c" > "$pf"
		run pdaemon -s "$pf"
		[ "$status" -eq 1 ] || fail "-s on '$c': $status"
		run pdaemon -k -t 0 "$pf"
		[ "$status" -eq 1 ] || fail "-k on '$c': $status"
		alive "$victim" || fail "'$c': the unrelated sleep was signalled"
	done
}

@test "pdaemon: garbage in a pidfile locked by another process: nothing signalled" {
	local c victim lockfd
	sleep 1000 3>&- &
	victim=$!
	pkit_track "$victim"
	# Not $$: in bats that is this very shell, the lock holder.
	for c in "" "abc" "-1" "0" "1" "$victim" "$PPID"; do
		printf '%s\n' "$c" > "$pf"
		# This shell holds the lock (flock(2), as pidfile_open takes it).
		exec {lockfd}>> "$pf"
		flock -n "$lockfd"
		run pdaemon -s "$pf"
		[ "$status" -eq 1 ] || fail "-s on locked '$c': $status"
		run pdaemon -k -t 0 "$pf"
		[ "$status" -eq 1 ] || fail "-k on locked '$c': $status"
		alive "$victim" || fail "'$c': the unrelated sleep was signalled"
		assert_equal "$(cat "$pf")" "$c"
		run --separate-stderr pdaemon -p "$pf" sleep 1000
		assert_failure 1
		assert_equal "$stderr" "pdaemon: $pf: locked by another process"
		exec {lockfd}>&-
	done
}

@test "pdaemon: a live pid that has the pidfile open but not locked is not trusted" {
	local daemon reader
	start -p "$pf" sleep 1000
	daemon=$pid
	# A process with the file open for reading, not the lock holder...
	sleep 1000 8< "$pf" 3>&- &
	reader=$!
	pkit_track "$reader"
	# ...named in the file while the daemon still holds the lock.
	printf '%s' "$reader" > "$pf"
	run pdaemon -s "$pf"
	assert_failure 1
	run pdaemon -k -t 0 "$pf"
	assert_failure 1
	alive "$reader"
	alive "$daemon"
}

@test "pdaemon: -k -t kills a command that ignores SIGTERM after about that long" {
	start -p "$pf" sh -c 'trap "" TERM; exec sleep 1000'
	timed_run --separate-stderr pdaemon -k -t 1 "$pf"
	assert_success
	[ "$elapsed" -ge 900 ] || fail "SIGKILL after only ${elapsed}ms"
	[ "$elapsed" -lt 3000 ] || fail "took ${elapsed}ms"
	wait_until 5 dead "$pid"
	gone "$pf"
}

@test "pdaemon: -k -t 0 kills at once" {
	start -p "$pf" sh -c 'trap "" TERM; exec sleep 1000'
	timed_run pdaemon -k -t 0 "$pf"
	assert_success
	[ "$elapsed" -lt 3000 ] || fail "took ${elapsed}ms"
	gone "$pf"
}

@test "pdaemon: -k also stops CMD's children that inherited the lock" {
	start -p "$pf" sh -c 'sleep 1000 & sleep 1000 & wait'
	wait_until 5 n_children_at_least "$pid" 2
	local kids
	kids=$(children "$pid")
	# shellcheck disable=SC2086 # two pids
	pkit_track $kids
	run --separate-stderr pdaemon -k -t 2 "$pf"
	assert_success
	for k in $kids; do
		wait_until 5 dead "$k"
	done
	gone "$pf"
}

@test "pdaemon: -k and -s name what holds the lock after CMD exited on its own" {
	local kid=$BATS_TEST_TMPDIR/kid k
	# CMD leaves a child holding the pidfile's lock and exits: -k and
	# -s said 1 without a word, while every new start was refused as
	# "locked by another process".  Whether the holder is what CMD left
	# or anyone who locked the file cannot be proved: it is named, and
	# not signalled (state.bats: a forged pidfile is never believed).
	start -p "$pf" sh -c "sleep 1000 & echo \$! > '$kid'; exit 0"
	wait_until 5 dead "$pid"
	wait_until 5 test -s "$kid"
	k=$(cat "$kid")
	pkit_track "$k"
	run --separate-stderr pdaemon -k -t 1 "$pf"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "pdaemon: $pf: pid $pid has exited, but its lock is held by pid $k (not signalled)"
	alive "$k"
	run --separate-stderr pdaemon -s "$pf"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "pdaemon: $pf: pid $pid has exited, but its lock is held by pid $k (not signalled)"
	kill "$k"
	wait_until 5 dead "$k"
	start -p "$pf" sleep 1000
	run pdaemon -k -t 2 "$pf"
	assert_success
}

@test "pdaemon: -k -t kills every inherited holder that ignores SIGTERM, in about that long" {
	# CMD exits on SIGTERM; two children holding the lock ignore it.
	# The first uses up the grace period: the second must be killed at
	# once, not waited for without end.
	start -p "$pf" sh -c '(trap "" TERM; exec sleep 1000) &
	    (trap "" TERM; exec sleep 1000) & exec sleep 1000'
	wait_until 5 n_children_at_least "$pid" 2
	local kids
	kids=$(children "$pid")
	# shellcheck disable=SC2086 # two pids
	pkit_track $kids
	timed_run --separate-stderr timeout 20 pdaemon -k -t 1 "$pf"
	assert_success
	[ "$elapsed" -lt 5000 ] || fail "took ${elapsed}ms"
	for k in $kids; do
		wait_until 5 dead "$k"
	done
	gone "$pf"
}

# --- supervision (-r) -------------------------------------------------------

@test "pdaemon: -r: the pidfile names the supervisor, titled pdaemon: NAME" {
	start -r -p "$pf" sleep 1000
	local child
	child=$(one_child "$pid")
	pkit_track "$child"
	assert_equal "$(cat "$pf")" "$pid"
	run tr '\0' ' ' < "/proc/$pid/cmdline"
	assert_output --regexp "^pdaemon: sleep"
	assert_equal "$(cat "/proc/$child/comm")" sleep
	# The command has no pidfile descriptor: only the supervisor locks.
	run fds "$child"
	assert_output "0 1 2 "
	run pdaemon -s "$pf"
	assert_output "$pid"
}

@test "pdaemon: -r -T TITLE names the supervisor" {
	start -r -T my-service sleep 1000
	pkit_track "$(one_child "$pid")"
	run tr '\0' ' ' < "/proc/$pid/cmdline"
	assert_output --regexp "^pdaemon: my-service"
}

@test "pdaemon: -r restarts CMD when it exits, backing off, all in the log" {
	local gaps want=(100 200 400 800) i
	# Each run logs when it started (after its exec: a start is later
	# than the end of the run before plus the pause, whatever the load).
	start -r -L 0 -p "$pf" -o "$log" sh -c 'echo "run $$ $(date +%s.%N)"; exit 3'
	wait_until 10 lines_at_least "$log" "^run " 5
	run cat "$log"
	assert_line --partial "exited with status 3"
	# Backoff: 0.1 s, then 0.2, 0.4 ... in that order.
	run grep -o 'restarting in [0-9.]*s' "$log"
	assert_line --index 0 "restarting in 0.1s"
	assert_line --index 1 "restarting in 0.2s"
	assert_line --index 2 "restarting in 0.4s"
	# Each line is stamped: 2026-11-26T15:30:00.123+0000.
	run grep -c -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}[+-][0-9]{4} pdaemon\[[0-9]+\]: sh: pid [0-9]+ exited with status 3' "$log"
	[ "$output" -ge 3 ] || fail "stamped exit lines: $output"
	# The restarts really were spaced out by the backoff: each start at
	# least the pause (0.1 s, doubling) after the start before it.
	mapfile -t gaps < <(awk '/^run [0-9]+ [0-9.]+$/ { if (n++) printf "%d\n", ($3 - t) * 1000; t = $3 }' "$log")
	[ "${#gaps[@]}" -ge 4 ] || fail "starts stamped: $(grep -c '^run ' "$log")"
	echo "# gaps between starts: ${gaps[*]:0:4} ms" >&3
	for i in 0 1 2 3; do
		[ "${gaps[i]}" -ge "${want[i]}" ] ||
			fail "start $((i + 2)) came ${gaps[i]} ms after the one before, not after the ${want[i]} ms pause"
	done
	alive "$pid"
}

@test "pdaemon: -r restarts CMD after it is killed with SIGKILL" {
	start -r -p "$pf" -o "$log" sleep 1000
	local first second
	first=$(one_child "$pid")
	pkit_track "$first"
	kill -KILL "$first"
	wait_until 5 eval 'second=$(children "$pid"); [ -n "$second" ] && [ "$second" != "$first" ]'
	pkit_track "$second"
	assert_equal "$(cat "/proc/$second/comm")" sleep
	run cat "$log"
	assert_line --partial "pid $first killed by signal 9"
	assert_line --partial "restarting in 0.1s"
}

@test "pdaemon: -r: SIGTERM to the supervisor stops CMD and removes the pidfile" {
	start -r -p "$pf" -o "$log" sh -c \
	    'trap "echo CMD got TERM; exit 0" TERM; while :; do sleep 0.05; done'
	local child
	child=$(one_child "$pid")
	pkit_track "$child"
	kill -TERM "$pid"
	wait_until 5 dead "$pid"
	dead "$child"
	gone "$pf"
	run cat "$log"
	assert_line "CMD got TERM"
	assert_line --partial "stopped"
	refute_line --partial "restarting"
}

@test "pdaemon: -r: SIGTERM during the backoff pause stops at once" {
	start -r -p "$pf" -o "$log" sh -c 'exit 1'
	wait_until 5 grep -q "restarting in 0.4s" "$log"
	kill -TERM "$pid"
	wait_until 2 dead "$pid"
	gone "$pf"
}

@test "pdaemon: -r: SIGINT is passed on and stops; without -o SIGHUP is passed on" {
	local got=$BATS_TEST_TMPDIR/got
	start -r -p "$pf" sh -c \
	    "trap 'echo got HUP >> $got' HUP; trap 'echo got INT >> $got; exit 0' INT; while :; do sleep 0.05; done"
	local child
	child=$(one_child "$pid")
	pkit_track "$child"
	kill -HUP "$pid"
	wait_until 5 grep -q "got HUP" "$got"
	alive "$child"
	kill -INT "$pid"
	wait_until 5 dead "$pid"
	dead "$child"
	gone "$pf"
	run cat "$got"
	assert_line "got INT"
}

@test "pdaemon: -r: without -o, a SIGHUP that ends CMD means a restart" {
	start -r -p "$pf" sleep 1000
	local first second
	first=$(one_child "$pid")
	pkit_track "$first"
	kill -HUP "$pid"
	wait_until 5 eval 'second=$(children "$pid"); [ -n "$second" ] && [ "$second" != "$first" ]'
	pkit_track "$second"
}

@test "pdaemon: -r -o: SIGHUP reopens the log and does not reach CMD" {
	start -r -p "$pf" -o "$log" sleep 1000
	local first
	first=$(one_child "$pid")
	pkit_track "$first"
	mv "$log" "$log.1"
	kill -HUP "$pid"
	wait_until 5 grep -q "reopened on SIGHUP" "$log"
	# sleep dies of a SIGHUP: it never got one.
	alive "$first"
	assert_equal "$(children "$pid")" "$first"
	run cat "$log.1"
	assert_line --partial "sleep: started, pid $first"
}

@test "pdaemon: -r -o: SIGHUP never reopens the log through a symlink planted where it was" {
	start -r -p "$pf" -o "$log" sleep 1000
	pkit_track "$(one_child "$pid")"
	local victim="$BATS_TEST_TMPDIR/victim"
	echo "precious" > "$victim"
	mv "$log" "$log.1"
	ln -s "$victim" "$log"
	kill -HUP "$pid"
	wait_until 5 grep -q "cannot reopen" "$log.1"
	assert_equal "$(cat "$victim")" "precious"
	alive "$pid"
}

# A CMD that writes numbered lines steadily: rotate its log twice with mv
# and SIGHUP (as logrotate's postrotate does); every line is in exactly
# one of the three files, whole, in order, and the later ones in the new
# file.  Were SIGHUP passed on, the loop would die and start over at 1.
@test "pdaemon: -R -o: logrotate-style mv + SIGHUP loses no line, splits none" {
	start -R -p "$pf" -o "$log" sh -c \
	    'i=0; while :; do i=$((i + 1)); echo "line $i of the numbered output"; sleep 0.005; done'
	pkit_track "$(one_child "$pid")"
	wait_until 20 lines_at_least "$log" "^line " 100
	mv "$log" "$log.2"
	kill -HUP "$pid"
	wait_until 20 lines_at_least "$log" "^line " 100
	mv "$log" "$log.1"
	kill -HUP "$pid"
	wait_until 20 lines_at_least "$log" "^line " 100
	run --separate-stderr pdaemon -k "$pf"
	assert_success
	# Each file has lines, each a whole one; all of them are 1..N once.
	local f n=0 last
	for f in "$log.2" "$log.1" "$log"; do
		[ "$(log_count "$f" "^line ")" -ge 100 ] || fail "$f: too few lines"
		run grep -v -E '^(line [0-9]+ of the numbered output|[0-9]{4}-.* pdaemon\[[0-9]+\]: .*)$' "$f"
		assert_output ""
	done
	last=$(cat "$log.2" "$log.1" "$log" | sed -n 's/^line \([0-9]*\) .*/\1/p' |
	    awk 'BEGIN { n = 0 } $1 != n + 1 { print "gap at " n; exit 1 } { n = $1 } END { print n }')
	[[ "$last" =~ ^[0-9]+$ ]] || fail "numbers: $last"
	n=$(cat "$log.2" "$log.1" "$log" | grep -c "^line ")
	assert_equal "$n" "$last"
	# The old files were done with before the new ones began.
	grep -q "reopened on SIGHUP" "$log"
	grep -q "reopened on SIGHUP" "$log.1"
	run grep -c "started, pid" "$log.2"
	assert_output 1
}

# --- restart policy (-r, -R, -L) ---------------------------------------------

@test "pdaemon: -r: a clean exit is not restarted; the supervisor ends, pidfile gone" {
	start -r -p "$pf" -o "$log" sh -c 'echo "run $$"; exit 0'
	wait_until 10 dead "$pid"
	gone "$pf"
	run log_count "$log" "^run "
	assert_output 1
	run cat "$log"
	assert_line --regexp 'sh: pid [0-9]+ exited with status 0 after [0-9.]+s, not restarting \(-r restarts on failure only\)$'
	assert_line --partial "sh: stopped"
	refute_line --partial "restarting in"
}

@test "pdaemon: -r restarts a CMD killed by a signal; -R restarts a clean exit" {
	start -R -p "$pf" -o "$log" sh -c 'echo "run $$"; exit 0'
	wait_until 10 lines_at_least "$log" "^run " 3
	alive "$pid"
	run cat "$log"
	assert_line --regexp 'sh: pid [0-9]+ exited with status 0 after [0-9.]+s, restarting in 0.1s$'
	assert_line --regexp 'sh: pid [0-9]+ exited with status 0 after [0-9.]+s, restarting in 0.2s$'
	run --separate-stderr pdaemon -k "$pf"
	assert_success
}

@test "pdaemon: -r: a crash loop (5 failures within 10s) ends supervision, pidfile gone" {
	local t0 ms
	t0=$(date +%s%N)
	start -r -p "$pf" -o "$log" sh -c 'echo "run $$"; exit 4'
	# Backoff 0.1+0.2+0.4+0.8 s: it gives up after about 1.5 s.
	wait_until 20 dead "$pid"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "$ms" -ge 1400 ] || fail "gave up after only ${ms}ms"
	gone "$pf"
	run log_count "$log" "^run "
	assert_output 5
	run cat "$log"
	assert_line --regexp 'sh: pid [0-9]+ exited with status 4 after [0-9.]+s: 5 failures within 10.0s, a crash loop: giving up$'
	assert_line --partial "sh: stopped"
	# Every start was logged, stamped, with its pid.
	run grep -c -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}[+-][0-9]{4} pdaemon\[[0-9]+\]: sh: started, pid [0-9]+$' "$log"
	assert_output 5
}

@test "pdaemon: -r -L N/DURATION: N failures end it; failures spread wider do not" {
	start -r -L 2/1m -p "$pf" -o "$log" sh -c 'echo "run $$"; exit 1'
	wait_until 10 dead "$pid"
	gone "$pf"
	run log_count "$log" "^run "
	assert_output 2
	grep -q "2 failures within 60.0s, a crash loop: giving up" "$log"
	# 3 within 0.2 s never happens: the backoff spaces them 0.1 + 0.2 s.
	rm -f "$log"
	start -r -L 3/200ms -p "$pf" -o "$log" sh -c 'echo "run $$"; exit 1'
	wait_until 20 lines_at_least "$log" "^run " 5
	alive "$pid"
	run --separate-stderr pdaemon -k "$pf"
	assert_success
}

@test "pdaemon: -r -L 0 never gives up" {
	start -r -L 0 -p "$pf" -o "$log" sh -c 'echo "run $$"; exit 1'
	wait_until 20 lines_at_least "$log" "^run " 6
	alive "$pid"
	run --separate-stderr pdaemon -k "$pf"
	assert_success
}

@test "pdaemon: -r: -k stops the supervisor and CMD" {
	start -r -p "$pf" -o "$log" sleep 1000
	local child
	child=$(one_child "$pid")
	pkit_track "$child"
	run --separate-stderr pdaemon -k "$pf"
	assert_success
	dead "$pid"
	wait_until 5 dead "$child"
	gone "$pf"
}

@test "pdaemon: -r: -k -t kills a TERM-ignoring CMD along with the supervisor" {
	start -r -p "$pf" sh -c 'trap "" TERM; exec sleep 1000'
	local child
	child=$(one_child "$pid")
	pkit_track "$child"
	timed_run pdaemon -k -t 1 "$pf"
	assert_success
	[ "$elapsed" -ge 900 ] || fail "after only ${elapsed}ms"
	dead "$pid"
	wait_until 5 dead "$child"
	gone "$pf"
}

@test "pdaemon: -r: a supervisor killed with SIGKILL leaves a stale, unlocked pidfile" {
	start -r -p "$pf" sleep 1000
	local child
	child=$(one_child "$pid")
	pkit_track "$child"
	kill -KILL "$pid"
	wait_until 5 dead "$child"
	run pdaemon -s "$pf"
	assert_failure 1
	run pdaemon -k "$pf"
	assert_failure 1
	gone "$pf"
}

# --- lesson 5, the service half ---------------------------------------------

@test "lesson 5: the service outlives the script that started it; pdaemon -k stops it" {
	local lesson=$top_srcdir/examples/05-service.sh script svc
	export SERVICE_DIR=$BATS_TEST_TMPDIR/svc
	run sh "$lesson" start
	assert_success
	[[ "$output" =~ pid\ ([0-9]+)\;\ this\ script\ \(([0-9]+)\) ]] ||
	    fail "no pids in: $output"
	svc=${BASH_REMATCH[1]}
	script=${BASH_REMATCH[2]}
	pkit_track "$svc"
	# The script is gone; the service runs on, adopted, in its own session.
	dead "$script"
	alive "$svc"
	assert_equal "$(stat_field "$svc" 2)" "$(reaper)"
	run sh "$lesson" status
	assert_success
	assert_output "the clock service runs, pid $svc"
	run sh "$lesson" stop
	assert_success
	wait_until 5 dead "$svc"
	run sh "$lesson" status
	assert_failure 1
	assert_output "the clock service is not running"
}

@test "lesson 5: the whole service story runs and leaves nothing running" {
	local svc
	export SERVICE_DIR=$BATS_TEST_TMPDIR/svc
	run sh "$top_srcdir/examples/05-service.sh"
	[[ "$output" =~ clock\ service,\ pid\ ([0-9]+) ]] || fail "no service pid in: $output"
	svc=${BASH_REMATCH[1]}
	pkit_track "$svc"
	assert_success
	assert_line "the clock service runs, pid $svc"
	assert_line "stopped the clock service"
	assert_line "the clock service is not running"
	gone "$SERVICE_DIR/clock.pid"
	# pdaemon -k returned once the service had exited.
	dead "$svc" || fail "the service, pid $svc, still runs"
}

@test "lesson 5: the story shows its own run's log, not an earlier run's" {
	export SERVICE_DIR=$BATS_TEST_TMPDIR/svc
	mkdir -p "$SERVICE_DIR"
	echo "tick 00:00:00 from an earlier run" > "$SERVICE_DIR/clock.log"
	PKIT_DEMO_DELAY=0 run sh "$top_srcdir/examples/05-service.sh"
	[[ "$output" =~ clock\ service,\ pid\ ([0-9]+) ]] && pkit_track "${BASH_REMATCH[1]}"
	assert_success
	refute_output --partial "earlier run"
	assert_line --regexp '^tick [0-9:]+$'
}
