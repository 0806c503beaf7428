#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pdaemon: readiness (-w: the sd_notify socket, -W: a readiness
# descriptor, -t: the deadline), with and without a supervisor, a real
# notify-speaking server (redis-server --supervised systemd), the user
# CMD runs as (-u), and the verbose status (-s -v).  The stand-in daemon
# is tests/daemon/notifier (see its header).  Bounds are generous: the
# suite runs beside others on a loaded machine, and under ASan.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
load daemon
bats_require_minimum_version 1.5.0

setup() {
	pkit_setup
	pf=$BATS_TEST_TMPDIR/d.pid
	log=$BATS_TEST_TMPDIR/d.log
	notifier=$top_builddir/tests/daemon/notifier
	cmdpid=$BATS_TEST_TMPDIR/cmd.pid
}

# cmd_pid: the pid CMD wrote to $cmdpid (sh -c 'echo $$ > ...; exec ...').
cmd_pid() {
	wait_until 10 test -s "$cmdpid" && cat "$cmdpid"
}

# uptime_of ROLE: the UPTIME field (whole seconds) of -s -v's ROLE line.
uptime_of() {
	pdaemon -s -v "$pf" | awk -v r="$1" '$1 == r { sub(/s$/, "", $4); print $4 }'
}

# --- usage --------------------------------------------------------------

@test "ready: misplaced -w, -W, -u, -v and -t are usage errors (125)" {
	local args
	for args in "-s -w $pf" "-k -W 3 $pf" "-k -v $pf" "-v true" \
	    "-s -u nobody $pf" "-t 1 true" "-W 2 true" "-W x true" \
	    "-W 0 true" "-w -t x true"; do
		# shellcheck disable=SC2086 # split on purpose
		run --separate-stderr pdaemon $args
		[ "$status" -eq 125 ] || fail "pdaemon $args: status $status"
		[ -z "$output" ] || fail "pdaemon $args wrote to stdout"
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "pdaemon $args: $stderr"
	done
}

# --- -w: the sd_notify socket ---------------------------------------------

@test "ready: -w returns only once CMD sent READY=1; STATUS= is logged" {
	timed_run --separate-stderr pdaemon -w -t 60 -p "$pf" -o "$log" \
	    "$notifier" -d 700 -S "warming up"
	[[ "$output" =~ ^[0-9]+$ ]] && pkit_track "$output"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(cat "$pf")" "$output"
	# The notifier waits 700 ms before it says so: we waited for it.
	[ "$elapsed" -ge 650 ] || fail "returned after ${elapsed}ms, before READY=1"
	alive "$output"
	run cat "$log"
	assert_line --regexp "pdaemon\[[0-9]+\]: notifier: status: warming up$"
	assert_line --regexp "notifier: ready \(READY=1 from pid $(cat "$pf")\)$"
}

@test "ready: -w gives CMD NOTIFY_SOCKET, an abstract name; no file is left" {
	start -w -t 60 -p "$pf" "$notifier"
	run bash -c "tr '\0' '\n' < /proc/$pid/environ"
	assert_line --regexp '^NOTIFY_SOCKET=@.+'
	# The socket is gone with the listener: nothing in the run dir.
	[ -z "$(ls -A "$PKIT_DIR")" ] || fail "left in $PKIT_DIR: $(ls -A "$PKIT_DIR")"
}

@test "ready: -w: CMD exits first: its status, one line, nothing left" {
	run --separate-stderr pdaemon -w -t 60 -p "$pf" -o "$log" \
	    sh -c "echo \$\$ > '$cmdpid'; exit 3"
	assert_failure 3
	assert_output ""
	assert_equal "$stderr" "pdaemon: sh: exited with status 3 before it was ready"
	gone "$pf"
	dead "$(cat "$cmdpid")"
	# Killed by a signal: 128+N, as a shell says.
	run --separate-stderr pdaemon -w -t 60 -p "$pf" sh -c 'kill -9 $$'
	assert_failure 137
	assert_equal "$stderr" "pdaemon: sh: killed by signal 9 before it was ready"
	gone "$pf"
}

