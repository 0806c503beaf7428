/* SPDX-License-Identifier: ISC */
/*
 * pdaemon: run a command as a Unix daemon, with a locked pidfile and a
 * log; supervise it (-r); stop it (-k) or ask whether it runs (-s).
 *
 * The work is in lib/daemonize.c (detach, supervise, stop) and
 * lib/pidlock.c (when to believe a pidfile).  Here: options, operands,
 * and the descriptors we inherit, closed before anything is opened so
 * that the daemon keeps none of them and the pidfile's lock is never
 * dropped by a late closefrom().
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "daemonize.h"
#include "dur.h"
#include "exitcode.h"

extern char **environ;

static void	fds_settle(void);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct daemon_conf conf = { 0 };
	int64_t grace = (int64_t)10 * 1000 * 1000 * 1000;
	int ch, kflag = 0, sflag = 0, tflag = 0;

	setproctitle_init(argc, argv, environ);
	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+C:ho:p:rskT:t:")) != -1) {
		switch (ch) {
		case 'C':
			conf.dir = optarg;
			break;
		case 'h':
			cli_usage_help(usage);
		case 'k':
			kflag = 1;
			break;
		case 'o':
			conf.logfile = optarg;
			break;
		case 'p':
			conf.pidfile = optarg;
			break;
		case 'r':
			conf.restart = 1;
			break;
		case 's':
			sflag = 1;
			break;
		case 'T':
			conf.title = optarg;
			break;
		case 't':
			grace = dur_parse_or_die(optarg);
			tflag = 1;
			break;
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;

	if (kflag || sflag) {
		const char *mode = kflag ? "-k" : "-s";

		if (kflag && sflag)
			cli_conflict("-k", "-s");
		if (sflag && tflag)
			cli_conflict("-s", "-t");
		if (conf.dir != NULL)
			cli_conflict(mode, "-C");
		if (conf.logfile != NULL)
			cli_conflict(mode, "-o");
		if (conf.pidfile != NULL)
			cli_conflict(mode, "-p");
		if (conf.restart)
			cli_conflict(mode, "-r");
		if (conf.title != NULL)
			cli_conflict(mode, "-T");
		if (argc != 1)
			cli_usage_error(usage);
		if (argv[0][0] == '\0')
			errx(PKIT_EXIT_FAIL, "pidfile: empty path");
		fds_settle();
		return kflag ? daemon_stop(argv[0], grace) :
		    daemon_status(argv[0]);
	}
	if (argc < 1)
		cli_usage_error(usage);
	if (tflag)
		cli_misuse("-t needs -k");
	if (conf.title != NULL && !conf.restart)
		cli_misuse("-T needs -r");
	if (conf.pidfile != NULL && conf.pidfile[0] == '\0')
		errx(PKIT_EXIT_FAIL, "pidfile: empty path");
	if (conf.logfile != NULL && conf.logfile[0] == '\0')
		errx(PKIT_EXIT_FAIL, "log file: empty path");
	conf.argv = argv;
	fds_settle();
	return daemon_start(&conf);
}

/*
 * Close every inherited descriptor above 2 and make sure 0, 1 and 2 are
 * open, so that nothing we open later lands on them.
 */
static void
fds_settle(void)
{
	int fd;

	closefrom(STDERR_FILENO + 1);
	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
		if (fcntl(fd, F_GETFD) == -1 &&
		    open("/dev/null", O_RDWR) == -1)
			err(PKIT_EXIT_FAIL, "/dev/null");
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pdaemon [-r] [-p PIDFILE] [-o LOGFILE] [-C DIR] [-T TITLE] "
	    "CMD [ARG...]\n"
	    "       pdaemon -k [-t DURATION] PIDFILE\n"
	    "       pdaemon -s PIDFILE\n");
	fputs("\n"
	    "  -r             supervise: restart CMD each time it exits\n"
	    "  -p PIDFILE     keep a locked pidfile holding the daemon's pid\n"
	    "  -o LOGFILE     append the daemon's stdout and stderr to LOGFILE\n"
	    "  -C DIR         run in DIR instead of /\n"
	    "  -T TITLE       with -r, the supervisor's name in ps and in the log\n"
	    "  -k             stop the daemon of PIDFILE: TERM, wait, KILL after -t\n"
	    "  -t DURATION    with -k, wait DURATION before KILL (default 10s)\n"
	    "  -s             status: print the pid, exit 0 if running, else 1\n",
	    fp);
}
