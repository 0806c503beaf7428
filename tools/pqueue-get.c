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
 * A stream's stdout, if a pipe, is grown to 256 KiB (cli_grow_pipe): with
 * 64 KiB a batch's write often waited for the reader, and the getter
 * slept and woke for every batch.  64-byte lines, 1 -> 1: 74-78 ms ->
 * 59-62 ms (a pipe through cat: 47 ms); 65000-byte messages 342 -> 314
 * ms for 512 MiB (interleaved rounds, 2026-12-07).  The bytes in the
 * pipe were delivered either way: the pipe's size changes no promise.
 *
 * Structure: options, then one of the phases below on the open queue:
 * get_stream() prints; with CMD operands, pqw_run() (lib/pqworker.c)
 * runs CMD once per message (a worker), up to -j at once.
 */
#include <sys/uio.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fault.h"
#include "pkit.h"
#include "pqworker.h"

#define BYREF	1024	/* messages this long are written from the lease */
#define OUTPIPE	(256 * 1024)	/* a stream's stdout pipe is grown to this */
#define BLOCKED	128	/* messages up to this long copied in 16-byte blocks */

struct opts {
	int64_t		timeout;	/* per message: -1 none, 0 -n, or -t */
	int		follow;
	struct pqw_opts	w;		/* count, delim, ids, and the worker's */
};

/*
 * write_batch's buffers, grown as batches need.  They live in
 * get_stream's frame, not in static storage: a first read of a static
 * maps bss's zero page and the first write faults again, two page faults
 * in a process that gets one message.
 */
struct outbuf {
	char		*out;		/* short messages, ids, terminators */
	size_t		*ends;		/* where each message's output ends */
	struct iovec	*iov;
	size_t		 cap, ncap;	/* bytes of out; entries of ends */
};

static int	get_stream(struct pq *, const struct opts *);
static int	get_batches(struct pq *, const struct opts *,
		    struct outbuf *);
static int	write_batch(struct pq *, const struct opts *, struct outbuf *,
		    const struct pq_msg *, size_t);
static ssize_t	write_iov(const struct iovec *, size_t, size_t, size_t);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct opts o = { -1, 0, { PQ_FOREVER, 1, PQW_DEF_ATTEMPTS, '\n', 0, 1,
	    0, 0, NULL } };
	struct pq *q;
	int ch, cflag = 0, nflag = 0, wflag = 0, r;

	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+0c:fHhij:L:nr:T:t:")) != -1) {
		switch (ch) {
		case '0':
			o.w.delim = '\0';
			break;
		case 'c':
			o.w.count = (uint64_t)num_parse_or_die(optarg, 1,
			    (long long)1 << 62, "count");
			cflag = 1;
			break;
		case 'f':
			o.follow = 1;
			break;
		case 'H':
			o.w.halt = 1;
			wflag = ch;
			break;
		case 'h':
			cli_usage_help(usage);
		case 'i':
			o.w.ids = 1;
			break;
		case 'j':
			o.w.jobs = (unsigned)num_parse_or_die(optarg, 1,
			    PQW_MAX_JOBS, "jobs");
			wflag = ch;
			break;
		case 'L':
			o.w.joblog = optarg;
			wflag = ch;
			break;
		case 'n':
			nflag = 1;
			break;
		case 'r':
			o.w.max_attempts = (uint32_t)num_parse_or_die(optarg, 1,
			    UINT32_MAX, "attempts");
			wflag = ch;
			break;
		case 'T':
			if ((o.w.task_timeout = dur_parse_or_die(optarg)) == 0)
				o.w.task_timeout = 1;	/* "0": at once */
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
	if (nflag && o.timeout >= 0)
		cli_conflict("-n", "-t");
	if (nflag)
		o.timeout = 0;
	if (wflag && argc < 2)
		cli_misuse("-%c needs a command", wflag);
	if (o.follow)
		o.w.count = 0;
	name_check_or_die(argv[0], "queue");
	signal(SIGPIPE, SIG_IGN);
	pq_catch_signals();
	/*
	 * Printing, the open check may go with the first get (pq_open_lazy);
	 * a worker opens at once: it must fail before running anything.
	 */
	if (o.timeout > 0)	/* -t bounds a failover met opening, too */
		pq_open_deadline(mono_now() + o.timeout);
	if ((r = (argc > 1 ? pq_open : pq_open_lazy)(argv[0], &q)) != 0)
		errx(r, "%s", pq_error());
	pq_open_deadline(PQ_FOREVER);	/* a pool's own opens: their 30 s */
	if (argc > 1) {
		/* Worker mode: CMD once per message; it reports its errors. */
		o.w.wait = o.timeout < 0 ? PQ_FOREVER : o.timeout;
		r = pqw_run(q, &o.w, argv + 1);
	}
	else if ((r = get_stream(q, &o)) == PKIT_EXIT_FAIL)
		errx(r, "%s", pq_error());
	if (r > 128 && pq_signalled())
		pq_die_by_signal();
	return r;
}

