/* SPDX-License-Identifier: ISC */
/*
 * cli.c: --help, --version and usage exits, the same for every tool.
 */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exitcode.h"

void
cli_gnu_opts(int argc, char *argv[], void (*usage)(FILE *))
{
	if (argc < 2)
		return;
	if (strcmp(argv[1], "--help") == 0)
		cli_usage_help(usage);
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s (pkit) %s\n", getprogname(), PACKAGE_VERSION);
		exit(PKIT_EXIT_OK);
	}
}

void
cli_usage_error(void (*usage)(FILE *))
{
	usage(stderr);
	exit(PKIT_EXIT_FAIL);
}

void
cli_usage_help(void (*usage)(FILE *))
{
	usage(stdout);
	exit(fflush(stdout) == 0 ? PKIT_EXIT_OK : PKIT_EXIT_FAIL);
}

void
cli_conflict(const char *a, const char *b)
{
	cli_misuse("%s and %s cannot be used together", a, b);
}

void
cli_misuse(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	exit(PKIT_EXIT_FAIL);
}
