/* SPDX-License-Identifier: ISC */
/*
 * queue-redis.c: the queue on a Redis server (redis: names), behind the
 * same API as the shared-memory engine (queue.h): it implements
 * pq_redis_ops (queue-backend.h) and nothing else public.  Tier: an
 * engine never prints or exits; it returns an exit status with the
 * reason in pq_seterr (queue.c), and the tool prints it.
 *
 * Keys, for a queue NAME (the braces keep them in one cluster slot):
 *	pkit:queue:{NAME}	hash: "magic" = "pkit-queue 1", the limits,
 *				closed, unfinished, next_id, bytes, counters
 *	pkit:queue:{NAME}:s	stream, one consumer group "g"; message ID has
 *				stream id "0-ID", its one field "d" the data
 *	pkit:queue:{NAME}:done	zset of ids marked done (the last PQ_IDWIN)
 *	pkit:queue:{NAME}:att	hash: ID -> earlier deliveries not committed
 *	pkit:queue:{NAME}:ev:get, :ev:put, :ev:join
 *				channels: try again (waiters subscribe to one)
 *
 * Every step is one Lua script, atomic on the server.  Put adds (XADD)
 * what fits the count and byte limits and moves "unfinished" in the same
 * script; get first claims (XAUTOCLAIM) leases that were given back or
 * have run out, so they come first, then reads new ones (XREADGROUP);
 * commit acknowledges and deletes (XACK, XDEL), and gives the rest back
 * by setting their idle time past the lease.  A lease is the consumer
 * group's pending entry: no kernel can tell us that a remote taker died,
 * so a lease not renewed for lease_ms is taken to be dead and its
 * messages are delivered again.  Worker mode renews every third of it.
 * Waiters subscribe to the channel, then try again, then sleep on it
 * until the deadline (or, while leases are out, until the soonest could
 * run out; on a Sentinel name, for REDIS_RECHECK_NS at most: sleep_on):
 * no polling.  "bytes" counts every message in the stream,
 * queued or leased, with the same framing as shared memory.
 *
 * A queue removed and made again under its name is another queue (as a
 * new segment is): create stores a random "inc" (its incarnation) in the
 * hash, the handle learns it at open and sends it with every script, and
 * a script run on another incarnation does nothing and says "queue
 * removed", as on a queue that is gone.
 */
#include <sys/random.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dur.h"
#include "exitcode.h"
#include "queue-backend.h"
#include "redis.h"

#define MAGIC		"pkit-queue 1"
#define NKEYS		5
#define EVAL_ARGS	16		/* eval_send's vectors on the stack */
#define PUT_MAX		1024		/* messages per put script */
#define PUT_BYTES	(1024 * 1024)	/* bytes per put script */
#define GET_MAX		512		/* messages per get script */
#define GET_BYTES	"65536"		/* and bytes, framed (PQ_SLOTBUF) */
#define LEASE_DEF_MS	30000
#define IDLE_GONE	"31536000000"	/* ms: a lease given back (a year) */
/*
 * Between a slice (pq_get_slice) cut short by a failover and the next one
 * on the same handle, the pool only settles its tasks and fires timers.
 * A longer gap means it went on without this handle (another took the
 * gets, or every slot ran a task): the span is an earlier failover's.
 */
#define SPAN_GAP_NS	((int64_t)2 * 1000000000)
#define IDLE_BACK_MS	31535000000LL	/* ms: idle that long: given back */
#define IDLE_BACK	"31535000000"	/* the same, for the scripts */
#define NOT_OURS	"its keys hold something else (not pkit's?); refused"

struct pqb {
	struct redis_url u;
	redisContext	*c;		/* commands */
	redisContext	*sub;		/* subscribed to a channel, or NULL */
	const char	*subkind;	/* which: "get", "put" or "join" */
	char		 key[NKEYS][NAME_MAX_LEN + 64];
	char		 consumer[320];
	char		 inc[24];	/* the queue's incarnation; "": any */
	uint32_t	 max_msg;
	int64_t		 lease_ms;
	redisReply	*held;		/* the reply the lease points into */
	struct pq_msg	*lease;
	size_t		 nlease, cap;
	int64_t		 deadline;	/* of the operation under way; 0 none */
	int64_t		 until;		/* retry (failover, WAIT) until then;
					   0: no fault yet (window()) */
	int64_t		 span;		/* a slice's until, kept across slices
					   until a success; 0: none */
	int64_t		 span_cut;	/* when a slice last ended in it */
	int		 slice;		/* the deadline ends a slice only */
	int		 cut;		/* a slice ended a retry: 124 */
	int		 retry;		/* the last failure may pass: again() */
	int		 opening;	/* the open check's reply is unread */
	int		 open_err;	/* what it said, once read */
	/*
	 * commit_args's vectors, kept for the next commit; here, not in
	 * static storage, whose page a one-message get would fault in twice.
	 */
	const char	**cav;
	char		(*cnum)[24];
	size_t		 ccap;
};

/* eval's flags */
#define E_WRITE	1	/* a write: WAIT for the name's replicas after it */
#define E_ONCE	2	/* not idempotent: never sent twice */

/*
 * Every script starts here: KEYS meta s done att ev, ARGV[1] the
 * incarnation the handle opened (eval_send), the script's own arguments
 * after it (the PRELUDE shifts them down to ARGV[1]...).  It checks what
 * the open check does (a pkit hash, and the stream) and does nothing
 * without it: an operation sent with a lazy open's check (pqr_open_lazy)
 * must not run on keys that check refuses.  Nor on a queue made again
 * since the handle opened it: a getter's commit would acknowledge and
 * delete the new queue's messages of the same ids.  The incarnation is
 * "" before the open's reply is read (a lazy open's first operation, sent
 * right behind the check on the same connection), and in the hash of a
 * queue made before there was one.
 */
#define PRELUDE \
"local meta = redis.call('HMGET', KEYS[1], 'magic', 'closed', 'lease_ms',\n" \
"  'max_msgs', 'max_bytes', 'max_msg', 'bytes', 'next_id', 'unfinished',\n" \
"  'inc')\n" \
"if meta[1] ~= '" MAGIC "' then return {-1} end\n" \
"if ARGV[1] ~= '' and ARGV[1] ~= (meta[10] or '') then return {-1} end\n" \
"local argv = {}\n" \
"for i = 2, #ARGV do argv[i - 1] = ARGV[i] end\n" \
"local ARGV = argv\n" \
"if redis.call('TYPE', KEYS[2])['ok'] ~= 'stream' then return {-1} end\n" \
"local function wake(k) redis.call('PUBLISH', KEYS[5] .. ':' .. k, 1) end\n" \
"local function size(n) return 24 + n + (8 - n % 8) % 8 end\n"

/* done_mark(id): 0 marked now, 1 already, 2 never put. */
#define DONE_MARK \
"local function done_mark(id)\n" \
"  id = tonumber(id)\n" \
"  local nx = tonumber(redis.call('HGET', KEYS[1], 'next_id'))\n" \
"  if id == nil or id < 1 or id > nx then return 2 end\n" \
"  if id > nx - 65536 then\n" \
"    if redis.call('ZADD', KEYS[3], 'NX', id, id) == 0 then return 1 end\n" \
"    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', nx - 65536)\n" \
"  end\n" \
"  local u = tonumber(redis.call('HGET', KEYS[1], 'unfinished'))\n" \
"  if u > 0 then redis.call('HINCRBY', KEYS[1], 'unfinished', -1) end\n" \
"  if u <= 1 then wake('join') end\n" \
"  return 0\n" \
"end\n"

/* ARGV inc max_msgs max_bytes max_msg lease_ms exist_ok */
static const char create_lua[] =
"local t = redis.call('TYPE', KEYS[1])['ok']\n"
"if t ~= 'none' then\n"
"  if t == 'hash' and redis.call('HGET', KEYS[1], 'magic') == '" MAGIC "'\n"
"      and redis.call('TYPE', KEYS[2])['ok'] == 'stream' then\n"
"    if ARGV[6] == '1' then return 1 end\n"
"    return -1\n"
"  end\n"
"  return -2\n"
"end\n"
"for i = 2, 4 do\n"
"  if redis.call('EXISTS', KEYS[i]) == 1 then return -2 end\n"
"end\n"
"redis.call('XGROUP', 'CREATE', KEYS[2], 'g', '0-0', 'MKSTREAM')\n"
"redis.call('HSET', KEYS[1], 'max_msgs', ARGV[2], 'max_bytes', ARGV[3],\n"
"  'max_msg', ARGV[4], 'lease_ms', ARGV[5], 'closed', 0, 'unfinished', 0,\n"
"  'inc', ARGV[1], 'next_id', 0, 'bytes', 0, 'puts', 0, 'gets', 0, 'requeues', 0,\n"
"  'dropped', 0, 'recoveries', 0, 'created', redis.call('TIME')[1])\n"
"redis.call('HSET', KEYS[1], 'magic', '" MAGIC "')\n"
"return 0\n";