@test "ready: -w started with SIGCHLD ignored still sees CMD exit first" {
	# Ignored SIGCHLD, inherited, had the kernel reap CMD: pdaemon -w
	# never saw it end and waited out its -t (124, "not ready").
	run --separate-stderr timeout -k 5 30 python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execvp(sys.argv[1], sys.argv[1:])' pdaemon -w -t 10 -p "$pf" sh -c 'exit 5'
	assert_failure 5
	assert_equal "$stderr" "pdaemon: sh: exited with status 5 before it was ready"
	gone "$pf"
}

@test "ready: -w -t: past the deadline it is 124, CMD stopped, pidfile gone" {
	timed_run --separate-stderr pdaemon -w -t 1 -p "$pf" -o "$log" \
	    sh -c "echo \$\$ > '$cmdpid'; exec '$notifier' -n"
	assert_failure 124
	assert_output ""
	assert_equal "$stderr" "pdaemon: sh: not ready within 1s: stopped"
	[ "$elapsed" -ge 950 ] || fail "gave up after ${elapsed}ms"
	[ "$elapsed" -lt 30000 ] || fail "gave up after ${elapsed}ms"
	gone "$pf"
	dead "$(cat "$cmdpid")"
	run cat "$log"
	assert_line --regexp "sh: not ready within 1s$"
	assert_line --regexp "sh: stopped$"
}

@test "ready: -w -t 0 is 124 with its line, every time" {
	local i
	# Stopped at once, CMD was often killed before the daemon had told
	# the caller its pid: 125, and not a word.
	for i in $(seq 20); do
		quick_run timeout -k 5 30 pdaemon -w -t 0 -p "$pf" sleep 1000
		[ "$status" -eq 124 ] || fail "run $i: status $status: $stderr"
		assert_equal "$output" ""
		assert_equal "$stderr" "pdaemon: sleep: not ready within 0s: stopped"
		gone "$pf"
	done
}

@test "ready: -w -t: a CMD that ignores SIGTERM is killed after the grace" {
	timed_run --separate-stderr pdaemon -w -t 0.5 -p "$pf" \
	    sh -c "trap '' TERM; echo \$\$ > '$cmdpid'; exec '$notifier' -n"
	assert_failure 124
	# 0.5 s, then 5 s of grace between SIGTERM and SIGKILL.
	[ "$elapsed" -ge 5400 ] || fail "killed after ${elapsed}ms"
	[ "$elapsed" -lt 40000 ] || fail "killed after ${elapsed}ms"
	gone "$pf"
	dead "$(cat "$cmdpid")"
}

@test "ready: -w: READY=1 from a process outside CMD's tree is ignored" {
	local ns cmd st=0
	pdaemon -w -t 300 -p "$pf" -o "$log" \
	    sh -c "echo \$\$ > '$cmdpid'; exec '$notifier' -n" \
	    > "$BATS_TEST_TMPDIR/out" 2>&1 &
	local bg=$!
	cmd=$(cmd_pid)
	pkit_track "$cmd"
	wait_until 30 grep -q NOTIFY_SOCKET "/proc/$cmd/environ"
	ns=$(tr '\0' '\n' < "/proc/$cmd/environ" | sed -n 's/^NOTIFY_SOCKET=//p')
	"$notifier" -s "$ns" READY=1
	wait_until 30 grep -q "ignored$" "$log"
	# Still waiting: the stranger's READY=1 did not count.
	kill -0 "$bg" || fail "pdaemon returned on a stranger's READY=1"
	kill -TERM "$cmd"
	wait "$bg" || st=$?
	assert_equal "$st" 143
	run cat "$log"
	assert_line --regexp "notification from pid [0-9]+, not of pid $cmd's processes: ignored$"
	gone "$pf"
}

@test "ready: -w: MAINPID= names a descendant, whose READY=1 counts" {
	start -w -t 60 -p "$pf" -o "$log" "$notifier" -M
	run cat "$log"
	assert_line --regexp "notifier: main pid [0-9]+$"
	local main
	main=$(sed -n 's/.*notifier: main pid \([0-9]*\)$/\1/p' "$log")
	pkit_track "$main"
	assert_line --regexp "notifier: ready \(READY=1 from pid $main\)$"
	assert_equal "$(stat_field "$main" 2)" "$pid"
}

