/* SPDX-License-Identifier: ISC */
/*
 * lockapi.c: the lock API of lock.h over its backends (lockbackend.h).
 * The one place where a name chooses its backend: a redis: name selects
 * Redis, any other the file locks.  The API owns the error state: a
 * backend gives a reason, the API makes it "NAME: why" for lock_error().
 *
 * Re-entrance is decided here, for both backends alike (lock_take): a
 * process that already holds NAME (inherited from an enclosing plock and
 * verified by the backend) takes nothing when what it holds covers what
 * it asks for: exclusive covers all three kinds, shared covers -s, a
 * semaphore's slot covers -s and -c.  Asking exclusive while holding
 * shared or a slot would wait for ever on ourselves: refused (-1).  -c
 * while holding -s takes a slot as usual (nothing in the way is ours).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockbackend.h"
#include "parse.h"
#include "redis.h"

static char	errbuf[1024];

static const struct lock_ops *backend(const char *);
static int	open_as(struct lock **, const char *, enum lock_kind, int,
		    int);
static int	fail(const struct lock *, const char *, int);

/* The backend of a name: decided here only. */
static const struct lock_ops *
backend(const char *name)
{
	return redis_name_is(name) ? &lock_redis_ops : &lock_file_ops;
}

int
lock_open(struct lock **lkp, const char *name, enum lock_kind kind,
    int count)
{
	return open_as(lkp, name, kind, count, 0);
}

int
lock_peek(struct lock **lkp, const char *name)
{
	return open_as(lkp, name, LOCK_EXCLUSIVE, 0, 1);
}

static int
open_as(struct lock **lkp, const char *name, enum lock_kind kind, int count,
    int peek)
{
	struct lock *lk;
	const char *why;

	*lkp = NULL;
	if ((lk = calloc(1, sizeof(*lk))) == NULL) {
		snprintf(errbuf, sizeof(errbuf), "%s: %s", safe(name),
		    strerror(errno));
		return -1;
	}
	lk->ops = backend(name);
	lk->kind = kind;
	/* A path may hold any byte: every message shows it escaped. */
	strlcpy(lk->shown, safe(name), sizeof(lk->shown));
	if (lk->ops->open(name, kind, count, peek, &lk->b, lk->shown,
	    sizeof(lk->shown), &why) == -1) {
		fail(lk, why, -1);
		free(lk);
		return -1;
	}
	*lkp = lk;
	return 0;
}

const char *
lock_shown(const struct lock *lk)
{
	return lk->shown;
}

int
lock_take(struct lock *lk, int64_t deadline)
{
	enum lock_kind held, want = lk->kind;
	const char *why;
	int r;

	if ((r = lk->ops->held(lk->b, &held, &why)) == -1)
		return fail(lk, why, -1);
	if (r == 1) {
		if (held == LOCK_EXCLUSIVE || held == want ||
		    (held == LOCK_COUNTING && want == LOCK_SHARED)) {
			lk->ops->reenter(lk->b);
			lk->reentered = 1;
			return 0;
		}
		if (want == LOCK_EXCLUSIVE)
			return fail(lk, held == LOCK_SHARED ?
			    "held shared by this process: taking it "
			    "exclusive too would wait for ever" :
			    "held counting (-c) by this process: taking it "
			    "exclusive too would wait for ever", -1);
	}
	if ((r = lk->ops->take(lk->b, deadline, &why)) == -1)
		return fail(lk, why, -1);
	return r;
}

int
lock_holders(struct lock *lk, struct lock_holder **hv)
{
	const char *why;
	int n;

	if ((n = lk->ops->holders(lk->b, hv, &why)) < 0)
		return fail(lk, why, n);
	return n;
}

int
lock_adopt(struct lock *lk, int fd)
{
	const char *why;

	if (lk->ops->adopt == NULL)
		return fail(lk, "a lease has no descriptor for the kernel to "
		    "release: -F locks files only (hold a lease for a pid "
		    "with -p)", -1);
	if (lk->ops->adopt(lk->b, fd, &why) == -1)
		return fail(lk, why, -1);
	return 0;
}

int
lock_for(struct lock *lk, pid_t pid)
{
	const char *why;

	if (lk->ops->owner == NULL)
		return fail(lk, "a file lock belongs to a descriptor, not to a "
		    "pid: -p holds leases only (lock a descriptor with -F)", -1);
	if (lk->ops->owner(lk->b, pid, &why) == -1)
		return fail(lk, why, -1);
	return 0;
}

int
lock_path(struct lock *lk, char *buf, size_t len)
{
	const char *why;

	if (lk->ops->path == NULL)
		return fail(lk, "a lease has no lock file", -1);
	if (lk->ops->path(lk->b, buf, len, &why) == -1)
		return fail(lk, why, -1);
	return 0;
}

void
lock_close(struct lock *lk)
{
	if (lk == NULL)
		return;
	lk->ops->close(lk->b);
	free(lk);
}

const char *
lock_error(void)
{
	return errbuf;
}

/* Set lock_error() to "NAME: why" and return code. */
static int
fail(const struct lock *lk, const char *why, int code)
{
	snprintf(errbuf, sizeof(errbuf), "%s: %s", lk->shown, why);
	return code;
}
