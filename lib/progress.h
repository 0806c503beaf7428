/* SPDX-License-Identifier: ISC */
/*
 * progress.h: a progress line for a long wait (pqueue-join -p, and pjoin
 * -p): "done/total (P%), R/s, ETA D".  An engine: it only formats; the
 * tool decides where and how often to print (one line redrawn with \r on
 * a terminal, plain lines otherwise, always on stderr).
 *
 * The rate is measured from the first sample, so work done before the
 * wait began does not make the ETA look better than it is.
 */
#ifndef PKIT_PROGRESS_H
#define PKIT_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#define PROGRESS_TTY_NS		((int64_t)200000000)	/* redraw: 0.2 s */
#define PROGRESS_LINE_NS	((int64_t)1000000000)	/* plain line: 1 s */

struct progress {
	int64_t		t0;		/* monotonic ns of the first sample */
	uint64_t	done0;
	int		started;
};

/*
 * Format the line for done of total at monotonic time now (ns) into buf
 * (always NUL-terminated); the first call sets the rate's origin.  An
 * unknown rate (nothing done yet) reads "?/s, ETA ?".
 */
void	progress_format(struct progress *p, uint64_t done, uint64_t total,
	    int64_t now, char *buf, size_t len);

#endif
