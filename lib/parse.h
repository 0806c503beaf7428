/* SPDX-License-Identifier: ISC */
/*
 * parse.h: numbers and names from the command line.
 */
#ifndef PKIT_PARSE_H
#define PKIT_PARSE_H

#define NAME_MAX_LEN	100
#define PATH_NAME_MAX	1000	/* a queue name that is a path (has '/') */

/*
 * strtonum(3) in [min, max]: 0 and *n set, or -1 with *why set.  Only
 * decimal digits (and a leading '-'): "0x10", "1e9", "+1", " 1" and "1 "
 * are refused.
 */
int		num_parse(const char *s, long long min, long long max,
		    long long *n, const char **why);

/* num_parse, or exit 125 with "prog: bad WHAT 'S': why". */
long long	num_parse_or_die(const char *s, long long min, long long max,
		    const char *what);

/*
 * A size in bytes, in [min, max]: decimal digits, then optionally one of
 * K, M or G (or k, m, g), binary: 1K is 1024.  Anything else, and a size
 * whose product overflows, exit 125 with "prog: bad WHAT 'S': why".
 */
long long	size_parse_or_die(const char *s, long long min, long long max,
		    const char *what);

/*
 * A queue or lock name: 1-100 characters of [A-Za-z0-9._-], not starting
 * with '.' (so never "." or ".."), and not starting with '-' (it would read
 * as an option).  Returns NULL if valid, else why not.
 */
const char	*name_invalid(const char *s);

/*
 * A queue name: a name (name_invalid), or, if it contains '/', a path to
 * the queue's file (for sharing through a directory): at most
 * PATH_NAME_MAX characters, no control character (0x00-0x1f, 0x7f), its
 * last component a valid name.  NULL if valid, else why not.
 */
const char	*qname_invalid(const char *s);

/*
 * Check a name (a queue name, qname_invalid, if WHAT is "queue") or exit
 * 125 with "prog: bad WHAT name 'S': why".
 */
void		 name_check_or_die(const char *s, const char *what);

/*
 * S for a diagnostic: control and non-ASCII bytes as \xNN, so that a
 * value with a newline cannot split the one line of an error or forge
 * another.  For any value or path the user gave: room for a path of
 * PATH_MAX bytes, all escaped, then "...".  The result is in one of
 * four static buffers, used in turn: up to four calls per message (an
 * engine's pq_seterr escapes its NAME beside an escaped argument).
 */
const char	*safe(const char *s);

#endif
