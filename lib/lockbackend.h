/* SPDX-License-Identifier: ISC */
/*
 * lockbackend.h: the seam between the lock API (lock.h, lib/lockapi.c)
 * and its backends: file locks (lib/lock-file.c) and Redis leases
 * (lib/lock-redis.c).  A backend is a table of operations on its own
 * handle, struct lockb, which each backend defines for itself; the API's
 * struct lock holds the table, the handle and the name to show.  Backends
 * are engines: they never print or exit, they return -1 with *why (a
 * reason without the name, which the API adds).
 *
 * A backend either chainloads (exec: the kernel keeps the lock for the
 * command) or leases (exec NULL: lock_run renews and releases through
 * lease_ns, token, holder, renew and release; plock -p's keeper through
 * those and owner and conn).
 */
#ifndef PKIT_LOCKBACKEND_H
#define PKIT_LOCKBACKEND_H

#include <sys/types.h>

#include <stddef.h>

#include "lock.h"

struct lockb;

struct lock_ops {
	/*
	 * Open name (peek: only for holders, creating nothing), filling
	 * shown (the name for messages) even when it fails.  0, or -1 with
	 * *why.
	 */
	int	 (*open)(const char *name, enum lock_kind kind, int count,
		    int peek, struct lockb **bp, char *shown, size_t len,
		    const char **why);
	/*
	 * Re-entrance: does this process already hold the lock, handed
	 * down by an enclosing plock (PKIT_LOCK_FD, PKIT_LOCK_HOLDER) and
	 * verified (the descriptor's file and its lock; the server's
	 * holder)?  1 with *kind, 0 not held, -1 error (*why).  The API
	 * decides (lib/lockapi.c); reenter then makes the handle that
	 * inherited hold (files: its descriptor), taking nothing.
	 */
	int	 (*held)(struct lockb *, enum lock_kind *kind, const char **why);
	void	 (*reenter)(struct lockb *);
	/* 0 taken, 1 busy, -1 error (*why); deadline as lock_take. */
	int	 (*take)(struct lockb *, int64_t deadline, const char **why);
	/* As lock_holders, with *why for -1 and -2. */
	int	 (*holders)(struct lockb *, struct lock_holder **,
		    const char **why);
	void	 (*close)(struct lockb *);
	/*
	 * plock -F: lock descriptor fd (the caller's own, open on the lock
	 * file) instead of the handle's: 0, or -1 (*why).  path: the lock
	 * file's path, for plock -w.  NULL for a backend without files.
	 */
	int	 (*adopt)(struct lockb *, int fd, const char **why);
	int	 (*path)(struct lockb *, char *buf, size_t len, const char **why);
	/* Chainloading: exec argv holding the lock; returns only on failure
	 * (errno).  NULL for a leasing backend. */
	void	 (*exec)(struct lockb *, char *const argv[]);
	/* Leasing: the lease's length (ns), this grant's fencing token;
	 * renew: 1 renewed, 0 lost (expired), -1 error (*why); release:
	 * compare and delete, waking waiters: 0, or -1 (*why). */
	int64_t	 (*lease_ns)(const struct lockb *);
	long long (*token)(const struct lockb *);
	/* This grant's holder entry, exported as PKIT_LOCK_HOLDER. */
	const char *(*holder)(const struct lockb *);
	int	 (*renew)(struct lockb *, const char **why);
	int	 (*release)(struct lockb *, const char **why);
	/* plock -p: grants name pid as their holder, not us: 0, or -1
	 * (*why).  conn: the descriptor of the server's connection, which
	 * a keeper keeps open (-1: none).  NULL for a chainloading
	 * backend, whose locks belong to a descriptor, not to a pid. */
	int	 (*owner)(struct lockb *, pid_t pid, const char **why);
	int	 (*conn)(const struct lockb *);
};

/* The API's handle (lib/lockapi.c; lib/lockrun.c reads it). */
struct lock {
	const struct lock_ops	*ops;
	struct lockb		*b;
	char			 shown[512];
	enum lock_kind		 kind;		/* as lock_open asked */
	int			 reentered;	/* held already: nothing taken */
};

extern const struct lock_ops lock_file_ops;
extern const struct lock_ops lock_redis_ops;

/*
 * Before var (PKIT_LOCK_FD, PKIT_LOCK_HOLDER) names value for a command:
 * what it names now, an enclosing lock's, joins list (PKIT_LOCK_FDS,
 * PKIT_LOCK_HOLDERS: innermost first, sep between), so that a plock of
 * that lock inside this one still finds it handed down (the backends'
 * held).  Entries that hold nothing any more are left for held to
 * ignore; too deep to hand all down, the outermost go.  0, or -1 (errno).
 * In lib/lockrun.c.
 */
int	lock_hand_down(const char *var, const char *list, char sep,
	    const char *value);

#endif
