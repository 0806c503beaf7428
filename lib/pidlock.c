/* SPDX-License-Identifier: ISC */
/*
 * pidlock.c: believe a pidfile only when its lock and its pid agree (see
 * pidlock.h).  The lock test is a non-blocking shared flock(2), released
 * at once; the pid is then checked twice over: it must be alive (pinned
 * by a pidfd, so that a pid reused later can never be signalled) and
 * one of its descriptors in /proc/PID/fd must be the pidfile itself, with
 * the flock shown on it in /proc/PID/fdinfo (lib/holders.c, the walker
 * plock's query uses too): it is the lock holder, a pdaemon supervisor or
 * the command a pdaemon exec'd.  Pids are pinned with lib/proc.h's
 * pidref.  Tier: engine (no printing, -1 and errno).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "holders.h"
#include "pidlock.h"
#include "proc.h"

static int	proc_holds(pid_t pid, const struct stat *want);
static int	has_flock(void *, const struct fdlock *, size_t);

int
pidlock_probe(const char *path, struct pidlock *pl, const char **why)
{
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	char buf[32];
	ssize_t n;
	pid_t pid;
	int held, tries;

	pl->fd = -1;
	pl->pid = 0;
	pl->ref.pid = 0;
	pl->ref.fd = -1;
	*why = NULL;
	/*
	 * Never through a symlink, as a start never opens one: -k would stop
	 * the daemon of the file it names and unlink only the link, or, as
	 * root, stop whatever service a planted link points at.
	 */
	pl->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    O_NOFOLLOW);
	if (pl->fd == -1 && errno == ELOOP)
		*why = "a symbolic link; refused";
	if (pl->fd == -1)
		return errno == ENOENT ? PIDLOCK_ABSENT : PIDLOCK_ERROR;
	if (fstat(pl->fd, &pl->st) == -1)
		return PIDLOCK_ERROR;
	if (!S_ISREG(pl->st.st_mode)) {
		*why = "not a regular file";
		errno = EINVAL;
		return PIDLOCK_ERROR;
	}
	if (flock(pl->fd, LOCK_SH | LOCK_NB) == 0) {
		flock(pl->fd, LOCK_UN);
		return PIDLOCK_STALE;
	}
	if (errno != EWOULDBLOCK)
		return PIDLOCK_ERROR;

	/* Locked: a pdaemon may be between taking the lock and writing. */
	for (tries = 0;; tries++) {
		n = pread(pl->fd, buf, sizeof(buf), 0);
		if (n == -1)
			return PIDLOCK_ERROR;
		if (n > 0 || tries == 20)
			break;
		nanosleep(&pause, NULL);
	}
	if (pidlock_parse(buf, (size_t)n, &pid) == -1)
		return PIDLOCK_FOREIGN;
	pl->pid = pid;
	if (pidref_open(&pl->ref, pid) == -1)
		return errno == ESRCH ? PIDLOCK_FOREIGN : PIDLOCK_ERROR;
	/*
	 * The process is pinned: if it still runs after the /proc check, the
	 * /proc check looked at that process and not at a reused pid.
	 */
	if ((held = proc_holds(pid, &pl->st)) == -1) {
		*why = "cannot verify which process holds it";
		return PIDLOCK_ERROR;
	}
	if (!held || pidref_wait(&pl->ref, 0)) {
		pidref_close(&pl->ref);
		return PIDLOCK_FOREIGN;
	}
	return PIDLOCK_RUNNING;
}

/*
 * 1 if one of PID's open descriptors is the file WANT and holds its flock
 * (lib/holders.c), 0 if none (or PID is gone), -1 if we may not look.  A
 * reader that merely has the file open, such as a probe, is not a holder.
 */
static int
proc_holds(pid_t pid, const struct stat *want)
{
	int r;

	r = proc_fdlocks(pid, want->st_dev, want->st_ino, has_flock, NULL);
	if (r == -1)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	return r;
}

/* proc_fdlocks' callback: 1 (stop, found) if a flock is among them. */
static int
has_flock(void *arg, const struct fdlock *lv, size_t n)
{
	size_t i;

	(void)arg;
	for (i = 0; i < n; i++)
		if (strcmp(lv[i].kind, "FLOCK") == 0)
			return 1;
	return 0;
}

size_t
pidlock_holders(const struct stat *st, pid_t *pids, size_t max)
{
	struct dirent *de;
	const char *errstr;
	pid_t pid, self = getpid();
	size_t n = 0;
	DIR *d;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (n < max && (de = readdir(d)) != NULL) {
		pid = (pid_t)strtonum(de->d_name, 2, INT_MAX, &errstr);
		if (errstr != NULL || pid == self)
			continue;
		if (proc_holds(pid, st) == 1)
			pids[n++] = pid;
	}
	closedir(d);
	return n;
}

int
pidlock_holds(pid_t pid, const struct stat *st)
{
	return proc_holds(pid, st);
}

int
pidlock_unlink(const char *path, struct pidlock *pl)
{
	struct stat now;
	int r;

	if (flock(pl->fd, LOCK_EX | LOCK_NB) == -1)
		return errno == EWOULDBLOCK ? 1 : -1;
	/* Under the lock nobody can be starting on this file: compare, unlink. */
	if (stat(path, &now) == -1)
		r = errno == ENOENT ? 0 : -1;
	else if (now.st_dev != pl->st.st_dev || now.st_ino != pl->st.st_ino)
		r = 0;
	else
		r = unlink(path) == -1 && errno != ENOENT ? -1 : 0;
	flock(pl->fd, LOCK_UN);
	return r;
}

