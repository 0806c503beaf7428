#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 13, a crash-safe parallel map: a pool of 4 over 40 tasks, killed
# mid-run with SIGKILL, then started again.
#
# pqueue-get -j 4 runs up to 4 tasks at once, {} replaced by the message.
# The queue knows what was done: the second pool runs only the rest.
# Tasks done before the kill are not run again; tasks in flight at the
# kill are (at-least-once), so a task must be safe to run twice.
#   Python: with Pool(4) as p: p.map(work, range(1, 41))  (killed: all lost)
#   pkit:   seq 40 | pqueue-put q; pqueue-close q; pqueue-get -j 4 -f q work {}
set -eu
. "$(dirname "$0")/demo.sh"

heading "Lesson 13: a pool that survives SIGKILL"
q=lesson13.$$
pqueue-create "$q"
dir=$(mktemp -d)
trap 'pqueue-rm "$q"; rm -rf "$dir"' EXIT
work=$(awk -v f="${PKIT_DEMO_DELAY:-1}" 'BEGIN { print 0.05 * f + 0.01 }')

seq 40 | pqueue-put "$q"
pqueue-close "$q"
echo "40 tasks queued"

# The task: a little work, then a mark that it was done.
pool() {
	pqueue-get -j 4 -f "$q" sh -c 'sleep "$2"; echo "$1" >> "$0/done"' \
		"$dir" '{}' "$work"
}
pool & p=$!
# Kill it with SIGKILL once some tasks are done: nothing can clean up.
until [ "$(cat "$dir/done" 2>/dev/null | wc -l)" -ge 10 ]; do
	sleep 0.02
done
kill -KILL "$p"
wait "$p" 2>/dev/null || echo "pool killed (status $?) with $(wc -l < "$dir/done") tasks done"
echo "left: $(pqueue-stat -k "$q" | sed -n 's/^unfinished=//p') tasks unfinished"

# Started again, it finishes the rest and ends once the queue is drained.
pool
echo "pool done: $(sort -un "$dir/done" | wc -l) of 40 tasks done," \
	"$(($(wc -l < "$dir/done") - $(sort -un "$dir/done" | wc -l))) run twice"
