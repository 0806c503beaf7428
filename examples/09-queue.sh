#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 9, 队列 (Queue): a named queue of at most 3 messages.
#
# Put three, and the queue is full: put_nowait fails at once, a put with a
# timeout gives up after it.  Get them back in the order they were put,
# and the queue is empty: get_nowait fails.  A LIFO queue gives them back
# newest first.
#   Python: q = Queue(maxsize=3); q.put(1); q.put_nowait(4);
#           q.put(4, timeout=3); q.get(); q.get_nowait(); q.empty(); q.full()
#           LifoQueue(maxsize=3)
#   pkit:   pqueue-create -m 3 q; pqueue-put q 1; pqueue-put -n q 4;
#           pqueue-put -t 3 q 4; pqueue-get q; pqueue-get -n q;
#           pqueue-stat -e q; pqueue-stat -F q;  pqueue-create -L -m 3 q
set -eu
. "$(dirname "$0")/demo.sh"

heading "9. queue: a bounded queue, FIFO and LIFO (Queue, LifoQueue)"
q=lesson9.$$
pqueue-create -m 3 "$q"
pqueue-create -L -m 3 "$q.lifo"
trap 'pqueue-rm "$q" "$q.lifo"' EXIT

for n in 1 2 3; do
	pqueue-put "$q" "$n"
	echo "put $n"
done
pqueue-stat -F "$q" && echo "full? yes"

# put_nowait on a full queue: exit 124 at once.
pqueue-put -n "$q" 4 || echo "put_nowait 4: the queue is full (exit $?)"

# put with a timeout: wait up to 3 seconds for room, then give up.
st=0
t0=$(date +%s.%N)
pqueue-put -t 3 "$q" 4 || st=$?
t1=$(date +%s.%N)
echo "put 4 with timeout=3: gave up after $(awk -v a="$t0" -v b="$t1" \
	'BEGIN { printf "%.1f", b - a }')s (exit $st)"

for _ in 1 2 3; do
	echo "get: $(pqueue-get "$q")"
done
pqueue-stat -e "$q" && echo "empty? yes"
pqueue-get -n "$q" || echo "get_nowait: the queue is empty (exit $?)"

# LifoQueue: the last one in is the first one out.
pqueue-put "$q.lifo" 1 2 3
echo "LIFO gets: $(pqueue-get -c 3 "$q.lifo" | tr '\n' ' ')"
