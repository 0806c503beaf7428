/* SPDX-License-Identifier: ISC */
/*
 * redis.c: Redis names and connections (see redis.h).
 *
 * A URL is parsed by hand, strictly: anything we do not understand is
 * refused rather than guessed at, since a wrong guess would put a lock or
 * a queue on another server.  The user and password may be
 * percent-encoded (a '@', ':' or '/' in them must be).  Every message
 * built here names the server through redis_url.shown, which never holds
 * the password.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include "dur.h"
#include "parse.h"
#include "redis.h"

static int	parse_server(const char *s, struct redis_url *u,
		    int want_name, const char **why);
static int	parse_sentinel(const char *s, struct redis_url *u,
		    const char **why);
static const char *parse_auth(const char *s, const char *end,
		    struct redis_url *u, const char **why);
static int	parse_replicas(char *name, struct redis_url *u,
		    const char **why);
static int	parse_env_sentinel(const char *env, const char *name,
		    struct redis_url *u, const char **why);
static redisContext *connect_to(const char *host, int port, int64_t ns,
		    const char **why);
static redisContext *connect_master(const struct redis_url *u,
		    const char **why);
static int	sentinel_ask(const struct redis_url *u, int i,
		    struct redis_url *m, const char **why);
static int	unescape(char *dst, size_t size, const char *s, size_t len);
static void	mask(const char *s, char *dst, size_t size);
static struct timeval ns_to_timeval(int64_t ns);

int
redis_name_is(const char *s)
{
	return strncmp(s, "redis:", 6) == 0 ||
	    strncmp(s, "redis-sentinel://", 17) == 0;
}

int
redis_url_parse(const char *s, struct redis_url *u, const char **why)
{
	static char buf[128];
	const char *env, *n;

	memset(u, 0, sizeof(*u));
	mask(s, u->shown, sizeof(u->shown));
	if (!redis_name_is(s)) {
		*why = "not a redis: name";
		return -1;
	}
	if (strncmp(s, "redis://", 8) == 0)
		return parse_server(s + 8, u, 1, why);
	if (strncmp(s, "redis-sentinel://", 17) == 0)
		return parse_sentinel(s + 17, u, why);

	/* redis:NAME, on the server of $PKIT_REDIS_URL. */
	n = s + 6;
	if ((env = getenv("PKIT_REDIS_URL")) == NULL || *env == '\0') {
		*why = "PKIT_REDIS_URL is not set (needed by redis:NAME)";
		return -1;
	}
	if (strncmp(env, "redis-sentinel://", 17) == 0)
		return parse_env_sentinel(env + 17, n, u, why);
	if (strncmp(env, "redis://", 8) != 0) {
		*why = "PKIT_REDIS_URL is not a redis:// or redis-sentinel:// "
		    "URL";
		return -1;
	}
	if (parse_server(env + 8, u, 0, why) == -1) {
		snprintf(buf, sizeof(buf), "PKIT_REDIS_URL: %s", *why);
		*why = buf;
		return -1;
	}
	if (strlen(n) >= sizeof(u->name)) {
		*why = "name too long";
		return -1;
	}
	strlcpy(u->name, n, sizeof(u->name));
	return parse_replicas(u->name, u, why);
}

/*
 * [USER:PASSWORD@]HOST[:PORT][/DB]/NAME (want_name) or
 * [USER:PASSWORD@]HOST[:PORT][/DB][/] (a server for redis:NAME).
 */
