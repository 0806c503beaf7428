/* SPDX-License-Identifier: ISC */
/*
 * oldkernel: run a command as if on a kernel older than Linux 5.3, where
 * the system calls pkit takes when it can are missing: pidfd_open,
 * pidfd_send_signal, pidfd_getfd, clone3 (5.1-5.6) and close_range (5.9)
 * fail with ENOSYS, as an older kernel (Debian 10's 4.19, RHEL 8's 4.18)
 * or valgrind 3.19 answers them.  A seccomp filter does it, inherited by
 * every process the command starts; nothing else changes.  The suites
 * run the tools under it (tests/lib/oldkernel.bats) to prove that each
 * falls back to what it does without them, and says nothing wrong.
 *
 * With OLDKERNEL_ERRNO=EPERM in the environment they fail with EPERM
 * instead, as some container runtimes' seccomp profiles answer system
 * calls they do not know (Docker before 20.10, for one).
 *
 * usage: oldkernel CMD [ARG...]
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd		438
#endif
#ifndef SYS_close_range
#define SYS_close_range		436
#endif
#ifndef SYS_clone3
#define SYS_clone3		435
#endif

#if defined(__x86_64__)
#define ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH	AUDIT_ARCH_AARCH64
#else
#define ARCH	0		/* unknown here: refuse (exit 125) */
#endif

#define NR(n)	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)e)

int
main(int argc, char *argv[])
{
	const char *how = getenv("OLDKERNEL_ERRNO");
	int e = how != NULL && strcmp(how, "EPERM") == 0 ? EPERM : ENOSYS;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		NR(SYS_pidfd_open),
		NR(SYS_pidfd_send_signal),
		NR(SYS_pidfd_getfd),
		NR(SYS_clone3),
		NR(SYS_close_range),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (argc < 2) {
		fputs("usage: oldkernel CMD [ARG...]\n", stderr);
		return 125;
	}
	if (ARCH == 0) {
		fputs("oldkernel: not built for this architecture\n", stderr);
		return 125;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1) {
		fprintf(stderr, "oldkernel: seccomp: %s\n", strerror(errno));
		return 125;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "oldkernel: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
