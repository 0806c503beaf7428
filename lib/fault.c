/* SPDX-License-Identifier: ISC */
/*
 * fault.c: PKIT_FAULT=name:#N or name:P kill points, name:stop#N stop
 * points (see fault.h).
 * Compiled to an empty unit unless configured --enable-fault-injection.
 */
#include "fault.h"

#ifdef PKIT_FAULTS
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FAULT_MAX	16

static struct fault {
	char	name[32];
	long	nth;		/* kill on this pass (1-based), or 0 */
	double	prob;		/* or kill with this probability */
	int	sig;		/* SIGKILL, or SIGSTOP for name:stop#N */
	long	passes;
} faults[FAULT_MAX];
static int nfaults = -1;

static void
fault_load(void)
{
	char buf[512], *spec, *next, *colon;
	const char *env = getenv("PKIT_FAULT");

	nfaults = 0;
	if (env == NULL || strlen(env) >= sizeof(buf))
		return;
	strlcpy(buf, env, sizeof(buf));
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	for (spec = buf; spec != NULL && nfaults < FAULT_MAX; spec = next) {
		struct fault *f = &faults[nfaults];

		if ((next = strchr(spec, ',')) != NULL)
			*next++ = '\0';
		if ((colon = strchr(spec, ':')) == NULL)
			continue;
		*colon++ = '\0';
		strlcpy(f->name, spec, sizeof(f->name));
		f->sig = SIGKILL;
		if (strncmp(colon, "stop#", 5) == 0) {
			f->sig = SIGSTOP;
			colon += 4;
		}
		if (*colon == '#')
			f->nth = strtol(colon + 1, NULL, 10);
		else
			f->prob = strtod(colon, NULL);
		nfaults++;
	}
}

void
fault_point(const char *name)
{
	int i;

	if (nfaults == -1)
		fault_load();
	for (i = 0; i < nfaults; i++) {
		struct fault *f = &faults[i];

		if (strcmp(f->name, name) != 0)
			continue;
		f->passes++;
		if ((f->nth > 0 && f->passes == f->nth) ||
		    (f->prob > 0 && random() < f->prob * RAND_MAX))
			raise(f->sig);
	}
}
#else
typedef int fault_unused;	/* ISO C wants a non-empty unit */
#endif
