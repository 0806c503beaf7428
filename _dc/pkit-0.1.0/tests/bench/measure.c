/* SPDX-License-Identifier: ISC */
/*
 * measure: run a command, then append "SECONDS PEAK_RSS_KIB" to OUTFILE:
 * the wall-clock time from fork to the command's exit, and the largest
 * resident set of the command and any descendant it waited for.  Exits
 * with the command's status (128+N for a signal), so a benchmark that
 * checks its own answer fails the run when the answer is wrong.
 *
 * usage: measure OUTFILE CMD [ARG...]
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct timespec t0, t1;
	struct rusage ru;
	FILE *out;
	pid_t pid;
	int st;

	if (argc < 3) {
		fprintf(stderr, "usage: measure OUTFILE CMD [ARG...]\n");
		return 125;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1) {
		perror("measure: fork");
		return 125;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1) {
		perror("measure: waitpid");
		return 125;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_CHILDREN, &ru);
	if ((out = fopen(argv[1], "a")) == NULL) {
		perror(argv[1]);
		return 125;
	}
	fprintf(out, "%.6f %ld\n", (double)(t1.tv_sec - t0.tv_sec) +
	    (t1.tv_nsec - t0.tv_nsec) / 1e9, ru.ru_maxrss);
	fclose(out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
