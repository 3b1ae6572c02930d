/*
 * zip.h - many assets as one zip file (the bulk download).
 *
 * zip_plan() resolves the assets and says what each entry will hold (the
 * original of its current version) so the caller can check permissions
 * before anything is written; zip_write() then writes the archive with
 * libarchive into an unlinked temporary file in the library's cache folder,
 * entries stored without compression (media is compressed already) under
 * the asset names, made safe (no folders) and unique ("shoe.jpg",
 * "shoe (2).jpg"). Memory stays bounded by one copy buffer whatever the
 * sizes; the disk holds one temporary copy until the caller closes the fd.
 *
 * Ownership: zip_plan() gives an array freed with free(); zip_write() an
 * fd the caller closes. Thread-safety: as the struct dam handle.
 */
#ifndef DAM_CORE_ZIP_H
#define DAM_CORE_ZIP_H

#include <stdint.h>

#include "core/library.h"
#include "util/id.h"

#define ZIP_MAX_ASSETS 1000
#define ZIP_MAX_BYTES ((uint64_t)16 << 30) /* 16 GiB of originals per archive */

struct zip_item {
	char asset_id[DAM_ID_LEN + 1];
	char created_by[DAM_ID_LEN + 1];  /* for the permission check; "" if unknown */
	char name[256];                   /* the entry name, unique in the archive */
	char key[65];                     /* the blob */
	uint64_t size;
	int64_t mtime_ms;                 /* the version's creation time */
};

/*
 * Resolves ids[0..n) (full ids or unique prefixes; repeats are dropped).
 * DAM_EINVAL for none or more than ZIP_MAX_ASSETS; DAM_ENOTFOUND (field
 * "ids", naming the id) for an unknown or deleted asset; DAM_ELIMIT when
 * the originals add up to more than ZIP_MAX_BYTES.
 */
int zip_plan(struct dam *dam, const char *const *ids, int n, struct zip_item **items, int *nitems,
	     struct dam_err *err);

/* Writes the archive; *fd (read from offset 0) and *size describe it. */
int zip_write(struct dam *dam, const struct zip_item *items, int n, int *fd, uint64_t *size, struct dam_err *err);

#endif
