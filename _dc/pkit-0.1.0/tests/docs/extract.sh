#!/bin/sh
# SPDX-License-Identifier: ISC
# extract.sh FILE OUTDIR: write each runnable shell example of FILE to
# OUTDIR/N.sh (N = 1, 2, ...) and print how many.
#   FILE.[1-8]: every .Bd -literal block of the EXAMPLES section, with the
#               mdoc escapes \e, \& and \(aq undone.
#   *.md:       every ```sh block after the "## A tour" heading.
set -eu
file=$1 out=$2
mkdir -p "$out"
case $file in
*.md)
	awk -v out="$out" '
		/^## A tour/ { tour = 1 }
		tour && /^```sh$/ { n++; f = out "/" n ".sh"; on = 1; next }
		on && /^```$/ { on = 0; close(f); next }
		on { print > f }
		END { print n + 0 }' "$file"
	;;
*)
	awk -v out="$out" '
		/^\.Sh / { ex = ($2 == "EXAMPLES") }
		ex && /^\.Bd -literal/ { n++; f = out "/" n ".sh"; on = 1; next }
		on && /^\.Ed/ { on = 0; close(f); next }
		on {
			gsub(/\\e/, "\\"); gsub(/\\&/, ""); gsub(/\\\(aq/, "'"'"'")
			print > f
		}
		END { print n + 0 }' "$file"
	;;
esac
