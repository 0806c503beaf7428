#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 5, 守护进程 (daemon), the service half.  A Unix daemon - a
# background service - outlives the script that started it: pdaemon
# detaches it, keeps a locked pidfile, and stops it with pdaemon -k.
# (Python's p.daemon = True, a child that ends with its parent, is the
# other half: pspawn -D.)  With no argument this tells the whole story;
# start, status and stop play one part each.  State: $SERVICE_DIR.
. "$(dirname "$0")/demo.sh"

dir=${SERVICE_DIR:-${TMPDIR:-/tmp}/pkit-lesson05-$(id -u)}
mkdir -p "$dir"
pidfile=$dir/clock.pid
log=$dir/clock.log

start() {
	# A fresh start gets a fresh log: what the story shows is this run's.
	pdaemon -s "$pidfile" >/dev/null 2>&1 || : > "$log"
	pid=$(pdaemon -p "$pidfile" -o "$log" \
	    sh -c 'while :; do date "+tick %T"; sleep 1; done') || exit
	echo "started the clock service, pid $pid; this script ($$) ends now"
}

status() {
	if pid=$(pdaemon -s "$pidfile"); then
		echo "the clock service runs, pid $pid"
	else
		echo "the clock service is not running"
		return 1
	fi
}

stop() {
	pdaemon -k "$pidfile" && echo "stopped the clock service"
}

case ${1:-} in
start | status | stop)
	"$1"
	;;
"")
	heading "Lesson 5: a service outlives the script that started it"
	sh "$0" start || exit	# a script of its own, gone at once
	nap 2
	until [ -s "$log" ]; do sleep 0.1; done	# its first tick
	status
	tail -n 2 "$log"
	stop
	status || true
	;;
*)
	echo "usage: $0 [start | status | stop]" >&2
	exit 2
	;;
esac