void
pidlock_close(struct pidlock *pl)
{
	pidref_close(&pl->ref);
	if (pl->fd != -1)
		close(pl->fd);
	pl->fd = -1;
}

int
pidlock_parse(const char *buf, size_t len, pid_t *pid)
{
	char tmp[24];
	const char *errstr;
	long long n;
	size_t i;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len == 0 || len >= sizeof(tmp))
		return -1;
	for (i = 0; i < len; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
	memcpy(tmp, buf, len);
	tmp[len] = '\0';
	n = strtonum(tmp, 2, INT_MAX, &errstr);
	if (errstr != NULL)
		return -1;
	*pid = (pid_t)n;
	return 0;
}

int
pidlock_read(int fd, pid_t *pid)
{
	char buf[32];
	ssize_t n;

	if ((n = pread(fd, buf, sizeof(buf), 0)) == 0)
		return 0;
	if (n == -1 || pidlock_parse(buf, (size_t)n, pid) == -1)
		return -1;
	return 1;
}

/* How the directory of a path may be written by others. */
enum dir_kind {
	DIR_PRIVATE,	/* ours or root's, writable by us alone */
	DIR_STICKY,	/* group or other writable, sticky (/tmp) */
	DIR_SHARED,	/* group or other writable, not sticky */
	DIR_FOREIGN	/* another user's (not root's) */
};

/* The kind of the directory of path (relative to dfd): 0, or -1 and *why. */
static int
dir_kind(int dfd, const char *path, enum dir_kind *kind, const char **why)
{
	char dir[PATH_MAX];
	const char *slash;
	struct stat st;

	if ((slash = strrchr(path, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if (slash == path)
		strlcpy(dir, "/", sizeof(dir));
	else if ((size_t)(slash - path) >= sizeof(dir)) {
		*why = strerror(ENAMETOOLONG);
		return -1;
	} else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (fstatat(dfd, dir, &st, 0) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		*kind = st.st_mode & S_ISVTX ? DIR_STICKY : DIR_SHARED;
	else if (st.st_uid != geteuid() && st.st_uid != 0)
		*kind = DIR_FOREIGN;
	else
		*kind = DIR_PRIVATE;
	return 0;
}

/* Open, never through a symlink: an existing file, or a new one (O_EXCL). */
static int
open_nofollow(int dfd, const char *path, int flags, mode_t mode,
    const char **why)
{
	int fd, tries;

	/*
	 * An existing file without O_CREAT (with it, a symlink reads as
	 * EACCES in a sticky directory); a new one with O_EXCL, so that
	 * nothing planted in between is opened.
	 */
	flags |= O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;
	for (tries = 0; tries < 10; tries++) {
		fd = openat(dfd, path, flags & ~O_CREAT, mode);
		if (fd != -1 || errno != ENOENT || !(flags & O_CREAT))
			break;
		fd = openat(dfd, path, flags | O_EXCL, mode);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		*why = errno == ELOOP ? "a symbolic link; refused" :
		    strerror(errno);
	return fd;
}

/* The identity of fd in *st, and whether it may be used: fd, or -1. */
static int
opened(int fd, struct stat *st, int must_be_ours, const char **why)
{
	if (fstat(fd, st) == -1) {
		*why = strerror(errno);
		close(fd);
		return -1;
	}
	if (must_be_ours && st->st_uid != geteuid()) {
		*why = "not ours, in a directory others may write; refused";
		close(fd);
		return -1;
	}
	return fd;
}

int
pidlock_dir_private(int dfd, const char *path)
{
	enum dir_kind kind;
	const char *why;

	return dir_kind(dfd, path, &kind, &why) == 0 && kind == DIR_PRIVATE;
}

int
pidlock_open_safe(const char *path, int flags, mode_t mode, struct stat *st,
    const char **why)
{
	enum dir_kind kind;
	int fd;

	if (dir_kind(AT_FDCWD, path, &kind, why) == -1)
		return -1;
	if (kind == DIR_SHARED) {
		*why = "in a directory writable by others (not sticky); refused";
		return -1;
	}
	if (kind == DIR_FOREIGN) {
		*why = "in a directory owned by another user; refused";
		return -1;
	}
	if ((fd = open_nofollow(AT_FDCWD, path, flags, mode, why)) == -1)
		return -1;
	return opened(fd, st, kind == DIR_STICKY, why);
}

int
pidlock_open_out(int dfd, const char *path, int flags, mode_t mode,
    struct stat *st, const char **why)
{
	enum dir_kind kind;
	int fd;

	if (dir_kind(dfd, path, &kind, why) == -1)
		return -1;
	if (kind == DIR_PRIVATE) {
		/* As the shell's >>: /dev/stderr, /dev/fd/N, a link of ours. */
		if ((fd = openat(dfd, path, flags | O_NOCTTY | O_CLOEXEC,
		    mode)) == -1) {
			*why = strerror(errno);
			return -1;
		}
	} else if ((fd = open_nofollow(dfd, path, flags, mode, why)) == -1)
		return -1;
	return opened(fd, st, kind == DIR_STICKY, why);
}
