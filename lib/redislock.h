/* SPDX-License-Identifier: ISC */
/*
 * redislock.h: plock's locks on a Redis server (redis:// names).
 *
 * A lock there is a lease, not a kernel lock: the holder must keep renewing
 * it, and a holder that stops (SIGSTOP, a frozen host, a partition) loses
 * it when the lease runs out.  Each grant comes with a fencing token that
 * increases for ever per name.  See redislock.c for the keys and scripts.
 */
#ifndef PKIT_REDISLOCK_H
#define PKIT_REDISLOCK_H

#include <sys/types.h>

#include <stdint.h>

#include "lock.h"
#include "redis.h"

#define RLOCK_LEASE_NS	((int64_t)10 * 1000000000)	/* PKIT_LOCK_LEASE */

struct rlock {
	struct redis_url url;
	redisContext	*c;
	enum lock_kind	 kind;
	int		 count;
	int64_t		 lease_ns;
	char		 key[5][NAME_MAX_LEN + 40];	/* x, shared, count, fence, free */
	char		 member[400];	/* what we hold: "TOKEN SINCE PID HOST" */
	long long	 token;		/* fencing token of this grant */
};

struct rlock_holder {
	pid_t		 pid;
	int64_t		 since;		/* CLOCK_REALTIME ns (the server's clock) */
	char		 host[256];
};

/*
 * Parse NAME, read PKIT_LOCK_LEASE and connect.  Returns 0, or -1 with
 * *why set (lk->url.shown names the lock for the message).
 */
int	rlock_open(struct rlock *lk, const char *name, enum lock_kind kind,
	    int count, const char **why);

/*
 * Take the lock: 0 taken, 1 busy (deadline 0 or passed), -1 error with
 * *why set.  deadline as lock_take.  A waiter sleeps on a subscription to
 * the lock's release channel, woken by a release or when the earliest
 * holder's lease runs out; it never polls.
 */
int	rlock_take(struct rlock *lk, int64_t deadline, const char **why);

/*
 * Run argv as a child holding the lock, renewing the lease every third of
 * it, forwarding INT, TERM and HUP; release it when the child is gone.
 * Returns the exit status for plock (the child's, 126/127 if it could not
 * be executed).
 */
int	rlock_run(struct rlock *lk, char *const argv[]);

/*
 * The live holders of NAME, sorted by pid, in *hv (free it).  Returns how
 * many, or -1 with *why set; *shown the name to print.
 */
int	rlock_holders(const char *name, struct rlock_holder **hv,
	    const char **shown, const char **why);

#endif
