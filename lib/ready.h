/* SPDX-License-Identifier: ISC */
/*
 * ready.h: how a daemon's command says it is ready to serve - the two
 * ways pdaemon -w and -W listen to.
 *
 * The sd_notify protocol, as systemd's Type=notify: a datagram Unix
 * socket in the abstract namespace (autobound, so unique, and gone with
 * its last descriptor: nothing to clean up), whose name CMD finds in
 * NOTIFY_SOCKET ("@" for the leading zero byte).  CMD sends lines
 * "READY=1", "STATUS=text", "MAINPID=N".  SO_PASSCRED makes the kernel
 * stamp each datagram with the sender's pid, and only CMD, its
 * descendants, and the MAINPID it named and that one's descendants are
 * believed: anyone may write to an abstract socket.
 *
 * The readiness descriptor, as s6's notification-fd: a pipe whose write
 * end CMD has at a descriptor number of the caller's choice; a newline
 * on it means ready.
 *
 * Tier: engine.  Nothing here prints or exits.
 */
#ifndef PKIT_READY_H
#define PKIT_READY_H

#include <sys/types.h>

/* What ready_notify_read found in a datagram (bits). */
#define READY_YES	0x1	/* READY=1 */
#define READY_STATUS	0x2	/* STATUS=: in status[] */
#define READY_MAINPID	0x4	/* MAINPID=: in mainpid */
#define READY_REFUSED	0x8	/* sent by someone else: ignored */

struct ready {
	int	sock;		/* the notify socket, or -1 */
	char	name[32];	/* its NOTIFY_SOCKET value: "@..." */
	int	rfd;		/* the readiness pipe's read end, or -1 */
	int	wfd;		/* its write end, for CMD; or -1 */
	pid_t	cmd;		/* the process whose tree is believed */
	pid_t	mainpid;	/* MAINPID= from that tree, else 0 */
	pid_t	sender;		/* the last datagram's sender (0: unknown) */
	char	status[256];	/* the last STATUS=, "" if none */
};

/*
 * Open what is asked for: the notify socket (NOTIFY != 0), the readiness
 * pipe (PIPE != 0); all close-on-exec, the read sides non-blocking.  0,
 * or -1 with errno (nothing left open).
 */
int	ready_open(struct ready *r, int notify, int pipe);

/*
 * The notify socket is readable: read one datagram and return what it
 * said (READY_* bits; 0 for nothing that counts, or nothing there).
 */
int	ready_notify_read(struct ready *r);

/*
 * The readiness pipe is readable: 1 once a newline has come, 0 if not
 * yet, -1 at end of file without one (every writer closed it; the read
 * end is then closed and rfd is -1).
 */
int	ready_fd_read(struct ready *r);

/* Close what is open (in the caller: the write end, once CMD has it). */
void	ready_close(struct ready *r);

#endif
