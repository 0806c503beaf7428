/* SPDX-License-Identifier: ISC */
/*
 * pjoin: wait for processes, children or not, and exit with their status
 * (Python's Process.join() and exitcode).
 *
 * Each pid is watched through a pidfd opened while it runs; pidfd_open
 * pins nothing, so the start time read from /proc afterwards is trusted
 * only if the pidfd has not hung up meanwhile.  A process has ended for
 * pjoin once its parent has reaped it (the pidfd reports POLLHUP): pspawn's
 * keeper writes the final record before reaping, so at that moment the
 * record PID.job (for that start time) holds the real status.  For other
 * processes the kernel may know it (lib/proc's proc_pidfd_status); else
 * the status is unknown and counts as 0.  A zombie that its parent does
 * not reap within a second is taken as ended with an unknown status.
 * pjoin never sends a signal.  The pidfd and /proc calls are lib/proc's,
 * the keeper test lib/keeper's.  Tier: tool (prints, exits).
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dur.h"
#include "exitcode.h"
#include "jobrec.h"
#include "keeper.h"
#include "parse.h"
#include "proc.h"
#include "rundir.h"

#define ZOMBIE_GRACE_NS	((int64_t)1000000000)

enum phase { WAIT_EXIT, WAIT_REAP, DONE };

struct job {
	pid_t			pid;
	int			fd;	/* pidfd, -1 if none */
	unsigned long long	start;	/* 0 if unknown */
	enum phase		phase;
	int64_t			reap_by;/* WAIT_REAP: give up then (-1: never) */
	int			status;	/* DONE: exit code */
	int			known;	/* DONE: 1 real, 0 unknown,
					 * -1 no such process */
};

struct join {
	struct job	*jobs;
	size_t		 n;
	int		 any;		/* -a */
	int		 verbose;	/* -v */
	int		 dir;		/* jobs/ */
	size_t		 left;		/* not DONE */
};

