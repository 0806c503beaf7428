/* SPDX-License-Identifier: ISC */
/*
 * queue-shm.c: the queue engine in POSIX shared memory, the default
 * backend: it implements pq_shm_ops (queue-backend.h) and nothing else
 * public.  API and guarantees in queue.h; the segment's layout in
 * queue-shm-layout.h; the protocol and failure table in doc/QUEUE.md.
 * Tier: an engine never prints or exits; it returns an exit status with
 * the reason in pq_seterr (a SIGBUS on the mapping is the API's to
 * report).
 *
 * The commit rule: under the mutex, bulk bytes go only where nothing can
 * see them (free ring space, our own slot buffer); the new state is
 * staged in st[cur^1] and published by storing cur; the slot and done
 * bits it changes are then written from the redo record in that state,
 * which the recovery after a dead owner writes again (idempotent).
 *
 * Slots are for leases only, so any number of processes can wait (version
 * 2; in version 1 every waiter held a slot, and 64 blocked putters locked
 * out every getter).  A getter takes a free slot in the critical section
 * that takes its messages, and frees it in the one that commits them (a
 * stream keeps it while it finds messages; it frees it before it sleeps).
 * With every slot leased by a live process, a getter waits like any other
 * waiter, for put_seq, which a freed slot bumps.  A waiter holds no slot:
 * it counts itself in nwait_* (a hint that spares wake-ups) and holds an
 * OFD lock on its own byte WAIT_BASE + kind * WAIT_SPAN + pid while it
 * sleeps; the kernel drops it when the waiter dies, and recount() sets
 * the counts to the locks found (pqueue-stat, recovery, and once a second
 * while counts are non-zero), so dead waiters are not counted for long.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/futex.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dur.h"
#include "exitcode.h"
#include "fault.h"
#include "parse.h"
#include "queue-shm-layout.h"
#include "rundir.h"

static int	pqs_open(const char *, struct pqb **);

/* --- small primitives -------------------------------------------------- */

static uint32_t
pq_abi(void)
{
	const union { uint16_t u; unsigned char b[2]; } e = { 1 };
	uint32_t libc;

#ifdef __GLIBC__
	libc = 1;
#else
	libc = 2;
#endif
	return (uint32_t)sizeof(pthread_mutex_t) |
	    (uint32_t)_Alignof(pthread_mutex_t) << 8 |
	    (uint32_t)sizeof(void *) << 16 |
	    (uint32_t)(e.b[0] == 1 ? 1 : 2) << 24 | libc << 28;
}

static void
futex_wake(uint32_t *w, int n)
{
	if (n > 0)
		syscall(SYS_futex, w, FUTEX_WAKE, n, NULL, NULL, 0);
}

/* Sleep while *w == seen, until deadline (absolute, monotonic) or woken. */
static int
futex_wait(uint32_t *w, uint32_t seen, int64_t deadline)
{
	struct timespec ts, *tp = NULL;

	if (deadline >= 0) {
		ts = ns_to_timespec(deadline);
		tp = &ts;
	}
	if (syscall(SYS_futex, w, FUTEX_WAIT_BITSET, seen, tp, NULL,
	    FUTEX_BITSET_MATCH_ANY) == -1)
		return errno;
	return 0;
}

static void
bump(uint32_t *w)
{
	__atomic_add_fetch(w, 1, __ATOMIC_RELEASE);
}

static void
wake_all(struct pq_ctl *c)
{
	bump(&c->put_seq);
	bump(&c->get_seq);
	bump(&c->done_seq);
	futex_wake(&c->put_seq, INT_MAX);
	futex_wake(&c->get_seq, INT_MAX);
	futex_wake(&c->done_seq, INT_MAX);
}

/* An OFD lock on byte AT of the file: 0, or -1. */
static int
byte_lock(int fd, off_t at, short type)
{
	struct flock fl;
	int r;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = at;
	fl.l_len = 1;
	while ((r = fcntl(fd, F_OFD_SETLK, &fl)) == -1 && errno == EINTR)
		;
	return r;
}

/* Is byte AT locked by another open file description? */
static int
byte_held(int fd, off_t at)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = at;
	fl.l_len = 1;
	if (fcntl(fd, F_OFD_GETLK, &fl) == -1)
		return 1;	/* unknown: the safe answer is "alive" */
	return fl.l_type != F_UNLCK;
}

/* Slot i's token, byte 1+i (i = -1: the creator's byte 0). */
static int
token(int fd, int i, short type)
{
	return byte_lock(fd, 1 + (off_t)i, type);
}

static int
token_held(int fd, int i)
{
	return byte_held(fd, 1 + (off_t)i);
}

/* --- the ring ---------------------------------------------------------- */

/*
 * Write one record at off (free space): header, payload, trailer.  With
 * fault points, the process may die halfway through the payload.
 */
void
pqs_rec_write(struct pqb *q, uint64_t off, uint64_t id, uint32_t attempts,
    const void *data, uint32_t len, int faultable)
{
	struct pq_rec r = { len, attempts, id };
	struct pq_trl t = { len, PQ_TRAILER };
	uint64_t sz = RECSZ(len);

	ring_write(q, off, &r, sizeof(r));
	if (faultable) {
		ring_write(q, ring_add(q, off, sizeof(r)), data, len / 2);
		FAULT("mid_copy");
		ring_write(q, ring_add(q, off, sizeof(r) + len / 2),
		    (const char *)data + len / 2, len - len / 2);
	} else
		ring_write(q, ring_add(q, off, sizeof(r)), data, len);
	ring_write(q, ring_add(q, off, sz - sizeof(t)), &t, sizeof(t));
}

/*
 * Check the record starting at off, with at most avail ring bytes to
 * use; its size in *szp.  -1 if it does not frame properly.
 */
int
pqs_rec_check(const struct pqb *q, uint64_t off, uint64_t avail,
    struct pq_rec *r, uint64_t *szp)
{
	struct pq_trl t;
	uint64_t sz;

	if (avail < PQ_FRAMING)
		return -1;
	ring_read(q, off, r, sizeof(*r));
	if (r->len > q->hdr.max_msg)
		return -1;
	sz = RECSZ(r->len);
	if (sz > avail)
		return -1;
	ring_read(q, ring_add(q, off, sz - sizeof(t)), &t, sizeof(t));
	if (t.len != r->len || t.magic != PQ_TRAILER)
		return -1;
	*szp = sz;
	return 0;
}

/* The record ending at end (LIFO's top): its start in *offp. */
static int
rec_check_back(const struct pqb *q, uint64_t end, uint64_t avail,
    struct pq_rec *r, uint64_t *offp, uint64_t *szp)
{
	struct pq_trl t;
	uint64_t sz, off;

	if (avail < PQ_FRAMING)
		return -1;
	ring_read(q, ring_sub(q, end, sizeof(t)), &t, sizeof(t));
	if (t.magic != PQ_TRAILER || t.len > q->hdr.max_msg)
		return -1;
	sz = RECSZ(t.len);
	if (sz > avail)
		return -1;
	off = ring_sub(q, end, sz);
	if (pqs_rec_check(q, off, sz, r, szp) == -1 || *szp != sz)
		return -1;
	*offp = off;
	return 0;
}

/* Walk nmsgs records over exactly used bytes from head: 0 if they frame. */
int
pqs_ring_walk(const struct pqb *q, const struct pq_state *s)
{
	struct pq_rec r;
	uint64_t off = s->head, left = s->used, i, sz;

	for (i = 0; i < s->nmsgs; i++) {
		if (pqs_rec_check(q, off, left, &r, &sz) == -1)
			return -1;
		off = ring_add(q, off, sz);
		left -= sz;
	}
	return left == 0 ? 0 : -1;
}

/*
 * pqs_rec_check on a flat buffer (a slot buffer): the record at p, with
 * at most avail bytes to use.
 */
static int
buf_rec_check(const struct pqb *q, const unsigned char *p, uint64_t avail,
    struct pq_rec *r, uint64_t *szp)
{
	struct pq_trl t;
	uint64_t sz;

	if (avail < PQ_FRAMING)
		return -1;
	memcpy(r, p, sizeof(*r));
	if (r->len > q->hdr.max_msg || (sz = RECSZ(r->len)) > avail)
		return -1;
	memcpy(&t, p + sz - sizeof(t), sizeof(t));
	if (t.len != r->len || t.magic != PQ_TRAILER)
		return -1;
	*szp = sz;
	return 0;
}

/*
 * Check nmsgs records in a slot buffer (nbytes of it); record i's offset
 * in q->offs[i].  -1 if they do not frame.
 */
static int
buf_walk(struct pqb *q, const unsigned char *buf, uint64_t nbytes,
    uint32_t nmsgs)
{
	struct pq_rec r;
	uint64_t off = 0, sz;
	uint32_t i;

	if (nbytes > q->hdr.slotbuf_size ||
	    nmsgs > q->hdr.slotbuf_size / PQ_FRAMING)
		return -1;
	for (i = 0; i < nmsgs; i++) {
		if (buf_rec_check(q, buf + off, nbytes - off, &r, &sz) == -1)
			return -1;
		q->offs[i] = (uint32_t)off;
		off += sz;
	}
	return off == nbytes ? 0 : -1;
}

/* --- done bits --------------------------------------------------------- */

/* --- validation -------------------------------------------------------- */

static const char *
hdr_invalid(const struct pq_hdr *h, uint64_t size)
{
	uint64_t end;

	if (h->magic != PQ_MAGIC)
		return "not a pqueue segment (bad magic)";
	if (h->version != PQ_VERSION) {
		static char why[96];

		/* Never migrated in place: drain it with the pkit that made it. */
		snprintf(why, sizeof(why), "made by another layout version of "
		    "pkit (%u; this pkit reads %d)", h->version, PQ_VERSION);
		return why;
	}
	if (h->hdr_size != sizeof(*h) || h->ctl_size != sizeof(struct pq_ctl))
		return "made by another build of pkit (header sizes differ)";
	if (h->abi != pq_abi())
		return "made for another ABI (libc or architecture)";
	if (h->crc != hdr_crc(h))
		return "header checksum mismatch";
	if (h->flags & ~(uint32_t)(PQ_F_LIFO | PQ_F_PUTCOPY))
		return "unknown feature flags";
	if (h->nslots == 0 || h->nslots > 4096)
		return "slot count out of range";
	if (h->slotbuf_size < 2 * PQ_FRAMING || h->slotbuf_size > (1u << 24) ||
	    h->slotbuf_size % 8 != 0)
		return "slot buffer size out of range";
	if (h->ring_cap < PQ_MINBYTES || h->ring_cap > PQ_MAXBYTES ||
	    h->ring_cap % 8 != 0)
		return "ring size out of range";
	if (h->max_msg == 0 || RECSZ(h->max_msg) > h->slotbuf_size ||
	    RECSZ(h->max_msg) > h->ring_cap)
		return "message size limit out of range";
	if (h->idwin < 64 || h->idwin > (1u << 24) || h->idwin % 8 != 0)
		return "id window out of range";
	if (h->total_size != size)
		return "size does not match its header (truncated?)";
	/* Regions in order, each within the file; all terms are bounded. */
	end = PAGE;
	if (h->off_ctl < end || h->off_ctl % 64 != 0 || h->off_ctl > size ||
	    size - h->off_ctl < h->ctl_size)
		return "control block offset out of range";
	end = h->off_ctl + h->ctl_size;
	if (h->off_slots < end || h->off_slots % 64 != 0 ||
	    h->off_slots > size)
		return "slot table offset out of range";
	end = h->off_slots + (uint64_t)h->nslots * sizeof(struct pq_slot);
	if (h->off_done < end || h->off_done > size)
		return "done bitmap offset out of range";
	end = h->off_done + h->idwin / 8;
	if (h->off_slotbuf < end || h->off_slotbuf % 8 != 0 ||
	    h->off_slotbuf > size)
		return "slot buffer offset out of range";
	end = h->off_slotbuf + (uint64_t)h->nslots * h->slotbuf_size;
	if (h->off_ring < end || h->off_ring % 8 != 0 || h->off_ring > size)
		return "ring offset out of range";
	if (h->off_ring + h->ring_cap > size)
		return "ring extends past the end of the segment";
	return NULL;
}

