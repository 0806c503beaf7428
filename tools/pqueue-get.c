/* SPDX-License-Identifier: ISC */
/*
 * pqueue-get: get messages from a queue (Queue.get) and write them to
 * stdout, each followed by a newline (NUL with -0).
 *
 * Delivery is at-least-once: messages are leased, written out with each
 * terminator last, and only then committed.  If stdout fails (EPIPE: the
 * reader went away) the messages not completely written go back to the
 * front of the queue, and we die of SIGPIPE as a filter should.  With
 * -c or -f, messages are leased, written and committed in batches (what
 * is available, up to 64 KiB): a process killed between a write and its
 * commit may deliver that batch again; -i prints ids to dedupe by.
 *
 * Structure: options, then one of the phases below on the open queue:
 * get_stream() prints; with CMD operands, pqw_run() (lib/pqworker.c)
 * runs CMD once per message (a worker), up to -j at once.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fault.h"
#include "pkit.h"
#include "pqworker.h"

struct opts {
	int64_t		timeout;	/* per message: -1 none, 0 -n, or -t */
	uint64_t	count;		/* 0 with follow: no limit */
	int		follow;
	int		delim;
	int		ids;
	uint32_t	max_attempts;	/* -r; 0: not given */
	unsigned	jobs;		/* -j */
	int64_t		task_timeout;	/* -T; 0 none */
	int		halt;		/* -H */
	const char	*joblog;	/* -L */
};

