/* SPDX-License-Identifier: ISC */
/*
 * lock-file.c: named locks that never go stale, and an honest holder
 * query: the file backend of the lock API (lock.h, lockbackend.h), for
 * plain names (a file in the runtime directory's locks/) and paths.  An
 * engine: it never prints or exits.
 *
 * Every lock lives on an open file description (OFD) of the lock file, so
 * the kernel drops it when the last descriptor on that OFD closes, whoever
 * dies how: nothing to clean up, nothing stale.  plock passes that
 * descriptor to the command it execs, so the command (and anything that
 * inherits the descriptor) holds the lock until it ends.
 *
 *  - exclusive: flock(LOCK_EX);  shared: flock(LOCK_SH).
 *  - counting semaphore of COUNT: one of COUNT "slots", byte-range OFD
 *    write locks on bytes 1..COUNT of the file, then flock(LOCK_SH), so
 *    that an exclusive holder of NAME keeps out (and waits for) them all.
 *    Every taker first takes the turnstile (an OFD lock on byte 0): under
 *    it, it tries each slot without blocking.  If all are busy it stays at
 *    the head of the line, holding the turnstile, and waits for ANY slot to
 *    free: one thread per slot sleeps in F_OFD_SETLKW on a second OFD of
 *    the file; the first to get one wakes the main thread, which stops the
 *    other threads (a signal interrupts their sleep), moves the slot onto
 *    the lock's OFD (nobody else can take a slot: they all queue behind the
 *    turnstile) and closes the second OFD (dropping anything the others
 *    took in the meantime).  No polling anywhere; newcomers cannot barge
 *    past the head waiter.
 *  - -t: a SIGALRM timer without SA_RESTART interrupts the sleeping call;
 *    it repeats every 20 ms after the deadline in case the first signal
 *    landed just before the call went to sleep.
 *
 * The query does not trust /proc/locks' pid (that is whoever took the
 * lock, who may have died since): it looks for the processes that have a
 * descriptor on the lock file whose /proc/PID/fdinfo shows the lock
 * (lib/holders.c).  Each
 * holder also writes a since-when record (one write, checksummed) before
 * it runs the command; the query shows it only if it is whole and names
 * the process that took the live lock.  A holder that creates a record
 * removes those of locks nobody holds any more, once a minute at most
 * (rec_sweep).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dur.h"
#include "holders.h"
#include "lockbackend.h"
#include "parse.h"
#include "pidlock.h"
#include "proc.h"
#include "rundir.h"

/* Byte offsets of the OFD locks. */
#define TURNSTILE	((off_t)0)
#define SLOT(i)		((off_t)1 + (i))
#define SHARED_REC	((off_t)1 << 32)	/* shared holders' record slots */
#define SHARED_REC_MAX	4096
#define SIGWAKE		SIGRTMIN	/* stops wait_any_slot's threads */
#define REC_LEN		64		/* a since-when record's size */
#define SWEEP_EVERY	60		/* s: records swept at most that often */
_Static_assert(12 + 1 + 20 + 1 + 20 + 1 + 8 + 1 == REC_LEN, "record layout");

struct lockb {
	char		*name;		/* as given: a name, or a path with '/' */
	enum lock_kind	 kind;
	int		 count;		/* the semaphore's size (LOCK_COUNTING) */
	int		 fd;		/* the lock's descriptor (close-on-exec) */
	int		 dirfd;		/* runtime dir's locks/: files, records */
	dev_t		 dev;		/* the lock file's identity */
	ino_t		 ino;
	char		 key[16];	/* this holder's record: "x", "c3", "s0" */
	int		 inherited;	/* PKIT_LOCK_FD, verified (held), or -1 */
};

struct waiter {
	pthread_t	 thread;
	atomic_int	*stop;
	int		 fd;
	int		 pipe;
	int		 slot;
};

/* A record rec_sweep found, and whether it stays. */
struct rec_entry {
	char		 name[96];
	dev_t		 dev;
	ino_t		 ino;
	int		 keep;
	int		 gone;		/* moved aside, as rec_gone_name() */
};

/* The records, sorted by (dev, ino), so that a lock's are side by side. */
struct rec_list {
	struct rec_entry *v;
	size_t		 n;
};

struct found {
	pid_t		 pid;
	pid_t		 locker;	/* who took the lock (fl_pid) */
	char		 key[16];
};

static volatile sig_atomic_t expired;
static int alarm_armed;
static struct sigaction alarm_old;
static sigset_t alarm_oldmask;

static int	file_open(const char *, enum lock_kind, int, int,
		    struct lockb **, char *, size_t, const char **);
static int	file_take(struct lockb *, int64_t, const char **);
static int	file_holders(struct lockb *, struct lock_holder **,
		    const char **);
static void	file_close(struct lockb *);
static void	file_exec(struct lockb *, char *const []);
static int	file_held(struct lockb *, enum lock_kind *, const char **);
static int	held_fd(struct lockb *, const char *, enum lock_kind *);
static int	fd_holds(struct lockb *, long, enum lock_kind *);
static void	file_reenter(struct lockb *);
static int	file_adopt(struct lockb *, int, const char **);
static int	file_path(struct lockb *, char *, size_t, const char **);
static int	take_flock(int, int, int64_t);
static int	take_counting(struct lockb *, int, int64_t);
static int	take_slot_record(struct lockb *);
static int	wait_any_slot(struct lockb *, int, int64_t);
static void	*slot_waiter(void *);
static void	 on_wake(int);
static int	ofd_lock(int, short, off_t, int);
static int	ofd_take(int, off_t, int64_t);
static int	sleep_prepare(int64_t);
static void	alarm_disarm(void);
static void	on_alarm(int);
static int	reopen(struct lockb *);
static int	locks_dir(const char **);
static int	rec_name(char *, size_t, dev_t, ino_t, const char *);
static void	record(struct lockb *);
static int	rec_sweep_open(int);
static int	rec_sweep_due(int);
static void	rec_sweep(int, int);
static int	rec_grow(void **, size_t *, size_t, size_t);
static int	rec_held(ino_t **, size_t *);
static int	rec_judge(struct rec_list *);
static void	ino_sort(ino_t *, size_t);
static int	ino_in(const ino_t *, size_t, ino_t);
static void	rec_gone_name(char *, size_t, size_t);
static struct rec_entry *rec_find(const struct rec_list *,
		    const struct stat *);
