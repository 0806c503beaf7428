/* SPDX-License-Identifier: ISC */
/*
 * daemonize.c: the phases of pdaemon(1).
 *
 * Start.  The caller locks the pidfile (pidfile_open(3)) and opens the log
 * and the working directory itself, so that "already running" and
 * unwritable paths reach it with the right exit status.  It then forks a
 * child that calls setsid(2) and forks the daemon before exiting: the
 * daemon is an orphan in a new session it does not lead, so it can never
 * acquire a controlling terminal.  The daemon reports back through a
 * close-on-exec pipe: its pid first, then - only if the exec failed - the
 * errno (negated: a supervisor's own failure to fork, not CMD's).  End of
 * file right after the pid means CMD runs; after an errno it means the
 * daemon is gone, and the caller removes the pidfile.  A supervisor sets
 * itself up before it sends the pid, so that its failures are said on
 * the caller's stderr.
 *
 * Which pid the pidfile names.  Without -r the daemon execs CMD itself:
 * the pidfile names CMD, and CMD holds the lock through the descriptor it
 * inherits.  Nothing is left to remove the file when CMD exits by itself;
 * it stays, unlocked, and reads as not running (pdaemon -k removes it, a
 * new start takes it over).  With -r the daemon is a supervisor: the
 * pidfile names it, only it holds the lock, it restarts CMD with backoff,
 * forwards signals, and removes the file when it stops.  CMD is started
 * through lib/spawn, pinned pids through lib/proc's pidref.
 *
 * Readiness (-w, -W).  The listener is CMD's parent, which alone can
 * reap it and so learn its status: without -r the session leader (the
 * first child), which then stays until CMD is ready instead of exiting
 * at once; with -r the supervisor, for the first run.  It opens the
 * channels of lib/ready before the fork, waits for READY=1 or a newline,
 * CMD's exit or the deadline, and sends the caller a verdict on a pipe
 * of its own.  After the deadline it stops CMD itself (SIGTERM, SIGKILL
 * after DAEMON_READY_GRACE); on any verdict but "ready" the caller stops
 * what still holds the pidfile's lock, then removes the file.  Once
 * ready, the channels are closed: later notifications go nowhere, and
 * restarted runs get neither NOTIFY_SOCKET nor the descriptor.
 *
 * Privilege drop (-u).  Everything is opened as the caller (root); the
 * groups, gid and uid change last, in the process that execs CMD.  A
 * supervisor stays root, so that it can reopen the log and remove the
 * pidfile, and every run of CMD drops them.
 *
 * Tier: tool body (pdaemon's phases).  Each phase says what went wrong
 * with warn(3), on the caller's stderr or, once detached, on the log, and
 * returns pdaemon's exit code; it never exits the calling process (the
 * processes it forks end themselves with _exit).
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <libutil.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemonize.h"
#include "dur.h"
#include "execpipe.h"
#include "exitcode.h"
#include "parse.h"
#include "pidlock.h"
#include "proc.h"
#include "ready.h"
#include "spawn.h"

#define LOCK_RETRY_NS	((int64_t)500 * 1000 * 1000)
#define KILL_WAIT_NS	((int64_t)10 * 1000 * 1000 * 1000)

struct start {
	const struct daemon_conf *conf;
	struct pidfh	*pfh;
	char		 pidpath[PATH_MAX];
	char		 logpath[PATH_MAX];
	int		 logfd;
	int		 nullfd;
	int		 dirfd;
	int		 report[2];
	int		 waiting;	/* -w or -W */
	int		 verdict[2];	/* the listener's verdict, to the caller */
	struct ready	 ready;		/* the channels CMD reports on */
	int		 stopping;	/* supervisor: SIGTERM or SIGINT came */
};

/* What the listener tells the caller; status is a wait status. */
#define VERDICT_READY	0
#define VERDICT_EXITED	1
#define VERDICT_TIMEOUT	2
struct verdict {
	int	what;
	int	status;
};

static int	start_lock(struct start *);
static int	start_open(struct start *);
static void	start_abort(struct start *);
static void	start_undo(struct start *, pid_t);
static void	start_kill(struct start *, pid_t);
static void	daemon_child(struct start *) __attribute__((noreturn));
static void	supervise(struct start *) __attribute__((noreturn));
static void	supervise_setup(struct start *);
static int	supervise_wait(struct start *, pid_t);
static int	supervise_pause(struct start *, int64_t);
static int	supervise_signal(struct start *, int64_t);
static void	supervise_ready(struct start *, struct spawn_opts *, pid_t,
		    const char *);
static void	ready_listen(struct start *, pid_t) __attribute__((noreturn));
static int	ready_wait(struct start *, pid_t, int *);
static void	ready_stop(pid_t);
static void	ready_tell(struct start *, const struct verdict *, pid_t);
static int	ready_report(struct start *, const struct verdict *, int);
static int	verdict_exit(const struct verdict *);
static void	ready_env(struct start *);
static const char *cmd_name(const struct daemon_conf *);
static int	status_verbose(pid_t);
static int	status_line(const char *, pid_t);
static void	log_pump(void);
static void	log_reopen(struct start *);
static int	stop_remnants(const char *, struct pidlock *, int64_t);
static void	held_by_others(const char *, const struct pidlock *);
static int	stop_pinned(struct pidref *, int64_t);
static int	probe_failed(const char *, const char *);
static void	log_line(const char *, ...) __attribute__((format(printf, 1, 2)));
static void	status_text(int, char *, size_t);
static int	path_absolute(const char *, char *, size_t);
static ssize_t	read_full(int, void *, size_t);
static int	write_full(int, const void *, size_t);

static sigset_t	supervised;	/* the signals the supervisor waits for */
static int	sigfd = -1;	/* ... through this signalfd */
static int	pipefd = -1;	/* with -o: CMD's output, read end */
static int	pipeout = -1;	/* ... and its write end, for CMD */
static char	pipebuf[65536];	/* what of it is not on the log yet */
static size_t	pipelen;
static sigset_t	all_signals, no_signals;

