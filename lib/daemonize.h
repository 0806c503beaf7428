/* SPDX-License-Identifier: ISC */
/*
 * daemonize.h: start a command as a Unix daemon (optionally supervised),
 * stop it, and ask whether it runs - the phases of pdaemon(1).
 * Tier: tool body - each phase reports with warn(3) and returns an exit
 * status from the table; none exits the caller.
 */
#ifndef PKIT_DAEMONIZE_H
#define PKIT_DAEMONIZE_H

#include <stdint.h>

#include "spawn.h"

#define DAEMON_BACKOFF_MIN	((int64_t)100 * 1000 * 1000)		/* 0.1 s */
#define DAEMON_BACKOFF_MAX	((int64_t)30 * 1000 * 1000 * 1000)	/* 30 s */
#define DAEMON_HEALTHY		((int64_t)60 * 1000 * 1000 * 1000)	/* 1 min */

/* The crash loop: DAEMON_LOOP_MAX failures within DAEMON_LOOP_WINDOW. */
#define DAEMON_LOOP_MAX		5
#define DAEMON_LOOP_WINDOW	((int64_t)10 * 1000 * 1000 * 1000)	/* 10 s */
#define DAEMON_LOOP_CAP		1000	/* the largest -L count */

/* -w, -W: how long to wait for readiness by default, and the grace a
 * daemon that was not ready in time gets between SIGTERM and SIGKILL. */
#define DAEMON_READY_TIMEOUT	((int64_t)90 * 1000 * 1000 * 1000)	/* 90 s */
#define DAEMON_READY_GRACE	((int64_t)5 * 1000 * 1000 * 1000)	/* 5 s */

/* struct daemon_conf's restart: when the supervisor starts CMD again. */
#define DAEMON_RESTART_NONE	0	/* no supervisor: the daemon is CMD */
#define DAEMON_RESTART_FAILURE	1	/* -r: non-zero exit or a signal */
#define DAEMON_RESTART_ALWAYS	2	/* -R: any exit */

struct daemon_conf {
	char		**argv;		/* CMD [ARG...] */
	const char	 *pidfile;	/* -p, or NULL */
	const char	 *logfile;	/* -o, or NULL for /dev/null */
	const char	 *dir;		/* -C, or NULL for / */
	const char	 *title;	/* -T, or NULL for CMD's base name */
	int		  restart;	/* DAEMON_RESTART_*: -r, -R */
	int		  loop_max;	/* -L: failures that end it; 0 never */
	int64_t		  loop_window;	/* -L: ... within this many ns */
	int		  notify;	/* -w: wait for READY=1 (sd_notify) */
	int		  readyfd;	/* -W FD: wait for a newline on FD; 0 no */
	int64_t		  ready_timeout; /* -t with -w or -W: give up after */
	const struct spawn_user *user;	/* -u: run CMD as this user, or NULL */
};

/*
 * In the caller: lock the pidfile, detach, run CMD (under a supervisor
 * with -r), print the daemon's pid once CMD has been executed - or, with
 * -w or -W, once CMD has said it is ready.  Returns the exit status for
 * pdaemon: 0, 1 (already running), 125, 126/127; with -w or -W also 124
 * (not ready in time: stopped) or CMD's status if it ended first.
 * Descriptors above 2 must have been closed by the caller beforehand,
 * and the -W descriptor number reserved (open, close-on-exec).
 */
int	daemon_start(const struct daemon_conf *conf);

/* -k: SIGTERM, wait, SIGKILL after grace ns; 0 stopped, 1 not running, 125. */
int	daemon_stop(const char *pidfile, int64_t grace);

/*
 * -s: print the pid and return 0 if running; 1 if not; 125 on error.
 * VERBOSE (-v): a line per process instead, "ROLE PID STATE UPTIME":
 * the supervisor's, then CMD's (pdaemon.1 has the format).
 */
int	daemon_status(const char *pidfile, int verbose);

/*
 * The crash-loop check, after a failure at NOW (monotonic ns): TIMES
 * holds the last MAX failure times (a ring, *n of them recorded so far).
 * Returns 1 when MAX failures fell within WINDOW ns, else 0; MAX 0: 0.
 */
int	daemon_crashloop(int64_t *times, int max, int64_t window, int *n,
	    int64_t now);

/*
 * The restart delay after a run of RAN ns: *next, or DAEMON_BACKOFF_MIN
 * if the run was healthy (at least DAEMON_HEALTHY).  *next is doubled
 * for the time after, up to DAEMON_BACKOFF_MAX.
 */
int64_t	daemon_backoff(int64_t *next, int64_t ran);

#endif
