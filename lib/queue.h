/* SPDX-License-Identifier: ISC */
/*
 * queue.h: the queue API behind pqueue-*: a named, bounded, crash-safe
 * message queue shared by unrelated processes, in POSIX shared memory
 * (lib/queue-shm.c) or on a Redis server (lib/queue-redis.c).  This is
 * the only queue header a tool includes; lib/queue.c implements it and
 * picks the backend by name (queue-backend.h is the seam).
 *
 * A queue NAME is the file queues/NAME of the caller's runtime directory
 * (rundir.h: per user, 0700; on a tmpfs unless PKIT_DIR says otherwise),
 * mapped shared; a NAME with '/' is the file's path, to share a queue
 * through a directory on purpose.  The file is mode 0600 unless created
 * with another mode (never world-writable), never a symlink.  It
 * holds variable-length messages (up to pq_info.max_msg bytes each) in a
 * ring, bounded by a count (0 = no count limit) and by bytes; FIFO, or
 * LIFO.  The protocol and its failure table: doc/QUEUE.md.  In short:
 *
 * - One robust process-shared mutex guards everything.  Every change is
 *   staged in the spare copy of a double-buffered control block and
 *   committed by one 32-bit store; the few words outside it (the caller's
 *   slot, done bits) are rewritten from a redo record carried in the
 *   committed copy.  A process killed at any instruction leaves the queue
 *   consistent: the next locker gets EOWNERDEAD, re-applies the redo
 *   record, reclaims dead slots, wakes everyone and carries on.
 * - Waits are futex(2) waits on 32-bit sequence words with absolute
 *   CLOCK_MONOTONIC deadlines; the mutex is taken with
 *   pthread_mutex_clocklock, so a deadline holds even against a stopped
 *   lock holder ("queue busy", 124).  No condition variables, no polling
 *   except a periodic recheck while messages are leased out.
 * - Delivery is at-least-once.  A process that holds leased messages
 *   takes one of the queue's PQ_NSLOTS slots; its liveness token is an
 *   OFD lock on one byte of the segment (the kernel drops it when the
 *   process dies).  Waiting takes no slot: any number of processes may
 *   wait to put, get or join, and a getter that finds every slot leased
 *   waits for one like any other waiter.  pq_get()
 *   copies messages into the slot's buffer (leased: their capacity stays
 *   reserved); the caller writes them out, then pq_commit()s.  A lease
 *   whose holder died, or that is released (pq_commit with fewer than all,
 *   or pq_release), goes back to the FRONT of the queue with attempts+1.
 *   pq_get() commits the previous lease first, so a stream costs one
 *   critical section per batch; the window for a duplicate after a crash
 *   is one batch.
 * - Every message has a 64-bit id, unique in the queue, stable across
 *   redeliveries.  "unfinished" counts messages put and not yet done; it
 *   moves in the put's commit, requeues leave it alone.  Done by count
 *   (Python's task_done), or by id: at most once per id among the last
 *   PQ_IDWIN ids (older ids are decremented by count), and a redelivered
 *   copy of an id already done is dropped at take time.
 *
 * Return values: every int function returns an exit status of the
 * table in exitcode.h: 0 ok; 1 a negative answer (closed, closed and
 * drained, task_done too many times); 124 would block or timed out (also: lock
 * busy past the deadline); 125 failure, with the reason in pq_error()
 * ("NAME: why"); 128+N interrupted by signal N caught by pq_catch_signals.
 *
 * Deadlines are absolute CLOCK_MONOTONIC nanoseconds (mono_now() + d);
 * PQ_FOREVER waits without limit; a deadline in the past never waits.
 *
 * Handles are never unmapped (a robust mutex's memory must stay mapped
 * until exit, see doc/QUEUE.md), so open a queue once per process and
 * keep the handle.  Each process must open the queue itself:
 * never share a handle across fork.  pq_open/pq_create install a SIGBUS
 * handler that reports a truncated segment and exits 125.
 *
 * A name "redis://[USER:PASSWORD@]HOST[:PORT][/DB]/NAME" or "redis:NAME"
 * (redis.h) selects the Redis backend instead (lib/queue-redis.c), with the
 * same calls and codes, and these differences: a lease is the consumer
 * group's pending entry, taken for dead when not renewed for the queue's
 * lease time (pq_config.lease_ns, 30 s by default; pq_renew), as no kernel
 * can tell us that a remote process died; no LIFO, no mode; pq_list
 * knows only shared memory.  A lease time (pq_config.lease_ns,
 * PKIT_QUEUE_LEASE) is from PQ_LEASE_MIN_NS to PQ_LEASE_MAX_NS.
 *
 * Tiers: the API and its backends never print or exit; they return one
 * of the codes above with the reason in pq_error(), for the caller to
 * print.  The exceptions are by contract: pq_die_by_signal, and the
 * SIGBUS handler above.  The worker (pqworker.h) is a tool body: it may
 * print.
 */