int
daemon_start(const struct daemon_conf *conf)
{
	struct start s;
	pid_t c1, pid;
	int r, e;

	memset(&s, 0, sizeof(s));
	s.conf = conf;
	proc_children_ours();	/* the start and the supervisor wait */
	sigfillset(&all_signals);
	sigemptyset(&no_signals);
	s.logfd = s.nullfd = s.dirfd = s.report[0] = s.report[1] = -1;
	s.verdict[0] = s.verdict[1] = -1;
	s.ready.sock = s.ready.rfd = s.ready.wfd = -1;
	s.waiting = conf->notify || conf->readyfd > 0;
	if ((r = start_lock(&s)) != 0)
		return r;
	if ((r = start_open(&s)) != 0) {
		start_abort(&s);
		return r;
	}
	fflush(stdout);
	fflush(stderr);
	if ((c1 = fork()) == -1) {
		warn("fork");
		start_abort(&s);
		return PKIT_EXIT_FAIL;
	}
	if (c1 == 0) {
		close(s.report[0]);
		if (s.verdict[0] != -1)
			close(s.verdict[0]);
		if (setsid() == -1) {
			warn("setsid");
			_exit(PKIT_EXIT_FAIL);
		}
		switch (pid = fork()) {
		case -1:
			warn("fork");
			_exit(PKIT_EXIT_FAIL);
		case 0:
			daemon_child(&s);
		}
		/* Without a supervisor, CMD's parent listens: us. */
		if (s.waiting && !conf->restart)
			ready_listen(&s, pid);
		_exit(PKIT_EXIT_OK);
	}
	close(s.report[1]);
	s.report[1] = -1;
	if (s.waiting) {
		close(s.verdict[1]);
		s.verdict[1] = -1;
		ready_close(&s.ready);
	}
	while (waitpid(c1, NULL, 0) == -1 && errno == EINTR)
		;
	if (read_full(s.report[0], &pid, sizeof(pid)) != sizeof(pid)) {
		/*
		 * The daemon is gone before it said its pid: it said why on
		 * our stderr, or (-w, -W) the listener stopped it there, at
		 * a deadline already past (-t 0), and its verdict says so.
		 * Either way CMD never ran.
		 */
		struct verdict v;

		r = PKIT_EXIT_FAIL;
		if (s.waiting && read_full(s.verdict[0], &v, sizeof(v)) ==
		    sizeof(v) && v.what == VERDICT_TIMEOUT)
			r = ready_report(&s, &v, 0);
		start_abort(&s);
		return r;
	}
	if (read_full(s.report[0], &e, sizeof(e)) == sizeof(e)) {
		/* Exec failed.  End of file: the daemon has exited. */
		while (read_full(s.report[0], &r, sizeof(r)) > 0)
			;
		start_abort(&s);
		if (e < 0) {	/* the supervisor's fork failed, not CMD */
			warnx("%s: cannot start: %s", conf->argv[0],
			    strerror(-e));
			return PKIT_EXIT_FAIL;
		}
		return execpipe_report(conf->argv[0], e);
	}
	close(s.report[0]);
	s.report[0] = -1;
	if (s.waiting) {
		struct verdict v;

		r = read_full(s.verdict[0], &v, sizeof(v)) == sizeof(v);
		/* Until the listener has gone, with what it stopped. */
		while (read_full(s.verdict[0], &e, sizeof(e)) > 0)
			;
		if ((r = ready_report(&s, r ? &v : NULL, (int)pid)) != 0) {
			start_undo(&s, pid);
			start_abort(&s);
			return r;
		}
	}
	/* A reader gone is EPIPE here, not our death with the daemon up. */
	signal(SIGPIPE, SIG_IGN);
	if (printf("%ld\n", (long)pid) < 0 || fflush(stdout) == EOF) {
		/* Nobody learns its pid: a failure leaves nothing running. */
		e = errno;
		start_kill(&s, pid);
		start_abort(&s);
		warnx("stdout: %s: %s stopped", strerror(e), conf->argv[0]);
		return PKIT_EXIT_FAIL;
	}
	/* Our descriptor only: the daemon's copy keeps the lock. */
	if (s.pfh != NULL)
		pidfile_close(s.pfh);
	return PKIT_EXIT_OK;
}

/*
 * Take the pidfile's lock, or say who has it.  pidfile_open(3) answers
 * EEXIST whenever the lock is busy, even for an instant (a probe, a stop
 * removing a stale file): believe "already running" only when the probe
 * finds a live holder, and otherwise try again for a while.
 */
static int
start_lock(struct start *s)
{
	struct pidlock pl;
	struct stat mine, st;
	const char *why, *path = s->conf->pidfile;
	int64_t deadline;
	mode_t mask;
	int fd, state;

	if (path == NULL)
		return 0;
	if (path_absolute(path, s->pidpath, sizeof(s->pidpath)) == -1) {
		warn("%s", safe(path));
		return PKIT_EXIT_FAIL;
	}
	/*
	 * pidfile_open(3) follows symlinks: open the path ourselves first,
	 * O_NOFOLLOW and vetted (pidlock_open_safe), then make sure it
	 * opened that same file.  Created mode 0644 whatever the caller's
	 * umask, as pdaemon(1) says: readable by all, to -s and -k.
	 */
	mask = umask(022);
	fd = pidlock_open_safe(s->pidpath, O_WRONLY | O_CREAT | O_NONBLOCK,
	    0644, &mine, &why);
	umask(mask);
	if (fd == -1) {
		warnx("%s: %s", safe(path), why);
		return PKIT_EXIT_FAIL;
	}
	if (!S_ISREG(mine.st_mode)) {
		warnx("%s: not a regular file; refused", safe(path));
		close(fd);
		return PKIT_EXIT_FAIL;
	}
	close(fd);
	deadline = mono_now() + LOCK_RETRY_NS;
	/* No pid pointer: libbsd would read it and fail on garbage. */
	while ((s->pfh = pidfile_open(s->pidpath, 0644, NULL)) == NULL) {
		if (errno != EEXIST) {
			warn("%s", safe(path));
			return PKIT_EXIT_FAIL;
		}
		state = pidlock_probe(s->pidpath, &pl, &why);
		pidlock_close(&pl);
		if (state == PIDLOCK_RUNNING) {
			warnx("%s: already running, pid %ld", safe(path),
			    (long)pl.pid);
			return PKIT_EXIT_NO;
		}
		if (state == PIDLOCK_ERROR)
			return probe_failed(path, why);
		if (mono_now() > deadline) {
			warnx("%s: locked by another process", safe(path));
			return PKIT_EXIT_NO;
		}
		usleep(10 * 1000);
	}
	if (fstat(pidfile_fileno(s->pfh), &st) == -1 ||
	    st.st_dev != mine.st_dev || st.st_ino != mine.st_ino) {
		warnx("%s: replaced while opening it; refused", safe(path));
		return PKIT_EXIT_FAIL;
	}
	/* libbsd leaves it inheritable: only a chainloaded CMD may have it. */
	if (fcntl(pidfile_fileno(s->pfh), F_SETFD, FD_CLOEXEC) == -1) {
		warn("%s", safe(path));
		return PKIT_EXIT_FAIL;
	}
	return 0;
}

