#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 10, 进程通信 (IPC): two processes talk through a queue.
#
# A writer process puts a message that carries its own pid; a reader
# process, which shares nothing with it but the queue's name, gets it and
# prints it.  The reader, started first, waits until the message is there.
#   Python: q = Queue(); Process(target=write, args=(q,)).start();
#           Process(target=read, args=(q,)).start(); join both
#   pkit:   pqueue-create q; r=$(pspawn sh -c 'pqueue-get q');
#           w=$(pspawn sh -c 'pqueue-put q "..."'); pjoin "$w" "$r"
set -eu
. "$(dirname "$0")/demo.sh"

heading "10. IPC: two processes talk through a queue"
q=lesson10.$$
pqueue-create "$q"
trap 'pqueue-rm "$q"' EXIT

reader=$(pspawn sh -c 'echo "reader $$ got: $(pqueue-get "$1")"' sh "$q")
nap 0.5
writer=$(pspawn sh -c \
	'echo "writer $$ sends its greeting"; pqueue-put "$1" "hello from pid $$"' \
	sh "$q")
pjoin "$writer" "$reader"
echo "the writer was pid $writer, the reader pid $reader"
