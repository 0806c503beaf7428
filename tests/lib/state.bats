#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# state.bats: hostile runtime directories, planted files,
# forged pidfiles and job records, awkward messages and a large stream;
# and a static check that no C code can signal a pid <= 1.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

# one_line_125 TEXT CMD...: CMD exits 125 within 10 s, nothing on stdout,
# one line on stderr containing TEXT.
one_line_125() {
	local text=$1
	shift
	run --separate-stderr timeout 10 "$@" </dev/null
	[ "$status" -eq 125 ] || fail "$*: exit $status, not 125: $stderr"
	[ -z "$output" ] || fail "$*: wrote to stdout: $output"
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "$*: not one line: $stderr"
	[[ "$stderr" == *"$text"* ]] || fail "$*: '$stderr' lacks '$text'"
}

# rundir_refused DIR TEXT: every tool that uses the runtime directory
# refuses DIR as PKIT_DIR, and creates nothing under it.
rundir_refused() {
	local dir=$1 text=$2
	PKIT_DIR=$dir one_line_125 "$text" pspawn true
	PKIT_DIR=$dir one_line_125 "$text" pjoin -t 0.1 $$
	PKIT_DIR=$dir one_line_125 "$text" plock adv true
	PKIT_DIR=$dir one_line_125 "$text" plock -q adv
}

@test "state: no C code can call kill() with a pid <= 1 (static check)" {
	run awk -f "$top_srcdir/tests/lib/killcheck.awk" \
	    "$top_srcdir"/lib/*.c "$top_srcdir"/tools/*.c "$top_srcdir"/tests/*.c "$top_srcdir"/tests/*/*.c
	assert_success
	assert_output ""
}

@test "state: the kill() check fails on an unguarded or literal kill" {
	local f=$BATS_TEST_TMPDIR/k.c
	printf 'void\nf(pid_t p)\n{\n\tkill(p, SIGTERM);\n}\n' > "$f"
	run awk -f "$top_srcdir/tests/lib/killcheck.awk" "$f"
	assert_failure 1
	assert_output --partial "k.c:4: kill(p, ...) without a guard"
	# a guard in another function does not count
	printf 'void\ng(pid_t p)\n{\n\tif (p > 1)\n\t\treturn;\n}\nvoid\nf(pid_t p)\n{\n\tkill(p, 9);\n}\n' > "$f"
	run awk -f "$top_srcdir/tests/lib/killcheck.awk" "$f"
	assert_failure 1
	printf 'void\nf(void)\n{\n\tkill(-1, SIGKILL);\n\tkillpg(0, 9);\n\tsyscall(SYS_kill, 0, 9);\n}\n' > "$f"
	run awk -f "$top_srcdir/tests/lib/killcheck.awk" "$f"
	assert_failure 1
	assert_line --partial "k.c:4: kill(-1, ...): a literal pid"
	assert_line --partial "k.c:5: killpg() is not allowed"
	assert_line --partial "k.c:6: raw kill syscall is not allowed"
	# a guard after the call on its line does not count; before it does
	printf 'void\nf(pid_t p)\n{\n\tkill(p, 1); if (p > 1) x();\n}\n' > "$f"
	run awk -f "$top_srcdir/tests/lib/killcheck.awk" "$f"
	assert_failure 1
	printf 'void\nf(pid_t p)\n{\n\tif (p > 1 && kill(p, 1) == 0)\n\t\tx();\n}\n' > "$f"
	run awk -f "$top_srcdir/tests/lib/killcheck.awk" "$f"
	assert_success
	printf 'void\nf(pid_t p)\n{\n\tif (p <= 1)\n\t\treturn;\n\tkill(p, SIGTERM);\n}\n' > "$f"
	run awk -f "$top_srcdir/tests/lib/killcheck.awk" "$f"
	assert_success
}

@test "state: a runtime directory with a missing parent is refused, not created" {
	rundir_refused "$BATS_TEST_TMPDIR/no/such" "No such file or directory"
	assert_file_not_exists "$BATS_TEST_TMPDIR/no"
}

