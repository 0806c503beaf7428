/* SPDX-License-Identifier: ISC */
/*
 * pqueue-put: put messages in a queue (Queue.put).  Each MSG operand is
 * one message; with none, each line of stdin (NUL-terminated with -0) is
 * one, the last even without a terminator, so a producer can stream
 * into the queue.  Stdin is read in large chunks and every run of
 * messages that fits is committed at once; memory stays bounded by the
 * chunk size whatever the length of the stream.
 *
 * What a stream has had acknowledged is a prefix: the first `stored`
 * messages of the input, each run put whole or not at all.  When the
 * stream fails (125) its one line says how many, so a producer knows
 * what it may count on and where the uncertain part begins (a run whose
 * reply was lost may or may not be stored).
 *
 * A stdin that is a pipe is grown to a chunk (cli_grow_pipe): with a 64 KiB
 * pipe every read would take a quarter of one, and every run would cost
 * a put of a quarter of the size - for big messages a pipe's rate took
 * 0.82-0.95x, with the pipe grown 1.04-1.29x (tests/bench/scaling.sh).
 */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pkit.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define CHUNK	(256 * 1024)		/* > PQ_MAXMSG + 1 */
#define BATCH	4096			/* messages per pq_put */
#define BLOCK	64			/* split() looks at this many at once */
#define OVERSIZE_COUNT	((size_t)64 << 20)	/* an oversize record is counted to here */

static int	put_args(struct pq *, char **, int, int64_t);
static int	put_stream(struct pq *, int, int64_t);
static size_t	split(const char *, size_t *, size_t, int, const char **,
		    size_t *, size_t);
static int	put_all(struct pq *, const char *const *, const size_t *,
		    size_t, size_t *, int64_t);
static void	finish(struct pq *, int, const char *)
		    __attribute__((noreturn));
static void	oversize(struct pq *, char *, size_t, size_t, int)
		    __attribute__((noreturn));
static void	usage(FILE *);

static size_t	stored;		/* messages of stdin acknowledged so far */
static int	streaming;	/* the messages come from stdin */

