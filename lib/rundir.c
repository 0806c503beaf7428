/* SPDX-License-Identifier: ISC */
/*
 * rundir.c: find, create and vet the runtime directory.
 *
 * The directory holds pspawn's exit records and plock's lock files, so a
 * neighbour who could plant a symlink or write into it could make us lie
 * about a status or follow a link into their files.  We therefore open it
 * with O_NOFOLLOW and check the open descriptor (not the path) for owner
 * and mode; everything in it is then opened relative to that descriptor.
 *
 * $PKIT_DIR must be an absolute path: a relative one would name another
 * directory for a tool that changed its own (pspawn -C) than for the
 * shell that set it, so records would be written where pjoin never looks.
 * A relative $XDG_RUNTIME_DIR is ignored, as the XDG Base Directory
 * specification says to.
 *
 * Without $PKIT_DIR or $XDG_RUNTIME_DIR it is /dev/shm/pkit-UID: a tmpfs,
 * like $XDG_RUNTIME_DIR, because the queues live in it (queues/NAME,
 * mapped shared: on a disk file system a mapping is written back to disk),
 * and /tmp need not be a tmpfs.  A neighbour who creates that path first
 * gets it refused (not ours), never used.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "rundir.h"

static int	open_dir(int dfd, const char *path, const char **why);
static int	vet(int fd, const char **why);

/*
 * The path is put together with strlcpy/strlcat, not snprintf: each
 * process opens the directory once at start, and printf's machinery is
 * pages of libc it would otherwise not touch.
 */
int
rundir_open(char *path, size_t len, const char **why)
{
	const char *env;
	char uid[24], *u = uid + sizeof(uid);
	unsigned v;
	size_t n;

	if ((env = getenv("PKIT_DIR")) != NULL && *env != '\0') {
		n = strlcpy(path, env, len);
		if (*env != '/') {
			*why = "PKIT_DIR is not an absolute path";
			return -1;
		}
	} else if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && *env == '/') {
		strlcpy(path, env, len);
		n = strlcat(path, "/pkit", len);
	} else {
		*--u = '\0';
		v = (unsigned)geteuid();
		do
			*--u = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		strlcpy(path, "/dev/shm/pkit-", len);
		n = strlcat(path, u, len);
	}
	if (n >= len) {		/* a truncated copy makes the cat's sum >= len too */
		*why = "path too long";
		return -1;
	}
	return open_dir(AT_FDCWD, path, why);
}

int
rundir_sub(int dfd, const char *name, const char **why)
{
	return open_dir(dfd, name, why);
}

/*
 * Open the directory path (relative to dfd), creating it 0700 if
 * missing, never through a symlink, and vet it: an O_DIRECTORY fd, or -1
 * with *why set.
 */
static int
open_dir(int dfd, const char *path, const char **why)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd;

	/*
	 * Open first and create only if missing: the directory is there for
	 * every call but a user's first, and each process opens two levels.
	 */
	fd = openat(dfd, path, flags);
	if (fd == -1 && errno == ENOENT) {
		if (mkdirat(dfd, path, 0700) == -1 && errno != EEXIST) {
			*why = strerror(errno);
			return -1;
		}
		fd = openat(dfd, path, flags);
	}
	if (fd == -1) {
		*why = errno == ELOOP || errno == ENOTDIR ?
		    "not a directory (a symlink or a file)" : strerror(errno);
		return -1;
	}
	if (vet(fd, why) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A directory we may trust: ours, and writable by nobody else. */
static int
vet(int fd, const char **why)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = "not a directory";
		return -1;
	}
	if (st.st_uid != geteuid()) {
		*why = "not owned by you";
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		*why = "group or other writable";
		return -1;
	}
	return 0;
}
