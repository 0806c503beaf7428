/* SPDX-License-Identifier: ISC */
/*
 * holders.h: who holds a lock on a file, as /proc tells it (an engine:
 * it never prints or exits).
 *
 * /proc/locks names the process that took a lock, who may have died since
 * while a child that inherited the descriptor holds on.  The holders are
 * rather the processes with a descriptor on the file whose
 * /proc/PID/fdinfo shows the lock: the kernel lists there the locks of
 * that very open file description.  plock's query (lib/lock-file.c) and
 * the pidfile check (lib/pidlock.c) both walk /proc through this.
 */
#ifndef PKIT_HOLDERS_H
#define PKIT_HOLDERS_H

#include <sys/types.h>

#define FDLOCKS_MAX	16	/* locks looked at per descriptor */

/* One "lock:" line of /proc/PID/fdinfo/FD. */
struct fdlock {
	char		kind[16];	/* FLOCK, OFDLCK, POSIX, ... */
	char		type[16];	/* READ or WRITE */
	long		locker;		/* who took it, as the kernel keeps it */
	long long	start;		/* its first byte (flock: 0) */
};

/*
 * For each descriptor of PID that is open on the file (dev, ino) and
 * carries at least one lock, call fn(arg, lv, n) with its locks (at most
 * FDLOCKS_MAX).  A descriptor that has the file open but holds nothing
 * (a waiter, a reader, a probe) is not passed.  Returns 0 when done, or
 * fn's first non-zero value (which stops the walk), or -1 with errno if
 * PID's descriptors cannot be read (ENOENT or ESRCH: it is gone).
 */
int	proc_fdlocks(pid_t pid, dev_t dev, ino_t ino,
	    int (*fn)(void *arg, const struct fdlock *lv, size_t n),
	    void *arg);

/*
 * proc_fdlocks for any files at once: for each descriptor of PID open on
 * a file that want(arg, st) accepts (st: stat(2) of the file) and that
 * carries at least one lock, call fn(arg, st, lv, n).  Returns as
 * proc_fdlocks.
 */
struct stat;
int	proc_fdlocks_if(pid_t pid, int (*want)(void *arg, const struct stat *st),
	    int (*fn)(void *arg, const struct stat *st, const struct fdlock *lv,
	    size_t n), void *arg);

/*
 * The locks on one of this process's own descriptors (/proc/self/fdinfo),
 * at most max of them in lv: how many (0: none, or unreadable).
 */
size_t	fd_locks(int fd, struct fdlock *lv, size_t max);

#endif
