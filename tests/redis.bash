# SPDX-License-Identifier: ISC
# redis.bash: a private redis-server for one bats file.
#
# Call redis_start in setup_file and redis_stop in teardown_file.  The
# server listens on 127.0.0.1 at a free port picked at random, keeps its
# files in a temporary directory, and is stopped by its pid, whatever
# happened.  It exports REDIS_PORT, REDIS_PID, REDIS_DIR and
# PKIT_REDIS_URL.  Without redis-server the suite fails, saying so:
# skipping is not passing.
# shellcheck shell=bash

# redis_start [ARG...]: start the server (extra redis-server arguments
# may follow, e.g. --appendonly yes).
redis_start() {
	local try port dir pid
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		echo "redis-server and redis-cli are needed for the Redis tests:" \
			"run ./bootstrap (Debian: apt-get install redis-server)" >&2
		return 1
	fi
	dir=$(mktemp -d "${BATS_FILE_TMPDIR:-/tmp}/redis.XXXXXX")
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
		redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
			--save '' --appendonly no --daemonize no \
			--logfile "$dir/log" "$@" </dev/null >/dev/null 2>&1 3>&- &
		pid=$!
		for _ in $(seq 1 100); do
			if redis_ours "$port" "$pid"; then
				REDIS_PORT=$port REDIS_PID=$pid REDIS_DIR=$dir
				PKIT_REDIS_URL=redis://127.0.0.1:$port
				export REDIS_PORT REDIS_PID REDIS_DIR PKIT_REDIS_URL
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		# The port was taken (or the server would not start): another.
		# A server that has already exited cannot be killed: under
		# set -e (bats) that must not end the retries.
		if [ "$pid" -gt 1 ]; then
			kill "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
		echo "redis.bash: try $try: no server on port $port" >&2
	done
	echo "redis.bash: cannot start redis-server; its log:" >&2
	cat "$dir/log" >&2 2>/dev/null
	return 1
}

# redis_ours PORT PID: the server on PORT is process PID (not another
# test's server or sentinel that had the port first: it answers PING
# too), and answers PING (not LOADING its data).
redis_ours() {
	[ "$(redis-cli -p "$1" info server 2>/dev/null | tr -d '\r' |
		sed -n 's/^process_id://p')" = "$2" ] &&
		[ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]
}

# redis_stop: stop the server started by redis_start, by its pid.
redis_stop() {
	local _
	[ "${REDIS_PID:-0}" -gt 1 ] 2>/dev/null || return 0
	kill -TERM "$REDIS_PID" 2>/dev/null || return 0
	for _ in $(seq 1 50); do
		_pkit_alive "$REDIS_PID" || break
		sleep 0.1
	done
	_pkit_alive "$REDIS_PID" && kill -KILL "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null || true
}

# rcli ARG...: redis-cli on the private server.
rcli() {
	redis-cli -p "$REDIS_PORT" "$@"
}

# own_server [ARG...]: a second redis-server for this test only, in
# $BATS_TEST_TMPDIR/own (tracked, ended by pid); port $oport (kept when
# called again in the test, for a restart), pid $opid.
own_server() {
	mkdir -p "$BATS_TEST_TMPDIR/own"
	: "${oport:=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
	redis-server --bind 127.0.0.1 --port "$oport" \
		--dir "$BATS_TEST_TMPDIR/own" --save '' \
		--logfile "$BATS_TEST_TMPDIR/own/log" "$@" \
		</dev/null >/dev/null 2>&1 3>&- &
	opid=$!
	pkit_track "$opid"
	# Ours: the port was free when picked, not reserved.
	wait_until 5 redis_ours "$oport" "$opid"
}

# own_stop: stop the second server by its pid and wait for it.
own_stop() {
	[ "${opid:-0}" -gt 1 ] || return 0
	kill -TERM "$opid"
	wait "$opid" 2>/dev/null || true
}
