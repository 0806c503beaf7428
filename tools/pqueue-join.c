/* SPDX-License-Identifier: ISC */
/*
 * pqueue-join: wait until every message put in a queue has been marked
 * done (Python's JoinableQueue.join), or until -t.
 */
#include <err.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "pkit.h"

static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct pq *q;
	int64_t deadline = PQ_FOREVER;
	int ch, r;

	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+ht:")) != -1) {
		switch (ch) {
		case 'h':
			cli_usage_help(usage);
		case 't':
			deadline = mono_now() + dur_parse_or_die(optarg);
			break;
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		cli_usage_error(usage);
	name_check_or_die(argv[0], "queue");
	pq_catch_signals();
	if ((r = pq_open(argv[0], &q)) != 0)
		errx(r, "%s", pq_error());
	r = pq_join(q, deadline);
	if (r > 128 && pq_signalled())
		pq_die_by_signal();
	if (r == PKIT_EXIT_FAIL)
		errx(r, "%s", pq_error());
	return r;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pqueue-join [-t DURATION] NAME\n");
	fputs("\n"
	    "  -t DURATION    wait at most DURATION, then exit 124\n", fp);
}
