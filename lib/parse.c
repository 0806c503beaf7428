/* SPDX-License-Identifier: ISC */
/*
 * parse.c: number and name checks (engines: they return why a value is
 * bad; the dying wrappers that print it are in die.c).
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
		/* ASCII ranges, not isalnum(): no locale table to map in. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9')) && c != '.' && c != '_' &&
		    c != '-')
			return "only A-Z a-z 0-9 . _ - are allowed";
	}
	return NULL;
}

const char *
qname_invalid(const char *s)
{
	const char *base, *p;

	if ((base = strrchr(s, '/')) == NULL)
		return name_invalid(s);
	if (strlen(s) > PATH_NAME_MAX)
		return "a path longer than 1000 characters";
	/*
	 * The directory is the user's to pick, but a control character in
	 * it would be echoed by pqueue-stat's name= line and every message.
	 */
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "a control character in the path";
	if (base[1] == '\0')
		return "a path must end with the queue's file name";
	return name_invalid(base + 1);
}

