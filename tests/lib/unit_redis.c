/* SPDX-License-Identifier: ISC */
/*
 * unit_redis: the Redis name parser (lib/redis.c), without a server:
 * every form it takes, what it refuses, and that no password is shown.
 * Prints TAP-like lines; exits 1 if any check failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"

#include "../unit.h"

static struct redis_url u;
static const char *why;

static int
ok(const char *s)
{
	why = NULL;
	return redis_url_parse(s, &u, &why) == 0;
}

/* s is refused, and neither the reason nor the shown name has "sekrit". */
static int
refused(const char *s)
{
	why = NULL;
	if (redis_url_parse(s, &u, &why) != -1 || why == NULL)
		return 0;
	return strstr(why, "sekrit") == NULL &&
	    strstr(u.shown, "sekrit") == NULL;
}

int
main(void)
{
	char big[400];

	CHECK(redis_name_is("redis://h/n"));
	CHECK(redis_name_is("redis:n"));
	CHECK(!redis_name_is("redisq"));
	CHECK(!redis_name_is("/tmp/redis:x"));

	CHECK(ok("redis://localhost/q1"));
	CHECK(strcmp(u.host, "localhost") == 0 && u.port == 6379 &&
	    u.db == 0 && strcmp(u.name, "q1") == 0 && u.pass[0] == '\0');
	CHECK(ok("redis://127.0.0.1:7000/3/jobs.a-b_c"));
	CHECK(strcmp(u.host, "127.0.0.1") == 0 && u.port == 7000 &&
	    u.db == 3 && strcmp(u.name, "jobs.a-b_c") == 0);
	CHECK(ok("redis://[::1]:7001/x"));
	CHECK(strcmp(u.host, "::1") == 0 && u.port == 7001);
	CHECK(ok("redis://alice:sekrit@h:1/2/n"));
	CHECK(strcmp(u.user, "alice") == 0 && strcmp(u.pass, "sekrit") == 0);
	CHECK(strstr(u.shown, "sekrit") == NULL &&
	    strcmp(u.shown, "redis://alice:***@h:1/2/n") == 0);
	CHECK(ok("redis://:sekrit@h/n"));
	CHECK(u.user[0] == '\0' && strcmp(u.pass, "sekrit") == 0);
	CHECK(ok("redis://a%40b:p%2Fw%3A@h/n"));
	CHECK(strcmp(u.user, "a@b") == 0 && strcmp(u.pass, "p/w:") == 0);

	CHECK(refused("redis://"));
	CHECK(refused("redis://h"));
	CHECK(refused("redis://h/"));
	CHECK(refused("redis:///n"));
	CHECK(refused("redis://h:/n"));
	CHECK(refused("redis://h:0/n"));
	CHECK(refused("redis://h:65536/n"));
	CHECK(refused("redis://h:12x/n"));
	CHECK(refused("redis://h/x/n"));
	CHECK(refused("redis://h/1/2/n"));
	CHECK(refused("redis://h/.hidden"));
	CHECK(refused("redis://h/bad name"));
	CHECK(refused("redis://h/-dash"));
	CHECK(refused("redis://[::1/n"));
	CHECK(refused("redis://alice@h/n"));
	CHECK(refused("redis://alice:sekrit@/n"));
	CHECK(refused("redis://alice:sekrit@h:99999/n"));
	CHECK(refused("redis://alice:sek%zzrit@h/n"));
	CHECK(refused("redis://h\x01/n"));
	CHECK(refused("redis:"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "redis://", 8);
	CHECK(refused(big));

	/* redis:NAME takes the server from PKIT_REDIS_URL. */
	unsetenv("PKIT_REDIS_URL");
	CHECK(refused("redis:n"));
	CHECK(why != NULL && strstr(why, "PKIT_REDIS_URL") != NULL);
	setenv("PKIT_REDIS_URL", "redis://bob:sekrit@db.example:6380/5", 1);
	CHECK(ok("redis:n"));
	CHECK(strcmp(u.host, "db.example") == 0 && u.port == 6380 &&
	    u.db == 5 && strcmp(u.name, "n") == 0 &&
	    strcmp(u.pass, "sekrit") == 0 && strcmp(u.shown, "redis:n") == 0);
	setenv("PKIT_REDIS_URL", "redis://h/", 1);
	CHECK(ok("redis:n") && u.db == 0 && u.port == 6379);
	CHECK(refused("redis:a/b"));
	setenv("PKIT_REDIS_URL", "redis://h/1/n", 1);
	CHECK(refused("redis:n"));
	setenv("PKIT_REDIS_URL", "redis://bob:sekrit@h:x", 1);
	CHECK(refused("redis:n"));
	setenv("PKIT_REDIS_URL", "http://h", 1);
	CHECK(refused("redis:n"));

	return unit_end();
}
