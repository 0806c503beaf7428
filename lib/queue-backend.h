/* SPDX-License-Identifier: ISC */
/*
 * queue-backend.h: the seam between the queue API (queue.h, lib/queue.c)
 * and its backends: shared memory (lib/queue-shm.c, the default) and
 * Redis (lib/queue-redis.c, for redis: names).  A backend is one table of
 * operations, struct pq_ops, over its own handle, struct pqb, which each
 * backend defines for itself; the API's struct pq holds the table, the
 * handle and the name.  Every operation has the contract of the pq_
 * function of the same name.  Which table serves a name is decided in
 * one place, lib/queue.c.
 *
 * The API layer owns the state every backend shares: the error message
 * (pq_seterr, read by pq_error) and the signal caught by
 * pq_catch_signals (pq_signalled; pq_sleep_on makes the catch wake a
 * futex sleeper).  Tier: backends never print or exit; they return an
 * exit status of the table with the reason in pq_seterr, and the tool
 * prints it.
 */
#ifndef PKIT_QUEUE_BACKEND_H
#define PKIT_QUEUE_BACKEND_H

#include "queue.h"

struct pqb;

struct pq_ops {
	/* By name: a handle in *bp (create: bp may be NULL). */
	int	 (*create)(const char *, const struct pq_config *, int,
		    struct pqb **);
	int	 (*open)(const char *, struct pqb **);
	int	 (*remove)(const char *);
	/* On a handle. */
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
	/* The queues of this user (NULL: the backend cannot list). */
	int	 (*list)(void (*)(const char *, void *), void *);
	/* Messages seen, not taken (pq_peek). */
	int	 (*peek)(struct pqb *, struct pq_entry *, size_t, size_t *,
		    int64_t);
	/*
	 * open, with the check that the queue exists sent now and read with
	 * the first operation (NULL: the backend opens at once, as open).
	 */
	int	 (*open_lazy)(const char *, struct pqb **);
	/* get, its deadline a slice (pq_get_slice; NULL: get is that too) */
	int	 (*get_slice)(struct pqb *, size_t, int64_t,
		    const struct pq_msg **, size_t *);
	/* What pq_read_blocks() returns for this backend. */
	size_t	 read_block;
};

extern const struct pq_ops pq_shm_ops;		/* lib/queue-shm.c */
extern int64_t pq_open_by;		/* pq_open_deadline(), lib/queue.c */
extern const struct pq_ops pq_redis_ops;	/* lib/queue-redis.c */

/* Set pq_error() to "NAME: why" and return code. */
int	pq_seterr(const char *name, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * The futex word the caller is about to sleep on (NULL: awake again): a
 * signal caught by pq_catch_signals bumps and wakes it, so that a signal
 * landing between the check of pq_signalled() and the sleep is not lost.
 */
void	pq_sleep_on(uint32_t *word);

/*
 * Before mapping a segment: a SIGBUS (the segment truncated under us, or
 * its file system full) is reported as "PROG: queue segment truncated..." and
 * exits 125, as a mapping cannot return an error.
 */
void	pq_sigbus_install(void);

#endif
