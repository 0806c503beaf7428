#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 10, 进程通信 (IPC): two processes talk through a queue.
#
# A writer process puts a message that carries its own pid; a reader
# process, which shares nothing with it but the queue's name, gets it and
# prints it.  The reader waits until the message is there.
#   Python: q = Queue(); Process(target=write, args=(q,)).start();
#           Process(target=read, args=(q,)).start()
#   pkit:   pqueue-create q; (pqueue-put q "...") &; (pqueue-get q) &
set -eu
. "$(dirname "$0")/demo.sh"

heading "Lesson 10: two processes talk through a queue"
q=lesson10.$$
pqueue-create "$q"
trap 'pqueue-rm "$q"' EXIT

# The reader first: it blocks until something arrives.
sh -c 'echo "reader $$ got: $(pqueue-get "$1")"' sh "$q" &
reader=$!
nap 0.5
sh -c 'echo "writer $$ sends its greeting"; pqueue-put "$1" "hello from pid $$"' \
	sh "$q" &
writer=$!
wait "$writer" "$reader"
echo "the writer was pid $writer, the reader pid $reader"
