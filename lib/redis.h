/* SPDX-License-Identifier: ISC */
/*
 * redis.h: names on a Redis server, and connections to it (the Redis
 * backend's plumbing, shared by plock and the queue tools).
 *
 * A name selects Redis when it is written
 *	redis://[USER:PASSWORD@]HOST[:PORT][/DB]/NAME
 * or redis:NAME, which takes the server from $PKIT_REDIS_URL
 * (redis://[USER:PASSWORD@]HOST[:PORT][/DB], or the sentinels and master
 * redis-sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER).  NAME follows the same
 * rules as a plain queue or lock name.  The password is kept for AUTH and
 * never appears in redis_url.shown, the form every message uses.
 *
 * Through Redis Sentinel, a name is written
 *	redis-sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER/NAME
 * (up to REDIS_SENTINELS_MAX sentinels, the credentials the master's):
 * redis_connect asks each sentinel in turn for MASTER's address
 * (SENTINEL get-master-addr-by-name), connects there and checks that ROLE
 * says master.  Either form may end in ?replicas=N: every write the tools
 * report done is then confirmed by WAIT N (redis_wait).
 *
 * Failover: redis_retryable tells a fault worth a new connection (lost
 * connection, READONLY, MASTERDOWN, LOADING, no master known) from a
 * final one; the backends retry those on a Sentinel name, with a fresh
 * redis_connect, until the operation's deadline or REDIS_RETRY_NS.
 */
#ifndef PKIT_REDIS_H
#define PKIT_REDIS_H

#include <stdint.h>

#include <hiredis/hiredis.h>

#include "parse.h"

#define REDIS_PORT_DEFAULT	6379
#define REDIS_CONNECT_NS	((int64_t)5 * 1000000000)	/* connect, AUTH */
#define REDIS_COMMAND_NS	((int64_t)10 * 1000000000)	/* one reply */
/*
 * A silent server (a host gone, a partition, a stopped process: the
 * socket stays open, nothing answers) is noticed by a process waiting on
 * a subscription within REDIS_HEARTBEAT_NS + REDIS_PONG_NS (8 s): after
 * REDIS_HEARTBEAT_NS without a byte it PINGs, and gives up when no reply
 * comes within REDIS_PONG_NS.  TCP keepalive (idle 5 s, then 3 probes 2 s
 * apart) ends a connection whose peer host is gone on every connection.
 */
#define REDIS_HEARTBEAT_NS	((int64_t)3 * 1000000000)
#define REDIS_PONG_NS		((int64_t)5 * 1000000000)
/*
 * A heartbeat cannot tell that the server stopped being the master: an
 * old master the sentinels have replaced (cut off from them, not yet
 * reconfigured) still answers PING, and what the new master publishes
 * never reaches it.  A waiter on a Sentinel name asks the sentinels again
 * at least this often (redis_moved), and moves if they name another.
 */
#define REDIS_RECHECK_NS	((int64_t)5 * 1000000000)
#define REDIS_LEASE_MIN_NS	((int64_t)100000000)		/* 100ms */
#define REDIS_LEASE_MAX_NS	((int64_t)86400 * 1000000000)	/* 1 day */
#define REDIS_RETRY_NS		((int64_t)30 * 1000000000)	/* failover */
#define REDIS_WAIT_MS		10000	/* WAIT's timeout with no deadline */
#define REDIS_SENTINELS_MAX	8
#define REDIS_REPLICAS_MAX	64

struct redis_url {
	char	host[256];
	int	port;
	int	db;
	char	user[128];
	char	pass[256];
	char	name[NAME_MAX_LEN + 24];	/* + "?replicas=N" while parsing */
	char	shown[512];	/* the name as given, its password masked */
	int	replicas;	/* ?replicas=N: WAIT for N after each write */
	int	nsentinel;	/* 0: host:port is the server itself */
	char	master[128];	/* the master's name, on the sentinels */
	struct {
		char	host[256];
		int	port;
	}	sentinel[REDIS_SENTINELS_MAX];
};

/*
 * True if s names something on Redis (it starts with "redis:" or
 * "redis-sentinel://").
 */
int		 redis_name_is(const char *s);

/*
 * Parse a Redis name into *u.  Returns 0, or -1 with *why set (a reason
 * that never quotes the password).
 */
int		 redis_url_parse(const char *s, struct redis_url *u,
		    const char **why);

/*
 * A connection to u's server, authenticated and on u's database, its
 * descriptor close-on-exec, each reply awaited at most REDIS_COMMAND_NS.
 * NULL with *why set if the server cannot be reached within
 * REDIS_CONNECT_NS or refuses us.
 */
redisContext	*redis_connect(const struct redis_url *u, const char **why);

/*
 * Run a command (redisCommandArgv) and check its reply: NULL with *why set
 * on a lost connection or an error reply (WRONGTYPE and refused
 * authentication said in plain words).  Free the reply with
 * freeReplyObject.
 */
redisReply	*redis_run(redisContext *c, int argc, const char **argv,
		    const char **why);

/* EVAL script with the keys and arguments in argv, as redis_run. */
redisReply	*redis_eval(redisContext *c, const char *script, int nkeys,
		    int argc, const char **argv, const char **why);

/*
 * The lease time in environment variable var (PKIT_LOCK_LEASE,
 * PKIT_QUEUE_LEASE) into *ns, left alone if var is unset or empty.
 * Returns 0, or -1 if it is not a duration from REDIS_LEASE_MIN_NS to
 * REDIS_LEASE_MAX_NS.
 */
int		 redis_lease_env(const char *var, int64_t *ns);

/*
 * WAIT for u->replicas replicas to have every write made so far on c,
 * at most timeout_ms: 0 (or u->replicas is 0), 1 fewer confirmed it
 * (*why says how many), -1 the connection failed (*why).
 */
int		 redis_wait(redisContext *c, const struct redis_url *u,
		    int64_t timeout_ms, const char **why);

/*
 * True if the failure of the last command on c (reply r, or NULL) may
 * pass with a new connection: the connection is lost, or the server is
 * not (or no longer) a master that can write: READONLY, MASTERDOWN,
 * LOADING, or no master found.
 */
int		 redis_retryable(const redisContext *c, const redisReply *r);

/* redis_retryable of the last failure of redis_run or redis_eval. */
int		 redis_failed_retryable(void);

/* The deadline of a retry that starts now, bounded by deadline (<= 0: none). */
int64_t		 redis_retry_deadline(int64_t deadline);

/* Sleep a little before trying again (a back-off, at most ~0.2s). */
void		 redis_backoff(int attempt);

/*
 * After a fault worth a new connection (on a Sentinel name): back off
 * (redis_backoff(attempt), then attempt+1, ...) and redis_connect again
 * until one succeeds or mono_now() reaches until.  NULL with *why.
 */
redisContext	*redis_reconnect(const struct redis_url *u, int64_t until,
		    int attempt, const char **why);

/*
 * Wait on the subscribed connection sub for up to ms milliseconds (-1:
 * without limit) for something published, PINGing a silent server as said
 * above.  1 if something came (read and freed), 0 if ms passed, -1 with
 * errno EINTR if a signal interrupted the wait, else -1 with *why set:
 * the connection is lost or the server does not answer.
 */
int		 redis_sub_wait(redisContext *sub, int64_t ms, const char **why);

/*
 * On a Sentinel name: true if the first sentinel that answers names a
 * master other than c's server.  False if none answers (nothing known).
 */
int		 redis_moved(const redisContext *c, const struct redis_url *u);

/* A reply's error (or a connection's) in one lower-case line. */
const char	*redis_why(redisContext *c, const redisReply *r);

#endif
