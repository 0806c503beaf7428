/* SPDX-License-Identifier: ISC */
/*
 * pdaemon: run a command as a Unix daemon, with a locked pidfile and a
 * log; wait until it is ready (-w, -W); run it as another user (-u);
 * supervise it (-r); stop it (-k) or ask whether it runs (-s).
 *
 * The work is in lib/daemonize.c (detach, supervise, stop) and
 * lib/pidlock.c (when to believe a pidfile), readiness in lib/ready.c.
 * Here: options, operands, the user of -u looked up, and the descriptors
 * we inherit, closed before anything is opened so that the daemon keeps
 * none of them and the pidfile's lock is never dropped by a late
 * closefrom(); -W's number is then taken by a placeholder, so that
 * nothing we open lands on it.
 */
#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemonize.h"
#include "dur.h"
#include "exitcode.h"
#include "parse.h"

extern char **environ;

static void	fds_settle(int);
static void	user_parse(const char *, struct daemon_conf *);
static void	loop_parse(const char *, struct daemon_conf *);
static char	*cmd_absolute(char *);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct daemon_conf conf = { 0 };
	int64_t grace = (int64_t)10 * 1000 * 1000 * 1000;
	int ch, kflag = 0, sflag = 0, tflag = 0, Lflag = 0, vflag = 0;

	/*
	 * First, before getopt: libbsd copies the argument strings out of
	 * the area a title overwrites, and the options (-T NAME, -p, -o)
	 * must point at the copies.  (Called after the options, -r's
	 * supervisor logged as ": pid ... exited": its -T name overwritten.)
	 */
	setproctitle_init(argc, argv, environ);
	conf.loop_max = DAEMON_LOOP_MAX;
	conf.loop_window = DAEMON_LOOP_WINDOW;
	conf.ready_timeout = DAEMON_READY_TIMEOUT;
	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+C:hL:o:p:RrskT:t:u:vW:w")) != -1) {
		switch (ch) {
		case 'C':
			conf.dir = optarg;
			break;
		case 'h':
			cli_usage_help(usage);
		case 'k':
			kflag = 1;
			break;
		case 'L':
			loop_parse(optarg, &conf);
			Lflag = 1;
			break;
		case 'o':
			conf.logfile = optarg;
			break;
		case 'p':
			conf.pidfile = optarg;
			break;
		case 'R':
			if (conf.restart == DAEMON_RESTART_FAILURE)
				cli_conflict("-r", "-R");
			conf.restart = DAEMON_RESTART_ALWAYS;
			break;
		case 'r':
			if (conf.restart == DAEMON_RESTART_ALWAYS)
				cli_conflict("-r", "-R");
			conf.restart = DAEMON_RESTART_FAILURE;
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
		case 'u':
			user_parse(optarg, &conf);
			break;
		case 'v':
			vflag = 1;
			break;
		case 'W':
			conf.readyfd = (int)num_parse_or_die(optarg, 3, INT_MAX,
			    "-W descriptor");
			break;
		case 'w':
			conf.notify = 1;
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
			cli_conflict(mode, conf.restart ==
			    DAEMON_RESTART_ALWAYS ? "-R" : "-r");
		if (Lflag)
			cli_conflict(mode, "-L");
		if (conf.title != NULL)
			cli_conflict(mode, "-T");
		if (conf.notify)
			cli_conflict(mode, "-w");
		if (conf.readyfd > 0)
			cli_conflict(mode, "-W");
		if (conf.user != NULL)
			cli_conflict(mode, "-u");
		if (kflag && vflag)
			cli_conflict("-k", "-v");
		if (argc != 1)
			cli_usage_error(usage);
		if (argv[0][0] == '\0')
			errx(PKIT_EXIT_FAIL, "pidfile: empty path");
		fds_settle(0);
		return kflag ? daemon_stop(argv[0], grace) :
		    daemon_status(argv[0], vflag);
	}
	if (argc < 1)
		cli_usage_error(usage);
	if (vflag)
		cli_misuse("-v needs -s");
	if (tflag && !conf.notify && conf.readyfd == 0)
		cli_misuse("-t needs -k, -w or -W");
	if (tflag)
		conf.ready_timeout = grace;
	if (conf.title != NULL && !conf.restart)
		cli_misuse("-T needs -r");
	if (Lflag && !conf.restart)
		cli_misuse("-L needs -r");
	if (conf.pidfile != NULL && conf.pidfile[0] == '\0')
		errx(PKIT_EXIT_FAIL, "pidfile: empty path");
	if (conf.logfile != NULL && conf.logfile[0] == '\0')
		errx(PKIT_EXIT_FAIL, "log file: empty path");
	conf.argv = argv;
	if (conf.dir == NULL)
		argv[0] = cmd_absolute(argv[0]);
	fds_settle(conf.readyfd);
	return daemon_start(&conf);
}

/*
 * -L N/DURATION: give up after N failures within DURATION; -L 0: never.
 */