static int
parse_server(const char *s, struct redis_url *u, int want_name,
    const char **why)
{
	const char *host, *host_end, *p, *path;
	char num[16], *end;
	long long port;
	long v;
	size_t len;

	path = s + strcspn(s, "/");
	if ((host = parse_auth(s, path, u, why)) == NULL)
		return -1;

	/* HOST, [V6ADDR], then :PORT */
	if (*host == '[') {
		if ((host_end = memchr(host, ']', path - host)) == NULL) {
			*why = "bad host: no closing ]";
			return -1;
		}
		len = host_end - host - 1;
		p = host_end + 1;
		host++;
	} else {
		host_end = memchr(host, ':', path - host);
		if (host_end == NULL)
			host_end = path;
		len = host_end - host;
		p = host_end;
	}
	if (len == 0 || len >= sizeof(u->host)) {
		*why = len == 0 ? "no host" : "host name too long";
		return -1;
	}
	memcpy(u->host, host, len);
	u->host[len] = '\0';
	for (end = u->host; *end != '\0'; end++)
		if (!isalnum((unsigned char)*end) && strchr(".-_:", *end) == NULL) {
			*why = "bad host";
			return -1;
		}
	u->port = REDIS_PORT_DEFAULT;
	if (p < path) {
		if (*p != ':' || path - p - 1 == 0 ||
		    (size_t)(path - p - 1) >= sizeof(num)) {
			*why = "bad port";
			return -1;
		}
		memcpy(num, p + 1, path - p - 1);
		num[path - p - 1] = '\0';
		if (num_parse(num, 1, 65535, &port, why) == -1) {
			*why = "bad port";
			return -1;
		}
		u->port = (int)port;
	}

	/* [/DB]/NAME */
	u->db = 0;
	if (*path == '/')
		path++;
	p = path + strcspn(path, "/");
	if (*p == '/' || (!want_name && *path != '\0')) {
		if (p - path == 0 || (size_t)(p - path) >= sizeof(num)) {
			*why = "bad database number";
			return -1;
		}
		memcpy(num, path, p - path);
		num[p - path] = '\0';
		errno = 0;
		v = strtol(num, &end, 10);
		if (!isdigit((unsigned char)num[0]) || *end != '\0' ||
		    errno != 0 || v > 65535) {
			*why = "bad database number";
			return -1;
		}
		u->db = (int)v;
		path = *p == '/' ? p + 1 : p;
	}
	if (!want_name) {
		if (*path != '\0') {
			*why = "a server URL ends after the database number";
			return -1;
		}
		return 0;
	}
	if (*path == '\0') {
		*why = "no name after the server";
		return -1;
	}
	if (strlen(path) >= sizeof(u->name)) {
		*why = "name too long";
		return -1;
	}
	strlcpy(u->name, path, sizeof(u->name));
	return parse_replicas(u->name, u, why);
}

/*
 * [USER:PASSWORD@] at the start of s[0..end), %-escapes decoded into
 * u->user and u->pass: what follows it, or NULL with *why.
 */
static const char *
parse_auth(const char *s, const char *end, struct redis_url *u,
    const char **why)
{
	const char *p, *at = NULL, *colon;

	for (p = s; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return s;
	if ((colon = memchr(s, ':', at - s)) == NULL) {
		*why = "user without a password (write USER:PASSWORD@)";
		return NULL;
	}
	if (unescape(u->user, sizeof(u->user), s, colon - s) == -1 ||
	    unescape(u->pass, sizeof(u->pass), colon + 1, at - colon - 1) == -1) {
		*why = "bad user or password (too long or bad %-escape)";
		return NULL;
	}
	return at + 1;
}

/*
 * NAME[?replicas=N] in name: the suffix is taken off into u->replicas,
 * and what is left must be a name.
 */
static int
parse_replicas(char *name, struct redis_url *u, const char **why)
{
	long long n;
	char *q;

	if ((q = strchr(name, '?')) != NULL) {
		if (strncmp(q, "?replicas=", 10) != 0) {
			*why = "unknown option after '?' (only replicas=N)";
			return -1;
		}
		if (num_parse(q + 10, 0, REDIS_REPLICAS_MAX, &n, why) == -1) {
			*why = "bad replicas=N (0 to 64)";
			return -1;
		}
		u->replicas = (int)n;
		*q = '\0';
	}
	if ((*why = name_invalid(name)) != NULL)
		return -1;
	return 0;
}

/*
 * redis:NAME with PKIT_REDIS_URL=redis-sentinel://SENTINELS/MASTER (env:
 * what follows the scheme): the name is parse_sentinel's of env/NAME
 * (NAME may end in ?replicas=N; the URL may not).
 * The URL is checked first, with a name of its own, so that its faults
 * are said to be the URL's and NAME's are NAME's.
 */
static int
parse_env_sentinel(const char *env, const char *name, struct redis_url *u,
    const char **why)
{
	static char buf[128];
	char full[1024], shown[sizeof(u->shown)];

	if (strchr(env, '?') != NULL ||
	    (size_t)snprintf(full, sizeof(full), "%s/q", env) >=
	    sizeof(full) || parse_sentinel(full, u, why) == -1) {
		snprintf(buf, sizeof(buf), "PKIT_REDIS_URL: %s",
		    strchr(env, '?') != NULL ? "no ?option there (write it "
		    "after the name)" : *why);
		*why = buf;
		return -1;
	}
	/* Parsed afresh, the name as shown kept. */
	strlcpy(shown, u->shown, sizeof(shown));
	memset(u, 0, sizeof(*u));
	strlcpy(u->shown, shown, sizeof(u->shown));
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", env, name) >=
	    sizeof(full)) {
		*why = "name too long";
		return -1;
	}
	return parse_sentinel(full, u, why);
}

