/* SPDX-License-Identifier: ISC */
/*
 * lock.h: named locks that the kernel releases (plock's engine).
 *
 * A lock is a file: NAME in the runtime directory's locks/, or a path.
 * Exclusive and shared holders hold flock(2) on its open file description;
 * a counting semaphore's holders hold one byte-range OFD lock ("slot") and
 * flock(2) shared.  See lock.c for the design.
 */
#ifndef PKIT_LOCK_H
#define PKIT_LOCK_H

#include <sys/types.h>

#include <stdint.h>

#define LOCK_COUNT_MAX	1000	/* largest -c COUNT */

enum lock_kind {
	LOCK_EXCLUSIVE,
	LOCK_SHARED,
	LOCK_COUNTING
};

struct lock {
	const char	*name;		/* as given: a name, or a path with '/' */
	int		 fd;		/* the lock's descriptor (close-on-exec) */
	int		 dirfd;		/* runtime dir's locks/: files, records */
	dev_t		 dev;		/* the lock file's identity */
	ino_t		 ino;
	char		 key[16];	/* this holder's record: "x", "c3", "s0" */
};

struct lock_holder {
	pid_t		 pid;		/* a process holding the lock */
	int64_t		 since;		/* CLOCK_REALTIME ns taken, -1 unknown */
};

/*
 * Open NAME's lock file, creating it if missing (plain names: mode 0600 in
 * locks/, never through a symlink; paths: 0666 less the umask, like
 * flock(1)).  Returns 0, or -1 with *why set.
 */
int	lock_open(struct lock *lk, const char *name, enum lock_kind kind,
	    const char **why);

/*
 * Take the lock.  count is the semaphore's size (LOCK_COUNTING only).
 * deadline: -1 wait for ever, 0 do not wait, else a mono_now() time.
 * Returns 0 taken, 1 busy (or the deadline passed), -1 error (errno).
 * Never polls: it sleeps in the kernel until the lock can be had.
 */
int	lock_take(struct lock *lk, enum lock_kind kind, int count,
	    int64_t deadline);

/*
 * Write this holder's since-when record (best effort; a failure only
 * means plock -q -v shows '-' for it).
 */
void	lock_record(struct lock *lk);

/*
 * Run argv holding the lock: lk->fd is handed to the command (its number
 * in PKIT_LOCK_FD), every other descriptor of ours is close-on-exec.
 * Returns only if the exec failed, with errno set.
 */
void	lock_exec(struct lock *lk, char *const argv[]);

/*
 * The processes that hold NAME now, found in /proc (each one has a
 * descriptor on the lock's open file description with the lock on it),
 * sorted by pid, in *hv (free it).  Returns how many (0: free); -2 with
 * *why set if it is held by processes the caller may not look into; or
 * -1 with *why set.
 */
int	lock_holders(const char *name, struct lock_holder **hv,
	    const char **why);

#endif
