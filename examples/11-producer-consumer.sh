#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 11, 生产者消费者 (producer/consumer): two cooks, two eaters.
#
# Two cooks each make 10 dishes and put them on a counter that holds 5;
# two eaters take dishes as they come.  When both cooks are done the
# script closes the queue: the eaters finish what is left and go home by
# themselves.  Every dish is eaten exactly once.  Python needs a sentinel
# per eater for that (put None, stop on None); the end shows it too.
#   Python: q = Queue(5); cooks put dishes; eaters loop on q.get() until
#           they get None; the main process puts one None per eater
#   pkit:   pqueue-create -m 5 q; pqueue-put q "$dish";
#           while dish=$(pqueue-get q); do ...; done; pqueue-close q
set -eu
. "$(dirname "$0")/demo.sh"

heading "Lesson 11: producers and consumers"
q=lesson11.$$
pqueue-create -m 5 "$q"
trap 'pqueue-rm "$q"' EXIT

cook() {
	for i in 1 2 3 4 5 6 7 8 9 10; do
		nap 0.1
		pqueue-put "$q" "$1's dish $i"
		echo "cook $1 made dish $i"
	done
}

# pqueue-get exits 1 once the queue is closed and empty: the loop ends.
eat() {
	while dish=$(pqueue-get "$q"); do
		echo "eater $1 ate $dish"
		nap 0.2
	done
	echo "eater $1: the kitchen is closed, going home"
}

eat A & a=$!
eat B & b=$!
cook alice & c1=$!
cook bob & c2=$!
wait "$c1" "$c2"
echo "the cooks are done: closing the counter"
pqueue-close "$q"
wait "$a" "$b"

# The sentinel way, for comparison: a "stop" message per eater.
pqueue-rm "$q"
pqueue-create -m 5 "$q"
eat_until_stop() {
	while dish=$(pqueue-get "$q") && [ "$dish" != STOP ]; do
		echo "(sentinel way) eater $1 ate $dish"
	done
	echo "(sentinel way) eater $1 got STOP"
}
eat_until_stop A & a=$!
eat_until_stop B & b=$!
pqueue-put "$q" soup bread STOP STOP
wait "$a" "$b"
