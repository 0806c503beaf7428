/* SPDX-License-Identifier: ISC */
/*
 * unit_pqueue: C unit tests for the queue engine.  The engine's private
 * layout (queue-shm-layout.h) is included so that the tests can build
 * segments in a memfd (real OFD tokens, a real robust mutex) and set the
 * ring's head at every offset.
 * Prints TAP-like lines; exits 1 if any check failed.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dur.h"
#include "exitcode.h"
#include "queue-backend.h"
#include "queue-shm-layout.h"

#include "../unit.h"

static int
mkfd(const struct pq_config *cfg, struct pq_hdr *h, void **basep)
{
	int fd;

	pqs_layout(h, cfg);
	h->magic = PQ_MAGIC;
	fd = memfd_create("unit_pqueue", MFD_CLOEXEC);
	if (fd == -1 || ftruncate(fd, (off_t)h->total_size) == -1)
		abort();
	*basep = mmap(NULL, h->total_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (*basep == MAP_FAILED || pqs_format(*basep, h) != 0)
		abort();
	return fd;
}

static struct pqb *
mkqueue(uint64_t maxmsgs, uint64_t bytes, int lifo)
{
	struct pq_config cfg = { maxmsgs, bytes, lifo, 0600, 0 };
	struct pq_hdr h;
	struct pqb *q;
	void *base;
	int fd = mkfd(&cfg, &h, &base);

	if (pqs_handle_new("unit", fd, base, h.total_size, &h, &q) != 0)
		abort();
	return q;
}

/* A second handle on the same segment, with its own open file description. */
static struct pqb *
reopen(const struct pqb *q)
{
	char path[64];
	struct pqb *q2;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", q->fd);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		abort();
	if (pqs_handle_new("unit", fd, (char *)q->c - q->hdr.off_ctl, q->size,
	    &q->hdr, &q2) != 0)
		abort();
	return q2;
}

static int
put1(struct pqb *q, const char *s, int64_t deadline)
{
	size_t len = strlen(s), n;

	return pqs_put(q, &s, &len, 1, &n, deadline);
}

static const int sizes[] = { 0, 1, 5, 8, 13, 40, 100 };
#define NSIZES	((int)(sizeof(sizes) / sizeof(sizes[0])))

static void
fill(char *buf, int i, int len)
{
	int j;

	for (j = 0; j < len; j++)
		buf[j] = (char)('a' + (i * 7 + j) % 26);
}

/* Every head offset of a small ring, records of mixed sizes. */
static void
test_wrap(int lifo)
{
	struct pqb *q = mkqueue(0, 512, lifo);
	const struct pq_msg *m;
	char bufs[NSIZES][128], want[128];
	const char *ptrs[NSIZES];
	size_t lens[NSIZES], n, nput;
	uint64_t off;
	int i, ok = 1, r, k;

	for (i = 0; i < NSIZES; i++) {
		fill(bufs[i], i, sizes[i]);
		ptrs[i] = bufs[i];
		lens[i] = (size_t)sizes[i];
	}
	for (off = 0; off < q->cap; off += 8) {
		q->c->st[q->c->cur].head = off;
		r = pqs_put(q, ptrs, lens, NSIZES, &nput, mono_now());
		if (r != 0 || nput != NSIZES || pqs_ring_walk(q, cur(q)) != 0) {
			ok = 0;
			break;
		}
		if ((r = pqs_get(q, 100, mono_now(), &m, &n)) != 0 ||
		    n != NSIZES) {
			ok = 0;
			break;
		}
		for (k = 0; k < NSIZES; k++) {
			i = lifo ? NSIZES - 1 - k : k;
			fill(want, i, sizes[i]);
			if (m[k].len != (uint32_t)sizes[i] ||
			    memcmp(m[k].data, want, m[k].len) != 0)
				ok = 0;
		}
		/* Give the last three back: they come first, in order. */
		if (pqs_commit(q, NSIZES - 3, 0) != 0 ||
		    pqs_get(q, 100, mono_now(), &m, &n) != 0 || n != 3)
			ok = 0;
		for (k = 0; k < 3 && ok; k++) {
			i = lifo ? 2 - k : NSIZES - 3 + k;
			fill(want, i, sizes[i]);
			if (m[k].len != (uint32_t)sizes[i] ||
			    memcmp(m[k].data, want, m[k].len) != 0 ||
			    m[k].attempts != 1)
				ok = 0;
		}
		if (pqs_commit(q, 3, 0) != 0 || cur(q)->nmsgs != 0 ||
		    cur(q)->used != 0 || cur(q)->inflight != 0)
			ok = 0;
		if (!ok)
			break;
	}
	if (!ok)
		printf("# wrap failed at offset %llu (lifo %d)\n",
		    (unsigned long long)off, lifo);
	CHECK(ok);
	CHECK(pqs_done(q, cur(q)->unfinished) == 0);
	CHECK(cur(q)->requeues == 3 * (q->cap / 8));
}

