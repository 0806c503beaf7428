/* SPDX-License-Identifier: ISC */
/*
 * jobs.c: pjoin's phases (see jobs.h).
 *
 * Waiting.  Each pid is watched through a pidfd opened while it runs;
 * pidfd_open pins nothing, so the start time read from /proc afterwards
 * is trusted only if the pidfd has not hung up meanwhile.  A process has
 * ended for pjoin once its parent has reaped it (the pidfd reports
 * POLLHUP): pspawn's keeper writes the final record before reaping, so at
 * that moment the record PID.job (for that start time) holds the real
 * status.  For other processes the kernel may know it (proc_pidfd_status);
 * else the status is unknown and counts as 0.  A zombie that its parent
 * does not reap within a second is taken as ended.
 *
 * A pspawn job whose record still says "running" when its process is
 * gone had its end seen by nobody (its keeper was SIGKILLed first): its
 * status is lost, which is never 0 - one line on stderr, exit 125, -v
 * prints "PID lost" - unless the kernel kept it.
 *
 * Any number of pids: the soft descriptor limit is lifted to the hard one,
 * and pidfds are opened only below it minus a reserve (records must still
 * open).  The pids beyond are watched without one, by pid and start time,
 * looked at every LOOK_NS, and given a pidfd as soon as one is free.
 *
 * -k: at the deadline, each job still running that is a pspawn job of
 * ours - its record, in our runtime directory, names this very process
 * (pid > 1, same start time) - gets SIGTERM, its whole group if it leads
 * one, then SIGKILL JOBS_GRACE_NS later; its recorded status is returned.
 * With -a as well: every job is ended, and the first to end is reported.
 * Nothing else is ever signalled.
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dur.h"
#include "exitcode.h"
#include "jobrec.h"
#include "jobs.h"
#include "keeper.h"
#include "proc.h"
#include "progress.h"

#define ZOMBIE_GRACE_NS	((int64_t)1000000000)
#define LOOK_NS		((int64_t)50000000)	/* pids without a pidfd */
#define FD_RESERVE	16	/* descriptors left for records, stdio */

enum phase { WAIT_EXIT, WAIT_REAP, DONE };

/* How a DONE job's status is known. */
enum known { NOPROC = -1, UNKNOWN = 0, REAL = 1, LOST = 2, NOTOURS = 3 };

struct job {
	pid_t			pid;
	int			fd;	/* pidfd, -1 if none */
	unsigned long long	start;	/* 0 if unknown */
	enum phase		phase;
	int64_t			reap_by;/* WAIT_REAP: give up then (-1: never) */
	int			status;	/* DONE: exit code */
	enum known		known;
};

struct join {
	const struct jobs_conf *c;
	struct job	*jobs;
	size_t		 n;
	size_t		 left;		/* not DONE */
	int		 fdmax;		/* pidfds only below this number */
	int		 ended;		/* -a: one has, its status is code */
	int		 code;
	int		 ending;	/* -k: past the deadline, ending them */
	int64_t		 deadline;	/* -1: none (passed, with -k) */
	int64_t		 kill_at;	/* -k: SIGKILL then; -1: not yet */
	int64_t		 give_up;	/* -k: after SIGKILL, 124 then */
	struct progress	 prog;
	int		 tty;
	int64_t		 show_at;	/* -p: next line then */
};

static int	watch(struct join *, struct job *);
static void	settle_gone(struct join *);
static int	loop(struct join *);
static void	look(struct join *, struct job *, short, int64_t);
static void	exited(struct join *, struct job *, short);
static void	finish_reaped(struct join *, struct job *);
static void	unreaped(struct join *, struct job *);
static void	finish(struct join *, struct job *, int, enum known);
static int	gone(const struct job *);
static int	settled(const struct join *);
static void	end_jobs(struct join *, int);
static void	show(struct join *, int);
static int	result(struct join *);

int
jobs_join(const struct jobs_conf *c, const pid_t *pids, size_t n)
{
	struct join j;
	long lim;
	size_t i;
	int r;

	memset(&j, 0, sizeof(j));
	j.c = c;
	j.n = n;
	j.deadline = c->deadline;
	j.kill_at = j.give_up = -1;
	if ((j.jobs = calloc(n, sizeof(*j.jobs))) == NULL) {
		warn(NULL);
		return PKIT_EXIT_FAIL;
	}
	proc_nofile_raise();
	lim = sysconf(_SC_OPEN_MAX);
	j.fdmax = lim > FD_RESERVE * 2 ? (int)lim - FD_RESERVE : FD_RESERVE;
	j.tty = c->progress && isatty(STDERR_FILENO);
	for (i = 0; i < n; i++) {
		j.jobs[i].pid = pids[i];
		j.jobs[i].fd = -1;
		if (watch(&j, &j.jobs[i]) == -1) {
			warn("pid %d: pidfd_open", (int)pids[i]);
			return PKIT_EXIT_FAIL;
		}
	}
	settle_gone(&j);
	r = j.ended ? j.code : loop(&j);
	if (j.ended)
		r = j.code;
	else if (r == 0)
		r = result(&j);
	if (c->progress)
		show(&j, 1);
	free(j.jobs);
	return r;
}

