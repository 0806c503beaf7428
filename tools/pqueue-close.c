/* SPDX-License-Identifier: ISC */
/*
 * pqueue-close: close a queue.  Later puts fail (exit 1); gets drain what
 * is left, then every blocked and later get returns 1: the end of stream
 * that replaces sentinel messages.
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
	int ch, r;

	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+h")) != -1) {
		switch (ch) {
		case 'h':
			cli_usage_help(usage);
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		cli_usage_error(usage);
	name_check_or_die(argv[0], "queue");
	if ((r = pq_open(argv[0], &q)) != 0 || (r = pq_close(q)) != 0)
		errx(r, "%s", pq_error());
	return PKIT_EXIT_OK;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pqueue-close NAME\n");
}
