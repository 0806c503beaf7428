/* SPDX-License-Identifier: ISC */
/*
 * pqueue-create: create a named queue in shared memory (Python's
 * Queue(maxsize) / LifoQueue).  The segment is allocated in full now, so
 * a full file system is reported here rather than as a crash later.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "pkit.h"

static mode_t	mode_parse(const char *);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct pq_config cfg = { 0, PQ_DEFBYTES, 0, 0600, 0 };
	int ch, flags = 0, r;

	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+hl:Lm:M:ps:")) != -1) {
		switch (ch) {
		case 'h':
			cli_usage_help(usage);
		case 'l':
			if ((cfg.lease_ns = dur_parse_or_die(optarg)) <
			    PQ_LEASE_MIN_NS || cfg.lease_ns > PQ_LEASE_MAX_NS)
				errx(PKIT_EXIT_FAIL, "bad lease time '%s': "
				    "from 100ms to 1 day", safe(optarg));
			break;
		case 'L':
			cfg.lifo = 1;
			break;
		case 'm':
			cfg.max_msgs = (uint64_t)num_parse_or_die(optarg, 0,
			    (long long)1 << 40, "message count");
			break;
		case 'M':
			cfg.mode = mode_parse(optarg);
			break;
		case 'p':
			flags |= PQ_EXIST_OK;
			break;
		case 's':
			cfg.max_bytes = (uint64_t)size_parse_or_die(optarg,
			    PQ_MINBYTES, (long long)PQ_MAXBYTES, "size");
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
	if ((r = pq_create(argv[0], &cfg, flags, NULL)) != 0)
		errx(r, "%s", pq_error());
	return PKIT_EXIT_OK;
}

/* An octal mode, like chmod's: 1 to 4 digits 0-7. */
static mode_t
mode_parse(const char *s)
{
	const char *p;
	unsigned long m;

	for (p = s; *p >= '0' && *p <= '7'; p++)
		;
	if (*p != '\0' || p == s || p - s > 4)
		errx(PKIT_EXIT_FAIL, "bad mode '%s': not an octal mode",
		    safe(s));
	m = strtoul(s, NULL, 8);
	if (m > 0777)
		errx(PKIT_EXIT_FAIL, "bad mode '%s': only permission bits",
		    safe(s));
	return (mode_t)m;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pqueue-create [-p] [-m MAXMSGS] [-s BYTES] [-L] "
	    "[-M MODE] [-l LEASE] NAME\n");
	fputs("\n"
	    "  -p             succeed if a valid queue NAME already exists\n"
	    "  -m MAXMSGS     hold at most MAXMSGS messages\n"
	    "  -s BYTES       the size of the ring (default 1048576)\n"
	    "  -L             last in, first out (a LifoQueue)\n"
	    "  -M MODE        create the segment with octal permissions MODE\n"
	    "  -l LEASE       on Redis: how long an unrenewed delivery is leased\n",
	    fp);
}
