#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 7, 互斥锁 (mutex): the ticket rush.
#
# Eight buyers race for two tickets in tickets.json.  Each one reads how
# many are left, takes a moment (asking the server), and writes back one
# less.  Without a lock they all read "2" and the show is oversold.  Run
# under `plock tickets` (Python's `with lock:`), exactly two buy and six
# are told it is sold out, every time.
#   Python: lock = Lock(); Process(target=buy, args=(lock,)).start(); join
#   pkit:   p=$(pspawn plock tickets buy); pjoin "$p"
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/demo.sh"

# The buyer, when the lesson runs itself: 07-mutex.sh buy DB N
if [ "${1:-}" = buy ]; then
	left=$(sed 's/[^0-9]//g' "$2")
	nap 0.5
	if [ "$left" -gt 0 ]; then
		printf '{"tickets": %d}\n' $((left - 1)) > "$2"
		echo "buyer $3: got a ticket"
		exit 0
	fi
	echo "buyer $3: sold out"
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/tickets.json

# rush [WRAPPER...]: two tickets, eight buyers started at once, each run
# under WRAPPER; join them all and count by their exit status.
rush() {
	printf '{"tickets": 2}\n' > "$db"
	pids=
	for i in 1 2 3 4 5 6 7 8; do
		pids="$pids $(pspawn "$@" sh "$here/07-mutex.sh" buy "$db" "$i")"
	done
	sold=0 failed=0
	for p in $pids; do
		if pjoin "$p"; then
			sold=$((sold + 1))
		else
			failed=$((failed + 1))
		fi
	done
	echo "sold: $sold, sold out: $failed, left: $(sed 's/[^0-9]//g' "$db")"
}

heading "Lesson 7: a mutex - eight buyers, two tickets"
echo "without a lock:"
rush
echo "with plock tickets:"
rush plock tickets