static int	rec_want(void *, const struct stat *);
static int	rec_mark(void *, const struct stat *, const struct fdlock *,
		    size_t);
static int	rec_cmp(const void *, const void *);
static int	ino_cmp(const void *, const void *);
static void	rec_format(char *, long, long long, long long);
static unsigned	rec_sum(const char *, size_t);
static int	proc_locks_has(ino_t, const unsigned *);
static int	lock_sbdev(int, const char *, int, unsigned *);
static int	flock_line(const char *, unsigned *, unsigned *, uintmax_t *);
static int	proc_locks_complete(void);
static int	scan_pid(pid_t, dev_t, ino_t, struct found **, size_t *);
static int	scan_fd(void *, const struct fdlock *, size_t);
static int64_t	rec_since(int, dev_t, ino_t, const struct found *);
static int	found_cmp(const void *, const void *);

const struct lock_ops lock_file_ops = {
	.open = file_open,
	.take = file_take,
	.holders = file_holders,
	.close = file_close,
	.exec = file_exec,
	.held = file_held,
	.reenter = file_reenter,
	.adopt = file_adopt,
	.path = file_path,
};

/*
 * Open NAME's lock file, creating it if missing (see lock_open); with
 * peek, only remember the name: file_holders looks at the file itself.
 */
static int
file_open(const char *name, enum lock_kind kind, int count, int peek,
    struct lockb **bp, char *shown, size_t len, const char **why)
{
	struct lockb *lk;
	struct stat st;
	int flags = O_RDWR | O_CREAT | O_NOCTTY | O_CLOEXEC;

	(void)shown;	/* the name as given */
	(void)len;
	if ((lk = calloc(1, sizeof(*lk))) == NULL ||
	    (lk->name = strdup(name)) == NULL) {
		free(lk);
		*why = strerror(errno);
		return -1;
	}
	lk->kind = kind;
	lk->count = count;
	lk->fd = lk->dirfd = lk->inherited = -1;
	if (peek) {
		*bp = lk;
		return 0;
	}
	/*
	 * A path needs only itself: without a usable runtime directory
	 * (missing, refused) it is locked all the same, with no since-when
	 * record (dirfd -1).  A plain name is a file in it.
	 */
	if ((lk->dirfd = locks_dir(why)) == -1 && strchr(name, '/') == NULL)
		goto fail;
	if (strchr(name, '/') == NULL)
		lk->fd = openat(lk->dirfd, name, flags | O_NOFOLLOW, 0600);
	else {
		/*
		 * Through a symlink as flock(1) goes, but not one in a
		 * directory others may write (/tmp): there a neighbour's
		 * link would have root create a file where they choose.
		 */
		if (!pidlock_dir_private(AT_FDCWD, name))
			flags |= O_NOFOLLOW;
		lk->fd = open(name, flags, 0666);
		/* flock(1) also locks files it may only read. */
		if (lk->fd == -1 && kind != LOCK_COUNTING &&
		    (errno == EACCES || errno == EISDIR || errno == EROFS))
			lk->fd = open(name, O_RDONLY | O_NOCTTY | O_CLOEXEC |
			    (flags & O_NOFOLLOW));
	}
	if (lk->fd == -1 || fstat(lk->fd, &st) == -1) {
		*why = errno == ELOOP ? "a symbolic link" : strerror(errno);
		goto fail;
	}
	if (strchr(name, '/') == NULL && !S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto fail;
	}
	/*
	 * Never on 0, 1 or 2 (when plock was started with one closed): the
	 * command would take the lock file for its stdin, stdout or stderr.
	 */
	if (lk->fd < 3) {
		int fd = fcntl(lk->fd, F_DUPFD_CLOEXEC, 3);

		if (fd == -1) {
			*why = strerror(errno);
			goto fail;
		}
		close(lk->fd);
		lk->fd = fd;
	}
	lk->dev = st.st_dev;
	lk->ino = st.st_ino;
	*bp = lk;
	return 0;
fail:
	file_close(lk);
	return -1;
}

/*
 * Re-entrance (see lock_take): a descriptor handed down by an enclosing
 * plock, PKIT_LOCK_FD or one of PKIT_LOCK_FDS (those of the locks taken
 * further out, innermost first: see lock_hand_down), counts only if it is
 * open on this very lock file (device and inode) and its open file
 * description carries the lock, as /proc/self/fdinfo shows: a forged,
 * stale or unrelated number is ignored.  The innermost such descriptor
 * says the kind, which covers the most (-c inside -s is a slot).
 */
static int
file_held(struct lockb *lk, enum lock_kind *kind, const char **why)
{
	const char *s = getenv("PKIT_LOCK_FD"), *p;
	char *end;
	long fd;

	(void)why;
	if (s != NULL && held_fd(lk, s, kind))
		return 1;
	if ((s = getenv("PKIT_LOCK_FDS")) == NULL)
		return 0;
	for (p = s; *p != '\0'; p = end) {
		while (*p == ' ')
			p++;
		errno = 0;
		fd = strtol(p, &end, 10);
		if (end == p || (*end != ' ' && *end != '\0'))
			return 0;
		if (errno == 0 && fd_holds(lk, fd, kind))
			return 1;
	}
	return 0;
}

/* Whether s, PKIT_LOCK_FD (digits only), names a holding descriptor. */
static int
held_fd(struct lockb *lk, const char *s, enum lock_kind *kind)
{
	char *end;
	long fd;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	fd = strtol(s, &end, 10);
	return *end == '\0' && errno == 0 && fd_holds(lk, fd, kind);
}

/*
 * Whether our descriptor fd is open on the lock file and carries the lock
 * (then lk->inherited is fd); its flock says the kind (WRITE: exclusive;
 * READ: shared, or a -c slot if it also holds one).
 */
static int
fd_holds(struct lockb *lk, long fd, enum lock_kind *kind)
{
	struct fdlock lv[FDLOCKS_MAX];
	struct stat st;
	size_t i, n;
	int flock = -1, slot = 0;

	if (fd < 0 || fd > 65535 || fd == lk->fd ||
	    fstat((int)fd, &st) == -1 || st.st_dev != lk->dev ||
	    st.st_ino != lk->ino)
		return 0;
	n = fd_locks((int)fd, lv, FDLOCKS_MAX);
	for (i = 0; i < n; i++)
		if (strcmp(lv[i].kind, "FLOCK") == 0)
			flock = strcmp(lv[i].type, "WRITE") == 0;
		else if (strcmp(lv[i].kind, "OFDLCK") == 0 &&
		    lv[i].start >= SLOT(0) && lv[i].start < SLOT(LOCK_COUNT_MAX))
			slot = 1;
	if (flock == -1)
		return 0;
	*kind = flock ? LOCK_EXCLUSIVE : slot ? LOCK_COUNTING : LOCK_SHARED;
	lk->inherited = (int)fd;
	return 1;
}

