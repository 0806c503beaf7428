# SPDX-License-Identifier: ISC
# lock.bash: what both lock suites (plock.bats on either backend, and
# redis.bats) use to watch holders: a probe critical section, holders in
# the background, and whether a waiter sleeps or spins.
# shellcheck shell=bash

# probe DIR [WANT]: a critical section that records how many holders are
# in it at once (the most it saw, in DIR/max).  With WANT, it waits up to
# 3 s for WANT holders to be in together, so that shared and counting
# locks that work show exactly WANT.
make_probe() {
	cat > "$BATS_TEST_TMPDIR/probe" <<'EOF'
#!/bin/sh
d=$1 want=${2:-0}
: > "$d/in.$$"
seen() { set -- "$d"/in.*; echo $#; }
n=$(seen)
i=0
while [ "$n" -lt "$want" ] && [ $i -lt 150 ]; do
	sleep 0.02
	n=$(seen)
	i=$((i + 1))
done
sleep 0.05
m=$(seen)
[ "$m" -gt "$n" ] && n=$m
echo "$n" >> "$d/max"
rm -f "$d/in.$$"
EOF
	chmod +x "$BATS_TEST_TMPDIR/probe"
	mkdir -p "$BATS_TEST_TMPDIR/pr"
}

# max_holders: the most holders the probes saw at once.
max_holders() {
	sort -n "$BATS_TEST_TMPDIR/pr/max" | tail -n 1
}

# hold NAME [OPTS...] -- start "plock OPTS NAME sleep 30" in the background,
# tracked; wait until it holds; its pid in $held.
hold() {
	local name=$1
	shift
	plock "$@" "$name" sleep 30 3>&- &
	held=$!
	pkit_track "$held"
	wait_until 5 holds "$name" "$held"
}

# holds NAME PID: PID is among the holders plock -q names.
holds() {
	plock -q "$1" | grep -qx "$2"
}

# waiting PID: PID is asleep (blocked), not running.
waiting() {
	local st
	st=$(awk '{ sub(/.*\) /, ""); print substr($0, 1, 1) }' "/proc/$1/stat" 2>/dev/null)
	[ "$st" = S ]
}

# cpu_ticks PID: user + system time so far, in clock ticks.
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# script_lock [OPTS...]: the first line of a script that locks the rest of
# itself, "$1" being the lock's name (plock(1), "Locking the rest of a
# script"): on files, the descriptor form (-F 9 on the file -w names); on
# Redis, the lease held for the script's pid by a keeper (-p $$).  Put it
# in front of the script's own text: sh -c "$(script_lock -n)"'...'.
# shellcheck disable=SC2016 # the $ are the script's
script_lock() {
	if [ "${PKIT_TEST_BACKEND:-}" = redis ]; then
		printf 'plock -p $$ %s "$1" || exit\n' "$*"
	else
		printf 'exec 9>>"$(plock -w "$1")" && plock -F 9 %s "$1" || exit\n' "$*"
	fi
}