/* A record split at each byte boundary decodes the same. */
static void
test_records(void)
{
	struct pqb *q = mkqueue(0, 256, 0);
	struct pq_rec r;
	char data[57], back[57];
	uint64_t off, sz;
	int ok = 1;

	memset(data, 'x', sizeof(data));
	data[0] = 'A';
	data[56] = 'Z';
	for (off = 0; off < q->cap; off += 8) {
		pqs_rec_write(q, off, 42, 3, data, sizeof(data), 0);
		if (pqs_rec_check(q, off, q->cap, &r, &sz) != 0 || r.id != 42 ||
		    r.attempts != 3 || r.len != sizeof(data) ||
		    sz != RECSZ(sizeof(data)))
			ok = 0;
		ring_read(q, ring_add(q, off, sizeof(r)), back, sizeof(back));
		if (memcmp(back, data, sizeof(data)) != 0)
			ok = 0;
		if (pqs_rec_check(q, off, sz - 8, &r, &sz) == 0)
			ok = 0;		/* not enough bytes: refused */
	}
	CHECK(ok);
	/* A damaged trailer is refused. */
	pqs_rec_write(q, 0, 1, 0, data, 8, 0);
	q->ring[RECSZ(8) - 1] ^= 0x55;
	CHECK(pqs_rec_check(q, 0, q->cap, &r, &sz) == -1);
}

static void
test_order(void)
{
	struct pqb *f = mkqueue(0, 4096, 0), *l = mkqueue(0, 4096, 1);
	const struct pq_msg *m;
	size_t n;

	CHECK(put1(f, "1", -1) == 0 && put1(f, "2", -1) == 0 &&
	    put1(f, "3", -1) == 0);
	CHECK(put1(l, "1", -1) == 0 && put1(l, "2", -1) == 0 &&
	    put1(l, "3", -1) == 0);
	CHECK(pqs_get(f, 1, -1, &m, &n) == 0 && n == 1 && m[0].data[0] == '1' &&
	    m[0].id == 1);
	CHECK(pqs_get(f, 1, -1, &m, &n) == 0 && m[0].data[0] == '2');
	CHECK(pqs_get(f, 1, -1, &m, &n) == 0 && m[0].data[0] == '3');
	CHECK(pqs_get(l, 1, -1, &m, &n) == 0 && m[0].data[0] == '3' &&
	    m[0].id == 3);
	CHECK(pqs_get(l, 1, -1, &m, &n) == 0 && m[0].data[0] == '2');
	CHECK(pqs_get(l, 1, -1, &m, &n) == 0 && m[0].data[0] == '1');
	CHECK(pqs_get(f, 1, mono_now(), &m, &n) == PKIT_EXIT_TIMEOUT);
	CHECK(cur(f)->nmsgs == 0 && cur(f)->inflight == 0 &&
	    cur(f)->gets == 3);
}

