/* SPDX-License-Identifier: ISC */
/*
 * queue.c: the queue API of queue.h over its backends (queue-backend.h).
 * The backend is chosen here and only here, by name (backend()): a
 * redis: name selects Redis, any other shared memory.  Then one indirect
 * call per operation.
 *
 * The API owns what all backends share: the message of the last error
 * (pq_seterr, pq_error) and the signal state (pq_catch_signals,
 * pq_signalled, pq_sleep_on, pq_guard_writes).  Tier: this layer returns
 * errors and never prints, with two exceptions by contract:
 * pq_die_by_signal, which a tool calls to die of the signal it caught,
 * and the SIGBUS handler, as a truncated mapping cannot return an error.
 */
#include <sys/syscall.h>

#include <linux/futex.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "parse.h"
#include "queue-backend.h"
#include "redis.h"

struct pq {
	const struct pq_ops	*ops;
	struct pqb		*b;
	char			*spec;		/* the name as given (pq_spec) */
};

static const struct pq_ops	*backend(const char *);
static int	wrap(int, const char *, const struct pq_ops *, struct pqb *,
		    struct pq **);

/* --- errors ------------------------------------------------------------ */

static char errbuf[512];
static volatile sig_atomic_t signo;
static uint32_t *volatile sleep_word;	/* the futex word we may sleep on */
static volatile sig_atomic_t guard_fd = -1;	/* pq_guard_writes */
static int guard_null = -1;		/* /dev/null, read-only */

int
pq_seterr(const char *name, int code, const char *fmt, ...)
{
	static char full[2 * (4 * PATH_MAX + 8) + 256];
	const size_t head = sizeof(errbuf) / 2, tail = sizeof(errbuf) - head - 4;
	va_list ap;
	size_t len;
	int n;

	n = snprintf(full, sizeof(full), "%s: ", safe(name));
	if (n < 0 || (size_t)n >= sizeof(full))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(full + n, sizeof(full) - n, fmt, ap);
	va_end(ap);
	/*
	 * Too long for errbuf (a path near PATH_MAX, escaped): the middle
	 * goes, not the end, which says why.
	 */
	if ((len = strlen(full)) < sizeof(errbuf))
		memcpy(errbuf, full, len + 1);
	else {
		memcpy(errbuf, full, head);
		memcpy(errbuf + head, "...", 3);
		memcpy(errbuf + head + 3, full + len - tail, tail + 1);
	}
	return code;
}

const char *
pq_error(void)
{
	return errbuf;
}

/* --- signals ----------------------------------------------------------- */

/*
 * Record the signal; if we are about to sleep (or asleep) on a futex word,
 * move the word and wake it, so that a signal that lands between our
 * check of signo and the futex call cannot be lost.  Others sharing the
 * word see a spurious wake-up, which every waiter tolerates.  A guarded
 * descriptor (pq_guard_writes) gets /dev/null in its place, for the same
 * reason: the write that follows a check of signo fails at once.
 */
