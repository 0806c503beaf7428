/* SPDX-License-Identifier: ISC */
/*
 * plock: run a command under a named lock (Python's Lock, Semaphore).
 *
 * Chainloading, like s6-setlock: take the lock, then exec the command in
 * this same process with the lock's descriptor open.  There is no wrapper
 * left to die, to forward signals or to misreport: the command's pid is
 * plock's pid, its status is the shell's $?, and the kernel drops the lock
 * when the command and whatever inherited the descriptor have ended.
 * Without a command, -q asks who holds the lock.
 *
 * Re-entrant: a plock inside the lock it asks for (handed down by an
 * enclosing plock) takes nothing and runs the command at once; the lock
 * API decides (lib/lockapi.c).  Lock the rest of a script: -w prints the
 * lock file for the shell to open, -F FD locks that descriptor, so that
 * the shell holds the lock until it and its children end, like flock(1)'s
 * descriptor form.  A lease has no descriptor: -p PID takes it for the
 * script (PID, usually $$) and leaves a keeper behind that renews it and
 * releases it when PID ends (lock_keep, lib/lockrun.c).
 *
 * A redis: name is a lease on a Redis server instead: there plock cannot
 * chainload, since somebody must renew the lease and let go of it
 * afterwards, so it runs the command as its child.  Which backend a name
 * selects is the lock API's business (lib/lock.h): this file never asks.
 */
#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dur.h"
#include "exitcode.h"
#include "lock.h"
#include "parse.h"
#include "proc.h"

static int	query(const char *, int);
static void	busy(struct lock *);
static void	print_holder(const struct lock_holder *, int);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct lock *lk;
	struct pidref ref;
	enum lock_kind kind = LOCK_EXCLUSIVE;
	const char *name, *targ = NULL;
	char path[4096];
	int64_t deadline = -1;
	int ch, count = 0, nowait = 0, quiet = 0, verbose = 0, where = 0, r;
	int fd = -1;
	pid_t forpid = 0;

	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+c:F:hnp:qst:vw")) != -1) {
		switch (ch) {
		case 'F':
			fd = num_parse_or_die(optarg, 0, 65535, "descriptor");
			break;
		case 'p':
			forpid = num_parse_or_die(optarg, 2, INT_MAX, "pid");
			break;
		case 'w':
			where = 1;
			break;
		case 'c':
			if (kind == LOCK_SHARED)
				cli_conflict("-s", "-c");
			kind = LOCK_COUNTING;
			count = num_parse_or_die(optarg, 1, LOCK_COUNT_MAX,
			    "count");
			break;
		case 'h':
			cli_usage_help(usage);
		case 'n':
			nowait = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			if (kind == LOCK_COUNTING)
				cli_conflict("-s", "-c");
			kind = LOCK_SHARED;
			break;
		case 't':
			targ = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		cli_usage_error(usage);
	if (nowait && targ != NULL)
		cli_conflict("-n", "-t");
	name = argv[0];
	if (strchr(name, '/') == NULL)
		name_check_or_die(name, "lock");

	/* -w: the lock file, for the shell to open (exec 9>>FILE). */
	if (where) {
		if (argc > 1 || fd != -1 || forpid != 0 || quiet || verbose ||
		    kind != LOCK_EXCLUSIVE || nowait || targ != NULL)
			cli_misuse("-w takes NAME only");
		if (lock_open(&lk, name, kind, count) == -1 ||
		    lock_path(lk, path, sizeof(path)) == -1)
			errx(PKIT_EXIT_FAIL, "%s", lock_error());
		printf("%s\n", path);
		lock_close(lk);
		if (fflush(stdout) != 0)
			err(PKIT_EXIT_FAIL, "stdout");
		return PKIT_EXIT_OK;
	}
	if (fd != -1 && argc > 1)
		cli_conflict("-F", "a command");
	if (fd != -1 && verbose)
		cli_conflict("-F", "-v");
	if (forpid != 0 && fd != -1)
		cli_conflict("-p", "-F");
	if (forpid != 0 && argc > 1)
		cli_conflict("-p", "a command");
	if (forpid != 0 && verbose)
		cli_conflict("-p", "-v");

	/* Without a command: the query. */
	if (argc == 1 && fd == -1 && forpid == 0) {
		if (!quiet)
			cli_usage_error(usage);
		if (kind != LOCK_EXCLUSIVE || nowait || targ != NULL)
			cli_misuse("%s needs a command", kind == LOCK_SHARED ?
			    "-s" : kind == LOCK_COUNTING ? "-c" : nowait ?
			    "-n" : "-t");
		return query(name, verbose);
	}
	if (verbose)
		cli_conflict("-v", "a command");
	if (targ != NULL) {
		int64_t ns = dur_parse_or_die(targ);

		deadline = ns == 0 ? 0 : mono_now() + ns;
	}
	if (nowait)
		deadline = 0;

	if (lock_open(&lk, name, kind, count) == -1 ||
	    (fd != -1 && lock_adopt(lk, fd) == -1) ||
	    (forpid != 0 && lock_for(lk, forpid) == -1))
		errx(PKIT_EXIT_FAIL, "%s", lock_error());
	/* Pinned before the lock is taken: a pid reused since is not it. */
	if (forpid != 0 && pidref_open(&ref, forpid) == -1)
		err(PKIT_EXIT_FAIL, "pid %ld", (long)forpid);
	if ((r = lock_take(lk, deadline)) == -1)
		errx(PKIT_EXIT_FAIL, "%s", lock_error());
	if (r == 1) {
		if (!quiet)
			busy(lk);
		return PKIT_EXIT_TIMEOUT;
	}
	if (fd != -1) {
		/* The shell's copies of the descriptor hold it now. */
		lock_close(lk);
		return PKIT_EXIT_OK;
	}
	if (forpid != 0) {
		/* The keeper holds it now, for forpid. */
		r = lock_keep(lk, &ref);
		pidref_close(&ref);
		lock_close(lk);
		return r;
	}
	return lock_run(lk, argv + 1);
}

