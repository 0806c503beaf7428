/* SPDX-License-Identifier: ISC */
/*
 * pqueue-done: task_done.  Without ID, mark COUNT (default 1) tasks done;
 * more than are unfinished exits 1 with the count left at 0, as Python
 * raises ValueError.  With ID (from pqueue-get -i), mark that message
 * done at most once: a redelivered duplicate cannot be counted twice.
 */
#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "pkit.h"

static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct pq *q;
	long long count = 1, id = 0;
	int ch, cflag = 0, already, r;

	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			count = num_parse_or_die(optarg, 1, (long long)1 << 40,
			    "count");
			cflag = 1;
			break;
		case 'h':
			cli_usage_help(usage);
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		cli_usage_error(usage);
	if (argc == 2 && cflag)
		cli_conflict("-c", "ID");
	name_check_or_die(argv[0], "queue");
	if (argc == 2)
		id = num_parse_or_die(argv[1], 1, LLONG_MAX, "message id");
	if ((r = pq_open(argv[0], &q)) != 0)
		errx(r, "%s", pq_error());
	if (argc == 2)
		r = pq_done_id(q, (uint64_t)id, &already);
	else
		r = pq_done(q, (uint64_t)count);
	if (r != 0)
		errx(r, "%s", pq_error());
	return PKIT_EXIT_OK;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pqueue-done [-c COUNT] NAME [ID]\n");
	fputs("\n"
	    "  -c COUNT       mark COUNT tasks done at once\n", fp);
}
