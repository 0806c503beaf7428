/* SPDX-License-Identifier: ISC */
/*
 * fuzz_segment: libFuzzer target for the queue engine's trust boundary.
 * Each input is a whole segment image.  It is placed in a memfd, mapped
 * as pq_open maps queues/NAME, and run through pqs_validate; if
 * the engine accepts it, a handle is made on it and it is used: stat, a
 * get that leases what is there (dead leases found in the image are
 * requeued first), a partial commit, a put, a release, a done.  Nothing
 * may crash, read or write out of bounds, loop or block.
 *
 * The engine's layout (queue-shm-layout.h) is included, and the handle
 * is built by the engine's own pqs_handle_new().  Two things are fixed up in each image so that the
 * fuzzer reaches what lies behind them: the header checksum (recomputed,
 * unless the image's last byte is 0xff, so the check itself is fuzzed
 * too) and the mutex (re-initialised: pq_open refuses a mutex that is not
 * one of ours, and one "held" by a made-up thread would only be waited
 * out).  Seed images use a small layout (2 slots of 512 bytes, a 1 KiB
 * ring, a 64-id window), one pqs_validate accepts; built with
 * -DSEGMENT_GEN this file is the generator of tests/fuzz/corpus/segment.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue-shm-layout.h"

#define FUZZ_MAXSIZE	(1 << 20)

static struct pqb	*fuzz_handle(const uint8_t *, size_t, void **, int *);
static void		 fuzz_free(struct pqb *, void *, size_t, int);
static void		 mutex_fresh(pthread_mutex_t *);

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct pq_msg *msgs;
	struct pq_info *info;
	const char *one = "fuzz";
	size_t len = 4, n, nput, i;
	unsigned sum = 0;
	struct pqb *q;
	void *base;
	int fd, r;

	if (size < sizeof(struct pq_hdr) || size > FUZZ_MAXSIZE)
		return 0;
	if ((q = fuzz_handle(data, size, &base, &fd)) == NULL)
		return 0;
	if ((info = malloc(sizeof(*info))) != NULL) {
		(void)pqs_stat(q, info, 0);
		free(info);
	}
	r = pqs_get(q, 8, 0, &msgs, &n);
	if (r == 0) {
		if (n == 0 || n > 8)
			abort();
		for (i = 0; i < n; i++) {
			const unsigned char *p;
			uint32_t k;

			if (msgs[i].len > q->hdr.max_msg)
				abort();
			p = (const unsigned char *)msgs[i].data;
			for (k = 0; k < msgs[i].len; k++)
				sum += p[k];
		}
		(void)pqs_commit(q, n / 2, 0);
	}
	if (getenv("FUZZ_SEGMENT_TRACE") != NULL)
		fprintf(stderr, "fuzz_segment: get %d, %zu messages\n", r,
		    r == 0 ? n : 0);
	(void)pqs_put(q, &one, &len, 1, &nput, 0);
	if (pqs_get(q, 1, 0, &msgs, &n) == 0)
		(void)pqs_release(q);
	(void)pqs_done(q, 1);
	if (pqs_get(q, 1, 0, &msgs, &n) == 0)
		(void)pqs_commit(q, n, PQ_DONE);
	(void)pqs_join(q, 0);
	fuzz_free(q, base, size, fd);
	/* keep the reads of the payload from being optimised away */
	__asm__ volatile("" : : "r"(sum));
	return 0;
}

/* The image in a fresh memfd, mapped; a handle if the engine accepts it. */
static struct pqb *
fuzz_handle(const uint8_t *data, size_t size, void **basep, int *fdp)
{
	struct pq_hdr *h;
	struct pqb *q;
	void *base;
	int fd;

	if ((fd = memfd_create("fuzz_segment", MFD_CLOEXEC)) == -1)
		abort();
	if (ftruncate(fd, (off_t)size) == -1)
		abort();
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		abort();
	memcpy(base, data, size);
	h = base;
	if (data[size - 1] != 0xff)
		h->crc = hdr_crc(h);
	if (pqs_validate(base, size) != NULL) {
		munmap(base, size);
		close(fd);
		return NULL;
	}
	mutex_fresh(&((struct pq_ctl *)((char *)base + h->off_ctl))->mu);
	if (pqs_handle_new("fuzz", fd, base, size, h, &q) != 0) {
		munmap(base, size);
		close(fd);
		return NULL;
	}
	*basep = base;
	*fdp = fd;
	return q;
}

