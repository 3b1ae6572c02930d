/*
 * derive.c - thumbnails and previews of images, PDF and SVG (libvips), and
 * dispatch to av.c for video.
 *
 * One decode per file: the header is read first to check the limits, then
 * vips_thumbnail_source() makes the preview with shrink-on-load (JPEG DCT
 * scaling, WebP/HEIF/PDF/SVG render at size), autorotated and converted to
 * sRGB. That preview is materialised in memory once; the thumbnail is
 * resized from it rather than decoded again, and the analysis (analyze.c)
 * reads it too. A PDF's later pages are rendered the same way, one at a
 * time, each freed before the next. For video the analysis taps the
 * "poster" derivative on its way to emit() and decodes that small WebP at
 * reduced scale (av.c keeps its frames to itself).
 */
#include "media/media.h"
#include "media/analyze.h"
#include "media/av.h"
#include "media/imgio.h"
#include "media/init.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#define PREVIEW_MAX 1600
#define THUMB_MAX 320
/* the poster is decoded for analysis at about this long side */
#define POSTER_ANALYZE_SIDE 256
#define POSTER_TAP_MAGIC 0x70746170u

/* Drops the metadata blobs of the decoded preview: derivatives carry no
 * metadata, and in libvips 8.14 heifload's blobs point into the loader's
 * memory, freed with it (webpsave reading "exif-data" afterwards is a
 * use-after-free under ASan). */
static void drop_blobs(VipsImage *im)
{
	gchar **fields = vips_image_get_fields(im);
	int i;

	for (i = 0; fields && fields[i]; i++)
		if (vips_image_get_typeof(im, fields[i]) == VIPS_TYPE_BLOB)
			vips_image_remove(im, fields[i]);
	g_strfreev(fields);
}

/* The preview, decoded once into memory; `opts` are loader options ("" or
 * "page=N" for a PDF page). */
static int make_preview(int fd, bool magick, const char *opts, VipsImage **out,
			struct dam_err *err)
{
	VipsSource *src = NULL;
	VipsImage *t = NULL;
	char path[64];
	int rc = 0;

	*out = NULL;
	/* libvips 8.14's tile cache turns a loader failure (fail_on) into a
	 * warning and grey tiles, so a failed read shows only in the error
	 * buffer: start it empty. Workers decode one file per process, so
	 * nothing else writes to it meanwhile. */
	vips_error_clear();
	if (magick) {
		/* magickload has no source variant: go through the path */
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (vips_thumbnail(path, &t, PREVIEW_MAX, "size", VIPS_SIZE_DOWN, "fail_on",
				   VIPS_FAIL_ON_ERROR, NULL))
			goto fail;
	} else {
		if (lseek(fd, 0, SEEK_SET) < 0)
			return dam_err_errno(err, DAM_EIO, errno, "cannot seek file");
		if (!(src = vips_source_new_from_descriptor(fd)))
			goto fail;
		if (vips_thumbnail_source(src, &t, PREVIEW_MAX, "size", VIPS_SIZE_DOWN, "fail_on",
					  VIPS_FAIL_ON_ERROR, "option_string", opts, NULL))
			goto fail;
	}
	/* The decode happens here, once. */
	*out = vips_image_copy_memory(t);
	if (!*out || media__decode_failed(vips_error_buffer())) {
		if (*out)
			g_object_unref(*out);
		*out = NULL;
		goto fail;
	}
	drop_blobs(*out);
	goto out;
fail:
	rc = media__vips_err(err, DAM_EMEDIA, "cannot decode image");
out:
	if (t)
		g_object_unref(t);
	if (src)
		g_object_unref(src);
	return rc;
}

/* Page `page` (0-based; only PDFs have pages beyond the first) decoded at
 * preview size into *out, after its header passed the limits: pages of one
 * PDF may differ in size, so each is checked. Sets *w, *h to the displayed
 * size (orientation applied) and *pages to the file's page count (1 when
 * the loader gives none); each may be NULL. */
