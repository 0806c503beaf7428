/* SPDX-License-Identifier: ISC */
/*
 * keeper.h: the process behind pspawn(1) that starts a job's copies,
 * stays their parent, and writes how each ended (lib/jobrec.h) before it
 * reaps it, so that pjoin(1) can always learn the real status.
 *
 * Tier: tool body.  The keeper is a process of its own: it reports on
 * stderr and ends with _exit; keeper_start reports its failures and
 * ends pspawn.
 */
#ifndef PKIT_KEEPER_H
#define PKIT_KEEPER_H

#include <sys/types.h>

#include "proc.h"

struct keeper_conf {
	char	**argv;		/* the command */
	int	  count;	/* copies to start */
	int	  indexed;	/* set PKIT_INDEX=1..count in each */
	int	  group;	/* each leads its own process group */
	int	  watch;	/* outlive CALLER (pspawn -D) */
	struct pidref caller;	/* pinned: a pidfd, or its start time */
	int	  in;		/* the copies' stdin */
	int	  out, err;	/* their stdout, stderr; -1: our stderr */
	int	  null;		/* /dev/null, open read-write */
	int	  jobs;		/* the records directory */
};

/*
 * Start the keeper and wait until it has started the copies and printed
 * their pids on stdout: then end pspawn with its exit code (0, or the
 * first failure, 125-127) by _exit, with no exit handler or stdio flush
 * (the keeper may share pspawn's memory: see keeper.c).  The keeper goes
 * on in the background: it waits for every copy, recording each; with
 * watch set it also ends them (SIGTERM, then SIGKILL after a grace
 * period) once that process is gone.  ARGC and ARGV are main's, for the
 * keeper's title.  The descriptors in KC are the keeper's from then on:
 * not the caller's.
 */
void	keeper_start(const struct keeper_conf *kc, int argc, char *argv[])
	    __attribute__((noreturn));

/*
 * 1 if the exited but not yet reaped process PID (FD: a pidfd on it, or
 * -1) is a keeper's copy, that is, its parent is a keeper (by its command
 * name, pspawn's: the keeper's title changes only its command line).
 */
int	keeper_owns(pid_t pid, int fd);

#endif
