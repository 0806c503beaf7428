/* SPDX-License-Identifier: ISC */
/*
 * exitcode.c: wait status and exec errno to exit code, as sh(1) does it.
 */
#include <sys/wait.h>

#include <errno.h>

#include "exitcode.h"

int
status_to_exit(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return PKIT_EXIT_FAIL;
}

int
exec_errno_to_exit(int error)
{
	switch (error) {
	case ENOENT:
	case ENOTDIR:
		return PKIT_EXIT_NOTFOUND;
	default:
		return PKIT_EXIT_NOEXEC;
	}
}
