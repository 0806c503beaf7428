/* SPDX-License-Identifier: ISC */
/*
 * lock-redis.c: plock's locks on Redis, as leases: the Redis backend of
 * the lock API (lock.h, lockbackend.h), for redis: names.  An engine: it
 * never prints or exits.
 *
 * A lock there is a lease, not a kernel lock: the holder must keep
 * renewing it (lock_run does, lib/lockrun.c), and a holder that stops
 * (SIGSTOP, a frozen host, a partition) loses it when the lease runs out.
 * Each grant comes with a fencing token that increases for ever per name.
 *
 * Keys, for a lock NAME (the braces keep them in one cluster slot):
 *	pkit:lock:{NAME}		exclusive holder: a string, SET NX PX
 *	pkit:lock:{NAME}:shared		shared holders: zset, score = expiry ms
 *	pkit:lock:{NAME}:count		-c holders: zset, score = expiry ms
 *	pkit:lock:{NAME}:fence		fencing counter (INCR, kept for ever)
 *	pkit:lock:{NAME}:free		channel: a holder has let go
 * A holder is "TOKEN SINCE PID HOST" (TOKEN random, SINCE the server's
 * clock in ms).  Every step that reads and then writes is one Lua script,
 * so it is atomic on the server; times come from the server's clock, so
 * hosts with skewed clocks agree on when a lease ends.  As with the file
 * locks, -c holders count as shared against an exclusive holder.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dur.h"
#include "lockbackend.h"
#include "redis.h"

#define LEASE_NS	((int64_t)10 * 1000000000)	/* PKIT_LOCK_LEASE */

struct lockb {
	struct redis_url url;
	redisContext	*c;
	enum lock_kind	 kind;
	int		 count;
	int64_t		 lease_ns;
	char		 key[5][NAME_MAX_LEN + 40];	/* x, shared, count, fence, free */
	char		 member[400];	/* what we hold: "TOKEN SINCE PID HOST" */
	pid_t		 pid;		/* the holder it names: us, or plock -p's */
	long long	 token;		/* fencing token of this grant */
	int64_t		 deadline;	/* of the take in progress */
};