int
main(int argc, char *argv[])
{
	struct pq *q;
	int64_t timeout = -1;
	int ch, delim = '\n', nflag = 0, r;

	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+0hnt:")) != -1) {
		switch (ch) {
		case '0':
			delim = '\0';
			break;
		case 'h':
			cli_usage_help(usage);
		case 'n':
			nflag = 1;
			break;
		case 't':
			timeout = dur_parse_or_die(optarg);
			break;
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		cli_usage_error(usage);
	if (nflag && timeout >= 0)
		cli_conflict("-n", "-t");
	if (nflag)
		timeout = 0;
	name_check_or_die(argv[0], "queue");
	pq_catch_signals();
	/*
	 * MSG operands: the open check may go with the put (on Redis, one
	 * round trip for both).  A stream opens at once: it may put nothing.
	 */
	if (timeout > 0)	/* -t bounds a failover met opening, too */
		pq_open_deadline(mono_now() + timeout);
	if ((r = (argc > 1 ? pq_open_lazy : pq_open)(argv[0], &q)) != 0)
		errx(r, "%s", pq_error());
	if (argc > 1)
		r = put_args(q, argv + 1, argc - 1, timeout);
	else {
		streaming = 1;
		/* The bytes in the pipe are not the queue's yet: its size
		 * changes nothing of what a put promises. */
		cli_grow_pipe(STDIN_FILENO, CHUNK);
		r = put_stream(q, delim, timeout);
	}
	finish(q, r, NULL);
}

/*
 * pq_put, with -t (or -n) bounding each wait for room: the deadline
 * starts again whenever some messages went in.
 */
static int
put_all(struct pq *q, const char *const *msgs, const size_t *lens, size_t n,
    size_t *nput, int64_t timeout)
{
	size_t done;
	int r;

	*nput = 0;
	for (;;) {
		r = pq_put(q, msgs + *nput, lens + *nput, n - *nput, &done,
		    timeout < 0 ? PQ_FOREVER : mono_now() + timeout);
		*nput += done;
		if (r != PKIT_EXIT_TIMEOUT || done == 0 || timeout == 0)
			return r;
	}
}

/* Each operand is one message. */
static int
put_args(struct pq *q, char **msgs, int n, int64_t timeout)
{
	size_t *lens, i, done;
	int r;

	if ((lens = calloc((size_t)n, sizeof(*lens))) == NULL)
		err(PKIT_EXIT_FAIL, "calloc");
	for (i = 0; i < (size_t)n; i++)
		lens[i] = strlen(msgs[i]);
	r = put_all(q, (const char *const *)msgs, lens, (size_t)n, &done,
	    timeout);
	free(lens);
	return r;
}

/*
 * Stdin, one message per delimited record.  buf[start, end) holds what
 * is read and not yet put; a record longer than the queue's limit is
 * refused once it is known to be too long (the ones before it are put).
 */
static int
put_stream(struct pq *q, int delim, int64_t timeout)
{
	static const char *ptrs[BATCH];
	static size_t lens[BATCH];
	char *buf, *why;
	size_t start = 0, end = 0, nb, done, max = pq_max_msg(q);
	ssize_t n;
	int eof = 0, r;

	/* Aligned, with a block of slack: split() reads whole blocks. */
	if ((buf = aligned_alloc(BLOCK, CHUNK + BLOCK)) == NULL)
		err(PKIT_EXIT_FAIL, "malloc");
	while (!eof) {
		/*
		 * INT, TERM and HUP end the stream wherever they land: a read
		 * they interrupt returns EINTR, and the flag is looked at
		 * before each read and each batch, for one that came while
		 * we copied.  (One that lands between the look and the read
		 * is seen at the next read's return; closing that window for
		 * an idle producer would cost a syscall per read.)  Records
		 * read and not yet put are not put.
		 */
		if (pq_signalled())
			return 128 + pq_signalled();
		n = read(STDIN_FILENO, buf + end, CHUNK - end);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (asprintf(&why, "stdin: %s", strerror(errno)) == -1)
				err(PKIT_EXIT_FAIL, "asprintf");
			finish(q, PKIT_EXIT_FAIL, why);
		}
		eof = n == 0;
		end += (size_t)n;
		/* Past END, split() reads this, never stale or unset bytes. */
		memset(buf + end, 0, BLOCK);
		for (;;) {
			nb = split(buf, &start, end, delim, ptrs, lens, BATCH);
			if (nb < BATCH && eof && start < end) {
				ptrs[nb] = buf + start;	/* no terminator */
				lens[nb++] = end - start;
				start = end;
			}
			if (nb == 0)
				break;
			if (pq_signalled())
				return 128 + pq_signalled();
			r = put_all(q, ptrs, lens, nb, &done, timeout);
			stored += done;
			if (r == PKIT_EXIT_FAIL && done < nb &&
			    lens[done] > max)
				oversize(q, buf, (size_t)(ptrs[done] - buf),
				    end, delim);
			if (r != 0)
				return r;
		}
		memmove(buf, buf + start, end - start);
		end -= start;
		start = 0;
		if (end > max)
			oversize(q, buf, 0, end, delim);
	}
	return 0;
}

/*
 * Up to MAX records of buf[*startp, end), each ending with DELIM: their
 * starts in PTRS, their lengths (without DELIM) in LENS; *startp moves
 * past the last.  BUF is BLOCK-aligned and readable to the end of the
 * block that holds END.  One mask of DELIM's places per block of 64
 * bytes, instead of a memchr call per record: 7 ms less of pqueue-put's
 * CPU for 2 M 16-byte lines, 4-5 ms for 1 M 64-byte lines; a 16-byte
 * stream 1 -> 1 54.6 -> 49.0 and 53.8 -> 51.4 ms (two runs of 21
 * interleaved rounds, 2026-12-07).
 */
