/* SPDX-License-Identifier: ISC */
/*
 * pqworker.h: worker mode of pqueue-get (a JoinableQueue consumer, and a
 * crash-safe parallel map): run a command once per message, up to N at
 * once, and mark each task done when its command exits 0.
 *
 * A pool of N holds N handles on the queue (N slots, N leases), one per
 * task.  A message stays leased while its command runs: if the worker
 * dies (even of SIGKILL), the kernel drops its slots' tokens and the
 * messages in flight go back to the front of the queue; the commands are
 * killed with the worker (PR_SET_PDEATHSIG), so two copies of one task
 * never run because of a dead worker.  Tasks done are never run again;
 * tasks in flight are (at-least-once).
 *
 * Each command runs in its own process group.  A failed attempt is held
 * for a backoff (100 ms * 2^attempts, at most 10 s), then given back
 * (attempts+1); a message that has failed max_attempts times is moved to
 * the queue NAME.dead if it exists, else dropped with a line on stderr,
 * and marked done either way.  If NAME.dead exists but is closed, the
 * message is kept in NAME, said so, and the pool stops.  Success and
 * "moved aside" are committed together with the task_done (pq_commit
 * PQ_DONE): one critical section.
 */
#ifndef PKIT_PQWORKER_H
#define PKIT_PQWORKER_H

#include <stdint.h>

#include "queue.h"

#define PQW_MAX_JOBS		32	/* -j: half the queue's slots */
#define PQW_DEF_ATTEMPTS	3	/* -r when not given */
#define PQW_GRACE_NS		((int64_t)2000000000)	/* TERM, then KILL */
#define PQW_BACKOFF_NS		((int64_t)100000000)	/* first backoff */
#define PQW_BACKOFF_MAX_NS	((int64_t)10000000000)

struct pqw_opts {
	int64_t		 wait;		/* ns to wait for a message; PQ_FOREVER */
	uint64_t	 count;		/* attempts to start; 0: until drained */
	uint32_t	 max_attempts;	/* deliveries before NAME.dead (>= 1) */
	int		 delim;		/* terminator written after the message */
	int		 ids;		/* write "ID<TAB>" before it */
	unsigned	 jobs;		/* tasks at once, 1..PQW_MAX_JOBS */
	int64_t		 task_timeout;	/* ns; 0: none */
	int		 halt;		/* stop at the first final failure */
	const char	*joblog;	/* path, or NULL */
};

/*
 * Run argv once per message of q, as set out above; an argument holding
 * "{}" gets the message in its place (and CMD's stdin is /dev/null).
 * Returns 0 when count attempts were started (count 0: the queue was
 * closed and drained) and every one exited 0; else the status of the
 * first that did not (the pool still goes on; with halt, it stops and
 * returns that status); 1 closed and drained before count; 124 no
 * message in time; 125 (reported) or 126/127 (the command could not be
 * run; reported) with the message given back; 128+N when signal N
 * stopped it (passed on to the running commands' groups, whose messages
 * are then given back unless their command still exited 0).  When
 * stdout's reader went away it does not return: it dies of SIGPIPE.
 */
int	pqw_run(struct pq *q, const struct pqw_opts *o, char *const argv[]);

#endif
