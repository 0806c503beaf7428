/* SPDX-License-Identifier: ISC */
/*
 * proc.h: what /proc tells about a process, read one way for every tool.
 */
#ifndef PKIT_PROC_H
#define PKIT_PROC_H

#include <sys/types.h>

/*
 * The state letter (R, S, Z...) and the start time (clock ticks after
 * boot) of PID, from /proc/PID/stat; zombies have them too.  A pid and its
 * start time name one process for good: a recycled pid has a later start.
 * Either output may be NULL.  0, or -1 with errno set (ESRCH: no such
 * process; EINVAL: unreadable).
 */
int	proc_stat(pid_t pid, char *state, unsigned long long *start);

#endif
