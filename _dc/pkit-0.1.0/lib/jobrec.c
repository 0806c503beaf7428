/* SPDX-License-Identifier: ISC */
/*
 * jobrec.c: pspawn's exit records (see jobrec.h).
 *
 * Plain system calls rather than stdio: a keeper writes two records per
 * process it starts, and pjoin reads them on every call, so the cost per
 * record is a handful of syscalls.  Record bodies are one short line.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobrec.h"

#define JOBREC_KEEP_SECS	3600	/* final records live this long */
#define JOBREC_CROWD_SECS	60	/* ... or this long in a crowd */

static int	write_all(int fd, const char *buf, size_t len);
static int	parse_name(const char *name, pid_t *pid,
		    unsigned long long *start);

int
jobrec_start_time(pid_t pid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		errno = ESRCH;
		return -1;
	}
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and ')': skip past
	 * the last ')'; field 3 follows, and the start time is field 22. */
	if ((p = strrchr(buf, ')')) == NULL) {
		errno = EINVAL;
		return -1;
	}
	p++;
	for (field = 3; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL) {
		errno = EINVAL;
		return -1;
	}
	*start = strtoull(p + 1, NULL, 10);
	return 0;
}

int
jobrec_put_running(int dfd, pid_t pid, unsigned long long start)
{
	char name[64];
	int fd, r;

	snprintf(name, sizeof(name), "%d.%llu", (int)pid, start);
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	r = write_all(fd, "running\n", 8);
	close(fd);
	return r;
}

int
jobrec_put_status(int dfd, pid_t pid, unsigned long long start, int how,
    int value)
{
	char name[64], tmp[72], body[32];
	int fd, len;

	snprintf(name, sizeof(name), "%d.%llu", (int)pid, start);
	/* A dot first: not a record name, and shell globs skip it. */
	snprintf(tmp, sizeof(tmp), ".%s", name);
	if (how == CLD_EXITED)
		len = snprintf(body, sizeof(body), "exit %d\n", value);
	else
		len = snprintf(body, sizeof(body), "signal %d\n", value);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if (write_all(fd, body, len) == -1) {
		close(fd);
		unlinkat(dfd, tmp, 0);
		return -1;
	}
	close(fd);
	if (renameat(dfd, tmp, dfd, name) == -1) {
		unlinkat(dfd, tmp, 0);
		return -1;
	}
	return 0;
}

int
jobrec_get(int dfd, pid_t pid, unsigned long long start, struct jobrec *r)
{
	char name[64], buf[64];
	ssize_t n;
	int fd, end;

	r->pid = pid;
	r->start = start;
	r->state = JOBREC_NONE;
	r->value = 0;
	snprintf(name, sizeof(name), "%d.%llu", (int)pid, start);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	r->state = JOBREC_RUNNING;
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* Only a whole line counts: anything else (empty, cut short, not
	 * ours) is taken as "no status yet". */
	end = -1;
	if (sscanf(buf, "exit %d%n", &r->value, &end) == 1 && end > 0 &&
	    buf[end] == '\n' && r->value >= 0 && r->value <= 255)
		r->state = JOBREC_EXITED;
	else if ((end = -1, sscanf(buf, "signal %d%n", &r->value,
	    &end)) == 1 && end > 0 && buf[end] == '\n' && r->value > 0 &&
	    r->value < 128)
		r->state = JOBREC_SIGNALED;
	else
		r->value = 0;
	return 0;
}

int
jobrec_find_newest(int dfd, const pid_t *pids, size_t n,
    unsigned long long *starts)
{
	struct dirent *de;
	DIR *d;
	unsigned long long st;
	pid_t pid;
	size_t i;
	int fd;

	for (i = 0; i < n; i++)
		starts[i] = 0;
	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (parse_name(de->d_name, &pid, &st) == -1)
			continue;
		for (i = 0; i < n; i++)
			if (pids[i] == pid && st > starts[i])
				starts[i] = st;
	}
	closedir(d);
	return 0;
}

int
jobrec_exit_code(const struct jobrec *r)
{
	if (r->state == JOBREC_SIGNALED)
		return 128 + r->value;
	return r->value;
}

void
jobrec_prune(int dfd)
{
	struct dirent *de;
	struct jobrec r;
	struct stat sb;
	DIR *d;
	unsigned long long st, now_st;
	time_t now, keep;
	size_t count = 0;
	pid_t pid;
	int fd;

	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		count++;
	now = time(NULL);
	keep = count > JOBREC_SOFT_MAX ? JOBREC_CROWD_SECS : JOBREC_KEEP_SECS;
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && de->d_name[1] != '\0' &&
		    de->d_name[1] != '.') {
			/* A temporary left by a keeper that died mid-write. */
			if (fstatat(dfd, de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == 0 &&
			    now - sb.st_mtime > JOBREC_CROWD_SECS)
				unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (parse_name(de->d_name, &pid, &st) == -1)
			continue;
		if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
		    now - sb.st_mtime <= keep)
			continue;
		if (jobrec_get(dfd, pid, st, &r) == -1)
			continue;
		/* A running record whose process still lives stays. */
		if (r.state == JOBREC_RUNNING &&
		    jobrec_start_time(pid, &now_st) == 0 && now_st == st)
			continue;
		unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* "PID.START", both decimal and non-zero: a record's name. */
static int
parse_name(const char *name, pid_t *pid, unsigned long long *start)
{
	unsigned long long v = 0;
	const char *p;

	for (p = name; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (*p - '0')) > 0x7fffffff)
			return -1;
	if (p == name || *p != '.' || v == 0)
		return -1;
	*pid = (pid_t)v;
	v = 0;
	for (name = ++p; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	if (p == name || *p != '\0')
		return -1;
	*start = v;
	return 0;
}
