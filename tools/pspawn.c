/* SPDX-License-Identifier: ISC */
/*
 * pspawn: start a command in the background, print its pid, and return as
 * soon as the command has been executed (Python's Process.start()).
 *
 * The work is the keeper's (lib/keeper.c): a process that starts the
 * COUNT copies, prints their pids, lets pspawn go with the exit code, and
 * stays behind to record how each copy ends (lib/jobrec.h) before it
 * reaps it.  Here: options, operands, the copies' descriptors and
 * environment, and with -D a pidfd on the process that ran pspawn, opened
 * while it is still our parent, for the keeper to watch.  Tier: tool -
 * it prints its own errors and exits with the table's code.
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exitcode.h"
#include "keeper.h"
#include "parse.h"
#include "pidlock.h"
#include "proc.h"
#include "rundir.h"

#define COUNT_MAX	100000

static int	open_or_die(int dfd, const char *path, int flags);
static int	open_out_or_die(int dfd, const char *path);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct keeper_conf kc;
	char buf[16], **main_argv = argv;
	int main_argc = argc;
	const char *dir = NULL, *in = NULL, *out = NULL, *errout = NULL;
	pid_t caller;
	int ch, cwd = AT_FDCWD, watch = 0;

	memset(&kc, 0, sizeof(kc));
	kc.count = 1;
	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+C:De:ghi:n:o:")) != -1) {
		switch (ch) {
		case 'C':
			dir = optarg;
			break;
		case 'D':
			watch = 1;
			break;
		case 'e':
			errout = optarg;
			break;
		case 'g':
			kc.group = 1;
			break;
		case 'h':
			cli_usage_help(usage);
		case 'i':
			in = optarg;
			break;
		case 'n':
			kc.count = num_parse_or_die(optarg, 1, COUNT_MAX,
			    "count");
			kc.indexed = 1;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		cli_usage_error(usage);
	kc.argv = argv;

	/*
	 * Only the last -o, -e, -i: a file named before it is not touched.
	 * Every check that can fail comes before -o and -e create their
	 * files, so a refusal leaves none behind; they are still opened
	 * relative to our directory, not DIR.
	 */
	kc.in = open_or_die(AT_FDCWD, in, O_RDONLY);
	kc.null = open_or_die(AT_FDCWD, "/dev/null", O_RDWR);
	if (kc.in == -1)
		kc.in = kc.null;
	/* Before -C: the records go where pjoin, in our directory, looks. */
	kc.jobs = rundir_sub_or_die("jobs");
	if (dir != NULL) {
		if ((cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
			err(PKIT_EXIT_FAIL, "current directory");
		if (chdir(dir) == -1)
			err(PKIT_EXIT_FAIL, "%s", safe(dir));
	}
	caller = getppid();
	snprintf(buf, sizeof(buf), "%d", (int)caller);
	if (setenv("PKIT_PARENT", buf, 1) == -1 ||
	    (!kc.indexed && unsetenv("PKIT_INDEX") == -1))
		err(PKIT_EXIT_FAIL, "environment");
	if (watch) {
		/* Opened while we are its child, so it is the right one. */
		if (pidref_open(&kc.caller, caller) == -1 ||
		    getppid() != caller)
			err(PKIT_EXIT_FAIL, "pid %d", (int)caller);
		kc.watch = 1;
	}
	kc.out = open_out_or_die(cwd, out);
	kc.err = open_out_or_die(cwd, errout);
	if (cwd != AT_FDCWD)
		close(cwd);
	keeper_start(&kc, main_argc, main_argv);
}

/*
 * PATH (relative to dfd) opened close-on-exec, or -1 if PATH is NULL;
 * exit 125 if it fails.
 */
static int
open_or_die(int dfd, const char *path, int flags)
{
	int fd;

	if (path == NULL)
		return -1;
	if ((fd = openat(dfd, path, flags | O_CLOEXEC, 0666)) == -1)
		err(PKIT_EXIT_FAIL, "%s", safe(path));
	return fd;
}

/*
 * -o or -e PATH (relative to dfd) opened to append, or -1 if PATH is
 * NULL (pidlock_open_out): as the shell's >> in a directory only we may
 * write; elsewhere never through a symlink, nor, in /tmp, a file a
 * neighbour planted, where root would append CMD's output to a file of
 * their choosing, or to theirs.  Exit 125 if it fails.
 */
static int
open_out_or_die(int dfd, const char *path)
{
	struct stat st;
	const char *why;
	int fd;

	if (path == NULL)
		return -1;
	if ((fd = pidlock_open_out(dfd, path, O_WRONLY | O_APPEND | O_CREAT,
	    0666, &st, &why)) == -1)
		errx(PKIT_EXIT_FAIL, "%s: %s", safe(path), why);
	return fd;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pspawn [-D] [-g] [-n COUNT] [-o FILE] [-e FILE] "
	    "[-i FILE] [-C DIR] CMD [ARG...]\n");
	fputs("\n"
	    "  -D             daemonic: CMD is killed when the caller exits\n"
	    "  -g             CMD leads a process group of its own\n"
	    "  -n COUNT       start COUNT copies, each told PKIT_INDEX\n"
	    "  -o FILE        append CMD's stdout to FILE\n"
	    "  -e FILE        append CMD's stderr to FILE\n"
	    "  -i FILE        read CMD's stdin from FILE\n"
	    "  -C DIR         run CMD in DIR\n", fp);
}
