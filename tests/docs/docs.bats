#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The man pages and the tools agree: every page's SYNOPSIS is the tool's
# usage word for word, every tool answers -h, --help and --version, and
# every page is lint-clean.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper

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

usage_of() {
	"$1" -h | sed 's/^usage: //; s/^       //' | squash
}

@test "docs: there are pages to check" {
	run tools
	assert_success
	# pkit.7 always; section 1 pages appear as tools land.
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
