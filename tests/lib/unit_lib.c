/* SPDX-License-Identifier: ISC */
/*
 * unit_lib: C unit tests for lib/ (durations, names, status mapping,
 * and the Process module: /proc readers, pidfds, spawn options).
 * Prints TAP-like lines; exits 1 if any check failed.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "keeper.h"
#include "pkit.h"
#include "proc.h"
#include "spawn.h"

#include "../unit.h"

static int64_t
dur(const char *s)
{
	const char *why;
	int64_t ns;

	if (dur_parse(s, &ns, &why) == -1)
		return -1;
	return ns;
}

static long long
num(const char *s, long long min, long long max)
{
	const char *why;
	long long n;

	if (num_parse(s, min, max, &n, &why) == -1)
		return -999;
	return n;
}

/* Start ARGV with O; its wait status, or -1 if it did not run. */
static int
run(const struct spawn_opts *o, char *const argv[])
{
	pid_t pid;
	int ws;

	if (spawn_start(o, argv, &pid) != 0)
		return -1;
	if (waitpid(pid, &ws, 0) != pid)
		return -1;
	return ws;
}

/* What a spawned command writes on the pipe we give it as stdout. */
static const char *
output(struct spawn_opts *o, char *const argv[])
{
	static char buf[64];
	ssize_t n;
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return "";
	o->fd[1] = p[1];
	n = run(o, argv) == 0 ? read(p[0], buf, sizeof(buf) - 1) : 0;
	buf[n > 0 ? n : 0] = '\0';
	close(p[0]);
	close(p[1]);
	o->fd[1] = -1;
	return buf;
}

