#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 2, join: p.join() waits for the child.  Without pjoin the script
# runs on and its last line comes before the child's "done" (its "start"
# may come before or after); with pjoin the child's two lines come first.
# The child's work takes at least 0.3 s, so that the order shows even with
# PKIT_DEMO_DELAY=0.
. "$(dirname "$0")/demo.sh"
heading "2. join: pjoin waits for the child"

work=$(awk -v f="${PKIT_DEMO_DELAY:-1}" 'BEGIN { t = 2 * f; print (t < 0.3 ? 0.3 : t) }')
child='echo "child $PKIT_INDEX: start"; sleep "$1"; echo "child $PKIT_INDEX: done"'

echo "-- without pjoin"
p=$(pspawn -n 1 sh -c "$child" sh "$work")
echo "script: end (without join)"
pjoin "$p"	# (only so that the two runs do not mix)

echo "-- with pjoin"
p=$(pspawn -n 1 sh -c "$child" sh "$work")
pjoin "$p"
echo "script: end (with join)"
