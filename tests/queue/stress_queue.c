/* SPDX-License-Identifier: ISC */
/*
 * stress_queue: nothing is lost, whatever is SIGKILLed when
 * (doc/QUEUE.md, "How it is tested").
 *
 * P producers (this program re-executed with --produce: the C API) put
 * messages "pP:SEQ:PADDING:CHECKSUM" and log "SEQ" after each put has
 * returned (acknowledged); restarted, a producer resumes after its last
 * logged SEQ.  C consumers are the real CLI: C-1 stream getters
 * (pqueue-get -f -i NAME > file, a new file per restart) and one worker
 * (pqueue-get -f -i NAME cat: leases held while CMD runs, done on exit
 * 0).  A killer SIGKILLs a random tracked child every U(0, 2*PERIOD) ms
 * and restarts it, until the producers are through and at least KILLS
 * children died of SIGKILL (or the time limit, 90 s by default: a fast
 * machine is done in a few seconds, a slow one -- a sanitizer build, a
 * loaded CI -- needs longer for the same count, and fails if it cannot
 * reach it in time).  The defaults (500 kills, 3 x 5000 messages, about
 * 15 s on a 2-core machine) are make check's run; make check-long runs
 * -k 1500 -n 15000 (tests/queue/crowds.bats), make stress -k 30000.
 * Then the queue is closed and
 * the consumers drain it.  The checker asserts that every acknowledged
 * message was delivered, whole (checksum), at least once; counts
 * duplicates; marks every id seen done by id; and then requires
 * pqueue-stat to show nothing queued, nothing leased, unfinished 0 (so
 * no message put, acknowledged or not, went missing) and pqueue-join to
 * return 0.  Exit 0 if all holds, 1 if not, 77 (skip) if no tools.
 *
 * Safety: only pids this program forked are ever signalled, each checked
 * > 1 first; children die with it (PR_SET_PDEATHSIG).
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pkit.h"

#define MAXP	8
#define MAXC	8
#define MAXGEN	100000

struct child {
	pid_t	pid;
	int	kind;		/* 'p' producer, 'c' consumer */
	int	idx;
	int	gen;		/* consumer output file generation */
	int	done;		/* producer finished (exited 0) */
};

static char	 qname[512], dir[256], self[4096];
static const char *server;	/* -r: a redis:// server; else shared memory */
static const char *fault;
static int	 nprod = 3, ncons = 4, period_ms = 3, min_kills = 500;
static int	 nmsgs = 5000, limit_s = 90;
static struct child kids[MAXP + MAXC];
static int	 nkids;
static long	 kills, deaths, unexpected;

static uint32_t
fnv(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

/* The message for producer p, sequence s, into buf: its length. */
static size_t
message(char *buf, size_t cap, int p, int s)
{
	int pad = (s * 37) % 300, n, i;

	n = snprintf(buf, cap, "p%d:%d:", p, s);
	for (i = 0; i < pad; i++)
		buf[n++] = (char)('a' + s % 26);
	buf[n++] = ':';
	n += snprintf(buf + n, cap - (size_t)n, "%08" PRIx32,
	    fnv(buf, (size_t)n));
	return (size_t)n;
}

static int
last_logged(int p)
{
	char path[512], line[64];
	FILE *f;
	int s = 0;

	snprintf(path, sizeof(path), "%s/prod.%d", dir, p);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strchr(line, '\n') != NULL)
			s = atoi(line);
	fclose(f);
	return s;
}

/*
 * --produce NAME DIR P N: put P's messages after its last logged one.
 * Even producers put BATCH at a time (about 20 KiB: a put that copies
 * without the mutex, doc/QUEUE.md), odd ones one at a time.
 */