static void
test_limits(void)
{
	struct pqb *q = mkqueue(3, 4096, 0);
	const char *big;
	char *buf;
	size_t len, n;
	int64_t t0;

	CHECK(put1(q, "a", -1) == 0 && put1(q, "b", -1) == 0 &&
	    put1(q, "c", -1) == 0);
	t0 = mono_now();
	CHECK(put1(q, "d", mono_now()) == PKIT_EXIT_TIMEOUT);
	CHECK(mono_now() - t0 < 100000000);
	CHECK(put1(q, "d", mono_now() + 200000000) == PKIT_EXIT_TIMEOUT);
	CHECK(mono_now() - t0 >= 200000000);
	CHECK(strstr(pq_error(), "queue full") != NULL);
	/* Over the per-message limit: refused, earlier ones stay put. */
	q = mkqueue(0, 4096, 0);
	len = q->hdr.max_msg + 1;
	buf = calloc(1, len);
	big = buf;
	{
		const char *ms[2] = { "ok", big };
		size_t ls[2] = { 2, len };

		CHECK(pqs_put(q, ms, ls, 2, &n, -1) == PKIT_EXIT_FAIL);
		CHECK(n == 1 && cur(q)->nmsgs == 1);
		CHECK(strstr(pq_error(), "over the limit") != NULL);
	}
	free(buf);
	/* Bytes: a 4 KiB ring takes 4096/32 one-byte messages, no more. */
	q = mkqueue(0, 4096, 0);
	for (n = 0; put1(q, "x", mono_now()) == 0; n++)
		;
	CHECK(n == 4096 / RECSZ(1));
}

static void
test_close(void)
{
	struct pqb *q = mkqueue(0, 4096, 0);
	const struct pq_msg *m;
	size_t n;

	CHECK(put1(q, "a", -1) == 0 && put1(q, "b", -1) == 0);
	CHECK(pqs_close(q) == 0);
	CHECK(put1(q, "c", -1) == PKIT_EXIT_NO);
	CHECK(pqs_get(q, 1, -1, &m, &n) == 0 && m[0].data[0] == 'a');
	CHECK(pqs_get(q, 1, -1, &m, &n) == 0 && m[0].data[0] == 'b');
	CHECK(pqs_get(q, 1, -1, &m, &n) == PKIT_EXIT_NO);
	CHECK(cur(q)->gets == 2);
}

static void
test_done(void)
{
	struct pqb *q = mkqueue(0, 4096, 0);
	int already;
	uint64_t i;

	CHECK(put1(q, "a", -1) == 0 && put1(q, "b", -1) == 0 &&
	    put1(q, "c", -1) == 0);
	CHECK(cur(q)->unfinished == 3);
	CHECK(pqs_join(q, mono_now()) == PKIT_EXIT_TIMEOUT);
	CHECK(pqs_done(q, 2) == 0 && cur(q)->unfinished == 1);
	CHECK(pqs_done_id(q, 3, &already) == 0 && !already);
	CHECK(cur(q)->unfinished == 0);
	CHECK(pqs_join(q, mono_now()) == 0);
	CHECK(pqs_done_id(q, 3, &already) == 0 && already);
	CHECK(pqs_done(q, 1) == PKIT_EXIT_NO && cur(q)->unfinished == 0);
	CHECK(strstr(pq_error(), "too many") != NULL);
	CHECK(pqs_done_id(q, 99, &already) == PKIT_EXIT_FAIL);
	/* By id, at most once each; the window slides as ids complete. */
	q = mkqueue(0, 65536, 0);
	for (i = 0; i < 10; i++)
		CHECK(put1(q, "m", -1) == 0);
	CHECK(pqs_done_id(q, 2, &already) == 0 && !already);
	CHECK(pqs_done_id(q, 2, &already) == 0 && already);
	CHECK(cur(q)->unfinished == 9 && cur(q)->done_base == 1);
	CHECK(pqs_done_id(q, 1, &already) == 0 && cur(q)->done_base == 3);
	CHECK(bit_get(q, 1) == 0 && bit_get(q, 2) == 0);
	for (i = 3; i <= 10; i++)
		CHECK(pqs_done_id(q, i, &already) == 0 && !already);
	CHECK(cur(q)->unfinished == 0 && cur(q)->done_base == 11);
	CHECK(pqs_join(q, mono_now()) == 0);
}

