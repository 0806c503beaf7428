/* SPDX-License-Identifier: ISC */
/*
 * pidlock.h: reading a pidfile written through pidfile_open(3) (libbsd)
 * without trusting it blindly.
 *
 * A pidfile is believed only while its lock is held (flock(2), the way
 * flopen(3) takes it) and the pid it names is alive and itself holds an
 * open descriptor on that very file.  Anything else - no file, a free
 * lock, an empty or garbage file, a pid <= 1, a live pid that does not
 * hold the file - reads as "not running", so nothing is ever signalled on
 * the word of a stale or forged pidfile.
 */
#ifndef PKIT_PIDLOCK_H
#define PKIT_PIDLOCK_H

#include <sys/stat.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proc.h"		/* struct pidref */

enum pidlock_state {
	PIDLOCK_ERROR = -1,	/* errno set, maybe *why */
	PIDLOCK_RUNNING,	/* locked, names a live holder: pid, ref */
	PIDLOCK_ABSENT,		/* no such file */
	PIDLOCK_STALE,		/* the file exists, its lock is free */
	PIDLOCK_FOREIGN		/* locked, but it names no live holder */
};

struct pidlock {
	int		fd;	/* the pidfile, read-only; -1 if none */
	pid_t		pid;	/* the pid read, 0 if none */
	struct pidref	ref;	/* RUNNING: pid, pinned; else ref.pid == 0 */
	struct stat	st;	/* the file's identity */
};

/*
 * Look at PATH and say which state it is in (without ever writing it); a
 * symbolic link is an ERROR ("a symbolic link; refused" in *why).
 * A locked but still empty file (a pdaemon between taking the lock and
 * writing its pid) is re-read for up to 100 ms, as pidfile_open(3) does.
 * Release what pl holds with pidlock_close.
 */
int	pidlock_probe(const char *path, struct pidlock *pl, const char **why);

/*
 * Remove PATH if it is still the file pl->fd has open and nobody holds its
 * lock (taken, exclusively and without waiting, around the unlink).
 * Returns 0 if PATH is gone or now names another file, 1 if the lock is
 * held by someone (left alone), -1 on error.
 */
int	pidlock_unlink(const char *path, struct pidlock *pl);

/*
 * The processes (at most MAX, never ourselves) that hold the flock on the
 * file ST through an open descriptor: the daemon, and whatever inherited
 * its descriptor.  Returns how many were put in PIDS.
 */
size_t	pidlock_holders(const struct stat *st, pid_t *pids, size_t max);

/* 1 if PID holds the flock on the file ST, 0 if not, -1 if unknown. */
int	pidlock_holds(pid_t pid, const struct stat *st);

/* Close what pidlock_probe opened. */
void	pidlock_close(struct pidlock *pl);

/*
 * Parse a pidfile's content: decimal digits and at most one final
 * newline, a value in [2, INT_MAX].  0, or -1 for anything else.
 */
int	pidlock_parse(const char *buf, size_t len, pid_t *pid);

/*
 * Read the pidfile open on FD: 1 and *pid if it holds a pid
 * (pidlock_parse), 0 if it is empty, -1 if it holds anything else or
 * cannot be read.
 */
int	pidlock_read(int fd, pid_t *pid);

/*
 * Open PATH for pdaemon to write (its pidfile, its log) as root would
 * safely: never through a symlink (O_NOFOLLOW is added to FLAGS), and not
 * in a directory others may write (group or other writable) unless it is
 * sticky and the file is ours, nor in one owned by another user than us
 * or root: there a neighbour could plant or swap the file.  FLAGS must
 * not hold O_TRUNC (nothing is written before the checks).  Returns the
 * descriptor (close-on-exec) and its identity in *st, or -1 with *why.
 */
int	pidlock_open_safe(const char *path, int flags, mode_t mode,
	    struct stat *st, const char **why);

/*
 * Open PATH (relative to DFD) for a command's output, as pspawn -o/-e and
 * pqueue-get -L do: in a directory only we (or root) may write, as the
 * shell's >> would, following symlinks (/dev/stderr, /dev/fd/N); in any
 * other, where a neighbour could plant a link or a file, never through a
 * symlink, and in a sticky one (/tmp) only a file of ours.  A shared
 * directory that is not sticky is allowed: its writers can replace our
 * files anyway.  As pidlock_open_safe otherwise.
 */
int	pidlock_open_out(int dfd, const char *path, int flags, mode_t mode,
	    struct stat *st, const char **why);

/*
 * 1 if the directory of PATH (relative to DFD) may be written by us or
 * root alone, where a symlink in it is ours to follow; 0 if others may
 * (group or other writable, or another user's), or it cannot be seen.
 */
int	pidlock_dir_private(int dfd, const char *path);

#endif
