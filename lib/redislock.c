/* SPDX-License-Identifier: ISC */
/*
 * redislock.c: plock's locks on Redis, as leases (see redislock.h).
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
#include <sys/prctl.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dur.h"
#include "execpipe.h"
#include "exitcode.h"
#include "redislock.h"

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

static const char *kind_word[] = { "x", "s", "c" };

static void	make_keys(struct rlock *);
static int	attempt(struct rlock *, int64_t *, const char **);
static int	renew(struct rlock *, const char **);
static void	release(struct rlock *);
static int	cmp_holder(const void *, const void *);

int
rlock_open(struct rlock *lk, const char *name, enum lock_kind kind,
    int count, const char **why)
{
	memset(lk, 0, sizeof(*lk));
	lk->kind = kind;
	lk->count = count;
	lk->lease_ns = RLOCK_LEASE_NS;
	if (redis_url_parse(name, &lk->url, why) == -1)
		return -1;
	if (redis_lease_env("PKIT_LOCK_LEASE", &lk->lease_ns) == -1) {
		*why = "bad PKIT_LOCK_LEASE (100ms to 1 day)";
		return -1;
	}
	make_keys(lk);
	if ((lk->c = redis_connect(&lk->url, why)) == NULL)
		return -1;
	return 0;
}

static void
make_keys(struct rlock *lk)
{
	static const char *suffix[] = { "", ":shared", ":count", ":fence",
	    ":free" };
	size_t i;

	for (i = 0; i < 5; i++)
		snprintf(lk->key[i], sizeof(lk->key[i]), "pkit:lock:{%s}%s",
		    lk->url.name, suffix[i]);
}

int
rlock_take(struct rlock *lk, int64_t deadline, const char **why)
{
	redisContext *sub;
	redisReply *r;
	struct pollfd pfd;
	const char *av[2];
	int64_t wait_ms;
	int got, ms, woke;

	if ((got = attempt(lk, &wait_ms, why)) != 0)
		return got == 1 ? 0 : -1;
	if (deadline == 0)
		return 1;

	/*
	 * Subscribe, then try again: a release from now on reaches us, so no
	 * wake-up falls between the try and the sleep.
	 */
	if ((sub = redis_connect(&lk->url, why)) == NULL)
		return -1;
	av[0] = "SUBSCRIBE";
	av[1] = lk->key[4];
	if ((r = redis_run(sub, 2, av, why)) == NULL) {
		redisFree(sub);
		return -1;
	}
	freeReplyObject(r);
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
		woke = 0;
		while (redisGetReplyFromReader(sub, (void **)&r) == REDIS_OK &&
		    r != NULL) {
			freeReplyObject(r);
			woke = 1;
		}
		if (woke)
			continue;
		pfd.fd = sub->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms) > 0 && redisBufferRead(sub) != REDIS_OK) {
			*why = redis_why(sub, NULL);
			got = -1;
			break;
		}
		while (redisGetReplyFromReader(sub, (void **)&r) == REDIS_OK &&
		    r != NULL)
			freeReplyObject(r);
	}
	redisFree(sub);
	return got == 1 ? (lk->member[0] != '\0' ? 0 : 1) : -1;
}

/*
 * One try: 1 taken (lk->member, lk->token set), 0 busy (*wait_ms: when the
 * soonest lease in the way runs out), -1 error.
 */