static const char open_lua[] =
"local t = redis.call('TYPE', KEYS[1])['ok']\n"
"if t == 'none' then return {0} end\n"
"if t ~= 'hash' or redis.call('TYPE', KEYS[2])['ok'] ~= 'stream' then\n"
"  return {-2}\n"
"end\n"
PRELUDE
"return {1, tonumber(meta[6]), tonumber(meta[3]), meta[10] or ''}\n";

/*
 * ARGV msg... : {0, nput} or {-2} closed.  It stops at a message over
 * max_msg too: a put sent with a lazy open's check (pqr_open_lazy) goes
 * before the client knows the limit.
 */
static const char put_lua[] =
PRELUDE
"if meta[2] == '1' then return {-2} end\n"
"local maxm, maxb = tonumber(meta[4]), tonumber(meta[5])\n"
"local bytes, nx = tonumber(meta[7]), tonumber(meta[8])\n"
"local maxmsg = tonumber(meta[6])\n"
"local cnt = redis.call('XLEN', KEYS[2])\n"
"local n = 0\n"
"for i = 1, #ARGV do\n"
"  local sz = size(#ARGV[i])\n"
"  if #ARGV[i] > maxmsg then break end\n"
"  if (maxm > 0 and cnt >= maxm) or bytes + sz > maxb then break end\n"
"  nx = nx + 1\n"
"  redis.call('XADD', KEYS[2], '0-' .. nx, 'd', ARGV[i])\n"
"  cnt, bytes, n = cnt + 1, bytes + sz, n + 1\n"
"end\n"
"if n > 0 then\n"
"  redis.call('HSET', KEYS[1], 'bytes', bytes, 'next_id', nx)\n"
"  redis.call('HINCRBY', KEYS[1], 'unfinished', n)\n"
"  redis.call('HINCRBY', KEYS[1], 'puts', n)\n"
"  wake('get')\n"
"end\n"
"return {0, n}\n";

/*
 * XAUTOCLAIM looks at no more than ten pending entries per message asked
 * for (Redis 7), so a get of one saw only the ten oldest leases: a dead
 * holder's behind ten live ones was never taken back.  The get goes on
 * from the cursor, for at most this many calls (10 * COUNT entries each).
 */
#define AUTOCLAIM_ROUNDS	"100"

/*
 * ARGV consumer max.  {1, id, attempts, data, ...}; {0, wait_ms} nothing
 * now (wait_ms -1: nothing leased, else when a lease could run out);
 * {-3} closed and drained.  An entry whose id is done is dropped, not
 * delivered: a copy given back or run out, whatever its attempts, or a
 * new one marked done by id (pqueue-done ID) before anyone took it.
 * A batch holds GET_BYTES at most, framed as on shared memory, and one
 * message at least: an entry claimed or read past that is given back
 * at once, its attempt not counted (the "r" mark), to be claimed first
 * by the next get.  Claims and reads ask for 8 entries, then twice as
 * many each time, so that few are read only to go back.
 */
static const char get_lua[] =
PRELUDE
"local lease, max = tonumber(meta[3]), tonumber(ARGV[2])\n"
"local out, n, dropped, bytes, full = {1}, 0, 0, 0, false\n"
"local step = 8\n"
"local function want()\n"
"  local c = math.min(max - n, step)\n"
"  step = step * 2\n"
"  return c\n"
"end\n"
"local function take(e, att)\n"
"  local sid, f = e[1], e[2]\n"
"  local id = string.sub(sid, 3)\n"
"  if type(f) ~= 'table' then\n"
"    redis.call('XACK', KEYS[2], 'g', sid)\n"
"    redis.call('HDEL', KEYS[4], id, 'r' .. id)\n"
"  elseif redis.call('ZSCORE', KEYS[3], id) then\n"
"    redis.call('XACK', KEYS[2], 'g', sid)\n"
"    redis.call('XDEL', KEYS[2], sid)\n"
"    redis.call('HDEL', KEYS[4], id, 'r' .. id)\n"
"    redis.call('HINCRBY', KEYS[1], 'bytes', -size(#f[2]))\n"
"    dropped = dropped + 1\n"
"  elseif n > 0 and bytes + size(#f[2]) > " GET_BYTES " then\n"
"    redis.call('XCLAIM', KEYS[2], 'g', ARGV[1], 0, sid, 'IDLE',\n"
"      '" IDLE_GONE "', 'JUSTID')\n"
"    redis.call('HSET', KEYS[4], 'r' .. id, 1)\n"
"    full = true\n"
"  else\n"
"    out[#out + 1] = id\n"
"    out[#out + 1] = att\n"
"    out[#out + 1] = f[2]\n"
"    n, bytes = n + 1, bytes + size(#f[2])\n"
"  end\n"
"end\n"
"local cursor, rounds = '0-0', 0\n"
"repeat\n"
"  local c = redis.call('XAUTOCLAIM', KEYS[2], 'g', ARGV[1], lease,\n"
"    cursor, 'COUNT', want())\n"
"  for _, e in ipairs(c[2]) do\n"
"    local id = string.sub(e[1], 3)\n"
"    local a\n"
"    if redis.call('HDEL', KEYS[4], 'r' .. id) == 1 then\n"
"      a = tonumber(redis.call('HGET', KEYS[4], id) or 0)\n"
"    else\n"
"      a = redis.call('HINCRBY', KEYS[4], id, 1)\n"
"      redis.call('HINCRBY', KEYS[1], 'requeues', 1)\n"
"      redis.call('HINCRBY', KEYS[1], 'recoveries', 1)\n"
"    end\n"
"    take(e, a)\n"
"  end\n"
"  cursor, rounds = c[1], rounds + 1\n"
"until cursor == '0-0' or n >= max or full or\n"
"  rounds >= " AUTOCLAIM_ROUNDS "\n"
"while n < max and not full do\n"
"  local c = want()\n"
"  local r = redis.call('XREADGROUP', 'GROUP', 'g', ARGV[1], 'COUNT', c,\n"
"    'STREAMS', KEYS[2], '>')\n"
"  if not r then break end\n"
"  for _, e in ipairs(r[1][2]) do take(e, 0) end\n"
"  if #r[1][2] < c then break end\n"
"end\n"
"if dropped > 0 then\n"
"  redis.call('HINCRBY', KEYS[1], 'dropped', dropped)\n"
"  wake('put')\n"
"end\n"
"if full then wake('get') end\n"
"if n > 0 then return out end\n"
"if meta[2] == '1' and redis.call('XLEN', KEYS[2]) == 0 then\n"
"  return {-3}\n"
"end\n"
"local p = redis.call('XPENDING', KEYS[2], 'g', '-', '+', 100)\n"
"if #p == 0 then\n"
"  for _, cs in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[2], 'g')) do\n"
"    local name, pend, idle\n"
"    for i = 1, #cs, 2 do\n"
"      if cs[i] == 'name' then name = cs[i + 1]\n"
"      elseif cs[i] == 'pending' then pend = cs[i + 1]\n"
"      elseif cs[i] == 'idle' then idle = cs[i + 1] end\n"
"    end\n"
"    if pend == 0 and idle > 60000 and name ~= ARGV[1] then\n"
"      redis.call('XGROUP', 'DELCONSUMER', KEYS[2], 'g', name)\n"
"    end\n"
"  end\n"
"  return {0, -1}\n"
"end\n"
"local idle = 0\n"
"for _, e in ipairs(p) do\n"
"  if e[3] > idle then idle = e[3] end\n"
"end\n"
"local w = lease - idle\n"
"if w < 1 then w = 1 end\n"
"return {0, w}\n";

/*
 * ARGV consumer ncommit flags, then id len for each message of the lease:
 * the first ncommit are acknowledged, the rest given back, attempts+1
 * unless flags has 2 (PQ_NOCOUNT); 1 (PQ_DONE) marks the first done.  {0}.
 * Only entries still pending to us are acknowledged and deleted: one not
 * pending was acknowledged already (this commit sent again), and one
 * pending to another consumer was taken back when our lease ran out and
 * is that consumer's to commit.  Sent again (its reply lost in a
 * failover), it changes nothing more: an entry still ours but idle past
 * IDLE_BACK was given back by the first, and its attempt is not counted
 * twice.
 */