static void
loop_parse(const char *arg, struct daemon_conf *conf)
{
	char num[32];
	const char *slash = strchr(arg, '/');
	size_t len;

	if (strcmp(arg, "0") == 0) {
		conf->loop_max = 0;
		return;
	}
	len = slash != NULL ? (size_t)(slash - arg) : 0;
	if (slash == NULL || len == 0 || len >= sizeof(num))
		errx(PKIT_EXIT_FAIL, "-L %s: not N/DURATION (or 0)",
		    safe(arg));
	memcpy(num, arg, len);
	num[len] = '\0';
	conf->loop_max = (int)num_parse_or_die(num, 1, DAEMON_LOOP_CAP,
	    "-L count");
	conf->loop_window = dur_parse_or_die(slash + 1);
	if (conf->loop_window == 0)
		errx(PKIT_EXIT_FAIL, "-L %s: DURATION must be more than 0 "
		    "(-L 0: never give up)", safe(arg));
}

/*
 * The daemon runs in /: a CMD named by a relative path (./server.sh,
 * bin/server) is made absolute against the caller's directory first, as
 * PIDFILE and LOGFILE are, so that it names what the caller sees.  A bare
 * name is left to execvp(3) and PATH.  With -C, CMD is relative to DIR.
 */
static char *
cmd_absolute(char *cmd)
{
	char cwd[PATH_MAX], *abs;

	if (cmd[0] == '/' || strchr(cmd, '/') == NULL)
		return cmd;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		err(PKIT_EXIT_FAIL, "getcwd");
	while (cmd[0] == '.' && cmd[1] == '/')
		for (cmd += 2; *cmd == '/'; cmd++)
			;
	if (asprintf(&abs, "%s/%s", cwd, cmd) == -1)
		err(PKIT_EXIT_FAIL, "asprintf");
	return abs;
}

/*
 * -u USER[:GROUP]: only root may, and the names must exist; looked up
 * now, so that the daemon has nothing left to ask NSS.
 */
static void
user_parse(const char *spec, struct daemon_conf *conf)
{
	static struct spawn_user user;
	const char *why;

	if (geteuid() != 0)
		errx(PKIT_EXIT_FAIL, "-u %s: only root can run CMD as "
		    "another user", safe(spec));
	if (spawn_user_lookup(spec, &user, &why) == -1) {
		if (why != NULL)
			errx(PKIT_EXIT_FAIL, "-u %s: %s", safe(spec), why);
		err(PKIT_EXIT_FAIL, "-u %s", safe(spec));
	}
	conf->user = &user;
}

/*
 * Close every inherited descriptor above 2 (0, 1 and 2 are taken:
 * cli_gnu_opts puts a stand-in on a closed one, on which a write fails,
 * so that `pdaemon CMD >&-` fails as with any stdout the pid cannot be
 * written to); with -W, keep READYFD taken as well (close-on-exec
 * /dev/null until CMD's pipe), so that nothing we open lands on it.
 */
static void
fds_settle(int readyfd)
{
	int fd;

	closefrom(STDERR_FILENO + 1);
	if (readyfd <= STDERR_FILENO)
		return;
	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		err(PKIT_EXIT_FAIL, "/dev/null");
	if (fd != readyfd && (dup3(fd, readyfd, O_CLOEXEC) == -1 ||
	    close(fd) == -1))
		err(PKIT_EXIT_FAIL, "-W %d", readyfd);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pdaemon [-r | -R] [-L N/DURATION] [-p PIDFILE] [-o LOGFILE] "
	    "[-C DIR] [-T TITLE] [-u USER[:GROUP]] [-w] [-W FD] [-t DURATION] "
	    "CMD [ARG...]\n"
	    "       pdaemon -k [-t DURATION] PIDFILE\n"
	    "       pdaemon -s [-v] PIDFILE\n");
	fputs("\n"
	    "  -r             supervise: restart CMD when it fails (exit > 0, signal)\n"
	    "  -R             supervise: restart CMD whenever it exits\n"
	    "  -L N/DURATION  with -r or -R, give up after N failures within DURATION\n"
	    "  -p PIDFILE     keep a locked pidfile holding the daemon's pid\n"
	    "  -o LOGFILE     append the daemon's stdout and stderr to LOGFILE\n"
	    "  -C DIR         run in DIR instead of /\n"
	    "  -T TITLE       with -r, the supervisor's name in ps and in the log\n"
	    "  -u USER[:GROUP] run CMD as USER (root only): initgroups, setgid, setuid\n"
	    "  -w             wait until CMD sends READY=1 (sd_notify, NOTIFY_SOCKET)\n"
	    "  -W FD          wait until CMD writes a newline on descriptor FD\n"
	    "  -t DURATION    with -w or -W, give up after DURATION (default 90s), 124;\n"
	    "                 with -k, wait DURATION before KILL (default 10s)\n"
	    "  -k             stop the daemon of PIDFILE: TERM, wait, KILL after -t\n"
	    "  -s             status: print the pid, exit 0 if running, else 1\n"
	    "  -v             with -s, a line per process: ROLE PID STATE UPTIME\n",
	    fp);
}
