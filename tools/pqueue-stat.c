/* SPDX-License-Identifier: ISC */
/*
 * pqueue-stat: show a queue (qsize, empty, full, and what is in flight),
 * or list this user's queues.  -e / -F answer empty? / full? by exit
 * status only; -k prints key=value lines for scripts; -l lists the
 * messages queued and leased (pq_peek), without taking them.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pkit.h"

static int	is_full(const struct pq_info *);
static void	print_human(const char *, const struct pq_info *);
static void	print_keys(const char *, const struct pq_info *);
static int	list(void);
static int	print_messages(struct pq *, const struct pq_info *);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct pq_info info;
	struct pq *q;
	int ch, ask = 0, keys = 0, msgs = 0, r;

	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+eFhkl")) != -1) {
		switch (ch) {
		case 'e':
		case 'F':
			if (ask != 0 && ask != ch)
				cli_conflict("-e", "-F");
			ask = ch;
			break;
		case 'h':
			cli_usage_help(usage);
		case 'k':
			keys = 1;
			break;
		case 'l':
			msgs = 1;
			break;
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		cli_usage_error(usage);
	if (ask != 0 && keys)
		cli_conflict(ask == 'e' ? "-e" : "-F", "-k");
	if (msgs && (keys || ask != 0))
		cli_conflict("-l", keys ? "-k" : ask == 'e' ? "-e" : "-F");
	if (argc == 0 && (ask != 0 || msgs))
		cli_misuse("%s needs a queue NAME", msgs ? "-l" :
		    ask == 'e' ? "-e" : "-F");
	if (argc == 0)
		return list();
	name_check_or_die(argv[0], "queue");
	if ((r = pq_open(argv[0], &q)) != 0 ||
	    (r = pq_stat(q, &info, mono_now() + 1000000000)) != 0)
		errx(r, "%s", pq_error());
	r = PKIT_EXIT_OK;
	if (ask == 'e')
		return info.nmsgs == 0 ? PKIT_EXIT_OK : PKIT_EXIT_NO;
	if (ask == 'F')
		return is_full(&info) ? PKIT_EXIT_OK : PKIT_EXIT_NO;
	/* pq_name: a redis: name with its password masked */
	if (msgs)
		r = print_messages(q, &info);
	else if (keys)
		print_keys(pq_name(q), &info);
	else
		print_human(pq_name(q), &info);
	if (fflush(stdout) != 0 || ferror(stdout))
		err(PKIT_EXIT_FAIL, "stdout");
	return r;
}

/*
 * -l: one line per message, "ID<TAB>STATE<TAB>ATTEMPTS<TAB>BYTES<TAB>
 * PREVIEW", STATE "queued" or "leased:PID"; the preview is the first
 * PQ_PREVIEW bytes, anything but printable ASCII (and the backslash) as
 * \xHH, "..." after a message cut short.  Every message: pq_peek fills at
 * most max entries, and the queue may have grown since pq_stat, so a
 * full buffer may mean some were left out (on shared memory the leased
 * ones, listed last): peek again into one twice the size until it comes
 * back with room to spare.  Each peek is a snapshot; the last is listed.
 */
static int
print_messages(struct pq *q, const struct pq_info *i)
{
	struct pq_entry *e;
	size_t max = i->nmsgs + i->inflight + 64, n, k;
	uint32_t b;
	int r;

	for (;;) {
		if ((e = calloc(max, sizeof(*e))) == NULL)
			err(PKIT_EXIT_FAIL, "malloc");
		if ((r = pq_peek(q, e, max, &n, mono_now() + 1000000000)) != 0)
			errx(r, "%s", pq_error());
		if (n < max)
			break;
		free(e);
		max *= 2;
	}
	for (k = 0; k < n; k++) {
		printf("%" PRIu64 "\t", e[k].id);
		if (e[k].leased)
			printf("leased:%ld\t", (long)e[k].holder);
		else
			printf("queued\t");
		printf("%" PRIu32 "\t%" PRIu32 "\t", e[k].attempts, e[k].len);
		for (b = 0; b < e[k].npreview; b++) {
			unsigned char c = (unsigned char)e[k].preview[b];

			if (c >= 0x20 && c < 0x7f && c != '\\')
				putchar(c);
			else
				printf("\\x%02x", c);
		}
		printf("%s\n", e[k].len > e[k].npreview ? "..." : "");
	}
	free(e);
	return PKIT_EXIT_OK;
}

/* Full: no room for one more message, by count or by bytes. */
static int
is_full(const struct pq_info *i)
{
	if (i->max_msgs != 0 && i->nmsgs + i->inflight >= i->max_msgs)
		return 1;
	return i->bytes + i->inflight_bytes + PQ_FRAMING > i->max_bytes;
}