/*
 * Watch P: a pidfd if one fits, else its start time alone.  A pid that
 * is not running is left DONE for settle_gone.  -1 on a failure.
 */
static int
watch(struct join *j, struct job *p)
{
	char state;

	p->phase = DONE;
	p->fd = proc_pidfd_open(p->pid);
	/* Out of descriptors, or a kernel without pidfds (before 5.3):
	 * watched by its start time alone, like the pids over fdmax. */
	if (p->fd == -1 && errno != EMFILE && errno != ENFILE &&
	    errno != ENOSYS) {
		/* EINVAL, or ENOENT since 6.9: a thread, not a process. */
		if (errno == ESRCH || errno == EINVAL || errno == ENOENT)
			return 0;
		return -1;
	}
	if (p->fd >= j->fdmax) {
		close(p->fd);
		p->fd = -1;
	}
	if (proc_stat(p->pid, &state, &p->start) == -1) {
		p->start = 0;
		return 0;
	}
	/* Still not reaped after reading /proc: the start time is this
	 * process's, not a successor's. */
	if (proc_pidfd_reaped(p->fd)) {
		p->start = 0;
		return 0;
	}
	p->phase = WAIT_EXIT;
	j->left++;
	return 0;
}

/*
 * The pids already gone when we looked: the record of each gives the
 * status; else the kernel, if we caught a pidfd; else, if they were
 * there, it is unknown; else 127.
 */
static void
settle_gone(struct join *j)
{
	struct jobrec r;
	size_t i;
	int found;

	for (i = 0; i < j->n && !j->ended; i++) {
		struct job *p = &j->jobs[i];

		if (p->phase != DONE)
			continue;
		found = jobrec_get(j->c->dir, p->pid, 0, &r) == 0;
		if (found)
			p->start = r.start;
		if (found || p->fd != -1)
			finish_reaped(j, p);
		else {
			warnx("pid %d: no such process", (int)p->pid);
			finish(j, p, PKIT_EXIT_NOTFOUND, NOPROC);
		}
	}
}

/*
 * Poll the pidfds (and look at the pids without one) until all (-a: one)
 * are DONE or the deadline passes: 0, -a's status, 124 or 125.
 */
static int
loop(struct join *j)
{
	struct pollfd *pfd;
	struct job **who;
	int64_t now, until;
	size_t i, m;
	int r, blind;

	if ((pfd = calloc(j->n, sizeof(*pfd))) == NULL ||
	    (who = calloc(j->n, sizeof(*who))) == NULL) {
		warn(NULL);
		return PKIT_EXIT_FAIL;
	}
	while (j->left > 0 && !settled(j)) {
		until = j->deadline;
		if (j->kill_at >= 0)
			until = j->kill_at;
		else if (j->give_up >= 0)
			until = j->give_up;
		if (j->c->progress)
			show(j, 0);
		if (j->c->progress && (until < 0 || j->show_at < until))
			until = j->show_at;
		blind = 0;
		for (i = m = 0; i < j->n; i++) {
			struct job *p = &j->jobs[i];

			if (p->phase == DONE)
				continue;
			if (p->phase == WAIT_REAP && p->reap_by >= 0 &&
			    (until < 0 || p->reap_by < until))
				until = p->reap_by;
			if (p->fd == -1) {
				blind = 1;
				continue;
			}
			pfd[m].fd = p->fd;
			/* Exit: POLLIN.  Reaped: POLLHUP, always reported. */
			pfd[m].events = p->phase == WAIT_EXIT ? POLLIN : 0;
			pfd[m].revents = 0;
			who[m++] = p;
		}
		if (blind && (until < 0 || mono_now() + LOOK_NS < until))
			until = mono_now() + LOOK_NS;
		if ((r = poll(pfd, m, deadline_ms(until))) == -1) {
			if (errno == EINTR)
				continue;
			warn("poll");
			return PKIT_EXIT_FAIL;
		}
		now = mono_now();
		for (i = 0; i < m && !settled(j); i++)
			look(j, who[i], pfd[i].revents, now);
		for (i = 0; blind && i < j->n && !settled(j); i++)
			if (j->jobs[i].phase != DONE && j->jobs[i].fd == -1)
				look(j, &j->jobs[i], 0, now);
		if (j->left == 0 || settled(j))
			break;
		if (j->deadline >= 0 && now >= j->deadline) {
			if (!j->c->kill)
				return PKIT_EXIT_TIMEOUT;
			j->ending = 1;
			end_jobs(j, SIGTERM);
			j->deadline = -1;
			j->kill_at = now + JOBS_GRACE_NS;
		} else if (j->kill_at >= 0 && now >= j->kill_at) {
			end_jobs(j, SIGKILL);
			j->kill_at = -1;
			j->give_up = now + JOBS_GRACE_NS;
		} else if (j->give_up >= 0 && now >= j->give_up)
			return j->ended ? j->code : PKIT_EXIT_TIMEOUT;
	}
	free(pfd);
	free(who);
	return j->ended ? j->code : 0;
}