/* Open the log, /dev/null, the directory and the report pipe. */
static int
start_open(struct start *s)
{
	const char *dir = s->conf->dir != NULL ? s->conf->dir : "/";
	const char *why;
	struct stat st;

	/* Never through a symlink, nor planted by a neighbour (pidlock.h). */
	if (s->conf->logfile != NULL) {
		if (path_absolute(s->conf->logfile, s->logpath,
		    sizeof(s->logpath)) == -1) {
			warn("%s", safe(s->conf->logfile));
			return PKIT_EXIT_FAIL;
		}
		s->logfd = pidlock_open_safe(s->conf->logfile, O_WRONLY |
		    O_APPEND | O_CREAT, 0644, &st, &why);
		if (s->logfd == -1) {
			warnx("%s: %s", safe(s->conf->logfile), why);
			return PKIT_EXIT_FAIL;
		}
	}
	if ((s->nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		warn("/dev/null");
		return PKIT_EXIT_FAIL;
	}
	if (s->logfd == -1 && (s->logfd = dup(s->nullfd)) == -1) {
		warn("dup");
		return PKIT_EXIT_FAIL;
	}
	if ((s->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		warn("%s", safe(dir));
		return PKIT_EXIT_FAIL;
	}
	if (execpipe_open(s->report) == -1) {
		warn("pipe");
		return PKIT_EXIT_FAIL;
	}
	if (!s->waiting)
		return 0;
	if (pipe2(s->verdict, O_CLOEXEC) == -1) {
		warn("pipe");
		return PKIT_EXIT_FAIL;
	}
	if (ready_open(&s->ready, s->conf->notify, s->conf->readyfd > 0)
	    == -1) {
		warn(s->conf->notify ? "notify socket" : "pipe");
		return PKIT_EXIT_FAIL;
	}
	return 0;
}

/*
 * The caller's side of the verdict (NULL: the listener died without
 * one): 0 if CMD is ready, else say why not and return the exit status.
 */
static int
ready_report(struct start *s, const struct verdict *v, int pid)
{
	char how[64];
	const char *cmd = s->conf->argv[0];

	if (v == NULL) {
		warnx("%s: pid %d: lost before it was ready", cmd, pid);
		return PKIT_EXIT_FAIL;
	}
	switch (v->what) {
	case VERDICT_READY:
		return PKIT_EXIT_OK;
	case VERDICT_EXITED:
		status_text(v->status, how, sizeof(how));
		warnx("%s: %s before it was ready", cmd, how);
		return verdict_exit(v);
	case VERDICT_TIMEOUT:
		warnx("%s: not ready within %gs: stopped", cmd,
		    s->conf->ready_timeout / 1e9);
		return verdict_exit(v);
	}
	warnx("%s: pid %d: lost before it was ready", cmd, pid);
	return PKIT_EXIT_FAIL;
}

/*
 * The exit status of a start that was not ready: 124 at the deadline,
 * else CMD's status (128 + N for a signal), but never 0: a CMD that
 * exits 0 before it is ready never was, and that is 1.
 */
static int
verdict_exit(const struct verdict *v)
{
	int code;

	if (v->what == VERDICT_TIMEOUT)
		return PKIT_EXIT_TIMEOUT;
	code = status_to_exit(v->status);
	return code != PKIT_EXIT_OK ? code : PKIT_EXIT_NO;
}

/* Undo a start that did not happen: remove the pidfile, close the rest. */
static void
start_abort(struct start *s)
{
	int *fds[] = { &s->logfd, &s->nullfd, &s->dirfd, &s->report[0],
	    &s->report[1], &s->verdict[0], &s->verdict[1] };
	size_t i;

	if (s->pfh != NULL)
		pidfile_remove(s->pfh);
	s->pfh = NULL;
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] != -1) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	ready_close(&s->ready);
}

/*
 * Undo a start that ran CMD (pid PID in the pidfile) but failed.  Before
 * the pidfile goes, stop what still holds its lock: children of CMD that
 * inherited its descriptor, as pdaemon -k does (stop_remnants).  Removed
 * under them, the file let the next start run a second instance beside
 * them.  start_abort does the rest (and removes a file we did not).
 */
static void
start_undo(struct start *s, pid_t pid)
{
	struct pidlock pl;
	struct stat st;
	int r;

	if (s->pfh == NULL)
		return;
	pl.pid = pid;
	pl.ref.pid = 0;
	pl.ref.fd = -1;
	pl.fd = open(s->pidpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NOCTTY | O_NONBLOCK);
	if (pl.fd == -1 || fstat(pl.fd, &pl.st) == -1 ||
	    fstat(pidfile_fileno(s->pfh), &st) == -1 ||
	    st.st_dev != pl.st.st_dev || st.st_ino != pl.st.st_ino) {
		pidlock_close(&pl);
		return;
	}
	/* Our descriptor shares the daemon's lock: let go of it first. */
	pidfile_close(s->pfh);
	s->pfh = NULL;
	if ((r = stop_remnants(s->pidpath, &pl, DAEMON_READY_GRACE)) == -1)
		warn("%s", safe(s->conf->pidfile));
	else if (r == 1)
		warnx("%s: still locked by another process; left in place",
		    safe(s->conf->pidfile));
	pidlock_close(&pl);
}

