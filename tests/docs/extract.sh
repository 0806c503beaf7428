#!/bin/sh
# SPDX-License-Identifier: ISC
# extract.sh FILE OUTDIR: write each runnable shell example of FILE to
# OUTDIR/N.sh (N = 1, 2, ...), what it prints to OUTDIR/N.out when FILE
# says, and print how many examples there are.
#   FILE.[1-8]: every .Bd -literal block of the EXAMPLES section, with the
#               mdoc escapes \e, \& and \(aq undone.  A text line ending
#               in "prints:" right after the block's .Ed introduces the
#               next .Bd -literal block as its output.
#   *.md:       every ```sh block after the "## A tour" heading.  A line
#               ending in "prints:" after it (blank lines aside) introduces
#               the next ``` block as its output.  In the tour itself (up
#               to the next "## " heading) any other fenced block is an
#               error, as a display is in EXAMPLES.
# An example without an output block must print nothing; tests/examples.bats
# runs each and compares, see there for the "..." wildcard.  In EXAMPLES,
# any other display (.Dl, .D1, .Bd -unfilled ...) is an error: it would
# be shown to the reader and never run.
set -eu
file=$1 out=$2
mkdir -p "$out"
case $file in
*.md)
	awk -v out="$out" '
		/^## / && !on { intour = 0 }
		/^## A tour/ { tour = 1; intour = 1 }
		!tour { next }
		/^```sh$/ && !on { n++; f = out "/" n ".sh"; on = 1; after = 0; next }
		/^```/ && !on && after == 2 { f = out "/" n ".out"; on = 2; printf "" > f; next }
		/^```/ && !on && intour {
			printf "%s:%d: not run: a tour example is a ```sh block\n", FILENAME, FNR > "/dev/stderr"
			bad = 1; exit 1
		}
		/^```$/ && on { close(f); after = (on == 1); on = 0; next }
		on { print > f; next }
		after == 1 && /prints:$/ { after = 2; next }
		after && !/^$/ { after = 0 }
		END { if (!bad) print n + 0 }' "$file"
	;;
*)
	awk -v out="$out" '
		/^\.Sh / { ex = ($2 == "EXAMPLES") }
		!ex { next }
		/^\.(Dl|D1)( |$)/ || /^\.Bd / && !/^\.Bd -literal/ {
			printf "%s:%d: not run: an example is a .Bd -literal block\n", FILENAME, FNR > "/dev/stderr"
			bad = 1; exit 1
		}
		/^\.Bd -literal/ {
			if (after == 2) { f = out "/" n ".out"; on = 2; printf "" > f; next }
			n++; f = out "/" n ".sh"; on = 1; next
		}
		on && /^\.Ed/ { close(f); after = (on == 1); on = 0; next }
		on {
			gsub(/\\e/, "\\"); gsub(/\\&/, ""); gsub(/\\\(aq/, "'"'"'")
			print > f
			next
		}
		after == 1 && /^\.Pp$/ { next }
		after == 1 && /prints:$/ { after = 2; next }
		{ after = 0 }
		END { if (!bad) print n + 0 }' "$file"
	;;
esac