/* A copy of a message already done by id is dropped when taken. */
static void
test_done_drop(void)
{
	struct pqb *q = mkqueue(0, 4096, 0);
	const struct pq_msg *m;
	size_t n;
	int already;

	CHECK(put1(q, "a", -1) == 0 && put1(q, "b", -1) == 0);
	CHECK(pqs_get(q, 1, -1, &m, &n) == 0 && m[0].id == 1);
	CHECK(pqs_done_id(q, 1, &already) == 0);
	CHECK(pqs_release(q) == 0 && cur(q)->nmsgs == 2);
	CHECK(pqs_get(q, 1, -1, &m, &n) == 0 && m[0].id == 2);
	CHECK(cur(q)->dropped == 1);
	CHECK(pqs_commit(q, 1, PQ_DONE) == 0 && cur(q)->unfinished == 0);
}

/*
 * The same in the middle of a take: a copy done by id between two records
 * to lease.  The take's one-copy first part stops at it; the loop drops
 * it and leases the next record after the first, each with its own data.
 */
static void
test_done_drop_mid(void)
{
	struct pqb *q = mkqueue(0, 4096, 0);
	const struct pq_msg *m;
	size_t n;
	int already;

	CHECK(put1(q, "a", -1) == 0 && put1(q, "bb", -1) == 0 &&
	    put1(q, "ccc", -1) == 0);
	CHECK(pqs_get(q, 2, -1, &m, &n) == 0 && n == 2 && m[1].id == 2);
	CHECK(pqs_done_id(q, 2, &already) == 0);
	CHECK(pqs_release(q) == 0 && cur(q)->nmsgs == 3);
	CHECK(pqs_get(q, 3, -1, &m, &n) == 0 && n == 2);
	CHECK(m[0].id == 1 && m[0].len == 1 && memcmp(m[0].data, "a", 1) == 0);
	CHECK(m[1].id == 3 && m[1].len == 3 &&
	    memcmp(m[1].data, "ccc", 3) == 0);
	CHECK(cur(q)->dropped == 1 && cur(q)->nmsgs == 0);
	CHECK(pqs_commit(q, 2, 0) == 0 && cur(q)->inflight == 0 &&
	    cur(q)->unfinished == 2);
}

/* A holder that dies with a lease: the next getter gets it, attempts+1. */
static void
test_dead_lease(void)
{
	struct pqb *q = mkqueue(0, 4096, 0), *q2;
	const struct pq_msg *m;
	size_t n;
	pid_t pid;
	int st;

	CHECK(put1(q, "one", -1) == 0 && put1(q, "two", -1) == 0);
	if ((pid = fork()) == 0) {
		q2 = reopen(q);
		if (pqs_get(q2, 2, -1, &m, &n) != 0 || n != 2)
			_exit(1);
		_exit(0);	/* without committing */
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && st == 0);
	CHECK(cur(q)->inflight == 2 && cur(q)->nmsgs == 0);
	CHECK(pqs_get(q, 1, mono_now() + 1000000000, &m, &n) == 0 && n == 1);
	CHECK(memcmp(m[0].data, "one", 3) == 0 && m[0].attempts == 1);
	CHECK(pqs_get(q, 1, mono_now(), &m, &n) == 0 &&
	    memcmp(m[0].data, "two", 3) == 0);
	CHECK(pqs_commit(q, 1, 0) == 0);
	CHECK(cur(q)->requeues == 2 && cur(q)->inflight == 0 &&
	    cur(q)->unfinished == 2);
}