/* Hold through the inherited descriptor: the command gets that one. */
static void
file_reenter(struct lockb *lk)
{
	close(lk->fd);
	lk->fd = lk->inherited;
	lk->key[0] = '\0';	/* not a new holder: no record */
}

/*
 * plock -F: lock the caller's descriptor fd, which must be open on the
 * lock file (the one lock_open opened or created), instead of ours.
 */
static int
file_adopt(struct lockb *lk, int fd, const char **why)
{
	struct stat st;

	/*
	 * Our own descriptor has fd's number only if the caller's was not
	 * open: lock_open took the lowest free one.  Locking it would lock
	 * nothing the caller keeps.
	 */
	if (fd == lk->fd) {
		*why = "the descriptor is not open "
		    "(open it with exec FD>>\"$(plock -w NAME)\")";
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (st.st_dev != lk->dev || st.st_ino != lk->ino) {
		*why = "the descriptor is not open on this lock's file "
		    "(open it with exec FD>>\"$(plock -w NAME)\")";
		return -1;
	}
	if (fd != lk->fd)
		close(lk->fd);
	lk->fd = fd;
	return 0;
}

/* plock -w: the lock file's path (a path name as given). */
static int
file_path(struct lockb *lk, char *buf, size_t len, const char **why)
{
	char dir[4096];
	int dfd, n;

	if (strchr(lk->name, '/') != NULL) {
		n = snprintf(buf, len, "%s", lk->name);
	} else {
		if ((dfd = rundir_open(dir, sizeof(dir), why)) == -1)
			return -1;
		close(dfd);
		n = snprintf(buf, len, "%s/locks/%s", dir, lk->name);
	}
	if (n < 0 || (size_t)n >= len) {
		*why = strerror(ENAMETOOLONG);
		return -1;
	}
	return 0;
}

static void
file_close(struct lockb *lk)
{
	if (lk->fd != -1)
		close(lk->fd);
	if (lk->dirfd != -1)
		close(lk->dirfd);
	free(lk->name);
	free(lk);
}

/* Take it (see lock_take), then write this holder's since-when record. */
static int
file_take(struct lockb *lk, int64_t deadline, const char **why)
{
	int r;

	expired = 0;
	switch (lk->kind) {
	case LOCK_EXCLUSIVE:
		r = take_flock(lk->fd, LOCK_EX, deadline);
		if (r == 0)
			strlcpy(lk->key, "x", sizeof(lk->key));
		break;
	case LOCK_SHARED:
		r = take_flock(lk->fd, LOCK_SH, deadline);
		if (r == 0)
			(void)take_slot_record(lk);
		break;
	default:
		r = take_counting(lk, lk->count, deadline);
		break;
	}
	if (r == -1)
		*why = strerror(errno);
	alarm_disarm();
	if (r == 0)
		record(lk);
	return r;
}

/*
 * One lock, without sleeping if it is free, else until the deadline: the
 * flock op (at < 0) or the OFD write lock on byte at.  0 taken, 1 busy
 * (the deadline passed), -1 error (errno).
 */
static int
take_until(int fd, int op, off_t at, int64_t deadline)
{
	int wait = 0;

	for (;;) {
		if ((at < 0 ? flock(fd, wait ? op : op | LOCK_NB) :
		    ofd_lock(fd, F_WRLCK, at, wait)) == 0)
			return 0;
		if (wait) {
			if (errno != EINTR)
				return -1;
		} else {
			/* flock says EWOULDBLOCK, an OFD lock EAGAIN or EACCES. */
			if (errno != EWOULDBLOCK && errno != EAGAIN &&
			    errno != EACCES)
				return -1;
			if (deadline == 0)
				return 1;
			if (sleep_prepare(deadline) == -1)
				return -1;
			wait = 1;
		}
		if (expired)
			return 1;
	}
}

/* flock, without sleeping if it is free, else until the deadline. */
static int
take_flock(int fd, int op, int64_t deadline)
{
	return take_until(fd, op, -1, deadline);
}

/* The semaphore: turnstile, then a slot, then flock shared. */
static int
take_counting(struct lockb *lk, int count, int64_t deadline)
{
	int i, r, slot = -1;

	if ((r = ofd_take(lk->fd, TURNSTILE, deadline)) != 0)
		return r;
	for (i = 0; i < count && slot == -1; i++)
		if (ofd_lock(lk->fd, F_WRLCK, SLOT(i), 0) == 0)
			slot = i;
		else if (errno != EAGAIN && errno != EACCES) {
			r = -1;
			break;
		}
	if (slot == -1 && r == 0) {
		if (deadline == 0)
			r = 1;
		else if ((r = wait_any_slot(lk, count, deadline)) >= 0) {
			slot = r;
			r = 0;
		} else
			r = r == -2 ? 1 : -1;
	}
	(void)ofd_lock(lk->fd, F_UNLCK, TURNSTILE, 0);
	if (r != 0)
		return r;
	if ((r = take_flock(lk->fd, LOCK_SH, deadline)) != 0) {
		(void)ofd_lock(lk->fd, F_UNLCK, SLOT(slot), 0);
		return r;
	}
	snprintf(lk->key, sizeof(lk->key), "c%d", slot);
	return 0;
}

/*
 * A shared holder's record needs a name no other live holder uses: the
 * first free of SHARED_REC_MAX OFD locks, held as long as the lock is.
 * Needs a writable descriptor; without one there is no record.
 */
static int
take_slot_record(struct lockb *lk)
{
	int k;

	for (k = 0; k < SHARED_REC_MAX; k++)
		if (ofd_lock(lk->fd, F_WRLCK, SHARED_REC + k, 0) == 0) {
			snprintf(lk->key, sizeof(lk->key), "s%d", k);
			return 0;
		} else if (errno != EAGAIN && errno != EACCES)
			break;
	return -1;
}

/*
 * At the head of the line, all slots busy: sleep on every slot at once
 * (one thread each, on a second OFD) until one frees.  Returns the slot,
 * now held on lk->fd; -2 if the deadline passed; -1 on error.
 */
static int
wait_any_slot(struct lockb *lk, int count, int64_t deadline)
{
	struct waiter *wv;
	struct sigaction sa, oldsa;
	pthread_attr_t attr;
	sigset_t mask, old;
	atomic_int stop = 0;
	ssize_t n;
	int i, p[2], wfd, slot = -1, started = 0, e = 0;

	if (sleep_prepare(deadline) == -1)
		return -1;
	if ((wfd = reopen(lk)) == -1)
		return -1;
	if (pipe2(p, O_CLOEXEC) == -1) {
		close(wfd);
		return -1;
	}
	if ((wv = calloc(count, sizeof(*wv))) == NULL) {
		e = errno;
		goto out;
	}
	/* The wake-up signal only interrupts: no SA_RESTART. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_wake;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWAKE, &sa, &oldsa);
	/* The threads take no signal but the wake-up: SIGALRM is main's. */
	sigfillset(&mask);
	sigdelset(&mask, SIGWAKE);
	pthread_sigmask(SIG_SETMASK, &mask, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < count; i++) {
		wv[i].fd = wfd;
		wv[i].pipe = p[1];
		wv[i].slot = i;
		wv[i].stop = &stop;
		if ((e = pthread_create(&wv[i].thread, &attr, slot_waiter,
		    &wv[i])) != 0)
			break;
		started++;
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (e == 0) {
		if (expired) {
			slot = -2;
			break;
		}
		if ((n = read(p[0], &slot, sizeof(slot))) == sizeof(slot))
			break;
		slot = -1;
		if (n != -1 || errno != EINTR)
			e = n == -1 ? errno : EIO;
	}
	/*
	 * Stop the other threads: the signal interrupts their sleep.  One
	 * sent just before a thread went to sleep would be lost, so it is
	 * sent again until the thread is gone (this is the only loop, and it
	 * runs only here, at the end).
	 */
	atomic_store(&stop, 1);
	for (i = 0; i < started; i++)
		for (;;) {
			struct timespec ts;

			pthread_kill(wv[i].thread, SIGWAKE);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 10000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_timedjoin_np(wv[i].thread, NULL, &ts) == 0)
				break;
		}
	sigaction(SIGWAKE, &oldsa, NULL);
	if (slot >= 0) {
		/*
		 * Move the slot onto the lock's own OFD.  Only our turnstile
		 * holds other takers off, so it is ours to take: wait for it
		 * in case the kernel is still handing it over.
		 */
		(void)ofd_lock(wfd, F_UNLCK, SLOT(slot), 0);
		while (ofd_lock(lk->fd, F_WRLCK, SLOT(slot), 1) == -1)
			if (errno != EINTR) {
				e = errno;
				slot = -1;
				break;
			}
	}
out:
	free(wv);
	close(p[0]);
	close(p[1]);
	close(wfd);	/* drops whatever the other threads took at the end */
	if (slot == -1)
		errno = e != 0 ? e : EIO;
	return slot;
}

/* One thread of wait_any_slot: sleep until slot w->slot is ours. */
static void *
slot_waiter(void *arg)
{
	struct waiter *w = arg;
	ssize_t n;

	while (!atomic_load(w->stop)) {
		if (ofd_lock(w->fd, F_WRLCK, SLOT(w->slot), 1) == 0) {
			n = write(w->pipe, &w->slot, sizeof(w->slot));
			(void)n;	/* the pipe holds far more than COUNT ints */
			break;
		}
		if (errno != EINTR)
			break;
	}
	return NULL;
}

static void
on_wake(int sig)
{
	(void)sig;
}

/* One byte's OFD write lock (or unlock); wait: F_OFD_SETLKW. */
static int
ofd_lock(int fd, short type, off_t at, int wait)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = at;
	fl.l_len = 1;
	return fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
}