static int load_page(int fd, const struct media_limits *lim, int page, VipsImage **out, int *w,
		     int *h, int *pages, struct dam_err *err)
{
	VipsImage *header = NULL;
	const char *loader = NULL;
	char opts[24] = "";
	bool magick;
	int rc, iw, ih, n = 1;

	*out = NULL;
	if (page > 0)
		snprintf(opts, sizeof opts, "page=%d", page);
	if ((rc = media__open_image(fd, opts, &header, err)) < 0)
		goto out;
	iw = vips_image_get_width(header);
	ih = vips_image_get_height(header);
	if ((rc = media__check_size(iw, ih, lim, err)) < 0)
		goto out;
	if (vips_image_get_orientation_swap(header)) {
		int t = iw;

		iw = ih;
		ih = t;
	}
	if (vips_image_get_typeof(header, VIPS_META_LOADER) &&
	    vips_image_get_string(header, VIPS_META_LOADER, &loader))
		vips_error_clear();
	magick = loader && !strncmp(loader, "magick", 6);
	if (magick && page > 0) {
		/* the magick fallback ignores "page": it would show page 1 again */
		rc = dam_err_set(err, DAM_EMEDIA, NULL, "only the PDF loader reads later pages");
		goto out;
	}
	if (vips_image_get_typeof(header, VIPS_META_N_PAGES) == G_TYPE_INT &&
	    (vips_image_get_int(header, VIPS_META_N_PAGES, &n) || n < 1)) {
		vips_error_clear();
		n = 1;
	}
	/* the header's source shares the file offset with the next one */
	g_object_unref(header);
	header = NULL;
	if ((rc = make_preview(fd, magick, opts, out, err)) < 0)
		goto out;
	if (w)
		*w = iw;
	if (h)
		*h = ih;
	if (pages)
		*pages = n;
out:
	if (header)
		g_object_unref(header);
	return rc;
}

static int derive_image(int fd, const struct media_limits *lim, media_emit_fn emit, void *ctx,
			struct media_analysis *an, struct dam_err *err)
{
	VipsImage *preview = NULL;
	int rc, w, h;

	if ((rc = load_page(fd, lim, 0, &preview, &w, &h, NULL, err)) < 0)
		goto out;
	if (an && (rc = media__analyze_image(preview, w, h, an, err)) < 0)
		goto out;
	if ((rc = media__emit_webp(preview, "preview", PREVIEW_MAX, NULL, emit, ctx, err)) < 0)
		goto out;
	rc = media__emit_webp(preview, "thumbnail", THUMB_MAX, NULL, emit, ctx, err);
out:
	if (preview)
		g_object_unref(preview);
	return rc;
}

/* Renders pages 2 .. last of a PDF as "page-N". A page that does not
 * decode or is over the limits ends the run there, keeping the pages
 * before it: the first page's previews already stand for the document,
 * and failing the whole job would lose them too. Its message goes to
 * *page_err and *done counts the pages rendered, the first included.
 * Errors of emit() (storing) still fail the call. */
static int derive_pdf_pages(int fd, const struct media_limits *lim, int pages, int last,
			    media_emit_fn emit, void *ctx, int *done, struct dam_err *page_err,
			    struct dam_err *err)
{
	VipsImage *im = NULL;
	json_t *extra = NULL;
	char name[24];
	int rc = 0, n;

	*done = 1;
	for (n = 2; n <= last; n++) {
		rc = load_page(fd, lim, n - 1, &im, NULL, NULL, NULL, page_err);
		if (rc == DAM_EMEDIA || rc == DAM_ELIMIT) {
			rc = 0;
			break;
		}
		if (rc < 0) {
			if (err)
				*err = *page_err;
			goto out;
		}
		snprintf(name, sizeof name, "page-%d", n);
		extra = json_pack("{s:i,s:i,s:b}", "page", n, "pages", pages, "capped", pages > last);
		if (!extra) {
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
			goto out;
		}
		if ((rc = media__emit_webp(im, name, PREVIEW_MAX, extra, emit, ctx, err)) < 0)
			goto out;
		json_decref(extra);
		extra = NULL;
		g_object_unref(im);
		im = NULL;
		*done = n;
	}
out:
	json_decref(extra);
	if (im)
		g_object_unref(im);
	return rc;
}

/* A PDF: the first page as "preview" and "thumbnail" (a failure there
 * fails the file, as for any image), then the further pages. The preview's
 * spec says how the page run went, since it exists whatever happened to
 * the later pages: "pages" (in the document), "pages_rendered" (the first
 * included), "capped" and "page_error" ("page 7: ..."). */
static int derive_pdf(int fd, const struct media_limits *lim, media_emit_fn emit, void *ctx,
		      struct dam_err *err)
{
	struct dam_err page_err = { 0 };
	VipsImage *first = NULL;
	json_t *extra = NULL;
	int rc, pages = 1, last, done = 1;

	if ((rc = load_page(fd, lim, 0, &first, NULL, NULL, &pages, err)) < 0)
		goto out;
	last = pages < MEDIA_PDF_PAGES_MAX ? pages : MEDIA_PDF_PAGES_MAX;
	if ((rc = derive_pdf_pages(fd, lim, pages, last, emit, ctx, &done, &page_err, err)) < 0)
		goto out;
	extra = json_pack("{s:i,s:i,s:b}", "pages", pages, "pages_rendered", done, "capped",
			  pages > last);
	if (extra && page_err.code)
		json_object_set_new(extra, "page_error",
				    json_sprintf("page %d: %s", done + 1, page_err.msg));
	if (!extra) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if ((rc = media__emit_webp(first, "preview", PREVIEW_MAX, extra, emit, ctx, err)) < 0)
		goto out;
	rc = media__emit_webp(first, "thumbnail", THUMB_MAX, NULL, emit, ctx, err);
out:
	json_decref(extra);
	if (first)
		g_object_unref(first);
	return rc;
}