@test "ready: redis-server --supervised systemd is reported ready, and answers" {
	command -v redis-server >/dev/null || fail "redis-server is needed (./bootstrap)"
	local sock=$BATS_TEST_TMPDIR/redis.sock
	start -w -t 60 -p "$pf" -o "$log" -C "$BATS_TEST_TMPDIR" \
	    redis-server --port 0 --unixsocket "$sock" --supervised systemd \
	    --save '' --appendonly no
	# Ready means it serves: no retry loop.
	run redis-cli -s "$sock" ping
	assert_output PONG
	run cat "$log"
	assert_line --regexp "redis-server: ready \(READY=1 from pid $pid\)$"
	run pdaemon -k "$pf"
	assert_success
	dead "$pid"
}

# --- -W: the readiness descriptor -----------------------------------------

@test "ready: -W FD returns once CMD writes a newline on FD" {
	timed_run --separate-stderr pdaemon -W 5 -t 60 -p "$pf" -o "$log" \
	    sh -c 'sleep 0.7; echo >&5; exec sleep 1000'
	[[ "$output" =~ ^[0-9]+$ ]] && pkit_track "$output"
	assert_success
	[ "$elapsed" -ge 650 ] || fail "returned after ${elapsed}ms, before the newline"
	run cat "$log"
	assert_line --regexp "sh: ready \(a newline on descriptor 5\)$"
	# CMD has FD: the write end of the readiness pipe.
	run readlink "/proc/$(cat "$pf")/fd/5"
	assert_output --regexp '^pipe:'
}

@test "ready: -W: CMD that closes FD and exits first: its status" {
	run --separate-stderr pdaemon -W 3 -t 60 -p "$pf" sh -c 'exec 3>&-; sleep 0.2; exit 4'
	assert_failure 4
	assert_equal "$stderr" "pdaemon: sh: exited with status 4 before it was ready"
	gone "$pf"
}

@test "ready: -W: CMD that exits 0 before it is ready is no success: 1" {
	local args
	# Status 0 passed through as pdaemon's own: a pid printed, exit 0,
	# the pidfile left, for a service that never became ready.
	for args in "" "-r" "-R"; do
		# shellcheck disable=SC2086 # split on purpose
		run --separate-stderr timeout -k 5 30 pdaemon $args -W 3 -t 30 \
		    -p "$pf" true
		assert_failure 1
		assert_output ""
		assert_equal "$stderr" "pdaemon: true: exited with status 0 before it was ready"
		gone "$pf"
	done
}

@test "ready: -W -t: no newline by the deadline: 124, stopped" {
	run --separate-stderr pdaemon -W 3 -t 1 -p "$pf" \
	    sh -c "echo \$\$ > '$cmdpid'; exec sleep 1000"
	assert_failure 124
	gone "$pf"
	dead "$(cat "$cmdpid")"
}

@test "ready: -W: not ready, CMD's children holding the lock are stopped too" {
	local kid=$BATS_TEST_TMPDIR/kid
	# They kept the lock of a pidfile that was removed under them: the
	# next start ran a second instance beside them.  124 at the deadline:
	run --separate-stderr timeout -k 5 60 pdaemon -W 3 -t 1 -p "$pf" \
	    sh -c "sleep 1000 & echo \$! > '$kid'; wait"
	wait_until 10 test -s "$kid"
	pkit_track "$(cat "$kid")"
	assert_failure 124
	assert_equal "$stderr" "pdaemon: sh: not ready within 1s: stopped"
	gone "$pf"
	wait_until 10 dead "$(cat "$kid")"
	# CMD's status, having exited first:
	rm -f "$kid"
	run --separate-stderr timeout -k 5 60 pdaemon -W 3 -t 60 -p "$pf" \
	    sh -c "sleep 1000 & echo \$! > '$kid'; exit 3"
	wait_until 10 test -s "$kid"
	pkit_track "$(cat "$kid")"
	assert_failure 3
	gone "$pf"
	wait_until 10 dead "$(cat "$kid")"
}