/* ofd_lock(F_WRLCK) until the deadline, like take_flock. */
static int
ofd_take(int fd, off_t at, int64_t deadline)
{
	return take_until(fd, 0, at, deadline);
}

/*
 * About to sleep: with a deadline, arm the timer (once) whose SIGALRM
 * interrupts the sleep, and make sure SIGALRM is not blocked.
 */
static int
sleep_prepare(int64_t deadline)
{
	struct sigaction sa;
	struct itimerval it;
	sigset_t set;
	int64_t left;

	if (deadline < 0 || alarm_armed)
		return 0;
	left = deadline - mono_now();
	if (left <= 0) {
		expired = 1;
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: the sleeping call returns */
	if (sigaction(SIGALRM, &sa, &alarm_old) == -1)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &set, &alarm_oldmask);
	memset(&it, 0, sizeof(it));
	left += 999;	/* round up to whole microseconds */
	it.it_value.tv_sec = left / 1000000000;
	it.it_value.tv_usec = (left % 1000000000) / 1000;
	it.it_interval.tv_usec = 20000;
	alarm_armed = 1;
	if (setitimer(ITIMER_REAL, &it, NULL) == -1)
		return -1;
	return 0;
}

/* Stop the timer and put SIGALRM back as it was (the command gets it). */
static void
alarm_disarm(void)
{
	struct itimerval it;

	if (!alarm_armed)
		return;
	memset(&it, 0, sizeof(it));
	(void)setitimer(ITIMER_REAL, &it, NULL);
	(void)sigaction(SIGALRM, &alarm_old, NULL);
	pthread_sigmask(SIG_SETMASK, &alarm_oldmask, NULL);
	alarm_armed = 0;
}

static void
on_alarm(int sig)
{
	(void)sig;
	expired = 1;
}

/*
 * The runtime directory's locks/: lock files and since-when records.  A
 * refusal names the directory (escaped): the caller's message names only
 * the lock, and "qq: group or other writable" would not say which
 * directory is.
 */
static int
locks_dir(const char **why)
{
	static char msg[4 * PATH_MAX + 64];	/* safe(path) and the reason */
	char path[4096];
	int dfd, fd;

	if ((dfd = rundir_open(path, sizeof(path), why)) == -1) {
		snprintf(msg, sizeof(msg), "runtime directory %s: %s",
		    safe(path), *why);
		*why = msg;
		return -1;
	}
	if ((fd = rundir_sub(dfd, "locks", why)) == -1) {
		snprintf(msg, sizeof(msg), "runtime directory %s/locks: %s",
		    safe(path), *why);
		*why = msg;
	}
	close(dfd);
	return fd;
}

