/* SPDX-License-Identifier: ISC */
/*
 * unit_daemon: C unit tests for pdaemon's pure parts: which pidfile
 * contents name a pid (lib/pidlock.c) and the restart backoff
 * and the crash-loop count (lib/daemonize.c), including the reset after a healthy minute that the
 * bats suite cannot wait for.  Prints TAP-like lines; exits 1 on failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemonize.h"
#include "pidlock.h"

#include "../unit.h"

#define MS	((int64_t)1000 * 1000)
#define SEC	(1000 * MS)

static pid_t
parsed(const char *s)
{
	pid_t pid = 0;

	if (pidlock_parse(s, strlen(s), &pid) == -1)
		return -1;
	return pid;
}

int
main(void)
{
	struct pidref ref;
	int64_t next = DAEMON_BACKOFF_MIN, want;
	int i;

	/* Pidfile contents: only a plain pid > 1, one newline at most. */
	CHECK(parsed("1234\n") == 1234);
	CHECK(parsed("1234") == 1234);
	CHECK(parsed("2\n") == 2);
	CHECK(parsed("2147483647\n") == 2147483647);
	CHECK(parsed("") == -1);
	CHECK(parsed("\n") == -1);
	CHECK(parsed("abc\n") == -1);
	CHECK(parsed("-1\n") == -1);
	CHECK(parsed("0\n") == -1);
	CHECK(parsed("1\n") == -1);
	CHECK(parsed("+5\n") == -1);
	CHECK(parsed(" 5\n") == -1);
	CHECK(parsed("5 \n") == -1);
	CHECK(parsed("5\n\n") == -1);
	CHECK(parsed("12ab\n") == -1);
	CHECK(parsed("2147483648\n") == -1);
	CHECK(parsed("99999999999999999999999\n") == -1);
	/* Never a pid <= 1, never a process that does not exist. */
	CHECK(pidref_open(&ref, 1) == -1 && ref.pid == 0);
	CHECK(pidref_open(&ref, 0) == -1 && ref.pid == 0);
	CHECK(pidref_open(&ref, -1) == -1 && ref.pid == 0);
	CHECK(pidref_signal(&ref, 0) == -1);
	CHECK(pidref_open(&ref, getpid()) == 0 && ref.pid == getpid());
	CHECK(pidref_signal(&ref, 0) == 0);
	CHECK(pidref_wait(&ref, 0) == 0);
	pidref_close(&ref);
	CHECK(ref.pid == 0 && ref.fd == -1);

	/* Backoff: 0.1 s doubling up to 30 s while runs are short. */
	want = 100 * MS;
	for (i = 0; i < 9; i++) {
		CHECK(daemon_backoff(&next, 10 * MS) == want);
		want *= 2;
	}
	CHECK(want == 51200 * MS);
	CHECK(daemon_backoff(&next, 10 * MS) == 30 * SEC);
	CHECK(daemon_backoff(&next, 59 * SEC) == 30 * SEC);
	/* A run of a minute or more was healthy: start over at 0.1 s. */
	CHECK(daemon_backoff(&next, 60 * SEC) == 100 * MS);
	CHECK(daemon_backoff(&next, 1 * SEC) == 200 * MS);
	CHECK(daemon_backoff(&next, 3600 * SEC) == 100 * MS);

	/* The crash loop: the Nth failure within the window, not before. */
	{
		int64_t times[DAEMON_LOOP_CAP];
		int n = 0;

		for (i = 0; i < 4; i++)
			CHECK(!daemon_crashloop(times, 5, 10 * SEC, &n,
			    i * SEC));
		CHECK(daemon_crashloop(times, 5, 10 * SEC, &n, 4 * SEC));
		/* One failure every 3 s: 5 span 12 s, never a loop. */
		n = 0;
		for (i = 0; i < 20; i++)
			CHECK(!daemon_crashloop(times, 5, 10 * SEC, &n,
			    i * 3 * SEC));
		/* Then five quick ones, in a ring that has wrapped. */
		for (i = 0; i < 4; i++)
			CHECK(!daemon_crashloop(times, 5, 10 * SEC, &n,
			    100 * SEC + i * MS));
		CHECK(daemon_crashloop(times, 5, 10 * SEC, &n, 100 * SEC + 4 * MS));
		/* 0: never. */
		n = 0;
		for (i = 0; i < 100; i++)
			CHECK(!daemon_crashloop(times, 0, 10 * SEC, &n, i));
		/* 1 within the window: the first failure ends it. */
		n = 0;
		CHECK(daemon_crashloop(times, 1, 10 * SEC, &n, 5 * SEC));
	}

	return unit_end();
}
