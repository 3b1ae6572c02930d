/*
 * libFuzzer target for dam.conf parsing (inih plus our key table) and the
 * date/age parser used by CLI filters. The first byte picks the parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/config.h"
#include "util/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct dam_config cfg;
	struct dam_err err;
	FILE *f;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		char *s = strndup((const char *)data + 1, size - 1);
		uint64_t ms;
		if (s) {
			time_parse(s, &ms);
			time_parse_future(s, 1800000000000ull, &ms); /* --expires, links?expires= */
		}
		free(s);
		return 0;
	}
	if (!path[0])
		snprintf(path, sizeof path, "/tmp/dam-fuzz-conf-%d", (int)getpid());
	if (!(f = fopen(path, "wb")))
		return 0;
	fwrite(data + 1, 1, size - 1, f);
	fclose(f);
	config_defaults(&cfg);
	config_load(path, &cfg, &err);
	return 0;
}
