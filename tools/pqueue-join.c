/* SPDX-License-Identifier: ISC */
/*
 * pqueue-join: wait until every message put in a queue has been marked
 * done (Python's JoinableQueue.join), or until -t.
 *
 * With -p the wait is cut into slices (0.2 s on a terminal, 1 s
 * otherwise); after each, a snapshot (pq_stat) gives done = puts -
 * unfinished of total = puts, and lib/progress.c the line, printed on
 * stderr only: redrawn with \r on a terminal, one line per slice else.
 */
#include <err.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "pkit.h"
#include "progress.h"

static int	join_progress(struct pq *, int64_t);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct pq *q;
	int64_t deadline = PQ_FOREVER;
	int ch, r, pflag = 0;

	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+hpt:")) != -1) {
		switch (ch) {
		case 'h':
			cli_usage_help(usage);
		case 'p':
			pflag = 1;
			break;
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
	pq_open_deadline(deadline);	/* -t bounds a failover met opening */
	if ((r = pq_open(argv[0], &q)) != 0)
		errx(r, "%s", pq_error());
	r = pflag ? join_progress(q, deadline) : pq_join(q, deadline);
	if (r > 128 && pq_signalled())
		pq_die_by_signal();
	if (r == PKIT_EXIT_FAIL)
		errx(r, "%s", pq_error());
	return r;
}

/*
 * pq_join in slices, the progress line after each.  A snapshot with
 * nothing unfinished is left to the last line, printed once the join
 * has returned: else a join with all done printed that line twice.
 */
static int
join_progress(struct pq *q, int64_t deadline)
{
	struct progress p = { 0, 0, 0 };
	struct pq_info info;
	char line[160];
	int tty = isatty(STDERR_FILENO), r, shown = 0;
	int64_t every = tty ? PROGRESS_TTY_NS : PROGRESS_LINE_NS, until;

	for (;;) {
		if (pq_stat(q, &info, deadline) == 0 && info.unfinished > 0) {
			progress_format(&p, info.puts - info.unfinished,
			    info.puts, mono_now(), line, sizeof(line));
			fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line);
			shown = 1;
		}
		until = mono_now() + every;
		if (deadline >= 0 && deadline < until)
			until = deadline;
		r = pq_join(q, until);
		if (r != PKIT_EXIT_TIMEOUT || (deadline >= 0 &&
		    mono_now() >= deadline))
			break;
	}
	if (r == 0 && pq_stat(q, &info, PQ_FOREVER) == 0) {
		progress_format(&p, info.puts - info.unfinished, info.puts,
		    mono_now(), line, sizeof(line));
		fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line);
		shown = 1;
	}
	if (tty && shown)
		fputc('\n', stderr);
	return r;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pqueue-join [-p] [-t DURATION] NAME\n");
	fputs("\n"
	    "  -p             show progress (done/total, rate, ETA) on stderr\n"
	    "  -t DURATION    wait at most DURATION, then exit 124\n", fp);
}