/* plock -q: the holders' pids, one a line (with -v, since when). */
static int
query(const char *name, int verbose)
{
	struct lock_holder *hv;
	struct lock *lk;
	int i, n;

	if (lock_peek(&lk, name) == -1 ||
	    (n = lock_holders(lk, &hv)) == -1)
		errx(PKIT_EXIT_FAIL, "%s", lock_error());
	if (n == -2) {
		warnx("%s", lock_error());
		return PKIT_EXIT_OK;
	}
	for (i = 0; i < n; i++)
		print_holder(&hv[i], verbose);
	free(hv);
	lock_close(lk);
	if (fflush(stdout) != 0)
		err(PKIT_EXIT_FAIL, "stdout");
	return n > 0 ? PKIT_EXIT_OK : PKIT_EXIT_NO;
}

/* The one line for -n and -t: who is in the way (the same connection). */
static void
busy(struct lock *lk)
{
	struct lock_holder *hv;
	char pids[256];
	size_t len = 0;
	int i, n;

	if ((n = lock_holders(lk, &hv)) <= 0) {
		warnx("%s: busy", lock_shown(lk));
		return;
	}
	pids[0] = '\0';
	for (i = 0; i < n && len < sizeof(pids) - 24; i++)
		len += snprintf(pids + len, sizeof(pids) - len, " %ld",
		    (long)hv[i].pid);
	if (i < n)
		strlcat(pids, " ...", sizeof(pids));
	warnx("%s: busy, held by pid%s%s", lock_shown(lk), n > 1 ? "s" : "",
	    pids);
	free(hv);
}

/* One line of -q: PID, with -v since when (and on Redis, which host). */
static void
print_holder(const struct lock_holder *h, int verbose)
{
	char when[64];
	struct tm tm;
	time_t t;

	if (!verbose) {
		printf("%ld\n", (long)h->pid);
		return;
	}
	strlcpy(when, "-", sizeof(when));
	t = h->since / 1000000000;
	if (h->since >= 0 && localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
	printf("%ld %s%s%s\n", (long)h->pid, when, h->host[0] != '\0' ? " " : "",
	    h->host);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: plock [-s | -c COUNT] [-n | -t DURATION] [-q] NAME "
	    "CMD [ARG...]\n"
	    "       plock -q [-v] NAME\n"
	    "       plock -F FD [-s | -c COUNT] [-n | -t DURATION] [-q] NAME\n"
	    "       plock -p PID [-s | -c COUNT] [-n | -t DURATION] [-q] NAME\n"
	    "       plock -w NAME\n");
	fputs("\n"
	    "  -s             shared: many shared holders, no exclusive one\n"
	    "  -c COUNT       a semaphore: at most COUNT holders at once\n"
	    "  -n             do not wait: exit 124 at once if busy\n"
	    "  -t DURATION    wait at most DURATION, then exit 124\n"
	    "  -q             with CMD: quiet on giving up; alone: print holders\n"
	    "  -v             with -q: print each holder's start time too\n"
	    "  -F FD          lock descriptor FD (open on NAME's lock file) "
	    "for the caller\n"
	    "  -p PID         Redis: hold NAME for process PID until it ends\n"
	    "  -w             print NAME's lock file, for the shell to open\n",
	    fp);
}
