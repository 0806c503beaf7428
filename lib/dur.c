/* SPDX-License-Identifier: ISC */
/*
 * dur.c: duration parsing and monotonic deadlines.
 *
 * Only plain decimal is accepted: "1e9", "0x10", "-1", "1.2.3" and trailing
 * garbage are errors, never a silent default.  Fractions are exact to the
 * nanosecond (no floating point), so "0.1" is 100000000 ns, not 99999999.
 */
#include <ctype.h>
#include <err.h>
#include <string.h>
#include <time.h>

#include "dur.h"
#include "exitcode.h"

static const struct unit {
	const char	*name;
	int64_t		 ns;
} units[] = {
	{ "", 1000000000 },
	{ "s", 1000000000 },
	{ "ms", 1000000 },
	{ "us", 1000 },
	{ "m", (int64_t)60 * 1000000000 },
	{ "h", (int64_t)3600 * 1000000000 },
};

int
dur_parse(const char *s, int64_t *ns, const char **why)
{
	const char *p = s;
	int64_t whole = 0, frac = 0, fracscale = 1, unit = -1;
	size_t i;
	int digits = 0;

	for (; isdigit((unsigned char)*p); p++, digits++) {
		if (whole > DUR_MAX_NS / 10)
			goto toolarge;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, digits++) {
			if (fracscale < 1000000000) {
				frac = frac * 10 + (*p - '0');
				fracscale *= 10;
			}
		}
	}
	if (*s == '\0') {
		*why = "empty";
		return -1;
	}
	/* No number, or a unit we do not know: the same mistake, one hint. */
	for (i = 0; digits > 0 && i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(p, units[i].name) == 0)
			unit = units[i].ns;
	if (unit < 0) {
		*why = "not a duration (use e.g. 1.5, 250ms, 2s, 1m)";
		return -1;
	}
	if (whole > DUR_MAX_NS / unit)
		goto toolarge;
	*ns = whole * unit + frac * (unit / fracscale) +
	    frac * (unit % fracscale) / fracscale;
	if (*ns > DUR_MAX_NS)
		goto toolarge;
	return 0;
toolarge:
	*why = "too large";
	return -1;
}

int64_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct timespec
ns_to_timespec(int64_t ns)
{
	struct timespec ts;

	ts.tv_sec = ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	return ts;
}

int
deadline_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - mono_now();
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}
