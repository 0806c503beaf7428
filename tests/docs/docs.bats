#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The man pages and the tools agree: every page's SYNOPSIS is the tool's
# usage word for word, every tool answers -h, --help and --version, and
# every page is lint-clean.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

# The tools that have a page in man/ (section 1).
tools() {
	local p
	for p in "$top_srcdir"/man/*.1; do
		[ -e "$p" ] || continue
		p=${p##*/}
		printf '%s\n' "${p%.1}"
	done
}

# Normalised words: one line, single spaces, "ARG ..." spelt "ARG...".
squash() {
	tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//; s/ \.\.\./.../g'
}

synopsis_of() {
	MANWIDTH=200 mandoc -Tascii -O width=200 "$top_srcdir/man/$1.1" |
		col -b | awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
		squash
}

# The usage: what -h prints up to its first blank line.
usage_of() {
	"$1" -h | sed '/^$/q' | sed 's/^usage: //; s/^       //' | squash
}

# Option letters, one a line: of the SYNOPSIS, of the option lines of
# --help ("  -X ..."), of the page's .Fl macros.
synopsis_letters() {
	synopsis_of "$1" | grep -o -- '[[ |]-[A-Za-z0-9]' | cut -c3 | sort -u
}
help_letters() {
	"$1" --help | sed -n 's/^  -\([A-Za-z0-9]\)[ ,].*/\1/p' | sort -u
}

@test "docs: there are pages to check" {
	run tools
	assert_success
	# The tests below loop over these pages: with none, they would pass
	# having checked nothing.  Twelve tools have a page (pdaemon, pjoin,
	# plock, pspawn, the eight pqueue-*), and pkit.7 is there too.
	[ "${#lines[@]}" -ge 12 ] || fail "only ${#lines[@]} section-1 pages: ${lines[*]}"
	assert_file_exists "$top_srcdir/man/pkit.7"
}

@test "docs: every SYNOPSIS is the tool's usage, word for word" {
	local t s u
	for t in $(tools); do
		s=$(synopsis_of "$t")
		u=$(usage_of "$t")
		[ "$s" = "$u" ] || fail "$t: SYNOPSIS and -h differ:
  page:  $s
  usage: $u"
	done
}

@test "docs: every tool answers -h and --help on stdout with status 0" {
	local t
	for t in $(tools); do
		run --separate-stderr "$t" -h
		assert_success
		assert_output --partial "usage: $t"
		[ -z "$stderr" ] || fail "$t -h wrote to stderr"
		run --separate-stderr "$t" --help
		assert_success
		assert_output --partial "usage: $t"
	done
}

@test "docs: --help lists every option of the SYNOPSIS, one line each, and the page" {
	local t l x n
	for t in $(tools); do
		run --separate-stderr "$t" --help
		assert_success
		for l in $(synopsis_letters "$t") h; do
			n=0
			for x in "${lines[@]}"; do
				[[ $x == "  -$l "* || $x == "  -$l,"* ]] && n=$((n + 1))
			done
			[ "$n" -eq 1 ] ||
				fail "$t --help: not one line for -$l:
$output"
		done
		assert_line "  --version      print the version and exit"
		assert_equal "${lines[-1]}" "see $t(1)"
		assert_equal "$("$t" -h)" "$output"
	done
}

@test "docs: --help lists no option that is not in the SYNOPSIS" {
	local t l s
	for t in $(tools); do
		s=" $(synopsis_letters "$t" | tr '\n' ' ')"
		for l in $(help_letters "$t"); do
			[ "$l" = h ] && continue
			[[ "$s" == *" $l "* ]] ||
				fail "$t --help: -$l is not in the SYNOPSIS"
		done
	done
}

@test "docs: --version and --help that cannot be written fail with 125 and a line" {
	local t
	for t in $(tools); do
		run --separate-stderr sh -c '"$1" --version > /dev/full' _ "$t"
		[ "$status" = 125 ] || fail "$t --version > /dev/full: exit $status"
		[[ "$stderr" == "$t: stdout: No space left on device" ]] ||
			fail "$t --version > /dev/full: stderr: $stderr"
		run --separate-stderr sh -c '"$1" --help >&-' _ "$t"
		[ "$status" = 125 ] || fail "$t --help >&-: exit $status"
		[[ "$stderr" == "$t: stdout: Bad file descriptor" ]] ||
			fail "$t --help >&-: stderr: $stderr"
	done
}

@test "docs: a usage error prints the synopsis alone, not the option lines" {
	local t
	for t in $(tools); do
		run --separate-stderr "$t" -Z
		[[ "$stderr" != *"see $t(1)"* ]] || fail "$t -Z printed the whole help"
		[[ "$stderr" != *"  -h, --help"* ]] || fail "$t -Z printed the option lines"
	done
}