/*
 * [USER:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER/NAME[?replicas=N]: the
 * sentinels (a port is required: theirs is not Redis's), then the
 * master's name as the sentinels know it.
 */
static int
parse_sentinel(const char *s, struct redis_url *u, const char **why)
{
	const char *path, *p, *item, *end, *pc;
	char num[16];
	long long port;
	size_t len;

	path = s + strcspn(s, "/");
	if ((s = parse_auth(s, path, u, why)) == NULL)
		return -1;
	for (item = s; item < path; item = end + 1) {
		end = item + strcspn(item, ",/");
		if (u->nsentinel == REDIS_SENTINELS_MAX) {
			*why = "too many sentinels (at most 8)";
			return -1;
		}
		if ((pc = memrchr(item, ':', end - item)) == NULL ||
		    pc == item || end - pc - 1 == 0 ||
		    (size_t)(end - pc - 1) >= sizeof(num)) {
			*why = "a sentinel is HOST:PORT";
			return -1;
		}
		len = pc - item;
		if (*item == '[' && pc[-1] == ']')
			item++, len -= 2;
		if (len == 0 || len >= sizeof(u->sentinel[0].host)) {
			*why = "bad sentinel host";
			return -1;
		}
		memcpy(u->sentinel[u->nsentinel].host, item, len);
		u->sentinel[u->nsentinel].host[len] = '\0';
		for (p = item; p < item + len; p++)
			if (!isalnum((unsigned char)*p) &&
			    strchr(".-_:", *p) == NULL) {
				*why = "bad sentinel host";
				return -1;
			}
		memcpy(num, pc + 1, end - pc - 1);
		num[end - pc - 1] = '\0';
		if (num_parse(num, 1, 65535, &port, why) == -1) {
			*why = "bad sentinel port";
			return -1;
		}
		u->sentinel[u->nsentinel++].port = (int)port;
		if (*end != ',')
			break;
	}
	if (u->nsentinel == 0) {
		*why = "no sentinel";
		return -1;
	}
	if (*path != '/' || (p = strchr(path + 1, '/')) == NULL) {
		*why = "no /MASTER/NAME after the sentinels";
		return -1;
	}
	len = p - path - 1;
	if (len == 0 || len >= sizeof(u->master)) {
		*why = "bad master name";
		return -1;
	}
	memcpy(u->master, path + 1, len);
	u->master[len] = '\0';
	if (name_invalid(u->master) != NULL) {
		*why = "bad master name";
		return -1;
	}
	if (strlen(p + 1) >= sizeof(u->name)) {
		*why = "name too long";
		return -1;
	}
	if (p[1] == '\0') {
		*why = "no name after the master";
		return -1;
	}
	strlcpy(u->name, p + 1, sizeof(u->name));
	return parse_replicas(u->name, u, why);
}

