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
 *
 * plock -p (lock_keep) holds a lease for another process, the script
 * that asked: no command runs, a keeper is forked and left behind, which
 * renews the lease the same way (lease_renew) while it waits on the
 * script's pidfd (lib/proc's pidref), and releases the lease the moment
 * the script has ended.  The keeper is a process of its own for that
 * reason alone: plock returns at once, and the caller's pipes must not
 * stay open behind it.
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dur.h"
#include "execpipe.h"
#include "exitcode.h"
#include "lockbackend.h"
#include "proc.h"
#include "spawn.h"

/* The renewer's memory between two renewals (lease_renew). */
struct lease_state {
	int64_t		last_ok;	/* the last renewal that worked */
	int		warned;		/* "cannot renew" said already */
	int		lost;		/* the lease is gone: stop renewing */
};

static int	run_leased(struct lock *, char *const []);
static const char *lease_renew(struct lock *, struct lease_state *);
static void	keeper(struct lock *, struct pidref *)
		    __attribute__((noreturn));
static void	close_others(int, int);
static void	close_span(int, int);
static void	tell(pid_t, const char *);
static void	release(struct lock *);

int
lock_run(struct lock *lk, char *const argv[])
{
	if (lk->ops->exec == NULL && lk->reentered) {
		/*
		 * The enclosing plock renews and releases the lease.  The
		 * backend ignores SIGPIPE for its connection: CMD gets it
		 * back, as run_leased's child does.
		 */
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		return execpipe_report(argv[0], errno);
	}
	if (lk->ops->exec == NULL) {
		proc_children_ours();	/* plock exits with its status */
		return run_leased(lk, argv);
	}
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
	struct lease_state st = { 0, 0, 0 };
	struct spawn_opts o;
	sigset_t set, old, dfl;
	struct timespec ts;
	const char *msg;
	char num[32];
	int64_t next, left, lease_ns;
	pid_t pid;
	int e, sig, status = 0;

	lease_ns = ops->lease_ns(lk->b);
	snprintf(num, sizeof(num), "%lld", ops->token(lk->b));
	if (setenv("PKIT_LOCK_TOKEN", num, 1) == -1 ||
	    lock_hand_down("PKIT_LOCK_HOLDER", "PKIT_LOCK_HOLDERS", '\n',
	    ops->holder(lk->b)) == -1 ||
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

	st.last_ok = mono_now();
	next = st.last_ok + lease_ns / 3;
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
			if ((msg = lease_renew(lk, &st)) != NULL)
				warnx("%s", msg);
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
	/*
	 * Also once the lease is taken for lost: renewals that failed may
	 * have reached the server all the same, and the release is compare
	 * and delete, a no-op on a lock that is another's now.  Quietly
	 * then: the loss has been told.
	 */
	if (st.lost)
		(void)lk->ops->release(lk->b, &msg);
	else
		release(lk);
	return status_to_exit(status);
}

/* See lockbackend.h; the backends' exec and run_leased hand down with it. */
int
lock_hand_down(const char *var, const char *list, char sep,
    const char *value)
{
	const char *old = getenv(var), *outer = getenv(list);
	char buf[4096], *cut;
	int n;

	if (old == NULL || *old == '\0' || strcmp(old, value) == 0)
		return 0;
	if (outer != NULL && *outer != '\0')
		n = snprintf(buf, sizeof(buf), "%s%c%s", old, sep, outer);
	else
		n = snprintf(buf, sizeof(buf), "%s", old);
	/* Too deep to hand all down: the outermost go (a cut entry too). */
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		if ((cut = strrchr(buf, sep)) == NULL)
			return 0;
		*cut = '\0';
	}
	return setenv(list, buf, 1);
}

/*
 * Renew the lease once, unless it is lost already.  Returns what to warn
 * ("NAME: why", in a static buffer), or NULL: once when renewing fails,
 * until it works again; once when the lease is lost (st->lost), found
 * gone or not renewed for a whole lease.
 */
