/* SPDX-License-Identifier: ISC */
/*
 * jobrec.c: pspawn's exit records (see jobrec.h).
 *
 * Plain system calls rather than stdio: a keeper writes two records per
 * process it starts, and pjoin reads them on every call, so the cost per
 * record is a handful of syscalls.  A body is two short lines: the status
 * slot and the command.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobrec.h"
#include "proc.h"

#define JOBREC_KEEP_SECS	3600	/* final records live this long */
#define JOBREC_CROWD_SECS	60	/* ... or this long in a crowd */
#define JOBREC_PRUNE_SECS	30	/* a directory is pruned at most this often */
#define JOBREC_STAMP		".pruned"	/* ... as this file's mtime tells */

#define SLOT_TEXT	(JOBREC_SLOT - 10)	/* before " HASH\n" */

static int	write_all(int fd, const char *buf, size_t len);
static int	parse_name(const char *name, pid_t *pid);
static void	make_slot(char *, unsigned long long, int, int);
static int	parse_body(char *, size_t, struct jobrec *);

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

/* FNV-1a, 32 bits: the slot's check against a torn write. */
static uint32_t
fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

/*
 * The status slot (JOBREC_SLOT bytes, not NUL-terminated) of state HOW:
 * 0 running, CLD_EXITED exit VALUE, else signal VALUE.
 */
static void
make_slot(char *slot, unsigned long long start, int how, int value)
{
	char text[SLOT_TEXT + 1];
	int n;

	if (how == 0)
		n = snprintf(text, sizeof(text), "%llu running", start);
	else
		n = snprintf(text, sizeof(text), "%llu %s %d", start,
		    how == CLD_EXITED ? "exit" : "signal", value);
	memset(text + n, ' ', SLOT_TEXT - n);
	memcpy(slot, text, SLOT_TEXT);
	snprintf(text, sizeof(text), " %08x\n", fnv1a(slot, SLOT_TEXT));
	memcpy(slot + SLOT_TEXT, text, 10);
}

int
jobrec_put_running(int dfd, pid_t pid, unsigned long long start,
    char *const argv[])
{
	char body[JOBREC_SLOT + 4 + JOBREC_CMD_MAX + 1], *p, *end;
	const char *a;
	size_t i;

	make_slot(body, start, 0, 0);
	p = body + JOBREC_SLOT;
	end = p + 4 + JOBREC_CMD_MAX;
	memcpy(p, "cmd ", 4);
	p += 4;
	for (i = 0; argv != NULL && argv[i] != NULL && p < end; i++) {
		if (i > 0)
			*p++ = ' ';
		/* One line: control characters read as '?'. */
		for (a = argv[i]; *a != '\0' && p < end; a++)
			*p++ = (unsigned char)*a < 0x20 || *a == 0x7f ? '?' :
			    *a;
	}
	*p++ = '\n';
	return put(dfd, pid, body, p - body);
}

