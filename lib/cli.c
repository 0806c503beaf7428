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
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exitcode.h"

static char	*usage_text(void (*)(FILE *));
static void	 std_hold(void);
static void	 out_done(void) __attribute__((noreturn));

void
cli_gnu_opts(int argc, char *argv[], void (*usage)(FILE *))
{
	std_hold();
	if (argc < 2)
		return;
	if (strcmp(argv[1], "--help") == 0)
		cli_usage_help(usage);
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s (pkit) %s\n", getprogname(), PACKAGE_VERSION);
		out_done();
	}
}

/*
 * A standard descriptor the caller closed gets a stand-in: /dev/null,
 * close-on-exec, opened so that using it fails as the closed descriptor
 * would (EBADF: write-only for 0, read-only for 1 and 2).  Without it, the
 * first file a tool opens (a queue's segment, a lock, a pidfile) lands on
 * that number, and the tool's output or error messages go into the file:
 * `pqueue-stat Q >&-` wrote its report over Q's header.  Close-on-exec:
 * a command we run gets the descriptor closed, as its caller left it.
 */
static void
std_hold(void)
{
	int fd, nfd;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		nfd = open("/dev/null", (fd == STDIN_FILENO ? O_WRONLY :
		    O_RDONLY) | O_CLOEXEC);
		if (nfd == -1)
			err(PKIT_EXIT_FAIL, "/dev/null");
		/* The lowest free number: fd itself, as lower ones are open. */
		if (nfd != fd && (dup3(nfd, fd, O_CLOEXEC) == -1 ||
		    close(nfd) == -1))
			err(PKIT_EXIT_FAIL, "/dev/null");
	}
}

/* Help or version printed: exit 0 if it was written, else say why. */
static void
out_done(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		exit(PKIT_EXIT_OK);
	err(PKIT_EXIT_FAIL, "stdout");
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
	out_done();
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
