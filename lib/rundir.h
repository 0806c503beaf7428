/* SPDX-License-Identifier: ISC */
/*
 * rundir.h: the runtime directory where pkit keeps records and locks.
 */
#ifndef PKIT_RUNDIR_H
#define PKIT_RUNDIR_H

#include <stddef.h>

/*
 * Open the runtime directory ($PKIT_DIR, else $XDG_RUNTIME_DIR/pkit, else
 * /dev/shm/pkit-$UID), creating it 0700 if missing (its parent must exist).
 * Refused unless it is a real directory (not a symlink), owned by the
 * caller and not group- or other-writable.  Returns an O_DIRECTORY fd
 * (close-on-exec), its path in path[len]; or -1 with *why set.
 */
int	rundir_open(char *path, size_t len, const char **why);

/* rundir_open, or exit 125 with "prog: PATH: why". */
int	rundir_open_or_die(char *path, size_t len);

/*
 * Open (creating 0700 if missing) the subdirectory NAME of the directory
 * dfd, with the same checks as the runtime directory.  -1 with *why set.
 */
int	rundir_sub(int dfd, const char *name, const char **why);

/* rundir_open_or_die, then rundir_sub, or exit 125. */
int	rundir_sub_or_die(const char *name);

#endif