@test "state: a runtime directory that is a file is refused, the file untouched" {
	local d=$BATS_TEST_TMPDIR/afile
	printf 'keep\n' > "$d"
	rundir_refused "$d" "not a directory"
	assert_equal "$(cat "$d")" keep
}

@test "state: a runtime directory that is a symlink is refused, ours or not" {
	local d=$BATS_TEST_TMPDIR
	mkdir -m 700 "$d/ours" "$d/theirs"
	chown nobody "$d/theirs"
	ln -s ours "$d/l-ours"
	ln -s theirs "$d/l-theirs"
	rundir_refused "$d/l-ours" "not a directory (a symlink or a file)"
	rundir_refused "$d/l-theirs" "not a directory (a symlink or a file)"
	run ls -A "$d/ours" "$d/theirs"
	assert_output $'/'"${d#/}"$'/ours:\n\n/'"${d#/}"$'/theirs:'
}

@test "state: a runtime directory of another owner, or group/other-writable, is refused" {
	local d=$BATS_TEST_TMPDIR
	mkdir -m 700 "$d/nobodys"
	chown nobody "$d/nobodys"
	rundir_refused "$d/nobodys" "not owned by you"
	mkdir "$d/gw" "$d/ow"
	chmod 770 "$d/gw"
	chmod 703 "$d/ow"
	rundir_refused "$d/gw" "group or other writable"
	rundir_refused "$d/ow" "group or other writable"
	run ls -A "$d/nobodys" "$d/gw" "$d/ow"
	refute_output --partial jobs
	refute_output --partial locks
}

@test "state: symlinked or writable jobs/ and locks/ subdirectories are refused" {
	plock adv true
	pspawn true > /dev/null
	mv "$PKIT_DIR/jobs" "$PKIT_DIR/jobs.real"
	ln -s jobs.real "$PKIT_DIR/jobs"
	one_line_125 "$PKIT_DIR/jobs: not a directory" pspawn true
	one_line_125 "$PKIT_DIR/jobs: not a directory" pjoin -t 0.1 $$
	rm "$PKIT_DIR/jobs"
	mv "$PKIT_DIR/jobs.real" "$PKIT_DIR/jobs"
	chmod 777 "$PKIT_DIR/jobs"
	one_line_125 "group or other writable" pspawn true
	chmod 700 "$PKIT_DIR/jobs"
	mv "$PKIT_DIR/locks" "$PKIT_DIR/locks.real"
	ln -s locks.real "$PKIT_DIR/locks"
	one_line_125 "not a directory" plock adv true
	one_line_125 "not a directory" plock -q adv
	rm "$PKIT_DIR/locks"
	mv "$PKIT_DIR/locks.real" "$PKIT_DIR/locks"
	chmod 770 "$PKIT_DIR/locks"
	one_line_125 "group or other writable" plock adv true
}

@test "state: a symlink planted at a lock is refused by plock and -q, never followed" {
	local target=$BATS_TEST_TMPDIR/precious
	plock adv true
	printf 'precious\n' > "$target"
	ln -s "$target" "$PKIT_DIR/locks/evil"
	one_line_125 "evil: a symbolic link" plock evil true
	one_line_125 "evil: a symbolic link" plock -n evil true
	# -q used to answer "free" (1) about the link's own inode
	one_line_125 "evil: a symbolic link" plock -q evil
	assert_equal "$(cat "$target")" precious
	[ -L "$PKIT_DIR/locks/evil" ]
	mkdir "$PKIT_DIR/locks/adir"
	one_line_125 "adir: Is a directory" plock adir true
	one_line_125 "adir: Is a directory" plock -q adir
	mkfifo "$PKIT_DIR/locks/fifo"
	one_line_125 "fifo: not a regular file" plock fifo true
	one_line_125 "fifo: not a regular file" plock -q fifo
}

@test "state: a file planted at a lock is locked as it is, never truncated" {
	printf 'mine\n' > "$PKIT_DIR/locks/planted" 2>/dev/null || {
		plock adv true
		printf 'mine\n' > "$PKIT_DIR/locks/planted"
	}
	run plock planted cat "$PKIT_DIR/locks/planted"
	assert_success
	assert_output mine
	assert_equal "$(cat "$PKIT_DIR/locks/planted")" mine
}

