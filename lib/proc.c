/* SPDX-License-Identifier: ISC */
/*
 * proc.c: the Process module's readers and handles (see proc.h).
 *
 * /proc/PID/stat: the command name (field 2) may hold spaces and
 * parentheses, so fields are counted from its last ')'.  pidfds: the raw
 * system calls, wrapped once here (glibc has wrappers only from 2.36).
 * Tier: engine - no printing, no exiting; -1 and errno.
 */
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dur.h"
#include "proc.h"

/* From the kernel UAPI <linux/pidfd.h> (6.15); older headers lack it. */
struct pkit_pidfd_info {
	uint64_t	mask;
	uint64_t	cgroupid;
	uint32_t	pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid;
	uint32_t	fsuid, fsgid;
	int32_t		exit_code;
	uint32_t	coredump_mask;
	uint32_t	spare1;
};
#define PKIT_PIDFD_GET_INFO	_IOWR(0xFF, 11, struct pkit_pidfd_info)
#define PKIT_PIDFD_INFO_EXIT	(1ULL << 3)

static ssize_t	read_small(pid_t, const char *, char *, size_t);
static int	pidref_alive(const struct pidref *);

int
proc_descends(pid_t pid, pid_t ancestor)
{
	struct proc_info pi;
	int depth;

	/* Bounded: a chain of parents cannot be longer than pid_max. */
	for (depth = 0; pid > 1 && depth < 4 * 1024 * 1024; depth++) {
		if (pid == ancestor)
			return 1;
		if (proc_read(pid, &pi) == -1)
			return 0;
		pid = pi.ppid;
	}
	return pid == ancestor;
}

int
proc_read(pid_t pid, struct proc_info *pi)
{
	char buf[1024], *p, *end;
	int field;

	if (read_small(pid, "stat", buf, sizeof(buf)) == -1)
		return -1;
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		goto bad;
	p += 2;			/* field 3, the state */
	pi->state = *p;
	if ((p = strchr(p, ' ')) == NULL)
		goto bad;
	p++;			/* field 4, the parent */
	pi->ppid = (pid_t)strtol(p, &end, 10);
	if (end == p)
		goto bad;
	for (field = 4; field < 22 && p != NULL; field++)
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	if (p == NULL || *p < '0' || *p > '9')
		goto bad;
	pi->start = strtoull(p, NULL, 10);	/* field 22 */
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
proc_stat(pid_t pid, char *state, unsigned long long *start)
{
	struct proc_info pi;

	if (proc_read(pid, &pi) == -1)
		return -1;
	if (state != NULL)
		*state = pi.state;
	if (start != NULL)
		*start = pi.start;
	return 0;
}

int
proc_comm(pid_t pid, char *buf, size_t len)
{
	ssize_t n;

	if ((n = read_small(pid, "comm", buf, len)) == -1)
		return -1;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/*
 * Read /proc/PID/NAME (one read: these files are small) into BUF, NUL
 * terminated: its length, or -1 with errno (ESRCH if PID is gone).
 */
static ssize_t
read_small(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	if (pid <= 0 || len == 0) {
		errno = ESRCH;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0) {
		errno = ESRCH;
		return -1;
	}
	buf[n] = '\0';
	return n;
}

/* A kernel without pidfd_open says so once: not asked again (pjoin
 * would ask for every pid it watches, every LOOK_NS).  EPERM, which
 * pidfd_open itself never returns, is a seccomp filter's answer (some
 * container runtimes give it for the calls they do not know): the same
 * as ENOSYS, for the callers too. */
int
proc_pidfd_open(pid_t pid)
{
	static int nosys;
	int fd;

	if (nosys) {
		errno = ENOSYS;
		return -1;
	}
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1 &&
	    (errno == ENOSYS || errno == EPERM)) {
		nosys = 1;
		errno = ENOSYS;
	}
	return fd;
}

int
proc_pidfd_signal(int fd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

int
proc_pidfd_reaped(int fd)
{
	struct pollfd pfd;

	if (fd == -1)
		return 0;
	pfd.fd = fd;
	pfd.events = 0;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP);
}

int
proc_pidfd_wait(int fd, int64_t ns)
{
	struct pollfd pfd;
	int64_t deadline;
	int r;

	deadline = ns < 0 ? -1 : mono_now() + ns;
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		r = poll(&pfd, 1, deadline_ms(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		return r > 0;
	}
}

int
proc_pidfd_status(int fd, int *wstatus)
{
	struct pkit_pidfd_info info;

	if (fd == -1)
		return -1;
	memset(&info, 0, sizeof(info));
	info.mask = PKIT_PIDFD_INFO_EXIT;
	if (ioctl(fd, PKIT_PIDFD_GET_INFO, &info) == -1 ||
	    !(info.mask & PKIT_PIDFD_INFO_EXIT))
		return -1;
	*wstatus = info.exit_code;
	return 0;
}

long long
proc_start_epoch(unsigned long long start)
{
	static long long btime = -1;
	char buf[256], *p;
	FILE *fp;
	long hz;

	if (btime == -1 && (fp = fopen("/proc/stat", "re")) != NULL) {
		while (fgets(buf, sizeof(buf), fp) != NULL)
			if (strncmp(buf, "btime ", 6) == 0) {
				btime = strtoll(buf + 6, &p, 10);
				break;
			}
		fclose(fp);
	}
	if (btime == -1 || (hz = sysconf(_SC_CLK_TCK)) <= 0)
		return -1;
	return btime + (long long)(start / (unsigned long long)hz);
}

void
proc_children_ours(void)
{
	signal(SIGCHLD, SIG_DFL);	/* glibc: flags SA_RESTART alone */
}

void
proc_nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
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
	ref->fd = proc_pidfd_open(pid);
	if (ref->fd == -1 && (errno == EINVAL || errno == ENOENT))
		errno = ESRCH;		/* a thread, not a process (6.9: ENOENT) */
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
		return proc_pidfd_signal(ref->fd, sig);
	if (!pidref_alive(ref)) {
		errno = ESRCH;
		return -1;
	}
	return kill(ref->pid, sig);
}

int
pidref_wait(const struct pidref *ref, int64_t ns)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int64_t deadline;

	if (ref->fd != -1)
		return proc_pidfd_wait(ref->fd, ns);
	deadline = ns < 0 ? -1 : mono_now() + ns;
	while (pidref_alive(ref)) {
		if (deadline >= 0 && mono_now() >= deadline)
			return 0;
		nanosleep(&tick, NULL);
	}
	return 1;
}

void
pidref_close(struct pidref *ref)
{
	if (ref->fd != -1)
		close(ref->fd);
	ref->fd = -1;
	ref->pid = 0;
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