#define BATCH	128
static int
produce(int p)
{
	static char buf[BATCH][512];
	char path[512], line[32];
	struct pq *q;
	const char *m[BATCH];
	size_t len[BATCH], nput;
	int s, fd, r, b, i, per = p % 2 == 0 ? BATCH : 1;
	struct timespec ts = { 0, 200 * 1000 };

	if ((r = pq_open(qname, &q)) != 0) {
		fprintf(stderr, "producer: %s\n", pq_error());
		return r;
	}
	snprintf(path, sizeof(path), "%s/prod.%d", dir, p);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600)) == -1)
		return 125;
	for (s = last_logged(p) + 1; s <= nmsgs; s += b) {
		for (b = 0; b < per && s + b <= nmsgs; b++) {
			len[b] = message(buf[b], sizeof(buf[b]), p, s + b);
			m[b] = buf[b];
		}
		if ((r = pq_put(q, m, len, (size_t)b, &nput,
		    PQ_FOREVER)) != 0) {
			fprintf(stderr, "producer: %s\n", pq_error());
			return r;
		}
		for (i = 0; i < b; i++) {
			r = snprintf(line, sizeof(line), "%d\n", s + i);
			if (write(fd, line, (size_t)r) != r)
				return 125;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void
start(struct child *k)
{
	char out[512], np[16], nn[16];
	pid_t pid, parent = getpid();
	int fd;

	if (k->kind == 'c') {
		k->gen++;
		snprintf(out, sizeof(out), "%s/cons.%d.%d", dir, k->idx,
		    k->gen);
	}
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (fault != NULL)
			setenv("PKIT_FAULT", fault, 1);
		if (k->kind == 'p') {
			snprintf(np, sizeof(np), "%d", k->idx);
			snprintf(nn, sizeof(nn), "%d", nmsgs);
			execl(self, self, "--produce", qname, dir, np, nn,
			    (char *)NULL);
			_exit(127);
		}
		if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
		    dup2(fd, STDOUT_FILENO) == -1)
			_exit(125);
		if (k->idx == ncons - 1)
			/* A delivery cut short by a kill counts as an attempt:
			 * lift the default bound (3) so that the kills alone
			 * never send a message to NAME.dead. */
			execlp("pqueue-get", "pqueue-get", "-f", "-i",
			    "-r", "1000000", qname, "cat", (char *)NULL);
		else
			execlp("pqueue-get", "pqueue-get", "-f", "-i", qname,
			    (char *)NULL);
		_exit(127);
	}
	k->pid = pid;
}

static int64_t
now_ms(void)
{
	return mono_now() / 1000000;
}

/*
 * Reap what ended (we are a subreaper: orphaned CMDs of killed workers
 * come to us too); restart the killed.  Returns how many run.
 */
static int
reap(int restart)
{
	int i, st, running = 0;
	pid_t r;

	while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
		struct child *k = NULL;

		for (i = 0; i < nkids; i++)
			if (kids[i].pid == r)
				k = &kids[i];
		if (k == NULL)
			continue;	/* an orphan */
		k->pid = 0;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			k->done = 1;
			continue;
		}
		if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) {
			fprintf(stderr, "stress: %s %d exited with %d\n",
			    k->kind == 'p' ? "producer" : "consumer", k->idx,
			    status_to_exit(st));
			unexpected++;
		} else
			deaths++;	/* ours or a fault point's */
		if (restart)
			start(k);
	}
	for (i = 0; i < nkids; i++)
		if (kids[i].pid > 1)
			running++;
	return running;
}

static void
kill_one(void)
{
	struct child *alive[MAXP + MAXC];
	int i, n = 0;

	for (i = 0; i < nkids; i++)
		if (kids[i].pid > 1)
			alive[n++] = &kids[i];
	if (n == 0)
		return;
	i = (int)(random() % n);
	if (alive[i]->pid > 1 && kill(alive[i]->pid, SIGKILL) == 0)
		kills++;
}

static int
producers_left(void)
{
	int i, n = 0;

	for (i = 0; i < nkids; i++)
		if (kids[i].kind == 'p' && !kids[i].done)
			n++;
	return n;
}

struct tally {
	unsigned char	*seen[MAXP];	/* [p][seq]: deliveries */
	unsigned char	*ids;		/* [id]: seen */
	uint64_t	 maxid;
	long		 lines, partial, corrupt;
};

/* Read one consumer output file into the tally. */
static void
tally_file(struct tally *t, const char *path)
{
	FILE *f;
	char *line = NULL, *tab, *end;
	size_t cap = 0;
	ssize_t n;
	unsigned long long id;
	int p, s;

	if ((f = fopen(path, "r")) == NULL)
		return;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n') {
			t->partial++;	/* killed mid-write: redelivered */
			break;
		}
		line[--n] = '\0';
		t->lines++;
		id = strtoull(line, &tab, 10);
		if (*tab != '\t' || id == 0 || id > t->maxid ||
		    sscanf(tab + 1, "p%d:%d:", &p, &s) != 2 ||
		    p < 0 || p >= nprod || s < 1 || s > nmsgs ||
		    (end = strrchr(tab + 1, ':')) == NULL ||
		    strlen(end + 1) != 8 ||
		    strtoul(end + 1, NULL, 16) !=
		    fnv(tab + 1, (size_t)(end + 1 - (tab + 1))) ||
		    (size_t)(end + 1 - (tab + 1)) + 8 !=
		    strlen(tab + 1)) {
			if (t->corrupt++ < 5)
				fprintf(stderr, "stress: corrupt line in %s: "
				    "%.80s\n", path, line);
			continue;
		}
		{
			char want[512];

			if (message(want, sizeof(want), p, s) !=
			    strlen(tab + 1) || strcmp(want, tab + 1) != 0) {
				if (t->corrupt++ < 5)
					fprintf(stderr, "stress: wrong "
					    "payload: %.80s\n", line);
				continue;
			}
		}
		if (t->seen[p][s] < 255)
			t->seen[p][s]++;
		t->ids[id] = 1;
	}
	free(line);
	fclose(f);
}

