/* SPDX-License-Identifier: ISC */
/*
 * spawn.c: start a command, the one way (see spawn.h).
 *
 * The child does only system calls on its own process state before the
 * exec - no allocation, no stdio - so the same code serves fork and
 * vfork.  A child asked to die with its parent checks, after the prctl,
 * that its parent is still the one that forked it: one that died in
 * between would never send the signal.  The prctl comes last, after the
 * user change, which would clear it.  Tier: engine.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execpipe.h"
#include "spawn.h"

static void	child(const struct spawn_opts *, pid_t, int [2], char *const [])
		    __attribute__((noreturn));

void
spawn_opts_init(struct spawn_opts *o)
{
	o->flags = 0;
	o->fd[0] = o->fd[1] = o->fd[2] = -1;
	o->xfd = o->xfd_at = -1;
	o->user = NULL;
	o->envp = NULL;
	o->dfl = NULL;
	o->mask = NULL;
}

int
spawn_start(const struct spawn_opts *o, char *const argv[], pid_t *pid)
{
	pid_t parent = getpid(), c;
	int fds[2], e;

	*pid = -1;
	if (execpipe_open(fds) == -1)
		return SPAWN_ERROR;
	c = o->flags & SPAWN_VFORK ? vfork() : fork();
	if (c == -1) {
		e = errno;
		close(fds[0]);
		close(fds[1]);
		errno = e;
		return SPAWN_ERROR;
	}
	if (c == 0)
		child(o, parent, fds, argv);
	/* Both sides, so the group exists whichever runs first. */
	if (o->flags & SPAWN_NEW_GROUP)
		setpgid(c, c);
	*pid = c;
	if ((e = execpipe_wait(fds)) != 0) {
		while (waitpid(c, NULL, 0) == -1 && errno == EINTR)
			;
		errno = e;
		return SPAWN_NOEXEC;
	}
	return 0;
}

/* In the (maybe vforked) child: settle, then exec or report why not. */
static void
child(const struct spawn_opts *o, pid_t parent, int fds[2],
    char *const argv[])
{
	int i, e;
	ssize_t n;

	spawn_signals(o->dfl, o->mask);
	if (o->flags & SPAWN_NEW_GROUP)
		setpgid(0, 0);
	for (i = 0; i < 3; i++) {
		if (o->fd[i] == -1)
			continue;
		/* Already there: just let it survive the exec. */
		if (o->fd[i] == i)
			fcntl(i, F_SETFD, 0);
		else
			dup2(o->fd[i], i);
	}
	if (o->xfd >= 0 && o->xfd_at > STDERR_FILENO) {
		if (o->xfd == o->xfd_at)
			fcntl(o->xfd_at, F_SETFD, 0);
		else
			dup2(o->xfd, o->xfd_at);
	}
	if (o->user != NULL && spawn_user_drop(o->user) == -1) {
		/* Reported as an exec failure: the command never ran. */
		e = errno;
		do
			n = write(fds[1], &e, sizeof(e));
		while (n == -1 && errno == EINTR);
		_exit(126);
	}
	/*
	 * After the user change: the kernel clears the parent-death signal
	 * when the credentials change (setgid, setuid).  Set before them, it
	 * was gone, and pdaemon -r -u's CMD outlived its supervisor.
	 */
	if (o->flags & SPAWN_DIE_WITH_PARENT &&
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent))
		_exit(128 + SIGKILL);
	execpipe_execve(fds, argv, o->envp);
}

int
spawn_user_lookup(const char *spec, struct spawn_user *u, const char **why)
{
	struct passwd *pw;
	struct group *gr;
	char *name, *colon;
	int n = 64, prev;

	*why = NULL;
	memset(u, 0, sizeof(*u));
	if ((name = strdup(spec)) == NULL)
		return -1;
	if ((colon = strchr(name, ':')) != NULL)
		*colon++ = '\0';
	errno = 0;
	if (name[0] == '\0' || (pw = getpwnam(name)) == NULL) {
		*why = "unknown user";
		goto fail;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	if (colon != NULL) {
		errno = 0;
		if (colon[0] == '\0' || (gr = getgrnam(colon)) == NULL) {
			*why = "unknown group";
			goto fail;
		}
		u->gid = gr->gr_gid;
	}
	/* As initgroups(3): the user's groups and the group we run as. */
	for (;;) {
		free(u->groups);
		if ((u->groups = calloc((size_t)n, sizeof(gid_t))) == NULL)
			goto fail;
		prev = n;
		if (getgrouplist(name, u->gid, u->groups, &n) != -1)
			break;
		if (n <= prev)
			n = prev * 2;
	}
	u->ngroups = n;
	free(name);
	return 0;
fail:
	free(name);
	free(u->groups);
	u->groups = NULL;
	return -1;
}

int
spawn_user_drop(const struct spawn_user *u)
{
	if (setgroups((size_t)u->ngroups, u->groups) == -1 ||
	    setgid(u->gid) == -1 || setuid(u->uid) == -1)
		return -1;
	return 0;
}

void
spawn_signals(const sigset_t *dfl, const sigset_t *mask)
{
	struct sigaction sa;
	int sig;

	if (dfl != NULL) {
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = 0;
		sigemptyset(&sa.sa_mask);
		for (sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP &&
			    sigismember(dfl, sig) == 1)
				sigaction(sig, &sa, NULL);
	}
	if (mask != NULL)
		sigprocmask(SIG_SETMASK, mask, NULL);
}