static int
attempt(struct rlock *lk, int64_t *wait_ms, const char **why)
{
	redisReply *r;
	const char *av[9];
	char lease[32], count[16], who[300], token[17], host[256];
	unsigned char rnd[8];
	int i, got;

	arc4random_buf(rnd, sizeof(rnd));
	for (i = 0; i < 8; i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	if (gethostname(host, sizeof(host)) == -1)
		strlcpy(host, "-", sizeof(host));
	host[strcspn(host, " ")] = '\0';
	snprintf(who, sizeof(who), "%ld %s", (long)getpid(), host);
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
	if ((r = redis_eval(lk->c, take_lua, 4, 9, av, why)) == NULL)
		return -1;
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
	return got;
}

int
rlock_run(struct rlock *lk, char *const argv[])
{
	sigset_t set, old;
	struct timespec ts;
	const char *why;
	char num[32];
	int64_t next, left, last_ok;
	pid_t pid, ppid;
	int fds[2], e, sig, status = 0, warned = 0, lost = 0;

	snprintf(num, sizeof(num), "%lld", lk->token);
	if (setenv("PKIT_LOCK_TOKEN", num, 1) == -1 || execpipe_open(fds) == -1) {
		warn("%s", lk->url.shown);
		release(lk);
		return PKIT_EXIT_FAIL;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	ppid = getpid();
	if ((pid = fork()) == -1) {
		warn("fork");
		release(lk);
		return PKIT_EXIT_FAIL;
	}
	if (pid == 0) {
		/* If plock is killed, so is CMD: no critical section is left
		 * running with nobody renewing its lease. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != ppid)
			_exit(PKIT_EXIT_FAIL);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		execpipe_exec(fds, argv);
	}
	if ((e = execpipe_wait(fds)) != 0) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		release(lk);
		return execpipe_report(argv[0], e);
	}

	last_ok = mono_now();
	next = last_ok + lk->lease_ns / 3;
	for (;;) {
		left = next - mono_now();
		if (left < 0)
			left = 0;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == -1) {
			if (errno != EAGAIN)
				continue;
			/* Time to renew. */
			next = mono_now() + lk->lease_ns / 3;
			if (lost)
				continue;
			switch (renew(lk, &why)) {
			case 1:
				last_ok = mono_now();
				warned = 0;
				break;
			case 0:
				warnx("%s: lease lost: another holder may "
				    "have the lock now (fence with "
				    "PKIT_LOCK_TOKEN)", lk->url.shown);
				lost = 1;
				break;
			default:
				if (!warned)
					warnx("%s: cannot renew the lease: %s",
					    lk->url.shown, why);
				warned = 1;
				if (mono_now() - last_ok >= lk->lease_ns) {
					warnx("%s: lease lost: another holder "
					    "may have the lock now",
					    lk->url.shown);
					lost = 1;
				}
			}
			continue;
		}
		if (sig == SIGCHLD) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				break;
			continue;
		}
		if (pid > 1)
			kill(pid, sig);
	}
	if (!lost)
		release(lk);
	return status_to_exit(status);
}

/* Renew our lease: 1 renewed, 0 lost to expiry, -1 error (*why). */
static int
renew(struct rlock *lk, const char **why)
{
	redisReply *r;
	const char *av[6];
	char lease[32];
	int ok;

	if (lk->c == NULL || lk->c->err) {
		if (lk->c != NULL)
			redisFree(lk->c);
		if ((lk->c = redis_connect(&lk->url, why)) == NULL)
			return -1;
	}
	snprintf(lease, sizeof(lease), "%lld",
	    (long long)(lk->lease_ns / 1000000));
	av[0] = lk->key[0];
	av[1] = lk->key[1];
	av[2] = lk->key[2];
	av[3] = kind_word[lk->kind];
	av[4] = lk->member;
	av[5] = lease;
	if ((r = redis_eval(lk->c, renew_lua, 3, 6, av, why)) == NULL)
		return -1;
	ok = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return ok;
}

/* Let go (compare and delete) and wake the waiters; warn if we cannot. */
static void
release(struct rlock *lk)
{
	redisReply *r;
	const char *av[6], *why;

	if (lk->member[0] == '\0')
		return;
	if (lk->c == NULL || lk->c->err) {
		if (lk->c != NULL)
			redisFree(lk->c);
		if ((lk->c = redis_connect(&lk->url, &why)) == NULL) {
			warnx("%s: cannot release, the lease runs out by "
			    "itself: %s", lk->url.shown, why);
			return;
		}
	}
	av[0] = lk->key[0];
	av[1] = lk->key[1];
	av[2] = lk->key[2];
	av[3] = lk->key[4];
	av[4] = kind_word[lk->kind];
	av[5] = lk->member;
	if ((r = redis_eval(lk->c, release_lua, 4, 6, av, &why)) == NULL)
		warnx("%s: cannot release, the lease runs out by itself: %s",
		    lk->url.shown, why);
	else
		freeReplyObject(r);
	lk->member[0] = '\0';
}

int
rlock_holders(const char *name, struct rlock_holder **hv,
    const char **shown, const char **why)
{
	static struct rlock lk;
	struct rlock_holder *h = NULL;
	redisReply *r;
	const char *av[3];
	char *p, *end;
	size_t i, n = 0;

	*hv = NULL;
	memset(&lk, 0, sizeof(lk));
	lk.url.shown[0] = '\0';
	*shown = lk.url.shown;
	if (redis_url_parse(name, &lk.url, why) == -1)
		return -1;
	make_keys(&lk);
	if ((lk.c = redis_connect(&lk.url, why)) == NULL)
		return -1;
	av[0] = lk.key[0];
	av[1] = lk.key[1];
	av[2] = lk.key[2];
	r = redis_eval(lk.c, holders_lua, 3, 3, av, why);
	redisFree(lk.c);
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
	const struct rlock_holder *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}