static size_t
split(const char *buf, size_t *startp, size_t end, int delim,
    const char **ptrs, size_t *lens, size_t max)
{
	size_t start = *startp, base, at, nb = 0;
	uint64_t m;
	int i;
#ifdef __SSE2__
	const __m128i d = _mm_set1_epi8((char)delim);
#endif

	for (base = start - start % BLOCK; base < end && nb < max;
	    base += BLOCK) {
		m = 0;
#ifdef __SSE2__
		for (i = 0; i < BLOCK; i += 16)
			m |= (uint64_t)(uint32_t)_mm_movemask_epi8(
			    _mm_cmpeq_epi8(_mm_load_si128(
			    (const __m128i *)(const void *)(buf + base + i)),
			    d)) << i;
#else
		for (i = 0; i < BLOCK; i++)
			m |= (uint64_t)(buf[base + i] == (char)delim) << i;
#endif
		if (base < start)
			m &= ~(uint64_t)0 << (start - base);
		for (; m != 0 && nb < max; m &= m - 1) {
			at = base + (size_t)__builtin_ctzll(m);
			if (at >= end)
				break;
			ptrs[nb] = buf + start;
			lens[nb++] = at - start;
			start = at + 1;
		}
	}
	*startp = start;
	return nb;
}

/*
 * Count the rest of an over-long record from stdin, then fail through
 * finish(), which says how many records before it are stored.  At most
 * OVERSIZE_COUNT bytes are counted ("more than"): a producer that never
 * writes the delimiter (< /dev/zero) must not keep the refusal waiting.
 * A signal ends the count, and the tool, as anywhere else.
 */
static void
oversize(struct pq *q, char *buf, size_t from, size_t end, int delim)
{
	size_t total;
	char *p, *why;
	ssize_t n = 0;

	if ((p = memchr(buf + from, delim, end - from)) != NULL)
		total = (size_t)(p - (buf + from));
	else {
		total = end - from;
		while (total <= OVERSIZE_COUNT && !pq_signalled() &&
		    ((n = read(STDIN_FILENO, buf, CHUNK)) > 0 ||
		    (n == -1 && errno == EINTR))) {
			if (n <= 0)
				continue;
			if ((p = memchr(buf, delim, (size_t)n)) != NULL) {
				total += (size_t)(p - buf);
				break;
			}
			total += (size_t)n;
		}
	}
	if (pq_signalled())
		finish(q, 128 + pq_signalled(), NULL);
	if (asprintf(&why, "%s: message of %s%zu bytes is over the limit of "
	    "%u bytes%s", pq_name(q), total > OVERSIZE_COUNT ? "more than " :
	    "", total > OVERSIZE_COUNT ? (size_t)OVERSIZE_COUNT : total,
	    pq_max_msg(q), n == -1 ? " (stdin: read error)" : "") == -1)
		err(PKIT_EXIT_FAIL, "asprintf");
	finish(q, PKIT_EXIT_FAIL, why);
}

/*
 * Exit with r: a message for failures (WHY, or pq_error() if NULL) and
 * for a closed queue (1), which otherwise drops a producer's data
 * silently (`producer | pqueue-put q` without pipefail), the signal's own
 * death for 128+N.  A stream's closed line says where its data was cut:
 * a closed queue refuses a run before storing any of it, so the first
 * `stored` records are in and no later one is.
 */
static void
finish(struct pq *q, int r, const char *why)
{
	if (why == NULL)
		why = pq_error();
	if (r > 128 && pq_signalled())
		pq_die_by_signal();
	if (r == PKIT_EXIT_FAIL && streaming)
		errx(r, "%s (the first %zu messages of the input are stored, "
		    "the rest may or may not be)", why, stored);
	if (r == PKIT_EXIT_FAIL)
		errx(r, "%s", why);
	if (r == PKIT_EXIT_NO && streaming)
		errx(r, "%s: queue closed (the first %zu messages of the input "
		    "are stored, the rest are not)", pq_name(q), stored);
	if (r == PKIT_EXIT_NO)
		errx(r, "%s: queue closed", pq_name(q));
	exit(r);
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pqueue-put [-n | -t DURATION] [-0] NAME "
	    "[MSG...]\n");
	fputs("\n"
	    "  -n             do not wait: exit 124 at once if full\n"
	    "  -t DURATION    wait at most DURATION for room, then exit 124\n"
	    "  -0             messages on stdin end with NUL, not newline\n", fp);
}