/*
 * Unmapping a robust mutex is safe here: one thread, and every lock taken
 * was released before we got back (the danger doc/QUEUE.md warns of is
 * another thread still in the lock's list_op_pending window).
 */
static void
fuzz_free(struct pqb *q, void *base, size_t size, int fd)
{
	pqs_handle_free(q);
	munmap(base, size);
	close(fd);
}

static void
mutex_fresh(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (pthread_mutex_init(m, &a) != 0)
		abort();
	pthread_mutexattr_destroy(&a);
}

#ifdef SEGMENT_GEN
/*
 * gen_segment DIR: write seed images: empty, FIFO and LIFO with messages,
 * wrapped around the ring, with a lease held by a (now dead) slot, closed.
 */
static void
small_layout(struct pq_hdr *h, int lifo, uint64_t max_msgs)
{
	struct pq_config cfg = { max_msgs, 1024, lifo, 0600, 0 };
	uint64_t off;

	pqs_layout(h, &cfg);
	h->magic = PQ_MAGIC;
	h->nslots = 2;
	h->slotbuf_size = 512;
	h->max_msg = 512 - PQ_FRAMING;
	h->idwin = 64;
	off = PAGE;
	h->off_ctl = off;
	off += (sizeof(struct pq_ctl) + 63) & ~(uint64_t)63;
	h->off_slots = off;
	off += (uint64_t)h->nslots * sizeof(struct pq_slot);
	h->off_done = off;
	off += h->idwin / 8;
	off = (off + 63) & ~(uint64_t)63;
	h->off_slotbuf = off;
	off += (uint64_t)h->nslots * h->slotbuf_size;
	h->off_ring = off;
	h->total_size = off + h->ring_cap;
	h->created = 0;
	h->crc = hdr_crc(h);
}

static void
emit(const char *dir, const char *name, int lifo, int nput, int nget,
    int hold, int close_it)
{
	const struct pq_msg *msgs;
	struct pq_hdr h;
	struct pqb *q;
	char path[4096], msg[64];
	const char *p;
	size_t len, n, nput_done;
	void *base;
	FILE *fp;
	int fd, i;

	small_layout(&h, lifo, 0);
	if ((fd = memfd_create("gen", MFD_CLOEXEC)) == -1 ||
	    ftruncate(fd, (off_t)h.total_size) == -1)
		err(1, "memfd");
	base = mmap(NULL, h.total_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (base == MAP_FAILED || pqs_format(base, &h) != 0 ||
	    pqs_handle_new("gen", fd, base, h.total_size, &h, &q) != 0)
		errx(1, "format");
	for (i = 0; i < nput; i++) {
		len = (size_t)snprintf(msg, sizeof(msg), "message %d%.*s", i,
		    i % 7, "xxxxxxx");
		p = msg;
		if (pqs_put(q, &p, &len, 1, &nput_done, 0) != 0)
			errx(1, "put %d: %s", i, pq_error());
		if (i < nget && pqs_get(q, 1, 0, &msgs, &n) == 0)
			(void)pqs_commit(q, n, PQ_DONE);
	}
	if (hold && pqs_get(q, 3, 0, &msgs, &n) != 0)
		errx(1, "hold: %s", pq_error());
	if (close_it)
		(void)pqs_close(q);
	if (pqs_validate(base, h.total_size) != NULL)
		errx(1, "%s: not valid: %s", name,
		    pqs_validate(base, h.total_size));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL ||
	    fwrite(base, 1, h.total_size, fp) != h.total_size ||
	    fclose(fp) != 0)
		err(1, "%s", path);
	/* the slot token dies with the memfd: a held lease reads as dead */
	fuzz_free(q, base, h.total_size, fd);
}

int
main(int argc, char *argv[])
{
	if (argc != 2)
		errx(1, "usage: gen_segment DIR");
	emit(argv[1], "empty", 0, 0, 0, 0, 0);
	emit(argv[1], "fifo", 0, 5, 0, 0, 0);
	emit(argv[1], "lifo", 1, 5, 0, 0, 0);
	emit(argv[1], "wrapped", 0, 40, 36, 0, 0);
	emit(argv[1], "leased", 0, 6, 0, 1, 0);
	emit(argv[1], "closed", 0, 3, 1, 0, 1);
	return 0;
}
#endif
