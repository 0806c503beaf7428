/* SPDX-License-Identifier: ISC */
/*
 * lock.h: named locks (plock's engine), one API over two backends.
 *
 *  - a plain NAME (a file in the runtime directory's locks/) or a path
 *    with '/': a lock the kernel holds on an open file description and
 *    drops when the last descriptor on it closes (lib/lock-file.c);
 *  - a redis: name: a lease on a Redis server, renewed by its holder,
 *    with a fencing token per grant (lib/lock-redis.c).
 * The backend is chosen from the name in one place, lib/lockapi.c; the
 * seam between the API and the backends is lib/lockbackend.h.
 *
 * Error rule (engine tier): these functions never print and never exit;
 * on failure they return -1 and lock_error() says "NAME: why" for the
 * caller to print.  lock_run alone is a tool body (lib/lockrun.c): it runs
 * the command and may print, as the tool would.
 */
#ifndef PKIT_LOCK_H
#define PKIT_LOCK_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define LOCK_COUNT_MAX	1000	/* largest -c COUNT */

enum lock_kind {
	LOCK_EXCLUSIVE,
	LOCK_SHARED,
	LOCK_COUNTING
};

struct lock;

struct lock_holder {
	pid_t		 pid;		/* a process holding the lock */
	int64_t		 since;		/* CLOCK_REALTIME ns taken, -1 unknown */
	char		 host[256];	/* Redis: its host; files: "" */
};

/*
 * Open NAME to take it as KIND (count: the semaphore's size, for
 * LOCK_COUNTING).  Files: the lock file is created if missing (plain
 * names: mode 0600 in locks/, never through a symlink; paths: 0666 less
 * the umask, like flock(1)).  Redis: the name is parsed, PKIT_LOCK_LEASE
 * read and the server connected (SIGPIPE is ignored from then on, so that
 * a dropped connection is an error).  0, or -1 (lock_error()).
 */
int	lock_open(struct lock **lkp, const char *name, enum lock_kind kind,
	    int count);

/*
 * Open NAME only to ask who holds it (lock_holders): nothing is created.
 * 0, or -1 (lock_error()).
 */
int	lock_peek(struct lock **lkp, const char *name);

/* The name for messages (on Redis, with any password masked). */
const char *lock_shown(const struct lock *lk);

/*
 * Take the lock.  deadline: -1 wait for ever, 0 do not wait, else a
 * mono_now() time.  Returns 0 taken, 1 busy (or the deadline passed), -1
 * error (lock_error()).  Never polls: a file lock sleeps in the kernel, a
 * Redis waiter on the lock's release channel.  A file holder's since-when
 * record is written before it returns 0.
 *
 * Re-entrant: if this process already holds NAME, handed down by an
 * enclosing plock (PKIT_LOCK_FD, whose descriptor must be open on this
 * very lock file and carry its lock; on Redis PKIT_LOCK_HOLDER, which the
 * server must name as a live holder), it returns 0 at once, taking
 * nothing, when what it holds covers KIND (exclusive covers all; shared
 * covers shared; a -c slot covers -s and -c); asking exclusive while
 * holding shared or a slot is an error (-1) rather than a wait for ever.
 */
int	lock_take(struct lock *lk, int64_t deadline);

/*
 * plock -F: make lock_take lock fd, the caller's own descriptor open on
 * NAME's lock file (its other copies, in the shell that opened it, then
 * hold the lock until they all close).  Files only; 0, or -1
 * (lock_error()).
 */
int	lock_adopt(struct lock *lk, int fd);

/*
 * plock -p: take the lock for process pid rather than for us: the grant
 * names pid as its holder (lock_holders), and lock_keep then holds it
 * until pid ends.  Leases only (Redis): a file lock belongs to a
 * descriptor, not to a pid (see lock_adopt).  0, or -1 (lock_error()).
 */
int	lock_for(struct lock *lk, pid_t pid);

/* plock -w: NAME's lock file's path in buf.  Files only; 0, or -1. */
int	lock_path(struct lock *lk, char *buf, size_t len);

/*
 * The holders of the lock now, sorted by pid, in *hv (free it).  Returns
 * how many (0: free); -2 if it is held by processes the caller may not
 * look into (lock_error() says so); or -1 (lock_error()).
 */
int	lock_holders(struct lock *lk, struct lock_holder **hv);

/*
 * Run argv holding the taken lock; a tool body (lib/lockrun.c), which
 * prints its own warnings.  Files: chainload, the lock's descriptor handed
 * to the command (its number in PKIT_LOCK_FD); returns only if the exec
 * failed, with plock's 126 or 127 (reported).  Redis: argv runs as a child
 * while the lease is renewed every third of it (PKIT_LOCK_TOKEN: the
 * fencing token), INT, TERM and HUP forwarded; the lease is released when
 * the child is gone.  Re-entered (lock_take took nothing): the command is
 * chainloaded on both, the enclosing plock keeping the lock.  Returns the
 * exit status for plock.
 */
int	lock_run(struct lock *lk, char *const argv[]);

/*
 * plock -p, after lock_take (lock_for): leave behind a keeper, a process
 * of its own that renews the lease while the process REF pins lives and
 * releases it as soon as that process ends, however it ends; then return
 * plock's exit status at once.  The keeper keeps none of the caller's
 * descriptors (no pipe of a $(...) or of a test harness stays open), is
 * in a session of its own, and says "lease lost" on the process's own
 * standard error, opened for that line only.  If the keeper itself is
 * killed, the lease runs out.  A tool body (lib/lockrun.c): it prints.
 * Re-entered (lock_take took nothing): no keeper, 0.
 */
struct pidref;
int	lock_keep(struct lock *lk, struct pidref *ref);

/* Close the lock (letting go of a file lock; a taken lease runs out). */
void	lock_close(struct lock *lk);

/* "NAME: why" of the last failure. */
const char *lock_error(void);

#endif