static const char *
state_invalid(const struct pq_hdr *h, const struct pq_ctl *c)
{
	const struct pq_state *s;

	if (c->cur > 1)
		return "bad state index";
	s = &c->st[c->cur];
	if (s->head >= h->ring_cap || s->head % 8 != 0)
		return "ring head out of range";
	if (s->used > h->ring_cap || s->used % 8 != 0)
		return "ring usage out of range";
	if (s->nmsgs > s->used / PQ_FRAMING)
		return "message count out of range";
	if (s->inflight_bytes > h->ring_cap - s->used ||
	    s->inflight > s->inflight_bytes / PQ_FRAMING)
		return "leased bytes out of range";
	if (h->max_msgs != 0 && s->nmsgs + s->inflight > h->max_msgs)
		return "more messages than the limit";
	if (s->next_id == 0 || s->next_id < s->done_base ||
	    s->forgot > s->done_base || s->forgot == 0 ||
	    s->next_id - s->done_base > h->idwin)
		return "message ids out of range";
	if (s->unfinished >= s->next_id)
		return "unfinished count out of range";
	if (s->nwait_get > WAIT_MAX || s->nwait_put > WAIT_MAX ||
	    s->nwait_join > WAIT_MAX)
		return "waiter counts out of range";
	if (s->redo_slot < -1 || s->redo_slot >= (int32_t)h->nslots)
		return "redo slot out of range";
	if (s->redo_clr_from > s->redo_clr_to ||
	    s->redo_clr_to - s->redo_clr_from > h->idwin)
		return "redo range out of range";
	return NULL;
}

const char *
pqs_validate(const void *base, size_t size)
{
	struct pq_hdr h;
	const char *why;

	if (size < PAGE)
		return "too small to be a queue (truncated?)";
	memcpy(&h, base, sizeof(h));
	if ((why = hdr_invalid(&h, size)) != NULL)
		return why;
	return state_invalid(&h,
	    (const struct pq_ctl *)((const char *)base + h.off_ctl));
}

/* --- commit, redo, recovery -------------------------------------------- */

/* Stage the next state in the spare copy; nothing is visible yet. */
static struct pq_state *
stage(struct pqb *q)
{
	struct pq_ctl *c = q->c;
	struct pq_state *n = &c->st[(c->cur & 1) ^ 1];

	memcpy(n, &c->st[c->cur & 1], sizeof(*n));
	n->redo_slot = -1;
	n->redo_set = 0;
	n->redo_clr_from = n->redo_clr_to = 0;
	return n;
}

/* Write what the current state's redo record says; idempotent. */
static void
redo(struct pqb *q)
{
	const struct pq_state *s = cur(q);
	uint64_t id, end, b, nb;

	if (s->redo_slot >= 0 && (uint32_t)s->redo_slot < q->hdr.nslots)
		memcpy(&q->slots[s->redo_slot], &s->redo, sizeof(s->redo));
	id = s->redo_clr_from;
	end = s->redo_clr_to;
	if (end > id && end - id > q->hdr.idwin)
		end = id + q->hdr.idwin;
	/* Whole bytes at once (every put batch clears as many bits). */
	for (; id < end && id % 8 != 0; id++)
		bit_put(q, id, 0);
	for (; id < end && end - id >= 8; id += 8 * nb) {
		b = id % q->hdr.idwin;
		nb = (end - id) / 8;
		if (nb > (q->hdr.idwin - b) / 8)
			nb = (q->hdr.idwin - b) / 8;
		memset(q->done + b / 8, 0, nb);
	}
	for (; id < end; id++)
		bit_put(q, id, 0);
	if (s->redo_set != 0 && s->redo_set >= s->done_base &&
	    s->redo_set < s->next_id)
		bit_put(q, s->redo_set, 1);
}

/* The one store that publishes a staged state. */
static void
commit(struct pqb *q)
{
	struct pq_ctl *c = q->c;

	__atomic_store_n(&c->cur, (c->cur & 1) ^ 1, __ATOMIC_RELEASE);
	redo(q);
}

static void
set_slot(struct pq_state *n, int i, const struct pq_slot *img)
{
	n->redo_slot = i;
	n->redo = *img;
}

static uint32_t *
nwait(struct pq_state *n, int kind)
{
	return kind == W_GET ? &n->nwait_get : kind == W_PUT ?
	    &n->nwait_put : &n->nwait_join;
}

/*
 * Put nmsgs records (nbytes, in buf, offsets in q->offs) back at the
 * front of the staged queue with attempts+1 (as they were, if !count).  FIFO: just before head, in
 * order; LIFO: on top, the first one last.  The space is free: the
 * records' capacity was reserved while they were leased.
 */
static void
requeue(struct pqb *q, struct pq_state *n, const unsigned char *buf,
    uint64_t nbytes, uint32_t nmsgs, int count)
{
	struct pq_rec r;
	uint64_t pos, sz;
	uint32_t i, k;

	if (!(q->hdr.flags & PQ_F_LIFO))
		pos = ring_sub(q, n->head, nbytes);
	else
		pos = ring_add(q, n->head, n->used);
	for (k = 0; k < nmsgs; k++) {
		i = (q->hdr.flags & PQ_F_LIFO) ? nmsgs - 1 - k : k;
		memcpy(&r, buf + q->offs[i], sizeof(r));
		sz = RECSZ(r.len);
		if (count && r.attempts < UINT32_MAX)
			r.attempts++;
		ring_write(q, pos, &r, sizeof(r));
		ring_write(q, ring_add(q, pos, sizeof(r)),
		    buf + q->offs[i] + sizeof(r), sz - sizeof(r));
		pos = ring_add(q, pos, sz);
		if (k == 0)
			FAULT("mid_requeue");
	}
	if (!(q->hdr.flags & PQ_F_LIFO))
		n->head = ring_sub(q, n->head, nbytes);
	n->used += nbytes;
	n->nmsgs += nmsgs;
	n->requeues += nmsgs;
}

static void
mark_broken(struct pqb *q)
{
	q->c->broken = 1;
	wake_all(q->c);
}

/*
 * A slot was freed: a getter that waits for one (messages are queued,
 * every slot was leased) may go on.
 */
static void
slot_freed(struct pqb *q)
{
	const struct pq_state *s = cur(q);

	if (s->nwait_get > 0 && s->nmsgs > 0) {
		bump(&q->c->put_seq);
		futex_wake(&q->c->put_seq, 1);
	}
}

/*
 * A putter with a big batch (pqs_put) copies it past the end without the
 * mutex: it takes the OFD lock on PUT_BYTE and raises putting, both
 * under the mutex, and takes putting down when it has the mutex again to
 * commit.  Meanwhile no one else may write past the end, and a take that
 * empties the ring does not move the head.  Is such a copy going on (by
 * another process)?  If putting is up and nobody holds the byte, that
 * putter died copying: what it wrote is past the end, nothing; take the
 * flag down, count a recovery, and let the putters waiting for it go.
 */
static int
copier_busy(struct pqb *q)
{
	struct pq_state *n;

	if (q->c->putting == 0 || q->copying)
		return 0;
	if (byte_held(q->fd, PUT_BYTE))
		return 1;
	n = stage(q);
	n->recoveries++;
	commit(q);
	q->c->putting = 0;
	if (cur(q)->nwait_put > 0) {
		bump(&q->c->get_seq);
		futex_wake(&q->c->get_seq, INT_MAX);
	}
	return 0;
}

/*
 * Slot i belongs to a dead process and we hold its token: give its lease
 * back to the front of the queue, forget its waits, free it.  Returns the
 * number of messages requeued, or -1 if its records are garbage.
 */
static int
reclaim_slot(struct pqb *q, int i)
{
	struct pq_slot s = q->slots[i], img;
	struct pq_state *n;
	const unsigned char *buf = q->slotbuf + (size_t)i * q->hdr.slotbuf_size;
	uint32_t k = 0;

	n = stage(q);
	if (s.state == SLOT_HELD && s.nmsgs > 0) {
		if (buf_walk(q, buf, s.nbytes, s.nmsgs) == -1 ||
		    n->inflight < s.nmsgs || n->inflight_bytes < s.nbytes ||
		    n->used + s.nbytes > q->cap) {
			mark_broken(q);
			return -1;
		}
		requeue(q, n, buf, s.nbytes, s.nmsgs, 1);
		n->inflight -= s.nmsgs;
		n->inflight_bytes -= s.nbytes;
		k = s.nmsgs;
	}
	memset(&img, 0, sizeof(img));
	set_slot(n, i, &img);
	commit(q);
	if (k > 0) {
		bump(&q->c->put_seq);
		futex_wake(&q->c->put_seq, (int)cur(q)->nwait_get);
	} else
		slot_freed(q);
	return (int)k;
}

/*
 * Probe other slots and reclaim those whose holder is dead: with all,
 * every slot in use; else only those holding a lease.
 */
static void
reclaim(struct pqb *q, int all)
{
	uint32_t i;

	for (i = 0; i < q->hdr.nslots; i++) {
		const struct pq_slot *s = &q->slots[i];

		if ((int)i == q->slot || s->state == SLOT_FREE)
			continue;
		if (!all && s->state != SLOT_HELD)
			continue;
		if (token(q->fd, (int)i, F_WRLCK) == -1)
			continue;	/* alive */
		reclaim_slot(q, (int)i);
		token(q->fd, (int)i, F_UNLCK);
		if (q->c->broken)
			return;
	}
	(void)copier_busy(q);
	q->c->reclaim_at = mono_now();
}

/*
 * Has the shared timestamp at aged by every ns (or is it garbage)?  The
 * segment is untrusted: at may be anything, INT64_MIN included, so the
 * age is taken in unsigned arithmetic (exact once now >= at), never as a
 * signed difference that overflows into "not due" for ever.
 */