static int	get_stream(struct pq *, const struct opts *);
static int	run_worker(struct pq *, const struct opts *, char *const []);
static int	write_batch(struct pq *, const struct opts *,
		    const struct pq_msg *, size_t);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct opts o = { -1, 1, 0, '\n', 0, 0, 1, 0, 0, NULL };
	struct pq *q;
	int ch, cflag = 0, wflag = 0, r;

	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+0c:fHhij:L:nr:T:t:")) != -1) {
		switch (ch) {
		case '0':
			o.delim = '\0';
			break;
		case 'c':
			o.count = (uint64_t)num_parse_or_die(optarg, 1,
			    (long long)1 << 62, "count");
			cflag = 1;
			break;
		case 'f':
			o.follow = 1;
			break;
		case 'H':
			o.halt = 1;
			wflag = ch;
			break;
		case 'h':
			cli_usage_help(usage);
		case 'i':
			o.ids = 1;
			break;
		case 'j':
			o.jobs = (unsigned)num_parse_or_die(optarg, 1,
			    PQW_MAX_JOBS, "jobs");
			wflag = ch;
			break;
		case 'L':
			o.joblog = optarg;
			wflag = ch;
			break;
		case 'n':
			o.timeout = 0;
			break;
		case 'r':
			o.max_attempts = (uint32_t)num_parse_or_die(optarg, 1,
			    UINT32_MAX, "attempts");
			wflag = ch;
			break;
		case 'T':
			if ((o.task_timeout = dur_parse_or_die(optarg)) == 0)
				o.task_timeout = 1;	/* "0": at once */
			wflag = ch;
			break;
		case 't':
			o.timeout = dur_parse_or_die(optarg);
			break;
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		cli_usage_error(usage);
	if (cflag && o.follow)
		cli_conflict("-c", "-f");
	if (wflag && argc < 2)
		cli_misuse("-%c needs a command", wflag);
	if (o.follow)
		o.count = 0;
	name_check_or_die(argv[0], "queue");
	signal(SIGPIPE, SIG_IGN);
	pq_catch_signals();
	if ((r = pq_open(argv[0], &q)) != 0)
		errx(r, "%s", pq_error());
	if (argc > 1)
		r = run_worker(q, &o, argv + 1);	/* reports its errors */
	else if ((r = get_stream(q, &o)) == PKIT_EXIT_FAIL)
		errx(r, "%s", pq_error());
	if (r > 128 && pq_signalled())
		pq_die_by_signal();
	if (r == 128 + SIGPIPE) {
		/* Our reader went away (worker mode): die as a filter. */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	return r;
}

/*
 * Get COUNT messages (or, following, until the queue is closed and
 * drained), a batch at a time: each pq_get commits the batch before.
 */
static int
get_stream(struct pq *q, const struct opts *o)
{
	const struct pq_msg *m;
	uint64_t got = 0, want;
	size_t n;
	int r;

	for (;;) {
		want = o->count == 0 ? SIZE_MAX : o->count - got;
		r = pq_get(q, want > SIZE_MAX ? SIZE_MAX : (size_t)want,
		    o->timeout < 0 ? PQ_FOREVER : mono_now() + o->timeout,
		    &m, &n);
		if (r != 0)
			break;
		if ((r = write_batch(q, o, m, n)) != 0)
			return r;
		got += n;
		if (o->count != 0 && got >= o->count)
			return pq_commit(q, n, 0);
	}
	/* The stream's natural end: closed and drained. */
	if (r == PKIT_EXIT_NO && o->follow)
		return PKIT_EXIT_OK;
	return r;
}

/* Worker mode: CMD once per message, done when it exits 0; -r 3 by default. */
static int
run_worker(struct pq *q, const struct opts *o, char *const argv[])
{
	struct pqw_opts w;

	w.wait = o->timeout < 0 ? PQ_FOREVER : o->timeout;
	w.count = o->count;
	w.max_attempts = o->max_attempts != 0 ? o->max_attempts :
	    PQW_DEF_ATTEMPTS;
	w.delim = o->delim;
	w.ids = o->ids;
	w.jobs = o->jobs;
	w.task_timeout = o->task_timeout;
	w.halt = o->halt;
	w.joblog = o->joblog;
	return pqw_run(q, &w, argv);
}

/*
 * Write a batch with each terminator last, then keep the lease for the
 * caller to commit.  On a write failure commit what was written in full,
 * give the rest back, and report: EPIPE dies of SIGPIPE.
 */
static int
write_batch(struct pq *q, const struct opts *o, const struct pq_msg *m,
    size_t n)
{
	static char *out;
	static size_t *ends, cap;
	size_t need = 0, len = 0, off = 0, i, k, upto;
	ssize_t w;
	char idbuf[32];
	int e, idlen;

	for (i = 0; i < n; i++)
		need += m[i].len + 1 + (o->ids ? 22 : 0);
	if (need > cap) {
		free(out);
		free(ends);
		if ((out = malloc(need)) == NULL ||
		    (ends = calloc(n > need ? n : need, sizeof(*ends))) == NULL)
			err(PKIT_EXIT_FAIL, "malloc");
		cap = need;
	}
	for (i = 0; i < n; i++) {
		if (o->ids) {
			idlen = snprintf(idbuf, sizeof(idbuf), "%" PRIu64 "\t",
			    m[i].id);
			memcpy(out + len, idbuf, (size_t)idlen);
			len += (size_t)idlen;
		}
		memcpy(out + len, m[i].data, m[i].len);
		len += m[i].len;
		out[len++] = (char)o->delim;
		ends[i] = len;
	}
	while (off < len) {
		upto = len;
#ifdef PKIT_FAULTS
		if (off == 0 && len > 1)
			upto = len / 2;	/* two writes, to die in between */
#endif
		w = write(STDOUT_FILENO, out + off, upto - off);
		if (w == -1 && errno == EINTR && !pq_signalled())
			continue;
		if (w == -1 || pq_signalled()) {
			e = w == -1 ? errno : EINTR;
			if (w > 0)
				off += (size_t)w;
			for (k = 0; k < n && ends[k] <= off; k++)
				;
			pq_commit(q, k, 0);
			if (e == EINTR)
				return 128 + pq_signalled();
			if (e == EPIPE) {
				signal(SIGPIPE, SIG_DFL);
				raise(SIGPIPE);
			}
			errno = e;
			err(PKIT_EXIT_FAIL, "stdout");
		}
		off += (size_t)w;
		if (off == len / 2)
			FAULT("mid_write");
	}
	FAULT("after_write");
	return 0;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pqueue-get [-n | -t DURATION] [-c COUNT | -f] "
	    "[-0] [-i] NAME\n"
	    "       pqueue-get [-n | -t DURATION] [-c COUNT | -f] "
	    "[-j JOBS] [-T DURATION]\n"
	    "                  [-r MAXATTEMPTS] [-H] [-L JOBLOG] [-0] [-i] "
	    "NAME CMD [ARG...]\n");
	fputs("\n"
	    "  -n             do not wait: exit 124 at once if empty\n"
	    "  -t DURATION    wait at most DURATION per message, then exit 124\n"
	    "  -c COUNT       get COUNT messages (default 1)\n"
	    "  -f             follow: get until the queue is closed and drained\n"
	    "  -j JOBS        worker: run up to JOBS tasks at once (default 1)\n"
	    "  -T DURATION    worker: end a task's process group after DURATION\n"
	    "  -r MAXATTEMPTS worker: tries per message before NAME.dead (default 3)\n"
	    "  -H             worker: halt the pool at the first final failure\n"
	    "  -L JOBLOG      worker: append a line per attempt to JOBLOG\n"
	    "  -0             end each message with NUL, not newline\n"
	    "  -i             print each message's id and a tab before it\n", fp);
}
