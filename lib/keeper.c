/* SPDX-License-Identifier: ISC */
/*
 * keeper.c: pspawn's keeper (see keeper.h).
 *
 * pspawn starts one keeper (keeper_clone); the keeper starts the COUNT
 * copies of the command (lib/spawn, with vfork: the verdict of each exec
 * comes back before the next starts), writes a "running" record for
 * each, prints the pids on pspawn's stdout, then lets pspawn go with the
 * exit code.
 * From then on the keeper only waits: for each copy that ends it writes
 * the final record before reaping it (see lib/jobrec.h), so there is
 * never a zombie and pjoin can always learn the real status.  It ignores
 * the signals sent to a whole process group (keeper_ignores), so a job
 * killed with its group still has its end recorded.  Watching a
 * caller (pspawn -D), it waits on a signalfd for SIGCHLD and on the
 * caller's pidfd at once, and ends the copies when the caller goes,
 * however it went.  Tier: tool body (prints, ends its own process).
 */
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include "dur.h"
#include "execpipe.h"
#include "exitcode.h"
#include "jobrec.h"
#include "keeper.h"
#include "proc.h"
#include "spawn.h"

#define KEEPER_STACK	(1024 * 1024)	/* touched: a few pages, plus: */
/*
 * Each copy starts with vfork, on the keeper's stack, and glibc's execvp
 * builds on that stack a path per PATH entry and, for a script without
 * "#!" (ENOEXEC), a new argument vector of the command's length: 140 000
 * arguments overflowed the 1 MiB.  keeper_clone adds room for both.
 */
#define GRACE_NS	((int64_t)2000000000)	/* SIGTERM, 2 s, SIGKILL */
#define CALLER_LOOK_MS	100	/* -D without a pidfd: the caller looked at */

struct keeper {
	const struct keeper_conf *c;
	struct spawn_opts spawn;	/* how each copy starts */
	pid_t		 *pids;
	unsigned long long *starts;
	int		  alive;	/* copies not yet reaped */
	char		**envp;		/* the copies' environment */
	char		  index_var[24];/* PKIT_INDEX=N, in envp */
	sigset_t	  mask;		/* the signal mask to give the copies */
	sigset_t	  dfl;		/* the signals they get back as SIG_DFL */
};

/*
 * What the keeper ignores, for its own sake, and its copies must not: the
 * signals a terminal, timeout(1) or a shell's kill 0 send to the whole
 * process group.  The copies die of them; the keeper stays to record
 * that (143 for SIGTERM), then ends as always, when its last copy has.
 */
static const int keeper_ignores[] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE,
	SIGTERM };
#define NIGNORES	(sizeof(keeper_ignores) / sizeof(keeper_ignores[0]))

static void	keeper(const struct keeper_conf *, int, int, char *[])
		    __attribute__((noreturn));
static char	**copy_env(struct keeper *);
static pid_t	start_copy(struct keeper *, int, int *);
static void	wait_copies(struct keeper *);
static void	wait_copies_caller(struct keeper *);
static int	reap_one(struct keeper *, int);
static void	terminate(struct keeper *, int);
static void	die(const char *) __attribute__((noreturn));

/*
 * The keeper's start: clone(2) with CLONE_VM, as posix_spawn does for its
 * child, but without waiting for an exec - the keeper never makes one.
 * It runs on a stack of its own in pspawn's memory, which it keeps
 * when pspawn exits; no page is copied, neither at the clone nor when
 * either side writes.  Safe because pspawn, once it has cloned, only
 * reads the verdict and calls _exit: it touches no memory the keeper
 * uses (no stdio, no malloc, no exit handlers), and it installs no
 * signal handler, so its read cannot fail with EINTR and write errno.
 * Under AddressSanitizer (which would warn of the foreign stack) and
 * valgrind (which refuses such a clone) the keeper is forked instead,
 * as it is if the clone fails.
 */
struct keeper_args {
	const struct keeper_conf *kc;
	int		 verdict[2];	/* the pipe: pspawn reads, we write */
	int		 argc;
	char		**argv;
};

/* The keeper's side of keeper_start, cloned or forked. */
static int
keeper_main(void *arg)
{
	const struct keeper_args *a = arg;

	close(a->verdict[0]);
	keeper(a->kc, a->verdict[1], a->argc, a->argv);
}

