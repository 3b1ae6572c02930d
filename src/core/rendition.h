/*
 * rendition.h - a version's stored derivatives (thumbnail, preview, the
 * delivery master, preset renditions): one row each, keyed by version and
 * name, pointing at a blob whose refcount it holds.
 */
#ifndef DAM_CORE_RENDITION_H
#define DAM_CORE_RENDITION_H

#include <stdint.h>

#include "core/library.h"

struct rendition_row {
	char name[48];   /* "thumbnail", "preview", "master", "preset:tmall" ... */
	char mime[64];
	char key[65];    /* blob hash */
	uint64_t size;
	int width, height;
	const char *spec; /* JSON text, borrowed; "{}" when NULL */
	double enlarged;  /* largest scale factor of a preset rendition (1 = not
			     enlarged); 0 = not recorded (stored as NULL) */
};

/* Inserts or replaces (version_id, r->name), moving the blob reference.
 * Call inside the transaction that stores the job's results. */
int rendition_save(struct dam *dam, const char *version_id, const struct rendition_row *r,
		   struct dam_err *err);

/* Removes (version_id, name) if present, dropping its blob reference.
 * Call inside the transaction that stores the job's results. */
int rendition_drop(struct dam *dam, const char *version_id, const char *name, struct dam_err *err);

/* Finds (version_id, name): 1 and *out filled (spec set to NULL; the spec
 * text is copied to spec_out when spec_len > 0), 0 when absent, < 0 on error. */
int rendition_find(struct dam *dam, const char *version_id, const char *name,
		   struct rendition_row *out, char *spec_out, size_t spec_len, struct dam_err *err);

#endif
