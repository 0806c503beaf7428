#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Every example a user can paste runs and prints what its text says: the
# EXAMPLES of every man page and the tour in README.md, each block with
# bash -e in a scratch directory with its own runtime directory, bounded
# in time.  tests/docs/extract.sh finds each block and the output block
# that follows it ("prints:"); stdout and stderr together must be that,
# line for line, or nothing when there is none.  In an output block "..."
# stands for any text (a pid, a time): the order of lines never varies.
# A private redis-server (tests/redis.bash) serves the whole file, named
# by PKIT_REDIS_URL, for the examples on redis: names.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
load ../redis
bats_require_minimum_version 1.5.0

setup_file() {
	redis_start
}

teardown_file() {
	redis_stop
}

# matches EXPECTED ACTUAL: the files are equal line for line, "..." in
# EXPECTED matching any text; trailing empty lines do not count.
matches() {
	perl -e '
		sub lines { open(my $f, "<", $_[0]) or die; my @l = <$f>; chomp @l;
			pop @l while @l && $l[-1] eq ""; @l }
		my @e = lines($ARGV[0]); my @a = lines($ARGV[1]);
		exit 1 if @e != @a;
		for my $i (0 .. $#e) {
			my $re = join ".*", map { quotemeta } split /\.\.\./, $e[$i], -1;
			exit 1 unless $a[$i] =~ /^$re$/;
		}' "$1" "$2"
}

# run_examples FILE: run each extracted block; fail naming the first that
# does not exit 0 or prints something else than its text says.  Each
# block gets a directory and a runtime directory of its own, per page:
# one that used what another page's block left there (a file, a lock, a
# job for pjoin -l) would pass here and fail for the reader who pastes it
# alone.  What a block started with pspawn is ended at teardown.
run_examples() {
	local file=$1 dir n i want work p
	dir="$BATS_TEST_TMPDIR/${file##*/}"
	rm -rf "$dir"
	n=$("$top_srcdir/tests/docs/extract.sh" "$file" "$dir/ex") ||
		fail "${file##*/}: extract.sh refused it"
	[ "$n" -gt 0 ] || fail "${file##*/}: no examples found"
	for i in $(seq 1 "$n"); do
		work="$dir/work$i"
		mkdir -p "$work"
		run env PKIT_DIR="$work.pkit" bash -c "cd '$work' && timeout 30 bash -e '$dir/ex/$i.sh' 2>&1"
		for p in "$work.pkit"/jobs/*; do
			[ -e "$p" ] || continue
			p=${p##*/}
			pkit_track "${p%%[!0-9]*}"
		done
		[ "$status" -eq 0 ] || fail "${file##*/}: example $i exited $status:
$(cat "$dir/ex/$i.sh")
--- output:
$output"
		want="$dir/ex/$i.out"
		[ -e "$want" ] || : > "$want"
		printf '%s\n' "$output" > "$dir/ex/$i.got"
		matches "$want" "$dir/ex/$i.got" || fail "${file##*/}: example $i printed something else than its text says:
$(cat "$dir/ex/$i.sh")
--- expected:
$(cat "$want")
--- got:
$output"
	done
	echo "$n examples"
}

@test "examples: README's tour runs and prints what it says" {
	run_examples "$top_srcdir/README.md"
}

