/* SPDX-License-Identifier: ISC */
/*
 * pqbackend.h: the seam between the queue API (pqueue.h, lib/pqapi.c)
 * and its backends: shared memory (lib/pqueue.c, the default) and Redis
 * (lib/pqredis.c, for redis: names).  A backend is a table of operations
 * on its own handle, struct pqb, which each backend defines for itself;
 * the API's struct pq holds the table, the handle and the name.  Every
 * operation has the contract of the pq_ function of the same name.
 */
#ifndef PKIT_PQBACKEND_H
#define PKIT_PQBACKEND_H

#include "pqueue.h"

struct pqb;

struct pq_ops {
	int	 (*put)(struct pqb *, const char *const *, const size_t *,
		    size_t, size_t *, int64_t);
	int	 (*get)(struct pqb *, size_t, int64_t, const struct pq_msg **,
		    size_t *);
	int	 (*commit)(struct pqb *, size_t, int);
	int	 (*close)(struct pqb *);
	int	 (*done)(struct pqb *, uint64_t);
	int	 (*done_id)(struct pqb *, uint64_t, int *);
	int	 (*join)(struct pqb *, int64_t);
	int	 (*stat)(struct pqb *, struct pq_info *, int64_t);
	const char *(*name)(const struct pqb *);
	uint32_t (*max_msg)(const struct pqb *);
	int64_t	 (*renew_every)(const struct pqb *);	/* ns; -1: never */
	int	 (*renew)(struct pqb *);
	int	 (*peek)(struct pqb *, struct pq_entry *, size_t, size_t *,
		    int64_t);
};

extern const struct pq_ops pq_shm_ops;
extern const struct pq_ops pq_redis_ops;

/* Shared memory (lib/pqueue.c). */
int	pqs_create(const char *, const struct pq_config *, int,
	    struct pqb **);
int	pqs_open(const char *, struct pqb **);
int	pqs_remove(const char *);
int	pqs_release(struct pqb *);

/* Redis (lib/pqredis.c); names as in redis.h. */
int	pqr_create(const char *, const struct pq_config *, int,
	    struct pqb **);
int	pqr_open(const char *, struct pqb **);
int	pqr_remove(const char *);

/* Set pq_error() to "NAME: why" and return code. */
int	pq_seterr(const char *name, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
