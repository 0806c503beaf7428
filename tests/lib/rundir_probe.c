/* SPDX-License-Identifier: ISC */
/*
 * rundir_probe: open the runtime directory as every tool does and print its
 * path; with an argument, also the subdirectory of that name.  For tests of
 * lib/rundir.c (tests/lib/lib.bats).
 */
#include <stdio.h>
#include <unistd.h>

#include "rundir.h"

int
main(int argc, char *argv[])
{
	char path[4096];
	const char *why;
	int fd, sub;

	fd = rundir_open_or_die(path, sizeof(path));
	if (argc > 1) {
		if ((sub = rundir_sub(fd, argv[1], &why)) == -1) {
			fprintf(stderr, "rundir_probe: %s/%s: %s\n", path,
			    argv[1], why);
			return 125;
		}
		close(sub);
		printf("%s/%s\n", path, argv[1]);
	} else
		printf("%s\n", path);
	close(fd);
	return 0;
}
