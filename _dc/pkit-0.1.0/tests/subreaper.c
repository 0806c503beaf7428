/* SPDX-License-Identifier: ISC */
/*
 * subreaper: run a command as a child subreaper, so that orphans of the
 * command (daemons, keepers, grandchildren) are reparented to us and reaped
 * here, as a real init would, instead of piling up as zombies under a pid 1
 * that does not reap.  Exits with the command's status.  Once the command
 * has ended, waits up to SUBREAPER_GRACE seconds (default 5) for the
 * remaining descendants, then leaves them (and says how many).
 *
 * usage: subreaper CMD [ARG...]
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t forward;

static void
onsig(int sig)
{
	forward = sig;
}

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	const char *g;
	pid_t child, p;
	int st, status = 125, grace, left;

	if (argc < 2) {
		fprintf(stderr, "usage: subreaper CMD [ARG...]\n");
		return 125;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
		perror("subreaper: prctl");
		return 125;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if ((child = fork()) == -1) {
		perror("subreaper: fork");
		return 125;
	}
	if (child == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "subreaper: %s: %s\n", argv[1], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		p = waitpid(-1, &st, 0);
		if (p == -1 && errno == EINTR) {
			if (forward != 0 && child > 0)
				kill(child, forward);
			forward = 0;
			continue;
		}
		if (p == -1)
			break;
		if (p == child) {
			status = WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st);
			break;
		}
	}
	g = getenv("SUBREAPER_GRACE");
	grace = g != NULL ? atoi(g) : 5;
	for (left = grace * 50; left > 0; left--) {
		while ((p = waitpid(-1, &st, WNOHANG)) > 0)
			;
		if (p == -1 && errno == ECHILD)
			return status;
		nanosleep(&tick, NULL);
	}
	fprintf(stderr, "subreaper: descendants still running after %d s\n",
	    grace);
	return status;
}