@test "docs: every page documents -h, --help and --version" {
	local t f
	for t in $(tools); do
		f="$top_srcdir/man/$t.1"
		grep -q '^\.Fl h$\|^\.It Fl h , Fl \\-help$' "$f" || fail "$t.1: no -h"
		grep -q '^\.Fl \\-help$\|^\.It Fl h , Fl \\-help$' "$f" || fail "$t.1: no --help"
		grep -q '^\.Fl \\-version$\|^\.It Fl \\-version$' "$f" || fail "$t.1: no --version"
	done
}

# A reader looks an option up in the list, not in the prose: every
# letter of the SYNOPSIS, and -h, --help and --version, has an item of
# its own (".It Fl X ..."), also in a page whose other forms (pdaemon -k)
# are told in paragraphs of their own.
@test "docs: every option of the SYNOPSIS has its own item in the option list" {
	local t f l bad=""
	for t in $(tools); do
		f="$top_srcdir/man/$t.1"
		for l in $(synopsis_letters "$t"); do
			grep -q "^\.It Fl $l\( \|\$\)" "$f" || bad+="$t.1: -$l
"
		done
		grep -q '^\.It Fl h , Fl \\-help$' "$f" || bad+="$t.1: -h, --help
"
		grep -q '^\.It Fl \\-version$' "$f" || bad+="$t.1: --version
"
	done
	[ -z "$bad" ] || fail "options told only in prose, with no .It of their own:
$bad"
}

@test "docs: every tool answers --version" {
	local t
	for t in $(tools); do
		run --separate-stderr "$t" --version
		assert_success
		assert_output --regexp "^$t \(pkit\) [0-9]+\.[0-9]+"
	done
}

@test "docs: every tool refuses an unknown option with usage and 125" {
	local t
	for t in $(tools); do
		run --separate-stderr "$t" -Z
		assert_failure 125
		[ -z "$output" ] || fail "$t -Z wrote to stdout"
		[[ "$stderr" == *"usage: $t"* ]] || fail "$t -Z: no usage on stderr"
	done
}

@test "docs: every page is mandoc -Tlint -Wwarning clean" {
	run mandoc -Tlint -Wwarning "$top_srcdir"/man/*.[1-8]
	assert_success
	assert_output ""
}

@test "docs: every page links pkit(7) and every tool page is linked from it" {
	local t
	for t in $(tools); do
		grep -q '^\.Xr pkit 7' "$top_srcdir/man/$t.1" ||
			fail "$t.1: no .Xr pkit 7 in SEE ALSO"
		grep -q "^\.Xr $t 1" "$top_srcdir/man/pkit.7" ||
			fail "pkit.7 does not link $t(1)"
	done
}

# pages: every page in man/.
pages() {
	local p
	for p in "$top_srcdir"/man/*.[1-8]; do
		[ -e "$p" ] && printf '%s\n' "$p"
	done
}

@test "docs: every page renders the same words under groff, man -l and mandoc" {
	local p f d=0
	for p in $(pages); do
		"$top_srcdir/tests/docs/words.sh" mandoc "$p" > "$BATS_TEST_TMPDIR/mandoc"
		[ -s "$BATS_TEST_TMPDIR/mandoc" ] || fail "${p##*/}: mandoc rendered nothing"
		for f in groff man; do
			"$top_srcdir/tests/docs/words.sh" "$f" "$p" 2>/dev/null > "$BATS_TEST_TMPDIR/$f"
			diff -u "$BATS_TEST_TMPDIR/mandoc" "$BATS_TEST_TMPDIR/$f" >&2 || {
				echo "^ ${p##*/}: mandoc and $f differ" >&2
				d=1
			}
		done
	done
	[ "$d" -eq 0 ]
}

@test "docs: every page is groff -ww clean" {
	local p
	for p in $(pages); do
		run groff -mandoc -Tutf8 -ww -z "$p"
		assert_success
		[ -z "$output" ] || fail "${p##*/}: $output"
	done
}

