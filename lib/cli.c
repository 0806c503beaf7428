/* SPDX-License-Identifier: ISC */
/*
 * cli.c: --help, --version and usage exits, the same for every tool.
 *
 * A tool's usage(fp) prints its help: the synopsis ("usage: ..." and its
 * continuation lines, the man page's SYNOPSIS word for word), a blank
 * line, then one line per option.  -h and --help print all of it and
 * "see NAME(1)"; a usage error prints the synopsis alone on stderr, so
 * that the mistake, not a page of options, is what the user sees.
 */
#include <err.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exitcode.h"

static char	*usage_text(void (*)(FILE *));

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
	char *text, *end;

	if ((text = usage_text(usage)) == NULL) {
		usage(stderr);
		exit(PKIT_EXIT_FAIL);
	}
	if ((end = strstr(text, "\n\n")) != NULL)
		end[1] = '\0';
	fputs(text, stderr);
	free(text);
	exit(PKIT_EXIT_FAIL);
}

void
cli_usage_help(void (*usage)(FILE *))
{
	char *text;

	if ((text = usage_text(usage)) == NULL)
		usage(stdout);
	else {
		/* A tool without options has no blank line yet. */
		printf("%s%s", text, strstr(text, "\n\n") ? "" : "\n");
		free(text);
	}
	printf("  %-14s %s\n  %-14s %s\nsee %s(1)\n",
	    "-h, --help", "print this help and exit",
	    "--version", "print the version and exit", getprogname());
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

/* What usage(fp) prints, in a string to free, or NULL without memory. */
static char *
usage_text(void (*usage)(FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	if ((mem = open_memstream(&text, &len)) == NULL)
		return NULL;
	usage(mem);
	if (fclose(mem) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

void
cli_grow_pipe(int fd, int size)
{
	int now = fcntl(fd, F_GETPIPE_SZ);

	if (now != -1 && now < size)
		(void)fcntl(fd, F_SETPIPE_SZ, size);
}
