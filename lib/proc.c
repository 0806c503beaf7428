/* SPDX-License-Identifier: ISC */
/*
 * proc.c: parse /proc/PID/stat.  The command name (field 2) may hold
 * spaces and parentheses, so fields are counted from its last ')'.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

int
proc_stat(pid_t pid, char *state, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, field;

	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		errno = ESRCH;
		return -1;
	}
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0') {
		errno = EINVAL;
		return -1;
	}
	p += 2;			/* field 3, the state */
	if (state != NULL)
		*state = *p;
	for (field = 3; field < 22 && p != NULL; field++)
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	if (p == NULL || *p < '0' || *p > '9') {
		errno = EINVAL;
		return -1;
	}
	if (start != NULL)
		*start = strtoull(p, NULL, 10);
	return 0;
}
