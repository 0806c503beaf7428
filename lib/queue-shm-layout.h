/* SPDX-License-Identifier: ISC */
/*
 * queue-shm-layout.h: the shared-memory queue's segment, private to the
 * engine (lib/queue-shm.c) and to the programs that build or damage
 * segments on purpose (tests/unit_pqueue.c, tests/segpatch.c,
 * tests/fuzz/fuzz_segment.c).  Nothing else includes it: tools see only
 * the API (queue.h).
 *
 * Segment layout (version 2), each region page- or line-aligned:
 *   header   immutable after create; magic stored last
 *   ctl      robust mutex, futex words, state copies st[0..1], cur
 *   slots    PQ_NSLOTS x 64 bytes: one per process holding a lease
 *   done     a bitmap of PQ_IDWIN bits: id % PQ_IDWIN is done
 *   slotbuf  PQ_NSLOTS x min(PQ_SLOTBUF, ring size): leased records
 *   ring     ring_cap bytes of records
 * A record is { u32 len, u32 attempts, u64 id } payload, padding to 8,
 * { u32 len, u32 PQ_TRAILER }: the trailer lets LIFO pop from the tail.
 * File byte 0 is the creator's OFD lock, byte 1+i slot i's liveness token,
 * byte PUT_BYTE the token of a putter copying outside the mutex, byte
 * WAIT_BASE + kind * WAIT_SPAN + pid a waiter's (lib/queue-shm.c).
 * Version 1 gave every waiter a slot; version 2 gives slots to leases
 * only, and keeps two timestamps (hints) in the control block.
 *
 * The structs below are the file format (the _Static_asserts pin them);
 * struct pqb is the engine's handle on a mapped segment.  The small pure
 * helpers are inline here; the functions declared at the end are the
 * engine's, extern only so that the tests can reach them.  Tier: like
 * the engine, nothing here prints or exits.
 */
#ifndef PKIT_QUEUE_SHM_LAYOUT_H
#define PKIT_QUEUE_SHM_LAYOUT_H

#include <sys/types.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "parse.h"
#include "queue-backend.h"

#define PQ_MAGIC	UINT64_C(0x0100455545555150)	/* "PQUEUE\0\1" */
#define PQ_VERSION	2
#define PQ_TRAILER	UINT32_C(0x54524551)		/* "QERT" */
#define PQ_F_LIFO	0x1
#define PQ_F_PUTCOPY	0x10	/* a putter may copy outside the mutex */
#define PAGE		4096
#define LOCK_GRACE	((int64_t)250 * 1000000)	/* -n still waits this long for the lock */
#define RECHECK		((int64_t)250 * 1000000)	/* dead-lease recheck while leases are out */
#define IDLE_RECHECK	((int64_t)1000 * 1000000)	/* dead-lock-owner recheck otherwise */
#define RECLAIM_EVERY	((int64_t)50 * 1000000)
#define OPEN_WAIT	((int64_t)1000 * 1000000)	/* for a queue being created */
#define LOCK_SLICE	((int64_t)100 * 1000000)	/* lock waits go in slices: signals, lost wakes */
#define UNTIL_TAKEN	((int64_t)-2)	/* a lock wait no signal ends (commit) */
#define RECOUNT_EVERY	((int64_t)1000 * 1000000)	/* waiter counts checked */
#define WAIT_BASE	((off_t)1 << 40)	/* waiters' lock bytes: far past */
#define WAIT_SPAN	((off_t)1 << 32)	/* the slots' and any pid */
#define WAIT_MAX	(1u << 24)		/* waiters of one kind, at most */
#define PUT_BYTE	(WAIT_BASE - 1)		/* a copying putter's token */
#define PUTCOPY_MIN	(16 * 1024)	/* bytes a put copies outside the mutex */

#define RECSZ(len)	(PQ_FRAMING + (((uint64_t)(len) + 7) & ~(uint64_t)7))

enum { SLOT_FREE, SLOT_ATTACHED, SLOT_HELD };
enum { W_GET, W_PUT, W_JOIN };	/* waiter kinds */