/*
 * Get COUNT messages (or, following, until the queue is closed and
 * drained), a batch at a time: each pq_get commits the batch before.
 * A stream grows its stdout pipe; one message does not need to.
 */
static int
get_stream(struct pq *q, const struct opts *o)
{
	struct outbuf b = { NULL, NULL, NULL, 0, 0 };
	int r;

	if (o->follow || o->w.count > 1)
		cli_grow_pipe(STDOUT_FILENO, OUTPIPE);
	/*
	 * A signal makes our writes fail, not wait on a reader that stopped
	 * reading: one that lands between write_batch's check and its write
	 * is not lost.  Without /dev/null only that instant is unguarded.
	 */
	(void)pq_guard_writes(STDOUT_FILENO);
	r = get_batches(q, o, &b);
	pq_guard_writes(-1);
	free(b.out);
	free(b.ends);
	free(b.iov);
	return r;
}

static int
get_batches(struct pq *q, const struct opts *o, struct outbuf *b)
{
	const struct pq_msg *m;
	uint64_t got = 0, want;
	size_t n;
	int r;

	for (;;) {
		want = o->w.count == 0 ? SIZE_MAX : o->w.count - got;
		r = pq_get(q, want > SIZE_MAX ? SIZE_MAX : (size_t)want,
		    o->timeout < 0 ? PQ_FOREVER : mono_now() + o->timeout,
		    &m, &n);
		if (r != 0)
			break;
		if ((r = write_batch(q, o, b, m, n)) != 0)
			return r;
		got += n;
		if (o->w.count != 0 && got >= o->w.count)
			return pq_commit(q, n, 0);
	}
	/* The stream's natural end: closed and drained. */
	if (r == PKIT_EXIT_NO && o->follow)
		return PKIT_EXIT_OK;
	return r;
}

/*
 * Write a batch with each terminator last, then keep the lease for the
 * caller to commit.  One writev per batch: short messages (and ids, and
 * terminators) are copied together into one buffer, messages of BYREF
 * bytes or more are written from the lease in place, which saves a copy
 * of every byte of big messages.  On a write failure or a signal commit
 * what was written in full, give the rest back (no attempt counted), and
 * report: 128+N for signal N; EPIPE dies of SIGPIPE.
 */
