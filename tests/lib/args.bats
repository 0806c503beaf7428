#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# args.bats: every tool, every option and operand, fed bad
# values.  Each must exit 125 with exactly one line on stderr that names
# the bad value, and print nothing on stdout: never a silent default.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0
# A refusal is instant; a tool that hung instead would fail its test
# here (bats ends it) rather than by a timeout(1) around each of the
# ~400 calls, which cost a third of this suite's processes.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}

# refused NEEDLE CMD...: CMD exits 125, stdout empty, one stderr line
# containing NEEDLE (fixed string) - or, for a usage error, the synopsis,
# whose lines are as many as the tool's forms.
refused() {
	local needle=$1 want=1
	shift
	quick_run "$@" </dev/null
	[[ "$needle" == usage:* ]] && want=${#stderr_lines[@]}
	if [ "$status" -ne 125 ] || [ -n "$output" ] ||
	    [ "${#stderr_lines[@]}" -ne "$want" ] ||
	    [[ "$stderr" != *"$needle"* ]]; then
		printf 'command: %q ' "$@" >&2
		printf '\nstatus %s, stdout %q, stderr %q (wanted %q)\n' \
		    "$status" "$output" "$stderr" "$needle" >&2
		return 1
	fi
}

# Numbers: digits only, in range, never 0x, 1e9, signs, spaces.
bad_numbers=("" "-1" "99999999999999999999" "1e9" "0x10" "5x" "1.5"
	" 3" "3 " "+3" $'3\n' "-" "--" "١")
# Durations: 1.5, 250ms, 2s, 1m only.
bad_durations=("" "-1" "1.2.3" "5x" "1e9" "0x10" "99999999999999999999s"
	"ms" "s" "nan" "inf" "1 s" " 1" "1m1" $'1\x01')

# num_needle V: how a value shows in the message ('…', control bytes as \xNN).
num_needle() {
	local v=$1
	v=${v//$'\n'/\\x0a}
	v=${v//١/\\xd9\\xa1}
	printf "'%s'" "$v"
}

@test "adversarial: bad counts and ids are refused by every tool, naming them" {
	pqueue-create "$(pkit_name q)"
	local q v n
	q=$(pkit_name q)
	for v in "${bad_numbers[@]}"; do
		n=$(num_needle "$v")
		refused "$n" pspawn -n "$v" true
		refused "$n" plock -c "$v" lk true
		refused "$n" pqueue-create -m "$v" "$q-x"
		refused "$n" pqueue-create -s "$v" "$q-x"
		refused "$n" pqueue-get -c "$v" "$q"
		refused "$n" pqueue-get -n -r "$v" "$q" true
		refused "$n" pqueue-done -c "$v" "$q"
		refused "$n" pqueue-done "$q" "$v"
		case $v in
		-1) ;;	# an option to getopt: see the next test
		--) refused "usage: pjoin" pjoin "$v" ;;
		*) refused "$n" pjoin "$v" ;;
		esac
	done
	assert_file_not_exists "$PKIT_DIR/queues/$q-x"
}

@test "adversarial: a pid or count that looks like an option is an unknown option" {
	run --separate-stderr pjoin -1
	assert_failure 125
	assert_output ""
	[[ "${stderr_lines[0]}" == "pjoin: invalid option -- '1'" ]]
	run --separate-stderr pjoin -- -1
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pjoin: bad pid '-1': too small (1..2147483647)"
}

@test "adversarial: pid 0 is refused by pjoin; pid 1 is only waited on" {
	refused "'0'" pjoin 0
	refused "'0'" pjoin -t 1 -- 0
	timed_run --separate-stderr pjoin -t 0.2 1
	assert_failure 124
	assert_output ""
	[ "$elapsed" -lt 3000 ]
}

