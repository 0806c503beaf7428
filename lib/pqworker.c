/* SPDX-License-Identifier: ISC */
/*
 * pqworker.c: pqueue-get's worker mode (see pqworker.h).
 *
 * One process, N task slots, each with its own queue handle.  The loop:
 * settle what ended, fire timers (-T deadlines, KILL after the grace,
 * backoffs ending), then either lease a message for an idle slot and
 * start its command, or sleep in ppoll on the running commands' pidfds.
 * A get waits at most SLICE while commands run (the engine's futex wait
 * cannot also watch pidfds), so an ended command is seen within SLICE of
 * an empty queue, at once otherwise; such a get is a slice
 * (pq_get_slice), whose end is no deadline of the user's: a failover met
 * in one is waited out across them.  INT/TERM/HUP are blocked except
 * inside ppoll and the engine's own waits, so none is lost between a
 * check and a sleep; each is passed on to every running command's group.
 * A lease is never given up before its command has ended: a task runs
 * at most once at a time, and a message whose command succeeded is never
 * given back.  Only groups this worker created (pgid = its child's pid,
 * > 1, the leader not yet reaped) are ever signalled.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
#include <time.h>
#include <unistd.h>

#include "dur.h"
#include "execpipe.h"
#include "exitcode.h"
#include "fault.h"
#include "parse.h"
#include "pidlock.h"
#include "pqworker.h"
#include "proc.h"
#include "spawn.h"

#define SLICE_NS	((int64_t)20000000)	/* get's wait while tasks run */

/*
 * A task: T_IDLE, no lease; T_RUN, CMD runs; T_BACKOFF, failed, held
 * until release_at; T_ASIDE, failed for the last time and waiting for
 * room in a full NAME.dead (tried again every SLICE_NS, while the rest of
 * the pool goes on: timers fire, leases are renewed).
 */
enum { T_IDLE, T_RUN, T_BACKOFF, T_ASIDE };

struct task {
	struct pq		*q;		/* this slot's own handle */
	const struct pq_msg	*m;		/* leased while not T_IDLE */
	int			 state;
	pid_t			 pid;		/* leader of its own group */
	int			 pidfd;		/* or -1 */
	int64_t			 start;		/* monotonic */
	struct timespec		 wall;		/* start, for the joblog */
	int64_t			 deadline;	/* -T: TERM then; 0 none */
	int64_t			 kill_at;	/* TERM sent: KILL then; 0 */
	int			 timed_out;
	int64_t			 release_at;	/* T_BACKOFF: give back then;
						 * T_ASIDE: try again then */
	int64_t			 aside_until;	/* T_ASIDE: -t's end, or -1 */
	uint32_t		 aside_failed;	/* T_ASIDE: its failures */
	int			 aside_st;	/* T_ASIDE: the status, for -H */
	int			 aside_said;	/* "waiting for room" said */
	int			 renew_said;	/* a failed renewal said */
	char			*cmdline;	/* for the joblog */
};

struct pool {
	const struct pqw_opts	*o;
	char *const		*argv;
	int			 subst;		/* some argument holds {} */
	int			 words_fit;	/* CMD's words fit without it */
	struct task		*t;
	unsigned		 n;
	uint64_t		 started;
	int			 stopping;	/* take no more messages */
	int			 ending;	/* end the running ones too */
	int			 first_fail;
	int			 halted;	/* -H: the failing status */
	int			 fatal;		/* the pool's own failure */
	int			 pipe_gone;
	int			 joblog;	/* fd or -1 */
	int			 joblog_lost;	/* a line was not written */
	struct pq		*dq;		/* NAME.dead, once opened */
	int			 dq_missing;
	char			**envp;		/* ours, and the two below */
	char			 id_var[40];	/* PQUEUE_ID=... */
	char			 attempts_var[40]; /* PQUEUE_ATTEMPTS=... */
	sigset_t		 dfl;		/* reset in a task */
	sigset_t		 none;		/* a task's mask */
};

static int	pool_init(struct pool *, struct pq *, const struct pqw_opts *,
		    char *const []);
static char   **task_env(struct pool *);
static int	words_fit(const struct pool *);
static int	joblog_open(struct pool *);
static void	start(struct pool *, struct task *);
static char   **build_argv(struct pool *, const struct pq_msg *);
static void	argv_free(char **);
static pid_t	spawn(struct pool *, struct task *, char *const [], int *);
static int	stdin_open(const struct pqw_opts *, const struct pq_msg *,
		    int *, int *);