/*
 * Stop the daemon PID that was started but cannot be reported: SIGTERM,
 * SIGKILL after DAEMON_READY_GRACE (a supervisor stops CMD and removes
 * the pidfile itself), then start_undo for what holds the pidfile still.
 */
static void
start_kill(struct start *s, pid_t pid)
{
	struct pidref ref;

	if (pid > 1 && pidref_open(&ref, pid) == 0) {
		stop_pinned(&ref, DAEMON_READY_GRACE);
		pidref_close(&ref);
	}
	start_undo(s, pid);
}

/*
 * The daemon: settle, write the pidfile, take the log as stdout (a
 * supervisor sets itself up), report the pid, take the log as stderr
 * too, then exec CMD (or supervise it with -r).  Until then, errors
 * still go to the caller's stderr.
 */
static void
daemon_child(struct start *s)
{
	pid_t pid = getpid();
	int e;

	umask(022);
	if (fchdir(s->dirfd) == -1) {
		warn("%s", safe(s->conf->dir != NULL ? s->conf->dir : "/"));
		_exit(PKIT_EXIT_FAIL);
	}
	/* Default dispositions and an empty mask, as a fresh daemon wants. */
	spawn_signals(&all_signals, &no_signals);
	if (s->pfh != NULL && pidfile_write(s->pfh) == -1) {
		warn("%s", safe(s->conf->pidfile));
		_exit(PKIT_EXIT_FAIL);
	}
	if (dup2(s->nullfd, STDIN_FILENO) == -1 ||
	    dup2(s->logfd, STDOUT_FILENO) == -1)
		_exit(PKIT_EXIT_FAIL);
	/* Everything else the caller had was closed before we opened these. */
	close(s->nullfd);
	close(s->logfd);
	close(s->dirfd);
	if (s->conf->restart)
		supervise_setup(s);
	if (write_full(s->report[1], &pid, sizeof(pid)) == -1 ||
	    dup2(STDOUT_FILENO, STDERR_FILENO) == -1)
		_exit(PKIT_EXIT_FAIL);
	if (s->conf->restart)
		supervise(s);
	ready_env(s);
	if (s->verdict[1] != -1)
		close(s->verdict[1]);
	if ((s->pfh != NULL &&
	    fcntl(pidfile_fileno(s->pfh), F_SETFD, 0) == -1) ||
	    (s->ready.wfd != -1 &&
	    dup2(s->ready.wfd, s->conf->readyfd) == -1) ||
	    (s->conf->user != NULL && spawn_user_drop(s->conf->user) == -1))
		e = errno;
	else {
		execvp(s->conf->argv[0], s->conf->argv);
		e = errno;
	}
	write_full(s->report[1], &e, sizeof(e));
	_exit(exec_errno_to_exit(e));
}

/*
 * -r, -R: run CMD, and run it again when it fails (-r: a non-zero exit
 * or a signal) or whenever it exits (-R), after a pause that doubles from
 * 0.1 s up to 30 s and starts over after a healthy minute.  A clean exit
 * under -r ends the supervision.  A crash loop - loop_max failures within
 * loop_window (-L, default 5 within 10 s) - ends it too, with exit 1.
 * Each start, exit and restart is a stamped line on the log, with the
 * status and how long CMD ran; the pidfile is removed whenever we end.
 *
 * Signals: SIGTERM and SIGINT are passed on to CMD and stop us once it has
 * exited.  SIGHUP: with -o we reopen LOGFILE (logrotate's postrotate) and
 * CMD does not see it; without -o it is passed on to CMD.  The signals are
 * blocked and read from a signalfd(2), so none is lost between two waits.
 *
 * The log with -o: CMD's stdout and stderr are a pipe that we copy to
 * LOGFILE, whole lines at a time, so that a reopen takes effect for CMD
 * at once and no line is split or lost across the rotation.
 */
static void
supervise(struct start *s)
{
	struct spawn_opts run;
	int64_t fails[DAEMON_LOOP_CAP];
	char how[64];
	const char *name;
	int64_t next = DAEMON_BACKOFF_MIN, began, ran, delay;
	pid_t child;
	int e, r, status, first = 1, nfails = 0, failed;
	int code = PKIT_EXIT_OK;

	name = cmd_name(s->conf);
	setproctitle("%s", name);
	/* See ready_tell; CMD gets it back at its default (run.dfl). */
	signal(SIGPIPE, SIG_IGN);

	/*
	 * CMD dies with us: a supervisor killed with SIGKILL, as pdaemon -k
	 * does after its grace period, takes CMD along.
	 */
	spawn_opts_init(&run);
	run.flags = SPAWN_DIE_WITH_PARENT;
	run.dfl = &all_signals;
	run.mask = &no_signals;
	run.user = s->conf->user;
	/* The first run only: the channels close once it is ready. */
	ready_env(s);
	run.xfd = s->ready.wfd;
	run.xfd_at = s->conf->readyfd;
	if (pipeout != -1)
		run.fd[1] = run.fd[2] = pipeout;
	for (;;) {
		began = mono_now();
		r = spawn_start(&run, s->conf->argv, &child);
		e = r == 0 ? 0 : errno;
		if (first) {
			if (r == SPAWN_ERROR) {
				/* Not CMD's exec: ours (fork), a 125. */
				e = -e;
				write_full(s->report[1], &e, sizeof(e));
				_exit(PKIT_EXIT_FAIL);
			}
			if (e != 0) {
				write_full(s->report[1], &e, sizeof(e));
				_exit(exec_errno_to_exit(e));
			}
			close(s->report[1]);
			first = 0;
		}
		if (e != 0)
			log_line("%s: %s: %s", name, s->conf->argv[0],
			    strerror(e));
		else
			log_line("%s: started, pid %ld", name, (long)child);
		if (r == 0 && s->waiting)
			supervise_ready(s, &run, child, name);
		if (r == 0)
			status = supervise_wait(s, child);
		else	/* as if CMD had run and failed at once */
			status = (r == SPAWN_NOEXEC ? exec_errno_to_exit(e) :
			    PKIT_EXIT_FAIL) << 8;
		/*
		 * All CMD wrote is in the pipe once it has exited: on the log
		 * before the line that says how it ended.
		 */
		log_pump();
		if (s->stopping)
			break;
		ran = mono_now() - began;
		status_text(status, how, sizeof(how));
		failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
		if (!failed && s->conf->restart == DAEMON_RESTART_FAILURE) {
			log_line("%s: pid %ld %s after %.1fs, not restarting "
			    "(-r restarts on failure only)", name, (long)child,
			    how, ran / 1e9);
			break;
		}
		if (failed && daemon_crashloop(fails, s->conf->loop_max,
		    s->conf->loop_window, &nfails, mono_now())) {
			log_line("%s: pid %ld %s after %.1fs: %d failures "
			    "within %.1fs, a crash loop: giving up", name,
			    (long)child, how, ran / 1e9, s->conf->loop_max,
			    s->conf->loop_window / 1e9);
			code = PKIT_EXIT_NO;
			break;
		}
		delay = daemon_backoff(&next, ran);
		log_line("%s: pid %ld %s after %.1fs, restarting in %.1fs",
		    name, (long)child, how, ran / 1e9, delay / 1e9);
		if (supervise_pause(s, delay))
			break;
		log_line("%s: restarting", name);
	}
	/*
	 * The log is whole before the pidfile goes: a caller that waits for
	 * it to go, then reads the log, finds CMD's last lines there.
	 */
	log_pump();
	log_line("%s: stopped", name);
	if (pipelen > 0)	/* a last line without its newline */
		write_full(STDOUT_FILENO, pipebuf, pipelen);
	if (s->pfh != NULL)
		pidfile_remove(s->pfh);
	_exit(code);
}