struct pq_hdr {
	uint64_t	magic;
	uint32_t	version, hdr_size;
	uint32_t	abi, flags;
	uint32_t	owner_uid, mode;
	uint32_t	nslots, slotbuf_size;
	uint32_t	max_msg, ctl_size;
	uint64_t	total_size, ring_cap, max_msgs, idwin;
	uint64_t	off_ctl, off_slots, off_done, off_slotbuf, off_ring;
	int64_t		created;
	uint32_t	crc, pad;
};

struct pq_slot {
	uint32_t	state, pad0;
	int32_t		pid;
	uint32_t	nmsgs;		/* leased records in this slot's buffer */
	uint32_t	attempts, pad;
	uint64_t	nbytes;		/* their bytes */
	uint64_t	first_id;
	int64_t		since;		/* CLOCK_MONOTONIC of the lease */
	uint64_t	spare[2];
};

struct pq_state {
	uint64_t	head, used, nmsgs;	/* ring: first record, bytes, count */
	uint64_t	inflight, inflight_bytes;
	uint64_t	unfinished, next_id;
	uint64_t	done_base;		/* ids in [forgot, done_base) are done */
	uint64_t	forgot;			/* ids below were forgotten */
	uint64_t	puts, gets, requeues, recoveries, dropped;
	uint32_t	closed, nwait_get, nwait_put, nwait_join;
	int32_t		redo_slot;		/* slot to write from redo, or -1 */
	uint32_t	pad;
	uint64_t	redo_set;		/* id whose done bit to set, or 0 */
	uint64_t	redo_clr_from, redo_clr_to;	/* ids whose bits to clear */
	struct pq_slot	redo;
};

struct pq_ctl {
	pthread_mutex_t		mu;
	_Alignas(64) uint32_t	put_seq;	/* bumped: messages to get */
	_Alignas(64) uint32_t	get_seq;	/* bumped: room to put */
	_Alignas(64) uint32_t	done_seq;	/* bumped: unfinished hit 0 */
	_Alignas(64) uint32_t	removed;
	uint32_t		broken;
	uint32_t		cur;
	uint32_t		putting;	/* a putter copies past the end */
	int64_t			reclaim_at;	/* hints: the last scan for */
	int64_t			recount_at;	/* dead slots, and recount */
	_Alignas(64) struct pq_state st[2];
};

struct pq_rec {
	uint32_t	len, attempts;
	uint64_t	id;
};

struct pq_trl {
	uint32_t	len, magic;
};

/* The layout is the file format: pin it. */
_Static_assert(sizeof(struct pq_hdr) == 136, "pq_hdr layout");
_Static_assert(sizeof(struct pq_slot) == 64, "pq_slot layout");
_Static_assert(sizeof(struct pq_state) == 224, "pq_state layout");
_Static_assert(sizeof(struct pq_rec) == 16 && sizeof(struct pq_trl) == 8,
    "record layout");
_Static_assert(PQ_FRAMING == sizeof(struct pq_rec) + sizeof(struct pq_trl),
    "framing");
_Static_assert(sizeof(struct pq_hdr) <= PAGE, "header fits a page");
_Static_assert(offsetof(struct pq_ctl, recount_at) + 8 <=
    offsetof(struct pq_ctl, st), "ctl hints share the flags' line");

struct pqb {
	char		 name[PATH_NAME_MAX + 1];	/* a name, or a path */
	int		 fd;
	size_t		 size;
	struct pq_hdr	 hdr;		/* private copy of the validated header */
	struct pq_ctl	*c;
	struct pq_slot	*slots;
	unsigned char	*done;
	unsigned char	*slotbuf;
	unsigned char	*ring;
	uint64_t	 cap;
	int		 slot;		/* ours, or -1 */
	struct pq_msg	*lease;		/* the current lease */
	size_t		 nlease;
	uint64_t	 lease_bytes;
	uint32_t	*offs;		/* scratch: record offsets */
	unsigned char	*wbuf;		/* a put's small records, framed
					 * (put_records); NULL until used */
	int		 waiting;	/* the kind whose lock byte we hold, or -1 */
	int		 copying;	/* we copy past the end (copier_busy) */
};

/* --- the ring and the done bits ---------------------------------------- */

