/* SPDX-License-Identifier: ISC */
/*
 * pqworker.c: pqueue-get's worker mode (see pqworker.h).
 *
 * One message at a time: lease it (pq_get of 1), fork CMD with the
 * message in a pipe on its stdin, wait, then settle the lease: commit it
 * and mark it done in one critical section when CMD exited 0, else give
 * it back (or move it aside once it has failed max_attempts times).  The
 * wait is a ppoll on a pidfd with INT/TERM/HUP blocked outside it, so a
 * signal can neither be lost between the check and the sleep nor go
 * unforwarded to CMD.  The lease is never given up before CMD has ended:
 * the task runs at most once at a time, and a message whose CMD
 * succeeded is never given back.  CMD is started through lib/spawn.
 *
 * Tier: a tool body (pqueue-get -x runs it), not an engine: it may print
 * (warn/warnx: a message dropped, a command that could not run), and
 * returns the exit status for the tool to exit with; it never exits.
 */
#include <sys/uio.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dur.h"
#include "execpipe.h"
#include "exitcode.h"
#include "fault.h"
#include "pqworker.h"
#include "proc.h"
#include "spawn.h"

static int	handle(struct pq *, const struct pqw_opts *, char *const [],
		    const struct pq_msg *, int *);
static pid_t	spawn(char *const [], const struct pq_msg *, int *);
static void	feed(int, const struct pqw_opts *, const struct pq_msg *);
static int	wait_child(struct pq *, pid_t, int *);
static int	set_aside(struct pq *, const struct pqw_opts *,
		    const struct pq_msg *, uint32_t);

int
pqw_run(struct pq *q, const struct pqw_opts *o, char *const argv[])
{
	const struct pq_msg *m;
	uint64_t handled = 0;
	int64_t deadline;
	size_t n;
	int r, st, first_fail = 0;

	for (;;) {
		if (o->count != 0 && handled >= o->count) {
			r = PKIT_EXIT_OK;
			break;
		}
		deadline = o->wait < 0 ? PQ_FOREVER : mono_now() + o->wait;
		if ((r = pq_get(q, 1, deadline, &m, &n)) != 0) {
			if (r == PKIT_EXIT_NO && o->count == 0)
				r = PKIT_EXIT_OK;	/* -f: the natural end */
			else if (r == PKIT_EXIT_FAIL)
				warnx("%s", pq_error());
			break;
		}
		st = 0;
		r = handle(q, o, argv, &m[0], &st);
		handled++;
		if (st != 0 && first_fail == 0)
			first_fail = st;
		if (r != 0)
			return r;
		if (pq_signalled())
			return 128 + pq_signalled();
	}
	if (r == PKIT_EXIT_OK && first_fail != 0)
		return first_fail;
	return r;
}

/*
 * One leased message: run CMD on it and settle the lease.  *status is
 * CMD's exit status (0 when it was not run); returns 0 to go on, else
 * the worker's exit status.
 */
static int
handle(struct pq *q, const struct pqw_opts *o, char *const argv[],
    const struct pq_msg *m, int *status)
{
	pid_t pid;
	int e, in, ws, r;

	if (o->max_attempts != 0 && m->attempts >= o->max_attempts)
		return set_aside(q, o, m, m->attempts);	/* workers died */
	if ((pid = spawn(argv, m, &in)) == -1) {
		e = errno;
		pq_release(q);
		if (e == 0)
			return PKIT_EXIT_FAIL;	/* reported by spawn */
		return execpipe_report(argv[0], e);
	}
	FAULT("worker_run");
	feed(in, o, m);
	if ((r = wait_child(q, pid, &ws)) != 0) {
		pq_release(q);
		errno = r;
		warn("waitpid");
		return PKIT_EXIT_FAIL;
	}
	*status = status_to_exit(ws);
	if (*status == 0) {
		FAULT("worker_ran");
		if ((r = pq_commit(q, 1, PQ_DONE)) != 0)
			warnx("%s", pq_error());
		return r;
	}
	if (pq_signalled() == 0 || *status != 128 + pq_signalled())
		warnx("%s: message %" PRIu64 ": %s %s %d", pq_name(q), m->id,
		    argv[0], WIFSIGNALED(ws) ? "killed by signal" :
		    "exited", WIFSIGNALED(ws) ? WTERMSIG(ws) :
		    WEXITSTATUS(ws));
	if (o->max_attempts != 0 && m->attempts + 1 >= o->max_attempts &&
	    pq_signalled() == 0)
		return set_aside(q, o, m, m->attempts + 1);
	if ((r = pq_release(q)) != 0)
		warnx("%s", pq_error());
	return r;
}

/*
 * Start CMD with a pipe on its stdin (the write end in *in) and the
 * message's id and attempts in its environment.  CMD dies with us: a
 * dead worker's task must not run on.  -1 with errno set if it could not
 * be run (errno 0: reported here).
 */
static pid_t
spawn(char *const argv[], const struct pq_msg *m, int *in)
{
	struct spawn_opts o;
	sigset_t sigpipe;
	char id[32], attempts[32];
	int p[2], e, r;
	pid_t pid;

	snprintf(id, sizeof(id), "%" PRIu64, m->id);
	snprintf(attempts, sizeof(attempts), "%" PRIu32, m->attempts);
	if (setenv("PQUEUE_ID", id, 1) == -1 ||
	    setenv("PQUEUE_ATTEMPTS", attempts, 1) == -1) {
		warn("environment");
		errno = 0;
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		warn("pipe");
		errno = 0;
		return -1;
	}
	sigemptyset(&sigpipe);
	sigaddset(&sigpipe, SIGPIPE);
	spawn_opts_init(&o);
	o.flags = SPAWN_DIE_WITH_PARENT;
	o.fd[0] = p[0];
	o.dfl = &sigpipe;
	r = spawn_start(&o, argv, &pid);
	e = errno;
	close(p[0]);
	if (r != 0) {
		close(p[1]);
		if (r == SPAWN_ERROR)
			warn("fork");
		errno = r == SPAWN_ERROR ? 0 : e;
		return -1;
	}
	*in = p[1];
	return pid;
}

