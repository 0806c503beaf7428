/* SPDX-License-Identifier: ISC */
/*
 * pqworker.h: worker mode of pqueue-get (a JoinableQueue consumer): run a
 * command once per message, the message on its stdin, and mark the task
 * done when the command exits 0.
 *
 * The message stays leased while the command runs: if the worker dies
 * (even of SIGKILL), the kernel drops its slot token and the message goes
 * back to the front of the queue; the command itself is killed with the
 * worker (PR_SET_PDEATHSIG), so two copies of one task never run because
 * of a dead worker.  A command that fails gives its message back
 * (attempts+1); with a cap, a message that has failed that often is moved
 * to the queue NAME.dead if it exists, else dropped with a line on stderr,
 * and marked done either way.  Success and "moved aside" are committed
 * together with the task_done (pq_commit PQ_DONE): one critical section.
 */
#ifndef PKIT_PQWORKER_H
#define PKIT_PQWORKER_H

#include <stdint.h>

#include "queue.h"

struct pqw_opts {
	int64_t		wait;		/* ns to wait for each message; PQ_FOREVER */
	uint64_t	count;		/* messages to handle; 0: until drained */
	uint32_t	max_attempts;	/* 0: retry failures for ever */
	int		delim;		/* terminator written after the message */
	int		ids;		/* write "ID<TAB>" before it */
};

/*
 * Run argv once per message of q, as set out above.  Returns 0 when
 * count messages were handled (count 0: the queue was closed and
 * drained) and every command exited 0; else the status of the first
 * command that did not (the worker still goes on); 1 closed and drained
 * before count; 124 no message in time; 125 (pq_error()) or 126/127
 * (the command could not be run; reported) with the message given back;
 * 128+N when signal N stopped it (forwarded to a running command, whose
 * message is then given back unless the command still exited 0).
 */
int	pqw_run(struct pq *q, const struct pqw_opts *o, char *const argv[]);

#endif