# --- with a supervisor ------------------------------------------------------

@test "ready: -r -w: ready is CMD's READY=1; restarts run without NOTIFY_SOCKET" {
	local c1 c2
	start -r -w -t 60 -p "$pf" -o "$log" "$notifier"
	c1=$(one_child "$pid")
	pkit_track "$c1"
	run bash -c "tr '\0' '\n' < /proc/$c1/environ"
	assert_line --regexp '^NOTIFY_SOCKET=@'
	kill -KILL "$c1"
	wait_until 20 lines_restarted
	c2=$(one_child "$pid")
	pkit_track "$c2"
	[ "$c2" != "$c1" ] || fail "not restarted"
	run bash -c "tr '\0' '\n' < /proc/$c2/environ"
	refute_line --regexp '^NOTIFY_SOCKET='
}

lines_restarted() {
	[ "$(log_count "$log" ": started, pid")" -ge 2 ] &&
	    n_children_at_least "$pid" 1
}

@test "ready: -r -W: a CMD that exits right after it is ready is restarted" {
	local bg sup st=0 z=0
	# The supervisor is stopped while CMD says it is ready and exits, so
	# that it finds both at once: it read the SIGCHLD while it waited for
	# readiness, and then waited for another that never came, CMD left a
	# zombie and never restarted.
	timeout -k 5 60 pdaemon -r -W 3 -t 30 -p "$pf" -o "$log" \
	    sh -c 'sleep 1; echo >&3; exit 3' > "$BATS_TEST_TMPDIR/out" &
	bg=$!
	pkit_track "$bg"
	wait_until 10 test -s "$pf"
	sup=$(cat "$pf")
	pkit_track "$sup"
	kill -STOP "$sup"
	wait_until 10 has_zombie "$sup" || z=1
	kill -CONT "$sup"
	[ "$z" -eq 0 ] || fail "CMD did not exit under the stopped supervisor"
	wait "$bg" || st=$?
	assert_equal "$st" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "$sup"
	wait_until 10 grep -q "exited with status 3 after .*restarting" "$log"
	run pdaemon -k "$pf"
	assert_success
	dead "$sup"
}

@test "ready: -r -W: ready after the starting pdaemon is gone, it runs on" {
	local sup c st=0
	# The supervisor wrote the verdict to a pipe nobody read: SIGPIPE
	# killed it, and CMD with it.  Without -r the service runs on; so
	# it does with -r.
	timeout 1 pdaemon -r -W 3 -t 30 -p "$pf" -o "$log" \
	    sh -c 'sleep 2; echo >&3; exec sleep 1000' > /dev/null || st=$?
	assert_equal "$st" 124
	sup=$(cat "$pf")
	pkit_track "$sup"
	wait_until 10 grep -q "sh: ready, but the pdaemon that started it is gone: running on$" "$log"
	c=$(one_child "$sup")
	pkit_track "$c"
	run pdaemon -s "$pf"
	assert_success
	assert_output "$sup"
	alive "$c"
	run pdaemon -k "$pf"
	assert_success
	gone "$pf"
}

@test "ready: -W: not ready after the starting pdaemon is gone: undone all the same" {
	local args st
	for args in "" "-r"; do
		st=0
		# shellcheck disable=SC2086 # split on purpose
		timeout 0.5 pdaemon $args -W 3 -t 1 -p "$pf" -o "$log" \
		    sh -c "echo \$\$ > '$cmdpid'; exec sleep 1000" > /dev/null || st=$?
		assert_equal "$st" 124
		pkit_track "$(cmd_pid)"
		wait_until 20 gone "$pf"
		wait_until 10 dead "$(cmd_pid)"
		rm -f "$cmdpid"
	done
}

