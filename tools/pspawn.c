/* SPDX-License-Identifier: ISC */
/*
 * pspawn: start a command in the background, print its pid, and return as
 * soon as the command has been executed (Python's Process.start()).
 *
 * pspawn forks one keeper; the keeper starts the COUNT copies of the
 * command (fork, then exec with the verdict sent back through a
 * close-on-exec pipe), writes a "running" record for each, prints the pids
 * on pspawn's stdout, then lets pspawn go with the exit code.  From then on
 * the keeper only waits: for each copy that ends it writes the final record
 * before reaping it (see lib/jobrec.h), so there is never a zombie and
 * pjoin can always learn the real status.  With -D the keeper also watches
 * the process that ran pspawn through a pidfd and ends the copies (SIGTERM,
 * then SIGKILL after a grace period) when it goes, however it went.
 */
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dur.h"
#include "execpipe.h"
#include "exitcode.h"
#include "jobrec.h"
#include "parse.h"
#include "rundir.h"

#define GRACE_NS	((int64_t)2000000000)	/* -D: SIGTERM, 2 s, SIGKILL */
#define COUNT_MAX	100000

struct spawn {
	char		**argv;		/* the command */
	int		  count;	/* copies to start */
	int		  indexed;	/* -n given: set PKIT_INDEX */
	int		  daemon;	/* -D */
	int		  in, out, err;	/* the copies' fds 0, 1, 2 */
	int		  null;		/* /dev/null */
	int		  jobs;		/* records directory */
	int		  caller;	/* -D: pidfd of who ran pspawn */
	int		  verdict[2];	/* keeper -> pspawn: the exit code */
	pid_t		 *pids;
	unsigned long long *starts;
	int		  alive;	/* copies not yet reaped */
	pid_t		  keeper;
	char		**envp;		/* the copies' environment */
	char		  index_var[24];/* PKIT_INDEX=N, in envp */
	sigset_t	  mask;		/* the signal mask to give the copies */
	struct sigaction  saved[4];	/* and the dispositions */
};

static const int keeper_ignores[4] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE };

static int	open_or_die(const char *path, int flags);
static void	keeper(struct spawn *, int, char *[]) __attribute__((noreturn));
static pid_t	start_copy(struct spawn *, int, int *);
static void	child(struct spawn *);
static char	**copy_env(struct spawn *);
static void	wait_copies(struct spawn *);
static void	wait_copies_daemon(struct spawn *);
static int	reap_one(struct spawn *, int);
static void	terminate(struct spawn *, int);
static void	usage(FILE *);