/* KEYS x shared count fence; ARGV kind token lease-ms count "PID HOST" */
static const char take_lua[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local lease = tonumber(ARGV[3])\n"
"redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)\n"
"redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)\n"
"local function soonest(k)\n"
"  local e = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')\n"
"  if #e == 0 then return nil end\n"
"  return tonumber(e[2]) - now\n"
"end\n"
"if redis.call('GET', KEYS[1]) then\n"
"  local ttl = redis.call('PTTL', KEYS[1])\n"
"  if ttl < 0 then ttl = lease end\n"
"  return {0, ttl}\n"
"end\n"
"local kind = ARGV[1]\n"
"if kind == 'x' then\n"
"  local a, b = soonest(KEYS[2]), soonest(KEYS[3])\n"
"  if a or b then return {0, math.min(a or b, b or a)} end\n"
"elseif kind == 'c' then\n"
"  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then\n"
"    return {0, soonest(KEYS[3])}\n"
"  end\n"
"end\n"
"local fence = redis.call('INCR', KEYS[4])\n"
"local m = ARGV[2] .. ' ' .. now .. ' ' .. ARGV[5]\n"
"if kind == 'x' then\n"
"  redis.call('SET', KEYS[1], m, 'PX', lease)\n"
"else\n"
"  redis.call('ZADD', kind == 's' and KEYS[2] or KEYS[3], now + lease, m)\n"
"end\n"
"return {1, fence, m}\n";

/* KEYS x shared count; ARGV kind member lease-ms.  1 renewed, 0 lost. */
static const char renew_lua[] =
"if ARGV[1] == 'x' then\n"
"  if redis.call('GET', KEYS[1]) == ARGV[2] then\n"
"    redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
"    return 1\n"
"  end\n"
"  return 0\n"
"end\n"
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local k = ARGV[1] == 's' and KEYS[2] or KEYS[3]\n"
"local sc = redis.call('ZSCORE', k, ARGV[2])\n"
"if sc and tonumber(sc) > now then\n"
"  redis.call('ZADD', k, 'XX', now + tonumber(ARGV[3]), ARGV[2])\n"
"  return 1\n"
"end\n"
"redis.call('ZREM', k, ARGV[2])\n"
"return 0\n";

/* KEYS x shared count free; ARGV kind member: compare and delete. */
static const char release_lua[] =
"local r = 0\n"
"if ARGV[1] == 'x' then\n"
"  if redis.call('GET', KEYS[1]) == ARGV[2] then\n"
"    redis.call('DEL', KEYS[1])\n"
"    r = 1\n"
"  end\n"
"else\n"
"  r = redis.call('ZREM', ARGV[1] == 's' and KEYS[2] or KEYS[3], ARGV[2])\n"
"end\n"
"redis.call('PUBLISH', KEYS[4], 'free')\n"
"return r\n";

/* KEYS x shared count: every live holder. */
static const char holders_lua[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local out = {}\n"
"local x = redis.call('GET', KEYS[1])\n"
"if x then out[#out + 1] = x end\n"
"for _, k in ipairs({KEYS[2], KEYS[3]}) do\n"
"  for _, m in ipairs(redis.call('ZRANGEBYSCORE', k, '(' .. now, '+inf')) do\n"
"    out[#out + 1] = m\n"
"  end\n"
"end\n"
"return out\n";

/*
 * KEYS x shared count; ARGV member: which kind the member holds now
 * (x, s or c), or '' (re-entrance: PKIT_LOCK_HOLDER checked with the
 * server, so a stale or forged one counts for nothing).
 */
static const char held_lua[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"if redis.call('GET', KEYS[1]) == ARGV[1] then return 'x' end\n"
"local s = redis.call('ZSCORE', KEYS[2], ARGV[1])\n"
"if s and tonumber(s) > now then return 's' end\n"
"s = redis.call('ZSCORE', KEYS[3], ARGV[1])\n"
"if s and tonumber(s) > now then return 'c' end\n"
"return ''\n";

static const char *kind_word[] = { "x", "s", "c" };

static int	rl_open(const char *, enum lock_kind, int, int,
		    struct lockb **, char *, size_t, const char **);
static int	rl_take(struct lockb *, int64_t, const char **);
static int	rl_holders(struct lockb *, struct lock_holder **,
		    const char **);
static void	rl_close(struct lockb *);
static int64_t	rl_lease_ns(const struct lockb *);
static long long rl_token(const struct lockb *);
static const char *rl_holder(const struct lockb *);
static int	rl_held(struct lockb *, enum lock_kind *, const char **);
static int	held_as(struct lockb *, const char *, enum lock_kind *,
		    const char **);
static void	rl_reenter(struct lockb *);
static int	rl_renew(struct lockb *, const char **);
static int	rl_release(struct lockb *, const char **);
static int	rl_owner(struct lockb *, pid_t, const char **);
static int	rl_conn(const struct lockb *);
static void	make_keys(struct lockb *);
static redisContext *subscribe(struct lockb *, const char **,
		    const char **);
static int	attempt(struct lockb *, int64_t *, const char **);
static int	cmp_holder(const void *, const void *);
static int	fresh(struct lockb *, const char **);
static redisReply *eval_twice(struct lockb *, const char *, int, int,
		    const char **, const char **);

const struct lock_ops lock_redis_ops = {
	.open = rl_open,
	.take = rl_take,
	.holders = rl_holders,
	.close = rl_close,
	.exec = NULL,		/* a lease needs renewing: no chainloading */
	.lease_ns = rl_lease_ns,
	.token = rl_token,
	.holder = rl_holder,
	.held = rl_held,
	.reenter = rl_reenter,
	.renew = rl_renew,
	.release = rl_release,
	.owner = rl_owner,
	.conn = rl_conn,
};

/*
 * Parse NAME, read PKIT_LOCK_LEASE (not to peek) and connect.  shown gets
 * the name with its password masked, even if it does not parse.
 */
static int
rl_open(const char *name, enum lock_kind kind, int count, int peek,
    struct lockb **bp, char *shown, size_t len, const char **why)
{
	struct lockb *lk;
	int r;

	if ((lk = calloc(1, sizeof(*lk))) == NULL) {
		*why = strerror(errno);
		return -1;
	}
	lk->kind = kind;
	lk->count = count;
	lk->lease_ns = LEASE_NS;
	lk->pid = getpid();
	r = redis_url_parse(name, &lk->url, why);
	strlcpy(shown, lk->url.shown, len);
	if (r == -1)
		goto fail;
	if (!peek && redis_lease_env("PKIT_LOCK_LEASE", &lk->lease_ns) == -1) {
		*why = "bad PKIT_LOCK_LEASE (100ms to 1 day)";
		goto fail;
	}
	make_keys(lk);
	/* A dropped connection must be an error we report, not our death. */
	if (!peek)
		signal(SIGPIPE, SIG_IGN);
	/*
	 * On a Sentinel name, a failover is waited out: by -q here (for
	 * REDIS_RETRY_NS); by a take in attempt(), until its own deadline
	 * (-n, -t), which is not known yet.
	 */
	if ((lk->c = redis_connect(&lk->url, why)) == NULL &&
	    (lk->url.nsentinel == 0 || (peek && (lk->c = redis_reconnect(
	    &lk->url, redis_retry_deadline(0), 0, why)) == NULL)))
		goto fail;
	*bp = lk;
	return 0;
fail:
	free(lk);
	return -1;
}

static void
rl_close(struct lockb *lk)
{
	if (lk->c != NULL)
		redisFree(lk->c);
	free(lk);
}

static void
make_keys(struct lockb *lk)
{
	static const char *suffix[] = { "", ":shared", ":count", ":fence",
	    ":free" };
	size_t i;

	for (i = 0; i < 5; i++)
		snprintf(lk->key[i], sizeof(lk->key[i]), "pkit:lock:{%s}%s",
		    lk->url.name, suffix[i]);
}

/*
 * Take the lock.  A waiter sleeps on a subscription to the lock's release
 * channel, woken by a release or when the earliest holder's lease runs
 * out; it never polls.
 */
static int
rl_take(struct lockb *lk, int64_t deadline, const char **why)
{
	redisContext *sub;
	const char *av[2];
	int64_t wait_ms;
	int got, ms;

	lk->deadline = deadline;
	if ((got = attempt(lk, &wait_ms, why)) != 0)
		return got == 1 ? 0 : -1;
	if (deadline == 0)
		return 1;

	/*
	 * Subscribe, then try again: a release from now on reaches us, so no
	 * wake-up falls between the try and the sleep.
	 */
	av[0] = "SUBSCRIBE";
	av[1] = lk->key[4];
	if ((sub = subscribe(lk, av, why)) == NULL)
		return -1;
	for (;;) {
		if ((got = attempt(lk, &wait_ms, why)) != 0)
			break;
		if (deadline > 0 && mono_now() >= deadline) {
			got = 1;
			break;
		}
		/* Sleep until a release, or the soonest lease runs out. */
		ms = wait_ms < 0 ? 1 : wait_ms > 60000 ? 60000 : (int)wait_ms + 5;
		if (deadline > 0 && deadline_ms(deadline) < ms)
			ms = deadline_ms(deadline);
		/* A silent server is noticed within 8 s (redis.h). */
		if (redis_sub_wait(sub, ms, why) == -1 && errno != EINTR) {
			redisFree(sub);
			/* A failover: subscribe on the new master, try again. */
			if (lk->url.nsentinel > 0 &&
			    (sub = subscribe(lk, av, why)) != NULL)
				continue;
			return -1;
		}
	}
	redisFree(sub);
	return got == 1 ? (lk->member[0] != '\0' ? 0 : 1) : -1;
}

/*
 * A connection subscribed to the lock's channel (av: the command); on a
 * Sentinel name, a failover is waited out until the take's deadline or
 * REDIS_RETRY_NS.  NULL with *why.
 */
static redisContext *
subscribe(struct lockb *lk, const char **av, const char **why)
{
	redisContext *sub;
	redisReply *r;
	int64_t until = redis_retry_deadline(lk->deadline);
	int n;

	for (n = 0;; n++) {
		if ((sub = redis_connect(&lk->url, why)) != NULL) {
			if ((r = redis_run(sub, 2, av, why)) != NULL) {
				freeReplyObject(r);
				return sub;
			}
			redisFree(sub);
		}
		if (lk->url.nsentinel == 0 || mono_now() >= until)
			return NULL;
		redis_backoff(n);
	}
}

/*
 * One try: 1 taken (lk->member, lk->token set), 0 busy (*wait_ms: when the
 * soonest lease in the way runs out), -1 error.
 */
static int
attempt(struct lockb *lk, int64_t *wait_ms, const char **why)
{
	redisReply *r;
	const char *av[9];
	char lease[32], count[16], who[300], token[17], host[256];
	unsigned char rnd[8];
	redisContext *c;
	const char *w2;
	int64_t until, left, t0, stop;
	int i, got, n, rc;

	arc4random_buf(rnd, sizeof(rnd));
	for (i = 0; i < 8; i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	if (gethostname(host, sizeof(host)) == -1)
		strlcpy(host, "-", sizeof(host));
	host[strcspn(host, " ")] = '\0';
	snprintf(who, sizeof(who), "%ld %s", (long)lk->pid, host);
	snprintf(lease, sizeof(lease), "%lld",
	    (long long)(lk->lease_ns / 1000000));
	snprintf(count, sizeof(count), "%d", lk->count);
	av[0] = lk->key[0];
	av[1] = lk->key[1];
	av[2] = lk->key[2];
	av[3] = lk->key[3];
	av[4] = kind_word[lk->kind];
	av[5] = token;
	av[6] = lease;
	av[7] = count;
	av[8] = who;
	/*
	 * On a Sentinel name, a failover is waited out (a new connection to
	 * the master of now) until the take's deadline or REDIS_RETRY_NS.
	 * Sending the take again is safe: a grant whose reply was lost is
	 * never renewed and runs out with its lease.
	 */
	until = redis_retry_deadline(lk->deadline);
	t0 = mono_now();	/* the lease runs from the grant, at most */
	for (n = 0;; n++) {
		/* None yet: a Sentinel name whose master was not found. */
		if (lk->c != NULL && (r = redis_eval(lk->c, take_lua, 4, 9, av,
		    why)) != NULL)
			break;
		if (lk->c != NULL && (lk->url.nsentinel == 0 ||
		    !redis_failed_retryable()))
			return -1;
		/* lk->c stays the old connection until a new one is made */
		if ((c = redis_reconnect(&lk->url, until, n, why)) == NULL)
			return -1;
		if (lk->c != NULL)
			redisFree(lk->c);
		lk->c = c;
		t0 = mono_now();
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		*why = "unexpected reply from the server";
		return -1;
	}
	got = r->element[0]->integer == 1;
	if (got) {
		if (r->elements < 3 || r->element[2]->type != REDIS_REPLY_STRING) {
			freeReplyObject(r);
			*why = "unexpected reply from the server";
			return -1;
		}
		lk->token = r->element[1]->integer;
		strlcpy(lk->member, r->element[2]->str, sizeof(lk->member));
	} else
		*wait_ms = r->element[1]->integer;
	freeReplyObject(r);
	if (got && lk->url.replicas > 0) {
		/*
		 * ?replicas=N: the grant and its fencing counter are on N
		 * replicas before the lock is reported taken, so a promoted
		 * replica goes on counting from this token.  Asked a second at
		 * a time (a WAIT must end before its reply's timeout), until
		 * the take's deadline or half the lease: a confirmation later
		 * than that comes for a grant about to run out.
		 */
		stop = t0 + lk->lease_ns / 2 < until ? t0 + lk->lease_ns / 2 :
		    until;
		for (;;) {
			left = (stop - mono_now()) / 1000000;
			rc = redis_wait(lk->c, &lk->url, left < 1 ? 1 :
			    left > 1000 ? 1000 : left, why);
			if (rc == 0)
				break;
			if (rc == -1 || mono_now() >= stop) {
				rl_release(lk, &w2);
				return -1;
			}
		}
	}
	/*
	 * A grant whose reply (or confirmation) took a third of the lease:
	 * renewed before CMD runs, whose first renewal comes a third of the
	 * lease after it starts.  Gone already (the lease ran out, another
	 * may hold it): not taken, try again.
	 */
	if (got && mono_now() - t0 >= lk->lease_ns / 3) {
		switch (rl_renew(lk, why)) {
		case 1:
			break;
		case 0:
			lk->member[0] = '\0';
			*wait_ms = 0;
			return 0;
		default:
			rl_release(lk, &w2);
			return -1;
		}
	}
	return got;
}

static int64_t
rl_lease_ns(const struct lockb *lk)
{
	return lk->lease_ns;
}

static long long
rl_token(const struct lockb *lk)
{
	return lk->token;
}

static const char *
rl_holder(const struct lockb *lk)
{
	return lk->member;
}

/*
 * Re-entrance (see lock_take): a holder entry handed down by an enclosing
 * plock, PKIT_LOCK_HOLDER or a line of PKIT_LOCK_HOLDERS (those of the
 * locks taken further out, innermost first: see lock_run), counts only if
 * the server names it a live holder of this very lock.  The innermost
 * one says the kind, which covers the most (-c inside -s is a slot).
 */
static int
rl_held(struct lockb *lk, enum lock_kind *kind, const char **why)
{
	const char *m = getenv("PKIT_LOCK_HOLDER"), *outer;
	char one[sizeof(lk->member)];
	size_t len;
	int r;

	if (m != NULL && (r = held_as(lk, m, kind, why)) != 0)
		return r;
	if ((outer = getenv("PKIT_LOCK_HOLDERS")) == NULL)
		return 0;
	for (m = outer; *m != '\0'; m += len + (m[len] == '\n')) {
		len = strcspn(m, "\n");
		if (len >= sizeof(one))
			continue;
		memcpy(one, m, len);
		one[len] = '\0';
		if ((r = held_as(lk, one, kind, why)) != 0)
			return r;
	}
	return 0;
}

/* Whether the holder entry m holds this lock now: 1 (*kind), 0, or -1. */
static int
held_as(struct lockb *lk, const char *m, enum lock_kind *kind,
    const char **why)
{
	const char *av[4];
	redisReply *r;
	int got = 0;

	if (*m == '\0' || strlen(m) >= sizeof(lk->member))
		return 0;
	av[0] = lk->key[0];
	av[1] = lk->key[1];
	av[2] = lk->key[2];
	av[3] = m;
	if (fresh(lk, why) == -1 ||
	    (r = redis_eval(lk->c, held_lua, 3, 4, av, why)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING && r->len == 1) {
		got = 1;
		*kind = r->str[0] == 'x' ? LOCK_EXCLUSIVE :
		    r->str[0] == 's' ? LOCK_SHARED : LOCK_COUNTING;
	}
	freeReplyObject(r);
	return got;
}

/* Held by the enclosing plock, which renews and releases it. */
static void
rl_reenter(struct lockb *lk)
{
	(void)lk;
}

/*
 * plock -p: the grant names PID as its holder (plock -q, the busy line),
 * the process a keeper holds it for (lib/lockrun.c), not us.
 */
static int
rl_owner(struct lockb *lk, pid_t pid, const char **why)
{
	(void)why;
	lk->pid = pid;
	return 0;
}

/* The connection's descriptor, which a keeper keeps open. */
static int
rl_conn(const struct lockb *lk)
{
	return lk->c != NULL ? lk->c->fd : -1;
}

/* A working connection: the one we have, or a new one if it broke. */
static int
fresh(struct lockb *lk, const char **why)
{
	if (lk->c != NULL && !lk->c->err)
		return 0;
	if (lk->c != NULL)
		redisFree(lk->c);
	return (lk->c = redis_connect(&lk->url, why)) == NULL ? -1 : 0;
}

/*
 * Run a script that is safe to send twice (renew: compare and extend;
 * release: compare and delete), once more on a new connection if the
 * first try found the connection broken.  A server that closes idle
 * connections (its `timeout`), or a proxy that does, leaves one that
 * looks sound until it is used: a holder whose CMD ran longer than that
 * between renewals could not let go, and the lock stayed held until its
 * lease ran out.  Not after a reply timeout: that wait has been spent.
 */
static redisReply *
eval_twice(struct lockb *lk, const char *script, int nkeys, int argc,
    const char **av, const char **why)
{
	redisReply *r;

	if ((r = redis_eval(lk->c, script, nkeys, argc, av, why)) != NULL ||
	    !lk->c->err || strstr(*why, "timed out") != NULL)
		return r;
	if (fresh(lk, why) == -1)
		return NULL;
	return redis_eval(lk->c, script, nkeys, argc, av, why);
}

/* Renew our lease: 1 renewed, 0 lost to expiry, -1 error (*why). */
static int
rl_renew(struct lockb *lk, const char **why)
{
	redisReply *r;
	const char *av[6];
	char lease[32];
	int ok;

	if (fresh(lk, why) == -1)
		return -1;
	snprintf(lease, sizeof(lease), "%lld",
	    (long long)(lk->lease_ns / 1000000));
	av[0] = lk->key[0];
	av[1] = lk->key[1];
	av[2] = lk->key[2];
	av[3] = kind_word[lk->kind];
	av[4] = lk->member;
	av[5] = lease;
	if ((r = eval_twice(lk, renew_lua, 3, 6, av, why)) == NULL)
		return -1;
	ok = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return ok;
}

/*
 * Let go (compare and delete) and wake the waiters: 0, or -1 with *why
 * (the lease then runs out by itself).  Once only: the member is
 * forgotten either way.
 */
static int
rl_release(struct lockb *lk, const char **why)
{
	redisReply *r;
	const char *av[6];

	if (lk->member[0] == '\0')
		return 0;
	if (fresh(lk, why) == -1) {
		lk->member[0] = '\0';
		return -1;
	}
	av[0] = lk->key[0];
	av[1] = lk->key[1];
	av[2] = lk->key[2];
	av[3] = lk->key[4];
	av[4] = kind_word[lk->kind];
	av[5] = lk->member;
	r = eval_twice(lk, release_lua, 4, 6, av, why);
	lk->member[0] = '\0';
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* The live holders, sorted by pid, on the handle's connection. */
static int
rl_holders(struct lockb *lk, struct lock_holder **hv, const char **why)
{
	struct lock_holder *h = NULL;
	redisReply *r;
	const char *av[3];
	char *p, *end;
	size_t i, n = 0;

	*hv = NULL;
	av[0] = lk->key[0];
	av[1] = lk->key[1];
	av[2] = lk->key[2];
	if (fresh(lk, why) == -1)
		return -1;
	r = redis_eval(lk->c, holders_lua, 3, 3, av, why);
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		*why = "unexpected reply from the server";
		return -1;
	}
	if (r->elements > 0 &&
	    (h = calloc(r->elements, sizeof(*h))) == NULL) {
		freeReplyObject(r);
		*why = strerror(errno);
		return -1;
	}
	for (i = 0; i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING)
			continue;
		/* TOKEN SINCE PID HOST */
		if ((p = strchr(r->element[i]->str, ' ')) == NULL)
			continue;
		h[n].since = strtoll(p + 1, &end, 10) * 1000000;
		h[n].pid = (pid_t)strtol(end, &p, 10);
		if (*p == ' ')
			p++;
		strlcpy(h[n].host, p, sizeof(h[n].host));
		n++;
	}
	freeReplyObject(r);
	if (n > 0) {
		qsort(h, n, sizeof(*h), cmp_holder);
		*hv = h;
	} else
		free(h);
	return (int)n;
}

static int
cmp_holder(const void *a, const void *b)
{
	const struct lock_holder *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}
