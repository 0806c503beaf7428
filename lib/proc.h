/* SPDX-License-Identifier: ISC */
/*
 * proc.h: the Process module's readers and handles - what /proc tells
 * about a process, pidfds, and pids pinned so that a reused pid is never
 * signalled.  Starting a command is lib/spawn.h; the pspawn keeper is
 * lib/keeper.h.
 *
 * Tier: engine.  Nothing here prints or exits: each call returns -1 (or
 * 0 for "no") with errno set, and the caller says what went wrong.
 */
#ifndef PKIT_PROC_H
#define PKIT_PROC_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* What /proc/PID/stat says (zombies have it too). */
struct proc_info {
	char			state;	/* R, S, Z... */
	pid_t			ppid;	/* its parent now */
	unsigned long long	start;	/* clock ticks after boot */
};

/*
 * Read /proc/PID/stat into *pi.  A pid and its start time name one
 * process for good: a recycled pid has a later start.  0, or -1 with
 * errno set (ESRCH: no such process; EINVAL: unreadable).
 */
int	proc_read(pid_t pid, struct proc_info *pi);

/* proc_read's state and start time; either output may be NULL. */
int	proc_stat(pid_t pid, char *state, unsigned long long *start);

/*
 * The command name of PID (/proc/PID/comm, without its newline, at most
 * 15 bytes: a title set by setproctitle(3) does not change it) in BUF.
 * 0, or -1 with errno set.
 */
int	proc_comm(pid_t pid, char *buf, size_t len);

/*
 * 1 if PID is ANCESTOR or one of its descendants (its chain of parents,
 * read from /proc, passes through ANCESTOR), 0 if not or PID is gone.
 */
int	proc_descends(pid_t pid, pid_t ancestor);

/*
 * pidfd_open(2) on PID: the descriptor (close-on-exec), or -1 with errno
 * (ESRCH: no such process; EINVAL: not a process; ENOSYS: Linux < 5.3).
 */
int	proc_pidfd_open(pid_t pid);

/* pidfd_send_signal(2): 0, or -1 with errno (ESRCH once it has ended). */
int	proc_pidfd_signal(int fd, int sig);

/*
 * 1 if the process of FD has been reaped by its parent (the pidfd hangs
 * up), 0 if not yet (or FD is -1).  Reading /proc after opening FD, then
 * finding it not reaped, proves what was read was that process's.
 */
int	proc_pidfd_reaped(int fd);

/*
 * Wait up to NS nanoseconds (< 0: forever) for the process of FD to
 * exit (the pidfd becomes readable): 1 if it has, 0 if not.
 */
int	proc_pidfd_wait(int fd, int64_t ns);

/*
 * The wait status the kernel kept for the (exited) process of FD:
 * PIDFD_GET_INFO with PIDFD_INFO_EXIT, Linux 6.15 and later, detected at
 * run time.  0, or -1 if the kernel cannot tell (or FD is -1).
 */
int	proc_pidfd_status(int fd, int *wstatus);

/*
 * The wall-clock time (seconds since the epoch) of START, a start time
 * in clock ticks after boot (btime of /proc/stat).  -1 if unknown.
 */
long long	proc_start_epoch(unsigned long long start);

/* Lift our soft limit on open descriptors to the hard one (for pidfds). */
void	proc_nofile_raise(void);

/*
 * Make our children's ends ours to collect: SIGCHLD inherited ignored
 * (SIG_IGN, or SA_NOCLDWAIT) has the kernel reap them at once, and a
 * status we must record or report would be lost (a wait then fails with
 * ECHILD, or hangs).  Call before the first child; the children get the
 * default too.
 */
void	proc_children_ours(void);

/*
 * A process pinned so that a reused pid is never signalled: a pidfd; or,
 * where there is no pidfd_open(2) (Linux < 5.3, valgrind), the pid and
 * its start time, checked again before each signal and while waiting.
 */
struct pidref {
	pid_t			pid;
	int			fd;	/* the pidfd, or -1 */
	unsigned long long	start;	/* without a pidfd: its start time */
};

/* Pin PID (> 1): 0, or -1 with errno (ESRCH: no such process). */
int	pidref_open(struct pidref *ref, pid_t pid);

/* Send SIG to the pinned process only: 0, or -1 (ESRCH once it ended). */
int	pidref_signal(struct pidref *ref, int sig);

/* Wait up to NS nanoseconds (< 0: forever) for it to end: 1 if it has. */
int	pidref_wait(const struct pidref *ref, int64_t ns);

void	pidref_close(struct pidref *ref);

#endif