#if defined(__SANITIZE_ADDRESS__)
#define KEEPER_CLONES	0
#else
#define KEEPER_CLONES	1
#endif

static pid_t
keeper_clone(struct keeper_args *a)
{
	const char *path = getenv("PATH");
	size_t size, n, page = (size_t)getpagesize();
	char *stack;
	pid_t pid;

	if (!KEEPER_CLONES)
		return -1;
#ifdef HAVE_VALGRIND_VALGRIND_H
	if (RUNNING_ON_VALGRIND)
		return -1;
#endif
	/* execvp's room (above KEEPER_STACK): the argument vector again,
	 * and a path as long as PATH and the name.  Pages never touched
	 * cost nothing. */
	for (n = 0; a->kc->argv[n] != NULL; n++)
		;
	size = KEEPER_STACK + (n + 3) * sizeof(char *) +
	    (path != NULL ? strlen(path) : 0) + strlen(a->kc->argv[0]) + 2;
	size = (size + page - 1) / page * page;
	stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	/* A guard page: an overflow faults instead of writing the heap. */
	if (mprotect(stack, page, PROT_NONE) == -1) {
		munmap(stack, size);
		return -1;
	}
	if ((pid = clone(keeper_main, stack + size, CLONE_VM | SIGCHLD,
	    a)) == -1)
		munmap(stack, size);
	return pid;
}

void
keeper_start(const struct keeper_conf *kc, int argc, char *argv[])
{
	struct keeper_args a;
	unsigned char code;
	ssize_t n;

	proc_children_ours();	/* the keeper records their ends */
	if (pipe2(a.verdict, O_CLOEXEC) == -1) {
		warn("pipe");
		_exit(PKIT_EXIT_FAIL);
	}
	a.kc = kc;
	a.argc = argc;
	a.argv = argv;
	if (keeper_clone(&a) == -1) {
		switch (fork()) {
		case -1:
			warn("fork");
			_exit(PKIT_EXIT_FAIL);
		case 0:
			keeper_main(&a);
		}
	}
	close(a.verdict[1]);
	do
		n = read(a.verdict[0], &code, 1);
	while (n == -1 && errno == EINTR);
	if (n != 1) {
		/* The keeper is gone: our memory is ours alone again. */
		warnx("%s: keeper died before starting it", kc->argv[0]);
		_exit(PKIT_EXIT_FAIL);
	}
	_exit(code);
}

int
keeper_owns(pid_t pid, int fd)
{
	struct proc_info pi;
	char comm[32];

	/* Still unreaped after the read: the numbers are PID's. */
	if (proc_read(pid, &pi) == -1 || proc_pidfd_reaped(fd) ||
	    pi.ppid <= 1)
		return 0;
	return proc_comm(pi.ppid, comm, sizeof(comm)) == 0 &&
	    strcmp(comm, "pspawn") == 0;
}

/*
 * The keeper: start the copies, hand the pids and the verdict (on fd
 * VERDICT) to pspawn, then wait for every copy, recording each status
 * before reaping it.
 */