static void
on_signal(int sig)
{
	uint32_t *w = sleep_word;
	int e = errno, fd = guard_fd;

	signo = sig;
	if (w != NULL) {
		__atomic_add_fetch(w, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
	if (fd >= 0)
		dup2(guard_null, fd);
	errno = e;
}

void
pq_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: waits must return EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void
pq_sleep_on(uint32_t *word)
{
	sleep_word = word;
}

/*
 * /dev/null read-only, as cli.c's stand-in for a closed stdout: a write
 * fails with EBADF, and fd's number stays taken, so that nothing opened
 * later (a Redis reconnection) can land on it and receive the output.
 */
int
pq_guard_writes(int fd)
{
	if (fd >= 0 && guard_null == -1 &&
	    (guard_null = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	guard_fd = fd;
	return 0;
}

int
pq_signalled(void)
{
	return signo;
}

void
pq_die_by_signal(void)
{
	int sig = signo != 0 ? signo : SIGTERM;

	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

static void
on_sigbus(int sig)
{
	static const char msg[] =
	    ": queue segment truncated under us (or its file system full)\n";
	const char *p = getprogname();

	(void)sig;
	if (p != NULL)
		(void)!write(STDERR_FILENO, p, strlen(p));
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(PKIT_EXIT_FAIL);
}

void
pq_sigbus_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* --- choosing the backend ---------------------------------------------- */

/* The one place that tells a Redis name from a shared-memory one. */
static const struct pq_ops *
backend(const char *name)
{
	return redis_name_is(name) ? &pq_redis_ops : &pq_shm_ops;
}

int
pq_create(const char *name, const struct pq_config *cfg, int flags,
    struct pq **qp)
{
	const struct pq_ops *ops = backend(name);
	struct pqb *b = NULL;
	int r;

	r = ops->create(name, cfg, flags, qp != NULL ? &b : NULL);
	return wrap(r, name, ops, b, qp);
}

int64_t pq_open_by = PQ_FOREVER;

void
pq_open_deadline(int64_t deadline)
{
	pq_open_by = deadline;
}

int
pq_open(const char *name, struct pq **qp)
{
	const struct pq_ops *ops = backend(name);
	struct pqb *b = NULL;
	int r;

	r = ops->open(name, &b);
	return wrap(r, name, ops, b, qp);
}

int
pq_open_lazy(const char *name, struct pq **qp)
{
	const struct pq_ops *ops = backend(name);
	struct pqb *b = NULL;
	int r;

	r = (ops->open_lazy != NULL ? ops->open_lazy : ops->open)(name, &b);
	return wrap(r, name, ops, b, qp);
}

int
pq_remove(const char *name)
{
	return backend(name)->remove(name);
}

/* Shared memory only: no server to ask which queues are the user's. */
int
pq_list(void (*fn)(const char *, void *), void *arg)
{
	return pq_shm_ops.list(fn, arg);
}

/* Handles are never freed (see queue.h): neither is this. */
static int
wrap(int r, const char *name, const struct pq_ops *ops, struct pqb *b,
    struct pq **qp)
{
	struct pq *q;

	if (r != 0 || qp == NULL)
		return r;
	if ((q = malloc(sizeof(*q))) == NULL ||
	    (q->spec = strdup(name)) == NULL)
		return pq_seterr("pqueue", PKIT_EXIT_FAIL, "out of memory");
	q->ops = ops;
	q->b = b;
	*qp = q;
	return 0;
}

int
pq_put(struct pq *q, const char *const *msgs, const size_t *lens, size_t n,
    size_t *nput, int64_t deadline)
{
	return q->ops->put(q->b, msgs, lens, n, nput, deadline);
}

int
pq_get(struct pq *q, size_t max, int64_t deadline,
    const struct pq_msg **msgs, size_t *n)
{
	return q->ops->get(q->b, max, deadline, msgs, n);
}

int
pq_get_slice(struct pq *q, size_t max, int64_t deadline,
    const struct pq_msg **msgs, size_t *n)
{
	if (q->ops->get_slice == NULL)
		return q->ops->get(q->b, max, deadline, msgs, n);
	return q->ops->get_slice(q->b, max, deadline, msgs, n);
}

int
pq_commit(struct pq *q, size_t n, int flags)
{
	return q->ops->commit(q->b, n, flags);
}

int
pq_release(struct pq *q)
{
	return q->ops->commit(q->b, 0, 0);
}

int
pq_close(struct pq *q)
{
	return q->ops->close(q->b);
}

int
pq_done(struct pq *q, uint64_t count)
{
	return q->ops->done(q->b, count);
}

int
pq_done_id(struct pq *q, uint64_t id, int *already)
{
	return q->ops->done_id(q->b, id, already);
}

int
pq_join(struct pq *q, int64_t deadline)
{
	return q->ops->join(q->b, deadline);
}

int
pq_stat(struct pq *q, struct pq_info *info, int64_t deadline)
{
	return q->ops->stat(q->b, info, deadline);
}

int
pq_peek(struct pq *q, struct pq_entry *ents, size_t max, size_t *n,
    int64_t deadline)
{
	return q->ops->peek(q->b, ents, max, n, deadline);
}

const char *
pq_name(const struct pq *q)
{
	return q->ops->name(q->b);
}

const char *
pq_spec(const struct pq *q)
{
	return q->spec;
}

uint32_t
pq_max_msg(const struct pq *q)
{
	return q->ops->max_msg(q->b);
}

size_t
pq_read_blocks(const struct pq *q)
{
	return q->ops->read_block;
}

int64_t
pq_renew_every(const struct pq *q)
{
	return q->ops->renew_every(q->b);
}

int
pq_renew(struct pq *q)
{
	return q->ops->renew(q->b);
}
