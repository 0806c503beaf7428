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

#define DAEMON_BACKOFF_MIN	((int64_t)100 * 1000 * 1000)		/* 0.1 s */
#define DAEMON_BACKOFF_MAX	((int64_t)30 * 1000 * 1000 * 1000)	/* 30 s */
#define DAEMON_HEALTHY		((int64_t)60 * 1000 * 1000 * 1000)	/* 1 min */

struct daemon_conf {
	char		**argv;		/* CMD [ARG...] */
	const char	 *pidfile;	/* -p, or NULL */
	const char	 *logfile;	/* -o, or NULL for /dev/null */
	const char	 *dir;		/* -C, or NULL for / */
	const char	 *title;	/* -T, or NULL for CMD's base name */
	int		  restart;	/* -r */
};

/*
 * In the caller: lock the pidfile, detach, run CMD (under a supervisor
 * with -r), print the daemon's pid once CMD has been executed.  Returns
 * the exit status for pdaemon: 0, 1 (already running), 125, 126/127.
 * Descriptors above 2 must have been closed by the caller beforehand.
 */
int	daemon_start(const struct daemon_conf *conf);

/* -k: SIGTERM, wait, SIGKILL after grace ns; 0 stopped, 1 not running, 125. */
int	daemon_stop(const char *pidfile, int64_t grace);

/* -s: print the pid and return 0 if running; 1 if not; 125 on error. */
int	daemon_status(const char *pidfile);

/*
 * The restart delay after a run of RAN ns: *next, or DAEMON_BACKOFF_MIN
 * if the run was healthy (at least DAEMON_HEALTHY).  *next is doubled
 * for the time after, up to DAEMON_BACKOFF_MAX.
 */
int64_t	daemon_backoff(int64_t *next, int64_t ran);

#endif