static int
due(int64_t at, int64_t every)
{
	int64_t now = mono_now();

	return now < at || (uint64_t)now - (uint64_t)at >= (uint64_t)every;
}

/*
 * Count the OFD locks in [a, b) held by other open file descriptions
 * (the waiters' bytes): -1 if fcntl fails.  The kernel names one
 * conflicting lock per call; recurse into the smaller side of it and
 * loop on the larger, so the depth stays under 64.
 */
static int64_t
count_locks(int fd, off_t a, off_t b)
{
	struct flock fl;
	int64_t n = 0, k;
	off_t s, e;

	while (a < b && n < WAIT_MAX) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = a;
		fl.l_len = b - a;
		if (fcntl(fd, F_OFD_GETLK, &fl) == -1)
			return -1;
		if (fl.l_type == F_UNLCK)
			break;
		n++;
		s = fl.l_start < a ? a : fl.l_start;
		e = fl.l_len == 0 || fl.l_start + fl.l_len > b ? b :
		    fl.l_start + fl.l_len;
		if (s - a < b - e) {
			if ((k = count_locks(fd, a, s)) == -1)
				return -1;
			a = e;
		} else {
			if ((k = count_locks(fd, e, b)) == -1)
				return -1;
			b = s;
		}
		n += k;
	}
	return n;
}

/*
 * Set the waiter counts to the waiters alive (a dead one's lock byte is
 * gone).  A waiter takes its byte before it counts itself and drops it
 * after, both under the mutex, which we hold: the two agree.
 */
static void
recount(struct pqb *q)
{
	struct pq_state *n;
	int64_t k[3];
	int kind;

	q->c->recount_at = mono_now();
	for (kind = W_GET; kind <= W_JOIN; kind++) {
		k[kind] = count_locks(q->fd, WAIT_BASE + kind * WAIT_SPAN,
		    WAIT_BASE + (kind + 1) * WAIT_SPAN);
		if (k[kind] == -1)
			return;
		if (q->waiting == kind)
			k[kind]++;	/* our own lock is not seen */
	}
	if (cur(q)->nwait_get == k[W_GET] && cur(q)->nwait_put == k[W_PUT] &&
	    cur(q)->nwait_join == k[W_JOIN])
		return;
	n = stage(q);
	for (kind = W_GET; kind <= W_JOIN; kind++)
		*nwait(n, kind) = (uint32_t)k[kind];
	commit(q);
}

static void
maybe_reclaim(struct pqb *q)
{
	const struct pq_state *s = cur(q);

	if (s->nwait_get + s->nwait_put + s->nwait_join > 0 &&
	    due(q->c->recount_at, RECOUNT_EVERY))
		recount(q);
	if (s->inflight <= (q->slot >= 0 ? q->nlease : 0))
		return;
	if (!due(q->c->reclaim_at, RECLAIM_EVERY))
		return;
	reclaim(q, 0);
}

/*
 * After EOWNERDEAD: the committed state is consistent by construction;
 * write its redo record again, check the ring, reclaim dead slots, wake
 * everyone.  Idempotent: if we die here, the next owner does it again.
 */
static void
repair(struct pqb *q)
{
	struct pq_state *n;

	if (state_invalid(&q->hdr, q->c) != NULL) {
		mark_broken(q);
		return;
	}
	redo(q);
	FAULT("mid_repair");
	if (pqs_ring_walk(q, cur(q)) == -1) {
		mark_broken(q);
		return;
	}
	n = stage(q);
	n->recoveries++;
	commit(q);
	reclaim(q, 1);
	recount(q);
	wake_all(q->c);
}

/* --- locking and waiting ----------------------------------------------- */

static int
check(struct pqb *q)
{
	const char *why;

	if (__atomic_load_n(&q->c->removed, __ATOMIC_ACQUIRE))
		return pq_seterr(q->name, PKIT_EXIT_FAIL, "queue removed");
	if (q->c->broken)
		return pq_seterr(q->name, PKIT_EXIT_FAIL,
		    "queue segment corrupt; remove it with pqueue-rm");
	if ((why = state_invalid(&q->hdr, q->c)) != NULL) {
		mark_broken(q);
		return pq_seterr(q->name, PKIT_EXIT_FAIL,
		    "queue segment corrupt: %s", why);
	}
	return 0;
}

static void
pq_unlock(struct pqb *q)
{
	pthread_mutex_unlock(&q->c->mu);
}

/*
 * Take the mutex, by deadline (at least LOCK_GRACE from now, so that -n
 * does not fail on a momentary holder); repair after a dead owner.  No
 * check of the state: pq_lock's.  Without a deadline (PQ_FOREVER) the
 * wait is made in LOCK_SLICEs, and INT, TERM or HUP ends it with 128+N,
 * as it ends every other wait: glibc's mutex wait goes back to sleep
 * after a signal, and a put or get waiting behind a stopped holder
 * ignored ^C.  UNTIL_TAKEN waits whatever the signals: a commit must
 * settle what the caller wrote before it dies of its signal.
 */
static int64_t	slice_end;	/* lock_raw: the unbounded wait's slice */

static int
lock_raw(struct pqb *q, int64_t deadline)
{
	struct timespec ts;
	int64_t now;
	int r;

	/*
	 * A free lock is taken without reading the clock: most locks are
	 * free, and a process that never reads the clock never maps the
	 * vDSO's data pages (two page faults of a short put's ~60).
	 */
	r = pthread_mutex_trylock(&q->c->mu);
	if (r == EBUSY && deadline == UNTIL_TAKEN)
		r = pthread_mutex_lock(&q->c->mu);
	else if (r == EBUSY && deadline < 0) {
		/*
		 * The slice's end is kept for the next contended lock: a
		 * stream's many short waits read the clock once a slice, not
		 * once each.  One long past ends at once, and is renewed.
		 */
		for (;;) {
			if (pq_signalled() != 0)
				return 128 + pq_signalled();
			if (slice_end == 0)
				slice_end = mono_now() + LOCK_SLICE;
			ts = ns_to_timespec(slice_end);
			r = pthread_mutex_clocklock(&q->c->mu, CLOCK_MONOTONIC,
			    &ts);
			if (r != ETIMEDOUT)
				break;
			slice_end = 0;
		}
	} else if (r == EBUSY) {
		/*
		 * In slices too, up to the deadline: one wait to a deadline
		 * minutes away would make any wake-up the mutex loses cost
		 * all of it, where a slice bounds it (crowds.bats once saw
		 * waiters with -t 300 stay 40 s after their turn had come).
		 */
		now = mono_now();
		if (deadline < now + LOCK_GRACE)
			deadline = now + LOCK_GRACE;
		for (;;) {
			ts = ns_to_timespec(deadline < now + LOCK_SLICE ?
			    deadline : now + LOCK_SLICE);
			r = pthread_mutex_clocklock(&q->c->mu, CLOCK_MONOTONIC,
			    &ts);
			if (r != ETIMEDOUT || (now = mono_now()) >= deadline)
				break;
		}
	}
	switch (r) {
	case 0:
		break;
	case EOWNERDEAD:
		repair(q);
		pthread_mutex_consistent(&q->c->mu);
		break;
	case ETIMEDOUT:
		return pq_seterr(q->name, PKIT_EXIT_TIMEOUT,
		    "queue busy: its lock is held (by a stopped process?)");
	default:
		return pq_seterr(q->name, PKIT_EXIT_FAIL, "lock: %s",
		    strerror(r));
	}
	return 0;
}

static int
pq_lock(struct pqb *q, int64_t deadline)
{
	int r;

	if ((r = lock_raw(q, deadline)) != 0)
		return r;
	FAULT("after_lock");
	if ((r = check(q)) != 0) {
		pq_unlock(q);
		return r;
	}
	return 0;
}

static void
adopt(struct pqb *q, int i)
{
	struct pq_slot img;
	struct pq_state *n;

	memset(&img, 0, sizeof(img));
	img.state = SLOT_ATTACHED;
	img.pid = (int32_t)getpid();
	n = stage(q);
	set_slot(n, i, &img);
	commit(q);
	q->slot = i;
}

/*
 * Take a slot (under the lock): a free one, else one whose holder died
 * (looked for at most every RECLAIM_EVERY).  124 if all are leased.
 */
static int
attach(struct pqb *q)
{
	uint32_t i;
	int pass;

	if (q->slot >= 0)
		return 0;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < q->hdr.nslots; i++) {
			if (q->slots[i].state != SLOT_FREE)
				continue;
			if (token(q->fd, (int)i, F_WRLCK) == -1)
				continue;
			adopt(q, (int)i);
			return 0;
		}
		if (pass > 0 || !due(q->c->reclaim_at, RECLAIM_EVERY))
			break;
		reclaim(q, 1);
		if (q->c->broken)
			return check(q);
	}
	return pq_seterr(q->name, PKIT_EXIT_TIMEOUT,
	    "all %u slots are leased by live processes", q->hdr.nslots);
}

/* Free our slot (under the lock), which holds no lease. */
static void
detach(struct pqb *q)
{
	struct pq_slot img;
	struct pq_state *n;

	if (q->slot < 0 || q->nlease > 0)
		return;
	memset(&img, 0, sizeof(img));
	n = stage(q);
	set_slot(n, q->slot, &img);
	commit(q);
	token(q->fd, q->slot, F_UNLCK);
	q->slot = -1;
	slot_freed(q);
}

/*
 * Count ourselves as a waiter of this kind, or no longer (under the
 * lock).  The lock byte comes first and goes last, so that recount()
 * finds it whenever we are counted.  If the byte is taken (a process of
 * our pid in another pid namespace), we wait uncounted: the periodic
 * recheck still wakes us.
 */
static void
set_waiting(struct pqb *q, int kind, int on)
{
	struct flock fl;
	struct pq_state *n;
	uint32_t *w;

	if (!on && q->waiting < 0)
		return;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = on ? F_WRLCK : F_UNLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = WAIT_BASE + kind * WAIT_SPAN + getpid();
	fl.l_len = 1;
	if (on && fcntl(q->fd, F_OFD_SETLK, &fl) == -1)
		return;
	n = stage(q);
	w = nwait(n, kind);
	if (on && *w < WAIT_MAX)
		(*w)++;
	else if (!on && *w > 0)
		(*w)--;
	commit(q);
	if (!on)
		while (fcntl(q->fd, F_OFD_SETLK, &fl) == -1 && errno == EINTR)
			;
	q->waiting = on ? kind : -1;
}

/*
 * Sleep on word until it moves, the deadline, or a recheck for dead
 * leases; the lock is held on entry and on a 0 return, not otherwise.
 * No slot is needed: any number of processes may wait.
 */
