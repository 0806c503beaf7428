/* SPDX-License-Identifier: ISC */
/*
 * ready.c: the readiness channels of a daemon's command (see ready.h).
 *
 * A datagram is read whole with its credentials; descriptors it carries
 * (the FDSTORE= protocol, which we do not keep) are received
 * close-on-exec and closed at once.  Tier: engine.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "proc.h"
#include "ready.h"

static int	believed(const struct ready *, pid_t);

int
ready_open(struct ready *r, int notify, int pipe)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fds[2], on = 1, e;
	size_t i, n;

	memset(r, 0, sizeof(*r));
	r->sock = r->rfd = r->wfd = -1;
	if (notify) {
		r->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (r->sock == -1)
			return -1;
		/* Autobind: the kernel picks a unique abstract name. */
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		len = sizeof(sa);
		if (setsockopt(r->sock, SOL_SOCKET, SO_PASSCRED, &on,
		    sizeof(on)) == -1 ||
		    bind(r->sock, (struct sockaddr *)&sa,
		    offsetof(struct sockaddr_un, sun_path)) == -1 ||
		    getsockname(r->sock, (struct sockaddr *)&sa, &len) == -1)
			goto fail;
		n = len - offsetof(struct sockaddr_un, sun_path);
		if (n < 2 || n >= sizeof(r->name) || sa.sun_path[0] != '\0') {
			errno = EPROTO;
			goto fail;
		}
		r->name[0] = '@';
		for (i = 1; i < n; i++)
			r->name[i] = sa.sun_path[i];
		r->name[n] = '\0';
	}
	if (pipe) {
		if (pipe2(fds, O_CLOEXEC) == -1 ||
		    fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1)
			goto fail;
		r->rfd = fds[0];
		r->wfd = fds[1];
	}
	return 0;
fail:
	e = errno;
	ready_close(r);
	errno = e;
	return -1;
}

int
ready_notify_read(struct ready *r)
{
	char buf[4096 + 1], *line, *next;
	const char *why;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(struct ucred)) +
				    CMSG_SPACE(16 * sizeof(int))];
	} ctl;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr msg;
	struct cmsghdr *c;
	struct ucred cred;
	ssize_t n;
	size_t i;
	long long pid;
	int what = 0, *fds;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(r->sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n < 0)
		return 0;
	r->sender = 0;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(cred))) {
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			r->sender = cred.pid;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			fds = (int *)(void *)CMSG_DATA(c);
			for (i = 0; i < (c->cmsg_len - CMSG_LEN(0)) /
			    sizeof(int); i++)
				close(fds[i]);
		}
	}
	if (!believed(r, r->sender))
		return READY_REFUSED;
	buf[n] = '\0';
	for (line = buf; line != NULL && line < buf + n; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strcmp(line, "READY=1") == 0)
			what |= READY_YES;
		else if (strncmp(line, "STATUS=", 7) == 0) {
			strlcpy(r->status, line + 7, sizeof(r->status));
			what |= READY_STATUS;
		} else if (strncmp(line, "MAINPID=", 8) == 0) {
			/* Only a process of the tree we already believe. */
			if (num_parse(line + 8, 2, INT_MAX, &pid, &why) == 0 &&
			    believed(r, (pid_t)pid)) {
				r->mainpid = (pid_t)pid;
				what |= READY_MAINPID;
			}
		}
	}
	return what;
}

/* Is PID CMD, the MAINPID it named, or a descendant of either? */
static int
believed(const struct ready *r, pid_t pid)
{
	if (pid <= 1)
		return 0;
	if (pid == r->cmd || (r->mainpid > 1 && pid == r->mainpid))
		return 1;
	return proc_descends(pid, r->cmd) ||
	    (r->mainpid > 1 && proc_descends(pid, r->mainpid));
}

int
ready_fd_read(struct ready *r)
{
	char buf[512];
	ssize_t n;

	for (;;) {
		n = read(r->rfd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n > 0) {
			if (memchr(buf, '\n', (size_t)n) != NULL)
				return 1;
			continue;
		}
		if (n == 0) {
			close(r->rfd);
			r->rfd = -1;
			return -1;
		}
		return 0;
	}
}

void
ready_close(struct ready *r)
{
	if (r->sock != -1)
		close(r->sock);
	if (r->rfd != -1)
		close(r->rfd);
	if (r->wfd != -1)
		close(r->wfd);
	r->sock = r->rfd = r->wfd = -1;
}