@test "ready: -r -W: SIGTERM while CMD is not yet ready still ends the supervision" {
	local bg sup st=0 got=$BATS_TEST_TMPDIR/got
	# CMD says it is ready only once it has had the supervisor's SIGTERM,
	# then fails.  The supervisor passed the SIGTERM on but forgot it,
	# and restarted CMD for ever: -k was the only way out.
	timeout -k 5 60 pdaemon -r -L 0 -W 3 -t 30 -p "$pf" -o "$log" \
	    sh -c 'trap "echo term >> \"$1\"" TERM
		until [ -s "$1" ]; do sleep 0.05; done; echo >&3; exit 3' _ "$got" \
	    > "$BATS_TEST_TMPDIR/out" &
	bg=$!
	pkit_track "$bg"
	wait_until 10 grep -q "sh: started" "$log"
	sup=$(cat "$pf")
	pkit_track "$sup"
	kill -TERM "$sup"
	wait "$bg" || st=$?
	assert_equal "$st" 0
	wait_until 10 gone "$pf" || fail "still supervised: $(cat "$log")"
	wait_until 10 dead "$sup"
	run cat "$log"
	assert_line --regexp "sh: stopped$"
	refute_line --partial restarting
	assert_equal "$(log_count "$log" "sh: started")" 1
}

# has_zombie PID: true once PID has a zombie child.
has_zombie() {
	[ -n "$(zombies_of "$1")" ]
}

@test "ready: -r -w: CMD exits first: its status, no restart, supervisor gone" {
	run --separate-stderr pdaemon -r -w -t 60 -p "$pf" -o "$log" sh -c 'exit 5'
	assert_failure 5
	assert_equal "$stderr" "pdaemon: sh: exited with status 5 before it was ready"
	gone "$pf"
	run cat "$log"
	refute_line --partial restarting
	assert_line --regexp "sh: stopped$"
}

@test "ready: -R -w -t: not ready in time: 124, supervisor and CMD gone" {
	local sup c
	run --separate-stderr pdaemon -R -w -t 1 -p "$pf" -o "$log" \
	    sh -c "echo \$\$ > '$cmdpid'; exec '$notifier' -n"
	assert_failure 124
	gone "$pf"
	# dead "" is true: each pid is first known.
	c=$(cat "$cmdpid")
	[ -n "$c" ] || fail "CMD wrote no pid"
	dead "$c" || fail "CMD, pid $c, still runs"
	sup=$(sed -n 's/.*pdaemon\[\([0-9]*\)\]: sh: started.*/\1/p' "$log")
	[ -n "$sup" ] || fail "no 'pdaemon[PID]: sh: started' line in the log: $(cat "$log")"
	dead "$sup" || fail "the supervisor, pid $sup, still runs"
}

# --- -u: the user CMD runs as -----------------------------------------------

@test "ready: -u nobody runs CMD as nobody; root keeps the pidfile and stops it" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	local uid gid
	uid=$(id -u nobody)
	gid=$(id -g nobody)
	start -u nobody -p "$pf" -o "$log" sleep 1000
	run grep -E '^(Uid|Gid|Groups):' "/proc/$pid/status"
	assert_line --regexp "^Uid:[[:space:]]+${uid}[[:space:]]+${uid}[[:space:]]+${uid}[[:space:]]+$uid$"
	assert_line --regexp "^Gid:[[:space:]]+${gid}[[:space:]]+${gid}[[:space:]]+${gid}[[:space:]]+$gid$"
	assert_line --regexp "^Groups:[[:space:]]+$(id -G nobody | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')[[:space:]]*$"
	# Opened before the drop: root's files, the lock held through CMD.
	assert_equal "$(stat -c %u "$pf")" 0
	assert_equal "$(stat -c %u "$log")" 0
	run pdaemon -s "$pf"
	assert_output "$pid"
	run pdaemon -k "$pf"
	assert_success
	gone "$pf"
	dead "$pid"
}

@test "ready: -r -u USER:GROUP: the supervisor stays root, each run drops" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	local c
	start -r -u nobody:nogroup -p "$pf" sleep 1000
	c=$(one_child "$pid")
	pkit_track "$c"
	run grep '^Uid:' "/proc/$pid/status"
	assert_output --regexp '^Uid:[[:space:]]+0[[:space:]]'
	run grep '^Gid:' "/proc/$c/status"
	assert_output --regexp "^Gid:[[:space:]]+$(getent group nogroup | cut -d: -f3)[[:space:]]"
	run grep '^Uid:' "/proc/$c/status"
	assert_output --regexp "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]"
	run pdaemon -k "$pf"
	assert_success
	gone "$pf"
}

