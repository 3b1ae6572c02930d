/*
 * libFuzzer target for request-body and request-line parsing: the
 * multipart/form-data parser and boundary extraction, JSON bodies as the
 * handlers load them (jansson, duplicate keys refused), percent-decoding
 * and query lookup. The first byte picks the parser.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct multipart_part parts[MULTIPART_MAX_PARTS];
	struct dam_err err;
	char boundary[80], *s;
	json_error_t je;
	json_t *j;

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		multipart_parse((const char *)data + 1, size - 1, "XyZboundary", parts, &err);
		break;
	case 1:
		if ((s = strndup((const char *)data + 1, size - 1))) {
			if (multipart_boundary(s, boundary, sizeof boundary, &err) == 0)
				multipart_parse(s, strlen(s), boundary, parts, &err);
			free(s);
		}
		break;
	case 2:
		j = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &je);
		json_decref(j);
		break;
	case 3:
		if ((s = strndup((const char *)data + 1, size - 1))) {
			struct http_req req = { .query = s };
			free(http_percent_decode(s));
			free(http_req_query(&req, "cursor"));
			free(http_req_query(&req, "x"));
			free(s);
		}
		break;
	}
	return 0;
}
