/* SPDX-License-Identifier: ISC */
/*
 * pqueue-rm: remove queues.  Processes blocked on one are woken and fail
 * with "queue removed"; a segment of ours that is corrupt or was left
 * half-created is removed all the same.  Every NAME is tried; the exit
 * status is 125 if any could not be removed.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "parse.h"
#include "pkit.h"

static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	const char *why;
	int ch, i, status = PKIT_EXIT_OK;

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
	if (argc < 1)
		cli_usage_error(usage);
	for (i = 0; i < argc; i++) {
		/* A redis: name is checked, never echoed, by pq_remove. */
		if (strncmp(argv[i], "redis:", 6) != 0 &&
		    strncmp(argv[i], "redis-sentinel://", 17) != 0 &&
		    (why = qname_invalid(argv[i])) != NULL) {
			/* Escaped as every tool does: one line, \xNN. */
			warnx("%s: bad queue name: %s", safe(argv[i]), why);
			status = PKIT_EXIT_FAIL;
		} else if (pq_remove(argv[i]) != 0) {
			warnx("%s", pq_error());
			status = PKIT_EXIT_FAIL;
		}
	}
	return status;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pqueue-rm NAME...\n");
}