/*
 * The supervisor's own set-up: its signals blocked and read from a
 * signalfd, and with -o the pipe CMD writes its output to.  Done in the
 * daemon before it reports its pid, while its stderr is still the
 * caller's: a failure is said there, with its cause, and is a 125, not
 * taken for a failed exec of CMD (126).
 */
static void
supervise_setup(struct start *s)
{
	int out[2];

	sigemptyset(&supervised);
	sigaddset(&supervised, SIGTERM);
	sigaddset(&supervised, SIGINT);
	sigaddset(&supervised, SIGHUP);
	sigaddset(&supervised, SIGCHLD);
	sigprocmask(SIG_BLOCK, &supervised, NULL);
	if ((sigfd = signalfd(-1, &supervised, SFD_CLOEXEC)) == -1) {
		warn("signalfd");
		_exit(PKIT_EXIT_FAIL);
	}
	if (s->conf->logfile == NULL)
		return;
	if (pipe2(out, O_CLOEXEC) == -1 ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) == -1) {
		warn("pipe");
		_exit(PKIT_EXIT_FAIL);
	}
	pipefd = out[0];
	pipeout = out[1];
}

/*
 * -w, -W under a supervisor: wait until the first run of CMD is ready and
 * tell the caller; then close the channels, so that later runs start
 * without them.  Not ready (it exited, or the deadline passed and we
 * stopped it): the supervision ends here, the caller removes the pidfile.
 */
static void
supervise_ready(struct start *s, struct spawn_opts *run, pid_t child,
    const char *name)
{
	struct verdict v;

	unsetenv("NOTIFY_SOCKET");
	run->xfd = -1;
	close(s->ready.wfd);
	s->ready.wfd = -1;
	s->waiting = 0;
	memset(&v, 0, sizeof(v));
	v.what = ready_wait(s, child, &v.status);
	ready_close(&s->ready);
	if (v.what == VERDICT_TIMEOUT)
		ready_stop(child);
	if (v.what != VERDICT_READY)
		log_line("%s: stopped", name);
	ready_tell(s, &v, getpid());
	if (v.what != VERDICT_READY) {
		log_pump();
		_exit(verdict_exit(&v));
	}
	close(s->verdict[1]);
	s->verdict[1] = -1;
}

/*
 * -w, -W without a supervisor, in CMD's parent (the session leader): wait
 * for the verdict, send it to the caller, and go.
 */
static void
ready_listen(struct start *s, pid_t child)
{
	struct verdict v;

	close(s->report[1]);
	close(s->ready.wfd);
	s->ready.wfd = -1;
	signal(SIGPIPE, SIG_IGN);	/* see ready_tell */
	/* Our lines (STATUS=, ready) go where CMD's go. */
	if (dup2(s->logfd, STDERR_FILENO) == -1)
		_exit(PKIT_EXIT_FAIL);
	memset(&v, 0, sizeof(v));
	v.what = ready_wait(s, child, &v.status);
	if (v.what == VERDICT_TIMEOUT)
		ready_stop(child);
	if (v.what != VERDICT_READY)
		log_line("%s: stopped", cmd_name(s->conf));
	ready_tell(s, &v, child);
	_exit(PKIT_EXIT_OK);
}

/*
 * The listener's end of the wait: send the caller the verdict V.  If the
 * caller is gone (killed, or ended by a timeout(1) around it), the write
 * fails with EPIPE - SIGPIPE is ignored, or it would kill a supervisor,
 * and CMD with it - and we do what the caller would have: a ready CMD
 * runs on, as it does once told; one that is not is undone here (PID:
 * the pid in the pidfile).
 */
static void
ready_tell(struct start *s, const struct verdict *v, pid_t pid)
{
	if (write_full(s->verdict[1], v, sizeof(*v)) == 0)
		return;
	if (v->what == VERDICT_READY) {
		log_line("%s: ready, but the pdaemon that started it is gone: "
		    "running on", cmd_name(s->conf));
		return;
	}
	start_undo(s, pid);
	if (s->pfh != NULL)
		pidfile_remove(s->pfh);
	s->pfh = NULL;
}

/*
 * Wait until CHILD (CMD, our child) says it is ready, exits (*status is
 * its wait status) or the -t deadline passes: a VERDICT_*.  Meanwhile
 * CMD's output is copied to the log and a supervisor's signals are
 * handled as supervise_wait does: SIGTERM, SIGINT (and SIGHUP without
 * -o) are passed on to CMD, and SIGTERM and SIGINT end the supervision once
 * CMD has exited.
 */