@test "examples: every man page's EXAMPLES run and print what they say" {
	local p
	for p in "$top_srcdir"/man/*.[1-8]; do
		run_examples "$p"
	done
}

@test "examples: the extractor pairs an example with its output block" {
	local d="$BATS_TEST_TMPDIR/x"
	cat > "$BATS_TEST_TMPDIR/t.1" <<'PAGE'
.Sh EXAMPLES
.Bd -literal
echo one
.Ed
prints:
.Bd -literal
one
.Ed
.Pp
Quiet:
.Bd -literal
true
.Ed
PAGE
	run "$top_srcdir/tests/docs/extract.sh" "$BATS_TEST_TMPDIR/t.1" "$d"
	assert_output 2
	assert_equal "$(cat "$d/1.sh")" "echo one"
	assert_equal "$(cat "$d/1.out")" "one"
	assert_equal "$(cat "$d/2.sh")" "true"
	assert_file_not_exists "$d/2.out"
	printf '%s\n' 'pid ... done' > "$d/want"
	printf '%s\n' 'pid 42 done' > "$d/got"
	matches "$d/want" "$d/got"
	printf '%s\n' 'pid 42 done' 'extra' > "$d/got"
	run matches "$d/want" "$d/got"
	assert_failure
	# A one-line display would be shown and never run: refused.
	printf '%s\n' '.Sh EXAMPLES' '.Dl echo one' > "$BATS_TEST_TMPDIR/t.1"
	run --separate-stderr "$top_srcdir/tests/docs/extract.sh" "$BATS_TEST_TMPDIR/t.1" "$d"
	assert_failure
	assert_output ""
	[[ $stderr == *"t.1:2: not run: an example is a .Bd -literal block" ]] || fail "stderr: $stderr"
	# So is a plain ``` block in the tour that no "prints:" introduces;
	# after the tour's section, one is shown as is.
	printf '%s\n' '## A tour' '```sh' 'echo one' '```' 'prints:' '```' 'one' '```' \
		'## Developers' '```' 'make lint' '```' > "$BATS_TEST_TMPDIR/t.md"
	run "$top_srcdir/tests/docs/extract.sh" "$BATS_TEST_TMPDIR/t.md" "$d.md"
	assert_output 1
	assert_equal "$(cat "$d.md/1.out")" "one"
	printf '%s\n' '## A tour' '```' 'echo one' '```' > "$BATS_TEST_TMPDIR/t.md"
	run --separate-stderr "$top_srcdir/tests/docs/extract.sh" "$BATS_TEST_TMPDIR/t.md" "$d.md"
	assert_failure
	assert_output ""
	[[ $stderr == *"t.md:2: not run: a tour example is a \`\`\`sh block" ]] || fail "stderr: $stderr"
}

# The sample of pqueue-stat -l in its page is what -l prints for that
# state, on both backends: message 1 given back once by a command that
# failed, message 2 held by a getter (its pid stands for the page's).
@test "examples: pqueue-stat(1)'s -l sample is what -l prints" {
	local page="$top_srcdir/man/pqueue-stat.1" q a b go="$BATS_TEST_TMPDIR/go"
	awk '/^\.It Fl l$/ { on = 1 } on && /^\.Bd -literal/ { b = 1; next }
		b && /^\.Ed/ { exit } b' "$page" |
		sed 's/\\e/\\/g; s/leased:[0-9]*/leased:.../' > "$BATS_TEST_TMPDIR/want"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/want")" -eq 2 ] || fail "no 2-line sample under -l"
	for q in "$(pkit_name stat)" "redis:stat-$PKIT_TEST_TAG-$RANDOM"; do
		rm -f "$go"
		pqueue-create "$q"
		pqueue-put "$q" 'hello world' "$(printf 'tab\there')"
		pqueue-get "$q" sh -c 'until [ -e "$1" ]; do sleep 0.05; done; exit 1' sh "$go" \
			2>/dev/null &
		a=$!
		pkit_track "$a"
		wait_until 10 sh -c 'pqueue-stat -l "$1" | grep -q "	leased:"' sh "$q"
		pqueue-get "$q" sleep 30 &
		b=$!
		pkit_track "$b"
		wait_until 10 sh -c '[ "$(pqueue-stat -l "$1" | grep -c "	leased:")" = 2 ]' sh "$q"
		touch "$go"
		wait "$a" || :
		pqueue-stat -l "$q" > "$BATS_TEST_TMPDIR/got"
		kill "$b"
		wait "$b" || :
		pqueue-rm "$q"
		matches "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got" ||
			fail "$q: pqueue-stat -l printed something else than its page's sample:
$(cat "$BATS_TEST_TMPDIR/want")
--- got:
$(cat "$BATS_TEST_TMPDIR/got")"
	done
}

# pkit(7)'s bats recipe, loading the pkit.bash that is installed: it
# passes with a worker that drains the queue, fails with one that does
# not, and its teardown ends that worker.
@test "examples: pkit(7)'s bats recipe passes, fails when it should, and cleans up" {
	local d="$BATS_TEST_TMPDIR/recipe" pid
	mkdir -p "$d"
	awk '/^\.Ss Testing scripts with bats/ { on = 1 }
		on && /^\.Bd -literal/ { b = 1; next } b && /^\.Ed/ { exit } b' \
		"$top_srcdir/man/pkit.7" > "$d/t.bats"
	grep -q '^load /usr/local/share/pkit/bats/pkit.bash$' "$d/t.bats" ||
		fail "pkit.7: the recipe does not load share/pkit/bats/pkit.bash"
	sed -i "s|^load .*|load '$top_srcdir/tests/pkit.bash'|" "$d/t.bats"
	printf '#!/bin/sh\npqueue-get -c 3 "$1" > /dev/null\n' > "$d/worker.sh"
	chmod +x "$d/worker.sh"
	run bash -c "cd '$d' && bats t.bats"
	assert_success
	assert_output --partial "ok 1 my worker drains the queue"
	printf '#!/bin/sh\necho $$ > worker.pid\nexec sleep 60\n' > "$d/worker.sh"
	run bash -c "cd '$d' && bats t.bats"
	assert_failure
	assert_output --partial "wait_until: timed out after 5s: pqueue-stat -e"
	pid=$(cat "$d/worker.pid")
	pkit_track "$pid"
	! _pkit_alive "$pid" || fail "the recipe's teardown left its worker $pid running"
}