@test "ready: -r -u: CMD dies with its supervisor; -k leaves nothing running" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	local c
	# A CMD that ignores SIGTERM: -k -t 1 ends the supervisor with
	# SIGKILL, and CMD must die with it.  The parent-death signal was set
	# before the user change, which clears it: CMD ran on as nobody.
	start -r -u nobody -p "$pf" sh -c 'trap "" TERM; exec sleep 1000'
	c=$(one_child "$pid")
	pkit_track "$c"
	wait_until 10 grep -q '^Uid:[[:space:]]*'"$(id -u nobody)"'[[:space:]]' "/proc/$c/status"
	run --separate-stderr timeout -k 5 30 pdaemon -k -t 1 "$pf"
	assert_success
	gone "$pf"
	dead "$pid"
	wait_until 5 dead "$c"
}

@test "ready: -u is refused, one line and 125: unknown user or group, not root" {
	run --separate-stderr pdaemon -p "$pf" -u no-such-user-pkit true
	assert_failure 125
	assert_equal "$stderr" "pdaemon: -u no-such-user-pkit: unknown user"
	run --separate-stderr pdaemon -p "$pf" -u nobody:no-such-group-pkit true
	assert_failure 125
	assert_equal "$stderr" "pdaemon: -u nobody:no-such-group-pkit: unknown group"
	gone "$pf"
	command -v setpriv >/dev/null || skip "no setpriv"
	[ "$(id -u)" -eq 0 ] || skip "needs root to become nobody"
	run --separate-stderr setpriv --reuid nobody --regid nogroup --clear-groups \
	    "$(command -v pdaemon)" -u nobody true
	assert_failure 125
	assert_equal "$stderr" "pdaemon: -u nobody: only root can run CMD as another user"
}

@test "ready: -w -u nobody: the dropped CMD's READY=1 is believed" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	start -w -t 60 -u nobody -p "$pf" "$notifier"
	run grep '^Uid:' "/proc/$pid/status"
	assert_output --regexp "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]"
}

# --- -s -v ----------------------------------------------------------------

@test "ready: -s -v without a supervisor: one line, cmd PID STATE UPTIME" {
	start -p "$pf" sleep 1000
	run --separate-stderr pdaemon -s -v "$pf"
	assert_success
	assert_output --regexp "^cmd $pid sleeping [0-9]+s$"
	# Plain -s is unchanged: the pid alone.
	run --separate-stderr pdaemon -s "$pf"
	assert_output "$pid"
}

@test "ready: -s -v with a supervisor: its line, then CMD's; uptimes grow" {
	local c u0
	start -r -p "$pf" sleep 1000
	c=$(one_child "$pid")
	pkit_track "$c"
	run --separate-stderr pdaemon -s -v "$pf"
	assert_success
	assert_line --index 0 --regexp "^supervisor $pid (sleeping|running) [0-9]+s$"
	assert_line --index 1 --regexp "^cmd $c (sleeping|running) [0-9]+s$"
	u0=$(uptime_of supervisor)
	wait_until 20 uptime_past supervisor "$u0"
}

# uptime_past ROLE N: true once ROLE's uptime is above N.
uptime_past() {
	[ "$(uptime_of "$1")" -gt "$2" ]
}

@test "ready: -s -v between two runs says the CMD is restarting" {
	start -R -L 0 -p "$pf" -o "$log" sh -c 'exit 1'
	wait_until 30 status_says_restarting
	run pdaemon -s -v "$pf"
	assert_line --index 0 --regexp "^supervisor $pid [a-z]+ [0-9]+s$"
}

status_says_restarting() {
	pdaemon -s -v "$pf" | grep -qx 'cmd - restarting -'
}

@test "ready: -s -v on a daemon that is not running exits 1, prints nothing" {
	run --separate-stderr pdaemon -s -v "$pf"
	assert_failure 1
	assert_output ""
}