static const char commit_lua[] =
PRELUDE
DONE_MARK
"local k, fl = tonumber(ARGV[2]), tonumber(ARGV[3])\n"
"local acked, freed, back = 0, 0, 0\n"
"local sids, ids = {}, {}\n"
"for i = 4, 3 + 2 * k, 2 do\n"
"  sids[#sids + 1] = '0-' .. ARGV[i]\n"
"  ids[#ids + 1] = ARGV[i]\n"
"end\n"
"if k > 0 then\n"
"  local lo, hi, mine, ours, oids = 1, 1, {}, {}, {}\n"
"  for i = 2, k do\n"
"    if tonumber(ids[i]) < tonumber(ids[lo]) then lo = i end\n"
"    if tonumber(ids[i]) > tonumber(ids[hi]) then hi = i end\n"
"  end\n"
"  for _, e in ipairs(redis.call('XPENDING', KEYS[2], 'g', sids[lo],\n"
"      sids[hi], tonumber(ids[hi]) - tonumber(ids[lo]) + 1, ARGV[1])) do\n"
"    mine[e[1]] = true\n"
"  end\n"
"  for i = 1, k do\n"
"    if mine[sids[i]] then\n"
"      ours[#ours + 1], oids[#oids + 1] = sids[i], ids[i]\n"
"      freed = freed + size(tonumber(ARGV[3 + 2 * i]))\n"
"    end\n"
"  end\n"
"  if #ours > 0 then\n"
"    redis.call('HDEL', KEYS[4], unpack(oids))\n"
"    redis.call('XACK', KEYS[2], 'g', unpack(ours))\n"
"    acked = redis.call('XDEL', KEYS[2], unpack(ours))\n"
"  end\n"
"end\n"
"for i = 4 + 2 * k, #ARGV, 2 do\n"
"  local id, sid = ARGV[i], '0-' .. ARGV[i]\n"
"  do\n"
"    local p = redis.call('XPENDING', KEYS[2], 'g', sid, sid, 1, ARGV[1])\n"
"    if #p == 1 and p[1][3] < " IDLE_BACK " then\n"
"      redis.call('XCLAIM', KEYS[2], 'g', ARGV[1], 0, sid, 'IDLE',\n"
"        '" IDLE_GONE "', 'JUSTID')\n"
"      if fl < 2 then redis.call('HINCRBY', KEYS[4], id, 1) end\n"
"      redis.call('HSET', KEYS[4], 'r' .. id, 1)\n"
"      back = back + 1\n"
"    end\n"
"  end\n"
"end\n"
"if acked > 0 then\n"
"  redis.call('HINCRBY', KEYS[1], 'bytes', -freed)\n"
"  redis.call('HINCRBY', KEYS[1], 'gets', acked)\n"
"end\n"
"if fl % 2 == 1 and k >= 1 then done_mark(ARGV[4]) end\n"
"if acked > 0 then wake('put') end\n"
"if back > 0 then redis.call('HINCRBY', KEYS[1], 'requeues', back) end\n"
"if back > 0 or (acked > 0 and meta[2] == '1') then wake('get') end\n"
"return {0}\n";

/* ARGV consumer id...: renew our leases of these ids.  {0}. */
static const char renew_lua[] =
PRELUDE
"for i = 2, #ARGV do\n"
"  local sid = '0-' .. ARGV[i]\n"
"  local p = redis.call('XPENDING', KEYS[2], 'g', sid, sid, 1, ARGV[1])\n"
"  if #p == 1 then\n"
"    redis.call('XCLAIM', KEYS[2], 'g', ARGV[1], 0, sid, 'JUSTID')\n"
"  end\n"
"end\n"
"return {0}\n";

static const char close_lua[] =
PRELUDE
"redis.call('HSET', KEYS[1], 'closed', 1)\n"
"wake('get')\n"
"wake('put')\n"
"wake('join')\n"
"return {0}\n";

/* ARGV count: {0} or {1} too many (unfinished left at 0). */
static const char done_lua[] =
PRELUDE
"local u, c = tonumber(meta[9]), tonumber(ARGV[1])\n"
"local r = 0\n"
"if c > u then c, r = u, 1 end\n"
"if c > 0 then redis.call('HINCRBY', KEYS[1], 'unfinished', -c) end\n"
"if u - c == 0 then wake('join') end\n"
"return {r}\n";

/* ARGV id: {0 marked now | 1 already | 2 never put} */
static const char done_id_lua[] =
PRELUDE
DONE_MARK
"return {done_mark(ARGV[1])}\n";

static const char join_lua[] =
PRELUDE
"return {0, tonumber(meta[9])}\n";

/* {0, meta..., xlen, pending entries} */
static const char stat_lua[] =
PRELUDE
"local m = redis.call('HGETALL', KEYS[1])\n"
"local p = redis.call('XPENDING', KEYS[2], 'g', '-', '+', 1000)\n"
"local back = #redis.call('XPENDING', KEYS[2], 'g', 'IDLE', " IDLE_BACK ",\n"
"  '-', '+', 1000)\n"
"local att = {}\n"
"for _, e in ipairs(p) do\n"
"  att[#att + 1] = tonumber(redis.call('HGET', KEYS[4],\n"
"    string.sub(e[1], 3)) or 0)\n"
"end\n"
"return {0, m, redis.call('XLEN', KEYS[2]), p, att,\n"
"  redis.call('PUBSUB', 'NUMSUB', KEYS[5] .. ':get', KEYS[5] .. ':put',\n"
"    KEYS[5] .. ':join'), redis.call('XPENDING', KEYS[2], 'g')[1], back}\n";

/*
 * ARGV max preview: {0, {{id, attempts, len, preview, consumer or ""},
 * ...}}: the stream in id order; a pending entry not given back (idle
 * under IDLE_BACK) is leased, its consumer named.
 */
static const char peek_lua[] =
PRELUDE
"local max = tonumber(ARGV[1])\n"
"local pend = {}\n"
"for _, e in ipairs(redis.call('XPENDING', KEYS[2], 'g', '-', '+', max)) do\n"
"  if e[3] < " IDLE_BACK " then pend[e[1]] = e[2] end\n"
"end\n"
"local out = {}\n"
"for _, e in ipairs(redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', max)) do\n"
"  local id = string.sub(e[1], 3)\n"
"  local d = e[2][2]\n"
"  out[#out + 1] = {id, tonumber(redis.call('HGET', KEYS[4], id) or 0),\n"
"    string.len(d), string.sub(d, 1, tonumber(ARGV[2])), pend[e[1]] or ''}\n"
"end\n"
"return {0, out}\n";

/* {0} no such queue, {-2} not ours, {1} removed */
static const char remove_lua[] =
"local t = redis.call('TYPE', KEYS[1])['ok']\n"
"if t == 'none' then return {0} end\n"
"if t ~= 'hash' or redis.call('HGET', KEYS[1], 'magic') ~= '" MAGIC "' then\n"
"  return {-2}\n"
"end\n"
"redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])\n"
"for _, k in ipairs({':get', ':put', ':join'}) do\n"
"  redis.call('PUBLISH', KEYS[5] .. k, 1)\n"
"end\n"
"return {1}\n";

static int	 setup(const char *, struct pqb *);
static redisReply *eval(struct pqb *, const char *, size_t, const char **,
		    const size_t *, int *, int);
static int	 again(struct pqb *, int);
static int	 replicated(struct pqb *, int *);
static void	 arm(struct pqb *, int64_t);
static int	 retry_ends(struct pqb *);
static int	 get(struct pqb *, size_t, int64_t, int, const struct pq_msg **,
		    size_t *);
static int	 commit_args(struct pqb *, size_t, int, const char ***,
		    size_t *);
static int	 commit_sync(struct pqb *, size_t, int);
static int	 remake(struct pqb *);
static void	 conn_swap(struct pqb *, redisContext *);
static int	 eval_send(struct pqb *, const char *, size_t, const char **,
		    const size_t *);
static redisReply *eval_recv(struct pqb *, int *);
static int	 commit_send(struct pqb *, size_t, int);
static int	 commit_recv(struct pqb *);
static int	 status_of(struct pqb *, redisReply *, int *);
static int	 check_open(struct pqb *);
static int	 open_send(struct pqb *);
static int	 open_recv(struct pqb *);
static int	 opened(struct pqb *);
static void	 discard_reply(struct pqb *);
static void	 drop(struct pqb *);
static int	 call(struct pqb *, const char *, size_t, const char **,
		    int *, int);
static int	 settle(struct pqb *, redisReply *, int *);
static int	 subscribe(struct pqb *, const char *);
static int	 sleep_on(struct pqb *, const char *, int64_t, int64_t);
static int	 timed_out(int64_t);
static int	 lease_drop(struct pqb *);
static long long int_at(const redisReply *, size_t);

static const char *
pqr_name(const struct pqb *q)
{
	return q->u.shown;
}

static uint32_t
pqr_max_msg(const struct pqb *q)
{
	/* A lazy open learns the limit here (an error: later calls say it). */
	opened((struct pqb *)q);
	return q->max_msg;
}