/*
 * Write the message (and its terminator) to CMD's stdin and close it.
 * It fits an empty pipe (64 KiB), so this does not block; a CMD that
 * exits without reading it (EPIPE) is judged by its status alone.
 */
static void
feed(int fd, const struct pqw_opts *o, const struct pq_msg *m)
{
	char head[32];
	struct iovec iov[3];
	ssize_t w;
	int hl = 0, k = 0;
	char term = (char)o->delim;

	if (o->ids)
		hl = snprintf(head, sizeof(head), "%" PRIu64 "\t", m->id);
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)hl;
	iov[1].iov_base = (void *)(uintptr_t)m->data;
	iov[1].iov_len = m->len;
	iov[2].iov_base = &term;
	iov[2].iov_len = 1;
	while (k < 3) {
		w = writev(fd, iov + k, 3 - k);
		if (w == -1 && errno == EINTR && !pq_signalled())
			continue;
		if (w == -1)
			break;	/* EPIPE, or a signal: CMD's status decides */
		while (k < 3 && (size_t)w >= iov[k].iov_len) {
			w -= (ssize_t)iov[k].iov_len;
			k++;
		}
		if (k < 3) {
			iov[k].iov_base = (char *)iov[k].iov_base + w;
			iov[k].iov_len -= (size_t)w;
		}
	}
	close(fd);
}

/*
 * Wait for CMD, forwarding INT/TERM/HUP to it, renewing the lease as
 * often as the backend needs (on Redis; never on shared memory).  The
 * signals are blocked except inside ppoll, so one arriving between the
 * check and the sleep wakes the sleep.  0, or an errno.
 */
static int
wait_child(struct pq *q, pid_t pid, int *ws)
{
	struct pollfd pfd;
	struct timespec ts;
	sigset_t block, old;
	int64_t every = pq_renew_every(q), next = 0, now;
	int fd, sig, sent = 0, e = 0, warned = 0;
	pid_t r;

	if (pid <= 1)
		return ECHILD;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	fd = proc_pidfd_open(pid);
	for (;;) {
		if ((sig = pq_signalled()) != 0 && sig != sent) {
			kill(pid, sig);
			sent = sig;
		}
		r = waitpid(pid, ws, WNOHANG);
		if (r == pid)
			break;
		if (r == -1 && errno != EINTR) {
			e = errno;
			break;
		}
		if (r != 0)
			continue;
		if (every > 0 && (now = mono_now()) >= next) {
			if (next != 0 && pq_renew(q) != 0 && !warned++)
				warnx("%s", pq_error());
			next = now + every;
		}
		if (fd >= 0) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			if (every > 0) {
				now = next - mono_now();
				ts.tv_sec = now > 0 ? now / 1000000000 : 0;
				ts.tv_nsec = now > 0 ? now % 1000000000 : 0;
			}
			ppoll(&pfd, 1, every > 0 ? &ts : NULL, &old);
		} else {
			/* No pidfd (Linux < 5.3): a signal may wait for CMD. */
			sigprocmask(SIG_SETMASK, &old, NULL);
			r = waitpid(pid, ws, 0);
			sigprocmask(SIG_BLOCK, &block, NULL);
			if (r == pid)
				break;
		}
	}
	if (fd >= 0)
		close(fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return e;
}

/*
 * A poison message (delivered and not done `failed' times): put a copy
 * in NAME.dead if that queue exists, else drop it, saying so on stderr;
 * then commit it as done.  If NAME.dead exists and refuses it other than
 * by being closed (corrupt, too small...), give the message back and
 * fail rather than lose it.
 */
static int
set_aside(struct pq *q, const struct pqw_opts *o, const struct pq_msg *m,
    uint32_t failed)
{
	static struct pq *dq;
	static int missing;
	char name[1200], shown[600];
	const char *data = m->data;
	size_t len = m->len, nput;
	int r = 0;

	/* shown: a redis: name with its password masked, for messages */
	snprintf(name, sizeof(name), "%s.dead", pq_spec(q));
	snprintf(shown, sizeof(shown), "%s.dead", pq_name(q));
	/* NAME.dead that cannot exist (too long a name) is missing too. */
	if (dq == NULL && !missing) {
		if ((r = pq_open(name, &dq)) != 0) {
			if (strstr(pq_error(), ": no such queue") == NULL &&
			    strstr(pq_error(), ": bad queue name: ") == NULL) {
				warnx("%s", pq_error());
				pq_release(q);
				return r;
			}
			missing = 1;
			r = 0;
		}
	}
	if (dq != NULL) {
		r = pq_put(dq, &data, &len, 1, &nput, o->wait < 0 ?
		    PQ_FOREVER : mono_now() + o->wait);
		if (r != 0 && r != PKIT_EXIT_NO) {
			warnx("%s", pq_error());
			pq_release(q);
			return r;
		}
	}
	if (dq != NULL && r == 0)
		warnx("%s: message %" PRIu64 " failed %" PRIu32
		    " times: moved to %s", pq_name(q), m->id, failed, shown);
	else
		warnx("%s: message %" PRIu64 " failed %" PRIu32
		    " times: dropped (no open queue %s)", pq_name(q), m->id,
		    failed, shown);
	if ((r = pq_commit(q, 1, PQ_DONE)) != 0)
		warnx("%s", pq_error());
	return r;
}