int
main(int argc, char *argv[])
{
	struct spawn s;
	char buf[16], **main_argv = argv;
	int main_argc = argc;
	const char *dir = NULL;
	unsigned char code;
	pid_t caller;
	ssize_t n;
	int ch;

	memset(&s, 0, sizeof(s));
	s.count = 1;
	s.in = s.out = s.err = -1;
	s.caller = -1;
	cli_gnu_opts(argc, argv, usage);
	while ((ch = getopt(argc, argv, "+C:De:hi:n:o:")) != -1) {
		switch (ch) {
		case 'C':
			dir = optarg;
			break;
		case 'D':
			s.daemon = 1;
			break;
		case 'e':
			s.err = open_or_die(optarg,
			    O_WRONLY | O_APPEND | O_CREAT);
			break;
		case 'h':
			cli_usage_help(usage);
		case 'i':
			s.in = open_or_die(optarg, O_RDONLY);
			break;
		case 'n':
			s.count = num_parse_or_die(optarg, 1, COUNT_MAX, "count");
			s.indexed = 1;
			break;
		case 'o':
			s.out = open_or_die(optarg,
			    O_WRONLY | O_APPEND | O_CREAT);
			break;
		default:
			cli_usage_error(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		cli_usage_error(usage);
	s.argv = argv;

	s.null = open_or_die("/dev/null", O_RDWR);
	if (s.in == -1)
		s.in = s.null;
	if (dir != NULL && chdir(dir) == -1)
		err(PKIT_EXIT_FAIL, "%s", dir);
	s.jobs = rundir_sub_or_die("jobs");
	caller = getppid();
	snprintf(buf, sizeof(buf), "%d", (int)caller);
	if (setenv("PKIT_PARENT", buf, 1) == -1 ||
	    (!s.indexed && unsetenv("PKIT_INDEX") == -1))
		err(PKIT_EXIT_FAIL, "environment");
	if (s.daemon) {
		/* Opened while we are its child, so it is the right one. */
		s.caller = syscall(SYS_pidfd_open, caller, 0);
		if (s.caller == -1 || getppid() != caller)
			err(PKIT_EXIT_FAIL, "pidfd_open: pid %d", (int)caller);
	}

	if (pipe2(s.verdict, O_CLOEXEC) == -1)
		err(PKIT_EXIT_FAIL, "pipe");
	switch (fork()) {
	case -1:
		err(PKIT_EXIT_FAIL, "fork");
	case 0:
		keeper(&s, main_argc, main_argv);
	}
	close(s.verdict[1]);
	do
		n = read(s.verdict[0], &code, 1);
	while (n == -1 && errno == EINTR);
	if (n != 1)
		errx(PKIT_EXIT_FAIL, "%s: keeper died before starting it",
		    argv[0]);
	return code;
}

static int
open_or_die(const char *path, int flags)
{
	int fd;

	if ((fd = open(path, flags | O_CLOEXEC, 0666)) == -1)
		err(PKIT_EXIT_FAIL, "%s", path);
	return fd;
}

/*
 * The keeper: start the copies, hand the pids and the verdict to pspawn,
 * then wait for every copy, recording each status before reaping it.
 */
static void
keeper(struct spawn *s, int argc, char *argv[])
{
	extern char **environ;
	struct sigaction ign;
	sigset_t chld;
	char *out, *o;
	unsigned char code = PKIT_EXIT_OK;
	size_t i;
	pid_t pid;
	int e;

	close(s->verdict[0]);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	for (i = 0; i < 4; i++)
		sigaction(keeper_ignores[i], &ign, &s->saved[i]);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	/* -D waits through a signalfd: SIGCHLD must stay pending. */
	sigprocmask(SIG_BLOCK, s->daemon ? &chld : NULL, &s->mask);
	s->keeper = getpid();

	s->pids = reallocarray(NULL, s->count, sizeof(*s->pids));
	s->starts = reallocarray(NULL, s->count, sizeof(*s->starts));
	out = o = reallocarray(NULL, s->count, 12);
	if (s->pids == NULL || s->starts == NULL || out == NULL ||
	    (s->envp = copy_env(s)) == NULL)
		err(PKIT_EXIT_FAIL, "keeper");
	for (i = 0; i < (size_t)s->count; i++) {
		if ((pid = start_copy(s, i + 1, &e)) == -1) {
			code = e;
			if (i == 0)
				break;
			continue;
		}
		s->pids[s->alive] = pid;
		s->starts[s->alive] = 0;
		if (jobrec_start_time(pid, &s->starts[s->alive]) == -1 ||
		    jobrec_put_running(s->jobs, pid, s->starts[s->alive]) == -1)
			warn("jobs/%d: cannot record", (int)pid);
		s->alive++;
		o += snprintf(o, 12, "%d\n", (int)pid);
	}
	if (o > out && write(STDOUT_FILENO, out, o - out) != o - out)
		code = code ? code : PKIT_EXIT_FAIL;
	free(out);
	/* Let pspawn go; hold nothing of its stdin and stdout, nor of its
	 * stderr unless the copies write there anyway (a pipe held open
	 * would keep a reader such as $(pspawn ... 2>&1) waiting). */
	dup2(s->null, STDIN_FILENO);
	dup2(s->null, STDOUT_FILENO);
	if (s->out != -1 && s->err != -1)
		dup2(s->null, STDERR_FILENO);
	if (write(s->verdict[1], &code, 1) != 1)
		_exit(PKIT_EXIT_FAIL);
	close(s->verdict[1]);
	if (s->in != s->null)
		close(s->in);
	if (s->out != -1)
		close(s->out);
	if (s->err != -1)
		close(s->err);
	close(s->null);

	/* The title overwrites the original argv strings: copy the name. */
	if ((o = strdup(s->argv[0])) != NULL) {
		setproctitle_init(argc, argv, environ);
		setproctitle("keeper %s", o);
		free(o);
	}
	if (s->daemon)
		wait_copies_daemon(s);
	else
		wait_copies(s);
	/* Pruning scans the directory: a big batch pays for it, small runs
	 * only now and then (one keeper in 64). */
	if (s->count >= 64 || (getpid() & 63) == 0)
		jobrec_prune(s->jobs);
	_exit(PKIT_EXIT_OK);
}

/*
 * The environment for the copies: ours, and with -n a PKIT_INDEX slot that
 * start_copy rewrites for each (a vforked child must not call setenv).
 */
static char **
copy_env(struct spawn *s)
{
	extern char **environ;
	char **env;
	size_t i, n;

	if (!s->indexed)
		return environ;
	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env = reallocarray(NULL, n + 2, sizeof(*env))) == NULL)
		return NULL;
	for (i = n = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "PKIT_INDEX=", 11) != 0)
			env[n++] = environ[i];
	env[n++] = s->index_var;
	env[n] = NULL;
	return env;
}

/*
 * Start copy INDEX with vfork: the keeper sleeps until the copy has
 * executed the command or failed to, and no page tables are copied.  The
 * verdict still comes through a close-on-exec pipe (lib/execpipe), not
 * through shared memory, so that it holds where vfork is only a fork
 * (valgrind, some emulators).  Its pid, or -1 with *code = 125/126/127.
 */