/* Parse the name, connect, and make the keys and our consumer name. */
static int
setup(const char *name, struct pqb *q)
{
	const char *why;
	char host[256];
	unsigned char rnd[4];
	size_t i;
	int e;
	static const char *suffix[NKEYS] = { "", ":s", ":done", ":att",
	    ":ev" };

	memset(q, 0, sizeof(*q));
	/*
	 * A dropped connection must be an error we report (125, one line),
	 * not our death by SIGPIPE in a write of hiredis.  A command a tool
	 * runs gets SIGPIPE back (pqworker, lib/spawn); pqueue-get ignores
	 * it already and dies of it itself when stdout goes.
	 */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Named as given, its password masked (u.shown is filled even when
	 * the parse fails); a PKIT_REDIS_URL at fault is the environment's
	 * problem, not the name's.
	 */
	if (redis_url_parse(name, &q->u, &why) != 0)
		return pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "%s%s",
		    strncmp(why, "PKIT_REDIS_URL", 14) == 0 ? "" :
		    "bad queue name: ", why);
	for (i = 0; i < NKEYS; i++)
		snprintf(q->key[i], sizeof(q->key[i]), "pkit:queue:{%s}%s",
		    q->u.name, suffix[i]);
	if (gethostname(host, sizeof(host)) == -1)
		strlcpy(host, "?", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	/*
	 * getrandom, not arc4random: a process needs four bytes once, and
	 * arc4random's set-up (its state mapping, lock and fork handler)
	 * cost each process six page faults.  Early in boot, before the
	 * pool is ready, arc4random is the fallback.
	 */
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		arc4random_buf(rnd, sizeof(rnd));
	snprintf(q->consumer, sizeof(q->consumer), "%ld@%s.%02x%02x%02x%02x",
	    (long)getpid(), host, rnd[0], rnd[1], rnd[2], rnd[3]);
	/* A failover met by the open (here, or its check) is waited out
	 * until the caller's deadline if it gave one (pq_open_deadline). */
	arm(q, pq_open_by);
	if ((q->c = redis_connect(&q->u, &why)) == NULL) {
		q->retry = 1;
		e = pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "%s", why);
		if (!again(q, 0))
			return e;
	}
	return 0;
}

static int
pqr_create(const char *name, const struct pq_config *cfg, int flags,
    struct pqb **qp)
{
	struct pq_config def = { 0, PQ_DEFBYTES, 0, 0600, 0 };
	struct pqb *q;
	redisReply *r;
	char a[5][32];
	const char *av[5];
	unsigned char rnd[8];
	uint64_t cap;
	int64_t ns;
	int st, e;

	if (cfg == NULL)
		cfg = &def;
	if ((q = malloc(sizeof(*q))) == NULL)
		return pq_seterr("pqueue", PKIT_EXIT_FAIL, "out of memory");
	if ((e = setup(name, q)) != 0)
		goto fail;
	e = PKIT_EXIT_FAIL;
	if (cfg->lifo) {
		pq_seterr(q->u.shown, e, "LIFO queues are not supported on "
		    "redis (a stream is read in order)");
		goto fail;
	}
	if (cfg->mode != 0600) {
		pq_seterr(q->u.shown, e, "a mode has no meaning on redis "
		    "(its ACLs decide who may use the queue)");
		goto fail;
	}
	if (cfg->max_bytes < PQ_MINBYTES || cfg->max_bytes > PQ_MAXBYTES) {
		pq_seterr(q->u.shown, e, "size %llu out of range (%d..%llu "
		    "bytes)", (unsigned long long)cfg->max_bytes, PQ_MINBYTES,
		    (unsigned long long)PQ_MAXBYTES);
		goto fail;
	}
	cap = (cfg->max_bytes + 7) & ~(uint64_t)7;
	q->max_msg = (uint32_t)((cap < PQ_SLOTBUF ? cap : PQ_SLOTBUF) -
	    PQ_FRAMING);
	ns = cfg->lease_ns;
	if (ns == 0 && redis_lease_env("PKIT_QUEUE_LEASE", &ns) == -1) {
		pq_seterr(q->u.shown, e, "bad PKIT_QUEUE_LEASE (100ms to 1 "
		    "day)");
		goto fail;
	}
	q->lease_ms = ns > 0 ? ns / 1000000 : LEASE_DEF_MS;
	snprintf(a[0], sizeof(a[0]), "%" PRIu64, cfg->max_msgs);
	snprintf(a[1], sizeof(a[1]), "%" PRIu64, cap);
	snprintf(a[2], sizeof(a[2]), "%" PRIu32, q->max_msg);
	snprintf(a[3], sizeof(a[3]), "%" PRId64, q->lease_ms);
	snprintf(a[4], sizeof(a[4]), "%d", (flags & PQ_EXIST_OK) != 0);
	for (e = 0; e < 5; e++)
		av[e] = a[e];
	/* The new queue's incarnation goes as the script's ARGV[1]. */
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		arc4random_buf(rnd, sizeof(rnd));
	for (e = 0; e < (int)sizeof(rnd); e++)
		snprintf(q->inc + 2 * e, 3, "%02x", rnd[e]);
	e = PKIT_EXIT_FAIL;
	if ((r = eval(q, create_lua, 5, av, NULL, &e, E_WRITE | E_ONCE)) == NULL)
		goto fail;
	st = (int)r->integer;
	freeReplyObject(r);
	if (st == -1) {
		pq_seterr(q->u.shown, e, "queue exists");
		goto fail;
	}
	if (st == -2) {
		pq_seterr(q->u.shown, e, NOT_OURS);
		goto fail;
	}
	/* -p on an existing queue: open it as it is, on this connection. */
	if (st == 1 && qp != NULL && (e = check_open(q)) != 0)
		goto fail;
	if (qp == NULL) {
		drop(q);
		return 0;
	}
	*qp = q;
	return 0;
fail:
	drop(q);
	return e;
}

static int
pqr_open(const char *name, struct pqb **qp)
{
	struct pqb *q;
	int e;

	if ((q = malloc(sizeof(*q))) == NULL)
		return pq_seterr("pqueue", PKIT_EXIT_FAIL, "out of memory");
	if ((e = setup(name, q)) != 0 || (e = check_open(q)) != 0) {
		drop(q);
		return e;
	}
	*qp = q;
	return 0;
}

/*
 * pq_open_lazy: connect and send the open check, but read its reply only
 * with the first operation's, one round trip for both: a single put or
 * get is then one trip (two for a get and its commit), not two.  Every
 * script begins with the check of the magic and does nothing without it,
 * so the operation sent with a failed check changes nothing; its error
 * is the open's, as pq_open would have said it.
 */
static int
pqr_open_lazy(const char *name, struct pqb **qp)
{
	struct pqb *q;
	int e;

	if ((q = malloc(sizeof(*q))) == NULL)
		return pq_seterr("pqueue", PKIT_EXIT_FAIL, "out of memory");
	if ((e = setup(name, q)) != 0) {
		drop(q);
		return e;
	}
	/*
	 * A Sentinel name or ?replicas=N opens now: its retries and its WAIT
	 * go through eval(), one reply at a time.
	 */
	if (q->u.nsentinel > 0 || q->u.replicas > 0)
		e = check_open(q);
	else if ((e = open_send(q)) == 0)
		q->opening = 1;
	if (e != 0) {
		drop(q);
		return e;
	}
	*qp = q;
	return 0;
}

/*
 * Read and drop the next reply, leaving pq_error() as it is (the reply to
 * an operation sent with an open check that failed).
 */
static void
discard_reply(struct pqb *q)
{
	redisReply *r = NULL;

	if (redisGetReply(q->c, (void **)&r) == REDIS_OK && r != NULL)
		freeReplyObject(r);
}

/* Read the lazy open's reply if still unread: 0, or the open's error. */
static int
opened(struct pqb *q)
{
	if (q->opening) {
		q->opening = 0;
		q->open_err = open_recv(q);
	}
	return q->open_err;
}

/* Check that q's keys hold a pkit queue, and learn its limits. */
static int
check_open(struct pqb *q)
{
	int e, attempt;

	/* On a Sentinel name, a failover is waited out (eval). */
	for (attempt = 0;; attempt++) {
		q->retry = 0;
		if ((e = open_send(q)) != 0)
			return e;
		if ((e = open_recv(q)) == 0 || !again(q, attempt))
			return e;
	}
}

static int
open_send(struct pqb *q)
{
	q->inc[0] = '\0';	/* any: the check learns which */
	return eval_send(q, open_lua, 0, NULL, NULL);
}

