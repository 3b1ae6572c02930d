/*
 * multipart.h - a strict multipart/form-data parser (RFC 7578) over a body
 * held in memory. Parts point into the body (borrowed while it lives).
 * Anything malformed - missing or bad boundary, truncated body, headers
 * without a blank line, a missing final delimiter - is an error naming the
 * problem, never a partial result.
 */
#ifndef DAM_HTTP_MULTIPART_H
#define DAM_HTTP_MULTIPART_H

#include <stddef.h>

#include "util/err.h"

#define MULTIPART_MAX_PARTS 256

struct multipart_part {
	char name[128];          /* form field name */
	char filename[256];      /* "" for plain fields; RFC 5987 filename* decoded */
	char content_type[128];
	const char *data;
	size_t len;
};

/* Extracts the boundary from a Content-Type value ("multipart/form-data;
 * boundary=..."). Returns 0 or DAM_EINVAL. */
int multipart_boundary(const char *content_type, char *out, size_t outlen, struct dam_err *err);

/* Parses body into parts (caller's array of MULTIPART_MAX_PARTS). Returns
 * the number of parts or DAM_EINVAL. */
int multipart_parse(const char *body, size_t len, const char *boundary, struct multipart_part *parts,
		    struct dam_err *err);

#endif