@test "adversarial: bad durations are refused by every -t, naming them" {
	local q v n
	q=$(pkit_name q)
	pqueue-create "$q"
	for v in "${bad_durations[@]}"; do
		n=$(num_needle "$v")
		n=${n//$'\x01'/\\x01}
		refused "bad duration" pjoin -t "$v" $$
		refused "bad duration" pdaemon -k -t "$v" "$PKIT_DIR/pf"
		refused "bad duration" plock -t "$v" lk true
		refused "bad duration" pqueue-put -t "$v" "$q" x
		refused "bad duration" pqueue-get -t "$v" "$q"
		refused "bad duration" pqueue-join -t "$v" "$q"
		[ -z "$v" ] || [[ $v == *$'\x01'* ]] ||
			refused "'$v'" pqueue-get -t "$v" "$q"
	done
	# nothing was put or taken by the refused calls
	run pqueue-stat "$q"
	assert_success
	assert_line --regexp '^messages: +0$'
}

@test "adversarial: a word or a bad unit given as a duration gets the same hint" {
	local q v
	q=$(pkit_name q)
	pqueue-create "$q"
	# "abc" (no number at all) was refused as "not a duration" alone,
	# "1x" with the hint: both are the same mistake, told the same way
	for v in abc x 1x 2sec; do
		refused "bad duration '$v': not a duration (use e.g. 1.5, 250ms, 2s, 1m)" pjoin -t "$v" $$
		refused "bad duration '$v': not a duration (use e.g." plock -t "$v" lk true
		refused "bad duration '$v': not a duration (use e.g." pqueue-put -t "$v" "$q" x
		refused "bad duration '$v': not a duration (use e.g." pqueue-get -T "$v" "$q" true
	done
	refused "bad duration '': empty" plock -t "" lk true
}

@test "adversarial: a bad value or path with a newline stays on one line" {
	local q nl=$'\n' n='\x0a'
	q=$(pkit_name q)
	pqueue-create "$q"
	# each refused message must show the value escaped: a raw newline
	# would split it, and what follows could pose as another message
	refused "bad duration '1${n}fake: line'" pjoin -t "1${nl}fake: line" 1
	refused "bad duration '1${n}x'" plock -t "1${nl}x" lk true
	refused "bad duration '1${n}x'" pqueue-put -t "1${nl}x" "$q" x
	refused "bad duration '1${n}x'" pqueue-create -l "1${nl}x" "$q-x"
	refused "bad mode '6${n}00'" pqueue-create -M "6${nl}00" "$q-x"
	refused "-L 3${n}: not N/DURATION" pdaemon -r -L "3${nl}" true
	refused "-u a${n}b: " pdaemon -u "a${nl}b" true
	refused "$PKIT_DIR/no${n}dir: No such file" \
	    pspawn -C "$PKIT_DIR/no${nl}dir" true
	refused "$PKIT_DIR/no${n}dir/o: No such file" \
	    pspawn -o "$PKIT_DIR/no${nl}dir/o" true
	refused "$PKIT_DIR/no${n}dir/i: No such file" \
	    pspawn -i "$PKIT_DIR/no${nl}dir/i" true
	refused "$PKIT_DIR/no${n}dir/log: No such file" \
	    pqueue-get -n -L "$PKIT_DIR/no${nl}dir/log" "$q" true
	refused "$PKIT_DIR/no${n}dir/p: No such file" \
	    pdaemon -p "$PKIT_DIR/no${nl}dir/p" true
	refused "$PKIT_DIR/no${n}dir/log: No such file" \
	    pdaemon -o "$PKIT_DIR/no${nl}dir/log" true
	refused "$PKIT_DIR/no${n}dir: No such file" \
	    pdaemon -C "$PKIT_DIR/no${nl}dir" true
	ln -s nowhere "$BATS_TEST_TMPDIR/l${nl}k"
	refused "$BATS_TEST_TMPDIR/l${n}k: a symbolic link; refused" \
	    pdaemon -k "$BATS_TEST_TMPDIR/l${nl}k"
	refused "$BATS_TEST_TMPDIR/l${n}k: a symbolic link; refused" \
	    pdaemon -s "$BATS_TEST_TMPDIR/l${nl}k"
	assert_file_not_exists "$PKIT_DIR/queues/$q-x"
}

@test "adversarial: a refused runtime directory is named escaped, on one line" {
	local d=$BATS_TEST_TMPDIR/d-$'\e[31mW\nZ' shown own=$PKIT_DIR
	shown="runtime directory $BATS_TEST_TMPDIR/d-\\x1b[31mW\\x0aZ"
	mkdir -m 777 "$d"
	chmod 777 "$d"
	PKIT_DIR=$d
	# Each was 125 with the path raw: an escape sequence, then a second line.
	refused "$shown: group or other writable" pqueue-create qq
	refused "$shown: group or other writable" pspawn true
	refused "$shown: group or other writable" pjoin -l
	refused "$shown: group or other writable" pqueue-stat
	refused "$shown: group or other writable" pqueue-stat qq
	PKIT_DIR=$own
}

@test "adversarial: bad queue names are refused by every pqueue tool" {
	local long t v n
	long=$(printf 'a%.0s' {1..101})
	for v in "" "$long" ".." "." ".hidden" "a/" "a/.." "a/-x" "-x" $'a\x01b' \
	    $'a\nb' $'\xff\xfe' "a b" "é" "a*" 'a$b'; do
		for t in pqueue-create pqueue-put pqueue-get pqueue-stat \
		    pqueue-close pqueue-done pqueue-join; do
			case $v in
			-x) run --separate-stderr "$t" "$v"
			    assert_failure 125
			    assert_output ""
			    [[ "${stderr_lines[0]}" == *"'x'"* ]] ;;
			*) refused "bad queue name" "$t" "$v" ;;
			esac
		done
		[ "$v" = -x ] || refused "bad queue name" pqueue-rm "$v"
	done
	# the name is shown escaped, so it stays on one line
	refused "'a\\x0ab'" pqueue-get $'a\nb'
	refused "'\\xff\\xfe'" pqueue-put $'\xff\xfe' x
	refused "'$long'" pqueue-create "$long"
	# nothing was created, under the runtime directory or beside it
	run ls -A "$PKIT_DIR"
	refute_output --partial "queues"
}