static int
open_recv(struct pqb *q)
{
	redisReply *r;
	long long st;
	int e = PKIT_EXIT_FAIL;

	if ((r = eval_recv(q, &e)) == NULL)
		return e;
	st = r->type == REDIS_REPLY_ARRAY && r->elements >= 1 ?
	    int_at(r, 0) : -3;
	q->max_msg = (uint32_t)int_at(r, 1);
	q->lease_ms = int_at(r, 2);
	if (r->type == REDIS_REPLY_ARRAY && r->elements >= 4 &&
	    r->element[3]->type == REDIS_REPLY_STRING &&
	    r->element[3]->len < sizeof(q->inc))
		memcpy(q->inc, r->element[3]->str, r->element[3]->len + 1);
	else if (st == 1)
		st = -3;
	freeReplyObject(r);
	if (st == 0)
		return pq_seterr(q->u.shown, e, "no such queue");
	if (st == -3)
		return pq_seterr(q->u.shown, e,
		    "unexpected reply from the server");
	if (st != 1)
		return pq_seterr(q->u.shown, e, NOT_OURS);
	if (q->max_msg == 0 || q->max_msg > PQ_MAXMSG || q->lease_ms < 1)
		return pq_seterr(q->u.shown, e, "corrupt queue (bad limits); "
		    "refused");
	return 0;
}

/* Close q's connections and free it. */
static void
drop(struct pqb *q)
{
	if (q->c != NULL)
		redisFree(q->c);
	if (q->sub != NULL)
		redisFree(q->sub);
	free(q->cav);
	free(q->cnum);
	free(q);
}

static int
pqr_remove(const char *name)
{
	struct pqb q;
	redisReply *r;
	int e = PKIT_EXIT_FAIL;
	long long st;

	if ((e = setup(name, &q)) != 0)
		return e;
	e = PKIT_EXIT_FAIL;
	r = eval(&q, remove_lua, 0, NULL, NULL, &e, E_WRITE | E_ONCE);
	redisFree(q.c);
	if (r == NULL)
		return e;
	st = r->type == REDIS_REPLY_ARRAY ? int_at(r, 0) : -2;
	freeReplyObject(r);
	if (st == 0)
		return pq_seterr(q.u.shown, e, "no such queue");
	if (st != 1)
		return pq_seterr(q.u.shown, e, NOT_OURS);
	return 0;
}

/*
 * EVAL script on q's keys with n arguments (lens NULL: C strings).  NULL
 * with pq_error() set (and *code) on a lost connection or an error reply.
 * On a Sentinel name a failure that may pass (lost connection, READONLY,
 * MASTERDOWN, LOADING) is tried again on the current master until
 * window(); E_ONCE never sends twice what may have run (only a refusal is
 * tried again; a script that replied has run, so a WAIT lost after it is
 * an error, not a reason to send it again).  E_WRITE: the reply is
 * returned only once WAIT has confirmed the name's replicas (a lost WAIT
 * sends the write again: a put may then be stored twice, never lost).
 */
static redisReply *
eval(struct pqb *q, const char *script, size_t n, const char **args,
    const size_t *lens, int *code, int flags)
{
	redisReply *r;
	int e, attempt = 0;

	if ((e = opened(q)) != 0) {
		*code = e;
		return NULL;
	}
	for (;; attempt++) {
		if ((e = eval_send(q, script, n, args, lens)) != 0) {
			/* Nothing was sent: even E_ONCE may go again. */
			*code = e;
			if (!again(q, attempt))
				return NULL;
			continue;
		}
		if ((r = eval_recv(q, code)) != NULL) {
			if (!(flags & E_WRITE) ||
			    (e = replicated(q, code)) == 0) {
				/* The next fault starts anew. */
				q->until = q->span = 0;
				return r;
			}
			freeReplyObject(r);
			if (e == 1 || (flags & E_ONCE))
				return NULL;	/* pq_error() says why */
		} else if ((flags & E_ONCE) && q->c->err != 0)
			return NULL;
		if (!again(q, attempt))
			return NULL;
	}
}

/*
 * An operation with this deadline starts: no fault seen yet (but a
 * slice's span goes on: pq_get_slice).
 */
static void
arm(struct pqb *q, int64_t deadline)
{
	q->deadline = deadline == PQ_FOREVER ? 0 : deadline;
	q->until = 0;
	q->slice = q->cut = 0;
}

/*
 * Until when a fault is tried again: the operation's deadline, or
 * REDIS_RETRY_NS from the first fault seen since the last success.  Not
 * from the start of the operation: a worker may have waited for hours in
 * one get when the failover comes, and deserves the whole window.  A
 * slice's deadline is not the wait's (retry_ends): its window is that of
 * a get without one, from the first fault of the slices before it.
 */
static int64_t
window(struct pqb *q)
{
	if (q->until == 0 && q->slice) {
		if (q->span == 0)
			q->span = redis_retry_deadline(0);
		q->until = q->span;
	} else if (q->until == 0)
		q->until = redis_retry_deadline(q->deadline);
	return q->until;
}

/*
 * Whether a fault is tried no more: a signal, or window() is over; or
 * the slice is (pq_get_slice), which ends this try without ending the
 * wait: q->cut, and the get says 124 for its caller to come again.
 */
static int
retry_ends(struct pqb *q)
{
	int64_t now = mono_now();

	if (pq_signalled() || now >= window(q))
		return 1;
	if (q->slice && q->deadline > 0 && now >= q->deadline) {
		q->span_cut = now;
		return q->cut = 1;
	}
	return 0;
}

/*
 * After a failure that may pass (q->retry) on a Sentinel name, before
 * window(): a new connection to the master of now (asked of the
 * sentinels again until one answers).  1 to try again, 0 not (the error
 * stays set, and so does the old connection: q->c is never NULL).
 */
static int
again(struct pqb *q, int attempt)
{
	redisContext *c;
	const char *why;
	int n = 0;

	if (!q->retry || q->u.nsentinel == 0)
		return 0;
	for (;; n++) {
		if (retry_ends(q))
			return 0;
		redis_backoff(attempt + n);
		if ((c = redis_connect(&q->u, &why)) != NULL)
			break;
		pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "%s", why);
	}
	conn_swap(q, c);
	return 1;
}

/* c in place of q->c; the subscription is made again when next needed. */
static void
conn_swap(struct pqb *q, redisContext *c)
{
	redisFree(q->c);
	q->c = c;
	if (q->sub != NULL) {
		redisFree(q->sub);
		q->sub = NULL;
	}
}

/*
 * WAIT for the name's replicas, again while they fall short, until
 * window().  0 confirmed; 1 short at the deadline (125, said); -1 the
 * connection failed (q->retry set: send the write again).
 */
static int
replicated(struct pqb *q, int *code)
{
	const char *why;
	int64_t left;
	int rc;

	for (;;) {
		left = (window(q) - mono_now()) / 1000000;
		rc = redis_wait(q->c, &q->u, left < 1 ? 1 : left > 1000 ?
		    1000 : left, &why);
		if (rc == 0)
			return 0;
		if (rc == -1) {
			q->retry = redis_failed_retryable();
			*code = pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "%s", why);
			return -1;
		}
		if (left <= 1 || pq_signalled()) {
			*code = pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "%s", why);
			return 1;
		}
	}
}

/* Queue an EVAL on q's connection (sent with the next reply awaited). */
static int
eval_send(struct pqb *q, const char *script, size_t n, const char **args,
    const size_t *lens)
{
	/*
	 * The argument vectors: on the stack for the usual few arguments
	 * (static storage would cost a process two page faults, a read of
	 * bss's zero page and then a write); a batch's on the heap.
	 */
	const char *sav[EVAL_ARGS], **av = sav;
	size_t sal[EVAL_ARGS], *al = sal;
	size_t i, k = 0;
	int e = 0;
	struct pollfd pfd;

	q->retry = 0;

	/*
	 * The first command of an exchange (nothing buffered, no reply of a
	 * lazy open due): if the server has closed the connection while it
	 * sat idle (its `timeout`, a proxy's), make a new one first.  The
	 * command has not been sent, so nothing goes twice; a `pqueue-get
	 * -f` woken after a long wait would otherwise fail on it.  One poll
	 * per exchange.
	 */
	if (!q->opening && (q->c->obuf == NULL || q->c->obuf[0] == '\0')) {
		pfd.fd = q->c->fd;
		pfd.events = POLLRDHUP;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) == 1 &&
		    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) &&
		    (e = remake(q)) != 0) {
			q->retry = 1;	/* no master yet: a failover (again) */
			return e;
		}
	}
	if (n + 4 + NKEYS > EVAL_ARGS &&
	    ((av = calloc(n + 4 + NKEYS, sizeof(*av))) == NULL ||
	    (al = calloc(n + 4 + NKEYS, sizeof(*al))) == NULL)) {
		free(av);
		return pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "out of memory");
	}
	av[k] = "EVAL", al[k++] = 4;
	av[k] = script, al[k++] = strlen(script);
	av[k] = "5", al[k++] = 1;
	for (i = 0; i < NKEYS; i++)
		av[k] = q->key[i], al[k++] = strlen(q->key[i]);
	av[k] = q->inc, al[k++] = strlen(q->inc);	/* the PRELUDE's */
	for (i = 0; i < n; i++)
		av[k] = args[i], al[k++] = lens != NULL ? lens[i] :
		    strlen(args[i]);
	if (redisAppendCommandArgv(q->c, (int)k, av, al) != REDIS_OK)
		e = pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "%s",
		    redis_why(q->c, NULL));
	if (av != sav) {
		free(av);
		free(al);
	}
	return e;
}