static void
print_human(const char *name, const struct pq_info *i)
{
	size_t k;

	printf("queue:       %s (%s%s)\n", name, i->lifo ? "LIFO" : "FIFO",
	    i->closed ? ", closed" : "");
	if (i->max_msgs != 0)
		printf("messages:    %" PRIu64 " of at most %" PRIu64 "\n",
		    i->nmsgs, i->max_msgs);
	else
		printf("messages:    %" PRIu64 "\n", i->nmsgs);
	printf("bytes:       %" PRIu64 " of %" PRIu64
	    " (%d per message of framing)\n", i->bytes, i->max_bytes,
	    PQ_FRAMING);
	printf("largest:     %" PRIu32 " bytes per message\n", i->max_msg);
	printf("unfinished:  %" PRIu64 "\n", i->unfinished);
	printf("in flight:   %" PRIu64 " (%" PRIu64 " bytes)\n", i->inflight,
	    i->inflight_bytes);
	printf("waiting:     %" PRIu32 " to get, %" PRIu32 " to put, %"
	    PRIu32 " to join\n", i->nwait_get, i->nwait_put, i->nwait_join);
	printf("totals:      %" PRIu64 " put, %" PRIu64 " got, %" PRIu64
	    " requeued, %" PRIu64 " dropped as done, %" PRIu64
	    " recoveries\n", i->puts, i->gets, i->requeues, i->dropped,
	    i->recoveries);
	if (i->lease_ns > 0)
		printf("lease time:  %.1fs (on redis: a lease not renewed "
		    "that long is taken for dead)\n", (double)i->lease_ns / 1e9);
	else
		printf("mode:        %04o, owner uid %lu\n", (unsigned)i->mode,
		    (unsigned long)i->uid);
	for (k = 0; k < i->nleases; k++) {
		const struct pq_lease *l = &i->leases[k];

		printf("lease:       pid %ld%s, %" PRIu32 " message%s from id %"
		    PRIu64 ", %" PRIu32 " earlier attempt%s, held %.1fs\n",
		    (long)l->pid, l->alive ? "" : " (dead: will be requeued)",
		    l->nmsgs, l->nmsgs == 1 ? "" : "s", l->first_id,
		    l->attempts, l->attempts == 1 ? "" : "s",
		    (double)l->age_ns / 1e9);
	}
}

static void
print_keys(const char *name, const struct pq_info *i)
{
	size_t k;

	printf("name=%s\n", name);
	printf("size=%" PRIu64 "\n", i->nmsgs);
	printf("bytes=%" PRIu64 "\n", i->bytes);
	printf("maxsize=%" PRIu64 "\n", i->max_msgs);
	printf("maxbytes=%" PRIu64 "\n", i->max_bytes);
	printf("maxmsg=%" PRIu32 "\n", i->max_msg);
	printf("lifo=%d\n", i->lifo);
	printf("closed=%d\n", i->closed);
	printf("empty=%d\n", i->nmsgs == 0);
	printf("full=%d\n", is_full(i));
	printf("unfinished=%" PRIu64 "\n", i->unfinished);
	printf("inflight=%" PRIu64 "\n", i->inflight);
	printf("inflight_bytes=%" PRIu64 "\n", i->inflight_bytes);
	printf("waiting_get=%" PRIu32 "\n", i->nwait_get);
	printf("waiting_put=%" PRIu32 "\n", i->nwait_put);
	printf("waiting_join=%" PRIu32 "\n", i->nwait_join);
	printf("next_id=%" PRIu64 "\n", i->next_id);
	printf("puts=%" PRIu64 "\n", i->puts);
	printf("gets=%" PRIu64 "\n", i->gets);
	printf("requeues=%" PRIu64 "\n", i->requeues);
	printf("dropped=%" PRIu64 "\n", i->dropped);
	printf("recoveries=%" PRIu64 "\n", i->recoveries);
	if (i->lease_ns > 0)
		printf("lease_ms=%" PRId64 "\n", i->lease_ns / 1000000);
	else {
		printf("mode=%04o\n", (unsigned)i->mode);
		printf("uid=%lu\n", (unsigned long)i->uid);
	}
	for (k = 0; k < i->nleases; k++) {
		const struct pq_lease *l = &i->leases[k];

		printf("lease=pid:%ld messages:%" PRIu32 " first_id:%" PRIu64
		    " attempts:%" PRIu32 " age_ms:%" PRId64 " %s\n",
		    (long)l->pid, l->nmsgs, l->first_id, l->attempts,
		    l->age_ns / 1000000, l->alive ? "alive" : "dead");
	}
}

struct names {
	char	**v;
	size_t	  n, cap;
};

static void
add_name(const char *name, void *arg)
{
	struct names *ns = arg;

	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? 2 * ns->cap : 16;
		if ((ns->v = reallocarray(ns->v, ns->cap, sizeof(*ns->v))) ==
		    NULL)
			err(PKIT_EXIT_FAIL, "reallocarray");
	}
	if ((ns->v[ns->n++] = strdup(name)) == NULL)
		err(PKIT_EXIT_FAIL, "strdup");
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* This user's queues, one name per line, sorted. */
static int
list(void)
{
	struct names ns = { NULL, 0, 0 };
	size_t k;
	int r;

	if ((r = pq_list(add_name, &ns)) != 0)
		errx(r, "%s", pq_error());
	if (ns.n > 0)
		qsort(ns.v, ns.n, sizeof(*ns.v), cmp);
	for (k = 0; k < ns.n; k++)
		printf("%s\n", ns.v[k]);
	if (fflush(stdout) != 0 || ferror(stdout))
		err(PKIT_EXIT_FAIL, "stdout");
	return PKIT_EXIT_OK;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pqueue-stat [-e | -F | -k | -l] [NAME]\n");
	fputs("\n"
	    "  -e             print nothing; exit 0 if empty, 1 if not\n"
	    "  -F             print nothing; exit 0 if full, 1 if not\n"
	    "  -k             print key=value lines\n"
	    "  -l             list the messages, queued and leased, without taking them\n", fp);
}