static int
wait_for(struct pqb *q, uint32_t *word, int kind, int64_t deadline)
{
	uint32_t seen = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	int64_t until = deadline, now, step;
	int r;

	set_waiting(q, kind, 1);
	/*
	 * Never sleep unbounded: a process killed holding the lock after
	 * its commit and before its wake-up (doc/QUEUE.md, failure row 3) wakes
	 * no one, and only a lock attempt (EOWNERDEAD, repair) notices.
	 */
	step = cur(q)->inflight > 0 ? RECHECK : IDLE_RECHECK;
	now = mono_now();
	if (until < 0 || until > now + step)
		until = now + step;
	pq_unlock(q);
	pq_sleep_on(word);
	if (pq_signalled() == 0)
		futex_wait(word, seen, until);
	pq_sleep_on(NULL);
	r = pq_lock(q, deadline);
	if (r != 0) {
		/*
		 * Without the mutex we cannot uncount ourselves: drop the
		 * lock byte, and the next recount() drops the count.
		 */
		if (q->waiting >= 0) {
			struct flock fl;

			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_UNLCK;
			fl.l_whence = SEEK_SET;
			fl.l_start = WAIT_BASE + q->waiting * WAIT_SPAN +
			    getpid();
			fl.l_len = 1;
			fcntl(q->fd, F_OFD_SETLK, &fl);
			q->waiting = -1;
		}
		return r;
	}
	set_waiting(q, kind, 0);
	if (pq_signalled() != 0) {
		pq_unlock(q);
		return 128 + pq_signalled();
	}
	return 0;
}

static int
expired(int64_t deadline)
{
	return deadline >= 0 && mono_now() >= deadline;
}

/* --- create and open --------------------------------------------------- */

/* The runtime directory's queues/ (path: its path, for messages), or -1. */
static int
queues_dir(char *path, size_t len, const char **why)
{
	int dfd, fd;

	if ((dfd = rundir_open(path, len, why)) == -1)
		return -1;
	fd = rundir_sub(dfd, "queues", why);
	close(dfd);
	if (fd == -1)
		strlcat(path, "/queues", len);
	return fd;
}

/*
 * Where the queue NAME lives.  A name is the file queues/NAME of the
 * runtime directory (rundir.h: ours, 0700, no symlink), so each user (and
 * each PKIT_DIR) has its own namespace; a name with '/' is the path of
 * the file, in a directory shared on purpose (its mode and the queue's -M
 * decide who may use it).  Returns the directory's descriptor (the file
 * is then opened and unlinked relative to it, O_NOFOLLOW) and the file's
 * name in it in *base; or 125 with the reason set.
 */
static int
queue_dir(const char *name, const char **base, int *dfdp)
{
	char dir[PATH_NAME_MAX + 1], path[4096];
	const char *why, *slash;
	int fd;

	if ((why = qname_invalid(name)) != NULL)
		return pq_seterr(name, PKIT_EXIT_FAIL, "bad queue name: %s", why);
	if ((slash = strrchr(name, '/')) != NULL) {
		if (slash == name)
			strlcpy(dir, "/", sizeof(dir));
		else
			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - name),
			    name);
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			return pq_seterr(name, PKIT_EXIT_FAIL, "%s: %s",
			    safe(dir), strerror(errno));
		*base = slash + 1;
		*dfdp = fd;
		return 0;
	}
	if ((fd = queues_dir(path, sizeof(path), &why)) == -1)
		return pq_seterr(name, PKIT_EXIT_FAIL, "runtime directory %s: %s",
		    safe(path), why);
	*base = name;
	*dfdp = fd;
	return 0;
}


/*
 * Why queue_file could not open NAME for pqs_open and pqs_remove: r if it
 * already said (the runtime directory), else errno worded.
 */
static int
open_failed(const char *name, int r)
{
	if (r != 0)
		return r;
	if (errno == ENOENT)
		return pq_seterr(name, PKIT_EXIT_FAIL, "no such queue");
	if (errno == ELOOP)
		return pq_seterr(name, PKIT_EXIT_FAIL,
		    "segment is a symbolic link; refused");
	return pq_seterr(name, PKIT_EXIT_FAIL, "%s", strerror(errno));
}
/*
 * A file named by a path (NAME with a '/') must show that it is a queue
 * before pqueue-rm removes it: a path can name any file of ours, and a
 * text file is no queue.  (A file in the runtime directory is a queue's by
 * where it is.)  A segment, sound or not, has the magic; one whose
 * creator was killed is empty (before ftruncate) or has a whole header
 * but the magic (pqs_format writes it last, and the checksum leaves it
 * out).  One killed in between, all zeros, is not recognised: rm(1) it.
 * NULL if it is a queue's, else why not.
 */
static const char *
seg_foreign(int fd, const struct stat *st)
{
	struct pq_hdr h;
	ssize_t n;

	if (st->st_size == 0)
		return NULL;
	memset(&h, 0, sizeof(h));
	n = pread(fd, &h, sizeof(h), 0);
	/* The magic, whatever else is wrong (a segment truncated too). */
	if (n >= (ssize_t)sizeof(h.magic) && h.magic == PQ_MAGIC)
		return NULL;
	if (n == (ssize_t)sizeof(h) && st->st_size >= PAGE && h.magic == 0) {
		h.magic = PQ_MAGIC;
		if (hdr_invalid(&h, (uint64_t)st->st_size) == NULL)
			return NULL;
	}
	return "not a pqueue segment";
}

/* Open the queue's file (O_NOFOLLOW); -1 with errno, or with *r set. */
static int
queue_file(const char *name, int flags, int *dfdp, const char **base, int *r)
{
	int fd;

	if ((*r = queue_dir(name, base, dfdp)) != 0)
		return -1;
	fd = openat(*dfdp, *base, flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		int e = errno;

		close(*dfdp);
		*dfdp = -1;
		errno = e;
	}
	return fd;
}

