/* SPDX-License-Identifier: ISC */
/*
 * spawnloop N CMD [ARG...]: start CMD N times, one after the other, with
 * posix_spawnp and waitpid: the lower bound for starting and joining a
 * process from C, for tests/bench/spawn.sh.  Exits 1 if any run failed.
 */
#include <sys/wait.h>

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int
main(int argc, char *argv[])
{
	pid_t pid;
	long i, n;
	int st, bad = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: spawnloop N CMD [ARG...]\n");
		return 125;
	}
	n = strtol(argv[1], NULL, 10);
	for (i = 0; i < n; i++) {
		if (posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2,
		    environ) != 0)
			return 125;
		if (waitpid(pid, &st, 0) == -1 || st != 0)
			bad = 1;
	}
	return bad;
}