static void	feed(int, const struct pqw_opts *, const struct pq_msg *);
static int	feed_write(int, const struct pqw_opts *, const struct pq_msg *);
static void	poll_ended(struct pool *);
static void	finish(struct pool *, struct task *, int);
static void	fire_timers(struct pool *, int64_t);
static void	end_all(struct pool *, int);
static void	group_kill(struct task *, int);
static void	give_back(struct task *);
static void	halt_if_asked(struct pool *, int);
static void	retry(struct task *);
static void	renew(struct task *);
static void	settle_failure(struct pool *, struct task *, int);
static void	set_aside(struct pool *, struct task *, uint32_t, int);
static void	aside_try(struct pool *, struct task *);
static void	aside_done(struct pool *, struct task *);
static void	dead_name(char *, size_t, const char *);
static void	joblog_write(struct pool *, struct task *, int, int);
static void	joblog_lost(struct pool *);
static void	sleep_tasks(struct pool *, int64_t);
static int64_t	next_timer(const struct pool *, int64_t);
static int	stdout_gone(void);
static void	sigs_block(sigset_t *);

int
pqw_run(struct pq *q, const struct pqw_opts *o, char *const argv[])
{
	struct pool p;
	struct task *idle;
	int64_t now, idle_since = 0, deadline, every, next_renew = 0;
	unsigned i, nrun;
	int r, sig;

	if ((r = pool_init(&p, q, o, argv)) != 0)
		return r;
	every = pq_renew_every(q);
	for (;;) {
		if ((sig = pq_signalled()) != 0 && !p.ending)
			end_all(&p, sig);
		poll_ended(&p);
		now = mono_now();
		fire_timers(&p, now);
		if (every > 0 && now >= next_renew) {
			for (i = 0; i < p.n; i++)
				if (p.t[i].state != T_IDLE && next_renew != 0)
					renew(&p.t[i]);
			next_renew = now + every;
		}
		idle = NULL;
		nrun = 0;
		for (i = 0; i < p.n; i++) {
			if (p.t[i].state != T_IDLE)
				nrun++;
			else if (idle == NULL)
				idle = &p.t[i];
		}
		if (o->count != 0 && p.started >= o->count)
			p.stopping = 1;
		if (p.stopping && nrun == 0)
			break;
		if (nrun == 0 && idle_since == 0)
			idle_since = now;
		else if (nrun != 0)
			idle_since = 0;
		if (p.stopping || idle == NULL) {
			sleep_tasks(&p, next_timer(&p, every > 0 ? next_renew :
			    -1));
			continue;
		}
		if (nrun != 0)
			deadline = next_timer(&p, now + SLICE_NS);
		else
			deadline = o->wait < 0 ? PQ_FOREVER : idle_since +
			    o->wait;
		if (every > 0 && nrun != 0 && deadline > next_renew)
			deadline = next_renew;
		/* A slice: a failover met is waited out across them. */
		r = nrun != 0 ? pq_get_slice(idle->q, 1, deadline, &idle->m,
		    &(size_t){ 0 }) : pq_get(idle->q, 1, deadline, &idle->m,
		    &(size_t){ 0 });
		if (r == 0) {
			start(&p, idle);
			continue;
		}
		if (r > 128)
			continue;	/* a signal: see the top */
		if (r == PKIT_EXIT_TIMEOUT) {
			if (nrun == 0 && o->wait >= 0 &&
			    mono_now() >= idle_since + o->wait) {
				p.fatal = r;
				break;
			}
			continue;
		}
		if (r == PKIT_EXIT_NO) {
			/* Closed and drained: nothing leased, ours neither. */
			if (o->count != 0)
				p.fatal = r;
			p.stopping = 1;
			continue;
		}
		warnx("%s", pq_error());
		p.fatal = r;
		p.stopping = 1;
	}
	if (p.pipe_gone) {
		/*
		 * Our reader went away: die as a filter does, here, where
		 * that is known; 141 returned can also be the status of a
		 * CMD killed by SIGPIPE, which we only exit with.
		 */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
		return 128 + SIGPIPE;
	}
	if ((sig = pq_signalled()) != 0)
		return 128 + sig;
	if (p.halted != 0)
		return p.halted;
	/* A queue that stayed empty or closed ends the pool normally: it
	 * does not hide a CMD that failed (pqueue-get(1), EXIT STATUS). */
	if (p.first_fail != 0 && (p.fatal == PKIT_EXIT_TIMEOUT ||
	    p.fatal == PKIT_EXIT_NO))
		return p.first_fail;
	if (p.fatal != 0)
		return p.fatal;
	/* Every CMD succeeded, but the record of it is not whole. */
	if (p.first_fail == 0 && p.joblog_lost)
		return PKIT_EXIT_FAIL;
	return p.first_fail;
}