static int
ready_wait(struct start *s, pid_t child, int *status)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[5];
	const char *name = cmd_name(s->conf);
	int64_t deadline = mono_now() + s->conf->ready_timeout;
	int pidfd, n, i = VERDICT_READY, what, timeout;

	s->ready.cmd = child;
	/* A wakeup when CMD ends; without pidfds, look every 20 ms. */
	pidfd = proc_pidfd_open(child);
	for (;;) {
		if (waitpid(child, status, WNOHANG) == child) {
			if (pidfd != -1)
				close(pidfd);
			return VERDICT_EXITED;
		}
		if ((timeout = deadline_ms(deadline)) == 0) {
			if (pidfd != -1)
				close(pidfd);
			log_line("%s: not ready within %gs", name,
			    s->conf->ready_timeout / 1e9);
			return VERDICT_TIMEOUT;
		}
		if (pidfd == -1 && (timeout < 0 || timeout > 20))
			timeout = 20;
		n = 0;
		pfd[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = pipefd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = s->ready.sock,
		    .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = s->ready.rfd,
		    .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		if (poll(pfd, (nfds_t)n, timeout) <= 0)
			continue;
		if (pfd[1].revents != 0)
			log_pump();
		if (pfd[0].revents & POLLIN &&
		    read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP && pipefd != -1)
				log_reopen(s);
			else if (si.ssi_signo != SIGCHLD && child > 1)
				kill(child, (int)si.ssi_signo);
			/* Remembered: a CMD that gets ready and then exits
			 * is not restarted, as supervise_wait's is not. */
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
				s->stopping = 1;
		}
		if (pfd[2].revents & POLLIN) {
			what = ready_notify_read(&s->ready);
			if (what & READY_REFUSED)
				log_line("%s: notification from pid %ld, "
				    "not of pid %ld's processes: ignored", name,
				    (long)s->ready.sender, (long)child);
			if (what & READY_MAINPID)
				log_line("%s: main pid %ld", name,
				    (long)s->ready.mainpid);
			if (what & READY_STATUS)
				log_line("%s: status: %s", name,
				    s->ready.status);
			if (what & READY_YES) {
				log_line("%s: ready (READY=1 from pid %ld)",
				    name, (long)s->ready.sender);
				i = VERDICT_READY;
				break;
			}
		}
		if (pfd[3].revents != 0 && ready_fd_read(&s->ready) == 1) {
			log_line("%s: ready (a newline on descriptor %d)",
			    name, s->conf->readyfd);
			i = VERDICT_READY;
			break;
		}
	}
	if (pidfd != -1)
		close(pidfd);
	return i;
}

/* Stop CHILD, which was not ready in time: SIGTERM, then SIGKILL. */
static void
ready_stop(pid_t child)
{
	int64_t deadline = mono_now() + DAEMON_READY_GRACE;

	/* Our own unreaped child: its pid cannot have been reused. */
	if (child <= 1)
		return;
	kill(child, SIGTERM);
	while (waitpid(child, NULL, WNOHANG) == 0) {
		if (mono_now() > deadline) {
			kill(child, SIGKILL);
			while (waitpid(child, NULL, 0) == -1 && errno == EINTR)
				;
			return;
		}
		usleep(10 * 1000);
	}
}

/* For the process about to exec CMD: NOTIFY_SOCKET with -w. */
static void
ready_env(struct start *s)
{
	if (s->ready.sock != -1)
		setenv("NOTIFY_SOCKET", s->ready.name, 1);
}

/* CMD's name in the log: -T, else the last component of CMD. */
static const char *
cmd_name(const struct daemon_conf *conf)
{
	const char *slash;

	if (conf->title != NULL)
		return conf->title;
	slash = strrchr(conf->argv[0], '/');
	return slash != NULL && slash[1] != '\0' ? slash + 1 : conf->argv[0];
}

int
daemon_crashloop(int64_t *times, int max, int64_t window, int *n,
    int64_t now)
{
	if (max <= 0)
		return 0;
	times[*n % max] = now;
	(*n)++;
	/* The oldest of the last MAX failures sits in the next slot. */
	return *n >= max && now - times[*n % max] <= window;
}

/*
 * Wait for CHILD to exit, passing signals on; return its wait status.
 * s->stopping is set by SIGTERM or SIGINT.  CHILD is looked at before each
 * wait, not only on a SIGCHLD: ready_wait may have read the SIGCHLD of a
 * CMD that exited right after it said it was ready.
 */
static int
supervise_wait(struct start *s, pid_t child)
{
	int sig, status;

	for (;;) {
		if (waitpid(child, &status, WNOHANG) == child)
			return status;
		sig = supervise_signal(s, -1);
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			s->stopping = 1;
			/* FALLTHROUGH */
		case SIGHUP:
			/* Our own unreaped child: its pid cannot be reused. */
			if (child > 1)
				kill(child, sig);
			break;
		}
	}
}

/* Sleep NS, or less if SIGTERM or SIGINT comes (then return 1). */
static int
supervise_pause(struct start *s, int64_t ns)
{
	int64_t deadline = mono_now() + ns;
	int sig;

	while ((sig = supervise_signal(s, deadline)) != 0) {
		if (sig == SIGTERM || sig == SIGINT)
			return 1;
		if (sig == SIGCHLD)
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
	}
	return 0;
}

/*
 * The next signal for the supervisor, copying CMD's output to the log
 * meanwhile; 0 once DEADLINE (monotonic ns; -1: none) has passed.  A
 * SIGHUP with -o is handled here (the log is reopened) and not returned.
 */
static int
supervise_signal(struct start *s, int64_t deadline)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	int64_t left;
	int timeout;

	for (;;) {
		timeout = -1;
		if (deadline >= 0) {
			if ((left = deadline - mono_now()) <= 0)
				return 0;
			timeout = (int)((left + 999999) / 1000000);
		}
		pfd[0].fd = sigfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = pipefd;
		pfd[1].events = POLLIN;
		if (poll(pfd, pipefd != -1 ? 2 : 1, timeout) == -1)
			continue;
		if (pipefd != -1 && pfd[1].revents != 0)
			log_pump();
		if (!(pfd[0].revents & POLLIN) ||
		    read(sigfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP && pipefd != -1) {
			log_reopen(s);
			continue;
		}
		return (int)si.ssi_signo;
	}
}

