/* SPDX-License-Identifier: ISC */
/*
 * dur.h: durations as the tools take them (-t), and monotonic deadlines.
 */
#ifndef PKIT_DUR_H
#define PKIT_DUR_H

#include <stdint.h>
#include <time.h>

#define DUR_MAX_NS	((int64_t)1000000000 * 1000000000)	/* ~31 years */

/*
 * Parse "1.5", "250ms", "2s", "1m", "1h" or "0" into nanoseconds.  A bare
 * number is seconds.  Returns 0, or -1 with *why set for anything else
 * (empty, sign, exponent, two dots, unknown unit, too large).
 */
int	dur_parse(const char *s, int64_t *ns, const char **why);

/* Parse or exit 125 with "prog: bad duration 'S': why". */
int64_t	dur_parse_or_die(const char *s);

/* CLOCK_MONOTONIC now, in nanoseconds. */
int64_t	mono_now(void);

/* The timespec for an absolute CLOCK_MONOTONIC time in nanoseconds. */
struct timespec ns_to_timespec(int64_t ns);

/* Milliseconds left until deadline (>= 0), rounded up; -1 if deadline < 0. */
int	deadline_ms(int64_t deadline);

#endif