/*
 * What happened to P: REVENTS from its pidfd, or, without one, what /proc
 * says now (and a pidfd for it if one has come free).
 */
static void
look(struct join *j, struct job *p, short revents, int64_t now)
{
	char state;
	int fd;

	if (p->fd == -1) {
		if (gone(p)) {
			finish_reaped(j, p);
			return;
		}
		if ((fd = proc_pidfd_open(p->pid)) >= 0 && fd < j->fdmax &&
		    !gone(p) && !proc_pidfd_reaped(fd))
			p->fd = fd;	/* it is still that process */
		else if (fd >= 0)
			close(fd);
		if (p->phase == WAIT_EXIT && proc_stat(p->pid, &state,
		    NULL) == 0 && state == 'Z')
			revents = POLLIN;
	}
	if (p->phase == WAIT_EXIT && revents != 0)
		exited(j, p, revents);
	else if (p->phase == WAIT_REAP && (revents & POLLHUP))
		finish_reaped(j, p);
	else if (p->phase == WAIT_REAP && p->reap_by >= 0 &&
	    now >= p->reap_by)
		unreaped(j, p);
}

/* A zombie nobody reaps: ended, its status lost if it was a job. */
static void
unreaped(struct join *j, struct job *p)
{
	struct jobrec r;

	if (jobrec_get(j->c->dir, p->pid, p->start, &r) == 0 &&
	    r.state == JOBREC_RUNNING)
		finish(j, p, PKIT_EXIT_FAIL, LOST);
	else
		finish_reaped(j, p);
}

/*
 * 1 once the wait is over for -a: one has ended, and -k is not ending
 * the rest (-k ends every job, also after the first to end is known).
 */
static int
settled(const struct join *j)
{
	return j->ended && !j->ending;
}

/* 1 if the process of P (pid and start time) is no longer there. */
static int
gone(const struct job *p)
{
	unsigned long long st;

	if (p->fd != -1)
		return proc_pidfd_reaped(p->fd);
	return proc_stat(p->pid, NULL, &st) == -1 || st != p->start;
}

/* The process has exited; it may not be reaped yet. */
static void
exited(struct join *j, struct job *p, short revents)
{
	struct jobrec r;

	if ((jobrec_get(j->c->dir, p->pid, p->start, &r) == 0 &&
	    r.state != JOBREC_RUNNING) || (revents & POLLHUP)) {
		finish_reaped(j, p);
		return;
	}
	/* A keeper records and reaps its child at once: wait for that, as
	 * long as the zombie's parent is a keeper.  Any other parent (one
	 * that adopted it after its keeper was killed, say) gets a grace
	 * period to reap it. */
	p->phase = WAIT_REAP;
	p->reap_by = r.state == JOBREC_RUNNING &&
	    keeper_owns(p->pid, p->fd) ? -1 : mono_now() + ZOMBIE_GRACE_NS;
}

/*
 * Its record if it has one that tells, else the kernel's word; else lost
 * if it was a pspawn job (a running record), unknown if not.
 */
static void
finish_reaped(struct join *j, struct job *p)
{
	struct jobrec r;
	int ws, rec;

	rec = jobrec_get(j->c->dir, p->pid, p->start, &r) == 0;
	if (rec && r.state != JOBREC_RUNNING)
		finish(j, p, jobrec_exit_code(&r), REAL);
	else if (proc_pidfd_status(p->fd, &ws) == 0)
		finish(j, p, status_to_exit(ws), REAL);
	else if (rec)
		finish(j, p, PKIT_EXIT_FAIL, LOST);
	else
		finish(j, p, 0, UNKNOWN);
}

