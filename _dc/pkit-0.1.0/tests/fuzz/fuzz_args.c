/* SPDX-License-Identifier: ISC */
/*
 * fuzz_args: libFuzzer target for the command-line parsers every tool
 * shares (durations, numbers, names).  Each input is taken as one argument
 * string; the parsers must never crash, read out of bounds or accept a
 * value they would print back wrongly.  Invariants checked:
 *   - an accepted duration is within [0, DUR_MAX_NS];
 *   - an accepted number is within the range asked for;
 *   - an accepted name is 1..100 bytes of the allowed alphabet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkit.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	const char *why;
	int64_t ns;
	long long n;
	size_t i, len;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (dur_parse(s, &ns, &why) == 0 && (ns < 0 || ns > DUR_MAX_NS))
		abort();
	if (num_parse(s, -1000, 1000000, &n, &why) == 0 &&
	    (n < -1000 || n > 1000000))
		abort();
	if (name_invalid(s) == NULL) {
		len = strlen(s);
		if (len == 0 || len > NAME_MAX_LEN || s[0] == '.' || s[0] == '-')
			abort();
		for (i = 0; i < len; i++)
			if (strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]) == NULL)
				abort();
	}
	free(s);
	return 0;
}
