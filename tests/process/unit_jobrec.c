/* SPDX-License-Identifier: ISC */
/*
 * unit_jobrec: C unit tests for lib/jobrec (pspawn's exit records): names,
 * bodies, start times, torn or foreign bodies, pruning.
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

#include "../unit.h"

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
	char dir[] = "/tmp/unit_jobrec.XXXXXX", name[64], body[64];
	unsigned long long st;
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
	{
		char *argv[] = { "sh", "-c", "echo a\nb", NULL };
		struct jobrec r;
		struct stat sb;
		ino_t ino;

		CHECK(jobrec_put_running(dfd, 4242, 777, argv) == 0);
		CHECK(exists("4242.job"));
		CHECK(state_of(4242, 777, &code) == JOBREC_RUNNING);
		CHECK(jobrec_get(dfd, 4242, 777, &r) == 0 &&
		    strcmp(r.cmd, "sh -c echo a?b") == 0);
		CHECK(fstatat(dfd, "4242.job", &sb, 0) == 0);
		ino = sb.st_ino;
		CHECK(jobrec_put_status(dfd, 4242, 777, CLD_EXITED, 42) == 0);
		CHECK(state_of(4242, 777, &code) == JOBREC_EXITED &&
		    code == 42);
		/* In place: the same file, the command kept. */
		CHECK(fstatat(dfd, "4242.job", &sb, 0) == 0 &&
		    sb.st_ino == ino);
		CHECK(jobrec_get(dfd, 4242, 777, &r) == 0 &&
		    strcmp(r.cmd, "sh -c echo a?b") == 0);
	}
	CHECK(!exists(".4242.job"));
	/* A slot torn half way (new bytes, then old) fails its hash and
	 * reads as running, never as a status. */
	{
		char run[JOBREC_SLOT + 8], fin[JOBREC_SLOT + 8], mix[128];
		int fd, seen;

		CHECK(jobrec_put_running(dfd, 4245, 31, NULL) == 0);
		fd = openat(dfd, "4245.job", O_RDONLY);
		CHECK(fd != -1 && read(fd, run, JOBREC_SLOT) == JOBREC_SLOT);
		close(fd);
		CHECK(jobrec_put_status(dfd, 4245, 31, CLD_KILLED, 1) == 0);
		fd = openat(dfd, "4245.job", O_RDONLY);
		CHECK(fd != -1 && read(fd, fin, JOBREC_SLOT) == JOBREC_SLOT);
		close(fd);
		for (i = 1; i < JOBREC_SLOT; i++) {
			memcpy(mix, fin, i);
			memcpy(mix + i, run + i, JOBREC_SLOT - i);
			mix[JOBREC_SLOT] = '\0';
			put("4245.job", mix, 0);
			seen = state_of(4245, 31, &code);
			if (memcmp(mix, fin, JOBREC_SLOT) != 0 &&
			    memcmp(mix, run, JOBREC_SLOT) != 0 &&
			    seen != JOBREC_RUNNING)
				CHECK(!"a torn slot read as final");
		}
	}
	CHECK(jobrec_put_status(dfd, 4243, 5, CLD_KILLED, 9) == 0);
	CHECK(state_of(4243, 5, &code) == JOBREC_SIGNALED && code == 137);
	CHECK(jobrec_put_status(dfd, 4244, 5, CLD_DUMPED, 11) == 0);
	CHECK(state_of(4244, 5, &code) == JOBREC_SIGNALED && code == 139);
	/* Another start time is another process; 0 asks for any. */
	CHECK(state_of(4242, 778, &code) == JOBREC_NONE);
	{
		struct jobrec r;

		CHECK(jobrec_get(dfd, 4242, 0, &r) == 0 && r.start == 777 &&
		    r.state == JOBREC_EXITED);
	}
	/* A later process with the same pid replaces the record. */
	CHECK(jobrec_put_running(dfd, 4242, 900, NULL) == 0);
	CHECK(state_of(4242, 777, &code) == JOBREC_NONE);
	CHECK(state_of(4242, 900, &code) == JOBREC_RUNNING);

	/* Cut short or foreign bodies are never taken as final, and a body
	 * without a start time is not a record at all. */
	put("5000.job", "", 0);
	CHECK(state_of(5000, 0, &code) == JOBREC_NONE);
	put("5000.job", "exit 4\n", 0);
	CHECK(state_of(5000, 0, &code) == JOBREC_NONE);
	put("5000.job", "3 exit 4", 0);
	CHECK(state_of(5000, 3, &code) == JOBREC_RUNNING);
	put("5000.job", "3 exit 4g\n", 0);
	CHECK(state_of(5000, 3, &code) == JOBREC_RUNNING);
	put("5000.job", "3 exit 300\n", 0);
	CHECK(state_of(5000, 3, &code) == JOBREC_RUNNING);
	put("5000.job", "3 signal 0\n", 0);
	CHECK(state_of(5000, 3, &code) == JOBREC_RUNNING);
	put("5000.job", "3 exit 0\n", 0);
	CHECK(state_of(5000, 3, &code) == JOBREC_EXITED && code == 0);

	/* Pruning: final records older than an hour go, younger stay; a
	 * running record of a live process stays whatever its age; a stale
	 * running one and a stale temporary go; other names stay. */
	put("8000.job", "1 exit 0\n", 7200);
	put("8001.job", "1 exit 0\n", 600);
	put("8002.job", "1 running\n", 7200);
	CHECK(jobrec_start_time(getpid(), &st) == 0);
	snprintf(name, sizeof(name), "%d.job", (int)getpid());
	snprintf(body, sizeof(body), "%llu running\n", st);
	put(name, body, 7200);
	put(".8003.job", "1 exit 0\n", 7200);
	put("notes.txt", "keep\n", 7200);
	jobrec_prune(dfd);
	CHECK(!exists("8000.job"));
	CHECK(exists("8001.job"));
	CHECK(!exists("8002.job"));
	CHECK(exists(name));
	CHECK(!exists(".8003.job"));
	CHECK(exists("notes.txt"));

	/* In a crowd (more than JOBREC_SOFT_MAX), a minute is enough. */
	for (i = 0; i < JOBREC_SOFT_MAX + 10; i++) {
		snprintf(name, sizeof(name), "%d.job", 100000 + i);
		put(name, "1 exit 0\n", 120);
	}
	put("9000.job", "1 exit 0\n", 0);
	jobrec_prune(dfd);
	CHECK(!exists("100000.job"));
	CHECK(exists("9000.job"));

	/* Pruning is due once in 30 seconds: the first asks claims it, the
	 * next is told no; a stamp 31 seconds old, or one from the future
	 * (the clock set back), is due again.  The stamp is no record and
	 * no prune removes it. */
	CHECK(jobrec_prune_due(dfd) == 1);
	CHECK(exists(".pruned"));
	CHECK(jobrec_prune_due(dfd) == 0);
	put(".pruned", "", 31);
	CHECK(jobrec_prune_due(dfd) == 1);
	CHECK(jobrec_prune_due(dfd) == 0);
	put(".pruned", "", -3600);
	CHECK(jobrec_prune_due(dfd) == 1);
	CHECK(jobrec_prune_due(dfd) == 0);
	jobrec_prune(dfd);
	CHECK(exists(".pruned"));
	/* A stamp a second ahead is fresh: the file system may stamp a
	 * renewal from a finer clock than time(2) reads, already in the next
	 * second (one renewal in 100-200 on this machine's ext4 and tmpfs). */
	put(".pruned", "", -1);
	CHECK(jobrec_prune_due(dfd) == 0);

	/* Clean up the scratch directory. */
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			failed++;
	}
	return unit_end();
}