#ifndef PKIT_QUEUE_H
#define PKIT_QUEUE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define PQ_FOREVER	((int64_t)-1)
#define PQ_NSLOTS	64		/* processes holding leases at once */
#define PQ_SLOTBUF	65536		/* bytes a lease may hold */
#define PQ_FRAMING	24		/* bytes of framing per message */
#define PQ_MAXMSG	(PQ_SLOTBUF - PQ_FRAMING)	/* largest message */
#define PQ_IDWIN	65536		/* ids remembered by done-by-id */
#define PQ_DEFBYTES	(1024 * 1024)	/* default ring size */
#define PQ_MINBYTES	64
#define PQ_MAXBYTES	((uint64_t)1 << 32)
#define PQ_LEASE_MIN_NS	((int64_t)100000000)		/* 100ms */
#define PQ_LEASE_MAX_NS	((int64_t)86400 * 1000000000)	/* 1 day */

struct pq;

struct pq_config {
	uint64_t	max_msgs;	/* 0 = no count limit */
	uint64_t	max_bytes;	/* ring bytes (framing included) */
	int		lifo;		/* 1 = last in, first out */
	mode_t		mode;		/* 0600 by default; never o+w */
	int64_t		lease_ns;	/* Redis: a lease runs out; 0 default */
};

/* One leased message: data points into the caller's slot buffer. */
struct pq_msg {
	uint64_t	 id;
	uint32_t	 attempts;	/* earlier deliveries that were not committed */
	uint32_t	 len;
	const char	*data;
};

struct pq_lease {
	pid_t		pid;		/* of the holder, for display */
	int		alive;		/* its token is held */
	uint32_t	nmsgs;		/* messages in the lease */
	uint32_t	attempts;	/* of the first */
	uint64_t	first_id;
	int64_t		age_ns;
};

struct pq_info {
	uint64_t	nmsgs, bytes;		/* queued: count, ring bytes */
	uint64_t	max_msgs, max_bytes;
	uint32_t	max_msg;		/* largest message */
	int		closed, lifo;
	uint64_t	unfinished;		/* put and not yet done */
	uint64_t	inflight, inflight_bytes;	/* leased */
	uint64_t	next_id;
	uint64_t	puts, gets, requeues, recoveries, dropped;
	uint32_t	nwait_get, nwait_put, nwait_join;
	uid_t		uid;
	mode_t		mode;
	int64_t		lease_ns;		/* Redis: lease time; 0 shm */
	size_t		nleases;
	struct pq_lease	leases[PQ_NSLOTS];
};

#define PQ_PREVIEW	48		/* bytes of a message pq_peek copies */

/* A message seen, not taken (pq_peek). */
struct pq_entry {
	uint64_t	id;
	uint32_t	attempts;	/* earlier deliveries not done */
	uint32_t	len;		/* its whole length */
	int		leased;		/* 1: in flight, 0: queued */
	pid_t		holder;		/* leased: its holder's pid, if known */
	uint32_t	npreview;	/* bytes in preview: min(len, PQ_PREVIEW) */
	char		preview[PQ_PREVIEW];
};

/* pq_create flags */
#define PQ_EXIST_OK	0x1		/* an existing valid queue is fine */
/* pq_commit flags */
#define PQ_DONE		0x1		/* also mark the (single) message done */
#define PQ_NOCOUNT	0x2		/* those given back keep their attempts */

/*
 * Create queue NAME (cfg NULL: defaults); with PQ_EXIST_OK open it if it
 * exists.  The segment is fully allocated (a full file system fails here, not
 * with SIGBUS later).  *qp may be NULL when the caller only creates.
 */
int	pq_create(const char *name, const struct pq_config *cfg, int flags,
	    struct pq **qp);

/* Open queue NAME after checking owner, mode, size, magic, layout, ABI. */
int	pq_open(const char *name, struct pq **qp);

/*
 * pq_open, but a backend may defer the check that NAME is a queue to the
 * first operation, which then fails as pq_open would have (same status,
 * same message) and changes nothing.  On Redis the check travels with the
 * first script: a single put or get costs one round trip less.  Shared
 * memory opens at once.  Callers that must know the queue exists before
 * anything else (pqueue-get's worker mode, its NAME.dead), or that may
 * do no operation at all (pqueue-put of an empty stream), use pq_open.
 */
int	pq_open_lazy(const char *name, struct pq **qp);

/*
 * The deadline (mono_now() based, as an operation's; PQ_FOREVER: none) by
 * which the opens that follow stop waiting out a failover, where one can
 * meet one (Redis Sentinel names): a tool's -t, which bounds the whole
 * call.  Without one an open waits a failover out for 30 s, as an
 * operation without a deadline does.
 */
void	pq_open_deadline(int64_t deadline);

/*
 * Put msgs[0..n) (pointers and lengths) in order, blocking while the queue
 * is full until deadline.  *nput says how many were put, also on failure
 * (a message over max_msg: 125 naming its size, those before it are put;
 * closed: 1; 124).  One commit per run of messages that fit.
 */