/* A process dies holding the mutex: the next locker repairs and goes on. */
static void
test_dead_owner(void)
{
	struct pqb *q = mkqueue(0, 4096, 0), *q2;
	const struct pq_msg *m;
	size_t n;
	pid_t pid;
	int st;

	CHECK(put1(q, "x", -1) == 0);
	if ((pid = fork()) == 0) {
		q2 = reopen(q);
		pthread_mutex_lock(&q2->c->mu);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(put1(q, "y", mono_now() + 1000000000) == 0);
	CHECK(cur(q)->recoveries == 1);
	CHECK(pqs_get(q, 5, -1, &m, &n) == 0 && n == 2);
	CHECK(pqs_commit(q, 2, 0) == 0);
}

/*
 * A holder dies with a lease and the mutex: a process that never attached
 * (pqueue-stat) repairs the queue and gives the lease back.
 */
static void
test_repair_unattached(void)
{
	struct pqb *q = mkqueue(0, 4096, 0), *q2, *q3;
	const struct pq_msg *m;
	struct pq_info info;
	size_t n;
	pid_t pid;
	int st;

	CHECK(put1(q, "kept", -1) == 0);
	if ((pid = fork()) == 0) {
		q2 = reopen(q);
		if (pqs_get(q2, 1, -1, &m, &n) != 0)
			_exit(1);
		pthread_mutex_lock(&q2->c->mu);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && st == 0);
	q3 = reopen(q);
	CHECK(pqs_stat(q3, &info, mono_now() + 1000000000) == 0);
	CHECK(info.recoveries == 1 && info.requeues == 1 && info.nmsgs == 1 &&
	    info.inflight == 0 && info.nleases == 0);
	CHECK(pqs_get(q3, 1, mono_now(), &m, &n) == 0 && m[0].attempts == 1 &&
	    memcmp(m[0].data, "kept", 4) == 0);
}

/*
 * pq_peek on a LIFO queue: the top first, as a get takes them, across
 * the ring's end; a list cut short at max holds the first to go.
 */
static void
test_peek_lifo(void)
{
	struct pqb *q = mkqueue(0, 512, 1);
	struct pq_entry e[8];
	const struct pq_msg *m;
	size_t n;

	q->c->st[q->c->cur].head = q->cap - 40;
	CHECK(put1(q, "1", -1) == 0 && put1(q, "2", -1) == 0 &&
	    put1(q, "3", -1) == 0 && put1(q, "4", -1) == 0 &&
	    put1(q, "5", -1) == 0);
	CHECK(pq_shm_ops.peek(q, e, 8, &n, -1) == 0 && n == 5);
	CHECK(e[0].id == 5 && e[1].id == 4 && e[4].id == 1 &&
	    e[0].npreview == 1 && e[0].preview[0] == '5');
	CHECK(pq_shm_ops.peek(q, e, 2, &n, -1) == 0 && n == 2 &&
	    e[0].id == 5 && e[1].id == 4);
	CHECK(pqs_get(q, 1, -1, &m, &n) == 0 && n == 1 && m[0].id == 5);
	CHECK(pq_shm_ops.peek(q, e, 8, &n, -1) == 0 && n == 5);
	CHECK(e[0].id == 4 && e[3].id == 1 && !e[3].leased &&
	    e[4].id == 5 && e[4].leased);
	CHECK(pqs_commit(q, 1, 0) == 0);
}

/* A live holder that stops with the mutex: deadlines still hold (busy). */
static void
test_busy(void)
{
	struct pqb *q = mkqueue(0, 4096, 0), *q2;
	int64_t t0;
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		q2 = reopen(q);
		pthread_mutex_lock(&q2->c->mu);
		pause();
		_exit(0);
	}
	CHECK(pid > 1);
	if (pid <= 1)
		return;
	usleep(100000);
	t0 = mono_now();
	CHECK(put1(q, "x", mono_now() + 300000000) == PKIT_EXIT_TIMEOUT);
	CHECK(strstr(pq_error(), "busy") != NULL);
	CHECK(mono_now() - t0 >= 250000000 && mono_now() - t0 < 2000000000);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(put1(q, "x", mono_now() + 1000000000) == 0);
	CHECK(cur(q)->recoveries == 1 && cur(q)->nmsgs == 1);
}

/* A blocked getter is woken by a put from another process. */
static void
test_wakeup(void)
{
	struct pqb *q = mkqueue(0, 4096, 0), *q2;
	const struct pq_msg *m;
	size_t n;
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		q2 = reopen(q);
		if (pqs_get(q2, 1, mono_now() + 5000000000LL, &m, &n) != 0 ||
		    memcmp(m[0].data, "wake", 4) != 0 ||
		    pqs_commit(q2, 1, 0) != 0)
			_exit(1);
		_exit(0);
	}
	while (cur(q)->nwait_get == 0)
		usleep(1000);
	CHECK(put1(q, "wake", -1) == 0);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && st == 0);
	CHECK(cur(q)->nwait_get == 0 && cur(q)->gets == 1);
}

