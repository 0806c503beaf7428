#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# make install DESTDIR=... lays out tools, pages, lessons, bats helpers and
# completion; make uninstall takes all of it away again.
# shellcheck disable=SC2154 # top_builddir and the like come from helper.bash

load ../helper

@test "install: a staged install has everything, uninstall removes it" {
	local d="$BATS_TEST_TMPDIR/stage" prefix
	prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
	run make -C "$top_builddir" install DESTDIR="$d"
	assert_success
	assert_file_exists "$d$prefix/share/man/man7/pkit.7"
	assert_file_exists "$d$prefix/share/pkit/bats/pkit.bash"
	assert_file_exists "$d$prefix/share/doc/pkit/examples/demo.sh"
	assert_file_exists "$d$prefix/share/doc/pkit/README.md"
	cmp "$top_srcdir/LICENSE" "$d$prefix/share/doc/pkit/LICENSE"
	assert_file_exists "$d$prefix/share/bash-completion/completions/pkit.bash"
	assert_link_exists "$d$prefix/share/bash-completion/completions/plock"
	for t in "$top_builddir"/tools/*; do
		[ -x "$t" ] && [ -f "$t" ] || continue
		assert_file_executable "$d$prefix/bin/${t##*/}"
		assert_file_exists "$d$prefix/share/man/man1/${t##*/}.1"
	done
	MANPATH="$d$prefix/share/man" run man -w pkit
	assert_success
	run make -C "$top_builddir" uninstall DESTDIR="$d"
	assert_success
	run find "$d" -type f -o -type l
	assert_output ""
}

@test "install: every tool links glibc dynamically, so NSS resolves host names" {
	local t n=0
	for t in "$top_builddir"/tools/*; do
		[ -x "$t" ] && [ -f "$t" ] || continue
		n=$((n + 1))
		# A program interpreter (ld.so) is what a static binary lacks.
		run readelf -l "$t"
		assert_success
		[[ "$output" == *"program interpreter"* ]] || fail "$t: statically linked"
	done
	[ "$n" -ge 12 ] || fail "only $n tools built"
}
