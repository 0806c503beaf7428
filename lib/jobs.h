/* SPDX-License-Identifier: ISC */
/*
 * jobs.h: pjoin's phases - waiting for processes (pspawn jobs or not),
 * ending pspawn jobs at a deadline (-k), showing progress (-p), and
 * listing this user's jobs (-l).
 *
 * Tier: tool body.  These print pjoin's lines (stdout: -v, -a, -l;
 * stderr: diagnostics, progress) and return pjoin's exit status; they
 * never exit.
 */
#ifndef PKIT_JOBS_H
#define PKIT_JOBS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* -k: SIGTERM at the deadline, SIGKILL this long after it. */
#define JOBS_GRACE_NS	((int64_t)2000000000)

struct jobs_conf {
	int	any;		/* -a: return when the first ends */
	int	verbose;	/* -v: PID STATUS for each */
	int	kill;		/* -k: end our jobs at the deadline */
	int	progress;	/* -p: done/total, rate, ETA on stderr */
	int64_t	deadline;	/* monotonic ns, -1: none */
	int	dir;		/* the records directory (jobs/) */
};

/*
 * Wait for the N pids as C says: 0, the first non-zero status in argument
 * order (125 for a pspawn job whose status is lost, 127 for no such
 * process), -a's status, 124 at the deadline, or 125 on a failure.
 */
int	jobs_join(const struct jobs_conf *c, const pid_t *pids, size_t n);

/*
 * Print every record of DIR, oldest first, one line each:
 * PID<tab>STATE<tab>START<tab>COMMAND, STATE "running", "exit N",
 * "signal N" or "lost", START the local time the job started.  0, or
 * 125 if the directory cannot be read.
 */
int	jobs_list(int dir);

#endif