static const char *
lease_renew(struct lock *lk, struct lease_state *st)
{
	static char msg[1024];
	const char *why;

	if (st->lost)
		return NULL;
	switch (lk->ops->renew(lk->b, &why)) {
	case 1:
		st->last_ok = mono_now();
		st->warned = 0;
		return NULL;
	case 0:
		st->lost = 1;
		snprintf(msg, sizeof(msg), "%s: lease lost: another holder "
		    "may have the lock now (fence with PKIT_LOCK_TOKEN)",
		    lk->shown);
		return msg;
	}
	if (mono_now() - st->last_ok >= lk->ops->lease_ns(lk->b)) {
		st->lost = 1;
		snprintf(msg, sizeof(msg), "%s: lease lost: another holder "
		    "may have the lock now", lk->shown);
		return msg;
	}
	if (st->warned)
		return NULL;
	st->warned = 1;
	snprintf(msg, sizeof(msg), "%s: cannot renew the lease: %s",
	    lk->shown, why);
	return msg;
}

int
lock_keep(struct lock *lk, struct pidref *ref)
{
	if (lk->reentered)
		return PKIT_EXIT_OK;
	fflush(stdout);
	fflush(stderr);
	switch (fork()) {
	case -1:
		warn("fork");
		release(lk);
		return PKIT_EXIT_FAIL;
	case 0:
		keeper(lk, ref);
	}
	return PKIT_EXIT_OK;
}

/*
 * The keeper: renew the lease every third of it while the process of REF
 * lives, release it when that process has ended.  It keeps the server's
 * connection and the pidfd, nothing else of the caller's: stdin, stdout
 * and stderr are /dev/null, so that `x=$(plock -p ...)` returns at once.
 * A session of its own, in /: a terminal's ^C or a kill of the script's
 * group is the script's, and the keeper then releases at once.
 */
static void
keeper(struct lock *lk, struct pidref *ref)
{
	struct lease_state st = { 0, 0, 0 };
	const char *msg;
	int64_t next, now, lease_ns = lk->ops->lease_ns(lk->b);
	int fd;

	st.last_ok = mono_now();
	(void)setsid();
	/* No hold on the caller's directory (an unmount waits for none). */
	(void)chdir("/");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	close_others(lk->ops->conn(lk->b), ref->fd);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	next = st.last_ok + lease_ns / 3;
	for (;;) {
		/* pidref_wait waits for ever on a negative time: one
		 * clock read, so that the time cannot go negative between
		 * the test and the subtraction. */
		now = mono_now();
		if (pidref_wait(ref, next > now ? next - now : 0) == 1)
			break;
		if (mono_now() < next)
			continue;
		next = mono_now() + lease_ns / 3;
		if ((msg = lease_renew(lk, &st)) != NULL)
			tell(ref->pid, msg);
		if (st.lost) {
			/* As in run_leased: the server may still hold it. */
			lk->ops->release(lk->b, &msg);
			_exit(PKIT_EXIT_FAIL);
		}
	}
	/* Nobody left to tell if this fails: the lease runs out. */
	lk->ops->release(lk->b, &msg);
	_exit(PKIT_EXIT_OK);
}

/* Close every descriptor from 3 up but a and b (-1: none). */
static void
close_others(int a, int b)
{
	int keep[2], i, from = 3;

	keep[0] = a < b ? a : b;
	keep[1] = a < b ? b : a;
	for (i = 0; i < 2; i++) {
		if (keep[i] < from)
			continue;
		if (keep[i] > from)
			close_span(from, keep[i] - 1);
		from = keep[i] + 1;
	}
	close_span(from, -1);
}

/*
 * Close descriptors lo..hi (hi -1: all from lo).  Kernels before 5.9
 * have no close_range (ENOSYS): one by one below a kept descriptor, and
 * libbsd's closefrom (which reads /proc/self/fd) for the open end.
 */
static void
close_span(int lo, int hi)
{
	if (close_range((unsigned)lo, hi < 0 ? ~0U : (unsigned)hi, 0) == 0)
		return;
	if (hi < 0)
		closefrom(lo);
	else
		for (; lo <= hi; lo++)
			close(lo);
}

/*
 * Say msg on PID's own standard error, opened for this line only (never
 * blocking on a full pipe), so that the keeper holds none of the
 * caller's pipes in between.  Nothing if it cannot be opened.
 */
static void
tell(pid_t pid, const char *msg)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/fd/2", (long)pid);
	fd = open(path, O_WRONLY | O_APPEND | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1)
		return;
	dprintf(fd, "%s: %s\n", getprogname(), msg);
	close(fd);
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
