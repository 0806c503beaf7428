/* SPDX-License-Identifier: ISC */
/*
 * pqapi.c: the queue API of pqueue.h over its backends (pqbackend.h): a
 * redis: name selects Redis, any other shared memory.  One indirect call
 * per operation; the shared-memory engine does the same work as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "pqbackend.h"
#include "redis.h"

struct pq {
	const struct pq_ops	*ops;
	struct pqb		*b;
	char			*spec;		/* the name as given (pq_spec) */
};

static int	wrap(int, const char *, const struct pq_ops *, struct pqb *,
		    struct pq **);

int
pq_create(const char *name, const struct pq_config *cfg, int flags,
    struct pq **qp)
{
	struct pqb *b = NULL;
	int r;

	if (redis_name_is(name)) {
		r = pqr_create(name, cfg, flags, qp != NULL ? &b : NULL);
		return wrap(r, name, &pq_redis_ops, b, qp);
	}
	r = pqs_create(name, cfg, flags, qp != NULL ? &b : NULL);
	return wrap(r, name, &pq_shm_ops, b, qp);
}

int
pq_open(const char *name, struct pq **qp)
{
	struct pqb *b = NULL;
	int r;

	if (redis_name_is(name)) {
		r = pqr_open(name, &b);
		return wrap(r, name, &pq_redis_ops, b, qp);
	}
	r = pqs_open(name, &b);
	return wrap(r, name, &pq_shm_ops, b, qp);
}

int
pq_remove(const char *name)
{
	return redis_name_is(name) ? pqr_remove(name) : pqs_remove(name);
}

/* Handles are never freed (see pqueue.h): neither is this. */
static int
wrap(int r, const char *name, const struct pq_ops *ops, struct pqb *b,
    struct pq **qp)
{
	struct pq *q;

	if (r != 0 || qp == NULL)
		return r;
	if ((q = malloc(sizeof(*q))) == NULL ||
	    (q->spec = strdup(name)) == NULL)
		return pq_seterr("pqueue", PKIT_EXIT_FAIL, "out of memory");
	q->ops = ops;
	q->b = b;
	*qp = q;
	return 0;
}

int
pq_put(struct pq *q, const char *const *msgs, const size_t *lens, size_t n,
    size_t *nput, int64_t deadline)
{
	return q->ops->put(q->b, msgs, lens, n, nput, deadline);
}

int
pq_get(struct pq *q, size_t max, int64_t deadline,
    const struct pq_msg **msgs, size_t *n)
{
	return q->ops->get(q->b, max, deadline, msgs, n);
}

int
pq_commit(struct pq *q, size_t n, int flags)
{
	return q->ops->commit(q->b, n, flags);
}

int
pq_release(struct pq *q)
{
	return q->ops->commit(q->b, 0, 0);
}

int
pq_close(struct pq *q)
{
	return q->ops->close(q->b);
}

int
pq_done(struct pq *q, uint64_t count)
{
	return q->ops->done(q->b, count);
}

int
pq_done_id(struct pq *q, uint64_t id, int *already)
{
	return q->ops->done_id(q->b, id, already);
}

int
pq_join(struct pq *q, int64_t deadline)
{
	return q->ops->join(q->b, deadline);
}

int
pq_stat(struct pq *q, struct pq_info *info, int64_t deadline)
{
	return q->ops->stat(q->b, info, deadline);
}

int
pq_peek(struct pq *q, struct pq_entry *ents, size_t max, size_t *n,
    int64_t deadline)
{
	return q->ops->peek(q->b, ents, max, n, deadline);
}

const char *
pq_name(const struct pq *q)
{
	return q->ops->name(q->b);
}

const char *
pq_spec(const struct pq *q)
{
	return q->spec;
}

uint32_t
pq_max_msg(const struct pq *q)
{
	return q->ops->max_msg(q->b);
}

int64_t
pq_renew_every(const struct pq *q)
{
	return q->ops->renew_every(q->b);
}

int
pq_renew(struct pq *q)
{
	return q->ops->renew(q->b);
}