static void
process(void)
{
	char *true_argv[] = { "true", NULL };
	char *missing[] = { "no-such-command-pkit", NULL };
	char *exit3[] = { "sh", "-c", "exit 3", NULL };
	char *echo_env[] = { "sh", "-c", "echo \"$PKIT_T\"", NULL };
	char *group[] = { "sh", "-c", "ps -o pgid= -p $$ | tr -d ' '; "
	    "echo $$", NULL };
	char *term_self[] = { "sh", "-c", "kill -TERM $$; exit 9", NULL };
	char *sleeper[] = { "sleep", "30", NULL };
	char *env[] = { "PKIT_T=seen", "PATH=/usr/bin:/bin", NULL };
	struct spawn_opts o;
	struct proc_info pi;
	struct sigaction ign, old;
	sigset_t term;
	char comm[32];
	const char *out;
	pid_t pid, a, b;
	int fd, ws, p[2];

	/* /proc readers. */
	CHECK(proc_read(getpid(), &pi) == 0 && pi.ppid == getppid() &&
	    pi.start > 0 && pi.state == 'R');
	CHECK(proc_comm(getpid(), comm, sizeof(comm)) == 0 &&
	    strcmp(comm, "unit_lib") == 0);
	CHECK(proc_read(0, &pi) == -1 && errno == ESRCH);
	CHECK(keeper_owns(getpid(), -1) == 0);

	/* spawn: the exec verdict, at once. */
	spawn_opts_init(&o);
	CHECK(run(&o, true_argv) == 0);
	CHECK(spawn_start(&o, missing, &pid) == SPAWN_NOEXEC &&
	    errno == ENOENT && pid > 1);
	CHECK(waitpid(pid, NULL, WNOHANG) == -1 && errno == ECHILD);
	o.flags = SPAWN_VFORK;
	CHECK(run(&o, exit3) == 3 << 8);
	CHECK(spawn_start(&o, missing, &pid) == SPAWN_NOEXEC &&
	    errno == ENOENT);
	/* Its stdout, its environment. */
	o.envp = env;
	CHECK(strcmp(output(&o, echo_env), "seen\n") == 0);
	o.envp = NULL;
	/* Its own process group: its pgid is its pid. */
	o.flags = SPAWN_NEW_GROUP;
	out = output(&o, group);
	CHECK(sscanf(out, "%d\n%d", (int *)&a, (int *)&b) == 2 && a == b &&
	    a != getpgrp());
	o.flags = 0;
	/* Signals: an ignored SIGTERM is given back as default on request. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGTERM, &ign, &old);
	ws = run(&o, term_self);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 9);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	o.dfl = &term;
	ws = run(&o, term_self);
	CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM);
	sigaction(SIGTERM, &old, NULL);
	o.dfl = NULL;

	/* pidfds: exited, reaped, and the status if the kernel keeps it. */
	CHECK(spawn_start(&o, exit3, &pid) == 0);
	CHECK((fd = proc_pidfd_open(pid)) >= 0);
	CHECK(proc_pidfd_wait(fd, 5000000000LL) == 1);
	CHECK(proc_pidfd_reaped(fd) == 0);
	CHECK(waitpid(pid, &ws, 0) == pid && ws == 3 << 8);
	CHECK(proc_pidfd_reaped(fd) == 1);
	ws = -1;
	CHECK(proc_pidfd_status(fd, &ws) == -1 || ws == 3 << 8);
	close(fd);
	CHECK(proc_pidfd_reaped(-1) == 0 && proc_pidfd_status(-1, &ws) == -1);

	/* Die with the parent: a middle process starts a sleeper and ends. */
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	if ((a = fork()) == 0) {
		o.flags = SPAWN_DIE_WITH_PARENT;
		if (spawn_start(&o, sleeper, &b) != 0 ||
		    write(p[1], &b, sizeof(b)) != sizeof(b))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	b = 0;
	CHECK(read(p[0], &b, sizeof(b)) == sizeof(b) && b > 1);
	close(p[0]);
	fd = b > 1 ? proc_pidfd_open(b) : -1;
	CHECK(waitpid(a, NULL, 0) == a);
	CHECK(fd == -1 || proc_pidfd_wait(fd, 5000000000LL) == 1);
	if (fd != -1)
		close(fd);
}

int
main(void)
{
	char longname[NAME_MAX_LEN + 2];

	/* Durations: seconds by default, exact fractions, units. */
	CHECK(dur("0") == 0);
	CHECK(dur("1") == 1000000000LL);
	CHECK(dur("1.5") == 1500000000LL);
	CHECK(dur("0.1") == 100000000LL);
	CHECK(dur(".25") == 250000000LL);
	CHECK(dur("250ms") == 250000000LL);
	CHECK(dur("2s") == 2000000000LL);
	CHECK(dur("1m") == 60000000000LL);
	CHECK(dur("1.5m") == 90000000000LL);
	CHECK(dur("1h") == 3600000000000LL);
	CHECK(dur("10us") == 10000LL);
	CHECK(dur("0.0000000001") == 0);
	CHECK(dur("") == -1);
	CHECK(dur("-1") == -1);
	CHECK(dur("+1") == -1);
	CHECK(dur("1.2.3") == -1);
	CHECK(dur("5x") == -1);
	CHECK(dur("1e9") == -1);
	CHECK(dur("0x10") == -1);
	CHECK(dur(" 1") == -1);
	CHECK(dur("1 ") == -1);
	CHECK(dur(".") == -1);
	CHECK(dur("ms") == -1);
	CHECK(dur("99999999999999999999999") == -1);
	CHECK(dur("1000000000") == 1000000000LL * 1000000000LL);
	CHECK(dur("1000000001") == -1);

	/* Numbers: digits only, in range. */
	CHECK(num("42", 1, 100) == 42);
	CHECK(num("-1", -5, 5) == -1);
	CHECK(num("0", 1, 100) == -999);
	CHECK(num("101", 1, 100) == -999);
	CHECK(num("", 1, 100) == -999);
	CHECK(num("0x10", 0, 100) == -999);
	CHECK(num("1e9", 0, 100) == -999);
	CHECK(num("+1", 0, 100) == -999);
	CHECK(num(" 1", 0, 100) == -999);
	CHECK(num("1 ", 0, 100) == -999);
	CHECK(num("99999999999999999999", 0, 100) == -999);

	/* Names. */
	CHECK(name_invalid("q") == NULL);
	CHECK(name_invalid("A-z_0.9") == NULL);
	CHECK(name_invalid("") != NULL);
	CHECK(name_invalid(".") != NULL);
	CHECK(name_invalid("..") != NULL);
	CHECK(name_invalid(".hidden") != NULL);
	CHECK(name_invalid("-x") != NULL);
	CHECK(name_invalid("a/b") != NULL);
	CHECK(name_invalid("a b") != NULL);
	CHECK(name_invalid("a\nb") != NULL);
	CHECK(name_invalid("caf\xc3\xa9") != NULL);
	memset(longname, 'a', sizeof(longname));
	longname[NAME_MAX_LEN] = '\0';
	CHECK(name_invalid(longname) == NULL);
	longname[NAME_MAX_LEN] = 'a';
	longname[NAME_MAX_LEN + 1] = '\0';
	CHECK(name_invalid(longname) != NULL);

	/* Wait status and exec errors, as the shell maps them. */
	CHECK(status_to_exit(0) == 0);
	CHECK(status_to_exit(42 << 8) == 42);
	CHECK(status_to_exit(SIGKILL) == 137);
	CHECK(status_to_exit(SIGTERM) == 143);
	CHECK(exec_errno_to_exit(ENOENT) == 127);
	CHECK(exec_errno_to_exit(EACCES) == 126);
	CHECK(exec_errno_to_exit(ENOEXEC) == 126);

	/* Deadlines. */
	CHECK(deadline_ms(-1) == -1);
	CHECK(deadline_ms(0) == 0);
	CHECK(deadline_ms(mono_now() + 1500000000LL) >= 1499);

	process();

	return unit_end();
}