static int
check(struct pq *q)
{
	struct tally t;
	struct pq_info info;
	char path[512];
	long acked = 0, lost = 0, dups = 0, delivered = 0, already = 0;
	int p, s, i, g, last, a, r, st, fail = 0;
	uint64_t id;
	pid_t pid;

	memset(&t, 0, sizeof(t));
	if ((r = pq_stat(q, &info, PQ_FOREVER)) != 0) {
		fprintf(stderr, "stress: %s\n", pq_error());
		return 1;
	}
	t.maxid = info.next_id - 1;
	t.ids = calloc(t.maxid + 1, 1);
	for (p = 0; p < nprod; p++)
		t.seen[p] = calloc((size_t)nmsgs + 1, 1);
	for (i = 0; i < ncons; i++)
		for (g = 1; g <= kids[nprod + i].gen; g++) {
			snprintf(path, sizeof(path), "%s/cons.%d.%d", dir, i, g);
			tally_file(&t, path);
		}
	for (p = 0; p < nprod; p++) {
		last = last_logged(p);
		for (s = 1; s <= nmsgs; s++) {
			if (t.seen[p][s] > 0)
				delivered++;
			if (t.seen[p][s] > 1)
				dups += t.seen[p][s] - 1;
			if (s > last)
				continue;
			acked++;
			if (t.seen[p][s] == 0) {
				if (lost++ < 5)
					fprintf(stderr, "stress: LOST p%d:%d\n",
					    p, s);
			}
		}
	}
	/* Every id seen, done by id: what is left was never delivered. */
	for (id = 1; id <= t.maxid; id++)
		if (t.ids[id]) {
			if ((r = pq_done_id(q, id, &a)) != 0) {
				fprintf(stderr, "stress: %s\n", pq_error());
				return 1;
			}
			already += a;
		}
	pq_stat(q, &info, PQ_FOREVER);
	printf("stress: %d producers x %d messages, %d consumers (1 a "
	    "worker), kill period U(0,%d) ms\n", nprod, nmsgs, ncons,
	    2 * period_ms);
	printf("stress: messages put %" PRIu64 " (acknowledged %ld), "
	    "delivered %ld distinct, lines %ld\n", t.maxid, acked, delivered,
	    t.lines);
	printf("stress: SIGKILLs sent %ld, children dead of SIGKILL %ld "
	    "(fault points: %s), unexpected exits %ld\n", kills, deaths,
	    fault != NULL ? fault : "none", unexpected);
	printf("stress: lost %ld, duplicates %ld, partial lines %ld, corrupt "
	    "%ld\n", lost, dups, t.partial, t.corrupt);
	printf("stress: queue: size %" PRIu64 ", in flight %" PRIu64
	    ", leases %zu, unfinished %" PRIu64 " (after done by id; %ld "
	    "already done by the worker), requeues %" PRIu64 ", dropped "
	    "as done %" PRIu64 ", recoveries %" PRIu64 "\n", info.nmsgs,
	    info.inflight, info.nleases, info.unfinished, already,
	    info.requeues, info.dropped, info.recoveries);
	if (lost != 0 || t.corrupt != 0 || unexpected != 0 ||
	    info.nmsgs != 0 || info.inflight != 0 || info.nleases != 0 ||
	    info.unfinished != 0 || delivered < acked) {
		fprintf(stderr, "stress: FAILED\n");
		fail = 1;
	}
	if (deaths < min_kills) {
		fprintf(stderr, "stress: only %ld kills (wanted %d)\n", deaths,
		    min_kills);
		fail = 1;
	}
	/* pqueue-join must agree. */
	if ((pid = fork()) == 0) {
		execlp("pqueue-join", "pqueue-join", "-t", "5", qname,
		    (char *)NULL);
		_exit(127);
	}
	while (pid > 1 && waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (pid <= 1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "stress: pqueue-join did not return 0\n");
		fail = 1;
	} else
		printf("stress: pqueue-join returned 0\n");
	return fail;
}

