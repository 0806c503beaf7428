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
#include "proc.h"

#define JOBREC_KEEP_SECS	3600	/* final records live this long */
#define JOBREC_CROWD_SECS	60	/* ... or this long in a crowd */

static int	write_all(int fd, const char *buf, size_t len);
static int	parse_name(const char *name, pid_t *pid);

int
jobrec_start_time(pid_t pid, unsigned long long *start)
{
	return proc_stat(pid, NULL, start);
}

/* Write body to the record of pid atomically: a temporary, then rename. */
static int
put(int dfd, pid_t pid, const char *body, size_t len)
{
	char name[32], tmp[40];
	int fd;

	snprintf(name, sizeof(name), "%d.job", (int)pid);
	/* A dot first: not a record name, and shell globs skip it. */
	snprintf(tmp, sizeof(tmp), ".%s", name);
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
jobrec_put_running(int dfd, pid_t pid, unsigned long long start)
{
	char body[64];
	int len;

	len = snprintf(body, sizeof(body), "%llu running\n", start);
	return put(dfd, pid, body, len);
}

int
jobrec_put_status(int dfd, pid_t pid, unsigned long long start, int how,
    int value)
{
	char body[64];
	int len;

	if (how == CLD_EXITED)
		len = snprintf(body, sizeof(body), "%llu exit %d\n", start,
		    value);
	else
		len = snprintf(body, sizeof(body), "%llu signal %d\n", start,
		    value);
	return put(dfd, pid, body, len);
}

int
jobrec_get(int dfd, pid_t pid, unsigned long long start, struct jobrec *r)
{
	char name[32], buf[96], *p;
	unsigned long long st;
	ssize_t n;
	int fd, end = -1;

	r->pid = pid;
	r->start = 0;
	r->state = JOBREC_NONE;
	r->value = 0;
	snprintf(name, sizeof(name), "%d.job", (int)pid);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %n", &st, &end) != 1 || end <= 0 || st == 0 ||
	    (start != 0 && st != start))
		return -1;		/* not ours, or another process */
	r->start = st;
	r->state = JOBREC_RUNNING;
	p = buf + end;
	/* Only a whole line counts as a status. */
	end = -1;
	if (sscanf(p, "exit %d%n", &r->value, &end) == 1 && end > 0 &&
	    p[end] == '\n' && r->value >= 0 && r->value <= 255)
		r->state = JOBREC_EXITED;
	else if ((end = -1, sscanf(p, "signal %d%n", &r->value, &end)) ==
	    1 && end > 0 && p[end] == '\n' && r->value > 0 && r->value < 128)
		r->state = JOBREC_SIGNALED;
	else
		r->value = 0;
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
	unsigned long long now_st;
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
		if (de->d_name[0] == '.' && parse_name(de->d_name + 1,
		    &pid) == 0) {
			/* A temporary left by a keeper that died mid-write. */
			if (fstatat(dfd, de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == 0 &&
			    now - sb.st_mtime > JOBREC_CROWD_SECS)
				unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (parse_name(de->d_name, &pid) == -1)
			continue;
		if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
		    now - sb.st_mtime <= keep)
			continue;
		/* A running record whose process still lives stays. */
		if (jobrec_get(dfd, pid, 0, &r) == 0 &&
		    r.state == JOBREC_RUNNING &&
		    jobrec_start_time(pid, &now_st) == 0 && now_st == r.start)
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

/* "PID.job", PID decimal and non-zero: a record's name. */
static int
parse_name(const char *name, pid_t *pid)
{
	unsigned long long v = 0;
	const char *p;

	for (p = name; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (*p - '0')) > 0x7fffffff)
			return -1;
	if (p == name || v == 0 || strcmp(p, ".job") != 0)
		return -1;
	*pid = (pid_t)v;
	return 0;
}
