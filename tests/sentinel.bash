# SPDX-License-Identifier: ISC
# sentinel.bash: a private Redis Sentinel topology for one test.
#
# sentinel_start: one master, two replicas and three sentinels on
# 127.0.0.1, at free ports, their files in $BATS_TEST_TMPDIR/topo, every
# pid tracked (pkit_track: ended at teardown, by pid).  The sentinels
# watch master "m" with a quorum of 2, down-after-milliseconds 1000 and
# failover-timeout 5000, so a killed master is replaced in a few seconds.
# Sets MPORT, MPID (the master), RPORT1 RPORT2, SPORTS ("p1 p2 p3") and
# SNAME, the redis-sentinel:// prefix ("redis-sentinel://H:P,H:P,H:P/m").
# Without redis-server or redis-sentinel the test is skipped, saying so.
# shellcheck shell=bash
# shellcheck disable=SC2016 # $ in single quotes is for the inner shell

# _free_ports N: N distinct free ports (one python3: it starts slowly).
_free_ports() {
	python3 -c 'import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# _topo_server NAME PORT [ARG...]: a redis-server, tracked; its pid in $tpid.
_topo_server() {
	local n=$1 p=$2
	shift 2
	mkdir -p "$TOPO/$n"
	redis-server --bind 127.0.0.1 --port "$p" --dir "$TOPO/$n" --save '' \
		--appendonly no --daemonize no --logfile "$TOPO/$n/log" "$@" \
		</dev/null >/dev/null 2>&1 3>&- &
	tpid=$!
	pkit_track "$tpid"
	# Ours: another test's server or sentinel that took the port first
	# answers too.
	wait_until 10 _answers "$p" "$tpid"
}

# _answers PORT PID: the server (or sentinel) on PORT is process PID,
# and answers PING (not LOADING).
_answers() {
	[ "$(redis-cli -p "$1" info server 2>/dev/null | tr -d '\r' |
		sed -n 's/^process_id://p')" = "$2" ] &&
		[ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]
}

sentinel_start() {
	local i p tpid
	if ! command -v redis-sentinel >/dev/null ||
		! command -v redis-server >/dev/null; then
		skip "redis-server and redis-sentinel are needed (./bootstrap installs them)"
	fi
	TOPO=$BATS_TEST_TMPDIR/topo
	local ids=() ports=() spids=() j
	# shellcheck disable=SC2207 # six numbers
	ports=($(_free_ports 6))
	MPORT=${ports[3]} RPORT1=${ports[4]} RPORT2=${ports[5]}
	_topo_server master "$MPORT" --repl-diskless-sync-delay 0 || return 1
	MPID=$tpid
	_topo_server r1 "$RPORT1" --replicaof 127.0.0.1 "$MPORT" \
		--repl-diskless-sync-delay 0 || return 1
	_topo_server r2 "$RPORT2" --replicaof 127.0.0.1 "$MPORT" \
		--repl-diskless-sync-delay 0 || return 1
	wait_until 20 sh -c 'redis-cli -p "$1" info replication | grep -q "^connected_slaves:2"' sh "$MPORT" || return 1
	# Connected, even synced (state=online), is not yet streaming: after a
	# diskless sync the master keeps a replica's writes until its first
	# REPLCONF ACK, up to a second later.  A test quick enough to kill the
	# master inside that second left both replicas empty, and the new
	# master said "no such queue".  A write both replicas show proves the
	# stream flows.
	redis-cli -p "$MPORT" set pkit:topo:streaming 1 >/dev/null || return 1
	wait_until 20 sh -c '[ "$(redis-cli -p "$1" get pkit:topo:streaming)" = 1 ] &&
		[ "$(redis-cli -p "$2" get pkit:topo:streaming)" = 1 ]' sh "$RPORT1" "$RPORT2" || return 1
	redis-cli -p "$MPORT" del pkit:topo:streaming >/dev/null || return 1
	SPORTS=
	SNAME=redis-sentinel://
	# Each sentinel is told the replicas and the other sentinels (by id),
	# so that none waits for the INFO and hello rounds to find them.
	for i in 1 2 3; do
		ids+=("$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')")
	done
	for i in 0 1 2; do
		p=${ports[$i]}
		mkdir -p "$TOPO/s$i"
		{
			printf '%s\n' "port $p" "bind 127.0.0.1" "daemonize no" \
				"dir $TOPO/s$i" "logfile $TOPO/s$i/log" \
				"sentinel myid ${ids[$i]}" \
				"sentinel monitor m 127.0.0.1 $MPORT 2" \
				"sentinel down-after-milliseconds m 1000" \
				"sentinel failover-timeout m 5000" \
				"sentinel parallel-syncs m 2" \
				"sentinel known-replica m 127.0.0.1 $RPORT1" \
				"sentinel known-replica m 127.0.0.1 $RPORT2"
			for j in 0 1 2; do
				[ "$j" = "$i" ] ||
					echo "sentinel known-sentinel m 127.0.0.1 ${ports[$j]} ${ids[$j]}"
			done
		} > "$TOPO/s$i/sentinel.conf"
		redis-sentinel "$TOPO/s$i/sentinel.conf" </dev/null >/dev/null 2>&1 3>&- &
		pkit_track "$!"
		spids+=("$!")
		SPORTS="${SPORTS:+$SPORTS }$p"
		[ "$i" -gt 0 ] && SNAME="$SNAME,"
		SNAME="${SNAME}127.0.0.1:$p"
	done
	SNAME="$SNAME/m"
	# Ready when each sentinel (ours: see _answers) knows the two
	# replicas and the two others.
	for i in 0 1 2; do
		wait_until 30 _answers "${ports[$i]}" "${spids[$i]}" || return 1
		wait_until 30 _sentinel_ready "${ports[$i]}" || return 1
	done
	export MPORT MPID RPORT1 RPORT2 SPORTS SNAME
}

_sentinel_ready() {
	local out
	out=$(redis-cli -p "$1" sentinel master m 2>/dev/null | tr '\n' ' ')
	case $out in
	*"num-slaves 2 "*"num-other-sentinels 2 "*) return 0 ;;
	esac
	return 1
}

# wait_pids SECONDS PID...: wait for these children of the test to end,
# at most SECONDS; 1 if some still run (teardown ends them, by pid).
wait_pids() {
	local limit=$1 p
	shift
	wait_until "$limit" _none_alive "$@" || return 1
	for p in "$@"; do
		wait "$p" 2>/dev/null || true
	done
}

# (kill -0, a builtin: bash reaps its children as they end, so an ended
# one is gone; no process is forked per poll on a loaded machine.)
_none_alive() {
	local p
	for p in "$@"; do
		! kill -0 "$p" 2>/dev/null || return 1
	done
}

# sentinel_master: the port of the master the sentinels name now.
sentinel_master() {
	redis-cli -p "${SPORTS%% *}" sentinel get-master-addr-by-name m 2>/dev/null | sed -n 2p
}
