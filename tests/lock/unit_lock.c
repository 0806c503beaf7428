/* SPDX-License-Identifier: ISC */
/*
 * unit_lock: C unit tests for the file locks (lib/lock-file.c) through the
 * lock API (lib/lock.h), with a child
 * process as the other party: a held lock is busy for us, a deadline is
 * kept, holders are named, a semaphore admits COUNT, and a lock is free
 * again the moment its holder dies.  Prints TAP-like lines; exits 1 if any
 * check failed.
 */
#include <sys/wait.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dur.h"
#include "lock.h"

#include "../unit.h"

/*
 * A child that takes NAME (kind, count) and holds it until killed; the
 * parent learns it holds through a pipe.  Returns its pid.
 */
static pid_t
holder(const char *name, enum lock_kind kind, int count)
{
	struct lock *lk;
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) == -1)
		exit(2);
	if ((pid = fork()) == 0) {
		close(p[0]);
		if (lock_open(&lk, name, kind, count) == -1 ||
		    lock_take(lk, -1) != 0)
			_exit(2);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (pid == -1 || read(p[0], &c, 1) != 1)
		exit(2);
	close(p[0]);
	return pid;
}

static void
end(pid_t pid)
{
	if (pid > 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* Try NAME once in a fresh child (locks of one process never conflict). */
static int
try(const char *name, enum lock_kind kind, int count, int64_t wait_ns)
{
	struct lock *lk;
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		if (lock_open(&lk, name, kind, count) == -1)
			_exit(3);
		_exit(lock_take(lk,
		    wait_ns == 0 ? 0 : mono_now() + wait_ns) == 0 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The holders of NAME, as plock -q asks: lock_peek, then lock_holders. */
static int
holders(const char *name, struct lock_holder **hv)
{
	struct lock *lk;
	int n;

	*hv = NULL;
	if (lock_peek(&lk, name) == -1)
		return -1;
	n = lock_holders(lk, hv);
	lock_close(lk);
	return n;
}

/* Remove the runtime directory: DIR/locks/ and its files. */
static void
cleanup(const char *dir)
{
	char path[512];
	struct dirent *d;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/locks", dir);
	if ((dp = opendir(path)) != NULL) {
		while ((d = readdir(dp)) != NULL) {
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/locks/%s", dir,
			    d->d_name);
			unlink(path);
		}
		closedir(dp);
	}
	snprintf(path, sizeof(path), "%s/locks", dir);
	rmdir(path);
	rmdir(dir);
}

int
main(void)
{
	struct lock_holder *hv;
	struct lock *lk;
	const char *why;
	char dir[] = "/tmp/unit_lock.XXXXXX";
	int64_t t0, ms;
	pid_t a, b;
	int n;

	if (mkdtemp(dir) == NULL || setenv("PKIT_DIR", dir, 1) == -1)
		return 2;

	/* Bad input is refused with a reason. */
	CHECK(lock_open(&lk, "/nonexistent-pkit/x", LOCK_EXCLUSIVE, 0) == -1);
	why = lock_error();
	CHECK(why != NULL && *why != '\0');

	/* Free: taken at once; the query finds nobody. */
	CHECK(try("u", LOCK_EXCLUSIVE, 0, 0) == 0);
	CHECK(holders("u", &hv) == 0);
	free(hv);

	/* Exclusive: busy for others, the holder named, since known. */
	a = holder("u", LOCK_EXCLUSIVE, 0);
	CHECK(try("u", LOCK_EXCLUSIVE, 0, 0) == 1);
	CHECK(try("u", LOCK_SHARED, 0, 0) == 1);
	n = holders("u", &hv);
	CHECK(n == 1 && hv[0].pid == a && hv[0].since > 0);
	free(hv);

	/* A deadline is kept: 200 ms, give or take the machine. */
	t0 = mono_now();
	CHECK(try("u", LOCK_EXCLUSIVE, 0, 200000000) == 1);
	ms = (mono_now() - t0) / 1000000;
	CHECK(ms >= 190 && ms < 2000);

	/* Its holder dies: free at once. */
	end(a);
	CHECK(try("u", LOCK_EXCLUSIVE, 0, 0) == 0);

	/* Shared: shared holders together, exclusive kept out. */
	a = holder("s", LOCK_SHARED, 0);
	b = holder("s", LOCK_SHARED, 0);
	CHECK(try("s", LOCK_SHARED, 0, 0) == 0);
	CHECK(try("s", LOCK_EXCLUSIVE, 0, 0) == 1);
	n = holders("s", &hv);
	CHECK(n == 2 && hv[0].since > 0 && hv[1].since > 0);
	free(hv);
	end(a);
	end(b);

	/* Counting: two in, the third waits, any leaver lets it in. */
	a = holder("c", LOCK_COUNTING, 2);
	CHECK(try("c", LOCK_COUNTING, 2, 0) == 0);
	b = holder("c", LOCK_COUNTING, 2);
	CHECK(try("c", LOCK_COUNTING, 2, 0) == 1);
	CHECK(try("c", LOCK_COUNTING, 2, 100000000) == 1);
	CHECK(try("c", LOCK_EXCLUSIVE, 0, 0) == 1);
	end(a);
	CHECK(try("c", LOCK_COUNTING, 2, 0) == 0);
	end(b);
	CHECK(try("c", LOCK_EXCLUSIVE, 0, 0) == 0);

	cleanup(dir);
	return unit_end();
}