int	pq_put(struct pq *q, const char *const *msgs, const size_t *lens,
	    size_t n, size_t *nput, int64_t deadline);

/*
 * Commit the current lease (if any), then lease up to max messages (at
 * least one, at most what the slot buffer holds), waiting until deadline
 * while the queue is empty.  Returns 1 when the queue is closed and
 * drained (nothing queued, nothing leased by anyone).  *msgs stays valid
 * until the next call on q.
 */
int	pq_get(struct pq *q, size_t max, int64_t deadline,
	    const struct pq_msg **msgs, size_t *n);

/*
 * pq_get for a caller that waits without a deadline in slices, to look
 * at other things in between (a worker pool at its running commands):
 * deadline ends this slice, not the wait.  A failover (Redis Sentinel)
 * is then waited out across the calls for as long as a get without a
 * deadline waits one out, each call returning 124 at its deadline
 * meanwhile; after that, 125 as pq_get.
 */
int	pq_get_slice(struct pq *q, size_t max, int64_t deadline,
	    const struct pq_msg **msgs, size_t *n);

/*
 * Commit the first n messages of the current lease; the others go back
 * to the front of the queue (attempts+1).  PQ_DONE (a lease of one
 * message): mark it done in the same commit (a worker's success).
 * PQ_NOCOUNT: the others were not tried (never written out, or their
 * command stopped by us, or never run): they keep their attempts, so
 * that a pool's -r counts only failures and deaths.
 */
int	pq_commit(struct pq *q, size_t n, int flags);

/* Give the whole lease back to the front of the queue: pq_commit(q, 0). */
int	pq_release(struct pq *q);

/* Close: later puts return 1; gets drain, then return 1.  Wakes all. */
int	pq_close(struct pq *q);

/* task_done COUNT times; returns 1 (count left at 0) if that is too many. */
int	pq_done(struct pq *q, uint64_t count);

/*
 * task_done for message ID, at most once: 0 if it was marked now or had
 * been already; 125 if no message with that id was ever put.
 */
int	pq_done_id(struct pq *q, uint64_t id, int *already);

/* Wait until every message put has been done. */
int	pq_join(struct pq *q, int64_t deadline);

/* A consistent snapshot, leases included (read-only). */
int	pq_stat(struct pq *q, struct pq_info *info, int64_t deadline);

/*
 * List messages without taking them (read-only): up to max entries into
 * ents, *n of them.  Shared memory: the queued ones in delivery order,
 * then the leased ones; Redis: all in id order.  Each holds the first
 * PQ_PREVIEW bytes of its message.
 */
int	pq_peek(struct pq *q, struct pq_entry *ents, size_t max, size_t *n,
	    int64_t deadline);

/*
 * Remove queue NAME: blocked waiters are woken and fail with "queue
 * removed".  A segment of ours that is corrupt or incomplete is unlinked
 * all the same; one that is not ours is refused.
 */
int	pq_remove(const char *name);

/* Call fn(name, arg) for each queue owned by this user; 0 or 125. */
int	pq_list(void (*fn)(const char *, void *), void *arg);

/* The reason for the last 125 (or 1/124 with a message), "NAME: why". */
const char	*pq_error(void);

/*
 * SIGINT, SIGTERM, SIGHUP only interrupt waits and writes (no
 * SA_RESTART): the engine then returns 128+N.  pq_signalled() is that N
 * or 0; pq_die_by_signal() re-raises it with the default action (exit
 * status 128+N) once the caller has released what it holds.
 */
void	pq_catch_signals(void);
int	pq_signalled(void);
void	pq_die_by_signal(void) __attribute__((noreturn));

/*
 * Guard fd (-1: no longer): those signals then also make every write to
 * fd fail at once (EBADF), so that a write begun just after the caller's
 * check of pq_signalled() cannot block for ever on a reader that stopped
 * reading.  For output the caller gives up on a signal: fd is lost to it.
 * 0, or -1 (errno set) when /dev/null cannot be opened, unguarded.
 */
int	pq_guard_writes(int fd);

/* The queue's name (a password masked) and largest message. */
const char	*pq_name(const struct pq *q);
uint32_t	 pq_max_msg(const struct pq *q);

/*
 * B > 0: the data of every message a get returns may be read in whole
 * blocks of B bytes, the last one reaching past len (never written, and
 * its bytes past len are not the message's).  A short message is then
 * copied with a few fixed-size moves instead of a memcpy call of its
 * length (pqueue-get: a fifth of its CPU for 16-byte lines).  0: only
 * len bytes may be read.
 */
size_t		 pq_read_blocks(const struct pq *q);

/* The name as it was given, password and all: to derive NAME.dead. */
const char	*pq_spec(const struct pq *q);

/*
 * A holder of a long lease (a worker running its command) calls
 * pq_renew() at least every pq_renew_every() ns (-1: never needed, as on
 * shared memory, where a lease lives as long as its holder).
 */
int64_t		 pq_renew_every(const struct pq *q);
int		 pq_renew(struct pq *q);


#endif
