#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The test harness's own helpers, where a fault of theirs would fail
# other suites at random.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
load ../redis

teardown() {
	redis_stop
	[ "${holder:-0}" -gt 1 ] && kill "$holder" 2>/dev/null
	pkit_teardown
}

@test "redis.bash: a port already taken makes redis_start try another" {
	local port
	# RANDOM is seeded, so the port redis_start tries first is known:
	# hold it with a listener that answers every connection by closing
	# it, and the server started there exits at once.
	RANDOM=4242
	port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
	python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
print("ready", flush=True)
while True:
    s.accept()[0].close()' "$port" > "$BATS_TEST_TMPDIR/holder" &
	holder=$!
	wait_until 5 grep -q ready "$BATS_TEST_TMPDIR/holder"
	RANDOM=4242
	redis_start
	[ "$REDIS_PORT" != "$port" ]
	run redis-cli -p "$REDIS_PORT" ping
	assert_output PONG
}