@test "state: a forged or garbage job record never gives a made-up status" {
	local p f c st un
	p=$(pspawn sh -c 'exit 3')
	run pjoin "$p"
	assert_failure 3
	f=$PKIT_DIR/jobs/$p.job
	st=$(cut -d ' ' -f 1 "$f")
	# no start time: not a record of ours at all
	for c in garbage "" "0 exit 3" "x exit 3"; do
		printf '%s\n' "$c" > "$f"
		run -127 --separate-stderr timeout 10 pjoin -t 1 -v "$p"
		assert_failure 127
		assert_output ""
		assert_equal "$stderr" "pjoin: pid $p: no such process"
	done
	# its start time, then no status we can believe: a job whose end
	# nobody recorded, lost (125), never a number
	for c in "$st" "$st exit -1" "$st exit 256" "$st exit 999" \
	    "$st signal 0" "$st signal 65" "$st signal 99" "$st signal -9" \
	    "$st exit 3 trailing" "$st exit 0x3" "$st exit 3.0" "$st running"; do
		printf '%s\n' "$c" > "$f"
		run --separate-stderr timeout 10 pjoin -t 1 -v "$p"
		assert_failure 125
		assert_output "$p lost"
	done
	# a symlink or a directory in its place is not followed
	rm -f "$f"
	printf '%s exit 9\n' "$st" > "$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" "$f"
	run -127 --separate-stderr timeout 10 pjoin -t 1 -v "$p"
	assert_failure 127
	assert_output ""
	assert_equal "$(cat "$BATS_TEST_TMPDIR/target")" "$st exit 9"
	rm -f "$f"
	mkdir "$f"
	run -127 --separate-stderr timeout 10 pjoin -t 1 -v "$p"
	assert_failure 127
	rmdir "$f"
	# a record forged for a live process does not end the wait
	sleep 100 &
	un=$!
	pkit_track "$un"
	st=$(awk '{ print $22 }' "/proc/$un/stat")
	printf '%s exit 7\n' "$st" > "$PKIT_DIR/jobs/$un.job"
	timed_run --separate-stderr pjoin -t 0.5 -v "$un"
	assert_failure 124
	assert_output ""
	[ "$elapsed" -ge 400 ]
	kill -0 "$un"
}

# pidfile_cases: the contents a forged or stale pidfile may have.
pidfile_cases() {
	local dead=$1 un=$2
	printf '%s\n' garbage "" "-1" "0" "1" "$$" "$BASHPID" "$un" "$dead" \
	    "$un garbage" "99999999999" " $un" "0x10" "+$un"
}

@test "state: pdaemon -s and -k never signal on a forged or stale pidfile" {
	local pf=$BATS_TEST_TMPDIR/pf dead un c
	dead=$(sh -c 'echo $$')
	sleep 100 &
	un=$!
	pkit_track "$un"
	while IFS= read -r c; do
		printf '%s\n' "$c" > "$pf"
		run --separate-stderr timeout 10 pdaemon -s "$pf"
		assert_failure 1
		assert_output ""
		run --separate-stderr timeout 10 pdaemon -k -t 1 "$pf"
		assert_failure 1
		assert_output ""
		kill -0 "$un" || fail "pidfile '$c': the unrelated process was signalled"
	done < <(pidfile_cases "$dead" "$un")
	# The same contents with the pidfile locked by someone who is not
	# the pid it names (flock(1) holding it): still never believed.
	flock "$pf" sleep 100 &
	pkit_track $!
	# Held once this pidfile cannot be locked (any flock on the machine
	# would do for a look at /proc/locks).
	wait_until 5 sh -c '! flock -n "$1" true' sh "$pf" ||
		fail "flock(1) never locked $pf"
	while IFS= read -r c; do
		printf '%s\n' "$c" > "$pf"
		run --separate-stderr timeout 10 pdaemon -k -t 1 "$pf"
		assert_failure 1
		kill -0 "$un" || fail "locked pidfile '$c': the unrelated process was signalled"
	done < <(pidfile_cases "$dead" "$un")
	run pdaemon -s "$pf"
	assert_failure 1
}

