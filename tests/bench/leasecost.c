/* SPDX-License-Identifier: ISC */
/*
 * leasecost: what the lease protocol costs, measured on the C API.
 * leasecost MODE N: a child puts N 64-byte messages (256 per pq_put);
 * this process gets them, then prints N.  MODE:
 *   batch  pq_get of as many as there are: one lease and one commit per
 *          batch (what pqueue-get -c/-f does)
 *   one    pq_get of one at a time: a lease and a commit per message
 *          (pq_get commits the one before: one critical section each)
 *   done   one at a time, each committed with PQ_DONE (a worker's
 *          success: task_done in the same commit)
 * The engine has no path without leases; batch vs one is the price of a
 * duplicate window of one message instead of one batch.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkit.h"

int
main(int argc, char *argv[])
{
	static char buf[64];
	const char *msgs[256];
	size_t lens[256], n, nput, got = 0, max, i, k;
	const struct pq_msg *m;
	struct pq *q;
	char name[64];
	long total;
	pid_t pid;
	int st, flags = 0;

	if (argc != 3)
		return 2;
	total = atol(argv[2]);
	max = strcmp(argv[1], "batch") == 0 ? SIZE_MAX : 1;
	if (strcmp(argv[1], "done") == 0)
		flags = PQ_DONE;
	snprintf(name, sizeof(name), "leasecost-%ld", (long)getpid());
	if (pq_create(name, NULL, 0, &q) != 0) {
		fprintf(stderr, "%s\n", pq_error());
		return 1;
	}
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 256; i++) {
		msgs[i] = buf;
		lens[i] = sizeof(buf);
	}
	if ((pid = fork()) == 0) {
		struct pq *pq;

		if (pq_open(name, &pq) != 0)
			_exit(1);
		for (i = 0; i < (size_t)total; i += k) {
			k = (size_t)total - i < 256 ? (size_t)total - i : 256;
			if (pq_put(pq, msgs, lens, k, &nput, PQ_FOREVER) != 0)
				_exit(1);
		}
		_exit(0);
	}
	while (got < (size_t)total) {
		if (pq_get(q, max, PQ_FOREVER, &m, &n) != 0) {
			fprintf(stderr, "%s\n", pq_error());
			return 1;
		}
		if (m[0].len != sizeof(buf))
			return 1;
		if (flags && pq_commit(q, n, flags) != 0)
			return 1;
		got += n;
	}
	pq_commit(q, n, 0);
	while (pid > 1 && waitpid(pid, &st, 0) == -1)
		;
	pq_remove(name);
	printf("%zu\n", got);
	return 0;
}