void
pqs_layout(struct pq_hdr *h, const struct pq_config *cfg)
{
	uint64_t off;

	memset(h, 0, sizeof(*h));
	h->version = PQ_VERSION;
	h->hdr_size = sizeof(*h);
	h->abi = pq_abi();
	h->flags = cfg->lifo ? PQ_F_LIFO : PQ_F_PUTCOPY;
	h->owner_uid = (uint32_t)geteuid();
	h->mode = (uint32_t)cfg->mode;
	h->nslots = PQ_NSLOTS;
	h->ring_cap = (cfg->max_bytes + 7) & ~(uint64_t)7;
	/* A lease never holds more than the ring: no bigger buffers. */
	h->slotbuf_size = (uint32_t)(h->ring_cap < PQ_SLOTBUF ? h->ring_cap :
	    PQ_SLOTBUF);
	h->max_msg = h->slotbuf_size - PQ_FRAMING;
	h->max_msgs = cfg->max_msgs;
	h->idwin = PQ_IDWIN;
	h->ctl_size = sizeof(struct pq_ctl);
	off = PAGE;
	h->off_ctl = off;
	off += (sizeof(struct pq_ctl) + 63) & ~(uint64_t)63;
	h->off_slots = off;
	off += (uint64_t)h->nslots * sizeof(struct pq_slot);
	h->off_done = off;
	off += h->idwin / 8;
	off = (off + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	h->off_slotbuf = off;
	off += (uint64_t)h->nslots * h->slotbuf_size;
	h->off_ring = off;
	off += h->ring_cap;
	h->total_size = (off + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	h->created = (int64_t)time(NULL);
	h->crc = hdr_crc(h);
}

/* Lay out a fresh segment in base (size h->total_size); magic last. */
int
pqs_format(void *base, const struct pq_hdr *h)
{
	struct pq_hdr *mh = base;
	struct pq_ctl *c = (struct pq_ctl *)((char *)base + h->off_ctl);
	pthread_mutexattr_t a;
	int r;

	memcpy(mh, h, sizeof(*h));
	mh->magic = 0;
	memset(c, 0, sizeof(*c));
	if ((r = pthread_mutexattr_init(&a)) != 0 ||
	    (r = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) != 0 ||
	    (r = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (r = pthread_mutex_init(&c->mu, &a)) != 0)
		return r;
	pthread_mutexattr_destroy(&a);
	c->st[0].next_id = 1;
	c->st[0].done_base = 1;
	c->st[0].forgot = 1;
	c->st[0].redo_slot = -1;
	c->st[1] = c->st[0];
	FAULT("mid_create");
	__atomic_store_n(&mh->magic, PQ_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

/* The lease scratch: an entry and an offset per record a slot holds. */
static size_t
scratch_size(const struct pq_hdr *h)
{
	return h->slotbuf_size / PQ_FRAMING *
	    (sizeof(struct pq_msg) + sizeof(uint32_t));
}

int
pqs_handle_new(const char *name, int fd, void *base, size_t size,
    const struct pq_hdr *h, struct pqb **qp)
{
	struct pqb *q;
	size_t nent;
	void *scratch;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return pq_seterr(name, PKIT_EXIT_FAIL, "%s", strerror(errno));
	strlcpy(q->name, name, sizeof(q->name));
	q->fd = fd;
	q->size = size;
	q->hdr = *h;
	q->c = (struct pq_ctl *)((char *)base + h->off_ctl);
	q->slots = (struct pq_slot *)((char *)base + h->off_slots);
	q->done = (unsigned char *)base + h->off_done;
	q->slotbuf = (unsigned char *)base + h->off_slotbuf;
	q->ring = (unsigned char *)base + h->off_ring;
	q->cap = h->ring_cap;
	q->slot = -1;
	q->waiting = -1;
	/*
	 * Scratch for leases and for walking a dead slot's records: each
	 * entry is written before it is read (take, buf_walk).  An anonymous
	 * mapping, not the heap: its pages are touched only as entries are
	 * used, and most processes (a put, a get of one message) use none
	 * or one, where the heap's chunk heads would cost page faults (and
	 * calloc a memset of all ~100 KB) in every process.  The handle
	 * lives as long as the process (see pqs_open's callers), so it is
	 * never unmapped.
	 */
	nent = h->slotbuf_size / PQ_FRAMING;
	scratch = mmap(NULL, scratch_size(h), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED) {
		free(q);
		return pq_seterr(name, PKIT_EXIT_FAIL, "%s", strerror(ENOMEM));
	}
	q->lease = scratch;
	q->offs = (uint32_t *)(void *)(q->lease + nent);
	*qp = q;
	return 0;
}

/*
 * Free a handle made by pqs_handle_new, for the fuzzers and unit tests,
 * which make many; it leaves the segment mapped (the caller's).
 */
void
pqs_handle_free(struct pqb *q)
{
	munmap(q->lease, scratch_size(&q->hdr));
	free(q->wbuf);
	free(q);
}

static int
pqs_create(const char *name, const struct pq_config *cfg, int flags,
    struct pqb **qp)
{
	struct pq_config def = { 0, PQ_DEFBYTES, 0, 0600, 0 };
	struct pq_hdr h;
	const char *file, *why;
	void *base;
	int dfd, fd, r;

	if ((why = qname_invalid(name)) != NULL)
		return pq_seterr(name, PKIT_EXIT_FAIL, "bad queue name: %s", why);
	if (cfg == NULL)
		cfg = &def;
	if (cfg->mode & ~(mode_t)0777)
		return pq_seterr(name, PKIT_EXIT_FAIL, "bad mode %04o",
		    (unsigned)cfg->mode);
	if (cfg->mode & S_IWOTH)
		return pq_seterr(name, PKIT_EXIT_FAIL,
		    "mode %04o is world-writable; refused", (unsigned)cfg->mode);
	if ((cfg->mode & 0600) != 0600)
		return pq_seterr(name, PKIT_EXIT_FAIL,
		    "mode %04o must let the owner read and write",
		    (unsigned)cfg->mode);
	if (cfg->lease_ns != 0)
		return pq_seterr(name, PKIT_EXIT_FAIL, "a lease time is for "
		    "queues on redis (here a lease lasts as long as its "
		    "holder)");
	if (cfg->max_bytes < PQ_MINBYTES || cfg->max_bytes > PQ_MAXBYTES)
		return pq_seterr(name, PKIT_EXIT_FAIL,
		    "size %llu out of range (%d..%llu bytes)",
		    (unsigned long long)cfg->max_bytes, PQ_MINBYTES,
		    (unsigned long long)PQ_MAXBYTES);
	pq_sigbus_install();
	fd = queue_file(name, O_RDWR | O_CREAT | O_EXCL, &dfd, &file, &r);
	if (fd == -1 && r != 0)
		return r;
	if (fd == -1 && errno == EEXIST && (flags & PQ_EXIST_OK)) {
		struct pqb *tmp;

		return pqs_open(name, qp != NULL ? qp : &tmp);
	}
	if (fd == -1 && errno == EEXIST)
		return pq_seterr(name, PKIT_EXIT_FAIL, "queue exists");
	if (fd == -1)
		return pq_seterr(name, PKIT_EXIT_FAIL, "cannot create: %s",
		    errno == ELOOP ? "a symbolic link" : strerror(errno));
	if (token(fd, -1, F_WRLCK) == -1 || fchmod(fd, cfg->mode) == -1) {
		r = errno;
		goto fail;
	}
	pqs_layout(&h, cfg);
	if (ftruncate(fd, (off_t)h.total_size) == -1) {
		r = errno;
		goto fail;
	}
	/* Allocate every page now: a full file system fails here, not SIGBUS. */
	if ((r = posix_fallocate(fd, 0, (off_t)h.total_size)) != 0)
		goto fail;
	base = mmap(NULL, h.total_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (base == MAP_FAILED) {
		r = errno;
		goto fail;
	}
	if ((r = pqs_format(base, &h)) != 0)
		goto fail;
	h.magic = PQ_MAGIC;
	token(fd, -1, F_UNLCK);
	close(dfd);
	if (qp == NULL) {
		close(fd);
		return 0;
	}
	return pqs_handle_new(name, fd, base, h.total_size, &h, qp);
fail:
	unlinkat(dfd, file, 0);
	close(dfd);
	close(fd);
	return pq_seterr(name, PKIT_EXIT_FAIL, "cannot create: %s", strerror(r));
}

static int
in_group(gid_t g)
{
	gid_t groups[NGROUPS_MAX];
	int i, n;

	if (getegid() == g)
		return 1;
	if ((n = getgroups(NGROUPS_MAX, groups)) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (groups[i] == g)
			return 1;
	return 0;
}

/* May we use a segment with these owner and mode bits? NULL if so. */
static const char *
owner_invalid(const struct stat *st)
{
	static char why[96];

	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_mode & S_IWOTH)
		return "segment is world-writable; refused";
	if (st->st_uid != geteuid() &&
	    !((st->st_mode & 0060) == 0060 && in_group(st->st_gid))) {
		snprintf(why, sizeof(why),
		    "segment is owned by uid %lu, not by us; refused",
		    (unsigned long)st->st_uid);
		return why;
	}
	return NULL;
}

#ifdef __GLIBC__
/* The mutex must look like one we made (robust, process-shared). */
static int
mutex_kind_ok(const pthread_mutex_t *m)
{
	static int kind = -1;

	if (kind == -1) {
		pthread_mutexattr_t a;
		pthread_mutex_t t;

		pthread_mutexattr_init(&a);
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		pthread_mutex_init(&t, &a);
		kind = t.__data.__kind;
		pthread_mutex_destroy(&t);
		pthread_mutexattr_destroy(&a);
	}
	return m->__data.__kind == kind;
}
#else
static int
mutex_kind_ok(const pthread_mutex_t *m)
{
	(void)m;
	return 1;
}
#endif

/*
 * pqs_open read the state without the mutex, and it looked invalid.  A
 * commit going on can tear such a read: the copy that was current is
 * rewritten as the next spare while it is being read (seen under
 * valgrind, which slows the reader: 20 one-shot getters and putters, one
 * getter refused a sound queue with "leased bytes out of range").  So
 * look again holding the mutex before calling the segment corrupt: the
 * reason then, or NULL if the state is sound after all.  If the mutex
 * cannot be had within OPEN_WAIT (a stopped holder, or a damaged lock),
 * look once more without it: a commit only ever makes current a copy it
 * has written whole, so a torn read does not survive a second look after
 * a second, while a corrupt state does, and is refused as it was.
 */
static const char *
state_confirm(const char *name, int fd, void *base, const struct pq_hdr *h)
{
	struct pqb *q;
	const char *why;

	if (pqs_handle_new(name, fd, base, h->total_size, h, &q) != 0)
		return state_invalid(h, (const struct pq_ctl *)
		    ((const char *)base + h->off_ctl));
	if (lock_raw(q, mono_now() + OPEN_WAIT) != 0) {
		why = state_invalid(&q->hdr, q->c);
		pqs_handle_free(q);
		return why;
	}
	why = state_invalid(&q->hdr, q->c);
	pq_unlock(q);
	pqs_handle_free(q);
	return why;
}

static int
pqs_open(const char *name, struct pqb **qp)
{
	struct pq_hdr h;
	struct stat st;
	const char *why, *file;
	int64_t give_up;
	void *base;
	ssize_t n;
	int dfd, fd, r;

	pq_sigbus_install();
	if ((fd = queue_file(name, O_RDWR, &dfd, &file, &r)) == -1)
		return open_failed(name, r);
	close(dfd);
	give_up = -1;		/* the clock is read only if we must wait */
	for (;;) {
		if (fstat(fd, &st) == -1) {
			r = pq_seterr(name, PKIT_EXIT_FAIL, "%s", strerror(errno));
			goto fail;
		}
		if ((why = owner_invalid(&st)) != NULL) {
			r = pq_seterr(name, PKIT_EXIT_FAIL, "%s", why);
			goto fail;
		}
		memset(&h, 0, sizeof(h));
		n = st.st_size >= PAGE ? pread(fd, &h, sizeof(h), 0) : 0;
		if (n == (ssize_t)sizeof(h) && h.magic != 0)
			break;
		/* Being created (its creator holds byte 0)?  Wait a little. */
		if (give_up == -1)
			give_up = mono_now() + OPEN_WAIT;
		if (mono_now() >= give_up || !token_held(fd, -1)) {
			/* pqueue-rm would refuse a path's foreign file. */
			if (strchr(name, '/') != NULL &&
			    (why = seg_foreign(fd, &st)) != NULL)
				r = pq_seterr(name, PKIT_EXIT_FAIL, "%s", why);
			else
				r = pq_seterr(name, PKIT_EXIT_FAIL,
				    st.st_size < PAGE ? "segment truncated or "
				    "incomplete; remove it with pqueue-rm" :
				    "incomplete queue (its creator died); "
				    "remove it with pqueue-rm");
			goto fail;
		}
		usleep(10000);
	}
	if ((why = hdr_invalid(&h, (uint64_t)st.st_size)) != NULL) {
		r = pq_seterr(name, PKIT_EXIT_FAIL, "%s", why);
		goto fail;
	}
	if (h.owner_uid != st.st_uid) {
		r = pq_seterr(name, PKIT_EXIT_FAIL,
		    "segment owner changed since it was created; refused");
		goto fail;
	}
	/* chmod after create must not share a queue -M did not share. */
	if ((st.st_mode & 0777 & ~(mode_t)h.mode) != 0) {
		r = pq_seterr(name, PKIT_EXIT_FAIL, "segment mode %04o is wider "
		    "than it was created with (%04o); refused",
		    (unsigned)(st.st_mode & 0777), (unsigned)h.mode);
		goto fail;
	}
	base = mmap(NULL, h.total_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (base == MAP_FAILED) {
		r = pq_seterr(name, PKIT_EXIT_FAIL, "mmap: %s", strerror(errno));
		goto fail;
	}
	if ((why = pqs_validate(base, h.total_size)) != NULL &&
	    hdr_invalid(base, h.total_size) == NULL &&
	    memcmp(base, &h, sizeof(h)) == 0 &&
	    mutex_kind_ok((const pthread_mutex_t *)((char *)base +
	    h.off_ctl)))
		why = state_confirm(name, fd, base, &h);
	if (why != NULL || memcmp(base, &h, sizeof(h)) != 0) {
		r = pq_seterr(name, PKIT_EXIT_FAIL, "queue segment corrupt: %s",
		    why != NULL ? why : "header changed under us");
		goto fail;
	}
	if (!mutex_kind_ok((const pthread_mutex_t *)((char *)base +
	    h.off_ctl))) {
		r = pq_seterr(name, PKIT_EXIT_FAIL,
		    "queue segment corrupt: its lock is not a robust mutex");
		goto fail;
	}
	return pqs_handle_new(name, fd, base, h.total_size, &h, qp);
fail:
	close(fd);
	return r;
}

/* --- put --------------------------------------------------------------- */

/*
 * A batch of at least WBUF_MIN_BATCH records frames those of at most
 * WBUF_REC_MAX bytes in the handle's write buffer (WBUF_SIZE) and copies
 * the buffer to the ring in one go; bigger records, and small batches,
 * go to the ring one by one.  See put_records.
 */
#define WBUF_SIZE	65536
#define WBUF_MIN_BATCH	16
#define WBUF_REC_MAX	1024

/* Copy N framed bytes of the write buffer to the ring at *POS. */
static void
wbuf_flush(struct pqb *q, uint64_t *pos, size_t n, int *first)
{
	if (*first) {
		/* The batch's first copy: die in its middle if asked. */
		ring_write(q, *pos, q->wbuf, n / 2);
		FAULT("mid_copy");
		ring_write(q, ring_add(q, *pos, n / 2), q->wbuf + n / 2,
		    n - n / 2);
		*first = 0;
	} else
		ring_write(q, *pos, q->wbuf, n);
	*pos = ring_add(q, *pos, n);
}

/*
 * Write the K records MSGS/LENS, ids from ID on, into the ring from POS:
 * past the committed end, so nobody sees them before the commit, and a
 * putter killed midway leaves nothing.  The records are those that
 * pqs_rec_write writes one by one (here with their padding zeroed).  Small
 * records of a big batch are framed in the write buffer first and reach
 * the ring one buffer at a time: the ring's lines were last read by the
 * getter's core, and storing each record's header there stalled the
 * putter on them (for 16-byte lines, 62 % of pqs_rec_write's samples, on
 * that one store); one long copy has many lines in flight.  Measured for
 * 1 M 16-byte lines, pqueue-put's CPU 28-35 ms -> 21-27 ms.  The caller
 * has counted their bytes (RECSZ each) when it found them room.
 */
static void
put_records(struct pqb *q, uint64_t pos, uint64_t id,
    const char *const *msgs, const size_t *lens, size_t k)
{
	struct pq_rec r = { 0, 0, 0 };
	struct pq_trl t = { 0, PQ_TRAILER };
	const uint64_t zero8 = 0;
	unsigned char *b;
	uint64_t sz;
	size_t j, fill = 0;
	int first = 1, buffered;

	/* Without the buffer (no memory for it), one by one. */
	buffered = k >= WBUF_MIN_BATCH && (q->wbuf != NULL ||
	    (q->wbuf = malloc(WBUF_SIZE)) != NULL);
	for (j = 0; j < k; j++) {
		sz = RECSZ(lens[j]);
		if (buffered && sz <= WBUF_REC_MAX) {
			if (fill + sz > WBUF_SIZE) {
				wbuf_flush(q, &pos, fill, &first);
				fill = 0;
			}
			b = q->wbuf + fill;
			r.len = t.len = (uint32_t)lens[j];
			r.id = id + j;
			memcpy(b, &r, sizeof(r));
			/* The padding: zero the data's last 8 bytes, then
			 * copy the data over them (no memset call). */
			if (lens[j] > 0)
				memcpy(b + sz - sizeof(t) - 8, &zero8, 8);
			memcpy(b + sizeof(r), msgs[j], lens[j]);
			memcpy(b + sz - sizeof(t), &t, sizeof(t));
			fill += sz;
			continue;
		}
		if (fill > 0) {
			wbuf_flush(q, &pos, fill, &first);
			fill = 0;
		}
		pqs_rec_write(q, pos, id + j, 0, msgs[j], (uint32_t)lens[j],
		    first);
		first = 0;
		pos = ring_add(q, pos, sz);
	}
	if (fill > 0)
		wbuf_flush(q, &pos, fill, &first);
}

int
pqs_put(struct pqb *q, const char *const *msgs, const size_t *lens, size_t n,
    size_t *nput, int64_t deadline)
{
	struct pq_state *st;
	const struct pq_state *s;
	size_t i = 0, lim = n, k, j;
	uint64_t bytes, cnt, sz, nb, pos, id;
	int64_t busy_until = 0;
	int r;

	*nput = 0;
	for (j = 0; j < n; j++)
		if (lens[j] > q->hdr.max_msg) {
			lim = j;
			break;
		}
	if (lim > 0 && (r = pq_lock(q, deadline)) != 0)
		return r;
	while (i < lim) {
		s = cur(q);
		if (s->closed) {
			pq_unlock(q);
			return pq_seterr(q->name, PKIT_EXIT_NO, "queue closed");
		}
		if (copier_busy(q)) {
			/*
			 * Another putter is writing where our records would
			 * go.  Wait for its commit as for the mutex (-n too
			 * waits LOCK_GRACE for it).
			 */
			if (busy_until == 0)
				busy_until = deadline < 0 ? -1 :
				    deadline > mono_now() + LOCK_GRACE ?
				    deadline : mono_now() + LOCK_GRACE;
			if (expired(busy_until)) {
				pq_unlock(q);
				return pq_seterr(q->name, PKIT_EXIT_TIMEOUT,
				    "queue busy: another putter is copying "
				    "(a stopped process?)");
			}
			if ((r = wait_for(q, &q->c->get_seq, W_PUT,
			    busy_until)) != 0)
				return r;
			continue;
		}
		bytes = s->used + s->inflight_bytes;
		cnt = s->nmsgs + s->inflight;
		for (k = 0; i + k < lim && k < q->hdr.idwin / 2; k++) {
			sz = RECSZ(lens[i + k]);
			if (bytes + sz > q->cap ||
			    (q->hdr.max_msgs != 0 && cnt >= q->hdr.max_msgs))
				break;
			bytes += sz;
			cnt++;
		}
		if (k == 0) {
			if (expired(deadline)) {
				pq_unlock(q);
				return pq_seterr(q->name, PKIT_EXIT_TIMEOUT,
				    "queue full");
			}
			maybe_reclaim(q);
			if ((r = wait_for(q, &q->c->get_seq, W_PUT,
			    deadline)) != 0)
				return r;
			continue;
		}
		/* The K records' bytes (counted as they were fitted), and
		 * where they go: the end of the committed records. */
		nb = bytes - (s->used + s->inflight_bytes);
		pos = ring_add(q, s->head, s->used);
		id = s->next_id;
		if (nb >= PUTCOPY_MIN && (q->hdr.flags & PQ_F_PUTCOPY) &&
		    !(q->hdr.flags & PQ_F_LIFO) &&
		    byte_lock(q->fd, PUT_BYTE, F_WRLCK) == 0) {
			/* A big batch: copied with the mutex let go. */
			q->c->putting = 1;
			q->copying = 1;
			pq_unlock(q);
			put_records(q, pos, id, msgs + i, lens + i, k);
			/*
			 * By the caller's deadline, as every lock: a holder
			 * stopped meanwhile (failure row 17) gets -n and -t
			 * their 124, not a wait for ever.  Given up, the flag
			 * stays up with the byte free, as for a putter killed
			 * copying (row 2a): that batch is not put.
			 */
			r = pq_lock(q, deadline);
			q->copying = 0;
			if (r == 0)
				q->c->putting = 0;
			byte_lock(q->fd, PUT_BYTE, F_UNLCK);
			if (r != 0)
				return r;	/* the flag: copier_busy */
			s = cur(q);
			/* Where it went, still the end, still room (a repair
			 * may have rolled the state back): else again. */
			if (s->closed || ring_add(q, s->head, s->used) != pos ||
			    s->next_id != id ||
			    s->used + s->inflight_bytes + nb > q->cap ||
			    (q->hdr.max_msgs != 0 && s->nmsgs + s->inflight +
			    k > q->hdr.max_msgs))
				continue;
		} else
			put_records(q, pos, id, msgs + i, lens + i, k);
		st = stage(q);
		st->used += nb;
		st->nmsgs += k;
		st->unfinished += k;
		st->next_id += k;
		st->puts += k;
		/* Forget the oldest ids if the done window would overflow. */
		if (st->next_id - st->done_base > q->hdr.idwin) {
			st->redo_clr_from = st->done_base;
			st->redo_clr_to = st->next_id - q->hdr.idwin;
			st->done_base = st->forgot = st->redo_clr_to;
		}
		commit(q);
		FAULT("after_commit");
		if (cur(q)->nwait_get > 0) {
			bump(&q->c->put_seq);
			futex_wake(&q->c->put_seq,
			    (int)(k + 1 < cur(q)->nwait_get ? k + 1 :
			    cur(q)->nwait_get));
		}
		i += k;
		*nput = i;
	}
	if (lim > 0) {
		/* Room left for the next putter: pass the baton. */
		s = cur(q);
		if (s->nwait_put > 0 && s->used + s->inflight_bytes < q->cap &&
		    (q->hdr.max_msgs == 0 ||
		    s->nmsgs + s->inflight < q->hdr.max_msgs)) {
			bump(&q->c->get_seq);
			futex_wake(&q->c->get_seq, 1);
		}
		pq_unlock(q);
	}
	if (lim < n)
		return pq_seterr(q->name, PKIT_EXIT_FAIL,
		    "message of %zu bytes is over the limit of %u bytes",
		    lens[lim], q->hdr.max_msg);
	return 0;
}

/* --- get, commit, release ---------------------------------------------- */

/*
 * Mark id done in the staged state: 0 marked, 1 already done (or the
 * count is already 0), 2 never put.
 */
static int
done_mark(struct pqb *q, struct pq_state *n, uint64_t id)
{
	uint64_t b;

	if (id == 0 || id >= n->next_id)
		return 2;
	if (id < n->done_base && id >= n->forgot)
		return 1;
	if (id < n->done_base) {
		/* Older than the window: counted, not remembered. */
		if (n->unfinished == 0)
			return 1;
		n->unfinished--;
		return 0;
	}
	if (bit_get(q, id) || n->unfinished == 0)
		return 1;
	n->unfinished--;
	n->redo_set = id;
	for (b = n->done_base; b < n->next_id && (b == id || bit_get(q, b));
	    b++)
		;
	if (b > n->done_base) {
		n->redo_clr_from = n->done_base;
		n->redo_clr_to = b;
		n->done_base = b;
	}
	return 0;
}

static void
wake_joiners(struct pqb *q)
{
	if (cur(q)->unfinished == 0) {
		bump(&q->c->done_seq);
		futex_wake(&q->c->done_seq, INT_MAX);
	}
}

/*
 * Settle our lease in the staged state: the first ncommit are delivered,
 * the rest go back to the front.  The caller commits, then wakes.
 */
static int
settle(struct pqb *q, struct pq_state *n, size_t ncommit, int flags,
    int leave)
{
	const unsigned char *buf = q->slotbuf +
	    (size_t)q->slot * q->hdr.slotbuf_size;
	struct pq_slot img = q->slots[q->slot];
	size_t rest = q->nlease - ncommit;
	uint64_t off;

	if (n->inflight < q->nlease || n->inflight_bytes < q->lease_bytes) {
		mark_broken(q);
		return pq_seterr(q->name, PKIT_EXIT_FAIL,
		    "queue segment corrupt: lease accounting");
	}
	if (rest > 0) {
		off = (uint64_t)((const unsigned char *)q->lease[ncommit].data -
		    sizeof(struct pq_rec) - buf);
		if (buf_walk(q, buf + off, q->lease_bytes - off,
		    (uint32_t)rest) == -1) {
			mark_broken(q);
			return pq_seterr(q->name, PKIT_EXIT_FAIL,
			    "queue segment corrupt: lease records");
		}
		requeue(q, n, buf + off, q->lease_bytes - off, (uint32_t)rest,
		    !(flags & PQ_NOCOUNT));
	}
	n->inflight -= q->nlease;
	n->inflight_bytes -= q->lease_bytes;
	n->gets += ncommit;
	if (flags & PQ_DONE)
		done_mark(q, n, q->lease[0].id);
	img.state = SLOT_ATTACHED;
	img.nmsgs = 0;
	img.nbytes = 0;
	img.first_id = 0;
	img.attempts = 0;
	if (leave)
		memset(&img, 0, sizeof(img));	/* SLOT_FREE */
	set_slot(n, q->slot, &img);
	return 0;
}

/*
 * After a settle of nsettled messages: wake a putter per message (their
 * room is free now) and one more to pass the baton, getters for what
 * came back, joiners at 0.
 */
static void
settle_wake(struct pqb *q, size_t nsettled, size_t requeued)
{
	const struct pq_state *s = cur(q);

	if (s->nwait_put > 0 && nsettled > requeued) {
		bump(&q->c->get_seq);
		futex_wake(&q->c->get_seq, nsettled - requeued + 1 <
		    s->nwait_put ? (int)(nsettled - requeued + 1) :
		    (int)s->nwait_put);
	}
	if (s->nwait_get > 0 && (requeued > 0 ||
	    (s->closed && s->inflight == 0))) {
		bump(&q->c->put_seq);
		futex_wake(&q->c->put_seq, INT_MAX);
	}
	wake_joiners(q);
}

/*
 * After a take that dropped ndropped copies of messages done: their room
 * is free, so wake a putter per copy and one more to pass the baton, as
 * settle_wake does for a commit.  Under the mutex, as every wake-up.
 */
static void
drop_wake(struct pqb *q, uint64_t ndropped)
{
	const struct pq_state *s = cur(q);

	if (ndropped == 0 || s->nwait_put == 0)
		return;
	bump(&q->c->get_seq);
	futex_wake(&q->c->get_seq, ndropped + 1 < s->nwait_put ?
	    (int)(ndropped + 1) : (int)s->nwait_put);
}

/* A redelivered copy of a message already done: dropped, not leased. */
static int
done_copy(const struct pqb *q, const struct pq_state *n, uint64_t id)
{
	return id >= n->forgot && id < n->next_id &&
	    (id < n->done_base || bit_get(q, id));
}

/* Lease entry k: record r, sz bytes at p in the slot buffer. */
static void
lease_add(struct pqb *q, struct pq_state *n, size_t k, const struct pq_rec *r,
    const unsigned char *p, uint64_t sz)
{
	q->lease[k].id = r->id;
	q->lease[k].attempts = r->attempts;
	q->lease[k].len = r->len;
	q->lease[k].data = (const char *)p + sizeof(*r);
	n->inflight++;
	n->inflight_bytes += sz;
}

/*
 * FIFO take's first part: copy the ring's bytes from the head that the
 * lease may hold to the slot buffer in one go, then lease the records
 * framed there, each at the offset where take's own loop would copy it.
 * The loop's per-record reads of the ring (a header, then a trailer, each
 * a cache miss on lines another core wrote) cost more than the copy; one
 * copy keeps the loads independent.  The span is bounded by what max
 * records of average size need, so a get of one message copies about one.
 * Only records whole in the span, well framed and not to be dropped are
 * leased here; at any other the caller's loop goes on, from the ring, and
 * does what it always did (the record's bytes in buf are the ring's, so
 * it decides the same).  Returns the records leased; *posp and n move.
 */
static size_t
take_span(struct pqb *q, struct pq_state *n, unsigned char *buf, size_t max,
    uint64_t *posp)
{
	struct pq_rec r;
	uint64_t span, sz, pos = 0, avg;
	size_t k = 0;

	avg = n->used / n->nmsgs + 1;
	span = n->used < q->hdr.slotbuf_size ? n->used : q->hdr.slotbuf_size;
	if (max < span / avg)
		span = max * avg;
	ring_read(q, n->head, buf, span);
	while (k < max && n->nmsgs > 0 &&
	    buf_rec_check(q, buf + pos, span - pos, &r, &sz) == 0 &&
	    !done_copy(q, n, r.id)) {
		lease_add(q, n, k++, &r, buf + pos, sz);
		pos += sz;
		n->head = ring_add(q, n->head, sz);
		n->used -= sz;
		n->nmsgs--;
	}
	*posp = pos;
	return k;
}

/* Lease up to max records into our slot buffer (staged in n). */
static int
take(struct pqb *q, struct pq_state *n, size_t max)
{
	unsigned char *buf = q->slotbuf + (size_t)q->slot * q->hdr.slotbuf_size;
	struct pq_slot img = q->slots[q->slot];
	struct pq_rec r;
	uint64_t pos = 0, off, sz;
	size_t k = 0;

	if (!(q->hdr.flags & PQ_F_LIFO) && n->nmsgs > 0)
		k = take_span(q, n, buf, max, &pos);
	while (k < max && n->nmsgs > 0) {
		if (!(q->hdr.flags & PQ_F_LIFO)) {
			off = n->head;
			if (pqs_rec_check(q, off, n->used, &r, &sz) == -1)
				goto corrupt;
		} else if (rec_check_back(q, ring_add(q, n->head, n->used),
		    n->used, &r, &off, &sz) == -1)
			goto corrupt;
		if (pos + sz > q->hdr.slotbuf_size)
			break;
		if (done_copy(q, n, r.id))
			n->dropped++;
		else {
			ring_read(q, off, buf + pos, sz);
			lease_add(q, n, k++, &r, buf + pos, sz);
			pos += sz;
		}
		if (!(q->hdr.flags & PQ_F_LIFO))
			n->head = ring_add(q, n->head, sz);
		n->used -= sz;
		n->nmsgs--;
	}
	/*
	 * A ring emptied starts again at offset 0: a stream whose getters
	 * keep up then cycles through the same few hot pages instead of
	 * the whole ring, each first touched cold (a page fault, then cache
	 * misses on both sides).  (Here, not in the put, so that the unit
	 * test can still put at every head offset of an empty ring.)  Not
	 * while a putter copies past the end (copier_busy): that is where
	 * it will commit its records.
	 */
	if (n->used == 0 && q->c->putting == 0)
		n->head = 0;
	q->nlease = k;
	q->lease_bytes = pos;
	if (k > 0) {
		img.state = SLOT_HELD;
		img.nmsgs = (uint32_t)k;
		img.nbytes = pos;
		img.first_id = q->lease[0].id;
		img.attempts = q->lease[0].attempts;
		img.since = mono_now();
		img.pid = (int32_t)getpid();
		set_slot(n, q->slot, &img);
	}
	return 0;
corrupt:
	q->nlease = 0;
	mark_broken(q);
	return pq_seterr(q->name, PKIT_EXIT_FAIL,
	    "queue segment corrupt: bad record in the ring");
}

/*
 * The slot is taken only when there is something to take, and freed
 * before any wait and on every return without a lease: waiters hold no
 * slot, and leases never starve for one.
 */
int
pqs_get(struct pqb *q, size_t max, int64_t deadline, const struct pq_msg **msgs,
    size_t *nout)
{
	struct pq_state *n;
	const struct pq_state *s;
	uint64_t dropped;
	size_t had;
	int r;

	*nout = 0;
	*msgs = NULL;
	if (max == 0)
		max = 1;
	/*
	 * The last lease, written out by the caller, is committed first: a
	 * signal must not end that wait (UNTIL_TAKEN), or what the reader
	 * has would be delivered again.  With a deadline, a holder stopped
	 * past it still leaves the lease to be requeued (124, row 17).
	 */
	if ((r = pq_lock(q, q->nlease > 0 && deadline < 0 ? UNTIL_TAKEN :
	    deadline)) != 0)
		return r;
	if (q->nlease > 0) {
		had = q->nlease;
		n = stage(q);
		if ((r = settle(q, n, q->nlease, 0, 0)) != 0) {
			pq_unlock(q);
			return r;
		}
		commit(q);
		q->nlease = 0;
		settle_wake(q, had, 0);
		if (pq_signalled() != 0) {
			pq_unlock(q);
			return 128 + pq_signalled();
		}
	}
	for (;;) {
		maybe_reclaim(q);
		s = cur(q);
		if (s->nmsgs > 0 && (r = attach(q)) != PKIT_EXIT_TIMEOUT) {
			if (r != 0)
				goto out;
			n = stage(q);
			dropped = n->dropped;
			if ((r = take(q, n, max)) != 0)
				goto out;
			had = q->nlease;
			commit(q);
			drop_wake(q, cur(q)->dropped - dropped);
			if (had == 0)
				continue;	/* all were done copies */
			/* Others waiting and more to get: pass the baton. */
			if (cur(q)->nmsgs > 0 && cur(q)->nwait_get > 0) {
				bump(&q->c->put_seq);
				futex_wake(&q->c->put_seq, 1);
			}
			pq_unlock(q);
			FAULT("after_take");
			*msgs = q->lease;
			*nout = q->nlease;
			return 0;
		}
		detach(q);
		s = cur(q);	/* attach() and detach() may have committed */
		if (s->closed && s->inflight == 0) {
			r = pq_seterr(q->name, PKIT_EXIT_NO,
			    "queue closed and drained");
			goto out;
		}
		if (expired(deadline)) {
			if (s->nmsgs == 0)
				pq_seterr(q->name, PKIT_EXIT_TIMEOUT,
				    "queue empty");
			r = PKIT_EXIT_TIMEOUT;	/* else attach() said why */
			goto out;
		}
		if ((r = wait_for(q, &q->c->put_seq, W_GET, deadline)) != 0)
			return r;
	}
out:
	detach(q);
	pq_unlock(q);
	return r;
}

/* Settle the lease and free the slot: the holder may wait, or exit. */
int
pqs_commit(struct pqb *q, size_t ncommit, int flags)
{
	struct pq_state *n;
	size_t rest, had;
	int r;

	if (q->nlease == 0)
		return 0;
	if (ncommit > q->nlease)
		ncommit = q->nlease;
	if ((flags & PQ_DONE) && (q->nlease != 1 || ncommit != 1))
		return pq_seterr(q->name, PKIT_EXIT_FAIL,
		    "PQ_DONE needs a lease of one message, committed");
	rest = q->nlease - ncommit;
	had = q->nlease;
	if ((r = pq_lock(q, UNTIL_TAKEN)) != 0)
		return r;
	n = stage(q);
	if ((r = settle(q, n, ncommit, flags, 1)) != 0) {
		pq_unlock(q);
		return r;
	}
	FAULT("mid_commit");
	commit(q);
	q->nlease = 0;
	token(q->fd, q->slot, F_UNLCK);
	q->slot = -1;
	settle_wake(q, had, rest);
	slot_freed(q);
	pq_unlock(q);
	return 0;
}

int
pqs_release(struct pqb *q)
{
	return pqs_commit(q, 0, 0);
}

/* --- close, done, join, stat, remove, list ----------------------------- */

int
pqs_close(struct pqb *q)
{
	struct pq_state *n;
	int r;

	if ((r = pq_lock(q, mono_now() + OPEN_WAIT)) != 0)
		return r;
	n = stage(q);
	n->closed = 1;
	commit(q);
	wake_all(q->c);
	pq_unlock(q);
	return 0;
}

int
pqs_done(struct pqb *q, uint64_t count)
{
	struct pq_state *n;
	int r = 0;

	if ((r = pq_lock(q, mono_now() + OPEN_WAIT)) != 0)
		return r;
	n = stage(q);
	if (count > n->unfinished) {
		n->unfinished = 0;
		r = pq_seterr(q->name, PKIT_EXIT_NO,
		    "task_done called too many times");
	} else
		n->unfinished -= count;
	FAULT("in_done");
	commit(q);
	wake_joiners(q);
	pq_unlock(q);
	return r;
}

int
pqs_done_id(struct pqb *q, uint64_t id, int *already)
{
	struct pq_state *n;
	int r, m;

	*already = 0;
	if ((r = pq_lock(q, mono_now() + OPEN_WAIT)) != 0)
		return r;
	n = stage(q);
	m = done_mark(q, n, id);
	if (m == 2) {
		pq_unlock(q);
		return pq_seterr(q->name, PKIT_EXIT_FAIL,
		    "no message with id %llu was ever put",
		    (unsigned long long)id);
	}
	*already = m == 1;
	FAULT("in_done");
	commit(q);
	wake_joiners(q);
	pq_unlock(q);
	return 0;
}

int
pqs_join(struct pqb *q, int64_t deadline)
{
	int r;

	if ((r = pq_lock(q, deadline)) != 0)
		return r;
	for (;;) {
		if (cur(q)->unfinished == 0) {
			pq_unlock(q);
			return 0;
		}
		if (expired(deadline)) {
			pq_unlock(q);
			return pq_seterr(q->name, PKIT_EXIT_TIMEOUT,
			    "%llu tasks not done",
			    (unsigned long long)cur(q)->unfinished);
		}
		maybe_reclaim(q);
		if ((r = wait_for(q, &q->c->done_seq, W_JOIN, deadline)) != 0)
			return r;
	}
}

int
pqs_stat(struct pqb *q, struct pq_info *info, int64_t deadline)
{
	const struct pq_state *s;
	int64_t now;
	uint32_t i;
	int r;

	memset(info, 0, sizeof(*info));
	if ((r = pq_lock(q, deadline)) != 0)
		return r;
	recount(q);	/* waiters that died are not counted */
	(void)copier_busy(q);	/* nor a putter that died copying */
	s = cur(q);
	now = mono_now();
	info->nmsgs = s->nmsgs;
	info->bytes = s->used;
	info->max_msgs = q->hdr.max_msgs;
	info->max_bytes = q->cap;
	info->max_msg = q->hdr.max_msg;
	info->closed = s->closed != 0;
	info->lifo = (q->hdr.flags & PQ_F_LIFO) != 0;
	info->unfinished = s->unfinished;
	info->inflight = s->inflight;
	info->inflight_bytes = s->inflight_bytes;
	info->next_id = s->next_id;
	info->puts = s->puts;
	info->gets = s->gets;
	info->requeues = s->requeues;
	info->recoveries = s->recoveries;
	info->dropped = s->dropped;
	info->nwait_get = s->nwait_get;
	info->nwait_put = s->nwait_put;
	info->nwait_join = s->nwait_join;
	info->uid = (uid_t)q->hdr.owner_uid;
	info->mode = (mode_t)q->hdr.mode;
	for (i = 0; i < q->hdr.nslots && info->nleases < PQ_NSLOTS; i++) {
		const struct pq_slot *sl = &q->slots[i];
		struct pq_lease *l;

		if (sl->state != SLOT_HELD)
			continue;
		l = &info->leases[info->nleases++];
		l->pid = (pid_t)sl->pid;
		l->alive = (int)i == q->slot || token_held(q->fd, (int)i);
		l->nmsgs = sl->nmsgs;
		l->attempts = sl->attempts;
		l->first_id = sl->first_id;
		/* since is the segment's word, not ours: no overflow on it */
		l->age_ns = sl->since >= 0 && sl->since <= now ?
		    now - sl->since : 0;
	}
	pq_unlock(q);
	return 0;
}

/* One record (header r, payload at data) into e; pq_peek's shape. */
static void
entry_fill(struct pq_entry *e, const struct pq_rec *r, int leased, pid_t pid)
{
	memset(e, 0, sizeof(*e));
	e->id = r->id;
	e->attempts = r->attempts;
	e->len = r->len;
	e->leased = leased;
	e->holder = pid;
	e->npreview = r->len < PQ_PREVIEW ? r->len : PQ_PREVIEW;
}

/*
 * The queued records in delivery order (validated as they are walked):
 * FIFO from the head; LIFO from the top down, as take pops them, so that
 * a list cut short at max holds the first to go.  Then each held slot's
 * buffer.  Copies only: the lock is held for a walk.
 */
static int
pqs_peek(struct pqb *q, struct pq_entry *ents, size_t max, size_t *n,
    int64_t deadline)
{
	const struct pq_state *s;
	struct pq_rec r;
	uint64_t off, end, left, sz, i;
	uint32_t k, j;
	int lifo, rc;

	*n = 0;
	if ((rc = pq_lock(q, deadline)) != 0)
		return rc;
	s = cur(q);
	lifo = (q->hdr.flags & PQ_F_LIFO) != 0;
	off = s->head;
	end = ring_add(q, s->head, s->used);
	left = s->used;
	for (i = 0; i < s->nmsgs && *n < max; i++) {
		if (!lifo ? pqs_rec_check(q, off, left, &r, &sz) == -1 :
		    rec_check_back(q, end, left, &r, &off, &sz) == -1)
			break;
		entry_fill(&ents[*n], &r, 0, 0);
		ring_read(q, ring_add(q, off, sizeof(r)), ents[*n].preview,
		    ents[*n].npreview);
		(*n)++;
		if (!lifo)
			off = ring_add(q, off, sz);
		else
			end = off;
		left -= sz;
	}
	for (k = 0; k < q->hdr.nslots && *n < max; k++) {
		const struct pq_slot *sl = &q->slots[k];
		const unsigned char *buf = q->slotbuf +
		    (size_t)k * q->hdr.slotbuf_size;

		if (sl->state != SLOT_HELD || sl->nmsgs == 0 ||
		    buf_walk(q, buf, sl->nbytes, sl->nmsgs) == -1)
			continue;
		for (j = 0; j < sl->nmsgs && *n < max; j++) {
			memcpy(&r, buf + q->offs[j], sizeof(r));
			entry_fill(&ents[*n], &r, 1, (pid_t)sl->pid);
			memcpy(ents[*n].preview, buf + q->offs[j] + sizeof(r),
			    ents[*n].npreview);
			(*n)++;
		}
	}
	pq_unlock(q);
	return 0;
}

static int
pqs_remove(const char *name)
{
	struct pq_hdr h;
	struct stat st;
	const char *file, *why;
	struct pq_ctl *c;
	void *base;
	int dfd, fd, r, locked;

	pq_sigbus_install();
	if ((fd = queue_file(name, O_RDWR, &dfd, &file, &r)) == -1)
		return open_failed(name, r);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		close(fd);
		close(dfd);
		return pq_seterr(name, PKIT_EXIT_FAIL,
		    "segment is not ours; refused");
	}
	if (strchr(name, '/') != NULL && (why = seg_foreign(fd, &st)) != NULL) {
		close(fd);
		close(dfd);
		return pq_seterr(name, PKIT_EXIT_FAIL, "%s; refused", why);
	}
	/*
	 * A queue with a sound header and mutex: mark it removed and wake
	 * its waiters first.  Not its state: read here without the mutex, a
	 * commit going on can make it look invalid (see state_confirm), and
	 * the flag and the futex words are in the control block, where the
	 * header puts them, whatever the state says.  The mapping is left
	 * in place, as every handle's is (doc/QUEUE.md, "Close and remove":
	 * the robust mutex's address must not be reused while this process
	 * lives).
	 */
	if (st.st_size >= PAGE && pread(fd, &h, sizeof(h), 0) ==
	    (ssize_t)sizeof(h) && hdr_invalid(&h, (uint64_t)st.st_size) ==
	    NULL && (base = mmap(NULL, h.total_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0)) != MAP_FAILED) {
		c = (struct pq_ctl *)((char *)base + h.off_ctl);
		if (mutex_kind_ok(&c->mu)) {
			struct timespec ts = ns_to_timespec(mono_now() +
			    OPEN_WAIT);

			r = pthread_mutex_clocklock(&c->mu, CLOCK_MONOTONIC,
			    &ts);
			if (r == EOWNERDEAD)
				pthread_mutex_consistent(&c->mu);
			locked = r == 0 || r == EOWNERDEAD;
			__atomic_store_n(&c->removed, 1, __ATOMIC_RELEASE);
			wake_all(c);
			FAULT("in_remove");
			if (unlinkat(dfd, file, 0) == -1 && errno != ENOENT)
				r = errno;
			else
				r = 0;
			if (locked)
				pthread_mutex_unlock(&c->mu);
			close(fd);
			close(dfd);
			if (r != 0)
				return pq_seterr(name, PKIT_EXIT_FAIL,
				    "unlink: %s", strerror(r));
			return 0;
		}
	}
	close(fd);
	r = unlinkat(dfd, file, 0) == -1 ? errno : 0;
	close(dfd);
	if (r != 0)
		return pq_seterr(name, PKIT_EXIT_FAIL, "unlink: %s",
		    strerror(r));
	return 0;
}

/* The queues of the runtime directory (not those named by a path). */
static int
pqs_list(void (*fn)(const char *, void *), void *arg)
{
	struct dirent *d;
	struct stat st;
	char path[4096], what[sizeof(path) + 32];
	const char *why;
	DIR *dp;
	int dfd;

	/*
	 * Worded as queue_dir words it, "runtime directory PATH: why", the
	 * what of every tool's line; pq_seterr escapes it.
	 */
	dfd = queues_dir(path, sizeof(path), &why);
	snprintf(what, sizeof(what), "runtime directory %s", path);
	if (dfd == -1)
		return pq_seterr(what, PKIT_EXIT_FAIL, "%s", why);
	if ((dp = fdopendir(dfd)) == NULL) {
		close(dfd);
		return pq_seterr(what, PKIT_EXIT_FAIL, "%s", strerror(errno));
	}
	while ((d = readdir(dp)) != NULL) {
		if (name_invalid(d->d_name) != NULL)
			continue;
		if (fstatat(dirfd(dp), d->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid())
			continue;
		fn(d->d_name, arg);
	}
	closedir(dp);
	return 0;
}

/* --- the backend's table (queue-backend.h) ----------------------------- */

static const char *
pqs_name(const struct pqb *q)
{
	return q->name;
}

static uint32_t
pqs_max_msg(const struct pqb *q)
{
	return q->hdr.max_msg;
}

static int64_t
pqs_renew_every(const struct pqb *q)
{
	(void)q;
	return -1;	/* leases live as long as their holder: no renewal */
}

static int
pqs_renew(struct pqb *q)
{
	(void)q;
	return 0;
}

const struct pq_ops pq_shm_ops = {
	pqs_create, pqs_open, pqs_remove,
	pqs_put, pqs_get, pqs_commit, pqs_close, pqs_done, pqs_done_id,
	pqs_join, pqs_stat, pqs_name, pqs_max_msg, pqs_renew_every, pqs_renew,
	pqs_list, pqs_peek, NULL,	/* no open_lazy: opening is local */
	NULL,	/* get_slice: a lock held past a slice is 124 already */
	/*
	 * A leased message's data is a record's, in the slot buffer: after
	 * its len bytes come the padding to 8 and the 8-byte trailer, so
	 * blocks of 16 from the data's start end inside the record.
	 */
	16
};