/* A second, independent OFD on the lock file (close-on-exec). */
static int
reopen(struct lockb *lk)
{
	struct stat st;
	int fd;

	if (strchr(lk->name, '/') == NULL)
		fd = openat(lk->dirfd, lk->name,
		    O_RDWR | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	else
		fd = open(lk->name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_dev != lk->dev ||
	    st.st_ino != lk->ino) {
		close(fd);
		errno = ESTALE;	/* replaced under us */
		return -1;
	}
	return fd;
}

/*
 * Write this holder's since-when record (best effort; a failure only
 * means plock -q -v shows '-' for it).
 */
static void
record(struct lockb *lk)
{
	char rec[96], buf[REC_LEN + 1];
	struct timespec rt, bt;
	int fd, sfd, ok = 0, created = 0;

	if (lk->dirfd == -1 || lk->key[0] == '\0' ||
	    rec_name(rec, sizeof(rec), lk->dev, lk->ino, lk->key) == -1)
		return;
	if (clock_gettime(CLOCK_REALTIME, &rt) == 0 &&
	    clock_gettime(CLOCK_BOOTTIME, &bt) == 0) {
		rec_format(buf, (long)getpid(),
		    (long long)rt.tv_sec * 1000000000 + rt.tv_nsec,
		    (long long)bt.tv_sec * 1000000000 + bt.tv_nsec);
		/*
		 * Overwritten in place, one write: a reader that catches it
		 * half done sees a bad checksum, never a wrong record.
		 */
		fd = openat(lk->dirfd, rec, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 && errno == ENOENT) {
			fd = openat(lk->dirfd, rec, O_WRONLY | O_CREAT |
			    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			created = fd != -1;
		}
		if (fd != -1) {
			ok = pwrite(fd, buf, REC_LEN, 0) == REC_LEN;
			ok = close(fd) == 0 && ok;
		}
	}
	if (!ok)
		(void)unlinkat(lk->dirfd, rec, 0);
	if (!created || (sfd = rec_sweep_open(lk->dirfd)) == -1)
		return;
	rec_sweep(lk->dirfd, sfd);
	close(sfd);
}

/*
 * locks/.sweep, whose lock lets one sweeper at a time in; its mtime is
 * when the last sweep began.  Created dated 1970: the first
 * sweep is due at once.
 */
static int
rec_sweep_open(int dirfd)
{
	const struct timespec never[2] = { { 0, 0 }, { 0, 0 } };
	int fd;

	fd = openat(dirfd, ".sweep", O_RDWR | O_NOFOLLOW | O_NOCTTY |
	    O_CLOEXEC);
	if (fd != -1 || errno != ENOENT)
		return fd;
	fd = openat(dirfd, ".sweep", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NOCTTY | O_CLOEXEC, 0600);
	if (fd != -1)
		(void)futimens(fd, never);
	else if (errno == EEXIST)	/* another holder made it first */
		fd = openat(dirfd, ".sweep", O_RDWR | O_NOFOLLOW | O_NOCTTY |
		    O_CLOEXEC);
	return fd;
}

/*
 * Whether a sweep is due: the last began (sfd's mtime) SWEEP_EVERY
 * seconds ago or more, or the clock has been set back before it.
 */
static int
rec_sweep_due(int sfd)
{
	struct timespec now;
	struct stat st;

	if (fstat(sfd, &st) == -1 || clock_gettime(CLOCK_REALTIME, &now) == -1)
		return 0;
	return now.tv_sec - st.st_mtim.tv_sec >= SWEEP_EVERY ||
	    now.tv_sec < st.st_mtim.tv_sec;
}

/*
 * Remove the since-when records of locks that nobody holds: no process
 * can do it when a lock is let go (the kernel lets go, of a command that
 * may be killed), so a holder that has just created a new record sweeps,
 * if none did in the last SWEEP_EVERY seconds and no other is sweeping
 * (it would only find the same: it skips rather than wait; sfd is
 * locks/.sweep, whose lock orders the sweepers).  The records that
 * outlive their lock are then at most those of the locks held at the
 * last sweep and of the paths locked since, not one for every path ever
 * locked; and a sweep, which reads all of locks/ and, in a container,
 * every descriptor of every process, is paid once a minute at most.
 * Kept: a record of a lock file in locks/ (a plain name's, which stays
 * itself and whose record is overwritten in place, never created again),
 * and one of a lock someone holds (rec_judge).
 *
 * A lock looked at as free may be taken the next moment, and its holder
 * then writes its record over the old one, in place.  So a record is not
 * unlinked where it lies: it is moved aside (renamed), the locks are
 * looked at again, and one whose lock is held now goes back (by link, so
 * that it never replaces a record its holder has created meanwhile).  A
 * holder takes its lock before it opens its record: one that took it
 * after the second look opens the record after the move, finds none,
 * and creates its own.  No holder ever waits for a sweep.
 */
static void
rec_sweep(int dirfd, int sfd)
{
	struct rec_list rl = { NULL, 0 };
	struct stat dst;
	struct dirent *d;
	ino_t *files = NULL;
	uintmax_t dev, ino;
	size_t nfiles = 0, caprec = 0, capfiles = 0, i, left = 0;
	char gone[64];
	DIR *dp;
	int fd;

	if (!rec_sweep_due(sfd))
		return;
	/* Two sweepers never wait for each other. */
	if (flock(sfd, LOCK_EX | LOCK_NB) == -1 || !rec_sweep_due(sfd))
		return;
	(void)futimens(sfd, NULL);
	if (fstat(dirfd, &dst) == -1 || (fd = dup(dirfd)) == -1)
		return;
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	rewinddir(dp);
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, ".gone-", 6) == 0)
			/* Moved aside by a sweeper that died: its holder,
			 * if any, shows '-' (best effort). */
			(void)unlinkat(dirfd, d->d_name, 0);
		else if (sscanf(d->d_name, ".rec-%jx-%ju.", &dev, &ino) == 2) {
			if (rec_grow((void **)&rl.v, &caprec, rl.n,
			    sizeof(*rl.v)) == -1)
				goto out;
			strlcpy(rl.v[rl.n].name, d->d_name, sizeof(rl.v->name));
			rl.v[rl.n].dev = (dev_t)dev;
			rl.v[rl.n].ino = (ino_t)ino;
			rl.v[rl.n].gone = 0;
			rl.v[rl.n++].keep = 0;
		} else if (d->d_name[0] != '.') {
			if (rec_grow((void **)&files, &capfiles, nfiles,
			    sizeof(*files)) == -1)
				goto out;
			files[nfiles++] = d->d_ino;
		}
	}
	if (rl.n == 0)
		goto out;
	qsort(rl.v, rl.n, sizeof(*rl.v), rec_cmp);
	ino_sort(files, nfiles);
	for (i = 0; i < rl.n; i++)
		rl.v[i].keep = rl.v[i].dev == dst.st_dev &&
		    ino_in(files, nfiles, rl.v[i].ino);
	if (rec_judge(&rl) == -1)
		goto out;
	for (i = 0; i < rl.n; i++) {
		if (rl.v[i].keep)
			continue;
		rec_gone_name(gone, sizeof(gone), i);
		if (renameat(dirfd, rl.v[i].name, dirfd, gone) == 0) {
			rl.v[i].gone = 1;
			left++;
		}
	}
	if (left == 0)
		goto out;
	/* The second look: a doubt (-1) keeps them all. */
	if (rec_judge(&rl) == -1)
		for (i = 0; i < rl.n; i++)
			rl.v[i].keep = 1;
	for (i = 0; i < rl.n; i++) {
		if (!rl.v[i].gone)
			continue;
		rec_gone_name(gone, sizeof(gone), i);
		if (rl.v[i].keep)
			(void)linkat(dirfd, gone, dirfd, rl.v[i].name, 0);
		(void)unlinkat(dirfd, gone, 0);
	}
