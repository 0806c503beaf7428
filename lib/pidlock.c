/* SPDX-License-Identifier: ISC */
/*
 * pidlock.c: believe a pidfile only when its lock and its pid agree (see
 * pidlock.h).  The lock test is a non-blocking shared flock(2), released
 * at once; the pid is then checked twice over: it must be alive (pinned
 * by a pidfd, so that a pid reused later can never be signalled) and
 * one of its descriptors in /proc/PID/fd must be the pidfile itself, with
 * the flock shown on it in /proc/PID/fdinfo (lib/holders.c, the walker
 * plock's query uses too): it is the lock holder, a
 * pdaemon supervisor or the command a pdaemon exec'd.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dur.h"
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
	pl->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
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

/* Without a pidfd: the same process (same start time), not yet ended. */
static int
pidref_alive(const struct pidref *ref)
{
	unsigned long long start;
	char state;

	if (proc_stat(ref->pid, &state, &start) == -1)
		return 0;
	return start == ref->start && state != 'Z' && state != 'X';
}

int
pidref_open(struct pidref *ref, pid_t pid)
{
	char state;

	ref->pid = 0;
	ref->fd = -1;
	if (pid <= 1) {
		errno = ESRCH;
		return -1;
	}
	ref->fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (ref->fd == -1 && errno == EINVAL)
		errno = ESRCH;		/* a thread, not a process */
	if (ref->fd == -1 && errno != ENOSYS)
		return -1;
	if (ref->fd == -1 && proc_stat(pid, &state, &ref->start) == -1) {
		errno = ESRCH;
		return -1;
	}
	ref->pid = pid;
	return 0;
}

int
pidref_signal(struct pidref *ref, int sig)
{
	if (ref->pid <= 1) {
		errno = ESRCH;
		return -1;
	}
	if (ref->fd != -1)
		return (int)syscall(SYS_pidfd_send_signal, ref->fd, sig,
		    NULL, 0);
	if (!pidref_alive(ref)) {
		errno = ESRCH;
		return -1;
	}
	return kill(ref->pid, sig);
}

int
pidref_wait(struct pidref *ref, int64_t ns)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct pollfd pfd;
	int64_t deadline;
	int r;

	deadline = ns < 0 ? -1 : mono_now() + ns;
	if (ref->fd == -1) {
		while (pidref_alive(ref)) {
			if (deadline >= 0 && mono_now() >= deadline)
				return 0;
			nanosleep(&tick, NULL);
		}
		return 1;
	}
	pfd.fd = ref->fd;
	pfd.events = POLLIN;
	for (;;) {
		r = poll(&pfd, 1, deadline_ms(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		return r > 0;
	}
}

void
pidref_close(struct pidref *ref)
{
	if (ref->fd != -1)
		close(ref->fd);
	ref->fd = -1;
	ref->pid = 0;
}