/* The reply to the oldest EVAL sent, as eval. */
static redisReply *
eval_recv(struct pqb *q, int *code)
{
	redisReply *r = NULL;

	if (redisGetReply(q->c, (void **)&r) != REDIS_OK)
		r = NULL;
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		q->retry = redis_retryable(q->c, r);
		*code = pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "%s",
		    redis_why(q->c, r));
		if (r != NULL)
			freeReplyObject(r);
		return NULL;
	}
	return r;
}

/*
 * The first element of a script's reply: -1 (the queue is gone) becomes
 * 125 "queue removed"; otherwise *st is set and 0 returned.
 */
static int
status_of(struct pqb *q, redisReply *r, int *st)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		return pq_seterr(q->u.shown, PKIT_EXIT_FAIL,
		    "unexpected reply from the server");
	}
	*st = (int)r->element[0]->integer;
	if (*st == -1) {
		freeReplyObject(r);
		return pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "queue removed");
	}
	return 0;
}

/* A script whose reply is only its status: *st, the reply freed. */
static int
call(struct pqb *q, const char *script, size_t n, const char **args,
    int *st, int flags)
{
	redisReply *r;
	int e;

	if ((r = eval(q, script, n, args, NULL, &e, flags)) == NULL)
		return e;
	return settle(q, r, st);
}

/* status_of, then free the reply. */
static int
settle(struct pqb *q, redisReply *r, int *st)
{
	int e;

	if ((e = status_of(q, r, st)) != 0)
		return e;
	freeReplyObject(r);
	return 0;
}

static long long
int_at(const redisReply *r, size_t i)
{
	const redisReply *e;

	if (r->type != REDIS_REPLY_ARRAY || i >= r->elements)
		return 0;
	e = r->element[i];
	if (e->type == REDIS_REPLY_INTEGER)
		return e->integer;
	if (e->type == REDIS_REPLY_STRING)
		return strtoll(e->str, NULL, 10);
	return 0;
}

/*
 * Subscribe to the queue's channel for waiters of this kind (a second
 * connection): the subscription is how pqueue-stat counts waiters, and
 * the server drops it when the process dies.
 */
static int
subscribe(struct pqb *q, const char *kind)
{
	redisReply *r;
	const char *av[2], *why;
	char ch[sizeof(q->key[4]) + 8];
	int n;

	if (q->sub != NULL)
		redisFree(q->sub);
	q->subkind = kind;
	snprintf(ch, sizeof(ch), "%s:%s", q->key[4], kind);
	av[0] = "SUBSCRIBE";
	av[1] = ch;
	/* On a Sentinel name, wait out a failover until window(). */
	for (n = 0;; n++) {
		if ((q->sub = redis_connect(&q->u, &why)) != NULL) {
			if ((r = redis_run(q->sub, 2, av, &why)) != NULL)
				break;
			redisFree(q->sub);
			q->sub = NULL;
		}
		if (q->u.nsentinel == 0 || retry_ends(q))
			return pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "%s", why);
		redis_backoff(n);
	}
	freeReplyObject(r);
	return 0;
}

static int
timed_out(int64_t deadline)
{
	return deadline != PQ_FOREVER && mono_now() >= deadline;
}

/*
 * Sleep until something is published on the channel, deadline, or
 * recheck_ms (-1: none) pass.  0 (try again), or 128+N for a signal.  A
 * subscription the server dropped (e.g. its output buffer overflowed
 * while we were busy) is made again: the caller then tries again before
 * sleeping, so nothing published in between is missed.  On a Sentinel
 * name the sleep ends every REDIS_RECHECK_NS to ask the sentinels where
 * the master is: a waiter on a master they have replaced, which still
 * answers PING and never hears the new one, moves there (again(), whose
 * conn_swap drops the subscription) and tries again, instead of waiting
 * for ever.
 */
static int
sleep_on(struct pqb *q, const char *kind, int64_t deadline,
    int64_t recheck_ms)
{
	redisReply *r;
	const char *why;
	int64_t ms = recheck_ms, left, every = REDIS_RECHECK_NS / 1000000;
	int woke = 0, n, check = 0;

	if (q->sub == NULL || strcmp(q->subkind, kind) != 0)
		return subscribe(q, kind);
	while (redisGetReplyFromReader(q->sub, (void **)&r) == REDIS_OK &&
	    r != NULL) {
		freeReplyObject(r);
		woke = 1;
	}
	if (woke)
		return 0;
	if (deadline != PQ_FOREVER) {
		left = (deadline - mono_now() + 999999) / 1000000;
		if (left < 0)
			left = 0;
		if (ms < 0 || left < ms)
			ms = left;
	}
	if (q->u.nsentinel > 0 && (ms < 0 || ms > every)) {
		ms = every;
		check = 1;
	}
	/* A silent server is noticed within 8 s (redis_sub_wait). */
	n = redis_sub_wait(q->sub, ms, &why);
	if (n == -1 && errno == EINTR)
		return pq_signalled() ? 128 + pq_signalled() : 0;
	if (n == -1 && errno == ETIMEDOUT)
		return pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "%s", why);
	if (n == -1)
		return subscribe(q, kind);
	if (n == 0 && check && redis_moved(q->c, &q->u)) {
		q->retry = 1;
		if (!again(q, 0))
			return pq_signalled() ? 128 + pq_signalled() :
			    PKIT_EXIT_FAIL;	/* pq_error(): the last try */
	}
	return 0;
}

static int
pqr_put(struct pqb *q, const char *const *msgs, const size_t *lens,
    size_t n, size_t *nput, int64_t deadline)
{
	redisReply *r;
	size_t ok, batch, bytes;
	int e, st, got, lazy;

	*nput = 0;
	if (q->open_err != 0)
		return q->open_err;
	arm(q, deadline);
	/*
	 * Messages over the limit are refused; those before it are put.
	 * Before a lazy open's reply the limit is not known: the first
	 * script goes with it, bounded by the largest limit there is, and
	 * stops itself at a message over the queue's own.
	 */
	lazy = q->opening;
	for (ok = 0; ok < n && lens[ok] <= (lazy ? PQ_MAXMSG : q->max_msg);
	    ok++)
		;
	while (*nput < ok) {
		bytes = 0;
		for (batch = 0; *nput + batch < ok && batch < PUT_MAX &&
		    (batch == 0 || bytes + lens[*nput + batch] <= PUT_BYTES);
		    batch++)
			bytes += lens[*nput + batch];
		if (lazy) {
			/* (Only on a plain name: pqr_open_lazy.) */
			lazy = 0;
			if ((e = eval_send(q, put_lua, batch,
			    (const char **)msgs + *nput, lens + *nput)) != 0)
				return e;
			if ((e = opened(q)) != 0) {
				discard_reply(q);
				return e;
			}
			for (ok = 0; ok < n && lens[ok] <= q->max_msg; ok++)
				;
			if ((r = eval_recv(q, &e)) == NULL)
				return e;
		} else if ((r = eval(q, put_lua, batch,
		    (const char **)msgs + *nput, lens + *nput, &e,
		    E_WRITE)) == NULL)
			return e;
		if ((e = status_of(q, r, &st)) != 0)
			return e;
		got = (int)int_at(r, 1);
		freeReplyObject(r);
		if (st == -2)
			return pq_seterr(q->u.shown, PKIT_EXIT_NO,
			    "queue closed");
		*nput += (size_t)got;
		/* (Nothing put as the next is over the limit: not full.) */
		if (got > 0 || *nput >= ok)
			continue;
		/* Full: wait for room. */
		if (deadline == 0 || timed_out(deadline))
			return pq_seterr(q->u.shown, PKIT_EXIT_TIMEOUT,
			    "queue full");
		if ((e = sleep_on(q, "put", deadline, -1)) != 0)
			return e;
		if (pq_signalled())
			return 128 + pq_signalled();
	}
	if (ok < n && (e = opened(q)) != 0)
		return e;
	if (ok < n)
		return pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "message of %zu "
		    "bytes is over the limit of %" PRIu32 " bytes", lens[ok],
		    q->max_msg);
	return 0;
}

/* Forget the current lease (after it was committed or given back). */
static int
lease_drop(struct pqb *q)
{
	if (q->held != NULL)
		freeReplyObject(q->held);
	q->held = NULL;
	q->nlease = 0;
	return 0;
}

static int
pqr_commit(struct pqb *q, size_t ncommit, int flags)
{
	int e;

	if (q->nlease == 0)
		return 0;
	if (q->u.nsentinel > 0 || q->u.replicas > 0) {
		arm(q, 0);
		return commit_sync(q, ncommit, flags);
	}
	if ((e = commit_send(q, ncommit, flags)) != 0) {
		lease_drop(q);
		return e;
	}
	return commit_recv(q);
}

