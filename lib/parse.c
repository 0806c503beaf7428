/* SPDX-License-Identifier: ISC */
/*
 * parse.c: number and name checks, with one-line errors that name the value.
 *
 * Values are echoed back with control and non-ASCII bytes escaped, so that a
 * hostile argument cannot put a terminal escape or a newline in our error.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "parse.h"

static const char *
safe(const char *s)
{
	static char buf[4 * NAME_MAX_LEN + 8];
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n < sizeof(buf) - 8; i++) {
		unsigned char c = s[i];

		if (isprint(c) && c < 0x80)
			buf[n++] = c;
		else
			n += snprintf(buf + n, sizeof(buf) - n, "\\x%02x", c);
	}
	if (s[i] != '\0')
		n += snprintf(buf + n, sizeof(buf) - n, "...");
	buf[n] = '\0';
	return buf;
}

int
num_parse(const char *s, long long min, long long max, long long *n,
    const char **why)
{
	const char *errstr = NULL;
	const char *p;

	/* strtonum takes leading blanks and a '+'; we take digits only. */
	for (p = s; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p) && !(p == s && *p == '-')) {
			*why = "not a number";
			return -1;
		}
	*n = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		*why = errstr;
		return -1;
	}
	return 0;
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

const char *
name_invalid(const char *s)
{
	size_t i;

	if (s[0] == '\0')
		return "empty";
	if (s[0] == '.')
		return "starts with '.'";
	if (s[0] == '-')
		return "starts with '-'";
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = s[i];

		if (i >= NAME_MAX_LEN)
			return "longer than 100 characters";
		if (!(isalnum(c) && c < 0x80) && c != '.' && c != '_' &&
		    c != '-')
			return "only A-Z a-z 0-9 . _ - are allowed";
	}
	return NULL;
}

const char *
qname_invalid(const char *s)
{
	const char *base;

	if ((base = strrchr(s, '/')) == NULL)
		return name_invalid(s);
	if (strlen(s) > PATH_NAME_MAX)
		return "a path longer than 1000 characters";
	if (base[1] == '\0')
		return "a path must end with the queue's file name";
	return name_invalid(base + 1);
}

void
name_check_or_die(const char *s, const char *what)
{
	const char *why;

	/* Checked by the backend, never quoted: it may carry a password. */
	if (strncmp(s, "redis:", 6) == 0)
		return;
	if ((why = strcmp(what, "queue") == 0 ? qname_invalid(s) :
	    name_invalid(s)) != NULL)
		errx(PKIT_EXIT_FAIL, "bad %s name '%s': %s", what, safe(s), why);
}
