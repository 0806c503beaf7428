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
R="$work/subreaper"
SSD=$(command -v start-stop-daemon || true)

alts=(
	"pdaemon" "$R bash -c 'for i in \$(seq $N); do pdaemon -p $work/a.pid sleep 1000 >/dev/null; pdaemon -k $work/a.pid; done'"
	"pdaemon -r" "$R bash -c 'for i in \$(seq $N); do pdaemon -r -p $work/b.pid sleep 1000 >/dev/null; pdaemon -k $work/b.pid; done'"
)
if [ -n "$SSD" ]; then
	alts+=("start-stop-daemon" "$R bash -c 'for i in \$(seq $N); do $SSD --start --quiet --background --make-pidfile --pidfile $work/c.pid --exec /bin/sleep -- 1000; $SSD --stop --quiet --retry 10 --pidfile $work/c.pid --remove-pidfile; done'")
fi
bench_case "daemon: start with a pidfile, stop, wait until gone" "cycles" "$N" "${alts[@]}"

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
	bench_bar "daemon status: pdaemon -s / start-stop-daemon --status" \
		"$(bench_ratio "daemon: is it running? (status from the pidfile)" "pdaemon -s" "start-stop-daemon --status")" "<=" 1.0
else
	bench_note "start-stop-daemon not installed: pdaemon measured alone."
fi