/* The slots and their handles (the first is q), the joblog. */
static int
pool_init(struct pool *p, struct pq *q, const struct pqw_opts *o,
    char *const argv[])
{
	unsigned i;
	int r;

	memset(p, 0, sizeof(*p));
	p->o = o;
	p->argv = argv;
	proc_children_ours();	/* else waitid fails, and the pool spins */
	p->n = o->jobs < 1 ? 1 : o->jobs;
	p->joblog = -1;
	for (i = 0; argv[i] != NULL; i++)
		if (strstr(argv[i], "{}") != NULL)
			p->subst = 1;
	if ((p->t = calloc(p->n, sizeof(*p->t))) == NULL) {
		warn("malloc");
		return PKIT_EXIT_FAIL;
	}
	for (i = 0; i < p->n; i++) {
		p->t[i].pidfd = -1;
		if (i == 0)
			p->t[i].q = q;
		else if ((r = pq_open(pq_spec(q), &p->t[i].q)) != 0) {
			warnx("%s", pq_error());
			return r;
		}
	}
	if (o->joblog != NULL && (p->joblog = joblog_open(p)) == -1)
		return PKIT_EXIT_FAIL;
	if ((p->envp = task_env(p)) == NULL) {
		warn("malloc");
		return PKIT_EXIT_FAIL;
	}
	p->words_fit = p->subst && words_fit(p);
	/* Ignored SIGPIPE would be inherited; our handlers must not run in
	 * a vforked child. */
	sigemptyset(&p->none);
	sigemptyset(&p->dfl);
	sigaddset(&p->dfl, SIGPIPE);
	sigaddset(&p->dfl, SIGINT);
	sigaddset(&p->dfl, SIGTERM);
	sigaddset(&p->dfl, SIGHUP);
	return 0;
}

/*
 * The tasks' environment: ours without PQUEUE_ID and PQUEUE_ATTEMPTS,
 * then the pool's two slots for them, rewritten before each start (a
 * vforked child must not call setenv).  NULL if out of memory.
 */
static char **
task_env(struct pool *p)
{
	extern char **environ;
	char **env;
	size_t i, n;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env = reallocarray(NULL, n + 3, sizeof(*env))) == NULL)
		return NULL;
	for (i = n = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "PQUEUE_ID=", 10) != 0 &&
		    strncmp(environ[i], "PQUEUE_ATTEMPTS=", 16) != 0)
			env[n++] = environ[i];
	env[n++] = p->id_var;
	env[n++] = p->attempts_var;
	env[n] = NULL;
	return env;
}

/*
 * Do CMD's words and the tasks' environment, with every {} still empty,
 * fit execve's limits (one string of 32 pages, ARG_MAX in all)?  Then an
 * E2BIG is the message's, and would be every time.
 */
static int
words_fit(const struct pool *p)
{
	long arg_max = sysconf(_SC_ARG_MAX), page = sysconf(_SC_PAGESIZE);
	size_t total = 0, len, i;
	char *const *v;
	int k;

	if (arg_max <= 0 || page <= 0)
		return 0;
	for (k = 0; k < 2; k++) {
		v = k == 0 ? p->argv : p->envp;
		for (i = 0; v[i] != NULL; i++) {
			len = k == 1 && (v[i] == p->id_var ||
			    v[i] == p->attempts_var) ? sizeof(p->id_var) :
			    strlen(v[i]) + 1;
			if (len > (size_t)page * 32)
				return 0;
			total += len + sizeof(char *);
		}
	}
	return total < (size_t)arg_max;
}

/*
 * Open the joblog for appending, and write GNU parallel's header if it
 * is empty (a failed write: joblog_lost).  Workers sharing the file take turns on an flock, so the
 * header is written once; every later line is one write(2) in O_APPEND
 * mode, which the kernel appends whole.
 */
static int
joblog_open(struct pool *p)
{
	static const char head[] = "Seq\tHost\tStarttime\tJobRuntime\tSend\t"
	    "Receive\tExitval\tSignal\tCommand\n";
	const char *path = p->o->joblog, *why;
	struct stat st;
	int fd;

	/* No link or file a neighbour planted (pidlock_open_out). */
	if ((fd = pidlock_open_out(AT_FDCWD, path, O_WRONLY | O_APPEND |
	    O_CREAT, 0666, &st, &why)) == -1) {
		warnx("%s: %s", safe(path), why);
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1 && errno == EINTR)
		;
	if (fstat(fd, &st) == 0 && st.st_size == 0 &&
	    write(fd, head, sizeof(head) - 1) != (ssize_t)sizeof(head) - 1)
		joblog_lost(p);
	flock(fd, LOCK_UN);
	return fd;
}

