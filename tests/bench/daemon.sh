#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# daemon.sh: pdaemon beside what a user would use instead.
#  Start a service with a pidfile, then stop it and wait until it is gone,
#  N times (default 50): pdaemon -p / -k, pdaemon -r (a supervisor), and
#  start-stop-daemon --background --make-pidfile / --stop --retry, the
#  Debian tool (skipped where it is missing); then the status question,
#  N x pdaemon -s beside start-stop-daemon --status.  Each alternative
#  runs under a subreaper, so that the stopped services are reaped as
#  init would (this machine's pid 1 does not, and a zombie looks alive to
#  start-stop-daemon).  Target: pdaemon <= 1.0x start-stop-daemon.
#  Readiness: start a notify-speaking daemon (tests/daemon/notifier, which
#  sends READY=1 at once), wait until it is ready, stop it: pdaemon -w
#  beside start-stop-daemon --notify-await (dpkg 1.21 and later; where it
#  lacks the option, start-stop-daemon plus a poll for a readiness file,
#  and the output says so).  Target: pdaemon -w <= 0.5x.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${N:-$([ "${QUICK:-0}" = 1 ] && echo 20 || echo 50)}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_init >/dev/null
command -v pdaemon >/dev/null || { echo "daemon.sh: pdaemon not on PATH" >&2; exit 125; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/subreaper" "$here/../subreaper.c"
cc -O2 -o "$work/notifier" "$here/../daemon/notifier.c"
R="$work/subreaper"
NT="$work/notifier"
SSD=$(command -v start-stop-daemon || true)
ssd_ready=

alts=(
	"pdaemon" "$R bash -c 'for i in \$(seq $N); do pdaemon -p $work/a.pid sleep 1000 >/dev/null; pdaemon -k $work/a.pid; done'"
	"pdaemon -r" "$R bash -c 'for i in \$(seq $N); do pdaemon -r -p $work/b.pid sleep 1000 >/dev/null; pdaemon -k $work/b.pid; done'"
)
if [ -n "$SSD" ]; then
	alts+=("start-stop-daemon" "$R bash -c 'for i in \$(seq $N); do $SSD --start --quiet --background --make-pidfile --pidfile $work/c.pid --exec /bin/sleep -- 1000; $SSD --stop --quiet --retry 10 --pidfile $work/c.pid --remove-pidfile; done'")
fi
bench_case "daemon: start with a pidfile, stop, wait until gone" "cycles" "$N" "${alts[@]}"

# Readiness: the same daemon, which says READY=1 through NOTIFY_SOCKET.
alts=(
	"pdaemon -w" "$R bash -c 'for i in \$(seq $N); do pdaemon -w -t 30 -p $work/r.pid $NT >/dev/null; pdaemon -k $work/r.pid; done'"
)
if [ -n "$SSD" ] && "$SSD" --help 2>&1 | grep -q -- --notify-await; then
	ssd_ready="start-stop-daemon --notify-await"
	alts+=("$ssd_ready" "$R bash -c 'for i in \$(seq $N); do $SSD --start --quiet --background --notify-await --notify-timeout 30 --make-pidfile --pidfile $work/n.pid --exec $NT; $SSD --stop --quiet --retry 10 --pidfile $work/n.pid --remove-pidfile; done'")
elif [ -n "$SSD" ]; then
	# No --notify-await: the daemon says so with a file, and we poll for it.
	ssd_ready="start-stop-daemon + poll"
	alts+=("$ssd_ready" "$R bash -c 'for i in \$(seq $N); do rm -f $work/up; $SSD --start --quiet --background --make-pidfile --pidfile $work/n.pid --exec /bin/sh -- -c \": > $work/up; exec sleep 1000\"; until [ -e $work/up ]; do sleep 0.01; done; $SSD --stop --quiet --retry 10 --pidfile $work/n.pid --remove-pidfile; done'")
	bench_note "start-stop-daemon has no --notify-await here: compared with start-stop-daemon plus a poll for readiness."
fi
bench_case "daemon: start until ready (sd_notify), stop, wait until gone" "cycles" "$N" "${alts[@]}"
[ -z "$SSD" ] || ! "$SSD" --help 2>&1 | grep -q -- --notify-await ||
	bench_note "readiness: against start-stop-daemon --notify-await ($("$SSD" --version | head -n 1))."

pdaemon -p "$work/s.pid" sleep 1000 > "$work/s.pid.out"
alts=("pdaemon -s" "for i in \$(seq $N); do pdaemon -s $work/s.pid >/dev/null; done")
if [ -n "$SSD" ]; then
	alts+=("start-stop-daemon --status" "for i in \$(seq $N); do $SSD --status --pidfile $work/s.pid; done")
fi
bench_case "daemon: is it running? (status from the pidfile)" "queries" "$N" "${alts[@]}"
pdaemon -k "$work/s.pid"
if [ -n "$SSD" ]; then
	bench_bar "daemon start, stop, gone: pdaemon / start-stop-daemon" \
		"$(bench_ratio "daemon: start with a pidfile, stop, wait until gone" pdaemon start-stop-daemon)" "<=" 1.0
	bench_bar "daemon start until ready, stop: pdaemon -w / $ssd_ready" \
		"$(bench_ratio "daemon: start until ready (sd_notify), stop, wait until gone" "pdaemon -w" "$ssd_ready")" "<=" 0.5
	bench_bar "daemon status: pdaemon -s / start-stop-daemon --status" \
		"$(bench_ratio "daemon: is it running? (status from the pidfile)" "pdaemon -s" "start-stop-daemon --status")" "<=" 1.0
else
	bench_note "start-stop-daemon not installed: pdaemon measured alone."
fi