/* Decode %XX escapes of s[0..len) into dst; -1 if bad or too long. */
static int
unescape(char *dst, size_t size, const char *s, size_t len)
{
	size_t i, j = 0;
	unsigned int c;

	for (i = 0; i < len; i++) {
		if (j + 1 >= size)
			return -1;
		if (s[i] == '%') {
			if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]) ||
			    sscanf(s + i + 1, "%2x", &c) != 1 || c == 0)
				return -1;
			dst[j++] = (char)c;
			i += 2;
		} else
			dst[j++] = s[i];
	}
	dst[j] = '\0';
	return 0;
}

/*
 * A copy of s fit to print: the password of redis://USER:PASSWORD@...
 * replaced by ***, and the copy cut short on anything unprintable.  The
 * credentials end at the string's last '@': a password may hold a '/' or
 * a '?' a user did not escape (a '/' then fails the parse, whose error
 * shows the name), and no name, host or ?option holds an '@'.
 */
static void
mask(const char *s, char *dst, size_t size)
{
	const char *auth, *end, *at = NULL, *colon, *p;
	size_t j = 0;

	auth = strncmp(s, "redis://", 8) == 0 ? s + 8 :
	    strncmp(s, "redis-sentinel://", 17) == 0 ? s + 17 : NULL;
	end = auth != NULL ? auth + strlen(auth) : NULL;
	if (auth != NULL)
		for (p = auth; p < end; p++)
			if (*p == '@')
				at = p;
	colon = at != NULL ? memchr(auth, ':', at - auth) : NULL;
	for (p = s; *p != '\0' && j + 4 < size; p++) {
		if (colon != NULL && p > colon && p < at)
			continue;
		if (colon != NULL && p == at) {
			memcpy(dst + j, "***", 3);
			j += 3;
		}
		dst[j++] = isprint((unsigned char)*p) ? *p : '?';
	}
	dst[j] = '\0';
}

/* TCP keepalive, idle 5 s, 3 probes 2 s apart (redis.h); not on unix. */
static int
keepalive(redisContext *c)
{
	int on = 1, idle = 5, intvl = 2, cnt = 3;

	if (c->connection_type != REDIS_CONN_TCP)
		return 0;
	if (setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &on,
	    sizeof(on)) == -1 ||
	    setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle,
	    sizeof(idle)) == -1 ||
	    setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl)) == -1 ||
	    setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt,
	    sizeof(cnt)) == -1)
		return -1;
	return 0;
}

/* A PING's reply on a subscribed connection: ["pong", ""]. */
static int
is_pong(const redisReply *r)
{
	if (r->type == REDIS_REPLY_STATUS)
		return strcasecmp(r->str, "pong") == 0;
	return r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    strcasecmp(r->element[0]->str, "pong") == 0;
}

