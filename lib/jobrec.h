/* SPDX-License-Identifier: ISC */
/*
 * jobrec.h: the exit records pspawn's keeper leaves for pjoin.
 *
 * One small file per pid, in the runtime directory's jobs/ subdirectory,
 * named PID.job, holding the process start time (field 22 of
 * /proc/PID/stat, clock ticks since boot) and its state: "START running",
 * "START exit N" or "START signal N".  The pair pid + start time names one
 * process for the life of the machine, so a recycled pid is never taken
 * for an old job: a reader asks for the start time it expects.  A pid has
 * at most one record, the latest process pspawn started under it, so the
 * lookup is one open and the directory never holds more files than there
 * are pids.  Every write is atomic (temporary file + rename).  The final
 * state is written BEFORE the keeper reaps the process, so whoever sees
 * the pid gone (kill -0 fails, a pidfd hangs up) finds the real status.
 */
#ifndef PKIT_JOBREC_H
#define PKIT_JOBREC_H

#include <sys/types.h>

#include <stddef.h>

enum jobrec_state {
	JOBREC_NONE = 0,	/* no record */
	JOBREC_RUNNING,		/* started, no status yet */
	JOBREC_EXITED,		/* value = exit code */
	JOBREC_SIGNALED		/* value = signal number */
};

struct jobrec {
	pid_t			pid;
	unsigned long long	start;
	enum jobrec_state	state;
	int			value;
};

/*
 * The start time of PID from /proc/PID/stat (works for zombies too).
 * 0, or -1 (errno set; ENOENT/ESRCH: no such process).
 */
int	jobrec_start_time(pid_t pid, unsigned long long *start);

/* Write the "running" record of PID (start time START). */
int	jobrec_put_running(int dfd, pid_t pid, unsigned long long start);

/*
 * Replace the record of PID with the final status taken from waitid's
 * si_code/si_status (CLD_EXITED, CLD_KILLED, CLD_DUMPED).
 */
int	jobrec_put_status(int dfd, pid_t pid, unsigned long long start,
	    int how, int value);

/*
 * Read the record of PID into *r, if it is the one of start time START
 * (START 0: whichever process it is, r->start says).  0 if found, -1 if
 * there is none (or it is another process's, or not a record).
 */
int	jobrec_get(int dfd, pid_t pid, unsigned long long start,
	    struct jobrec *r);

/* The shell-style exit code of a final record: N, or 128+N for a signal. */
int	jobrec_exit_code(const struct jobrec *r);

/*
 * Remove old records: final ones (and "running" ones whose process is gone)
 * last changed more than an hour ago, or more than a minute ago once the
 * directory holds more than JOBREC_SOFT_MAX records; stale temporaries.
 */
#define JOBREC_SOFT_MAX	4096
void	jobrec_prune(int dfd);

#endif
