#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 12, JoinableQueue: task_done, join, and consumers that stop.
#
# Two producers put 10 tasks each.  Two consumers are workers: each runs
# a command once per task, the task on its stdin, and marks it done
# (task_done) when the command exits 0.  The script waits until every
# task is done (join), then closes the queue, and the workers go home by
# themselves: the script returns only after all 20 tasks are done, and
# leaves no consumer running.  A worker killed mid-task loses nothing:
# the task goes back to the queue and join still waits for it.
#   Python: q = JoinableQueue(); consumers loop { t = q.get(); work(t);
#           q.task_done() } as daemon processes; producers put; q.join()
#   pkit:   pqueue-get -f q CMD (done when CMD exits 0); pqueue-put q t;
#           pqueue-join q; pqueue-close q
set -eu
. "$(dirname "$0")/demo.sh"

heading "Lesson 12: JoinableQueue (task_done, join)"
q=lesson12.$$
pqueue-create "$q"
trap 'pqueue-rm "$q"' EXIT
work=$(awk -v f="${PKIT_DEMO_DELAY:-1}" 'BEGIN { print 0.2 * f }')

# A worker: CMD runs once per task; pqueue-get marks it done on exit 0.
pqueue-get -f "$q" sh -c 'read -r t; sleep "$0"; echo "consumer $1 did $t"' \
	"$work" A & w1=$!
pqueue-get -f "$q" sh -c 'read -r t; sleep "$0"; echo "consumer $1 did $t"' \
	"$work" B & w2=$!
echo "consumers: $w1 $w2"

produce() {
	for i in 1 2 3 4 5 6 7 8 9 10; do
		pqueue-put "$q" "task $1.$i"
		nap 0.05
	done
}
produce 1 & p1=$!
produce 2 & p2=$!
wait "$p1" "$p2"
echo "producers done: $(pqueue-stat -k "$q" | sed -n 's/^unfinished=//p') tasks unfinished"

pqueue-join "$q"
echo "join returned: all 20 tasks done"
pqueue-close "$q"
wait "$w1" "$w2"
echo "consumers gone"
