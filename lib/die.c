/* SPDX-License-Identifier: ISC */
/*
 * die.c: the tool tier's wrappers over the engines of dur.c, parse.c,
 * rundir.c and execpipe.c.  The engines return an error for the caller
 * to word; these word it the one way every tool does ("prog: what: why"
 * on stderr) and exit 125, or, for execpipe_report, print the exec
 * failure and return its exit code; safe() shows a user's value in such
 * a line.  Only tools and tool bodies call them (lib/README: the
 * tiers); they are declared beside their engines so that a caller
 * includes one header per topic.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dur.h"
#include "execpipe.h"
#include "exitcode.h"
#include "parse.h"
#include "rundir.h"

const char *
safe(const char *s)
{
	static char bufs[4][4 * PATH_MAX + 8];
	static unsigned turn;
	char *buf = bufs[turn++ % 4];
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n < sizeof(bufs[0]) - 8; i++) {
		unsigned char c = s[i];

		if (isprint(c) && c < 0x80)
			buf[n++] = c;
		else
			n += snprintf(buf + n, sizeof(bufs[0]) - n, "\\x%02x",
			    c);
	}
	if (s[i] != '\0')
		n += snprintf(buf + n, sizeof(bufs[0]) - n, "...");
	buf[n] = '\0';
	return buf;
}

int64_t
dur_parse_or_die(const char *s)
{
	const char *why;
	int64_t ns;

	if (dur_parse(s, &ns, &why) == -1)
		errx(PKIT_EXIT_FAIL, "bad duration '%s': %s", safe(s), why);
	return ns;
}

long long
num_parse_or_die(const char *s, long long min, long long max, const char *what)
{
	const char *why;
	long long n;

	if (num_parse(s, min, max, &n, &why) == -1)
		errx(PKIT_EXIT_FAIL, "bad %s '%s': %s (%lld..%lld)", what,
		    safe(s), why, min, max);
	return n;
}

long long
size_parse_or_die(const char *s, long long min, long long max,
    const char *what)
{
	const char *p, *why = NULL;
	long long n, unit = 1;

	for (p = s; isdigit((unsigned char)*p); p++)
		;
	if (*p != '\0' && p[1] == '\0')
		switch (*p) {
		case 'K': case 'k':
			unit = 1LL << 10;
			break;
		case 'M': case 'm':
			unit = 1LL << 20;
			break;
		case 'G': case 'g':
			unit = 1LL << 30;
			break;
		}
	if (p == s || (*p != '\0' && unit == 1))
		errx(PKIT_EXIT_FAIL, "bad %s '%s': not a number of bytes, "
		    "with K, M or G if any", what, safe(s));
	errno = 0;
	n = strtoll(s, NULL, 10);	/* stops at the suffix */
	if (errno == ERANGE || n > LLONG_MAX / unit)
		why = "too large";
	else if ((n *= unit) < min)
		why = "too small";
	else if (n > max)
		why = "too large";
	if (why != NULL)
		errx(PKIT_EXIT_FAIL, "bad %s '%s': %s (%lld..%lld)", what,
		    safe(s), why, min, max);
	return n;
}

void
name_check_or_die(const char *s, const char *what)
{
	const char *why;

	/* Checked by the backend, never quoted: it may carry a password. */
	if (strncmp(s, "redis:", 6) == 0 ||
	    strncmp(s, "redis-sentinel://", 17) == 0)
		return;
	if ((why = strcmp(what, "queue") == 0 ? qname_invalid(s) :
	    name_invalid(s)) != NULL)
		errx(PKIT_EXIT_FAIL, "bad %s name '%s': %s", what, safe(s), why);
}

int
rundir_open_or_die(char *path, size_t len)
{
	const char *why;
	int fd;

	if ((fd = rundir_open(path, len, &why)) == -1)
		errx(PKIT_EXIT_FAIL, "runtime directory %s: %s", safe(path),
		    why);
	return fd;
}

int
rundir_sub_or_die(const char *name)
{
	char path[4096];
	const char *why;
	int dfd, fd;

	dfd = rundir_open_or_die(path, sizeof(path));
	if ((fd = rundir_sub(dfd, name, &why)) == -1)
		errx(PKIT_EXIT_FAIL, "runtime directory %s/%s: %s", safe(path),
		    name, why);
	close(dfd);
	return fd;
}

int
execpipe_report(const char *cmd, int error)
{
	warnx("%s: %s", cmd, strerror(error));
	return exec_errno_to_exit(error);
}