out:
	closedir(dp);
	free(rl.v);
	free(files);
}

/* Where rec_sweep moves record i of its list aside, in dst. */
static void
rec_gone_name(char *dst, size_t size, size_t i)
{
	snprintf(dst, size, ".gone-%ld-%zu", (long)getpid(), i);
}

/*
 * Mark kept the records of rl whose lock someone holds: an inode with a
 * granted flock in /proc/locks (by number alone, as proc_locks_has), and
 * where that list leaves locks out (a container), one whose file some
 * process has a flock on, by its descriptors.  0, or -1 if that cannot
 * be known (/proc/locks unread, a process whose descriptors could not be
 * read, not one that has gone): a doubt keeps them all, as it does in
 * the query.
 */
static int
rec_judge(struct rec_list *rl)
{
	struct dirent *d;
	ino_t *held = NULL;
	size_t nheld = 0, i, left = 0;
	DIR *proc;
	char *end;
	long pid;
	int doubt = 0;

	if (rec_held(&held, &nheld) == -1) {
		free(held);
		return -1;
	}
	ino_sort(held, nheld);
	for (i = 0; i < rl->n; i++) {
		if (!rl->v[i].keep)
			rl->v[i].keep = ino_in(held, nheld, rl->v[i].ino);
		left += !rl->v[i].keep;
	}
	free(held);
	if (left == 0 || proc_locks_complete())
		return 0;
	if ((proc = opendir("/proc")) == NULL)
		return -1;
	while ((d = readdir(proc)) != NULL) {
		pid = strtol(d->d_name, &end, 10);
		if (*end == '\0' && pid > 0 &&
		    proc_fdlocks_if(pid, rec_want, rec_mark, rl) == -1 &&
		    errno != ENOENT && errno != ESRCH)
			doubt = 1;
	}
	closedir(proc);
	return doubt ? -1 : 0;
}

/* Room in *v (of *cap elements of size) for element n: 0, or -1. */
static int
rec_grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 64 : *cap * 2;
	if ((nv = reallocarray(*v, ncap, size)) == NULL)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

/*
 * The inode numbers with a granted flock in /proc/locks, in *v (free
 * it): 0, or -1 if it cannot be read (then nothing is known to be free).
 */
