/* SPDX-License-Identifier: ISC */
/*
 * pjoin: wait for processes, children or not, and exit with their status
 * (Python's Process.join() and exitcode); with -k end pspawn jobs that
 * outlive -t; with -l list this user's jobs.
 *
 * Here: options and operands.  The waiting, the ending and the listing
 * are lib/jobs.c's (pidfds, pspawn's records, lost statuses, any number
 * of pids); the records lib/jobrec's.  pjoin signals nothing without -k.
 * Tier: tool (prints, exits).
 */
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dur.h"
#include "exitcode.h"
#include "jobs.h"
#include "parse.h"
#include "rundir.h"

static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct jobs_conf c;
	pid_t *pids;
	size_t i;
	int ch, list = 0;

	memset(&c, 0, sizeof(c));
	c.deadline = -1;
	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "ahklpt:v")) != -1) {
		switch (ch) {
		case 'a':
			c.any = 1;
			break;
		case 'h':
			cli_usage_help(usage);
		case 'k':
			c.kill = 1;
			break;
		case 'l':
			list = 1;
			break;
		case 'p':
			c.progress = 1;
			break;
		case 't':
			c.deadline = dur_parse_or_die(optarg);
			break;
		case 'v':
			c.verbose = 1;
			break;
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;
	/* -l lists, alone; -k needs the deadline it acts at. */
	if (!list && argc == 0)
		cli_usage_error(usage);
	if (list && argc != 0)
		cli_misuse("-l takes no PID");
	if (list && (c.any || c.kill || c.progress || c.verbose ||
	    c.deadline >= 0))
		cli_conflict("-l", c.any ? "-a" : c.kill ? "-k" : c.progress ?
		    "-p" : c.verbose ? "-v" : "-t");
	if (c.kill && c.deadline < 0)
		cli_misuse("-k needs -t");
	if (c.deadline >= 0)
		c.deadline += mono_now();
	c.dir = rundir_sub_or_die("jobs");
	if (list)
		return jobs_list(c.dir);

	if ((pids = calloc(argc, sizeof(*pids))) == NULL)
		err(PKIT_EXIT_FAIL, NULL);
	for (i = 0; i < (size_t)argc; i++) {
		pids[i] = num_parse_or_die(argv[i], 1, INT32_MAX, "pid");
		/* We could only end first: the wait would never end. */
		if (pids[i] == getpid())
			cli_misuse("pid %d: is pjoin itself", (int)pids[i]);
	}
	return jobs_join(&c, pids, argc);
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pjoin [-a] [-p] [-v] [-t DURATION [-k]] PID...\n"
	    "       pjoin -l\n");
	fputs("\n"
	    "  -a             return when any one PID has ended; print its pid\n"
	    "  -k             with -t: end our pspawn jobs then (TERM, KILL)\n"
	    "  -l             list this user's jobs: pid, state, start, command\n"
	    "  -p             show progress (done/total, rate, ETA) on stderr\n"
	    "  -t DURATION    wait at most DURATION, then exit 124\n"
	    "  -v             print \"PID STATUS\" for each process as it ends\n",
	    fp);
}
