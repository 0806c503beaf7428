/* SPDX-License-Identifier: ISC */
/*
 * jobrec.h: the exit records pspawn's keeper leaves for pjoin.
 *
 * One small file per pid, in the runtime directory's jobs/ subdirectory,
 * named PID.job, holding the process start time (field 22 of
 * /proc/PID/stat, clock ticks since boot), its state and its command.
 * The pair pid + start time names one process for the life of the
 * machine, so a recycled pid is never taken for an old job: a reader asks
 * for the start time it expects.  A pid has at most one record, the
 * latest process pspawn started under it, so the lookup is one open and
 * the directory never holds more files than there are pids.  The final
 * state is written BEFORE the keeper reaps the process, so whoever sees
 * the pid gone (kill -0 fails, a pidfd hangs up) finds the real status.
 *
 * The body (version 2):
 *
 *   START STATE<spaces> HASH\n	the status slot: JOBREC_SLOT bytes
 *   cmd COMMAND\n		at most JOBREC_CMD_MAX bytes of argv
 *
 * STATE is "running", "exit N" or "signal N", padded with spaces to
 * JOBREC_SLOT - 10 bytes; HASH is the FNV-1a hash of those bytes in 8 hex
 * digits.  The "running" record is created whole (temporary file +
 * rename); the final state is written IN PLACE, one pwrite of the slot:
 * its space was reserved with the running record, so a full file system
 * cannot stop it.  A reader that catches that pwrite half done
 * sees a slot whose hash does not match and reads it as running, the only
 * state it can have been before.  Records of version 1 ("START STATE\n",
 * no hash, no command) are still read.
 */
#ifndef PKIT_JOBREC_H
#define PKIT_JOBREC_H

#include <sys/types.h>

#include <stddef.h>

enum jobrec_state {
	JOBREC_NONE = 0,	/* no record */
	JOBREC_RUNNING,		/* started, no status yet */
	JOBREC_EXITED,		/* value = exit code */
	JOBREC_SIGNALED		/* value = signal number */
};

#define JOBREC_SLOT	48	/* the status slot, with its newline */
#define JOBREC_CMD_MAX	400	/* the command kept, at most */

struct jobrec {
	pid_t			pid;
	unsigned long long	start;
	enum jobrec_state	state;
	int			value;
	char			cmd[JOBREC_CMD_MAX + 1];/* "" if none */
};

/*
 * The start time of PID from /proc/PID/stat (works for zombies too).
 * 0, or -1 (errno set; ENOENT/ESRCH: no such process).
 */
int	jobrec_start_time(pid_t pid, unsigned long long *start);

/*
 * Write the "running" record of PID (start time START), with its command
 * ARGV (NULL: none), atomically (temporary file + rename).
 */
int	jobrec_put_running(int dfd, pid_t pid, unsigned long long start,
	    char *const argv[]);

/*
 * Write the final status taken from waitid's si_code/si_status
 * (CLD_EXITED, CLD_KILLED, CLD_DUMPED) into the record of PID: in place
 * (one pwrite, no new space needed), or, if it has no record of ours, as
 * a new one.
 */
int	jobrec_put_status(int dfd, pid_t pid, unsigned long long start,
	    int how, int value);

/*
 * Read the record of PID into *r, if it is the one of start time START
 * (START 0: whichever process it is, r->start says).  0 if found, -1 if
 * there is none (or it is another process's, or not a record).
 */
int	jobrec_get(int dfd, pid_t pid, unsigned long long start,
	    struct jobrec *r);

/* The shell-style exit code of a final record: N, or 128+N for a signal. */
int	jobrec_exit_code(const struct jobrec *r);

/*
 * 1 if the process of a "running" record R still exists (pid and start
 * time match, a zombie counts); 0 if it is gone: nobody recorded its end,
 * its status is lost.
 */
int	jobrec_alive(const struct jobrec *r);

/*
 * Call FN(r, arg) for every record in the directory (any order).  0, or -1
 * with errno if the directory cannot be read.
 */
int	jobrec_each(int dfd, void (*fn)(const struct jobrec *, void *),
	    void *arg);

/*
 * Remove old records: final ones (and "running" ones whose process is gone)
 * last changed more than an hour ago, or more than a minute ago once the
 * directory holds more than JOBREC_SOFT_MAX records; stale temporaries.
 */
#define JOBREC_SOFT_MAX	4096
void	jobrec_prune(int dfd);

/*
 * 1 if the directory is due for jobrec_prune, and then marks it pruned
 * now; 0 if it was pruned less than 30 seconds ago (by the mtime of a
 * stamp file, ".pruned", that no record name matches).  A prune reads
 * every record's inode, and records younger than a minute never go, so
 * pruning more often would only cost: one keeper in 30 seconds pays.
 */
int	jobrec_prune_due(int dfd);

#endif