static void	watch(struct join *);
static void	settle_gone(struct join *);
static void	loop(struct join *, int64_t);
static void	exited(struct join *, struct job *, short);
static void	finish(struct join *, struct job *, int, int);
static void	finish_reaped(struct join *, struct job *);
static int	result(struct join *);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct join j;
	int64_t deadline = -1;
	size_t i;
	int ch;

	memset(&j, 0, sizeof(j));
	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "aht:v")) != -1) {
		switch (ch) {
		case 'a':
			j.any = 1;
			break;
		case 'h':
			cli_usage_help(usage);
		case 't':
			deadline = dur_parse_or_die(optarg);
			break;
		case 'v':
			j.verbose = 1;
			break;
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		cli_usage_error(usage);
	if (deadline >= 0)
		deadline += mono_now();

	j.n = argc;
	if ((j.jobs = calloc(j.n, sizeof(*j.jobs))) == NULL)
		err(PKIT_EXIT_FAIL, NULL);
	for (i = 0; i < j.n; i++) {
		j.jobs[i].pid = num_parse_or_die(argv[i], 1, INT32_MAX, "pid");
		j.jobs[i].fd = -1;
	}
	/* One pidfd per pid still running: lift the soft limit if needed. */
	if (j.n > 64)
		proc_nofile_raise();
	j.dir = rundir_sub_or_die("jobs");

	watch(&j);
	settle_gone(&j);
	loop(&j, deadline);
	return result(&j);
}

/* Open a pidfd on each pid that still runs; mark the others DONE later. */
static void
watch(struct join *j)
{
	struct job *p;
	size_t i;

	for (i = 0; i < j->n; i++) {
		p = &j->jobs[i];
		p->phase = DONE;
		p->fd = proc_pidfd_open(p->pid);
		if (p->fd == -1) {
			if (errno == ESRCH || errno == EINVAL)
				continue;
			err(PKIT_EXIT_FAIL, "pid %d: pidfd_open", (int)p->pid);
		}
		if (jobrec_start_time(p->pid, &p->start) == -1)
			continue;
		/* Still not reaped after reading /proc: the start time is
		 * this process's, not a successor's. */
		if (proc_pidfd_reaped(p->fd)) {
			p->start = 0;
			continue;
		}
		p->phase = WAIT_EXIT;
		j->left++;
	}
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

	for (i = 0; i < j->n; i++) {
		struct job *p = &j->jobs[i];

		if (p->phase != DONE)
			continue;
		found = jobrec_get(j->dir, p->pid, 0, &r) == 0;
		if (found)
			p->start = r.start;
		if (found || p->fd != -1)
			finish_reaped(j, p);
		else {
			warnx("pid %d: no such process", (int)p->pid);
			finish(j, p, PKIT_EXIT_NOTFOUND, -1);
		}
	}
}

/* Poll the pidfds until all (-a: one) are DONE or the deadline passes. */
static void
loop(struct join *j, int64_t deadline)
{
	struct pollfd *pfd;
	struct job **who;
	int64_t now, until;
	size_t i, m;
	int r;

	if ((pfd = calloc(j->n, sizeof(*pfd))) == NULL ||
	    (who = calloc(j->n, sizeof(*who))) == NULL)
		err(PKIT_EXIT_FAIL, NULL);
	while (j->left > 0) {
		until = deadline;
		for (i = m = 0; i < j->n; i++) {
			struct job *p = &j->jobs[i];

			if (p->phase == DONE)
				continue;
			if (p->phase == WAIT_REAP && p->reap_by >= 0 &&
			    (until < 0 || p->reap_by < until))
				until = p->reap_by;
			pfd[m].fd = p->fd;
			/* Exit: POLLIN.  Reaped: POLLHUP, always reported. */
			pfd[m].events = p->phase == WAIT_EXIT ? POLLIN : 0;
			pfd[m].revents = 0;
			who[m++] = p;
		}
		if ((r = poll(pfd, m, deadline_ms(until))) == -1) {
			if (errno == EINTR)
				continue;
			err(PKIT_EXIT_FAIL, "poll");
		}
		now = mono_now();
		for (i = 0; i < m; i++) {
			struct job *p = who[i];

			if (p->phase == WAIT_EXIT && pfd[i].revents != 0)
				exited(j, p, pfd[i].revents);
			else if (p->phase == WAIT_REAP &&
			    (pfd[i].revents & POLLHUP))
				finish_reaped(j, p);
			else if (p->phase == WAIT_REAP && p->reap_by >= 0 &&
			    now >= p->reap_by)
				finish(j, p, 0, 0);	/* a zombie nobody
							 * reaps */
		}
		if (j->left > 0 && deadline >= 0 && now >= deadline)
			exit(PKIT_EXIT_TIMEOUT);
	}
	free(pfd);
	free(who);
}

/* The process has exited; it may not be reaped yet. */
static void
exited(struct join *j, struct job *p, short revents)
{
	struct jobrec r;

	if ((jobrec_get(j->dir, p->pid, p->start, &r) == 0 &&
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

/* Its record if it has one that tells, else the kernel's word. */
static void
finish_reaped(struct join *j, struct job *p)
{
	struct jobrec r;
	int ws;

	if (jobrec_get(j->dir, p->pid, p->start, &r) == 0 &&
	    r.state != JOBREC_RUNNING)
		finish(j, p, jobrec_exit_code(&r), 1);
	else if (proc_pidfd_status(p->fd, &ws) == 0)
		finish(j, p, status_to_exit(ws), 1);
	else
		finish(j, p, 0, 0);
}

/* Mark p DONE; -v reports it; -a ends here with its status. */
static void
finish(struct join *j, struct job *p, int status, int known)
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
	if (known == -1 && !j->any)
		return;		/* nothing ended: no line */
	if (j->verbose) {
		if (known != 0)
			printf("%d %d\n", (int)p->pid, status);
		else
			printf("%d unknown\n", (int)p->pid);
	} else if (j->any)
		printf("%d\n", (int)p->pid);
	if (fflush(stdout) == EOF)
		err(PKIT_EXIT_FAIL, "stdout");
	if (j->any)
		exit(status);
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

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pjoin [-a] [-t DURATION] [-v] PID...\n");
	fputs("\n"
	    "  -a             return when any one PID has ended; print its pid\n"
	    "  -t DURATION    wait at most DURATION, then exit 124\n"
	    "  -v             print \"PID STATUS\" for each process as it ends\n", fp);
}