static void
cleanup(void)
{
	char cmd[600];

	if (qname[0] != '\0')
		pq_remove(qname);
	if (dir[0] != '\0' && getenv("STRESS_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "stress: cannot remove %s\n", dir);
	}
}

int
main(int argc, char *argv[])
{
	struct timespec ts;
	struct pq_config cfg = { 0, PQ_DEFBYTES, 0, 0600, 0 };
	struct pq *q;
	int64_t t0, t_end, next_kill;
	const char *tmp;
	int ch, i, r, fail;

	if (argc == 6 && strcmp(argv[1], "--produce") == 0) {
		strlcpy(qname, argv[2], sizeof(qname));
		strlcpy(dir, argv[3], sizeof(dir));
		nmsgs = atoi(argv[5]);
		return produce(atoi(argv[4]));
	}
	while ((ch = getopt(argc, argv, "c:d:k:n:p:r:t:")) != -1) {
		switch (ch) {
		case 'c':
			ncons = atoi(optarg);
			break;
		case 'd':
			limit_s = atoi(optarg);
			break;
		case 'k':
			min_kills = atoi(optarg);
			break;
		case 'n':
			nmsgs = atoi(optarg);
			break;
		case 'p':
			nprod = atoi(optarg);
			break;
		case 'r':
			server = optarg;
			break;
		case 't':
			period_ms = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: stress_queue [-c CONSUMERS] "
			    "[-d SECONDS] [-k MINKILLS] [-n MSGS] "
			    "[-p PRODUCERS] [-r REDIS_URL] [-t PERIOD_MS]\n");
			return 2;
		}
	}
	if (nprod < 1 || nprod > MAXP || ncons < 2 || ncons > MAXC ||
	    nmsgs < 1 || (long)nprod * nmsgs > 50000 || period_ms < 1) {
		fprintf(stderr, "stress: bad parameters\n");
		return 2;
	}
	/* PKIT_FAULT is for the children only, not for this checker. */
	if ((fault = getenv("PKIT_FAULT")) != NULL && (fault = strdup(fault)))
		unsetenv("PKIT_FAULT");
#ifndef PKIT_FAULTS
	if (fault != NULL)
		printf("stress: not a fault-injection build: PKIT_FAULT "
		    "ignored\n");
	fault = NULL;
#endif
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (readlink("/proc/self/exe", self, sizeof(self) - 1) <= 0) {
		perror("/proc/self/exe");
		return 1;
	}
	if (system("command -v pqueue-get >/dev/null") != 0) {
		fprintf(stderr, "stress: pqueue-get not on PATH\n");
		return 77;
	}
	tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, sizeof(dir), "%s/stress.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	/*
	 * On Redis a killed taker's lease comes back when it runs out, not
	 * at once: a short one keeps the drain quick.
	 */
	if (server != NULL) {
		snprintf(qname, sizeof(qname), "%s/stress-%ld", server,
		    (long)getpid());
		cfg.lease_ns = 500000000;
	} else
		snprintf(qname, sizeof(qname), "stress-%ld", (long)getpid());
	atexit(cleanup);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	if ((r = pq_create(qname, &cfg, 0, &q)) != 0) {
		fprintf(stderr, "stress: %s\n", pq_error());
		return 1;
	}
	for (i = 0; i < nprod; i++)
		kids[nkids++] = (struct child){ 0, 'p', i, 0, 0 };
	for (i = 0; i < ncons; i++)
		kids[nkids++] = (struct child){ 0, 'c', i, 0, 0 };
	for (i = 0; i < nkids; i++)
		start(&kids[i]);

	/* Kill phase. */
	t0 = now_ms();
	t_end = t0 + (int64_t)limit_s * 1000;
	next_kill = t0 + 1 + random() % (2 * period_ms);
	while (now_ms() < t_end && (producers_left() > 0 || deaths < min_kills)) {
		reap(1);
		if (now_ms() >= next_kill) {
			kill_one();
			next_kill = now_ms() + random() % (2 * period_ms + 1);
		}
		ts.tv_sec = 0;
		ts.tv_nsec = 500 * 1000;
		nanosleep(&ts, NULL);
	}
	printf("stress: kill phase %.1f s\n", (double)(now_ms() - t0) / 1000);
	/* Let the producers finish (still restarted if a fault kills). */
	while (producers_left() > 0 && now_ms() < t_end + 30000) {
		reap(1);
		usleep(2000);
	}
	if (producers_left() > 0) {
		fprintf(stderr, "stress: producers did not finish\n");
		return 1;
	}
	/* Drain: close; consumers end when closed and drained. */
	if ((r = pq_close(q)) != 0) {
		fprintf(stderr, "stress: %s\n", pq_error());
		return 1;
	}
	t0 = now_ms();
	while (reap(1) > 0 && now_ms() < t0 + 60000)
		usleep(2000);
	if (reap(0) > 0) {
		fprintf(stderr, "stress: consumers did not drain the queue\n");
		for (i = 0; i < nkids; i++)
			if (kids[i].pid > 1)
				kill(kids[i].pid, SIGKILL);
		return 1;
	}
	printf("stress: drained in %.1f s\n", (double)(now_ms() - t0) / 1000);
	fail = check(q);
	return fail ? 1 : 0;
}
