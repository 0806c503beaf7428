/* SPDX-License-Identifier: ISC */
/*
 * execpipe.h: run a command in a child and learn synchronously whether the
 * exec worked, through a close-on-exec pipe (the child writes errno there
 * only if execvp fails; a successful exec closes the pipe with no bytes).
 * lib/spawn.h builds on it.  Tier: engine, but for execpipe_report, the
 * one-line message a tool or tool body prints about a failed exec.
 */
#ifndef PKIT_EXECPIPE_H
#define PKIT_EXECPIPE_H

/* pipe2(O_CLOEXEC); -1 on error. */
int	execpipe_open(int fds[2]);

/*
 * In the child: execvp(argv), and if that fails write errno to fds[1] and
 * _exit(126 or 127).  The read end is closed first.  Never returns.
 */
void	execpipe_exec(int fds[2], char *const argv[]) __attribute__((noreturn));

/* The same with the environment ENVP (NULL: ours); safe after vfork. */
void	execpipe_execve(int fds[2], char *const argv[], char *const envp[])
	    __attribute__((noreturn));

/*
 * In the parent: close the write end, wait for the verdict.  Returns 0 if
 * the command was executed, else its errno (the caller reports it and maps
 * it with exec_errno_to_exit).
 */
int	execpipe_wait(int fds[2]);

/* Report an exec failure the usual way: "prog: CMD: strerror". */
int	execpipe_report(const char *cmd, int error);

#endif
