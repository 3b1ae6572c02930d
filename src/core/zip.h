/*
 * zip.h - many assets as one zip file (the bulk download).
 *
 * zip_plan() resolves the assets and says what each entry will hold (by
 * default the original of its current version) so the caller can check
 * permissions before anything is written; zip_write() then writes the
 * archive into an unlinked temporary file in the library's cache folder.
 *
 * The format is written here, not by libarchive, because a zip that
 * Windows Explorer, macOS Archive Utility and Python's zipfile all unpack
 * as "运动鞋.jpg" needs two things on every entry: general-purpose flag
 * bit 11 (the name is UTF-8) and the Info-ZIP Unicode Path extra field
 * (0x7075: version 1, CRC-32 of the header name, the UTF-8 name), which
 * libarchive 3.6 does not write. Entries are stored (media is compressed
 * already), with Zip64 fields where a size or offset needs them; the
 * CRC-32 (zlib) is patched into the local header after the data, so there
 * are no data descriptors.
 *
 * Entries are named after the assets, made safe (no folders, no control
 * characters) and unique ignoring case ("shoe.jpg", "shoe (2).jpg"). A
 * source callback may give other bytes than the original (a preset's
 * rendition) or skip an asset; skipped assets are listed, one line each
 * with the reason, in a last entry "SKIPPED.txt". Memory stays bounded by
 * one copy buffer and the central directory; the disk holds one temporary
 * copy until the caller closes the fd.
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
#define ZIP_MAX_BYTES ((uint64_t)16 << 30) /* 16 GiB per archive */
#define ZIP_SKIPPED_NAME "SKIPPED.txt"

struct zip_item {
	char asset_id[DAM_ID_LEN + 1];
	char created_by[DAM_ID_LEN + 1];  /* for the permission check; "" if unknown */
	char name[256];                   /* the entry name (safe; made unique by zip_write) */
	char key[65];                     /* the original's blob */
	uint64_t size;                    /* the original's size */
	int64_t mtime_ms;                 /* the version's creation time */
	bool skipped;                     /* set by zip_write: the source left it out */
};

/*
 * Resolves ids[0..n) (full ids or unique prefixes; repeats are dropped).
 * DAM_EINVAL for none or more than ZIP_MAX_ASSETS; DAM_ENOTFOUND (field
 * "ids", naming the id) for an unknown or deleted asset; DAM_ELIMIT when
 * the originals add up to more than ZIP_MAX_BYTES and check_size is set
 * (renditions are counted while writing instead).
 */
int zip_plan(struct dam *dam, const char *const *ids, int n, bool check_size, struct zip_item **items,
	     int *nitems, struct dam_err *err);

/*
 * Where an entry's bytes come from. Fills *fd (read from offset 0; zip_write
 * closes it), *size and, when the bytes are not the original, the entry
 * name (name holds it.name on entry, 256 bytes). Returns 0, ZIP_SKIP with
 * err's message saying why the asset is left out, or a negative DAM_E* that
 * stops the archive.
 */
#define ZIP_SKIP 1
typedef int (*zip_source_fn)(void *ctx, const struct zip_item *it, int *fd, uint64_t *size, char name[256],
			     struct dam_err *err);

/*
 * Writes the archive; *fd (read from offset 0) and *size describe it,
 * *skipped counts the assets the source left out (may be NULL; each such
 * item gets .skipped set). source NULL:
 * the originals. DAM_EINVAL when every asset was skipped (err names the
 * first reason), DAM_ELIMIT past ZIP_MAX_BYTES.
 */
int zip_write(struct dam *dam, struct zip_item *items, int n, zip_source_fn source, void *ctx, int *fd,
	      uint64_t *size, int *skipped, struct dam_err *err);

#endif