@test "adversarial: a queue path with a control byte is refused, a lock path shown escaped" {
	local d=$BATS_TEST_TMPDIR/a$'\e[2J\nb' t shown
	shown="$BATS_TEST_TMPDIR/a\\x1b[2J\\x0ab"
	# Each was a message of several lines with the escape raw; with the
	# directory there, pqueue-stat -k split its name= line in two.
	for t in pqueue-create pqueue-put pqueue-get pqueue-stat \
	    pqueue-close pqueue-done pqueue-join; do
		refused "bad queue name '/nonexist\x1b[2J\x0a/q'" \
		    "$t" $'/nonexist\e[2J\n/q'
	done
	mkdir -p "$d" "$BATS_TEST_TMPDIR/x"
	refused "bad queue name '$shown/q': a control character" \
	    pqueue-create "$d/q"
	refused "bad queue name '$shown/q'" pqueue-stat -k "$d/q"
	refused "bad queue name '$BATS_TEST_TMPDIR/x\x7f/q'" \
	    pqueue-create "$BATS_TEST_TMPDIR/x"$'\x7f/q'
	refused "bad queue name" pqueue-rm "$d/q"
	assert_equal "$(ls -A "$d")" ""
	# plock locks any file, as flock(1): the path is taken, and shown escaped.
	refused "plock: /nonexist\x1b[2J\x0a/L: No such file" \
	    plock $'/nonexist\e[2J\n/L' true
	refused "plock: /nonexist\x1b[2J\x0a/L: No such file" \
	    plock -F 9 $'/nonexist\e[2J\n/L'
	plock "$d/L" sleep 60 &
	pkit_track $!
	wait_until 5 sh -c 'plock -q "$1" > /dev/null' sh "$d/L"
	run --separate-stderr plock -n "$d/L" true
	assert_failure 124
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == "plock: $shown/L: busy, held by pid "* ]] ||
		fail "not escaped: $stderr"
	run --separate-stderr plock -q "$d/L"
	assert_success
	[[ "$output" =~ ^[0-9]+$ ]] || fail "not a pid: $output"
}