int
redis_sub_wait(redisContext *sub, int64_t ms, const char **why)
{
	static char buf[96];
	struct pollfd pfd;
	redisReply *r;
	int64_t now, end, beat, pong = -1, t;
	int got = 0, done, n;

	now = mono_now();
	end = ms < 0 ? -1 : now + ms * 1000000;
	beat = now + REDIS_HEARTBEAT_NS;
	for (;;) {
		while (redisGetReplyFromReader(sub, (void **)&r) == REDIS_OK &&
		    r != NULL) {
			if (is_pong(r))
				pong = -1;
			else
				got = 1;
			freeReplyObject(r);
		}
		if (got)
			return 1;
		now = mono_now();
		if (pong >= 0 && now >= pong) {
			snprintf(buf, sizeof(buf), "server not answering (no "
			    "reply to PING in %d s)",
			    (int)(REDIS_PONG_NS / 1000000000));
			*why = buf;
			errno = ETIMEDOUT;
			return -1;
		}
		if (end >= 0 && now >= end)
			return 0;
		if (pong < 0 && now >= beat) {
			if (redisAppendCommand(sub, "PING") != REDIS_OK)
				goto lost;
			do {
				if (redisBufferWrite(sub, &done) != REDIS_OK)
					goto lost;
			} while (!done);
			pong = now + REDIS_PONG_NS;
			continue;
		}
		t = pong >= 0 ? pong : beat;
		if (end >= 0 && end < t)
			t = end;
		pfd.fd = sub->fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, (int)((t - now + 999999) / 1000000));
		if (n == -1 && errno == EINTR)
			return -1;
		if (n == -1) {
			*why = strerror(errno);
			return -1;
		}
		if (n > 0) {
			if (redisBufferRead(sub) != REDIS_OK)
				goto lost;
			/* the server spoke: the next PING is due later */
			beat = mono_now() + REDIS_HEARTBEAT_NS;
		}
	}
lost:
	*why = redis_why(sub, NULL);
	if (errno == EINTR)
		errno = EIO;
	return -1;
}

/*
 * A connection to host:port within ns, close-on-exec, each reply awaited
 * at most ns (redis_connect sets REDIS_COMMAND_NS once it is ready).
 */
static redisContext *
connect_to(const char *host, int port, int64_t ns, const char **why)
{
	static char buf[512];
	redisContext *c;

	c = redisConnectWithTimeout(host, port, ns_to_timeval(ns));
	if (c == NULL) {
		*why = "out of memory";
		return NULL;
	}
	if (c->err) {
		/*
		 * host:port, as the name may not say it (redis:NAME takes
		 * $PKIT_REDIS_URL's); the password is never part of it.
		 */
		snprintf(buf, sizeof(buf), "cannot connect to %s%s%s:%d: %s",
		    strchr(host, ':') != NULL ? "[" : "", host,
		    strchr(host, ':') != NULL ? "]" : "", port,
		    redis_why(c, NULL));
		*why = buf;
		redisFree(c);
		return NULL;
	}
	if (fcntl(c->fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    redisSetTimeout(c, ns_to_timeval(ns)) != REDIS_OK ||
	    keepalive(c) == -1) {
		*why = strerror(errno);
		redisFree(c);
		return NULL;
	}
	return c;
}

/*
 * Ask each sentinel in turn for the master's address, connect there, and
 * check it calls itself master (a sentinel may be behind a failover).
 */
static redisContext *
connect_master(const struct redis_url *u, const char **why)
{
	static char buf[512];
	struct redis_url m;
	redisContext *c;
	redisReply *r;
	const char *av[1], *w = "no sentinel answered";
	int i, ok;

	for (i = 0; i < u->nsentinel; i++) {
		if (sentinel_ask(u, i, &m, &w) == -1)
			continue;
		if ((c = redis_connect(&m, &w)) == NULL)
			continue;
		av[0] = "ROLE";
		if ((r = redis_run(c, 1, av, &w)) == NULL) {
			redisFree(c);
			continue;
		}
		ok = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[0]->str, "master") == 0;
		freeReplyObject(r);
		if (ok)
			return c;
		redisFree(c);
		w = "the server the sentinels name is not (yet) the master";
	}
	snprintf(buf, sizeof(buf), "no master %s: %s", u->master, w);
	*why = buf;
	return NULL;
}

/*
 * Sentinel i's answer for u's master: *m is u as a plain server name
 * there.  -1 with *why if it did not answer or does not know it.
 */
