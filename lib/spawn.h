/* SPDX-License-Identifier: ISC */
/*
 * spawn.h: start a command in a child and know at once whether it was
 * executed - the one way every pkit tool and tool body starts one.
 *
 * Options: a child that dies with its parent (PR_SET_PDEATHSIG, SIGKILL,
 * set after the user change, which would clear it, and checked against a
 * parent that died before the prctl), its own process group, its
 * stdin/stdout/stderr, its environment, signal dispositions
 * reset and the signal mask it starts with, vfork for callers that start
 * many, one more descriptor at a number of the caller's choice, and the
 * user it runs as (groups, gid, uid set in that order; the names looked
 * up beforehand by spawn_user_lookup, since the child may not allocate).
 * The exec verdict comes back through lib/execpipe's close-on-exec
 * pipe, even under vfork.
 *
 * Tier: engine.  Nothing here prints or exits the caller.
 */
#ifndef PKIT_SPAWN_H
#define PKIT_SPAWN_H

#include <signal.h>
#include <sys/types.h>

#define SPAWN_DIE_WITH_PARENT	0x1	/* SIGKILL when the parent ends */
#define SPAWN_NEW_GROUP		0x2	/* setpgid(0, 0): its own group */
#define SPAWN_VFORK		0x4	/* vfork: no page tables copied */

/* spawn_start's answers besides 0. */
#define SPAWN_ERROR	(-1)	/* no child: pipe or fork failed (errno) */
#define SPAWN_NOEXEC	(-2)	/* the exec failed (errno); child reaped */

/* Who a command runs as: spawn_user_lookup fills it, spawn_user_drop sets it. */
struct spawn_user {
	uid_t		 uid;
	gid_t		 gid;
	gid_t		*groups;	/* the supplementary groups (malloc'd) */
	int		 ngroups;
};

struct spawn_opts {
	unsigned	  flags;	/* SPAWN_* */
	int		  fd[3];	/* put at 0, 1, 2; -1 inherits */
	int		  xfd;		/* one more descriptor, -1 none, ... */
	int		  xfd_at;	/* ... put at this number (> 2) */
	const struct spawn_user *user;	/* run as this user; NULL: as we run */
	char *const	 *envp;		/* NULL: our environment */
	const sigset_t	 *dfl;		/* reset to SIG_DFL; NULL: none */
	const sigset_t	 *mask;		/* the child's mask; NULL: ours */
};

/* Defaults: no flag, fds and mask inherited, our environment. */
void	spawn_opts_init(struct spawn_opts *o);

/*
 * Start argv as set out by O.  0: it has been executed, *pid is its pid
 * (reap it).  SPAWN_NOEXEC: execvp failed with errno (map it with
 * exec_errno_to_exit); the child, whose pid is left in *pid for
 * messages, has been reaped.  SPAWN_ERROR: no child (*pid is -1), errno
 * set.  With SPAWN_DIE_WITH_PARENT, a child whose parent has
 * already gone exits 128+SIGKILL, as if the signal had come.
 */
int	spawn_start(const struct spawn_opts *o, char *const argv[],
	    pid_t *pid);

/*
 * Set the signals in DFL (NULL: none; SIGKILL and SIGSTOP skipped) to
 * SIG_DFL, then the mask to MASK (NULL: unchanged), as a fresh process
 * or a spawned child wants them.
 */
void	spawn_signals(const sigset_t *dfl, const sigset_t *mask);

/*
 * USER[:GROUP] (names) into *u: the user's uid, GROUP's gid or else the
 * user's own, and the groups initgroups(3) would set (getgrouplist(3)).
 * 0; or -1 with *why ("unknown user", "unknown group", or NULL and errno).
 */
int	spawn_user_lookup(const char *spec, struct spawn_user *u,
	    const char **why);

/*
 * setgroups(2), setgid(2), setuid(2) to *u, in that order (the groups
 * and gid while we may still change them); no allocation, so safe in a
 * (v)forked child.  0, or -1 with errno.
 */
int	spawn_user_drop(const struct spawn_user *u);

#endif
