/* SPDX-License-Identifier: ISC */
/*
 * flockloop: the limit for the ticket workload.  PROCS processes each do
 * ITERS times: flock(2) the lock file, read the counter file, write it
 * back plus one, unlock.  No exec, no shell: what the kernel lock costs.
 *
 * usage: flockloop PROCS ITERS LOCKFILE COUNTERFILE
 */
#include <sys/file.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int
bump(const char *lockf, const char *counter, int iters)
{
	char buf[32];
	ssize_t n;
	int i, lfd, cfd, len;

	if ((lfd = open(lockf, O_RDWR | O_CREAT, 0600)) == -1)
		return 1;
	for (i = 0; i < iters; i++) {
		if (flock(lfd, LOCK_EX) == -1)
			return 1;
		if ((cfd = open(counter, O_RDWR)) == -1)
			return 1;
		n = pread(cfd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		len = snprintf(buf, sizeof(buf), "%ld\n", strtol(buf, NULL, 10) + 1);
		if (ftruncate(cfd, 0) == -1 || pwrite(cfd, buf, len, 0) != len)
			return 1;
		close(cfd);
		flock(lfd, LOCK_UN);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	int i, procs, iters, st, bad = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: flockloop PROCS ITERS LOCKFILE COUNTER\n");
		return 125;
	}
	procs = atoi(argv[1]);
	iters = atoi(argv[2]);
	for (i = 0; i < procs; i++)
		if (fork() == 0)
			_exit(bump(argv[3], argv[4], iters));
	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	return bad;
}
