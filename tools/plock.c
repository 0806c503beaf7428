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
 * A redis: name is a lease on a Redis server instead (lib/redislock.c):
 * there plock cannot chainload, since somebody must renew the lease and
 * let go of it afterwards, so it runs the command as its child.
 */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dur.h"
#include "execpipe.h"
#include "exitcode.h"
#include "lock.h"
#include "parse.h"
#include "redislock.h"

static int	query(const char *, int);
static void	busy(const char *);
static int	run_redis(const char *, enum lock_kind, int, int64_t, int,
		    char *const []);
static int	query_redis(const char *, int);
static void	busy_redis(const char *);
static void	print_holder(pid_t, int64_t, const char *, int);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct lock lk;
	enum lock_kind kind = LOCK_EXCLUSIVE;
	const char *name, *why, *targ = NULL;
	int64_t deadline = -1;
	int ch, count = 0, nowait = 0, quiet = 0, verbose = 0, r;

	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+c:hnqst:v")) != -1) {
		switch (ch) {
		case 'c':
			if (kind == LOCK_SHARED)
				cli_usage_error(usage);
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
				cli_usage_error(usage);
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
	if ((nowait && targ != NULL) || argc < 1)
		cli_usage_error(usage);
	name = argv[0];
	if (!redis_name_is(name) && strchr(name, '/') == NULL)
		name_check_or_die(name, "lock");

	/* Without a command: the query. */
	if (argc == 1) {
		if (!quiet || kind != LOCK_EXCLUSIVE || nowait || targ != NULL)
			cli_usage_error(usage);
		return redis_name_is(name) ? query_redis(name, verbose) :
		    query(name, verbose);
	}
	if (verbose)
		cli_usage_error(usage);
	if (targ != NULL) {
		int64_t ns = dur_parse_or_die(targ);

		deadline = ns == 0 ? 0 : mono_now() + ns;
	}
	if (nowait)
		deadline = 0;
	if (redis_name_is(name))
		return run_redis(name, kind, count, deadline, quiet, argv + 1);

	if (lock_open(&lk, name, kind, &why) == -1)
		errx(PKIT_EXIT_FAIL, "%s: %s", name, why);
	if ((r = lock_take(&lk, kind, count, deadline)) == -1)
		err(PKIT_EXIT_FAIL, "%s", name);
	if (r == 1) {
		if (!quiet)
			busy(name);
		return PKIT_EXIT_TIMEOUT;
	}
	lock_record(&lk);
	lock_exec(&lk, argv + 1);
	return execpipe_report(argv[1], errno);
}

/* plock -q: the holders' pids, one a line (with -v, since when). */
static int
query(const char *name, int verbose)
{
	struct lock_holder *hv;
	const char *why;
	int i, n;

	if ((n = lock_holders(name, &hv, &why)) == -1)
		errx(PKIT_EXIT_FAIL, "%s: %s", name, why);
	if (n == -2) {
		warnx("%s: %s", name, why);
		return PKIT_EXIT_OK;
	}
	for (i = 0; i < n; i++)
		print_holder(hv[i].pid, hv[i].since, NULL, verbose);
	free(hv);
	if (fflush(stdout) != 0)
		err(PKIT_EXIT_FAIL, "stdout");
	return n > 0 ? PKIT_EXIT_OK : PKIT_EXIT_NO;
}

/* The one line for -n and -t: who is in the way. */
static void
busy(const char *name)
{
	struct lock_holder *hv;
	const char *why;
	char pids[256];
	size_t len = 0;
	int i, n;

	if ((n = lock_holders(name, &hv, &why)) <= 0) {
		warnx("%s: busy", name);
		return;
	}
	pids[0] = '\0';
	for (i = 0; i < n && len < sizeof(pids) - 24; i++)
		len += snprintf(pids + len, sizeof(pids) - len, " %ld",
		    (long)hv[i].pid);
	if (i < n)
		strlcat(pids, " ...", sizeof(pids));
	warnx("%s: busy, held by pid%s%s", name, n > 1 ? "s" : "", pids);
	free(hv);
}

/* One line of -q: PID, with -v since when (and on Redis, which host). */
static void
print_holder(pid_t pid, int64_t since, const char *host, int verbose)
{
	char when[64];
	struct tm tm;
	time_t t;

	if (!verbose) {
		printf("%ld\n", (long)pid);
		return;
	}
	strlcpy(when, "-", sizeof(when));
	t = since / 1000000000;
	if (since >= 0 && localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
	printf("%ld %s%s%s\n", (long)pid, when, host != NULL ? " " : "",
	    host != NULL ? host : "");
}

/* plock on a redis: name: take the lease, run CMD as a child renewing it. */
static int
run_redis(const char *name, enum lock_kind kind, int count, int64_t deadline,
    int quiet, char *const argv[])
{
	struct rlock lk;
	const char *why;
	int r;

	signal(SIGPIPE, SIG_IGN);	/* a dropped connection is an error */
	if (rlock_open(&lk, name, kind, count, &why) == -1)
		errx(PKIT_EXIT_FAIL, "%s: %s", lk.url.shown, why);
	if ((r = rlock_take(&lk, deadline, &why)) == -1)
		errx(PKIT_EXIT_FAIL, "%s: %s", lk.url.shown, why);
	if (r == 1) {
		if (!quiet)
			busy_redis(name);
		return PKIT_EXIT_TIMEOUT;
	}
	return rlock_run(&lk, argv);
}

/* plock -q on a redis: name. */
static int
query_redis(const char *name, int verbose)
{
	struct rlock_holder *hv;
	const char *why, *shown;
	int i, n;

	if ((n = rlock_holders(name, &hv, &shown, &why)) == -1)
		errx(PKIT_EXIT_FAIL, "%s: %s", shown, why);
	for (i = 0; i < n; i++)
		print_holder(hv[i].pid, hv[i].since, hv[i].host, verbose);
	free(hv);
	if (fflush(stdout) != 0)
		err(PKIT_EXIT_FAIL, "stdout");
	return n > 0 ? PKIT_EXIT_OK : PKIT_EXIT_NO;
}

/* The busy line on Redis: the holders' pids and hosts. */
static void
busy_redis(const char *name)
{
	struct rlock_holder *hv;
	const char *why, *shown;
	char pids[256];
	size_t len = 0;
	int i, n;

	if ((n = rlock_holders(name, &hv, &shown, &why)) <= 0) {
		warnx("%s: busy", shown);
		return;
	}
	pids[0] = '\0';
	for (i = 0; i < n && len < sizeof(pids) - 24; i++)
		len += snprintf(pids + len, sizeof(pids) - len, " %ld",
		    (long)hv[i].pid);
	if (i < n)
		strlcat(pids, " ...", sizeof(pids));
	warnx("%s: busy, held by pid%s%s", shown, n > 1 ? "s" : "", pids);
	free(hv);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: plock [-s | -c COUNT] [-n | -t DURATION] [-q] NAME "
	    "CMD [ARG...]\n"
	    "       plock -q [-v] NAME\n");
	fputs("\n"
	    "  -s             shared: many shared holders, no exclusive one\n"
	    "  -c COUNT       a semaphore: at most COUNT holders at once\n"
	    "  -n             do not wait: exit 124 at once if busy\n"
	    "  -t DURATION    wait at most DURATION, then exit 124\n"
	    "  -q             with CMD: quiet on giving up; alone: print holders\n"
	    "  -v             with -q: print each holder's start time too\n", fp);
}