static int
sentinel_ask(const struct redis_url *u, int i, struct redis_url *m,
    const char **why)
{
	redisContext *s;
	redisReply *r;
	const char *av[3];
	long long port;
	int ok;

	if ((s = connect_to(u->sentinel[i].host, u->sentinel[i].port,
	    REDIS_CONNECT_NS / 5, why)) == NULL)
		return -1;
	av[0] = "SENTINEL";
	av[1] = "get-master-addr-by-name";
	av[2] = u->master;
	r = redis_run(s, 3, av, why);
	redisFree(s);
	if (r == NULL)
		return -1;
	ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_STRING &&
	    r->element[0]->len < sizeof(m->host) &&
	    num_parse(r->element[1]->str, 1, 65535, &port, why) == 0;
	if (!ok) {
		*why = r->type == REDIS_REPLY_NIL ?
		    "the sentinels do not know that master" :
		    "unexpected reply from a sentinel";
		freeReplyObject(r);
		return -1;
	}
	*m = *u;
	m->nsentinel = 0;
	strlcpy(m->host, r->element[0]->str, sizeof(m->host));
	m->port = (int)port;
	freeReplyObject(r);
	return 0;
}

int
redis_moved(const redisContext *c, const struct redis_url *u)
{
	struct redis_url m;
	const char *why;
	int i;

	if (u->nsentinel == 0 || c->connection_type != REDIS_CONN_TCP)
		return 0;
	for (i = 0; i < u->nsentinel; i++)
		if (sentinel_ask(u, i, &m, &why) == 0)
			return m.port != c->tcp.port ||
			    strcmp(m.host, c->tcp.host) != 0;
	return 0;
}