static pid_t
start_copy(struct spawn *s, int index, int *code)
{
	int fds[2], e;
	pid_t pid;

	if (s->indexed)
		snprintf(s->index_var, sizeof(s->index_var), "PKIT_INDEX=%d",
		    index);
	if (execpipe_open(fds) == -1) {
		warn("pipe");
		*code = PKIT_EXIT_FAIL;
		return -1;
	}
	if ((pid = vfork()) == -1) {
		warn("fork");
		close(fds[0]);
		close(fds[1]);
		*code = PKIT_EXIT_FAIL;
		return -1;
	}
	if (pid == 0) {
		child(s);
		e = errno;
		while (write(fds[1], &e, sizeof(e)) == -1 && errno == EINTR)
			;
		_exit(exec_errno_to_exit(e));
	}
	if ((e = execpipe_wait(fds)) != 0) {
		waitpid(pid, NULL, 0);
		*code = execpipe_report(s->argv[0], e);
		return -1;
	}
	return pid;
}

/* Move fd to target, or just clear close-on-exec if it is there already. */
static void
place(int fd, int target)
{
	if (fd == target)
		fcntl(fd, F_SETFD, 0);
	else
		dup2(fd, target);
}

/*
 * In the vforked copy: only system calls on our own process state, no
 * allocation, nothing the keeper's memory would notice; then exec.
 */
static void
child(struct spawn *s)
{
	size_t i;

	for (i = 0; i < 4; i++)
		sigaction(keeper_ignores[i], &s->saved[i], NULL);
	sigprocmask(SIG_SETMASK, &s->mask, NULL);
	if (s->daemon) {
		/* If the keeper itself is killed, nobody would end us. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != s->keeper) {
			errno = ESRCH;
			return;
		}
	}
	place(s->in, STDIN_FILENO);
	place(s->out != -1 ? s->out : STDERR_FILENO, STDOUT_FILENO);
	if (s->err != -1)
		place(s->err, STDERR_FILENO);
	execvpe(s->argv[0], s->argv, s->envp);
}

/* Block until every copy has ended, recording each. */
static void
wait_copies(struct spawn *s)
{
	while (s->alive > 0 && reap_one(s, 0) != -1)
		;
}

/*
 * -D: wait for the copies and for the caller at once (a signalfd for
 * SIGCHLD, the caller's pidfd); when the caller goes, SIGTERM the copies,
 * and SIGKILL those left after the grace period.
 */
static void
wait_copies_daemon(struct spawn *s)
{
	struct signalfd_siginfo ssi;
	struct pollfd pfd[2];
	sigset_t chld;
	int64_t kill_at = -1;
	int sfd;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if ((sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		err(PKIT_EXIT_FAIL, "signalfd");
	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = s->caller;
	pfd[1].events = POLLIN;
	for (;;) {
		while (reap_one(s, WNOHANG) > 0)
			;
		if (s->alive == 0)
			break;
		if (poll(pfd, 2, deadline_ms(kill_at)) == -1) {
			if (errno == EINTR)
				continue;
			err(PKIT_EXIT_FAIL, "poll");
		}
		if (pfd[0].revents & POLLIN)
			while (read(sfd, &ssi, sizeof(ssi)) > 0)
				;
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			terminate(s, SIGTERM);
			kill_at = mono_now() + GRACE_NS;
			pfd[1].fd = -1;
		} else if (kill_at >= 0 && mono_now() >= kill_at) {
			terminate(s, SIGKILL);
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
reap_one(struct spawn *s, int flags)
{
	siginfo_t si;
	int i;

	memset(&si, 0, sizeof(si));
	while (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | flags) == -1)
		if (errno != EINTR)
			return -1;
	if (si.si_pid == 0)
		return 0;
	for (i = 0; i < s->alive; i++)
		if (s->pids[i] == si.si_pid)
			break;
	if (i < s->alive) {
		if (jobrec_put_status(s->jobs, si.si_pid, s->starts[i],
		    si.si_code, si.si_status) == -1)
			warn("jobs/%d: cannot record", (int)si.si_pid);
		/* Keep the table dense: the last live copy takes the slot. */
		s->alive--;
		s->pids[i] = s->pids[s->alive];
		s->starts[i] = s->starts[s->alive];
	}
	while (waitpid(si.si_pid, NULL, 0) == -1 && errno == EINTR)
		;
	return 1;
}

/* Signal every copy not yet reaped: our own children, so never recycled. */
static void
terminate(struct spawn *s, int sig)
{
	int i;

	for (i = 0; i < s->alive; i++)
		if (s->pids[i] > 1)
			kill(s->pids[i], sig);
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: pspawn [-D] [-n COUNT] [-o FILE] [-e FILE] "
	    "[-i FILE] [-C DIR] CMD [ARG...]\n");
	fputs("\n"
	    "  -D             daemonic: CMD is killed when the caller exits\n"
	    "  -n COUNT       start COUNT copies, each told PKIT_INDEX\n"
	    "  -o FILE        append CMD's stdout to FILE\n"
	    "  -e FILE        append CMD's stderr to FILE\n"
	    "  -i FILE        read CMD's stdin from FILE\n"
	    "  -C DIR         run CMD in DIR\n", fp);
}
