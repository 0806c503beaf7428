/* SPDX-License-Identifier: ISC */
/*
 * mqpair: the POSIX message queue baseline for tests/bench/queue.sh.
 *   mqpair create NAME        a queue of 10 x 128-byte messages (defaults
 *                             an unprivileged user gets)
 *   mqpair unlink NAME
 *   mqpair send NAME          each stdin line one message, then an empty
 *                             message as end of stream
 *   mqpair recv NAME          print messages until the empty one
 *   mqpair put NAME MSG       one message (the CLI pair)
 *   mqpair get NAME           one message, printed
 */
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSGSIZE	128

static mqd_t
open_q(const char *name, int flags)
{
	mqd_t q = mq_open(name, flags);

	if (q == (mqd_t)-1) {
		perror(name);
		exit(125);
	}
	return q;
}

int
main(int argc, char *argv[])
{
	struct mq_attr a = { 0, 10, MSGSIZE, 0, { 0 } };
	char buf[MSGSIZE + 1], line[4096];
	ssize_t n;
	mqd_t q;

	if (argc < 3)
		return 125;
	if (strcmp(argv[1], "create") == 0) {
		q = mq_open(argv[2], O_RDWR | O_CREAT, 0600, &a);
		return q == (mqd_t)-1 ? 125 : 0;
	}
	if (strcmp(argv[1], "unlink") == 0)
		return mq_unlink(argv[2]) == 0 ? 0 : 125;
	if (strcmp(argv[1], "send") == 0) {
		q = open_q(argv[2], O_WRONLY);
		while (fgets(line, sizeof(line), stdin) != NULL) {
			size_t len = strcspn(line, "\n");

			if (len > MSGSIZE || len == 0 ||
			    mq_send(q, line, len, 0) == -1)
				return 125;
		}
		return mq_send(q, "", 0, 0) == 0 ? 0 : 125;
	}
	if (strcmp(argv[1], "recv") == 0) {
		q = open_q(argv[2], O_RDONLY);
		while ((n = mq_receive(q, buf, sizeof(buf), NULL)) > 0) {
			fwrite(buf, 1, (size_t)n, stdout);
			putchar('\n');
		}
		return n == 0 && fflush(stdout) == 0 ? 0 : 125;
	}
	if (strcmp(argv[1], "put") == 0 && argc == 4) {
		q = open_q(argv[2], O_WRONLY);
		return mq_send(q, argv[3], strlen(argv[3]), 0) == 0 ? 0 : 125;
	}
	if (strcmp(argv[1], "get") == 0) {
		q = open_q(argv[2], O_RDONLY);
		if ((n = mq_receive(q, buf, sizeof(buf), NULL)) < 0)
			return 125;
		fwrite(buf, 1, (size_t)n, stdout);
		putchar('\n');
		return 0;
	}
	return 125;
}