int
jobrec_put_status(int dfd, pid_t pid, unsigned long long start, int how,
    int value)
{
	char name[32], slot[JOBREC_SLOT], old[JOBREC_SLOT + 1];
	struct jobrec r;
	ssize_t n;
	int fd;

	make_slot(slot, start, how, value);
	snprintf(name, sizeof(name), "%d.job", (int)pid);
	/* Our own running record: overwrite its slot, where it is. */
	if ((fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		n = pread(fd, old, JOBREC_SLOT, 0);
		if (n == JOBREC_SLOT && parse_body(old, n, &r) == 0 &&
		    r.start == start && r.state == JOBREC_RUNNING) {
			n = pwrite(fd, slot, JOBREC_SLOT, 0);
			close(fd);
			if (n == JOBREC_SLOT)
				return 0;
			if (n != -1)
				errno = EIO;
			return -1;
		}
		close(fd);
	}
	return put(dfd, pid, slot, JOBREC_SLOT);
}

int
jobrec_get(int dfd, pid_t pid, unsigned long long start, struct jobrec *r)
{
	char name[32], buf[JOBREC_SLOT + 4 + JOBREC_CMD_MAX + 8];
	ssize_t n;
	int fd;

	snprintf(name, sizeof(name), "%d.job", (int)pid);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		memset(r, 0, sizeof(*r));
		r->pid = pid;
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (parse_body(buf, n < 0 ? 0 : n, r) == -1 ||
	    (start != 0 && r->start != start)) {
		r->state = JOBREC_NONE;
		r->pid = pid;
		return -1;		/* not ours, or another process */
	}
	r->pid = pid;
	return 0;
}

/*
 * Parse a record body of N bytes (BUF has room for a NUL after them) into
 * *r (pid left 0): 0, or -1 if it is not a record.
 */
static int
parse_body(char *buf, size_t n, struct jobrec *r)
{
	char line[SLOT_TEXT + 2], *p, *nl;
	unsigned long long st;
	size_t len;
	int end = -1, torn = 0;

	memset(r, 0, sizeof(*r));
	buf[n] = '\0';
	p = buf;
	if (n >= JOBREC_SLOT && buf[JOBREC_SLOT - 1] == '\n' &&
	    buf[SLOT_TEXT] == ' ' && strspn(buf + SLOT_TEXT + 1,
	    "0123456789abcdef") == 8) {
		/* Version 2: the slot, checked, then the command. */
		torn = strtoul(buf + SLOT_TEXT + 1, NULL, 16) !=
		    fnv1a(buf, SLOT_TEXT);
		len = SLOT_TEXT;
		while (len > 0 && buf[len - 1] == ' ')
			len--;
		memcpy(line, buf, len);
		line[len] = '\n';
		line[len + 1] = '\0';
		p = buf + JOBREC_SLOT;
		if (strncmp(p, "cmd ", 4) == 0 &&
		    (nl = strchr(p + 4, '\n')) != NULL) {
			len = nl - (p + 4);
			if (len > JOBREC_CMD_MAX)
				len = JOBREC_CMD_MAX;
			memcpy(r->cmd, p + 4, len);
			r->cmd[len] = '\0';
		}
		p = line;
	}
	if (sscanf(p, "%llu %n", &st, &end) != 1 || end <= 0 || st == 0)
		return -1;
	r->start = st;
	r->state = JOBREC_RUNNING;
	if (torn)	/* a final write caught half done: it was running */
		return 0;
	p += end;
	/* Only a whole line counts as a status. */
	end = -1;
	if (sscanf(p, "exit %d%n", &r->value, &end) == 1 && end > 0 &&
	    p[end] == '\n' && r->value >= 0 && r->value <= 255)
		r->state = JOBREC_EXITED;
	else if ((end = -1, sscanf(p, "signal %d%n", &r->value, &end)) ==
	    1 && end > 0 && p[end] == '\n' && r->value > 0 && r->value < NSIG)
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

int
jobrec_alive(const struct jobrec *r)
{
	unsigned long long st;

	return proc_stat(r->pid, NULL, &st) == 0 && st == r->start;
}

int
jobrec_each(int dfd, void (*fn)(const struct jobrec *, void *), void *arg)
{
	struct dirent *de;
	struct jobrec r;
	DIR *d;
	pid_t pid;
	int fd;

	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (parse_name(de->d_name, &pid) == 0 &&
		    jobrec_get(dfd, pid, 0, &r) == 0)
			fn(&r, arg);
	closedir(d);
	return 0;
}

int
jobrec_prune_due(int dfd)
{
	struct stat sb;
	time_t now = time(NULL);
	int fd;

	/*
	 * A stamp from the future (the clock was set back) is stale too; but
	 * one a second ahead is fresh: file systems may stamp from a finer
	 * clock than time(2) reads, already in the next second.
	 */
	if (fstatat(dfd, JOBREC_STAMP, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    sb.st_mtime <= now + 1 && now - sb.st_mtime < JOBREC_PRUNE_SECS)
		return 0;
	if (utimensat(dfd, JOBREC_STAMP, NULL, AT_SYMLINK_NOFOLLOW) == -1 &&
	    (fd = openat(dfd, JOBREC_STAMP, O_WRONLY | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) != -1)
		close(fd);
	return 1;
}

void
jobrec_prune(int dfd)
{
	struct dirent *de;
	struct jobrec r;
	struct stat sb;
	DIR *d;
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
		    r.state == JOBREC_RUNNING && jobrec_alive(&r))
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
