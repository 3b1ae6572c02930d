/*
 * tile.h - Deep Zoom (DZI) tiles cut from a delivery master, for the web
 * UI's zoom viewer: tile size 256, overlap 0, level L of a W x H image is
 * the image scaled by 2^(L - maxlevel), maxlevel = ceil(log2(max(W, H))).
 * Each tile is read from the master's pyramid page nearest its scale, so a
 * zoomed-out tile never decodes the full-resolution image.
 *
 * The master is read through a blob_reader (borrowed) with ranged reads
 * only: a tile costs the bytes of its pyramid page's tiles, not the file.
 * Ownership: out->data is malloc'd, caller frees. Thread-safe once
 * media_init() ran. Reads only our own masters (see transform.h).
 */
#ifndef DAM_MEDIA_TILE_H
#define DAM_MEDIA_TILE_H

#include "media/transform.h"

#define MEDIA_TILE_SIZE 256

/* The deepest DZI level of a width x height image. */
int media_tile_max_level(int width, int height);

/* JPEG tile (col, row) of `level`. DAM_ENOTFOUND for a level or tile
 * outside the image, DAM_EMEDIA when the master does not decode. */
int media_tile_reader(struct blob_reader *master, int level, int col, int row,
		      struct media_transform_result *out, struct dam_err *err);

#endif
