/* SPDX-License-Identifier: ISC */
/*
 * unit_lib: C unit tests for lib/ (durations, names, status mapping).
 * Prints TAP-like lines; exits 1 if any check failed.
 */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pkit.h"

#include "../unit.h"

static int64_t
dur(const char *s)
{
	const char *why;
	int64_t ns;

	if (dur_parse(s, &ns, &why) == -1)
		return -1;
	return ns;
}

static long long
num(const char *s, long long min, long long max)
{
	const char *why;
	long long n;

	if (num_parse(s, min, max, &n, &why) == -1)
		return -999;
	return n;
}

int
main(void)
{
	char longname[NAME_MAX_LEN + 2];

	/* Durations: seconds by default, exact fractions, units. */
	CHECK(dur("0") == 0);
	CHECK(dur("1") == 1000000000LL);
	CHECK(dur("1.5") == 1500000000LL);
	CHECK(dur("0.1") == 100000000LL);
	CHECK(dur(".25") == 250000000LL);
	CHECK(dur("250ms") == 250000000LL);
	CHECK(dur("2s") == 2000000000LL);
	CHECK(dur("1m") == 60000000000LL);
	CHECK(dur("1.5m") == 90000000000LL);
	CHECK(dur("1h") == 3600000000000LL);
	CHECK(dur("10us") == 10000LL);
	CHECK(dur("0.0000000001") == 0);
	CHECK(dur("") == -1);
	CHECK(dur("-1") == -1);
	CHECK(dur("+1") == -1);
	CHECK(dur("1.2.3") == -1);
	CHECK(dur("5x") == -1);
	CHECK(dur("1e9") == -1);
	CHECK(dur("0x10") == -1);
	CHECK(dur(" 1") == -1);
	CHECK(dur("1 ") == -1);
	CHECK(dur(".") == -1);
	CHECK(dur("ms") == -1);
	CHECK(dur("99999999999999999999999") == -1);
	CHECK(dur("1000000000") == 1000000000LL * 1000000000LL);
	CHECK(dur("1000000001") == -1);

	/* Numbers: digits only, in range. */
	CHECK(num("42", 1, 100) == 42);
	CHECK(num("-1", -5, 5) == -1);
	CHECK(num("0", 1, 100) == -999);
	CHECK(num("101", 1, 100) == -999);
	CHECK(num("", 1, 100) == -999);
	CHECK(num("0x10", 0, 100) == -999);
	CHECK(num("1e9", 0, 100) == -999);
	CHECK(num("+1", 0, 100) == -999);
	CHECK(num(" 1", 0, 100) == -999);
	CHECK(num("1 ", 0, 100) == -999);
	CHECK(num("99999999999999999999", 0, 100) == -999);

	/* Names. */
	CHECK(name_invalid("q") == NULL);
	CHECK(name_invalid("A-z_0.9") == NULL);
	CHECK(name_invalid("") != NULL);
	CHECK(name_invalid(".") != NULL);
	CHECK(name_invalid("..") != NULL);
	CHECK(name_invalid(".hidden") != NULL);
	CHECK(name_invalid("-x") != NULL);
	CHECK(name_invalid("a/b") != NULL);
	CHECK(name_invalid("a b") != NULL);
	CHECK(name_invalid("a\nb") != NULL);
	CHECK(name_invalid("caf\xc3\xa9") != NULL);
	memset(longname, 'a', sizeof(longname));
	longname[NAME_MAX_LEN] = '\0';
	CHECK(name_invalid(longname) == NULL);
	longname[NAME_MAX_LEN] = 'a';
	longname[NAME_MAX_LEN + 1] = '\0';
	CHECK(name_invalid(longname) != NULL);

	/* Wait status and exec errors, as the shell maps them. */
	CHECK(status_to_exit(0) == 0);
	CHECK(status_to_exit(42 << 8) == 42);
	CHECK(status_to_exit(SIGKILL) == 137);
	CHECK(status_to_exit(SIGTERM) == 143);
	CHECK(exec_errno_to_exit(ENOENT) == 127);
	CHECK(exec_errno_to_exit(EACCES) == 126);
	CHECK(exec_errno_to_exit(ENOEXEC) == 126);

	/* Deadlines. */
	CHECK(deadline_ms(-1) == -1);
	CHECK(deadline_ms(0) == 0);
	CHECK(deadline_ms(mono_now() + 1500000000LL) >= 1499);

	return unit_end();
}
