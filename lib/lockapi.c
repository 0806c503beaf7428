/* SPDX-License-Identifier: ISC */
/*
 * lockapi.c: the lock API of lock.h over its backends (lockbackend.h).
 * The one place where a name chooses its backend: a redis: name selects
 * Redis, any other the file locks.  The API owns the error state: a
 * backend gives a reason, the API makes it "NAME: why" for lock_error().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockbackend.h"
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
		snprintf(errbuf, sizeof(errbuf), "%s: %s", name,
		    strerror(errno));
		return -1;
	}
	lk->ops = backend(name);
	strlcpy(lk->shown, name, sizeof(lk->shown));
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
	const char *why;
	int r;

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