@test "adversarial: pqueue-rm shows a bad name escaped, on one line" {
	# As \xNN, like every other tool: it used vis(3)'s \n, \033 and \377.
	refused 'pqueue-rm: a\x0ab: bad queue name' pqueue-rm $'a\nb'
	refused 'pqueue-rm: \x1b: bad queue name' pqueue-rm $'\e'
	refused 'pqueue-rm: \xff: bad queue name' pqueue-rm $'\xff'
	refused 'pqueue-rm: a\x01b: bad queue name' pqueue-rm $'a\x01b'
	run --separate-stderr pqueue-rm $'a\nb' $'\e' $'\xff'
	assert_failure 125
	assert_equal "$stderr" "pqueue-rm: a\\x0ab: bad queue name: only A-Z a-z 0-9 . _ - are allowed
pqueue-rm: \\x1b: bad queue name: only A-Z a-z 0-9 . _ - are allowed
pqueue-rm: \\xff: bad queue name: only A-Z a-z 0-9 . _ - are allowed"
}

@test "adversarial: bad lock names are refused by plock and plock -q" {
	local long v
	long=$(printf 'a%.0s' {1..101})
	for v in "" "$long" ".." "." ".hidden" $'a\x01b' $'\xff' "a b" "é"; do
		refused "bad lock name" plock "$v" true
		refused "bad lock name" plock -q "$v"
	done
	# a name with '/' is a path: a missing directory is an error naming it
	refused "$PKIT_DIR/no/such: No such file or directory" \
	    plock "$PKIT_DIR/no/such" true
	assert_file_not_exists "$PKIT_DIR/no"
}

@test "adversarial: pqueue-create -M takes only an octal mode, never o+w" {
	local q v
	q=$(pkit_name q)
	for v in "" abc 8 9 01777 06000 -1 0x10 1e3 " 600" "600 " 0600x; do
		refused "bad mode '$v'" pqueue-create -M "$v" "$q"
	done
	for v in 0602 0666 0777 0002; do
		refused "mode $v is world-writable" pqueue-create -M "$v" "$q"
	done
	assert_file_not_exists "$PKIT_DIR/queues/$q"
}

@test "adversarial: empty and missing paths are refused by pspawn and pdaemon" {
	refused "pspawn: : No such file" pspawn -C "" true
	refused "pspawn: : No such file" pspawn -o "" true
	refused "pspawn: : No such file" pspawn -e "" true
	refused "pspawn: : No such file" pspawn -i "" true
	refused "$PKIT_DIR/nodir/x" pspawn -o "$PKIT_DIR/nodir/x" true
	refused "$PKIT_DIR/nodir" pspawn -C "$PKIT_DIR/nodir" true
	refused "$PKIT_DIR/nodir" pdaemon -C "$PKIT_DIR/nodir" true
	refused "pidfile: empty path" pdaemon -p "" true
	refused "log file: empty path" pdaemon -o "" true
}

@test "adversarial: pdaemon -s and -k refuse an empty pidfile path" {
	# it used to read as "not running" (1): a silent answer to a typo
	refused "pidfile: empty path" pdaemon -s ""
	refused "pidfile: empty path" pdaemon -k ""
	refused "pidfile: empty path" pdaemon -k -t 1 ""
}

@test "args: a bad redis: queue name is named, masked; an unset PKIT_REDIS_URL is said" {
	local t
	# Both said "pqueue: bad queue name: ...", naming no queue, and blamed
	# the name for the environment.
	for t in pqueue-create pqueue-put pqueue-get pqueue-stat pqueue-close \
	    pqueue-done pqueue-join pqueue-rm; do
		PKIT_REDIS_URL='' refused \
		    "$t: redis:q: PKIT_REDIS_URL is not set (needed by redis:NAME)" \
		    "$t" redis:q
		refused "$t: redis://u:***@127.0.0.1:99999/q: bad queue name: bad port" \
		    "$t" 'redis://u:s3cret@127.0.0.1:99999/q'
		[[ "$stderr" != *s3cret* ]] || fail "password shown: $stderr"
	done
}