static void
keeper(const struct keeper_conf *c, int verdict, int argc, char *argv[])
{
	extern char **environ;
	struct keeper k;
	struct sigaction ign, saved;
	sigset_t chld;
	char *out, *o;
	unsigned char code = PKIT_EXIT_OK;
	size_t i;
	ssize_t n;
	pid_t pid;
	int e = PKIT_EXIT_FAIL;

	memset(&k, 0, sizeof(k));
	k.c = c;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&k.dfl);
	for (i = 0; i < NIGNORES; i++) {
		sigaction(keeper_ignores[i], &ign, &saved);
		/* Inherited ignored (nohup, say), it stays so for them. */
		if (saved.sa_handler != SIG_IGN)
			sigaddset(&k.dfl, keeper_ignores[i]);
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	/* Watching a caller, we wait through a signalfd: SIGCHLD must stay
	 * pending. */
	sigprocmask(SIG_BLOCK, c->watch ? &chld : NULL, &k.mask);

	k.pids = reallocarray(NULL, c->count, sizeof(*k.pids));
	k.starts = reallocarray(NULL, c->count, sizeof(*k.starts));
	out = o = reallocarray(NULL, c->count, 12);
	if (k.pids == NULL || k.starts == NULL || out == NULL ||
	    (k.envp = copy_env(&k)) == NULL)
		die("keeper");
	spawn_opts_init(&k.spawn);
	k.spawn.flags = SPAWN_VFORK;
	/* If the keeper itself is killed, nobody would end them. */
	if (c->watch)
		k.spawn.flags |= SPAWN_DIE_WITH_PARENT;
	if (c->group)
		k.spawn.flags |= SPAWN_NEW_GROUP;
	k.spawn.fd[0] = c->in;
	k.spawn.fd[1] = c->out != -1 ? c->out : STDERR_FILENO;
	k.spawn.fd[2] = c->err;
	k.spawn.envp = k.envp;
	k.spawn.dfl = &k.dfl;
	k.spawn.mask = &k.mask;
	for (i = 0; i < (size_t)c->count; i++) {
		/* The first that fails is the last started: its one line
		 * says why, and the pids printed are copies 1 to i. */
		if ((pid = start_copy(&k, i + 1, &e)) == -1) {
			code = e;
			break;
		}
		k.pids[k.alive] = pid;
		k.starts[k.alive] = 0;
		if (jobrec_start_time(pid, &k.starts[k.alive]) == -1 ||
		    jobrec_put_running(c->jobs, pid, k.starts[k.alive],
		    c->argv) == -1)
			warn("jobs/%d: cannot record", (int)pid);
		k.alive++;
		o += snprintf(o, 12, "%d\n", (int)pid);
	}
	if (o > out && (n = write(STDOUT_FILENO, out, o - out)) != o - out) {
		/*
		 * Nobody learns the pids: a failure must leave nothing
		 * running.  The copies are recorded as killed, as always.
		 */
		warnx("stdout: %s: %s killed", n == -1 ? strerror(errno) :
		    "short write", c->argv[0]);
		terminate(&k, SIGKILL);
		code = code ? code : PKIT_EXIT_FAIL;
	}
	free(out);
	/* Let pspawn go; hold nothing of its stdin and stdout, nor of its
	 * stderr unless the copies write there anyway (a pipe held open
	 * would keep a reader such as $(pspawn ... 2>&1) waiting). */
	dup2(c->null, STDIN_FILENO);
	dup2(c->null, STDOUT_FILENO);
	if (c->out != -1 && c->err != -1)
		dup2(c->null, STDERR_FILENO);
	/*
	 * If pspawn is gone (killed while the copies started: EPIPE), the
	 * copies still run and their records say so: keep them, and record
	 * their ends, as always.
	 */
	(void)!write(verdict, &code, 1);
	close(verdict);
	if (c->in != c->null)
		close(c->in);
	if (c->out != -1)
		close(c->out);
	if (c->err != -1)
		close(c->err);
	close(c->null);

	/* The title overwrites the original argv strings: copy the name. */
	if ((o = strdup(c->argv[0])) != NULL) {
		setproctitle_init(argc, argv, environ);
		setproctitle("keeper %s", o);
		free(o);
	}
	if (c->watch)
		wait_copies_caller(&k);
	else
		wait_copies(&k);
	if (jobrec_prune_due(c->jobs))
		jobrec_prune(c->jobs);
	_exit(PKIT_EXIT_OK);
}

/*
 * The environment for the copies: ours, and when indexed a PKIT_INDEX
 * slot that start_copy rewrites for each (a vforked child must not call
 * setenv).
 */
static char **
copy_env(struct keeper *k)
{
	extern char **environ;
	char **env;
	size_t i, n;

	if (!k->c->indexed)
		return environ;
	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env = reallocarray(NULL, n + 2, sizeof(*env))) == NULL)
		return NULL;
	for (i = n = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "PKIT_INDEX=", 11) != 0)
			env[n++] = environ[i];
	env[n++] = k->index_var;
	env[n] = NULL;
	return env;
}

/*
 * Start copy INDEX: the keeper sleeps until the copy has executed the
 * command or failed to, and no page tables are copied (vfork).  Its pid,
 * or -1 with *code = 125/126/127 (reported).
 */
