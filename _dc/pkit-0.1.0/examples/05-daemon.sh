#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 5, 守护进程 (daemon), first half: p.daemon = True.  A daemonic
# child ends when the script that started it ends - here even though the
# script is killed with SIGKILL, where Python's flag does nothing.
# (pdaemon, for a real background service, is the second half.)
. "$(dirname "$0")/demo.sh"
heading "5. daemon: pspawn -D ends with the script that started it"

# The worker would take 30 s; it passes SIGTERM on to its sleep.
worker='trap "kill \$s; echo worker: terminated >&2; exit 143" TERM
echo "worker: start" >&2
sleep 30 & s=$!
wait $s
echo "worker: finished (never printed)" >&2'

echo "-- the script exits"
w=$(sh -c 'pspawn -D sh -c "$1"; echo "script: exiting" >&2' sh "$worker")
pjoin -v "$w" || true

echo "-- the script is killed with SIGKILL"
w=$(sh -c 'pspawn -D sh -c "$1"; kill -KILL $$' sh "$worker")
pjoin -v "$w" || true
echo "no worker left: $(ps -o pid= -p "$w" | wc -l) process"
