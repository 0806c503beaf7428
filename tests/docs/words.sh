#!/bin/sh
# SPDX-License-Identifier: ISC
# words.sh FORMATTER PAGE: render the mdoc PAGE with FORMATTER (groff,
# man or mandoc) for a UTF-8 terminal and print its words, one a line, so
# that two renderings can be compared with diff(1).  What legitimately
# differs between the formatters is normalised away, and nothing else:
#   - bold, underline and the spacing of lines (col -b, whitespace);
#   - the header and footer lines (groff says "BSD", mandoc the system);
#   - words hyphenated at the end of a line (groff hyphenates, mandoc not);
#   - the dash of the NAME line (groff an em dash, mandoc an en dash).
set -eu
fmt=$1 page=$2
LC_ALL=C.UTF-8
export LC_ALL
case $fmt in
groff)	groff -mandoc -Tutf8 -rLL=78n "$page" ;;
man)	MANWIDTH=78 MANPAGER=cat PAGER=cat man -l "$page" ;;
mandoc)	mandoc -Tutf8 -O width=78 "$page" ;;
*)	echo "words.sh: $fmt: unknown formatter" >&2; exit 2 ;;
esac | col -bx | perl -CSD -0777 -ne '
	s/\A\s*[^\n]*\n//;		# header
	s/\n[^\n]*\S[^\n]*\s*\z/\n/;	# footer
	s/\x{2010}\n\s*//g;		# hyphenated by the formatter
	s/(?<=\w)([-\x{2013}])\n\s*/$1/g;	# a break after a dash
	s/^(NAME\s+\S.*?) [\x{2013}\x{2014}] /$1 - /m;
	print join("\n", split(" ", $_)), "\n";'