/* A leased message: start its command, or settle it at once. */
static void
start(struct pool *p, struct task *t)
{
	const struct pqw_opts *o = p->o;
	char **av;
	pid_t pid;
	int in = -1, e;

	p->started++;
	t->state = T_RUN;
	t->renew_said = 0;
	t->timed_out = 0;
	t->kill_at = 0;
	if (t->m->attempts >= o->max_attempts) {
		set_aside(p, t, t->m->attempts, PKIT_EXIT_FAIL); /* died */
		return;
	}
	if (p->subst && memchr(t->m->data, '\0', t->m->len) != NULL) {
		warnx("%s: message %" PRIu64 ": holds a NUL byte: cannot be "
		    "an argument", pq_name(t->q), t->m->id);
		if (p->first_fail == 0)
			p->first_fail = PKIT_EXIT_FAIL;
		/* it always would */
		set_aside(p, t, t->m->attempts + 1, PKIT_EXIT_FAIL);
		return;
	}
	if ((av = build_argv(p, t->m)) == NULL) {
		warn("malloc");
		give_back(t);
		p->fatal = PKIT_EXIT_FAIL;
		p->stopping = 1;
		return;
	}
	pid = spawn(p, t, av, &in);
	e = errno;
	argv_free(av);
	if (pid == -1 && e == E2BIG && p->words_fit) {
		warnx("%s: message %" PRIu64 ": too long to be an argument",
		    pq_name(t->q), t->m->id);
		free(t->cmdline);
		t->cmdline = NULL;
		if (p->first_fail == 0)
			p->first_fail = PKIT_EXIT_NOEXEC;
		/* it always would, as a NUL byte */
		set_aside(p, t, t->m->attempts + 1, PKIT_EXIT_NOEXEC);
		return;
	}
	if (pid == -1) {
		give_back(t);
		free(t->cmdline);
		t->cmdline = NULL;
		p->fatal = e == 0 ? PKIT_EXIT_FAIL : execpipe_report(
		    p->argv[0], e);
		p->stopping = 1;
		return;
	}
	FAULT("worker_run");
	t->pid = pid;
	t->pidfd = proc_pidfd_open(pid);	/* close-on-exec; -1: SLICE */
	t->deadline = o->task_timeout > 0 ? t->start + o->task_timeout : 0;
	if (in >= 0)
		feed(in, o, t->m);
	if (p->ending)
		group_kill(t, pq_signalled() ? pq_signalled() : SIGTERM);
}

/*
 * CMD's argv with every "{}" inside an argument replaced by the message
 * (GNU parallel's way: file{}.txt), and the command line for the joblog
 * in t's cmdline.  NULL if out of memory.
 */
