/* SPDX-License-Identifier: ISC */
/*
 * exitcode.h: the exit status table shared by every tool (explained in
 * doc/ARCHITECTURE.md), and the mapping from a wait status to a
 * shell-style exit code.
 */
#ifndef PKIT_EXITCODE_H
#define PKIT_EXITCODE_H

enum {
	PKIT_EXIT_OK = 0,	/* success */
	PKIT_EXIT_NO = 1,	/* a negative answer that is not an error */
	PKIT_EXIT_TIMEOUT = 124,/* timed out (-t) or would block (-n) */
	PKIT_EXIT_FAIL = 125,	/* the tool itself failed */
	PKIT_EXIT_NOEXEC = 126,	/* command found but not executable */
	PKIT_EXIT_NOTFOUND = 127/* command not found; pjoin: no such process */
};

/* Map a waitpid(2) status to what a shell reports: the code, or 128+N. */
int	status_to_exit(int wstatus);

/* Map an execve(2) errno to 127 (not found) or 126 (not executable). */
int	exec_errno_to_exit(int error);

#endif