# A quote opened inside another, or closed twice, is what groff and mandoc
# both make of '.Pq Ql a , Ql b': the words agree, the quotes are wrong.
@test "docs: no rendered quote is nested or closed twice" {
	local p bad
	for p in $(pages); do
		bad=$("$top_srcdir/tests/docs/words.sh" mandoc "$p" | perl -CSD -ne '
			chomp; $ctx = substr("$ctx $_", -70);
			for $c (split //) {
				if ($c eq "\x{2018}") { print "$ctx\n" if $open; $open = 1 }
				elsif ($c eq "\x{2019}" && !$open && !/\w\x{2019}\w/) { print "$ctx\n" }
				elsif ($c eq "\x{2019}") { $open = 0 }
			}')
		[ -z "$bad" ] || fail "${p##*/}: quotes nested or unbalanced near:
$bad"
	done
}

# '.It No zombies' renders "zombies": No (and Ns) at the head of a
# line's arguments is a macro, eaten, not the word.  Written \&No it stays.
@test "docs: no item or heading starts with a word mdoc eats as a macro" {
	local bad
	bad=$(grep -n '^\.\(It\|Ss\|Sh\) \(No\|Ns\) [a-z]' "$top_srcdir"/man/*.[1-8] || :)
	[ -z "$bad" ] || fail "a first word taken for a macro (write it \\&No):
$bad"
}

# '.Fl t , default 10 s' makes flags of the prose: "-t, -default -10 -s".
@test "docs: no .Fl turns the words after it into flags" {
	local bad
	bad=$(awk '
		/^\.[A-Z]/ && / Fl / || /^\.Fl / {
			n = split($0, w, " "); fl = 0; punct = 0
			for (i = 1; i <= n; i++) {
				if (w[i] == "Fl" || w[i] == ".Fl") { fl = 1; punct = 0; continue }
				if (!fl) continue
				if (w[i] ~ /^[A-Z][a-z][a-z]?$/) { fl = 0; continue }
				if (w[i] ~ /^[.,;:?!()]$/) { punct = 1; continue }
				if (w[i] == "|") continue
				if (punct) { print FILENAME ":" FNR ": " $0; break }
			}
		}' "$top_srcdir"/man/*.[1-8])
	[ -z "$bad" ] || fail "words after .Fl and a comma render as flags:
$bad"
}

# '.Ql [ -z "$X" ] && cmd' renders "[‘-z "$X"] && cmd’": a bare [ ] ( ) . , ;
# : ? or ! in a quoted command is punctuation to mdoc, moved out of the
# quotes or stuck to the word before it, in both formatters alike.
# Written \&[ it stays as typed.  (Trailing punctuation is meant as such,
# and under .Sm off the spacing is the author's.)
@test "docs: no bracket or dot in a quoted command is taken for punctuation" {
	local bad
	bad=$(awk '
		/^\.Sm off/ { off = 1 } /^\.Sm on/ { off = 0 }
		off || !/^\./ { next }
		{
			n = split($0, w, " "); lit = 0
			for (i = 1; i <= n; i++) {
				t = w[i]; sub(/^\./, "", t)
				if (t ~ /^(Ql|Li|Ic|Dl|D1|Cm)$/) { lit = 1; continue }
				if (t ~ /^[A-Z][a-z][a-z]?$/) { lit = 0; continue }
				if (!lit || w[i] !~ /^[][().,;:?!]+$/) continue
				for (j = i + 1; j <= n; j++)
					if (w[j] !~ /^[][().,;:?!|]+$/) break
				if (j <= n && w[j] !~ /^[A-Z][a-z][a-z]?$/) {
					print FILENAME ":" FNR ": " $0; break
				}
			}
		}' "$top_srcdir"/man/*.[1-8])
	[ -z "$bad" ] || fail "punctuation inside a quoted command (write it \\&[):
$bad"
}

# lesson_rows PAGE: for each row of PAGE's Python -> pkit table that names
# a lesson NN, a line "NN<tab>the pkit column, mdoc macros dropped".
lesson_rows() {
	grep '^\.It .* Ta .* Ta [0-9][0-9]$' "$1" | while IFS= read -r row; do
		local cmd=${row#* Ta }
		cmd=${cmd% Ta *}
		printf '%s\t%s\n' "${row##* Ta }" \
		    "$(sed -E 's/(^| )(Li|Ev|No|Po|Pc|Oo|Oc)( |$)/ /g; s/  +/ /g; s/^ //' <<< "$cmd")"
	done
}

# lesson_runs NN WORD...: lesson NN (examples/NN-*.sh) has a line running
# the pkit tool among WORDs with each of the options that follow it (up
# to the first word that is not one); without a tool, a line with WORD.
lesson_runs() {
	local nn=$1 tool='' x line ok f
	local -a flags=() files
	shift
	files=("$top_srcdir"/examples/"$nn"-*.sh)
	[ -e "${files[0]}" ] || return 1
	for x in "$@"; do
		if [ -z "$tool" ]; then
			case $x in pspawn|pjoin|pdaemon|plock|pqueue-*) tool=$x ;; esac
		elif [[ $x == -* ]]; then
			flags+=("$x")
		else
			break
		fi
	done
	[ -n "$tool" ] || { grep -qF -- "$1" "${files[@]}"; return; }
	while IFS= read -r line; do
		ok=1
		for f in "${flags[@]}"; do
			[[ " $line " == *" $f "* ]] || ok=0
		done
		[ "$ok" = 1 ] && return 0
	done < <(grep -hE "(^|[^a-z-])$tool( |$)" "${files[@]}")
	return 1
}

@test "docs: a lesson named in pkit(7)'s table runs that row's command" {
	local nn cmd bad=
	local -a w
	# Ten rows named a lesson that never ran their command (27e19de).
	while IFS=$'\t' read -r nn cmd; do
		read -ra w <<< "$cmd"
		lesson_runs "$nn" "${w[@]}" || bad+="lesson $nn: $cmd"$'\n'
	done < <(lesson_rows "$top_srcdir/man/pkit.7")
	[ -z "$bad" ] || fail "rows whose lesson does not run them:"$'\n'"$bad"
}
