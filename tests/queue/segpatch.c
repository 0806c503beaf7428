/* SPDX-License-Identifier: ISC */
/*
 * segpatch: set one field of a queue segment, for the adversarial tests.
 *
 *	segpatch FILE FIELD VALUE
 *	segpatch -h FILE state.FIELD VALUE MS
 *
 * FIELD is a header field (version, nslots, ring_cap, off_ring...), whose
 * checksum is then recomputed so that the engine's range checks, not the
 * checksum, must catch the value; or state.FIELD (head, used, nmsgs,
 * next_id...) in the current copy of the control block; or cur (which
 * copy is current), reclaim_at or recount_at (the control block's scan
 * times, CLOCK_MONOTONIC ns).  VALUE is a decimal number (negative ones wrap).  The
 * engine's layout is included so that offsets and the checksum are its
 * own.
 *
 * With -h, hold the queue's mutex, set the state field, print "held",
 * sleep MS milliseconds, put the old value back and let the mutex go:
 * what a process reading the state without the mutex can see while a
 * holder writes it.
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

#define HF(f)	{ #f, offsetof(struct pq_hdr, f), sizeof(((struct pq_hdr *)0)->f) }
#define SF(f)	{ "state." #f, offsetof(struct pq_state, f), \
		    sizeof(((struct pq_state *)0)->f) }
#define CF(f)	{ #f, offsetof(struct pq_ctl, f), sizeof(((struct pq_ctl *)0)->f) }

struct field {
	const char	*name;
	size_t		 off, size;
};

static const struct field hdr_fields[] = {
	HF(magic), HF(version), HF(hdr_size), HF(abi), HF(flags),
	HF(owner_uid), HF(mode), HF(nslots), HF(slotbuf_size), HF(max_msg),
	HF(ctl_size), HF(total_size), HF(ring_cap), HF(max_msgs), HF(idwin),
	HF(off_ctl), HF(off_slots), HF(off_done), HF(off_slotbuf),
	HF(off_ring), HF(crc),
};
static const struct field state_fields[] = {
	SF(head), SF(used), SF(nmsgs), SF(inflight), SF(inflight_bytes),
	SF(unfinished), SF(next_id), SF(done_base), SF(forgot),
	SF(nwait_get), SF(nwait_put), SF(nwait_join), SF(redo_slot),
	SF(redo_clr_from), SF(redo_clr_to), SF(closed),
};
static const struct field ctl_fields[] = {
	CF(cur), CF(reclaim_at), CF(recount_at),
};

static void
store(unsigned char *p, size_t size, unsigned long long v)
{
	uint32_t v32 = (uint32_t)v;
	uint64_t v64 = v;

	if (size == 4)
		memcpy(p, &v32, 4);
	else
		memcpy(p, &v64, 8);
}

int
main(int argc, char *argv[])
{
	struct pq_hdr *h;
	struct pq_ctl *c;
	struct stat st;
	unsigned char *base;
	unsigned long long v;
	char *end;
	size_t i;
	int fd;

	int hold = argc == 6 && strcmp(argv[1], "-h") == 0;
	unsigned char old[8];
	long ms = 0;

	if (hold) {
		ms = strtol(argv[5], NULL, 10);
		argv++;
		argc -= 2;
	}
	if (argc != 4)
		errx(2, "usage: segpatch [-h] FILE FIELD VALUE [MS]");
	errno = 0;
	v = argv[3][0] == '-' ? (unsigned long long)strtoll(argv[3], &end, 10) :
	    strtoull(argv[3], &end, 10);
	if (errno != 0 || *end != '\0' || end == argv[3])
		errx(2, "%s: not a number", argv[3]);
	if ((fd = open(argv[1], O_RDWR | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) == -1)
		err(2, "%s", argv[1]);
	if ((size_t)st.st_size < PAGE)
		errx(2, "%s: too small", argv[1]);
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		err(2, "mmap");
	h = (struct pq_hdr *)base;
	for (i = 0; i < sizeof(hdr_fields) / sizeof(hdr_fields[0]); i++)
		if (strcmp(argv[2], hdr_fields[i].name) == 0) {
			store(base + hdr_fields[i].off, hdr_fields[i].size, v);
			if (strcmp(argv[2], "crc") != 0)
				h->crc = hdr_crc(h);
			return 0;
		}
	if (h->off_ctl + sizeof(*c) > (uint64_t)st.st_size)
		errx(2, "%s: no control block", argv[1]);
	c = (struct pq_ctl *)(base + h->off_ctl);
	for (i = 0; i < sizeof(ctl_fields) / sizeof(ctl_fields[0]); i++)
		if (strcmp(argv[2], ctl_fields[i].name) == 0) {
			store((unsigned char *)c + ctl_fields[i].off,
			    ctl_fields[i].size, v);
			return 0;
		}
	for (i = 0; i < sizeof(state_fields) / sizeof(state_fields[0]); i++)
		if (strcmp(argv[2], state_fields[i].name) == 0) {
			unsigned char *p = (unsigned char *)&c->st[c->cur & 1] +
			    state_fields[i].off;

			if (hold && pthread_mutex_lock(&c->mu) != 0)
				errx(2, "cannot lock the queue");
			memcpy(old, p, state_fields[i].size);
			store(p, state_fields[i].size, v);
			if (hold) {
				printf("held\n");
				fflush(stdout);
				usleep((useconds_t)ms * 1000);
				memcpy(p, old, state_fields[i].size);
				pthread_mutex_unlock(&c->mu);
			}
			return 0;
		}
	errx(2, "%s: no such field", argv[2]);
}