redisContext *
redis_connect(const struct redis_url *u, const char **why)
{
	redisContext *c;
	redisReply *r;
	const char *argv[3];
	char db[16];
	int argc;

	if (u->nsentinel > 0)
		return connect_master(u, why);
	if ((c = connect_to(u->host, u->port, REDIS_CONNECT_NS, why)) == NULL)
		return NULL;
	if (u->pass[0] != '\0' || u->user[0] != '\0') {
		argc = 0;
		argv[argc++] = "AUTH";
		if (u->user[0] != '\0')
			argv[argc++] = u->user;
		argv[argc++] = u->pass;
		if ((r = redis_run(c, argc, argv, why)) == NULL) {
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	if (u->db != 0) {
		snprintf(db, sizeof(db), "%d", u->db);
		argv[0] = "SELECT";
		argv[1] = db;
		if ((r = redis_run(c, 2, argv, why)) == NULL) {
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	/* Connected within REDIS_CONNECT_NS; each reply from now on. */
	if (redisSetTimeout(c, ns_to_timeval(REDIS_COMMAND_NS)) != REDIS_OK) {
		*why = strerror(errno);
		redisFree(c);
		return NULL;
	}
	return c;
}

static int last_retryable;	/* of redis_run's last failure */

int
redis_failed_retryable(void)
{
	return last_retryable;
}

redisReply *
redis_run(redisContext *c, int argc, const char **argv, const char **why)
{
	redisReply *r;

	r = redisCommandArgv(c, argc, argv, NULL);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		last_retryable = redis_retryable(c, r);
		*why = redis_why(c, r);
		if (r != NULL)
			freeReplyObject(r);
		return NULL;
	}
	return r;
}

redisReply *
redis_eval(redisContext *c, const char *script, int nkeys, int argc,
    const char **argv, const char **why)
{
	const char *av[32];
	char nk[16];
	int i;

	if (argc + 3 > (int)(sizeof(av) / sizeof(av[0]))) {
		*why = "too many arguments";
		return NULL;
	}
	snprintf(nk, sizeof(nk), "%d", nkeys);
	av[0] = "EVAL";
	av[1] = script;
	av[2] = nk;
	for (i = 0; i < argc; i++)
		av[i + 3] = argv[i];
	return redis_run(c, argc + 3, av, why);
}

int
redis_lease_env(const char *var, int64_t *ns)
{
	const char *s, *why;
	int64_t v;

	if ((s = getenv(var)) == NULL || *s == '\0')
		return 0;
	if (dur_parse(s, &v, &why) == -1 || v < REDIS_LEASE_MIN_NS ||
	    v > REDIS_LEASE_MAX_NS)
		return -1;
	*ns = v;
	return 0;
}

int
redis_wait(redisContext *c, const struct redis_url *u, int64_t timeout_ms,
    const char **why)
{
	static char buf[128];
	redisReply *r;
	const char *av[3];
	char n[16], t[24];
	long long got;

	if (u->replicas == 0)
		return 0;
	snprintf(n, sizeof(n), "%d", u->replicas);
	snprintf(t, sizeof(t), "%lld", (long long)(timeout_ms > 0 ?
	    timeout_ms : 1));
	av[0] = "WAIT";
	av[1] = n;
	av[2] = t;
	if ((r = redis_run(c, 3, av, why)) == NULL)
		return -1;
	got = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	if (got >= u->replicas)
		return 0;
	snprintf(buf, sizeof(buf), "only %lld of %d replicas confirmed the "
	    "write (WAIT)", got < 0 ? 0 : got, u->replicas);
	*why = buf;
	return 1;
}

int
redis_retryable(const redisContext *c, const redisReply *r)
{
	if (r == NULL)
		return c == NULL || c->err != 0;
	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	return strncmp(r->str, "READONLY", 8) == 0 ||
	    strncmp(r->str, "MASTERDOWN", 10) == 0 ||
	    strncmp(r->str, "LOADING", 7) == 0 ||
	    strncmp(r->str, "NOREPLICAS", 10) == 0;
}

int64_t
redis_retry_deadline(int64_t deadline)
{
	return deadline > 0 ? deadline : mono_now() + REDIS_RETRY_NS;
}

void
redis_backoff(int attempt)
{
	struct timespec ts;
	int64_t ns = (int64_t)20000000 << (attempt < 3 ? attempt : 3);

	ts.tv_sec = 0;
	ts.tv_nsec = (long)ns;
	nanosleep(&ts, NULL);
}

redisContext *
redis_reconnect(const struct redis_url *u, int64_t until, int attempt,
    const char **why)
{
	redisContext *c;

	for (;; attempt++) {
		if (mono_now() >= until)
			return NULL;
		redis_backoff(attempt);
		if ((c = redis_connect(u, why)) != NULL)
			return c;
	}
}

const char *
redis_why(redisContext *c, const redisReply *r)
{
	static char buf[256];
	const char *s;
	size_t n;

	if (r == NULL) {
		if (c == NULL || c->err == 0)
			return "no reply";
		if (c->err == REDIS_ERR_EOF)
			return "the server closed the connection";
		if (c->err == REDIS_ERR_IO && (errno == EAGAIN ||
		    strstr(c->errstr, "temporarily unavailable") != NULL ||
		    strstr(c->errstr, "timed out") != NULL))
			return "no answer from the server (timed out)";
		s = c->errstr;
	} else
		s = r->str;
	if (strstr(s, "WRONGTYPE") != NULL)
		return "wrong type of value at one of its keys (not pkit's?)";
	if (strstr(s, "not an integer") != NULL)
		return "wrong value at one of its keys (not pkit's?)";
	if (strstr(s, "WRONGPASS") != NULL ||
	    strstr(s, "invalid password") != NULL ||
	    strstr(s, "invalid username-password") != NULL)
		return "authentication refused";
	if (strstr(s, "NOAUTH") != NULL)
		return "authentication required (give USER:PASSWORD@)";
	if (strstr(s, "NOPERM") != NULL)
		return "not permitted by the server's ACL";
	if (strstr(s, "LOADING") != NULL)
		return "the server is loading its data";
	if (strncmp(s, "ERR ", 4) == 0)
		s += 4;
	n = strcspn(s, "\r\n");
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (isupper((unsigned char)buf[0]) && !isupper((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

static struct timeval
ns_to_timeval(int64_t ns)
{
	struct timeval tv;

	tv.tv_sec = ns / 1000000000;
	tv.tv_usec = (ns % 1000000000) / 1000;
	return tv;
}