/* Mark p DONE; -v reports it; -a ends the wait with its status. */
static void
finish(struct join *j, struct job *p, int status, enum known known)
{
	if (p->phase != DONE)
		j->left--;
	p->phase = DONE;
	p->status = status;
	p->known = known;
	if (p->fd != -1) {
		close(p->fd);
		p->fd = -1;
	}
	if (known == LOST)
		warnx("pid %d: status lost: it ended unrecorded (its keeper "
		    "was killed)", (int)p->pid);
	else if (known == NOTOURS)
		warnx("pid %d: not a pspawn job of ours: not ended",
		    (int)p->pid);
	/* Nothing ended: no line, and -a goes on waiting for one that has. */
	if (known == NOTOURS || (known == NOPROC && !j->c->any))
		return;
	if (j->ended)
		return;		/* -a -k: the first to end is the one told */
	if (j->c->verbose) {
		if (known == REAL || known == NOPROC)
			printf("%d %d\n", (int)p->pid, status);
		else
			printf("%d %s\n", (int)p->pid,
			    known == LOST ? "lost" : "unknown");
	} else if (j->c->any)
		printf("%d\n", (int)p->pid);
	if (fflush(stdout) == EOF) {
		warn("stdout");
		j->ended = 1;
		j->code = PKIT_EXIT_FAIL;
	} else if (j->c->any) {
		j->ended = 1;
		j->code = status;
	}
}

/*
 * -k: send SIG to every job still running that is a pspawn job of ours,
 * to its group if it leads one; the others are left alone, and done with
 * 124.
 */
static void
end_jobs(struct join *j, int sig)
{
	struct jobrec r;
	size_t i;
	pid_t pgid;

	for (i = 0; i < j->n; i++) {
		struct job *p = &j->jobs[i];

		if (p->phase != WAIT_EXIT)
			continue;
		if (p->pid <= 1 || p->start == 0 || jobrec_get(j->c->dir,
		    p->pid, p->start, &r) == -1 || r.state != JOBREC_RUNNING) {
			finish(j, p, PKIT_EXIT_TIMEOUT, NOTOURS);
			continue;
		}
		pgid = getpgid(p->pid);
		/* Checked after getpgid: the pid (and so the group id, which
		 * its leader holds) is still this job's. */
		if (gone(p))
			continue;
		if (pgid == p->pid && pgid > 1)
			kill(-pgid, sig);
		else if (p->fd != -1)
			proc_pidfd_signal(p->fd, sig);
		else if (p->pid > 1)
			kill(p->pid, sig);
	}
}

/* -p: the progress line, when due (or at once, and last, if LAST). */
static void
show(struct join *j, int last)
{
	char line[160];
	int64_t now = mono_now();

	if (!last && now < j->show_at)
		return;
	progress_format(&j->prog, j->n - j->left, j->n, now, line,
	    sizeof(line));
	fprintf(stderr, j->tty ? "\r%s\033[K%s" : "%s\n%s", line,
	    last && j->tty ? "\n" : "");
	j->show_at = now + (j->tty ? PROGRESS_TTY_NS : PROGRESS_LINE_NS);
}

/* The first non-zero status in argument order, else 0. */
static int
result(struct join *j)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (j->jobs[i].status != 0)
			return j->jobs[i].status;
	return PKIT_EXIT_OK;
}

/* jobs_list: the records, gathered to be sorted. */
struct list {
	struct jobrec	*v;
	size_t		 n, cap;
	int		 failed;
};

static void
gather(const struct jobrec *r, void *arg)
{
	struct list *l = arg;
	struct jobrec *v;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((v = reallocarray(l->v, l->cap, sizeof(*v))) == NULL) {
			l->failed = 1;
			l->cap = l->n;
			return;
		}
		l->v = v;
	}
	l->v[l->n++] = *r;
}

static int
by_start(const void *a, const void *b)
{
	const struct jobrec *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

int
jobs_list(int dir)
{
	struct list l;
	struct jobrec *r;
	char state[32], when[32];
	long long epoch;
	time_t t;
	size_t i;

	memset(&l, 0, sizeof(l));
	if (jobrec_each(dir, gather, &l) == -1 || l.failed) {
		warn("jobs");
		free(l.v);
		return PKIT_EXIT_FAIL;
	}
	qsort(l.v, l.n, sizeof(*l.v), by_start);
	for (i = 0; i < l.n; i++) {
		r = &l.v[i];
		if (r->state == JOBREC_EXITED)
			snprintf(state, sizeof(state), "exit %d", r->value);
		else if (r->state == JOBREC_SIGNALED)
			snprintf(state, sizeof(state), "signal %d", r->value);
		else
			snprintf(state, sizeof(state), "%s",
			    jobrec_alive(r) ? "running" : "lost");
		strcpy(when, "?");
		if ((epoch = proc_start_epoch(r->start)) >= 0) {
			t = (time_t)epoch;
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
			    localtime(&t));
		}
		printf("%d\t%s\t%s\t%s\n", (int)r->pid, state, when, r->cmd);
	}
	free(l.v);
	if (fflush(stdout) == EOF) {
		warn("stdout");
		return PKIT_EXIT_FAIL;
	}
	return PKIT_EXIT_OK;
}
