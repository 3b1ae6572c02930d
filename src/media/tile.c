#include "media/tile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "media/source.h"

int media_tile_max_level(int width, int height)
{
	int m = width > height ? width : height, level = 0;

	while (m > 1 && (1 << level) < m)
		level++;
	return level;
}

/* Tiles are cut in the server process, where other threads use libvips at
 * the same time: its process-wide error buffer may hold their words, so
 * the message is ours and the buffer is only cleared. */
static int tile_err(struct dam_err *err, const char *what)
{
	vips_error_clear();
	return dam_err_set(err, DAM_EMEDIA, NULL, "%s", what);
}

static int open_page(struct blob_reader *r, int page, VipsImage **out, struct dam_err *err)
{
	VipsSource *src = media__reader_source(r);
	int rc = 0;

	if (!src)
		return tile_err(err, "the master does not decode");
	if (!(*out = vips_image_new_from_source(src, "", "page", page, "access", VIPS_ACCESS_RANDOM, NULL)))
		rc = tile_err(err, "the master does not decode");
	g_object_unref(src);
	return rc;
}

static int cut(VipsImage *page, double factor, int x, int y, int w, int h, struct media_transform_result *out,
	       struct dam_err *err)
{
	VipsImage *area = NULL, *small = NULL, *flat = NULL;
	void *buf = NULL;
	size_t len = 0;
	int rc = 0;

	if (vips_extract_area(page, &area, x, y, w, h, NULL) ||
	    (factor > 1 ? vips_resize(area, &small, 1.0 / factor, NULL) : vips_copy(area, &small, NULL))) {
		rc = tile_err(err, "cannot cut the tile");
		goto out;
	}
	if (vips_image_hasalpha(small) ? vips_flatten(small, &flat, "background", vips_array_double_newv(3, 255.0, 255.0, 255.0), NULL)
				       : vips_copy(small, &flat, NULL)) {
		rc = tile_err(err, "cannot cut the tile");
		goto out;
	}
	if (vips_jpegsave_buffer(flat, &buf, &len, "Q", 85, "strip", TRUE, NULL)) {
		rc = tile_err(err, "cannot encode the tile");
		goto out;
	}
	out->data = malloc(len);
	if (!out->data) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	memcpy(out->data, buf, len);
	out->len = len;
	out->width = flat->Xsize;
	out->height = flat->Ysize;
	out->format = MEDIA_FMT_JPEG;
	out->quality = 85;
out:
	g_free(buf);
	if (flat)
		g_object_unref(flat);
	if (small)
		g_object_unref(small);
	if (area)
		g_object_unref(area);
	return rc;
}

int media_tile_reader(struct blob_reader *master, int level, int col, int row, struct media_transform_result *out,
		  struct dam_err *err)
{
	VipsImage *base = NULL, *page = NULL;
	int rc, W, H, maxl, npages, k = 0, lw, lh;
	double scale, factor;

	memset(out, 0, sizeof *out);
	if ((rc = open_page(master, 0, &base, err)) < 0)
		return rc;
	W = base->Xsize;
	H = base->Ysize;
	npages = vips_image_get_n_pages(base);
	maxl = media_tile_max_level(W, H);
	if (level < 0 || level > maxl || col < 0 || row < 0) {
		rc = dam_err_set(err, DAM_ENOTFOUND, "tile", "no level %d (0..%d)", level, maxl);
		goto out;
	}
	scale = ldexp(1.0, maxl - level);
	lw = (int)ceil(W / scale);
	lh = (int)ceil(H / scale);
	if ((long)col * MEDIA_TILE_SIZE >= lw || (long)row * MEDIA_TILE_SIZE >= lh) {
		rc = dam_err_set(err, DAM_ENOTFOUND, "tile", "no tile %d_%d at level %d", col, row, level);
		goto out;
	}
	/* The smallest pyramid page still at least as large as the level. */
	while (k + 1 < npages && ldexp(1.0, k + 1) <= scale)
		k++;
	if (k == 0) {
		page = base;
		g_object_ref(page);
	} else if ((rc = open_page(master, k, &page, err)) < 0) {
		goto out;
	}
	factor = scale * page->Xsize / W;
	{
		int x = (int)floor(col * MEDIA_TILE_SIZE * factor), y = (int)floor(row * MEDIA_TILE_SIZE * factor);
		int x1 = (int)ceil((col + 1) * MEDIA_TILE_SIZE * factor), y1 = (int)ceil((row + 1) * MEDIA_TILE_SIZE * factor);
		x1 = x1 > page->Xsize ? page->Xsize : x1;
		y1 = y1 > page->Ysize ? page->Ysize : y1;
		if (x >= x1 || y >= y1) {
			rc = dam_err_set(err, DAM_ENOTFOUND, "tile", "no tile %d_%d at level %d", col, row, level);
			goto out;
		}
		rc = cut(page, factor, x, y, x1 - x, y1 - y, out, err);
	}
out:
	if (page)
		g_object_unref(page);
	g_object_unref(base);
	return rc;
}
