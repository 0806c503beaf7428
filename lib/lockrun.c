/* SPDX-License-Identifier: ISC */
/*
 * lockrun.c: lock_run, running a command under a taken lock (see
 * lock.h).  A tool body: it prints its warnings (warn(3)) as plock would,
 * and returns plock's exit status; it never exits.
 *
 * A chainloading backend (files) execs the command in this very process,
 * the lock's descriptor inherited: nothing is left to renew or release.
 * A leasing backend (Redis) cannot: somebody must renew the lease and let
 * go of it afterwards, so the command runs as a child that dies with us
 * (spawn.h's SPAWN_DIE_WITH_PARENT), while we renew every third of the
 * lease.
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "dur.h"
#include "execpipe.h"
#include "exitcode.h"
#include "lockbackend.h"
#include "spawn.h"

static int	run_leased(struct lock *, char *const []);
static void	release(struct lock *);

int
lock_run(struct lock *lk, char *const argv[])
{
	if (lk->ops->exec == NULL && lk->reentered) {
		/* The enclosing plock renews and releases the lease. */
		execvp(argv[0], argv);
		return execpipe_report(argv[0], errno);
	}
	if (lk->ops->exec == NULL)
		return run_leased(lk, argv);
	lk->ops->exec(lk->b, argv);
	return execpipe_report(argv[0], errno);
}

/*
 * Run argv as a child holding the lease, renewing it every third of it,
 * forwarding INT, TERM and HUP; release it when the child is gone.
 * Returns the child's status for plock (126/127 if it could not run).
 */
static int
run_leased(struct lock *lk, char *const argv[])
{
	const struct lock_ops *ops = lk->ops;
	struct spawn_opts o;
	sigset_t set, old, dfl;
	struct timespec ts;
	const char *why;
	char num[32];
	int64_t next, left, last_ok, lease_ns;
	pid_t pid;
	int e, sig, status = 0, warned = 0, lost = 0;

	lease_ns = ops->lease_ns(lk->b);
	snprintf(num, sizeof(num), "%lld", ops->token(lk->b));
	if (setenv("PKIT_LOCK_TOKEN", num, 1) == -1 ||
	    setenv("PKIT_LOCK_HOLDER", ops->holder(lk->b), 1) == -1) {
		warn("%s", lk->shown);
		release(lk);
		return PKIT_EXIT_FAIL;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	spawn_opts_init(&o);
	/* If plock is killed, so is CMD: no critical section is left
	 * running with nobody renewing its lease. */
	o.flags = SPAWN_DIE_WITH_PARENT;
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	o.dfl = &dfl;
	o.mask = &old;
	switch (spawn_start(&o, argv, &pid)) {
	case 0:
		break;
	case SPAWN_NOEXEC:
		e = errno;
		release(lk);
		return execpipe_report(argv[0], e);
	default:
		warn("fork");
		release(lk);
		return PKIT_EXIT_FAIL;
	}

	last_ok = mono_now();
	next = last_ok + lease_ns / 3;
	for (;;) {
		left = next - mono_now();
		if (left < 0)
			left = 0;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == -1) {
			if (errno != EAGAIN)
				continue;
			/* Time to renew. */
			next = mono_now() + lease_ns / 3;
			if (lost)
				continue;
			switch (ops->renew(lk->b, &why)) {
			case 1:
				last_ok = mono_now();
				warned = 0;
				break;
			case 0:
				warnx("%s: lease lost: another holder may "
				    "have the lock now (fence with "
				    "PKIT_LOCK_TOKEN)", lk->shown);
				lost = 1;
				break;
			default:
				if (!warned)
					warnx("%s: cannot renew the lease: %s",
					    lk->shown, why);
				warned = 1;
				if (mono_now() - last_ok >= lease_ns) {
					warnx("%s: lease lost: another holder "
					    "may have the lock now",
					    lk->shown);
					lost = 1;
				}
			}
			continue;
		}
		if (sig == SIGCHLD) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				break;
			continue;
		}
		if (pid > 1)
			kill(pid, sig);
	}
	if (!lost)
		release(lk);
	return status_to_exit(status);
}

/* Let go of the lease and wake the waiters; warn if we cannot. */
static void
release(struct lock *lk)
{
	const char *why;

	if (lk->ops->release(lk->b, &why) == -1)
		warnx("%s: cannot release, the lease runs out by itself: %s",
		    lk->shown, why);
}
