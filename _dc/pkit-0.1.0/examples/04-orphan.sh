#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 4, 孤儿进程 (orphan): a child whose parent exits is adopted - by
# init, or by the nearest "subreaper" ancestor - and runs on.  The child
# reports its parent before and after; the script waits for the orphan
# with pjoin, which needs no parent-child relation.
. "$(dirname "$0")/demo.sh"
heading "4. orphan: a child whose parent exits is adopted"

child='ppid() { ps -o ppid= -p $$ | tr -d " "; }
first=$(ppid)
echo "orphan: my parent is $first"
: > "$2"
i=0
while [ "$(ppid)" = "$first" ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
echo "orphan: my parent exited; my new parent is $(ppid)"
sleep "$1"
echo "orphan: done"'
flag=$(mktemp -u)
trap 'rm -f "$flag"' EXIT

# The parent starts the child, waits until it has said who its parent
# is, prints its pid and exits.
orphan=$(sh -c 'sh -c "$1" sh "$2" "$3" >&2 & c=$!
	while [ ! -e "$3" ]; do sleep 0.01; done; echo $c' sh "$child" \
	"$(awk -v f="${PKIT_DEMO_DELAY:-1}" 'BEGIN { print f }')" "$flag")
echo "script: the parent has exited; waiting for orphan $orphan"
pjoin "$orphan"
echo "script: the orphan finished"
