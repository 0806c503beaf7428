/* SPDX-License-Identifier: ISC */
/*
 * pairfloor spawn CMD [ARG...], pairfloor join [PID...]: the least that
 * a pair of commands in the shape of pspawn and pjoin can do, for
 * tests/bench/spawn.sh.  "spawn" vforks, execs CMD, prints its pid and
 * exits: no keeper, no record, no exec verdict.  "join" exits 0 at once,
 * without even waiting.  Linked as any small C command (glibc dynamic),
 * the loop p=$(pairfloor spawn CMD); pairfloor join $p times two forks
 * of bash and three execs: no design of pspawn and pjoin goes below it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int
main(int argc, char *argv[])
{
	pid_t pid;

	if (argc >= 2 && strcmp(argv[1], "join") == 0)
		return 0;
	if (argc < 3 || strcmp(argv[1], "spawn") != 0) {
		fprintf(stderr, "usage: pairfloor spawn CMD [ARG...] | "
		    "pairfloor join [PID...]\n");
		return 125;
	}
	if ((pid = vfork()) == -1)
		return 125;
	if (pid == 0) {
		execve(argv[2], argv + 2, environ);
		_exit(127);
	}
	printf("%d\n", (int)pid);
	return 0;
}
