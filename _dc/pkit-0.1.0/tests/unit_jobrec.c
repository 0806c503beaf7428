/* SPDX-License-Identifier: ISC */
/*
 * unit_jobrec: C unit tests for lib/jobrec (pspawn's exit records): names,
 * bodies, the newest-record scan, torn or foreign bodies, pruning.
 * Works in a fresh temporary directory.  Prints TAP-like lines; exits 1 if
 * any check failed.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobrec.h"

static int failed, total;

#define CHECK(cond) do {						\
	total++;							\
	if (!(cond)) {							\
		failed++;						\
		printf("not ok %d - %s:%d: %s\n", total, __FILE__,	\
		    __LINE__, #cond);					\
	} else								\
		printf("ok %d - %s\n", total, #cond);			\
} while (0)

static int dfd;

static void
put(const char *name, const char *body, time_t age)
{
	struct timespec ts[2];
	int fd;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write(fd, body, strlen(body)) != (ssize_t)strlen(body))
		abort();
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	futimens(fd, ts);
	close(fd);
}

static int
exists(const char *name)
{
	return faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
state_of(pid_t pid, unsigned long long start, int *code)
{
	struct jobrec r;

	if (jobrec_get(dfd, pid, start, &r) == -1)
		return JOBREC_NONE;
	*code = jobrec_exit_code(&r);
	return r.state;
}

int
main(void)
{
	char dir[] = "/tmp/unit_jobrec.XXXXXX", name[64];
	unsigned long long st, starts[3];
	pid_t pids[3];
	int code = -1, i;

	if (mkdtemp(dir) == NULL || (dfd = open(dir, O_RDONLY |
	    O_DIRECTORY)) == -1)
		return 1;

	/* Our own start time: field 22, stable, and none for a non-pid. */
	CHECK(jobrec_start_time(getpid(), &st) == 0 && st > 0);
	{
		unsigned long long again = 0;

		CHECK(jobrec_start_time(getpid(), &again) == 0 && again == st);
	}
	CHECK(jobrec_start_time(99999, &st) == -1);

	/* Running, then final, under the same name; no temporary left. */
	CHECK(jobrec_put_running(dfd, 4242, 777) == 0);
	CHECK(exists("4242.777"));
	CHECK(state_of(4242, 777, &code) == JOBREC_RUNNING);
	CHECK(jobrec_put_status(dfd, 4242, 777, CLD_EXITED, 42) == 0);
	CHECK(state_of(4242, 777, &code) == JOBREC_EXITED && code == 42);
	CHECK(!exists(".4242.777"));
	CHECK(jobrec_put_status(dfd, 4243, 5, CLD_KILLED, 9) == 0);
	CHECK(state_of(4243, 5, &code) == JOBREC_SIGNALED && code == 137);
	CHECK(jobrec_put_status(dfd, 4244, 5, CLD_DUMPED, 11) == 0);
	CHECK(state_of(4244, 5, &code) == JOBREC_SIGNALED && code == 139);
	/* Another start time is another process. */
	CHECK(state_of(4242, 778, &code) == JOBREC_NONE);

	/* Empty, torn or foreign bodies are never taken as final. */
	put("5000.1", "", 0);
	CHECK(state_of(5000, 1, &code) == JOBREC_RUNNING);
	put("5000.2", "exit 4", 0);
	CHECK(state_of(5000, 2, &code) == JOBREC_RUNNING);
	put("5000.3", "exit 4g\n", 0);
	CHECK(state_of(5000, 3, &code) == JOBREC_RUNNING);
	put("5000.4", "exit 300\n", 0);
	CHECK(state_of(5000, 4, &code) == JOBREC_RUNNING);
	put("5000.5", "signal 0\n", 0);
	CHECK(state_of(5000, 5, &code) == JOBREC_RUNNING);
	put("5000.6", "exit 0\n", 0);
	CHECK(state_of(5000, 6, &code) == JOBREC_EXITED && code == 0);

	/* The newest record per pid, in one scan; names that are not
	 * records are ignored. */
	put("6000.100", "exit 1\n", 0);
	put("6000.300", "exit 3\n", 0);
	put("6000.200", "exit 2\n", 0);
	put("60000.999", "exit 9\n", 0);
	put("6000.x", "exit 9\n", 0);
	put(".6000.400", "exit 9\n", 0);
	pids[0] = 6000;
	pids[1] = 7000;
	pids[2] = 4242;
	CHECK(jobrec_find_newest(dfd, pids, 3, starts) == 0);
	CHECK(starts[0] == 300);
	CHECK(starts[1] == 0);
	CHECK(starts[2] == 777);

	/* Pruning: final records older than an hour go, younger stay; a
	 * running record of a live process stays whatever its age; a stale
	 * temporary goes. */
	put("8000.1", "exit 0\n", 7200);
	put("8001.1", "exit 0\n", 600);
	put("8002.1", "running\n", 7200);
	CHECK(jobrec_start_time(getpid(), &st) == 0);
	snprintf(name, sizeof(name), "%d.%llu", (int)getpid(), st);
	put(name, "running\n", 7200);
	put(".8003.1", "exit 0\n", 7200);
	jobrec_prune(dfd);
	CHECK(!exists("8000.1"));
	CHECK(exists("8001.1"));
	CHECK(!exists("8002.1"));
	CHECK(exists(name));
	CHECK(!exists(".8003.1"));

	/* In a crowd (more than JOBREC_SOFT_MAX), a minute is enough. */
	for (i = 0; i < JOBREC_SOFT_MAX + 10; i++) {
		snprintf(name, sizeof(name), "%d.1", 100000 + i);
		put(name, "exit 0\n", 120);
	}
	put("9000.1", "exit 0\n", 0);
	jobrec_prune(dfd);
	CHECK(!exists("100000.1"));
	CHECK(exists("9000.1"));

	/* Clean up the scratch directory. */
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			failed++;
	}
	printf("1..%d\n", total);
	return failed != 0;
}