static char **
build_argv(struct pool *p, const struct pq_msg *m)
{
	char **av, *s, *d;
	const char *a, *h;
	size_t n, i, len, extra;

	for (n = 0; p->argv[n] != NULL; n++)
		;
	if ((av = calloc(n + 1, sizeof(*av))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		a = p->argv[i];
		for (extra = 0, h = a; (h = strstr(h, "{}")) != NULL; h += 2)
			extra += m->len;
		len = strlen(a) + extra + 1;
		if ((s = malloc(len)) == NULL)
			goto fail;
		for (d = s; *a != '\0';) {
			if (a[0] == '{' && a[1] == '}') {
				memcpy(d, m->data, m->len);
				d += m->len;
				a += 2;
			} else
				*d++ = *a++;
		}
		*d = '\0';
		av[i] = s;
	}
	return av;
fail:
	while (i-- > 0)
		free(av[i]);
	free(av);
	return NULL;
}

/* free() of what build_argv made, strings and all. */
static void
argv_free(char **av)
{
	size_t i;

	for (i = 0; av[i] != NULL; i++)
		free(av[i]);
	free(av);
}

/*
 * Start CMD with lib/spawn (vfork, the leader of a new process group,
 * killed with us), its stdin a pipe for the message (its write end in
 * *in) or, with {}, /dev/null; PQUEUE_ID and PQUEUE_ATTEMPTS set in the
 * pool's environment slots.  -1 with errno set if it could not be run
 * (errno 0: reported here).
 */
static pid_t
spawn(struct pool *p, struct task *t, char *const av[], int *in)
{
	struct spawn_opts so;
	sigset_t old;
	char *line;
	size_t i, len = 0, k;
	int pp[2] = { -1, -1 }, e, nul, r;
	pid_t pid;

	/* The joblog's Command: the words, non-printables escaped. */
	for (i = 0; av[i] != NULL; i++)
		len += 4 * strlen(av[i]) + 1;
	if ((line = malloc(len + 1)) == NULL) {
		warn("malloc");
		errno = 0;
		return -1;
	}
	for (k = 0, i = 0; av[i] != NULL; i++) {
		const unsigned char *c = (const unsigned char *)av[i];

		if (i > 0)
			line[k++] = ' ';
		for (; *c != '\0'; c++) {
			if (*c >= 0x20 && *c < 0x7f && *c != '\\')
				line[k++] = (char)*c;
			else
				k += (size_t)sprintf(line + k, "\\x%02x", *c);
		}
	}
	line[k] = '\0';
	free(t->cmdline);
	t->cmdline = line;
	if (!p->subst && stdin_open(p->o, t->m, &pp[0], &pp[1]) == -1) {
		errno = 0;
		return -1;
	}
	nul = -1;
	if (p->subst && (nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		warn("/dev/null");
		errno = 0;
		return -1;
	}
	snprintf(p->id_var, sizeof(p->id_var), "PQUEUE_ID=%" PRIu64,
	    t->m->id);
	snprintf(p->attempts_var, sizeof(p->attempts_var),
	    "PQUEUE_ATTEMPTS=%" PRIu32, t->m->attempts);
	spawn_opts_init(&so);
	/* CMD dies with us: a dead worker's task must not run on. */
	so.flags = SPAWN_VFORK | SPAWN_NEW_GROUP | SPAWN_DIE_WITH_PARENT;
	so.fd[0] = p->subst ? nul : pp[0];
	so.envp = p->envp;
	so.dfl = &p->dfl;
	so.mask = &p->none;
	clock_gettime(CLOCK_REALTIME, &t->wall);
	t->start = mono_now();
	/* Our handlers must not run in the vforked child: blocked until it
	 * has reset them. */
	sigs_block(&old);
	r = spawn_start(&so, av, &pid);
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (nul >= 0)
		close(nul);
	if (pp[0] >= 0)
		close(pp[0]);
	if (r != 0) {
		if (pp[1] >= 0)
			close(pp[1]);
		if (r == SPAWN_ERROR) {
			errno = e;
			warn("fork");
			e = 0;
		}
		errno = e;
		return -1;
	}
	*in = pp[1];
	return pid;
}

/*
 * CMD's stdin for message m: *rd, CMD's end, and *wr, where feed() writes
 * the message once CMD has started (-1: already written).  A pipe that
 * holds the whole message, so that feed() never blocks: the pool must
 * not stop (its timers, its other tasks) for a CMD that does not read.
 * A pipe has 64 KiB, room for any message, unless the user has used up
 * fs.pipe-user-pages-soft: the kernel then gives 8 KiB, and refuses more
 * to an unprivileged user.  The message then goes in a memfd, a file in
 * memory that CMD reads from its start.  0, or -1 said here.
 */
static int
stdin_open(const struct pqw_opts *o, const struct pq_msg *m, int *rd,
    int *wr)
{
	size_t need = (size_t)m->len + 1 + (o->ids ? 21 : 0);
	int pp[2], fd, cap;

	if (pipe2(pp, O_CLOEXEC) == -1) {
		warn("pipe");
		return -1;
	}
	if ((cap = fcntl(pp[1], F_GETPIPE_SZ)) == -1 || (size_t)cap >= need ||
	    fcntl(pp[1], F_SETPIPE_SZ, (int)need) != -1) {
		*rd = pp[0];
		*wr = pp[1];
		return 0;
	}
	close(pp[0]);
	close(pp[1]);
	if ((fd = memfd_create("pqueue-message", MFD_CLOEXEC)) == -1) {
		warn("memfd_create");
		return -1;
	}
	if (feed_write(fd, o, m) == -1 || lseek(fd, 0, SEEK_SET) == -1) {
		warn("memfd");
		close(fd);
		return -1;
	}
	*rd = fd;
	*wr = -1;
	return 0;
}

/*
 * Write the message (and its terminator) to CMD's stdin and close it.
 * It fits the pipe (stdin_open), so this does not block; a CMD that
 * exits without reading it (EPIPE) is judged by its status alone.
 */
static void
feed(int fd, const struct pqw_opts *o, const struct pq_msg *m)
{
	(void)feed_write(fd, o, m);	/* EPIPE, or a signal: CMD's status */
	close(fd);
}

/* The message, its id before it with -i, and its terminator: 0 or -1. */
static int
feed_write(int fd, const struct pqw_opts *o, const struct pq_msg *m)
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
			return -1;
		while (k < 3 && (size_t)w >= iov[k].iov_len) {
			w -= (ssize_t)iov[k].iov_len;
			k++;
		}
		if (k < 3) {
			iov[k].iov_base = (char *)iov[k].iov_base + w;
			iov[k].iov_len -= (size_t)w;
		}
	}
	return 0;
}

/*
 * Settle every task whose command has ended.  The leader is looked at
 * with WNOWAIT first: while it is unreaped its pid names our group for
 * sure, so the rest of a killed group can still be ended by that pgid.
 */
static void
poll_ended(struct pool *p)
{
	siginfo_t si;
	unsigned i;
	int ws;
	pid_t r;

	for (i = 0; i < p->n; i++) {
		struct task *t = &p->t[i];

		if (t->state != T_RUN || t->pid <= 1)
			continue;
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)t->pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) == -1 || si.si_pid != t->pid)
			continue;
		/* A timed out or ended task leaves nothing behind. */
		if (t->kill_at != 0)
			group_kill(t, SIGKILL);
		while ((r = waitpid(t->pid, &ws, 0)) == -1 && errno == EINTR)
			;
		finish(p, t, r == t->pid ? ws : W_EXITCODE(PKIT_EXIT_FAIL, 0));
	}
}

