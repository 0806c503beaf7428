/* SPDX-License-Identifier: ISC */
/*
 * execpipe.c: synchronous exec-failure reporting (see execpipe.h).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "execpipe.h"
#include "exitcode.h"

int
execpipe_open(int fds[2])
{
	return pipe2(fds, O_CLOEXEC);
}

void
execpipe_exec(int fds[2], char *const argv[])
{
	execpipe_execve(fds, argv, NULL);
}

void
execpipe_execve(int fds[2], char *const argv[], char *const envp[])
{
	int e;
	ssize_t n;

	if (fds[0] >= 0)
		close(fds[0]);
	if (envp != NULL)
		execvpe(argv[0], argv, envp);
	else
		execvp(argv[0], argv);
	e = errno;
	do
		n = write(fds[1], &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	_exit(exec_errno_to_exit(e));
}

int
execpipe_wait(int fds[2])
{
	int e = 0;
	ssize_t n;

	close(fds[1]);
	fds[1] = -1;
	do
		n = read(fds[0], &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	close(fds[0]);
	fds[0] = -1;
	return n == (ssize_t)sizeof(e) ? e : 0;
}