static void
test_validate(void)
{
	struct pq_config cfg = { 0, 4096, 0, 0600, 0 };
	struct pq_hdr h, *mh;
	struct pq_ctl *c;
	unsigned char *base, *copy;
	void *b;
	size_t size;
	int fd;

	fd = mkfd(&cfg, &h, &b);
	base = b;
	size = h.total_size;
	copy = malloc(size);
	CHECK(pqs_validate(base, size) == NULL);
	CHECK(pqs_validate(base, size - PAGE) != NULL);
	CHECK(pqs_validate(base, 100) != NULL);

#define MUTATE(stmt, fixcrc) do {					\
	memcpy(copy, base, size);					\
	mh = (struct pq_hdr *)copy;					\
	c = (struct pq_ctl *)(copy + h.off_ctl);			\
	(void)c;							\
	stmt;								\
	if (fixcrc)							\
		mh->crc = hdr_crc(mh);					\
	CHECK(pqs_validate(copy, size) != NULL);				\
} while (0)

	MUTATE(mh->magic = 0, 0);
	MUTATE(mh->magic ^= 1, 1);
	MUTATE(mh->version = 1, 1);
	MUTATE(mh->version = PQ_VERSION + 1, 1);
	MUTATE(mh->abi ^= 1, 1);
	MUTATE(mh->hdr_size = 8, 1);
	MUTATE(mh->nslots++, 0);		/* the checksum alone */
	MUTATE(mh->nslots = 0, 1);
	MUTATE(mh->nslots = 100000, 1);
	MUTATE(mh->flags = 0x80, 1);
	MUTATE(mh->ring_cap = 12, 1);
	MUTATE(mh->ring_cap = h.ring_cap * 4, 1);
	MUTATE(mh->max_msg = 1u << 30, 1);
	MUTATE(mh->total_size = size + PAGE, 1);
	MUTATE(mh->off_ctl = 3, 1);
	MUTATE(mh->off_ring = size, 1);
	MUTATE(mh->off_ring = h.off_slotbuf, 1);
	MUTATE(mh->off_slots = h.off_ctl, 1);
	MUTATE(mh->off_done = (uint64_t)1 << 60, 1);
	MUTATE(mh->slotbuf_size = 3, 1);
	MUTATE(mh->idwin = 0, 1);
	MUTATE(c->cur = 7, 0);
	MUTATE(c->st[0].head = h.ring_cap, 0);
	MUTATE(c->st[0].head = 4, 0);
	MUTATE(c->st[0].used = h.ring_cap + 8, 0);
	MUTATE(c->st[0].nmsgs = 1, 0);
	MUTATE(c->st[0].next_id = 0, 0);
	MUTATE(c->st[0].unfinished = 5, 0);
	MUTATE(c->st[0].nwait_get = WAIT_MAX + 1, 0);
	MUTATE(c->st[0].redo_slot = 9999, 0);
	MUTATE((c->st[0].inflight = 1, c->st[0].inflight_bytes = 24,
	    c->st[0].used = h.ring_cap), 0);
	/* And a ring whose records do not frame is found by the walk. */
	{
		struct pqb *q = mkqueue(0, 4096, 0);

		CHECK(put1(q, "hello", -1) == 0);
		CHECK(pqs_ring_walk(q, cur(q)) == 0);
		q->ring[0] ^= 0xff;
		CHECK(pqs_ring_walk(q, cur(q)) == -1);
		q->c->st[q->c->cur].used += 8;
		q->ring[0] ^= 0xff;
		CHECK(pqs_ring_walk(q, cur(q)) == -1);
	}
	free(copy);
	close(fd);
}

int
main(void)
{
	test_records();
	test_wrap(0);
	test_wrap(1);
	test_order();
	test_peek_lifo();
	test_limits();
	test_close();
	test_done();
	test_done_drop();
	test_done_drop_mid();
	test_dead_lease();
	test_dead_owner();
	test_repair_unattached();
	test_busy();
	test_wakeup();
	test_validate();
	return unit_end();
}