static int
rec_held(ino_t **v, size_t *n)
{
	char line[256];
	unsigned maj, min;
	uintmax_t ino;
	size_t cap = 0;
	FILE *fp;

	if ((fp = fopen("/proc/locks", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (!flock_line(line, &maj, &min, &ino))
			continue;
		if (rec_grow((void **)v, &cap, *n, sizeof(**v)) == -1) {
			fclose(fp);
			return -1;
		}
		(*v)[(*n)++] = (ino_t)ino;
	}
	fclose(fp);
	return 0;
}

/* The record of (st's dev, ino) in rl, any of them, or NULL. */
static struct rec_entry *
rec_find(const struct rec_list *rl, const struct stat *st)
{
	struct rec_entry key;

	key.dev = st->st_dev;
	key.ino = st->st_ino;
	if (rl->n == 0)
		return NULL;
	return bsearch(&key, rl->v, rl->n, sizeof(*rl->v), rec_cmp);
}

/*
 * rec_sweep's scan of a process: is the file one of the doubtful?  A
 * lock's records are all kept or all not.
 */
static int
rec_want(void *arg, const struct stat *st)
{
	const struct rec_entry *e;

	return (e = rec_find(arg, st)) != NULL && !e->keep;
}

/* ...and if the descriptor holds a flock on it, its records stay. */
static int
rec_mark(void *arg, const struct stat *st, const struct fdlock *lv, size_t n)
{
	struct rec_list *rl = arg;
	struct rec_entry *e, *last;
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(lv[i].kind, "FLOCK") == 0)
			break;
	if (i == n || (e = rec_find(rl, st)) == NULL)
		return 0;
	/* The lock's records are side by side around e. */
	last = rl->v + rl->n - 1;
	while (e > rl->v && rec_cmp(e - 1, e) == 0)
		e--;
	for (; e <= last && e->dev == st->st_dev && e->ino == st->st_ino; e++)
		e->keep = 1;
	return 0;
}

/* By (dev, ino): rec_sweep's records. */
static int
rec_cmp(const void *a, const void *b)
{
	const struct rec_entry *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

/* By number: rec_sweep's inodes. */
static int
ino_cmp(const void *a, const void *b)
{
	const ino_t *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/* Sort n inodes at v (NULL if none: qsort may not be given it). */
static void
ino_sort(ino_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), ino_cmp);
}

/* Whether x is among the n sorted inodes at v (NULL if none). */
static int
ino_in(const ino_t *v, size_t n, ino_t x)
{
	return n > 0 && bsearch(&x, v, n, sizeof(*v), ino_cmp) != NULL;
}

/*
 * A record: "PID REALTIME BOOTTIME SUM\n" in fixed widths, exactly REC_LEN
 * bytes (12 + 1 + 20 + 1 + 20 + 1 + 8 + 1).
 */
static void
rec_format(char *buf, long pid, long long rt, long long bt)
{
	int n;

	n = snprintf(buf, REC_LEN + 1, "%12ld %20lld %20lld ", pid, rt, bt);
	snprintf(buf + n, REC_LEN + 1 - n, "%08x\n", rec_sum(buf, n));
}

/* FNV-1a over the record's fields. */
static unsigned
rec_sum(const char *s, size_t n)
{
	unsigned h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/*
 * Chainload argv holding the lock: lk->fd is handed to the command (its
 * number in PKIT_LOCK_FD), every other descriptor of ours is
 * close-on-exec.  Returns only if the exec failed, with errno set.
 */
static void
file_exec(struct lockb *lk, char *const argv[])
{
	char num[16];

	if (lk->dirfd != -1) {
		close(lk->dirfd);
		lk->dirfd = -1;
	}
	snprintf(num, sizeof(num), "%d", lk->fd);
	if (lock_hand_down("PKIT_LOCK_FD", "PKIT_LOCK_FDS", ' ', num) == -1 ||
	    setenv("PKIT_LOCK_FD", num, 1) == -1 ||
	    fcntl(lk->fd, F_SETFD, 0) == -1)
		return;
	execvp(argv[0], argv);
}

/*
 * The processes that hold the lock now, found in /proc (each one has a
 * descriptor on the lock's open file description with the lock on it),
 * sorted by pid.  Returns how many (0: free); -2 with *why set if it is
 * held by processes the caller may not look into; or -1 with *why set.
 */
static int
file_holders(struct lockb *lk, struct lock_holder **hv, const char **why)
{
	const char *name = lk->name, *nodir;
	struct found *fv = NULL;
	struct stat st;
	struct dirent *d;
	DIR *proc;
	char *end;
	size_t fn = 0, i, j;
	unsigned sb[2];
	int dirfd, r, sbok = 0;
	long pid;

	*hv = NULL;
	if (strchr(name, '/') == NULL) {
		if ((dirfd = locks_dir(why)) == -1)
			return -1;
		r = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW);
		if (r == 0)
			sbok = lock_sbdev(dirfd, name, AT_SYMLINK_NOFOLLOW,
			    sb) == 0;
		close(dirfd);
	} else if ((r = stat(name, &st)) == 0)
		sbok = lock_sbdev(AT_FDCWD, name, 0, sb) == 0;
	if (r == -1) {
		if (errno == ENOENT)
			return 0;	/* never locked: free */
		*why = strerror(errno);
		return -1;
	}
	/* What lock_open would refuse is not "free": say why, as it does. */
	if (strchr(name, '/') == NULL && !S_ISREG(st.st_mode)) {
		*why = S_ISLNK(st.st_mode) ? "a symbolic link" :
		    S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file";
		return -1;
	}
	/* Cheap first look: no flock on the inode in /proc/locks, free. */
	if (proc_locks_complete() &&
	    proc_locks_has(st.st_ino, sbok ? sb : NULL) == 0) {
		return 0;
	}
	if ((proc = opendir("/proc")) == NULL) {
		*why = strerror(errno);
		return -1;
	}
	while ((d = readdir(proc)) != NULL) {
		pid = strtol(d->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (scan_pid(pid, st.st_dev, st.st_ino, &fv, &fn) == -1) {
			*why = strerror(errno);
			closedir(proc);
			free(fv);
			return -1;
		}
	}
	closedir(proc);
	/*
	 * Not ourselves: a plock -q run inside the locked command inherited
	 * the lock's descriptor, but it is not a holder.  Unless we are the
	 * only one: then the holder exec'd us (CMD, or a script that locked
	 * itself with -F), and we do hold it.  So we are looked at above,
	 * and left out only here.
	 */
	for (i = j = 0; i < fn; i++)
		if (fv[i].pid != getpid())
			fv[j++] = fv[i];
	if (j > 0)
		fn = j;
	/*
	 * Held, but by no process we may look into (another user's): say
	 * so rather than call it free.  As root we see everyone, and a line
	 * for the inode is then a file of the same number elsewhere.
	 */
	if (fn == 0 && geteuid() != 0 &&
	    proc_locks_has(st.st_ino, sbok ? sb : NULL) == 1) {
		*why = "held by processes you may not see";
		return -2;
	}
	if (fn > 1)
		qsort(fv, fn, sizeof(*fv), found_cmp);
	/* One line per process, even with several descriptors on the lock. */
	for (i = j = 0; i < fn; i++)
		if (j == 0 || fv[j - 1].pid != fv[i].pid)
			fv[j++] = fv[i];
	fn = j;
	if (fn > 0 && (*hv = calloc(fn, sizeof(**hv))) == NULL) {
		*why = strerror(errno);
		free(fv);
		return -1;
	}
	/* A path's holders without a usable runtime directory: no records. */
	dirfd = fn > 0 ? locks_dir(&nodir) : -1;
	for (i = 0; i < fn; i++) {
		(*hv)[i].pid = fv[i].pid;
		(*hv)[i].since = dirfd == -1 ? -1 :
		    rec_since(dirfd, st.st_dev, st.st_ino, &fv[i]);
	}
	if (dirfd != -1)
		close(dirfd);
	free(fv);
	return (int)fn;
}

/*
 * Whether /proc/locks lists every lock, so that a lock it does not show
 * is free: in the initial pid namespace only (its nsfs inode is fixed,
 * PROC_PID_INIT_INO).  In another one (a container), the kernel leaves
 * out a lock whose taker has no pid there: one that has exited, as
 * `plock -F` does at once, or a command whose child inherited the lock;
 * held all the same.  Then only the scan of every process can tell.
 */
static int
proc_locks_complete(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) == 0 &&
	    st.st_ino == (ino_t)0xEFFFFFFCu;
}

/*
 * Whether /proc/locks shows a granted flock on the inode: 1 yes, 0 no, -1
 * unknown.  The device there is the superblock's, which is not always
 * what stat(2) says (a btrfs subvolume has a device of its own): sb, from
 * lock_sbdev, or NULL if unknown, and then any inode of that number
 * counts (held elsewhere is not "free").
 */
static int
proc_locks_has(ino_t ino, const unsigned *sb)
{
	char line[256];
	unsigned maj, min;
	uintmax_t n;
	FILE *fp;
	int has = 0;

	if ((fp = fopen("/proc/locks", "re")) == NULL)
		return -1;
	while (!has && fgets(line, sizeof(line), fp) != NULL)
		has = flock_line(line, &maj, &min, &n) &&
		    n == (uintmax_t)ino &&
		    (sb == NULL || (maj == sb[0] && min == sb[1]));
	fclose(fp);
	return has;
}

/*
 * A line of /proc/locks that is a granted flock, its device and inode
 * in maj, min, ino: "1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF"
 * (a waiter's reads "1: -> FLOCK ...").
 */
static int
flock_line(const char *line, unsigned *maj, unsigned *min, uintmax_t *ino)
{
	char kind[16];

	return sscanf(line, "%*d: %15s %*s %*s %*d %x:%x:%ju", kind, maj, min,
	    ino) == 4 && strcmp(kind, "FLOCK") == 0;
}

/*
 * The device /proc/locks names the file by (at dirfd, path; flags as
 * statx): its superblock's, in the line of its mount (statx's mount id)
 * in /proc/self/mountinfo, as major and minor in sb[0], sb[1].  0, or -1
 * if unknown (before Linux 5.8).
 */
static int
lock_sbdev(int dirfd, const char *path, int flags, unsigned *sb)
{
	struct statx stx;
	char *line = NULL;
	size_t cap = 0;
	FILE *fp;
	long long id;
	int found = 0;

	if (statx(dirfd, path, flags, STATX_MNT_ID, &stx) == -1 ||
	    (stx.stx_mask & STATX_MNT_ID) == 0)
		return -1;
	if ((fp = fopen("/proc/self/mountinfo", "re")) == NULL)
		return -1;
	/* "36 35 98:0 /mnt1 /mnt2 rw,noatime ...": id, parent, dev. */
	while (!found && getline(&line, &cap, fp) != -1)
		found = sscanf(line, "%lld %*d %u:%u", &id, &sb[0],
		    &sb[1]) == 3 && (unsigned long long)id == stx.stx_mnt_id;
	free(line);
	fclose(fp);
	return found ? 0 : -1;
}

/* What scan_pid collects, through proc_fdlocks' callback scan_fd. */
struct scan {
	pid_t		 pid;
	struct found	**fv;
	size_t		*fn;
};

/*
 * Add to *fv the descriptors of process pid that hold a flock on the
 * inode (lib/holders.c).  A process that vanished or that we may not look
 * into is skipped.  -1 only when out of memory.
 */
static int
scan_pid(pid_t pid, dev_t dev, ino_t ino, struct found **fv, size_t *fn)
{
	struct scan sc = { pid, fv, fn };

	return proc_fdlocks(pid, dev, ino, scan_fd, &sc) == -2 ? -1 : 0;
}

/*
 * One descriptor on the lock file: a holder if its open file description
 * has the flock; its key names the record (the flock's WRITE: "x"; a
 * shared holder's record slot "sK"; a semaphore's slot "cK").  -2 when
 * out of memory, which stops the walk.
 */
static int
scan_fd(void *arg, const struct fdlock *lv, size_t n)
{
	struct scan *sc = arg;
	struct found *nv;
	char key[16];
	pid_t held = -1;
	size_t i;

	key[0] = '\0';
	for (i = 0; i < n; i++) {
		if (strcmp(lv[i].kind, "FLOCK") == 0) {
			held = lv[i].locker;
			if (strcmp(lv[i].type, "WRITE") == 0 && key[0] == '\0')
				strlcpy(key, "x", sizeof(key));
		} else if (strcmp(lv[i].kind, "OFDLCK") == 0) {
			if (lv[i].start >= SHARED_REC &&
			    lv[i].start < SHARED_REC + SHARED_REC_MAX)
				snprintf(key, sizeof(key), "s%lld",
				    lv[i].start - SHARED_REC);
			else if (lv[i].start >= SLOT(0) &&
			    lv[i].start < SLOT(LOCK_COUNT_MAX))
				snprintf(key, sizeof(key), "c%lld",
				    lv[i].start - SLOT(0));
		}
	}
	if (held == -1)
		return 0;	/* open, not holding: e.g. a waiter */
	if ((nv = reallocarray(*sc->fv, *sc->fn + 1, sizeof(**sc->fv))) == NULL)
		return -2;
	*sc->fv = nv;
	nv[*sc->fn].pid = sc->pid;
	nv[*sc->fn].locker = held;
	strlcpy(nv[*sc->fn].key, key, sizeof(nv[*sc->fn].key));
	(*sc->fn)++;
	return 0;
}

/*
 * The since-when of a holder, from the record of the holder's key, or -1.
 * A record counts only if it was written by the process that took this
 * live lock: its pid is the lock's, and if that pid is alive it is the
 * same process (same start time), not an earlier one that reused it.  The
 * record is written before the command runs, so nothing can inherit a lock
 * whose record is not yet written.
 */
static int64_t
rec_since(int dirfd, dev_t dev, ino_t ino, const struct found *f)
{
	char rec[96], buf[REC_LEN + 1], want[REC_LEN + 1];
	unsigned long long start;
	long long rt, bt;
	long pid;
	ssize_t n;
	int fd;

	if (f->key[0] == '\0' ||
	    rec_name(rec, sizeof(rec), dev, ino, f->key) == -1)
		return -1;
	if ((fd = openat(dirfd, rec, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	n = pread(fd, buf, REC_LEN, 0);
	close(fd);
	if (n != REC_LEN)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %lld %lld", &pid, &rt, &bt) != 3 ||
	    pid != f->locker)
		return -1;
	/* Whole and sound: it formats back to the very same bytes. */
	rec_format(want, pid, rt, bt);
	if (memcmp(buf, want, REC_LEN) != 0)
		return -1;
	/*
	 * Written by the taker of this lock, not by an earlier process with
	 * the same pid: a live taker must have started before the record.
	 */
	if (proc_stat(pid, NULL, &start) == 0 &&
	    start * (1000000000 / sysconf(_SC_CLK_TCK)) > (unsigned long long)bt)
		return -1;
	return rt;
}

static int
rec_name(char *buf, size_t len, dev_t dev, ino_t ino, const char *key)
{
	int n;

	n = snprintf(buf, len, ".rec-%jx-%ju.%s", (uintmax_t)dev,
	    (uintmax_t)ino, key);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int
found_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}
