/* SPDX-License-Identifier: ISC */
/*
 * holders.c: walk one process's descriptors for locks on a file (see
 * holders.h).  The descriptor is matched by stat(2) through its magic
 * link in /proc/PID/fd, so a file renamed or reached by another path is
 * still found; its locks come from /proc/PID/fdinfo/FD, whose lines read
 *	lock:	1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "holders.h"

static int	one_want(void *, const struct stat *);
static int	one_fn(void *, const struct stat *, const struct fdlock *,
		    size_t);
static size_t	read_locks(const char *, struct fdlock *, size_t);

/* proc_fdlocks: one file, as proc_fdlocks_if wants it. */
struct one_file {
	dev_t		 dev;
	ino_t		 ino;
	int		(*fn)(void *, const struct fdlock *, size_t);
	void		*arg;
};

static int
one_want(void *arg, const struct stat *st)
{
	const struct one_file *o = arg;

	return st->st_dev == o->dev && st->st_ino == o->ino;
}

static int
one_fn(void *arg, const struct stat *st, const struct fdlock *lv, size_t n)
{
	const struct one_file *o = arg;

	(void)st;
	return o->fn(o->arg, lv, n);
}

int
proc_fdlocks(pid_t pid, dev_t dev, ino_t ino,
    int (*fn)(void *, const struct fdlock *, size_t), void *arg)
{
	struct one_file o = { dev, ino, fn, arg };

	return proc_fdlocks_if(pid, one_want, one_fn, &o);
}

int
proc_fdlocks_if(pid_t pid, int (*want)(void *, const struct stat *),
    int (*fn)(void *, const struct stat *, const struct fdlock *, size_t),
    void *arg)
{
	struct fdlock lv[FDLOCKS_MAX];
	char path[320];
	struct dirent *d;
	struct stat st;
	DIR *fds;
	size_t n;
	int dfd, r = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((fds = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while (r == 0 && (d = readdir(fds)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		/* stat through the magic link: is it a file we want at all? */
		if (fstatat(dfd, d->d_name, &st, 0) == -1 || !want(arg, &st))
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%s",
		    (long)pid, d->d_name);
		if ((n = read_locks(path, lv, FDLOCKS_MAX)) > 0)
			r = fn(arg, &st, lv, n);
	}
	closedir(fds);
	return r;
}

size_t
fd_locks(int fd, struct fdlock *lv, size_t max)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return read_locks(path, lv, max);
}

/* The "lock:" lines of one fdinfo file, parsed (0 if unreadable). */
static size_t
read_locks(const char *path, struct fdlock *lv, size_t max)
{
	char line[256], *p;
	FILE *fp;
	size_t n = 0;

	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "lock:", 5) != 0)
			continue;
		/* Past "lock:" and the lock's number "1:". */
		if ((p = strchr(line + 5, ':')) == NULL)
			continue;
		if (sscanf(p + 1, "%15s %*s %15s %ld %*s %lld", lv[n].kind,
		    lv[n].type, &lv[n].locker, &lv[n].start) == 4)
			n++;
	}
	fclose(fp);
	return n;
}