/* Copy what CMD wrote to the log, up to its last whole line. */
static void
log_pump(void)
{
	ssize_t n;
	char *nl;
	size_t done;

	if (pipefd == -1)
		return;
	for (;;) {
		n = read(pipefd, pipebuf + pipelen, sizeof(pipebuf) - pipelen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		pipelen += (size_t)n;
		nl = memrchr(pipebuf, '\n', pipelen);
		/* A line longer than the buffer goes out in pieces. */
		done = nl != NULL ? (size_t)(nl - pipebuf) + 1 :
		    pipelen == sizeof(pipebuf) ? pipelen : 0;
		if (done == 0)
			continue;
		write_full(STDOUT_FILENO, pipebuf, done);
		memmove(pipebuf, pipebuf + done, pipelen - done);
		pipelen -= done;
	}
}

/*
 * SIGHUP with -o: the log may have been moved away (logrotate); copy out
 * what CMD has written so far to the old file, then open LOGFILE anew as
 * our stdout and stderr.  If it cannot be opened, say so on the old one.
 */
static void
log_reopen(struct start *s)
{
	struct stat st;
	const char *why;
	int fd;

	log_pump();
	/* The same rules as the first open: a neighbour may have planted a
	 * symlink where logrotate moved the file away. */
	fd = pidlock_open_safe(s->logpath, O_WRONLY | O_APPEND | O_CREAT |
	    O_NOCTTY, 0644, &st, &why);
	if (fd == -1) {
		log_line("%s: cannot reopen: %s", safe(s->conf->logfile), why);
		return;
	}
	if (dup2(fd, STDOUT_FILENO) == -1 || dup2(fd, STDERR_FILENO) == -1) {
		log_line("%s: cannot reopen: %s", safe(s->conf->logfile),
		    strerror(errno));
		close(fd);
		return;
	}
	close(fd);
	log_line("%s: reopened on SIGHUP", safe(s->conf->logfile));
}

int64_t
daemon_backoff(int64_t *next, int64_t ran)
{
	int64_t d;

	if (ran >= DAEMON_HEALTHY)
		*next = DAEMON_BACKOFF_MIN;
	d = *next;
	*next = d >= DAEMON_BACKOFF_MAX / 2 ? DAEMON_BACKOFF_MAX : d * 2;
	return d;
}

int
daemon_stop(const char *path, int64_t grace)
{
	struct pidlock pl;
	const char *why;
	pid_t pid;
	int state, r;

	state = pidlock_probe(path, &pl, &why);
	switch (state) {
	case PIDLOCK_ERROR:
		r = probe_failed(path, why);
		pidlock_close(&pl);
		return r;
	case PIDLOCK_STALE:
		/*
		 * Left behind by a CMD that exited: not running, tidy up.  But
		 * only a file that reads as a pidfile (empty, or a pid): -k
		 * pointed at notes.txt, or as root at a file in /etc, must not
		 * delete it.
		 */
		if (pidlock_read(pl.fd, &pid) == -1)
			warnx("%s: not a pidfile: left in place", safe(path));
		else if (pidlock_unlink(path, &pl) == -1)
			warn("%s", safe(path));
		/* FALLTHROUGH */
	case PIDLOCK_ABSENT:
		pidlock_close(&pl);
		return PKIT_EXIT_NO;
	case PIDLOCK_FOREIGN:
		held_by_others(path, &pl);
		pidlock_close(&pl);
		return PKIT_EXIT_NO;
	}

	/* Running: pl.pid > 1, alive, holding the lock, pinned in pl.ref. */
	if ((r = stop_pinned(&pl.ref, grace)) != 0) {
		if (r == -1)
			warn("pid %ld", (long)pl.pid);
		else
			warnx("%s: pid %ld did not exit", safe(path),
			    (long)pl.pid);
		pidlock_close(&pl);
		return PKIT_EXIT_FAIL;
	}
	/*
	 * A supervisor has removed its file; CMD run without -r could not,
	 * and children of CMD that inherited its descriptor may still hold
	 * the lock: they are the rest of the service, stop them as well.
	 */
	if ((r = pidlock_unlink(path, &pl)) == 1 &&
	    (r = stop_remnants(path, &pl, grace)) == 2)
		r = 0;		/* a new start has the file: ours is stopped */
	if (r == -1)
		warn("%s", safe(path));
	else if (r == 1)
		warnx("%s: pid %ld stopped, but the pidfile is still locked",
		    safe(path), (long)pl.pid);
	pidlock_close(&pl);
	return r == 0 ? PKIT_EXIT_OK : PKIT_EXIT_FAIL;
}

/*
 * Stop the pinned process REF: SIGTERM, and SIGKILL if it still runs
 * after GRACE.  0 once it has exited; 1 if it did not even after SIGKILL;
 * -1 (errno) if it could not be signalled.
 */
static int
stop_pinned(struct pidref *ref, int64_t grace)
{
	if (pidref_signal(ref, SIGTERM) == -1 && errno != ESRCH)
		return -1;
	if (pidref_wait(ref, grace))
		return 0;
	if (pidref_signal(ref, SIGKILL) == -1 && errno != ESRCH)
		return -1;
	return pidref_wait(ref, KILL_WAIT_NS) ? 0 : 1;
}

/*
 * -k and -s on a pidfile whose pid has exited while its lock is still
 * held: by children CMD left (run without -r, it exited on its own), or
 * by anyone who locked the file.  Nothing proves which, so nothing is
 * signalled; but the caller is told who holds it, not left with a bare
 * "not running" while every new start is refused as locked.
 */
static void
held_by_others(const char *path, const struct pidlock *pl)
{
	pid_t pids[8];
	char list[8 * 12 + 8];
	size_t i, n, len = 0;

	if (pl->pid <= 1 || kill(pl->pid, 0) == 0 || errno != ESRCH)
		return;
	n = pidlock_holders(&pl->st, pids, sizeof(pids) / sizeof(pids[0]));
	if (n == 0)
		return;
	for (i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%ld",
		    i > 0 ? " " : "", (long)pids[i]);
	warnx("%s: pid %ld has exited, but its lock is held by pid %s%s "
	    "(not signalled)", safe(path), (long)pl->pid, list,
	    n == sizeof(pids) / sizeof(pids[0]) ? " ..." : "");
}

/*
 * The process pl->pid has exited but its lock is still held: by processes
 * that inherited its open file description (only they can hold an
 * exclusive flock on the file while it still names pl->pid; a new start
 * would have rewritten it).  SIGTERM them, SIGKILL after GRACE, then
 * remove the file.  0, 1 (still locked) or -1, as pidlock_unlink; 2 if
 * the file no longer names pl->pid (a new start has it): nothing done.
 */
static int
stop_remnants(const char *path, struct pidlock *pl, int64_t grace)
{
	struct pidref refs[64];
	pid_t pids[64], pid;
	size_t i, n, live = 0;
	int64_t deadline, left;

	if (pidlock_read(pl->fd, &pid) != 1 || pid != pl->pid)
		return 2;
	n = pidlock_holders(&pl->st, pids, sizeof(pids) / sizeof(pids[0]));
	for (i = 0; i < n; i++) {
		/* Pin each, then check it again: no reused pid. */
		if (pidref_open(&refs[live], pids[i]) == -1)
			continue;
		if (pidlock_holds(pids[i], &pl->st) != 1 ||
		    pidref_signal(&refs[live], SIGTERM) == -1) {
			pidref_close(&refs[live]);
			continue;
		}
		live++;
	}
	deadline = mono_now() + grace;
	for (i = 0; i < live; i++) {
		/* Past the deadline, 0: pidref_wait waits for ever on < 0. */
		left = deadline - mono_now();
		if (!pidref_wait(&refs[i], left > 0 ? left : 0)) {
			pidref_signal(&refs[i], SIGKILL);
			pidref_wait(&refs[i], KILL_WAIT_NS);
		}
		pidref_close(&refs[i]);
	}
	return pidlock_unlink(path, pl);
}

int
daemon_status(const char *path, int verbose)
{
	struct pidlock pl;
	const char *why;
	int state, r;

	state = pidlock_probe(path, &pl, &why);
	if (state == PIDLOCK_FOREIGN)
		held_by_others(path, &pl);
	pidlock_close(&pl);
	switch (state) {
	case PIDLOCK_ERROR:
		return probe_failed(path, why);
	case PIDLOCK_RUNNING:
		r = verbose ? status_verbose(pl.pid) :
		    printf("%ld\n", (long)pl.pid);
		if (r < 0 || fflush(stdout) == EOF) {
			warn("stdout");
			return PKIT_EXIT_FAIL;
		}
		return PKIT_EXIT_OK;
	default:
		return PKIT_EXIT_NO;
	}
}

/*
 * -s -v: "supervisor PID STATE UPTIME" if PID is a supervisor (a pdaemon
 * process: its comm, which setproctitle(3) leaves alone), then "cmd PID
 * STATE UPTIME" for CMD (its child), or "cmd - restarting -" between two
 * runs.  STATE is a word for /proc's state letter, UPTIME whole seconds
 * since the process started.  A negative count if stdout failed.
 */
static int
status_verbose(pid_t pid)
{
	char comm[32], path[64], buf[64];
	FILE *fp;
	long child = 0;
	int r = 0;

	if (proc_comm(pid, comm, sizeof(comm)) == 0 &&
	    strcmp(comm, "pdaemon") == 0) {
		if ((r = status_line("supervisor", pid)) < 0)
			return r;
		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
		    (long)pid, (long)pid);
		if ((fp = fopen(path, "re")) != NULL) {
			if (fgets(buf, sizeof(buf), fp) != NULL)
				child = strtol(buf, NULL, 10);
			fclose(fp);
		}
		if (child <= 1 || (r = status_line("cmd", (pid_t)child)) == 0)
			r = printf("cmd - restarting -\n");
		return r;
	}
	if ((r = status_line("cmd", pid)) == 0)
		r = printf("cmd - exited -\n");
	return r;
}