/*
 * The commit as one eval, tried again on a failover and confirmed by
 * WAIT: what a Sentinel name or ?replicas=N needs.  Sending it twice is
 * harmless (an acknowledged id is acknowledged again, done_mark counts an
 * id once).  The lease is forgotten either way.
 */
static int
commit_sync(struct pqb *q, size_t ncommit, int flags)
{
	redisReply *r;
	const char **av;
	size_t k;
	int e, st;

	if ((e = commit_args(q, ncommit, flags, &av, &k)) != 0) {
		lease_drop(q);
		return e;
	}
	r = eval(q, commit_lua, k, av, NULL, &e, E_WRITE);
	lease_drop(q);
	return r == NULL ? e : settle(q, r, &st);
}

/* Send the commit of the current lease (its reply: commit_recv). */
static int
commit_send(struct pqb *q, size_t ncommit, int flags)
{
	const char **av;
	size_t k;
	int e;

	if ((e = commit_args(q, ncommit, flags, &av, &k)) != 0)
		return e;
	return eval_send(q, commit_lua, k, av, NULL);
}

/* The arguments of commit_lua for the current lease, in *avp[0..*kp). */
static int
commit_args(struct pqb *q, size_t ncommit, int flags, const char ***avp,
    size_t *kp)
{
	const char **av;
	char (*num)[24];
	size_t i, k = 0, need = 3 + 2 * q->nlease;

	if (ncommit > q->nlease)
		ncommit = q->nlease;
	if (need > q->ccap) {
		free(q->cav);
		free(q->cnum);
		q->cnum = NULL;
		q->ccap = 0;
		if ((q->cav = calloc(need, sizeof(*q->cav))) == NULL ||
		    (q->cnum = calloc(need, sizeof(*q->cnum))) == NULL)
			return pq_seterr(q->u.shown, PKIT_EXIT_FAIL,
			    "out of memory");
		q->ccap = need;
	}
	av = q->cav;
	num = q->cnum;
	av[k++] = q->consumer;
	snprintf(num[k], sizeof(num[k]), "%zu", ncommit);
	av[k] = num[k], k++;
	/* commit_lua's flags are PQ_DONE (1) and PQ_NOCOUNT (2) themselves */
	av[k++] = (const char *[]){ "0", "1", "2", "3" }
	    [flags & (PQ_DONE | PQ_NOCOUNT)];
	for (i = 0; i < q->nlease; i++) {
		snprintf(num[k], sizeof(num[k]), "%" PRIu64, q->lease[i].id);
		av[k] = num[k], k++;
		snprintf(num[k], sizeof(num[k]), "%" PRIu32, q->lease[i].len);
		av[k] = num[k], k++;
	}
	*avp = av;
	*kp = k;
	return 0;
}

/* The commit's reply; the lease is forgotten either way. */
static int
commit_recv(struct pqb *q)
{
	redisReply *r;
	int e, st;

	r = eval_recv(q, &e);
	lease_drop(q);
	return r == NULL ? e : settle(q, r, &st);
}

static int
pqr_get(struct pqb *q, size_t max, int64_t deadline,
    const struct pq_msg **msgs, size_t *n)
{
	return get(q, max, deadline, 0, msgs, n);
}

/*
 * A get whose deadline ends a slice of a wait without one: a failover
 * is waited out in window()'s span, slice after slice; a slice that ends
 * first says 124, with the fault in pq_error().
 */
static int
pqr_get_slice(struct pqb *q, size_t max, int64_t deadline,
    const struct pq_msg **msgs, size_t *n)
{
	int e;

	e = get(q, max, deadline, 1, msgs, n);
	if (e == PKIT_EXIT_FAIL && q->cut)
		e = PKIT_EXIT_TIMEOUT;
	q->slice = q->cut = 0;
	return e;
}

static int
get(struct pqb *q, size_t max, int64_t deadline, int slice,
    const struct pq_msg **msgs, size_t *n)
{
	redisReply *r;
	const char *av[2];
	char maxs[24];
	size_t i, m;
	int64_t wait;
	int e, st;

	*n = 0;
	if (q->open_err != 0)
		return q->open_err;
	arm(q, deadline);
	if (q->nlease > 0 && (q->u.nsentinel > 0 || q->u.replicas > 0) &&
	    (e = commit_sync(q, q->nlease, 0)) != 0)
		return e;
	/* The commit of the last batch goes with the first try: one trip. */
	if (q->nlease > 0 && (e = commit_send(q, q->nlease, 0)) != 0) {
		lease_drop(q);
		return e;
	}
	q->slice = slice;
	if (slice && q->span != 0 && mono_now() - q->span_cut > SPAN_GAP_NS)
		q->span = 0;	/* an earlier failover's: anew */
	if (max > GET_MAX)
		max = GET_MAX;
	if (max == 0)
		max = 1;
	snprintf(maxs, sizeof(maxs), "%zu", max);
	av[0] = q->consumer;
	av[1] = maxs;
	for (;;) {
		if (q->nlease == 0 && !q->opening) {
			/* Tried again on a failover (a Sentinel name). */
			if ((r = eval(q, get_lua, 2, av, NULL, &e, 0)) == NULL)
				return e;
		} else {
			if ((e = eval_send(q, get_lua, 2, av, NULL)) != 0)
				return e;
			if (q->opening && (e = opened(q)) != 0) {
				discard_reply(q);
				return e;
			}
			if (q->nlease > 0 && (e = commit_recv(q)) != 0)
				return e;
			if ((r = eval_recv(q, &e)) == NULL)
				return e;
		}
		if ((e = status_of(q, r, &st)) != 0)
			return e;
		if (st == 1)
			break;
		wait = int_at(r, 1);
		freeReplyObject(r);
		if (st == -3)
			return pq_seterr(q->u.shown, PKIT_EXIT_NO,
			    "queue closed");
		if (deadline == 0 || timed_out(deadline))
			return pq_seterr(q->u.shown, PKIT_EXIT_TIMEOUT,
			    "queue empty");
		if ((e = sleep_on(q, "get", deadline, wait)) != 0)
			return e;
		if (pq_signalled())
			return 128 + pq_signalled();
	}
	m = (r->elements - 1) / 3;
	if (m > q->cap) {
		free(q->lease);
		if ((q->lease = calloc(m, sizeof(*q->lease))) == NULL) {
			q->cap = 0;
			freeReplyObject(r);
			return pq_seterr(q->u.shown, PKIT_EXIT_FAIL,
			    "out of memory");
		}
		q->cap = m;
	}
	for (i = 0; i < m; i++) {
		const redisReply *d = r->element[3 + 3 * i];

		q->lease[i].id = (uint64_t)int_at(r, 1 + 3 * i);
		q->lease[i].attempts = (uint32_t)int_at(r, 2 + 3 * i);
		q->lease[i].data = d->type == REDIS_REPLY_STRING ? d->str : "";
		q->lease[i].len = d->type == REDIS_REPLY_STRING ?
		    (uint32_t)d->len : 0;
	}
	q->held = r;
	q->nlease = m;
	*msgs = q->lease;
	*n = m;
	return 0;
}

static int
pqr_close(struct pqb *q)
{
	int st;

	return call(q, close_lua, 0, NULL, &st, E_WRITE);
}

static int
pqr_done(struct pqb *q, uint64_t count)
{
	const char *av[1];
	char cs[24];
	int e, st;

	snprintf(cs, sizeof(cs), "%" PRIu64, count);
	av[0] = cs;
	if ((e = call(q, done_lua, 1, av, &st, E_WRITE | E_ONCE)) != 0)
		return e;
	if (st == 1)
		return pq_seterr(q->u.shown, PKIT_EXIT_NO,
		    "task_done called too many times");
	return 0;
}

static int
pqr_done_id(struct pqb *q, uint64_t id, int *already)
{
	const char *av[1];
	char is[24];
	int e, st;

	*already = 0;
	snprintf(is, sizeof(is), "%" PRIu64, id);
	av[0] = is;
	if ((e = call(q, done_id_lua, 1, av, &st, E_WRITE)) != 0)
		return e;
	if (st == 2)
		return pq_seterr(q->u.shown, PKIT_EXIT_FAIL,
		    "no message with id %" PRIu64 " was ever put", id);
	*already = st == 1;
	return 0;
}

static int
pqr_join(struct pqb *q, int64_t deadline)
{
	redisReply *r;
	long long left;
	int e, st;

	arm(q, deadline);
	for (;;) {
		if ((r = eval(q, join_lua, 0, NULL, NULL, &e, 0)) == NULL)
			return e;
		if ((e = status_of(q, r, &st)) != 0)
			return e;
		left = int_at(r, 1);
		freeReplyObject(r);
		if (left == 0)
			return 0;
		if (deadline == 0 || timed_out(deadline))
			return pq_seterr(q->u.shown, PKIT_EXIT_TIMEOUT,
			    "%lld tasks not done", left);
		if ((e = sleep_on(q, "join", deadline, -1)) != 0)
			return e;
		if (pq_signalled())
			return 128 + pq_signalled();
	}
}