/* A command ended with wait status ws: joblog, then settle its lease. */
static void
finish(struct pool *p, struct task *t, int ws)
{
	int st, sig = pq_signalled();

	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	t->pid = 0;
	st = t->timed_out ? PKIT_EXIT_TIMEOUT : status_to_exit(ws);
	joblog_write(p, t, st, WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
	if (st == 0) {
		FAULT("worker_ran");
		if (pq_commit(t->q, 1, PQ_DONE) != 0) {
			warnx("%s", pq_error());
			p->fatal = PKIT_EXIT_FAIL;
			p->stopping = 1;
		}
		t->state = T_IDLE;
		return;
	}
	if (!p->pipe_gone && stdout_gone()) {
		/* Our reader went away: end as a filter does, once. */
		p->pipe_gone = 1;
		give_back(t);
		end_all(p, SIGTERM);
		return;
	}
	if (t->timed_out)
		warnx("%s: message %" PRIu64 ": %s timed out", pq_name(t->q),
		    t->m->id, p->argv[0]);
	else if (!p->ending || (sig != 0 && st != 128 + sig && !p->pipe_gone &&
	    p->halted == 0))
		warnx("%s: message %" PRIu64 ": %s %s %d", pq_name(t->q),
		    t->m->id, p->argv[0], WIFSIGNALED(ws) ?
		    "killed by signal" : "exited", WIFSIGNALED(ws) ?
		    WTERMSIG(ws) : WEXITSTATUS(ws));
	if (p->first_fail == 0 && !p->ending)
		p->first_fail = st;
	if (p->ending) {
		give_back(t);
		return;
	}
	settle_failure(p, t, st);
}

/*
 * -H: a message has failed for the last time (its CMD, its workers' deaths,
 * or a NUL byte it cannot be run with): stop, with status st.
 */
static void
halt_if_asked(struct pool *p, int st)
{
	if (p->o->halt && p->halted == 0) {
		p->halted = st;
		end_all(p, SIGTERM);
	}
}

/* A failed attempt: back off, or set it aside once it has had its turns. */
static void
settle_failure(struct pool *p, struct task *t, int st)
{
	int64_t d = PQW_BACKOFF_NS;
	uint32_t k;

	if (t->m->attempts + 1 >= p->o->max_attempts) {
		set_aside(p, t, t->m->attempts + 1, st);
		return;
	}
	for (k = 0; k < t->m->attempts && d < PQW_BACKOFF_MAX_NS; k++)
		d *= 2;
	if (d > PQW_BACKOFF_MAX_NS)
		d = PQW_BACKOFF_MAX_NS;
	/* Held, not given back: no worker can take it again meanwhile. */
	t->state = T_BACKOFF;
	t->release_at = mono_now() + d;
}

/* -T deadlines, KILL after the grace period, backoffs that are over. */
static void
fire_timers(struct pool *p, int64_t now)
{
	unsigned i;

	for (i = 0; i < p->n; i++) {
		struct task *t = &p->t[i];

		if (t->state == T_BACKOFF && (now >= t->release_at ||
		    p->ending))
			retry(t);
		if (t->state == T_ASIDE && now >= t->release_at)
			aside_try(p, t);
		if (t->state != T_RUN)
			continue;
		if (t->deadline != 0 && now >= t->deadline && !t->timed_out) {
			t->timed_out = 1;
			group_kill(t, SIGTERM);
		} else if (t->kill_at > 0 && now >= t->kill_at) {
			group_kill(t, SIGKILL);
			t->kill_at = -1;	/* sent; wait for it */
		}
	}
}

/*
 * Stop: take no more messages and send sig to every running task's
 * group (KILL follows after the grace period); backoffs end at once.
 */
static void
end_all(struct pool *p, int sig)
{
	unsigned i;

	p->stopping = 1;
	p->ending = 1;
	for (i = 0; i < p->n; i++) {
		if (p->t[i].state == T_RUN)
			group_kill(&p->t[i], sig);
		else if (p->t[i].state == T_BACKOFF ||
		    p->t[i].state == T_ASIDE)
			retry(&p->t[i]);	/* back, its failure counted */
	}
}

/*
 * Signal t's process group: only one we made, whose leader is not yet
 * reaped (so its pid cannot name another group).  The first signal arms
 * the KILL that follows the grace period.
 */
static void
group_kill(struct task *t, int sig)
{
	if (t->pid <= 1)
		return;
	if (kill(-t->pid, sig) == -1 && errno == ESRCH)
		kill(t->pid, sig);	/* not yet in its group: the leader */
	if (t->kill_at == 0 && sig != SIGKILL)
		t->kill_at = mono_now() + PQW_GRACE_NS;
}

/*
 * Give t's message back to the front of the queue as it was: it was not
 * tried (stopped by us, -H, not runnable, the reader gone), and -r counts
 * only failures and deaths (pqueue-get(1)).  After a failed attempt's
 * backoff, retry() gives it back with attempts+1.
 */
static void
give_back(struct task *t)
{
	if (pq_commit(t->q, 0, PQ_NOCOUNT) != 0)
		warnx("%s", pq_error());
	t->state = T_IDLE;
}

/*
 * Renew t's lease (Redis).  A renewal that fails is said once, until one
 * works again: the lease may then run out under a running task, and its
 * message be delivered again meanwhile.
 */
static void
renew(struct task *t)
{
	if (pq_renew(t->q) == 0)
		t->renew_said = 0;
	else if (!t->renew_said) {
		warnx("%s (renewing the lease of message %" PRIu64 ")",
		    pq_error(), t->m->id);
		t->renew_said = 1;
	}
}

/* A failed attempt, its backoff over (or cut short): back, attempts+1. */
static void
retry(struct task *t)
{
	if (pq_release(t->q) != 0)
		warnx("%s", pq_error());
	t->state = T_IDLE;
}

/*
 * A poison message (delivered and not done `failed' times; st is its
 * status, for -H): put a copy in NAME.dead if that queue exists, else
 * drop it, saying so on stderr; then commit it as done.  If NAME.dead is
 * full, the task waits in T_ASIDE, holding its lease, until there is
 * room or -t's wait is over; a put that blocked here would stop every
 * other task's timers and lease renewals.  If NAME.dead exists but is
 * closed, or refuses it otherwise (corrupt, too small, -t over...), give
 * the message back, say so, and stop the pool rather than lose it or spin
 * on it.  Given back with its failure counted (retry()): it has had its
 * turns, so the next worker sets it aside without running it again.
 */
static void
set_aside(struct pool *p, struct task *t, uint32_t failed, int st)
{
	char name[1200], shown[600];
	int r;

	t->aside_failed = failed;
	t->aside_st = st;
	t->aside_said = 0;
	t->aside_until = p->o->wait < 0 ? -1 : mono_now() + p->o->wait;
	/* NAME.dead that cannot exist (too long a name) is missing too. */
	if (p->dq == NULL && !p->dq_missing) {
		dead_name(name, sizeof(name), pq_spec(t->q));
		if ((r = pq_open(name, &p->dq)) != 0) {
			if (strstr(pq_error(), ": no such queue") == NULL &&
			    strstr(pq_error(), ": bad queue name: ") == NULL) {
				warnx("%s", pq_error());
				retry(t);
				p->fatal = r;
				p->stopping = 1;
				halt_if_asked(p, st);
				return;
			}
			p->dq_missing = 1;
		}
	}
	if (p->dq == NULL) {
		/* shown: a redis: name with its password masked */
		dead_name(shown, sizeof(shown), pq_name(t->q));
		warnx("%s: message %" PRIu64 " failed %" PRIu32
		    " times: dropped (no open queue %s)", pq_name(t->q),
		    t->m->id, failed, shown);
		aside_done(p, t);
		return;
	}
	t->state = T_ASIDE;
	/* -H: nothing more starts while it waits (then the halt, below). */
	if (p->o->halt)
		p->stopping = 1;
	aside_try(p, t);
}

/* T_ASIDE: one try, without waiting, to put t's message in NAME.dead. */
static void
aside_try(struct pool *p, struct task *t)
{
	char shown[600];
	const char *data = t->m->data;
	size_t len = t->m->len, nput;
	int64_t now;
	int r;

	dead_name(shown, sizeof(shown), pq_name(t->q));
	r = pq_put(p->dq, &data, &len, 1, &nput, 0);
	if (r == PKIT_EXIT_TIMEOUT || r > 128) {
		/* Full (or busy); a signal is the loop's to see. */
		now = mono_now();
		if (t->aside_until < 0 || now < t->aside_until) {
			if (!t->aside_said)
				warnx("%s: message %" PRIu64 " failed %" PRIu32
				    " times: waiting for room in %s",
				    pq_name(t->q), t->m->id, t->aside_failed,
				    shown);
			t->aside_said = 1;
			t->release_at = now + SLICE_NS;
			return;
		}
	}
	if (r == PKIT_EXIT_NO) {
		warnx("%s: message %" PRIu64 " failed %" PRIu32
		    " times: kept (%s is closed)", pq_name(t->q),
		    t->m->id, t->aside_failed, shown);
		retry(t);
		p->fatal = PKIT_EXIT_FAIL;
		p->stopping = 1;
		halt_if_asked(p, t->aside_st);
		return;
	}
	if (r != 0) {
		warnx("%s", pq_error());
		retry(t);
		p->fatal = r;
		p->stopping = 1;
		halt_if_asked(p, t->aside_st);
		return;
	}
	warnx("%s: message %" PRIu64 " failed %" PRIu32 " times: moved to %s",
	    pq_name(t->q), t->m->id, t->aside_failed, shown);
	aside_done(p, t);
}

/* Set aside: the message is done in its own queue; then -H. */
static void
aside_done(struct pool *p, struct task *t)
{
	if (pq_commit(t->q, 1, PQ_DONE) != 0) {
		warnx("%s", pq_error());
		p->fatal = PKIT_EXIT_FAIL;
		p->stopping = 1;
	}
	t->state = T_IDLE;
	halt_if_asked(p, t->aside_st);
}

/*
 * NAME.dead, in dst: ".dead" goes at the end of the queue's own name,
 * before the options of a Redis name (NAME?replicas=N gives
 * NAME.dead?replicas=N, as written to the same servers).  A '?' can only
 * be such an option after the name's last '/'.
 */
static void
dead_name(char *dst, size_t size, const char *name)
{
	const char *base, *opt;

	base = strrchr(name, '/');
	opt = strchr(base != NULL ? base : name, '?');
	if (opt == NULL)
		snprintf(dst, size, "%s.dead", name);
	else
		snprintf(dst, size, "%.*s.dead%s", (int)(opt - name), name,
		    opt);
}

/*
 * One joblog line for an attempt, GNU parallel's --joblog format: Seq
 * (the message id), Host (":", this machine), Starttime (epoch seconds),
 * JobRuntime, Send and Receive (0: not measured), Exitval (124 for a
 * timeout, 128+N for signal N), Signal, Command.  One write(2).
 */
static void
joblog_write(struct pool *p, struct task *t, int st, int sig)
{
	char *line;
	int64_t ran = mono_now() - t->start;
	int len;

	if (p->joblog < 0)
		return;
	len = asprintf(&line, "%" PRIu64 "\t:\t%lld.%03ld\t%" PRId64 ".%03"
	    PRId64 "\t0\t0\t%d\t%d\t%s\n", t->m->id,
	    (long long)t->wall.tv_sec, t->wall.tv_nsec / 1000000,
	    ran / 1000000000, ran / 1000000 % 1000, st, sig,
	    t->cmdline != NULL ? t->cmdline : p->argv[0]);
	if (len < 0) {
		joblog_lost(p);
		return;
	}
	if (write(p->joblog, line, (size_t)len) != len)
		joblog_lost(p);
	free(line);
}

/*
 * A joblog write failed (a full disk, a quota): say so once, not per
 * line, and make the pool's status 125 where it would be 0.  The tasks
 * go on: stopping would leave the queue's messages unhandled over a
 * missing line of the log.
 */
static void
joblog_lost(struct pool *p)
{
	if (!p->joblog_lost)
		warn("%s", safe(p->o->joblog));
	p->joblog_lost = 1;
}

/*
 * Sleep until a running command ends, a signal comes, or the timer at
 * until (absolute; -1 none).  INT/TERM/HUP are let in only inside ppoll.
 */
static void
sleep_tasks(struct pool *p, int64_t until)
{
	struct pollfd pfd[PQW_MAX_JOBS];
	struct timespec ts;
	sigset_t old;
	int64_t left;
	unsigned i, n = 0;
	int nofd = 0;

	for (i = 0; i < p->n; i++) {
		if (p->t[i].state != T_RUN)
			continue;
		if (p->t[i].pidfd < 0) {
			nofd = 1;	/* Linux < 5.3: poll by time */
			continue;
		}
		pfd[n].fd = p->t[i].pidfd;
		pfd[n].events = POLLIN;
		n++;
	}
	if (nofd && (until < 0 || until > mono_now() + SLICE_NS))
		until = mono_now() + SLICE_NS;
	sigs_block(&old);
	if (pq_signalled() == 0 || p->ending) {
		left = until < 0 ? 0 : until - mono_now();
		ts.tv_sec = left > 0 ? left / 1000000000 : 0;
		ts.tv_nsec = left > 0 ? left % 1000000000 : 0;
		if (n > 0 || until >= 0)
			ppoll(pfd, n, until < 0 ? NULL : &ts, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* The earliest timer of the pool, or cap (-1: none) if earlier. */
static int64_t
next_timer(const struct pool *p, int64_t cap)
{
	int64_t next = cap;
	unsigned i;

#define EARLIER(x)	do { if ((x) > 0 && (next < 0 || (x) < next)) \
				next = (x); } while (0)
	for (i = 0; i < p->n; i++) {
		const struct task *t = &p->t[i];

		if (t->state == T_BACKOFF || t->state == T_ASIDE)
			EARLIER(t->release_at);
		if (t->state != T_RUN)
			continue;
		if (!t->timed_out)
			EARLIER(t->deadline);
		EARLIER(t->kill_at);
	}
#undef EARLIER
	return next;
}

/* Is stdout a pipe or socket whose reader has gone? */
static int
stdout_gone(void)
{
	struct pollfd pfd = { STDOUT_FILENO, POLLOUT, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP));
}

static void
sigs_block(sigset_t *old)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, old);
}