@test "state: 0-byte messages, empty lines and a last line without newline" {
	local q
	q=$(pkit_name adv)
	pqueue-create -s 4096 "$q"
	pqueue-put "$q" ""
	printf '\n\nlast' | pqueue-put "$q"
	run pqueue-stat "$q"
	assert_line --regexp '^messages: +4$'
	run pqueue-get -c 4 "$q"
	assert_output $'\n\n\nlast'
	run pqueue-get -n "$q"
	assert_failure 124
}

@test "state: a message of exactly the maximum goes in; one byte more is refused" {
	local q m max
	q=$(pkit_name adv)
	pqueue-create -s 4096 "$q"
	max=$(pqueue-stat "$q" | awk '/^largest:/ { print $2 }')
	[ "$max" -eq 4072 ]
	m=$(head -c "$max" /dev/zero | tr '\0' x)
	run pqueue-put -n "$q" "$m"
	assert_success
	run --separate-stderr pqueue-put -n "$q" "${m}y"
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pqueue-put: $q: message of 4073 bytes is over the limit of 4072 bytes"
	printf '%sy\n' "$m" | { run --separate-stderr pqueue-put "$q"; assert_failure 125; }
	run pqueue-get "$q"
	assert_output "$m"
	run pqueue-stat -e "$q"
	assert_success
}

@test "state: NUL bytes without -0 are data, passed through intact" {
	local q
	q=$(pkit_name adv)
	pqueue-create "$q"
	printf 'a\0b\nc' | pqueue-put "$q"
	run pqueue-stat "$q"
	assert_line --regexp '^messages: +2$'
	pqueue-get -c 2 "$q" | od -An -c > "$BATS_TEST_TMPDIR/out"
	run tr -s ' ' < "$BATS_TEST_TMPDIR/out"
	assert_output " a \\0 b \\n c \\n"
}

@test "state: a 1 GiB stream through a 64 KiB queue keeps put's memory flat" {
	local q p g hwm rchar peak=0 first=0 n=0
	q=$(pkit_name adv)
	pqueue-create -s 65536 "$q"
	pqueue-get -f "$q" | wc -l > "$BATS_TEST_TMPDIR/count" &
	g=$!
	# 1 GiB of 100-byte lines (yes: a tenth of the CPU of tr | fold)
	pqueue-put "$q" < <(yes "$(printf 'x%.0s' {1..100})" | head -c 1G) &
	p=$!
	pkit_track "$p"
	# Samples count once put has read its first MiB: before that, $p may
	# still be the shell forked to exec it, or put before its buffers
	# (a first sample of 224 kB was seen, then 1.9 MB flat).
	while [ -e "/proc/$p/status" ]; do
		read -r hwm rchar < <(awk '/^VmHWM:/ { h = $2 } /^rchar:/ { r = $2 }
		    END { print h + 0, r + 0 }' "/proc/$p/status" "/proc/$p/io" 2>/dev/null) || break
		if [ "$hwm" -gt 0 ] && [ "$rchar" -gt 1048576 ]; then
			n=$((n + 1))
			[ "$first" -gt 0 ] || first=$hwm
			[ "$hwm" -le "$peak" ] || peak=$hwm
		fi
		sleep 0.2
	done
	wait "$p"
	pqueue-close "$q"
	wait "$g"
	# every line came out (2^30 = 101 x 10631107 + 17: one more, cut)
	assert_equal "$(cat "$BATS_TEST_TMPDIR/count")" 10631108
	echo "# put VmHWM: first $first kB, peak $peak kB over $n samples" >&3
	[ "$n" -ge 2 ]
	[ "$peak" -lt 16384 ]
	# AddressSanitizer's allocator grows its own caches by a few MB as
	# it runs (first 3.4 MB, peak 6.5 MB seen); there any per-message
	# leak (32+ bytes with redzones, 10.6 million times) is still caught
	# by the absolute bound above.
	if ldd "$(command -v pqueue-put)" 2>/dev/null | grep -q libasan; then
		return 0
	fi
	[ "$peak" -le $((first + 1024)) ]
}
