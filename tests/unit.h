/* SPDX-License-Identifier: ISC */
/*
 * unit.h: the one harness of the C unit tests (tests/COMPONENT/unit_*.c).
 * CHECK(cond) prints a TAP line for each check, "not ok" with the file and
 * line of a failed one; unit_end() prints the plan and gives main's exit
 * status, 1 if any check failed.  Automake reads the exit status.
 */
#ifndef PKIT_TESTS_UNIT_H
#define PKIT_TESTS_UNIT_H

#include <stdio.h>

static int failed, total;

#define CHECK(cond) do {						\
	total++;							\
	if (!(cond)) {							\
		failed++;						\
		printf("not ok %d - %s:%d: %s\n", total, __FILE__,	\
		    __LINE__, #cond);					\
	} else								\
		printf("ok %d - %s\n", total, #cond);			\
} while (0)

static inline int
unit_end(void)
{
	printf("1..%d\n# %d passed, %d failed\n", total, total - failed,
	    failed);
	return failed != 0;
}

#endif
