/* SPDX-License-Identifier: ISC */
/*
 * jobrec.h: the exit records pspawn's keeper leaves for pjoin.
 *
 * One small file per process started by pspawn, in the runtime directory's
 * jobs/ subdirectory, named PID.START: the pid and the process start time
 * (field 22 of /proc/PID/stat, clock ticks since boot).  The pair names one
 * process for the life of the machine, so a recycled pid is never taken for
 * an old job.  The file says "running" from the moment pspawn prints the
 * pid; it is replaced atomically (temporary file + rename) by "exit N" or
 * "signal N" BEFORE the keeper reaps the process, so whoever sees the pid
 * gone (kill -0 fails, a pidfd hangs up) finds the final status on disk.
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

/* Create the "running" record of PID.START in the jobs directory dfd. */
int	jobrec_put_running(int dfd, pid_t pid, unsigned long long start);

/*
 * Replace the record of PID.START atomically with the final status taken
 * from waitid's si_code/si_status (CLD_EXITED, CLD_KILLED, CLD_DUMPED).
 */
int	jobrec_put_status(int dfd, pid_t pid, unsigned long long start,
	    int how, int value);

/*
 * Read the record PID.START into *r.  0 if found (an empty or unreadable
 * body counts as running), -1 if there is none.
 */
int	jobrec_get(int dfd, pid_t pid, unsigned long long start,
	    struct jobrec *r);

/*
 * For each of the n pids (any order, duplicates allowed), find the newest
 * record (highest start time) with one directory scan: starts[i] = its
 * start time, or 0 if there is none.
 */
int	jobrec_find_newest(int dfd, const pid_t *pids, size_t n,
	    unsigned long long *starts);

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
