/* SPDX-License-Identifier: ISC */
/*
 * cli.h: what the tools' option handling, and their standard streams,
 * share.
 */
#ifndef PKIT_CLI_H
#define PKIT_CLI_H

#include <stdio.h>
#include <unistd.h>

/*
 * libbsd's overlay turns getopt into bsd_getopt, which only adds BSD's
 * optreset (reset when set to 1) in front of glibc's getopt.  No tool
 * parses its options twice, and reading optreset cost every process a
 * page fault on its page of bss.  unistd.h is included once (libbsd
 * guards it), so the macro stays undefined in each tool.
 */
#undef getopt

/*
 * Every tool calls this first.  A standard descriptor (0, 1, 2) the caller
 * closed gets a close-on-exec stand-in on which reads or writes fail with
 * EBADF, as on the closed one, so that no file the tool opens lands there
 * (cli.c, std_hold).  GNU habits: if argv[1] is exactly "--help" print
 * usage to stdout and exit 0; if "--version" print "PROG (pkit) VERSION"
 * and exit 0 (125 with a line on stderr if stdout cannot take it).  Call
 * before getopt.  usage(fp) prints the synopsis lines, "usage: ..." first, then
 * a blank line and one line per option ("  -X ARG   what it does"); the
 * lines for -h, --help and --version and "see PROG(1)" are added here.
 */
void	cli_gnu_opts(int argc, char *argv[], void (*usage)(FILE *));

/* Print the synopsis (usage up to its blank line) to stderr, exit 125. */
void	cli_usage_error(void (*usage)(FILE *)) __attribute__((noreturn));

/* Print usage, the -h/--help/--version lines and "see PROG(1)" to
 * stdout and exit 0 (-h). */
void	cli_usage_help(void (*usage)(FILE *)) __attribute__((noreturn));

/*
 * Two options (or an option and an operand) that exclude each other: print
 * "prog: A and B cannot be used together" and exit 125 (bad usage).  One
 * line that names the conflict, rather than the whole usage.
 */
void	cli_conflict(const char *, const char *) __attribute__((noreturn));

/*
 * Any other misuse the synopsis alone does not explain ("-T needs -r"):
 * print "prog: " and the message, one line, and exit 125.
 */
void	cli_misuse(const char *, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));

/*
 * If FD is a pipe of less than SIZE bytes, grow it to SIZE (F_SETPIPE_SZ),
 * so that a stream moves in SIZE chunks, not a 64 KiB pipe's quarters.
 * Where that is refused (an unprivileged user over its allowance,
 * fs.pipe-user-pages-soft) the pipe stays as it is: only slower.
 */
void	cli_grow_pipe(int fd, int size);

#endif
