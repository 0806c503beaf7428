/* SPDX-License-Identifier: ISC */
/*
 * notifier: a stand-in daemon for pdaemon -w and -W tests and the bench.
 *
 *   notifier [-d MS] [-x CODE] [-W FD] [-S TEXT] [-n] [-M]
 *   notifier -s SOCKET MESSAGE
 *
 * Sleeps MS milliseconds (default 0), then: exits CODE (-x); or does
 * nothing (-n); or reports ready - "STATUS=TEXT" (-S) and "READY=1" to
 * $NOTIFY_SOCKET, or a newline on FD (-W) - and sleeps until a signal
 * ends it.  -M: a forked child sends "MAINPID=<child>" then "READY=1",
 * and the parent waits for it.  Without NOTIFY_SOCKET nothing is sent,
 * as sd_notify(3) does.  The second form sends MESSAGE to SOCKET
 * ("@name": abstract) once, from outside any daemon, and exits.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <err.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void	send_to(const char *, const char *);

int
main(int argc, char *argv[])
{
	char msg[512];
	const char *status = NULL, *sock = NULL;
	int ch, delay = 0, code = -1, fd = -1, never = 0, mainpid = 0;
	pid_t c;

	while ((ch = getopt(argc, argv, "d:x:W:S:nMs:")) != -1) {
		switch (ch) {
		case 'd':
			delay = atoi(optarg);
			break;
		case 'x':
			code = atoi(optarg);
			break;
		case 'W':
			fd = atoi(optarg);
			break;
		case 'S':
			status = optarg;
			break;
		case 'n':
			never = 1;
			break;
		case 'M':
			mainpid = 1;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			return 2;
		}
	}
	if (sock != NULL) {
		if (optind >= argc)
			errx(2, "-s needs a message");
		send_to(sock, argv[optind]);
		return 0;
	}
	usleep((useconds_t)delay * 1000);
	if (code >= 0)
		return code;
	if (never)
		for (;;)
			pause();
	if (fd >= 0) {
		if (write(fd, "\n", 1) != 1)
			err(2, "fd %d", fd);
		close(fd);
	} else if (mainpid) {
		if ((c = fork()) == -1)
			err(2, "fork");
		if (c == 0) {
			snprintf(msg, sizeof(msg), "MAINPID=%ld", (long)getpid());
			send_to(getenv("NOTIFY_SOCKET"), msg);
			send_to(getenv("NOTIFY_SOCKET"), "READY=1");
			for (;;)
				pause();
		}
		while (waitpid(c, NULL, 0) == -1)
			;
		return 0;
	} else {
		snprintf(msg, sizeof(msg), "%s%s%sREADY=1",
		    status != NULL ? "STATUS=" : "", status != NULL ? status : "",
		    status != NULL ? "\n" : "");
		send_to(getenv("NOTIFY_SOCKET"), msg);
	}
	for (;;)
		pause();
}

/* One datagram to the sd_notify socket NAME. */
static void
send_to(const char *name, const char *msg)
{
	struct sockaddr_un sa;
	size_t len;
	int s;

	/* As sd_notify(3): no socket, nobody listens, nothing to do. */
	if (name == NULL || name[0] == '\0')
		return;
	if (name[0] != '@' && name[0] != '/')
		errx(2, "NOTIFY_SOCKET: %s: not a socket name", name);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	len = strlen(name);
	if (len >= sizeof(sa.sun_path))
		errx(2, "%s: too long", name);
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		err(2, "socket");
	if (sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == -1)
		err(2, "%s", name);
	close(s);
}