static inline uint32_t
fnv1a(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static inline uint32_t
hdr_crc(const struct pq_hdr *h)
{
	/* Not the magic: it is stored last, after the checksum. */
	return fnv1a((const char *)h + sizeof(h->magic),
	    offsetof(struct pq_hdr, crc) - sizeof(h->magic));
}

/*
 * The ring helpers are on the streaming path, once or more per record:
 * the common case (no wrap, offsets below cap) takes one memcpy of a
 * size the compiler often knows, and no division.
 */
static inline void
ring_write(struct pqb *q, uint64_t off, const void *src, size_t n)
{
	size_t first;

	if (n <= q->cap - off) {
		memcpy(q->ring + off, src, n);
		return;
	}
	first = q->cap - off;
	memcpy(q->ring + off, src, first);
	memcpy(q->ring, (const char *)src + first, n - first);
}

static inline void
ring_read(const struct pqb *q, uint64_t off, void *dst, size_t n)
{
	size_t first;

	if (n <= q->cap - off) {
		memcpy(dst, q->ring + off, n);
		return;
	}
	first = q->cap - off;
	memcpy(dst, q->ring + off, first);
	memcpy((char *)dst + first, q->ring, n - first);
}

static inline uint64_t
ring_add(const struct pqb *q, uint64_t off, uint64_t n)
{
	uint64_t s = off + n;

	if (off < q->cap && n <= q->cap)	/* always, on a valid segment */
		return s < q->cap ? s : s - q->cap;
	return s % q->cap;
}

static inline uint64_t
ring_sub(const struct pqb *q, uint64_t off, uint64_t n)
{
	if (n <= off && off < q->cap)
		return off - n;
	return (off + q->cap - n % q->cap) % q->cap;
}

static inline int
bit_get(const struct pqb *q, uint64_t id)
{
	uint64_t b = id % q->hdr.idwin;

	return (q->done[b / 8] >> (b % 8)) & 1;
}

static inline void
bit_put(struct pqb *q, uint64_t id, int v)
{
	uint64_t b = id % q->hdr.idwin;

	if (v)
		q->done[b / 8] |= (unsigned char)(1u << (b % 8));
	else
		q->done[b / 8] &= (unsigned char)~(1u << (b % 8));
}

static inline const struct pq_state *
cur(const struct pqb *q)
{
	return &q->c->st[q->c->cur & 1];
}

/* --- the engine's own functions, extern for the tests ------------------ */

/* Fill a header for cfg (magic left 0); format() then lays it out. */
void		 pqs_layout(struct pq_hdr *, const struct pq_config *);
/* Lay out a fresh segment in base (size h->total_size); magic last. */
int		 pqs_format(void *, const struct pq_hdr *);
/* A handle on a mapped, validated segment; 0 or 125 (pq_error). */
int		 pqs_handle_new(const char *, int, void *, size_t,
		    const struct pq_hdr *, struct pqb **);
void		 pqs_handle_free(struct pqb *);
/* A segment image (header, control block): NULL if usable, else why not. */
const char	*pqs_validate(const void *, size_t);
/* Write one record at off; faultable: may die halfway (fault points). */
void		 pqs_rec_write(struct pqb *, uint64_t, uint64_t, uint32_t,
		    const void *, uint32_t, int);
/* The record at off within avail bytes, its size in *szp; 0 or -1. */
int		 pqs_rec_check(const struct pqb *, uint64_t, uint64_t,
		    struct pq_rec *, uint64_t *);
/* The ring's records frame exactly its used bytes: 0, or -1. */
int		 pqs_ring_walk(const struct pqb *, const struct pq_state *);

/* The operations of pq_shm_ops, by name. */
int	pqs_put(struct pqb *, const char *const *, const size_t *, size_t,
	    size_t *, int64_t);
int	pqs_get(struct pqb *, size_t, int64_t, const struct pq_msg **,
	    size_t *);
int	pqs_commit(struct pqb *, size_t, int);
int	pqs_release(struct pqb *);
int	pqs_close(struct pqb *);
int	pqs_done(struct pqb *, uint64_t);
int	pqs_done_id(struct pqb *, uint64_t, int *);
int	pqs_join(struct pqb *, int64_t);
int	pqs_stat(struct pqb *, struct pq_info *, int64_t);

#endif
