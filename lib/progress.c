/* SPDX-License-Identifier: ISC */
/*
 * progress.c: the progress line's arithmetic (see progress.h).
 */
#include <inttypes.h>
#include <stdio.h>

#include "progress.h"

static void	fmt_eta(double, char *, size_t);

void
progress_format(struct progress *p, uint64_t done, uint64_t total,
    int64_t now, char *buf, size_t len)
{
	char eta[32];
	double secs, rate = 0, pct;

	if (!p->started) {
		p->started = 1;
		p->t0 = now;
		p->done0 = done;
	}
	if (total < done)
		total = done;
	pct = total == 0 ? 100.0 : 100.0 * (double)done / (double)total;
	secs = (double)(now - p->t0) / 1e9;
	if (secs > 0 && done > p->done0)
		rate = (double)(done - p->done0) / secs;
	if (done >= total)
		snprintf(eta, sizeof(eta), "0s");
	else if (rate > 0)
		fmt_eta((double)(total - done) / rate, eta, sizeof(eta));
	else
		snprintf(eta, sizeof(eta), "?");
	if (rate > 0)
		snprintf(buf, len, "%" PRIu64 "/%" PRIu64 " (%.0f%%), %.1f/s, "
		    "ETA %s", done, total, pct, rate, eta);
	else
		snprintf(buf, len, "%" PRIu64 "/%" PRIu64 " (%.0f%%), ?/s, "
		    "ETA %s", done, total, pct, eta);
}

/* 42s, 3m07s, 2h05m: short, and precise where it matters. */
static void
fmt_eta(double s, char *buf, size_t len)
{
	long long n = (long long)(s + 0.5);

	if (n < 60)
		snprintf(buf, len, "%llds", n);
	else if (n < 3600)
		snprintf(buf, len, "%lldm%02llds", n / 60, n % 60);
	else
		snprintf(buf, len, "%lldh%02lldm", n / 3600, n / 60 % 60);
}