static int
write_batch(struct pq *q, const struct opts *o, struct outbuf *b,
    const struct pq_msg *m, size_t n)
{
	char *out;
	size_t *ends;
	struct iovec *iov;
	size_t need = 16, len = 0, off = 0, niov = 0, mark = 0, i, k, upto, o16;
	ssize_t w;
	char idbuf[32];
	int e = 0, idlen, blocks = pq_read_blocks(q) % 16 == 0 &&
	    pq_read_blocks(q) > 0;

	/* need: 16 to spare, for the last block of a short message. */
	for (i = 0; i < n; i++)
		need += (m[i].len < BYREF ? m[i].len : 0) + 1 +
		    (o->w.ids ? 22 : 0);
	if (need > b->cap) {
		free(b->out);
		if ((b->out = malloc(need)) == NULL)
			err(PKIT_EXIT_FAIL, "malloc");
		b->cap = need;
	}
	if (n > b->ncap) {
		free(b->ends);
		free(b->iov);
		if ((b->ends = calloc(n, sizeof(*b->ends))) == NULL ||
		    (b->iov = calloc(2 * n + 1, sizeof(*b->iov))) == NULL)
			err(PKIT_EXIT_FAIL, "malloc");
		b->ncap = n;
	}
	out = b->out;
	ends = b->ends;
	iov = b->iov;
	/* out[mark, len) is the span of the buffer not yet in an iovec. */
	for (i = 0; i < n; i++) {
		idlen = 0;
		if (o->w.ids) {
			idlen = snprintf(idbuf, sizeof(idbuf), "%" PRIu64 "\t",
			    m[i].id);
			memcpy(out + len, idbuf, (size_t)idlen);
			len += (size_t)idlen;
		}
		if (blocks && m[i].len <= BLOCKED) {
			/*
			 * Whole 16-byte blocks (pq_read_blocks), the bytes
			 * past len overwritten by what follows: the compiler
			 * inlines fixed-size moves, where a memcpy call of an
			 * unknown length cost more than the copy (CPU for 2 M
			 * 16-byte lines: 28 -> 22.5 ms).
			 */
			for (o16 = 0; o16 < m[i].len; o16 += 16)
				memcpy(out + len + o16, m[i].data + o16, 16);
			len += m[i].len;
		} else if (m[i].len < BYREF) {
			memcpy(out + len, m[i].data, m[i].len);
			len += m[i].len;
		} else {
			if (len > mark)
				iov[niov++] = (struct iovec){ out + mark,
				    len - mark };
			iov[niov++] = (struct iovec){ (void *)m[i].data,
			    m[i].len };
			mark = len;
		}
		out[len++] = (char)o->w.delim;
		ends[i] = (i > 0 ? ends[i - 1] : 0) + (size_t)idlen +
		    m[i].len + 1;
	}
	if (len > mark)
		iov[niov++] = (struct iovec){ out + mark, len - mark };
	len = n > 0 ? ends[n - 1] : 0;
	/*
	 * The signal is checked before each write, not only after: one that
	 * came since pq_get would otherwise leave the write blocked for ever
	 * on a reader that stopped reading.  One landing after the check
	 * interrupts the write or, before it starts, makes it fail
	 * (pq_guard_writes in get_stream).
	 */
	while (off < len && !pq_signalled()) {
		upto = len;
#ifdef PKIT_FAULTS
		if (off == 0 && len > 1)
			upto = len / 2;	/* two writes, to die in between */
#endif
		if ((w = write_iov(iov, niov, off, upto)) == -1) {
			if (errno == EINTR)
				continue;
			e = errno;
			break;
		}
		off += (size_t)w;
		if (off == len / 2)
			FAULT("mid_write");
	}
	if (off < len || pq_signalled()) {
		for (k = 0; k < n && ends[k] <= off; k++)
			;
		/* The rest were not delivered: no attempt. */
		pq_commit(q, k, PQ_NOCOUNT);
		if (pq_signalled())
			return 128 + pq_signalled();
		if (e == EPIPE) {
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
		}
		errno = e;
		err(PKIT_EXIT_FAIL, "stdout");
	}
	FAULT("after_write");
	return 0;
}

/*
 * One writev of bytes [off, upto) of the stream the niov iovecs make,
 * at most IOV_MAX of them; what writev returns.  Bytes that are whole
 * iovecs (a batch's first write nearly always) go from the iovecs as
 * they are; only a range that cuts one is trimmed in a window (whose
 * 16 KiB a one-message get then never touches).
 */
static ssize_t
write_iov(const struct iovec *iov, size_t niov, size_t off, size_t upto)
{
	static struct iovec win[IOV_MAX];
	size_t i, j, at = 0, end, nw = 0, skip, left = upto - off;

	for (i = 0; i < niov && at + iov[i].iov_len <= off; i++)
		at += iov[i].iov_len;
	for (j = i, end = at; j < niov && j - i < IOV_MAX && end < upto; j++)
		end += iov[j].iov_len;
	if (at == off && end == upto)
		return writev(STDOUT_FILENO, iov + i, (int)(j - i));
	for (; i < niov && nw < IOV_MAX && left > 0; i++) {
		skip = off > at ? off - at : 0;
		win[nw].iov_base = (char *)iov[i].iov_base + skip;
		win[nw].iov_len = iov[i].iov_len - skip;
		if (win[nw].iov_len > left)
			win[nw].iov_len = left;
		left -= win[nw].iov_len;
		at += iov[i].iov_len;
		nw++;
	}
	return writev(STDOUT_FILENO, win, (int)nw);
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