/* A field of HGETALL's flat array. */
static uint64_t
field(const redisReply *m, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < m->elements; i += 2)
		if (m->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(m->element[i]->str, name) == 0 &&
		    m->element[i + 1]->type == REDIS_REPLY_STRING)
			return strtoull(m->element[i + 1]->str, NULL, 10);
	return 0;
}

static int
pqr_stat(struct pqb *q, struct pq_info *info, int64_t deadline)
{
	redisReply *r, *m, *p, *att;
	const char *owner[PQ_NSLOTS];	/* the consumer of each lease */
	size_t i, k;
	int e, st;

	(void)deadline;
	memset(info, 0, sizeof(*info));
	if ((r = eval(q, stat_lua, 0, NULL, NULL, &e, 0)) == NULL)
		return e;
	if ((e = status_of(q, r, &st)) != 0)
		return e;
	if (r->elements < 8 || r->element[1]->type != REDIS_REPLY_ARRAY ||
	    r->element[3]->type != REDIS_REPLY_ARRAY ||
	    r->element[4]->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return pq_seterr(q->u.shown, PKIT_EXIT_FAIL,
		    "unexpected reply from the server");
	}
	m = r->element[1];
	p = r->element[3];
	att = r->element[4];
	info->max_msgs = field(m, "max_msgs");
	info->max_bytes = field(m, "max_bytes");
	info->max_msg = (uint32_t)field(m, "max_msg");
	info->closed = field(m, "closed") != 0;
	info->unfinished = field(m, "unfinished");
	info->next_id = field(m, "next_id") + 1;
	info->puts = field(m, "puts");
	info->gets = field(m, "gets");
	info->requeues = field(m, "requeues");
	info->dropped = field(m, "dropped");
	info->recoveries = field(m, "recoveries");
	info->bytes = field(m, "bytes");
	info->lease_ns = (int64_t)field(m, "lease_ms") * 1000000;
	/* Given back (idle past IDLE_BACK): queued again, for the next get. */
	info->inflight = (uint64_t)(int_at(r, 6) - int_at(r, 7));
	info->nmsgs = (uint64_t)int_at(r, 2) - info->inflight;
	if (r->element[5]->type == REDIS_REPLY_ARRAY &&
	    r->element[5]->elements == 6) {
		info->nwait_get = (uint32_t)int_at(r->element[5], 1);
		info->nwait_put = (uint32_t)int_at(r->element[5], 3);
		info->nwait_join = (uint32_t)int_at(r->element[5], 5);
	}
	info->uid = (uid_t)-1;
	/* Leases: one per consumer, in the order of their first id. */
	for (i = 0; i < p->elements; i++) {
		const redisReply *e1 = p->element[i];
		struct pq_lease *l = NULL;
		const char *who;
		int64_t idle;

		if (e1->type != REDIS_REPLY_ARRAY || e1->elements < 4)
			continue;
		who = e1->element[1]->str;
		idle = e1->element[2]->integer;
		if (idle >= IDLE_BACK_MS)
			continue;
		for (k = 0; k < info->nleases && l == NULL; k++)
			if (strcmp(owner[k], who) == 0)
				l = &info->leases[k];
		if (l == NULL) {
			if (info->nleases == PQ_NSLOTS)
				continue;
			owner[info->nleases] = who;
			l = &info->leases[info->nleases++];
			l->pid = (pid_t)strtol(who, NULL, 10);
			l->first_id = strtoull(e1->element[0]->str + 2, NULL,
			    10);
			l->attempts = i < att->elements ?
			    (uint32_t)att->element[i]->integer : 0;
			l->age_ns = idle * 1000000;
			l->alive = l->age_ns < info->lease_ns;
		}
		l->nmsgs++;
	}
	freeReplyObject(r);
	return 0;
}

static int64_t
pqr_renew_every(const struct pqb *q)
{
	opened((struct pqb *)q);
	return q->lease_ms * 1000000 / 3;
}

static int
pqr_renew(struct pqb *q)
{
	static const char **av;
	static char (*ids)[24];
	static size_t cap;
	size_t i;
	int st, e;

	if (q->nlease == 0)
		return 0;
	if (q->nlease + 1 > cap) {
		free(av);
		free(ids);
		cap = q->nlease + 1;
		if ((av = calloc(cap, sizeof(*av))) == NULL ||
		    (ids = calloc(cap, sizeof(*ids))) == NULL) {
			cap = 0;
			return pq_seterr(q->u.shown, PKIT_EXIT_FAIL,
			    "out of memory");
		}
	}
	av[0] = q->consumer;
	for (i = 0; i < q->nlease; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%" PRIu64, q->lease[i].id);
		av[i + 1] = ids[i];
	}
	/*
	 * A failover is waited out until the next renewal is due, not by
	 * the deadline of whatever this handle did last (a pool's 20 ms
	 * slice: then never).  And the script is safe to send twice (XCLAIM
	 * only resets the idle time), so after a broken connection it goes
	 * once more on a new one, on any name: a server that closes idle
	 * connections (its `timeout`) closes a task's between renewals.
	 */
	arm(q, mono_now() + pqr_renew_every(q));
	if ((e = call(q, renew_lua, q->nlease + 1, av, &st, 0)) == 0 ||
	    q->c->err == 0 || strstr(pq_error(), "timed out") != NULL ||
	    remake(q) != 0)
		return e;
	return call(q, renew_lua, q->nlease + 1, av, &st, 0);
}

/* A new connection in place of q->c (conn_swap). */
static int
remake(struct pqb *q)
{
	redisContext *c;
	const char *why;

	if ((c = redis_connect(&q->u, &why)) == NULL)
		return pq_seterr(q->u.shown, PKIT_EXIT_FAIL, "%s", why);
	conn_swap(q, c);
	return 0;
}

/* The stream, queued and leased, as pq_peek entries. */
static int
pqr_peek(struct pqb *q, struct pq_entry *ents, size_t max, size_t *n,
    int64_t deadline)
{
	redisReply *r, *l;
	char smax[32], sprev[32];
	const char *args[2] = { smax, sprev };
	size_t lens[2], i;
	int e, st;

	(void)deadline;
	*n = 0;
	lens[0] = (size_t)snprintf(smax, sizeof(smax), "%zu", max);
	lens[1] = (size_t)snprintf(sprev, sizeof(sprev), "%d", PQ_PREVIEW);
	if ((r = eval(q, peek_lua, 2, args, lens, &e, 0)) == NULL)
		return e;
	if ((e = status_of(q, r, &st)) != 0)
		return e;
	if (r->elements < 2 || r->element[1]->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return pq_seterr(q->u.shown, PKIT_EXIT_FAIL,
		    "unexpected reply from the server");
	}
	l = r->element[1];
	for (i = 0; i < l->elements && *n < max; i++) {
		const redisReply *x = l->element[i];
		struct pq_entry *en = &ents[*n];

		if (x->type != REDIS_REPLY_ARRAY || x->elements < 5 ||
		    x->element[3]->type != REDIS_REPLY_STRING ||
		    x->element[4]->type != REDIS_REPLY_STRING)
			continue;
		memset(en, 0, sizeof(*en));
		en->id = (uint64_t)int_at(x, 0);
		en->attempts = (uint32_t)int_at(x, 1);
		en->len = (uint32_t)int_at(x, 2);
		en->npreview = x->element[3]->len < PQ_PREVIEW ?
		    (uint32_t)x->element[3]->len : PQ_PREVIEW;
		memcpy(en->preview, x->element[3]->str, en->npreview);
		en->leased = x->element[4]->len > 0;
		en->holder = en->leased ? (pid_t)strtol(x->element[4]->str,
		    NULL, 10) : 0;
		(*n)++;
	}
	freeReplyObject(r);
	return 0;
}

/* The lease bounds of queue.h are those of every Redis lease. */
_Static_assert(PQ_LEASE_MIN_NS == REDIS_LEASE_MIN_NS &&
    PQ_LEASE_MAX_NS == REDIS_LEASE_MAX_NS, "lease bounds");

const struct pq_ops pq_redis_ops = {
	pqr_create, pqr_open, pqr_remove,
	pqr_put, pqr_get, pqr_commit, pqr_close, pqr_done, pqr_done_id,
	pqr_join, pqr_stat, pqr_name, pqr_max_msg, pqr_renew_every, pqr_renew,
	NULL, pqr_peek, pqr_open_lazy, pqr_get_slice,
	0	/* a message's data is hiredis's reply string: len + 1 bytes */
};
