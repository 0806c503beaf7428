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
here=$(cd "$(dirname "$0")" && pwd)
. "$here/demo.sh"
me="$here/11-producer-consumer.sh"

# The roles, when the lesson runs itself: cook NAME Q, eat NAME Q, and
# eat-until-stop NAME Q.
case ${1:-} in
cook)
	for i in 1 2 3 4 5 6 7 8 9 10; do
		nap 0.1
		pqueue-put "$3" "$2's dish $i"
		echo "cook $2 made dish $i"
	done
	exit 0 ;;
eat)
	# pqueue-get exits 1 once the queue is closed and empty.
	while dish=$(pqueue-get "$3"); do
		echo "eater $2 ate $dish"
		nap 0.2
	done
	echo "eater $2: the kitchen is closed, going home"
	exit 0 ;;
eat-until-stop)
	while dish=$(pqueue-get "$3") && [ "$dish" != STOP ]; do
		echo "(sentinel way) eater $2 ate $dish"
	done
	echo "(sentinel way) eater $2 got STOP"
	exit 0 ;;
esac

heading "11. producers and consumers"
q=lesson11.$$
pqueue-create -m 5 "$q"
trap 'pqueue-rm "$q"' EXIT

a=$(pspawn sh "$me" eat A "$q")
b=$(pspawn sh "$me" eat B "$q")
c1=$(pspawn sh "$me" cook alice "$q")
c2=$(pspawn sh "$me" cook bob "$q")
pjoin "$c1" "$c2"
echo "the cooks are done: closing the counter"
pqueue-close "$q"
pjoin "$a" "$b"

# The sentinel way, for comparison: a "stop" message per eater.
pqueue-rm "$q"
pqueue-create -m 5 "$q"
a=$(pspawn sh "$me" eat-until-stop A "$q")
b=$(pspawn sh "$me" eat-until-stop B "$q")
pqueue-put "$q" soup bread STOP STOP
pjoin "$a" "$b"