static pid_t
start_copy(struct keeper *k, int index, int *code)
{
	pid_t pid;

	if (k->c->indexed)
		snprintf(k->index_var, sizeof(k->index_var), "PKIT_INDEX=%d",
		    index);
	switch (spawn_start(&k->spawn, k->c->argv, &pid)) {
	case 0:
		return pid;
	case SPAWN_NOEXEC:
		*code = execpipe_report(k->c->argv[0], errno);
		return -1;
	default:
		warn("fork");
		*code = PKIT_EXIT_FAIL;
		return -1;
	}
}

/* Block until every copy has ended, recording each. */
static void
wait_copies(struct keeper *k)
{
	while (k->alive > 0 && reap_one(k, 0) != -1)
		;
}

/*
 * Wait for the copies and for the caller at once (a signalfd for
 * SIGCHLD, the caller's pidfd); when the caller goes, SIGTERM the copies,
 * and SIGKILL those left after the grace period.  Without a pidfd (Linux
 * before 5.3), the caller's pid and start time are looked at every
 * CALLER_LOOK_MS instead.
 */
static void
wait_copies_caller(struct keeper *k)
{
	struct signalfd_siginfo ssi;
	struct pollfd pfd[2];
	sigset_t chld;
	const struct pidref *caller = &k->c->caller;
	int64_t kill_at = -1;
	int sfd, timeout, watching = 1;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if ((sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		die("signalfd");
	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = caller->fd;
	pfd[1].events = POLLIN;
	for (;;) {
		while (reap_one(k, WNOHANG) > 0)
			;
		if (k->alive == 0)
			break;
		timeout = deadline_ms(kill_at);
		if (watching && caller->fd == -1 &&
		    (timeout < 0 || timeout > CALLER_LOOK_MS))
			timeout = CALLER_LOOK_MS;
		if (poll(pfd, 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[0].revents & POLLIN)
			while (read(sfd, &ssi, sizeof(ssi)) > 0)
				;
		if (watching && ((pfd[1].revents & (POLLIN | POLLHUP)) ||
		    (caller->fd == -1 && pidref_wait(caller, 0)))) {
			terminate(k, SIGTERM);
			kill_at = mono_now() + GRACE_NS;
			pfd[1].fd = -1;
			watching = 0;
		} else if (kill_at >= 0 && mono_now() >= kill_at) {
			terminate(k, SIGKILL);
			kill_at = -1;
		}
	}
	close(sfd);
}

/*
 * Take one ended copy (waitid flags: 0 to block, WNOHANG not to): write
 * its final record while it is still a zombie, then reap it.  1 if one
 * was taken, 0 if none is ready, -1 when there are no children left.
 */
static int
reap_one(struct keeper *k, int flags)
{
	siginfo_t si;
	int i;

	memset(&si, 0, sizeof(si));
	while (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | flags) == -1)
		if (errno != EINTR)
			return -1;
	if (si.si_pid == 0)
		return 0;
	for (i = 0; i < k->alive; i++)
		if (k->pids[i] == si.si_pid)
			break;
	if (i < k->alive) {
		if (jobrec_put_status(k->c->jobs, si.si_pid, k->starts[i],
		    si.si_code, si.si_status) == -1)
			warn("jobs/%d: cannot record", (int)si.si_pid);
		/* Keep the table dense: the last live copy takes the slot. */
		k->alive--;
		k->pids[i] = k->pids[k->alive];
		k->starts[i] = k->starts[k->alive];
	}
	while (waitpid(si.si_pid, NULL, 0) == -1 && errno == EINTR)
		;
	return 1;
}

/*
 * Signal every copy not yet reaped (with -g, its whole group): our own
 * children, so never recycled, and a group whose leader is not reaped
 * keeps its id.
 */
static void
terminate(struct keeper *k, int sig)
{
	pid_t pid;
	int i;

	for (i = 0; i < k->alive; i++) {
		pid = k->pids[i];
		if (pid > 1 && k->c->group)
			kill(-pid, sig);
		else if (pid > 1)
			kill(pid, sig);
	}
}

/*
 * The keeper's own failure: say why, and end with _exit, as a forked
 * process does (exit(3) would flush stdio buffers copied from pspawn).
 */
static void
die(const char *what)
{
	warn("%s", what);
	_exit(PKIT_EXIT_FAIL);
}