/* Passes derivatives on to the caller's emit(), analysing the first
 * "poster" on the way. */
struct poster_tap {
	uint32_t magic;
	media_emit_fn emit;
	void *ctx;
	struct media_analysis *an;
};

static int poster_tap(void *ctx, const struct media_derivative *d, struct dam_err *err)
{
	struct poster_tap *t = ctx;
	VipsImage *im = NULL;
	int lng = d->width > d->height ? d->width : d->height, rc;

	assert(t->magic == POSTER_TAP_MAGIC);
	if (t->an->valid || strcmp(d->name, "poster") != 0)
		return t->emit(t->ctx, d, err);
	/* libwebp scales while decoding; the buffer outlives the analysis */
	if (vips_webpload_buffer((void *)d->data, d->len, &im, "scale",
				 lng > POSTER_ANALYZE_SIDE ? (double)POSTER_ANALYZE_SIDE / lng : 1.0,
				 NULL))
		return media__vips_err(err, DAM_EMEDIA, "cannot read poster");
	rc = media__analyze_image(im, d->width, d->height, t->an, err);
	g_object_unref(im);
	return rc < 0 ? rc : t->emit(t->ctx, d, err);
}

/* The poster is the video's display size fitted into the preview box:
 * when it was shrunk, scale the stream's size (rotation applied) to the
 * poster's shape, which carries the pixel aspect. */
static void video_size(int fd, const struct media_limits *lim, struct media_analysis *an)
{
	struct dam_err err = { 0 };
	json_t *meta = json_object(), *v;
	double pa = (double)an->width / an->height;
	int w, h, rot;

	if (an->width < PREVIEW_MAX && an->height < PREVIEW_MAX)
		goto out; /* not shrunk: already the display size */
	if (!meta || media__av_probe(fd, lim, meta, &err) < 0 ||
	    !json_is_object(v = json_object_get(meta, "video")))
		goto out; /* keep the poster's size: still the right shape */
	w = (int)json_integer_value(json_object_get(v, "width"));
	h = (int)json_integer_value(json_object_get(v, "height"));
	rot = (int)json_integer_value(json_object_get(v, "rotation"));
	if (w < 1 || h < 1)
		goto out;
	if (rot == 90 || rot == 270) {
		int t = w;

		w = h;
		h = t;
	}
	if (fabs(log((double)w / h / pa)) > 0.01) {
		if (rot == 90 || rot == 270)
			h = (int)lround(w / pa);
		else
			w = (int)lround(h * pa);
	}
	if (w >= 1 && h >= 1)
		media__analysis_set_size(an, w, h);
out:
	json_decref(meta);
}

static int derive_video(int fd, const struct media_limits *lim, media_emit_fn emit, void *ctx,
			struct media_analysis *an, struct dam_err *err)
{
	struct poster_tap tap = { POSTER_TAP_MAGIC, emit, ctx, an };
	int rc;

	if (!an)
		return media__av_derive(fd, lim, emit, ctx, err);
	if ((rc = media__av_derive(fd, lim, poster_tap, &tap, err)) < 0)
		return rc;
	if (an->valid) {
		an->kind = MEDIA_VIDEO;
		video_size(fd, lim, an);
	}
	return 0;
}

int media_derive_analyze_fd(int fd, const struct media_sniff *sniff,
			    const struct media_limits *lim, media_emit_fn emit, void *ctx,
			    struct media_analysis *out, struct dam_err *err)
{
	if (out)
		memset(out, 0, sizeof *out);
	switch (sniff->kind) {
	case MEDIA_IMAGE:
		return derive_image(fd, lim, emit, ctx, out, err);
	case MEDIA_DOCUMENT:
		if (!strcmp(sniff->mime, "application/pdf"))
			return derive_pdf(fd, lim, emit, ctx, err);
		return 0;
	case MEDIA_VIDEO:
		return derive_video(fd, lim, emit, ctx, out, err);
	case MEDIA_AUDIO:
	case MEDIA_OTHER:
		break;
	}
	return 0;
}

int media_derive_fd(int fd, const struct media_sniff *sniff, const struct media_limits *lim,
		    media_emit_fn emit, void *ctx, struct dam_err *err)
{
	return media_derive_analyze_fd(fd, sniff, lim, emit, ctx, NULL, err);
}
