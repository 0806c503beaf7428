#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 3, 僵尸进程 (zombie): a child that has exited stays in the process
# table as a zombie (state Z) until its parent waits for it.  Here the
# parent starts a child and then execs a program (sleep) that never
# waits; the child exits once its parent has become that sleep, and so
# becomes a zombie.  The same child started with pspawn
# is waited for by pspawn's keeper: no zombie.
. "$(dirname "$0")/demo.sh"
heading "3. zombie: a parent that never waits leaves a Z process"

# zombies PID: how many zombie children PID has (and show them).
zombies() {
	ps -o pid=,stat=,comm= --ppid "$1" | awk '$2 ~ /^Z/ { n++; print "   ", $0 } END { print "zombies under", p ":", n + 0 }' p="$1"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "-- a parent that never waits"
sh -c 'sh -c "until grep -qx sleep /proc/\$PPID/comm; do sleep 0.01; done" &
	exec sleep 30' &
parent=$!
# Give the child up to 2 s to exit (and become a zombie).
i=0
while [ $i -lt 100 ] && ! ps -o stat= --ppid "$parent" | grep -q '^Z'; do
	sleep 0.02
	i=$((i + 1))
done
zombies "$parent"
kill "$parent"; wait "$parent" 2>/dev/null || true

echo "-- the same child under pspawn"
sh -c 'pspawn true > "$1"; exec sleep 30' sh "$tmp/pspawned" &
parent=$!
while [ ! -s "$tmp/pspawned" ]; do sleep 0.02; done
pjoin "$(cat "$tmp/pspawned")"	# it has ended, and was reaped
zombies "$parent"
kill "$parent"; wait "$parent" 2>/dev/null || true