@test "args: pqueue-rm never echoes a redis: name, which may hold a password" {
	run --separate-stderr pqueue-rm 'redis://user:s3cret@127.0.0.1/q'
	assert_failure 125
	[ -z "$output" ]
	[[ "$stderr" != *s3cret* ]] || fail "password shown: $stderr"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
}

@test "adversarial: every pair of options that exclude each other is named" {
	local q
	q=$(pkit_name q)
	pqueue-create "$q"
	refused "plock: -s and -c cannot be used together" plock -s -c 2 lk true
	refused "plock: -s and -c cannot be used together" plock -c 2 -s lk true
	refused "plock: -n and -t cannot be used together" plock -n -t 1 lk true
	refused "plock: -v and a command cannot be used together" plock -q -v lk true
	refused "plock: -s needs a command" plock -q -s lk
	refused "plock: -t needs a command" plock -q -t 1 lk
	refused "pqueue-get: -c and -f cannot be used together" pqueue-get -c 2 -f "$q"
	refused "pqueue-get: -n and -t cannot be used together" pqueue-get -n -t 1 "$q"
	refused "pqueue-put: -n and -t cannot be used together" pqueue-put -t 1 -n "$q" x
	refused "pqueue-get: -r needs a command" pqueue-get -r 2 "$q"
	refused "pjoin: -l and -v cannot be used together" pjoin -l -v
	refused "pjoin: -k needs -t" pjoin -k 1
	refused "pqueue-stat: -e and -F cannot be used together" pqueue-stat -e -F "$q"
	refused "pqueue-stat: -e and -k cannot be used together" pqueue-stat -e -k "$q"
	refused "pqueue-stat: -F needs a queue NAME" pqueue-stat -F
	refused "pqueue-done: -c and ID cannot be used together" pqueue-done -c 2 "$q" 1
	refused "pdaemon: -k and -s cannot be used together" pdaemon -k -s /nonexistent.pid
	refused "pdaemon: -s and -t cannot be used together" pdaemon -s -t 1 /nonexistent.pid
	refused "pdaemon: -k and -p cannot be used together" pdaemon -k -p x /nonexistent.pid
	refused "pdaemon: -s and -r cannot be used together" pdaemon -s -r /nonexistent.pid
	refused "pdaemon: -t needs -k" pdaemon -t 1 true
	refused "pdaemon: -T needs -r" pdaemon -T title true
	refused "pdaemon: -r and -R cannot be used together" pdaemon -r -R true
	refused "pdaemon: -L needs -r" pdaemon -L 3/1s true
	refused "pdaemon: -k and -L cannot be used together" pdaemon -k -L 3/1s /nonexistent.pid
	refused "pdaemon: -L 3: not N/DURATION (or 0)" pdaemon -r -L 3 true
	# N failures within no time at all can never happen: it was taken,
	# and meant "never give up", which -L 0 says
	refused "pdaemon: -L 3/0: DURATION must be more than 0 (-L 0: never give up)" pdaemon -r -L 3/0 true
	refused "pdaemon: -L 3/0ms: DURATION must be more than 0" pdaemon -r -L 3/0ms true
}

@test "adversarial: sizes take K, M and G, and refuse overflow on one line" {
	local q v
	q=$(pkit_name q)
	for v in 5T 1KB 1KK K 1.5K -1K " 1K" 1Ki; do
		refused "bad size '$v': not a number of bytes" pqueue-create -s "$v" "$q"
	done
	for v in 5G 4097M 99999999999999999G 99999999999999999999; do
		refused "bad size '$v': too large (64..4294967296)" pqueue-create -s "$v" "$q"
	done
	refused "bad size '0K': too small" pqueue-create -s 0K "$q"
	assert_file_not_exists "$PKIT_DIR/queues/$q"
}