/* One line of -s -v for PID: its printf count; 0 if PID is gone. */
static int
status_line(const char *role, pid_t pid)
{
	static const struct {
		char		 letter;
		const char	*word;
	} states[] = {
		{ 'R', "running" }, { 'S', "sleeping" }, { 'D', "waiting" },
		{ 'T', "stopped" }, { 't', "traced" }, { 'Z', "zombie" },
		{ 'I', "idle" }, { 'X', "dead" },
	};
	struct proc_info pi;
	struct timespec now;
	const char *word = "unknown";
	long long up;
	long hz = sysconf(_SC_CLK_TCK);
	size_t i;

	if (proc_read(pid, &pi) == -1 || hz <= 0)
		return 0;
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (states[i].letter == pi.state)
			word = states[i].word;
	/* Start times count from boot, suspended time included. */
	clock_gettime(CLOCK_BOOTTIME, &now);
	up = (long long)now.tv_sec - (long long)(pi.start / (unsigned long long)hz);
	return printf("%s %ld %s %llds\n", role, (long)pid, word,
	    up < 0 ? 0 : up);
}

/* Say why PATH could not be probed: pidlock's reason, else errno. */
static int
probe_failed(const char *path, const char *why)
{
	if (why != NULL)
		warnx("%s: %s", safe(path), why);
	else
		warn("%s", safe(path));
	return PKIT_EXIT_FAIL;
}

/* One line on the log: local time with milliseconds, then the message. */
static void
log_line(const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[32], zone[8];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	fprintf(stderr, "%s.%03ld%s pdaemon[%ld]: ", when,
	    ts.tv_nsec / 1000000, zone, (long)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
status_text(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
}

/* The daemon changes directory: make a relative pidfile path absolute. */
static int
path_absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '/') {
		if (strlcpy(buf, path, len) >= len)
			goto toolong;
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	if ((size_t)snprintf(buf, len, "%s/%s", cwd, path) >= len)
		goto toolong;
	return 0;
toolong:
	errno = ENAMETOOLONG;
	return -1;
}

static ssize_t
read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int
write_full(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
	return 0;
}
