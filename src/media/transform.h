/*
 * transform.h - making delivery images from a normalised master.
 *
 * The master is our own file: a tiled pyramidal TIFF in sRGB, upright (EXIF
 * orientation applied), made once per version by media_master_write() in a
 * sandboxed worker child from the untrusted original. media_transform_reader()
 * reads only masters, so it may run in the server process; it still bounds
 * pixels and time because the options come from URLs.
 *
 * Ownership: every pointer argument is borrowed; *out of
 * media_transform_reader() is malloc'd and owned by the caller (free()).
 * Thread-safety: media_transform_reader() is re-entrant (libvips is
 * thread-safe) once media_init() ran in the process, also on one reader
 * shared by several threads (it reads with blob_reader_pread only). It never reads libvips's
 * process-wide error buffer (its messages are its own) and clears that
 * buffer after a libvips failure, so nothing else in the same process
 * should rely on reading it.
 */
#ifndef DAM_MEDIA_TRANSFORM_H
#define DAM_MEDIA_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/media.h"
#include "store/blob.h"
#include "util/err.h"

/*
 * How the image meets the box width x height, and the one upscaling rule of
 * each fit. `up` (media_transform.up, up_N in URLs and presets) is the
 * largest enlargement allowed, 1 (never enlarge) unless given:
 *   INSIDE:  scaled to fit inside the box, no padding; enlarged at most up
 *            times, so a small image stays smaller than the box.
 *   CONTAIN: scaled to fit inside the box (enlarged at most up times), then
 *            padded with `bg` to exactly the box (letterbox): always the box.
 *   COVER:   scaled to fill the box, the overflow cropped (see crop): always
 *            exactly the box. An image that would need more than up times
 *            enlargement is refused (DAM_ECONFLICT, field "up", saying by
 *            how much), never delivered smaller than promised.
 *   FILL:    stretched to exactly the box, aspect ratio not kept; refused
 *            like COVER when either axis would need more than up times.
 * The enlargement applied is reported (media_transform_result.enlarged).
 * With only one of width/height set, the other follows the aspect ratio and
 * every fit behaves as INSIDE. With neither set the size is unchanged.
 */
enum media_fit { MEDIA_FIT_INSIDE = 0, MEDIA_FIT_CONTAIN, MEDIA_FIT_COVER, MEDIA_FIT_FILL };

/* Which part COVER keeps: the centre, a gravity edge/corner, the most
 * salient region (libvips attention), or the focal point (see focal_x). */
enum media_crop { MEDIA_CROP_CENTER = 0, MEDIA_CROP_GRAVITY, MEDIA_CROP_SMART, MEDIA_CROP_FOCAL };

enum media_gravity {
	MEDIA_GRAV_CENTER = 0, MEDIA_GRAV_N, MEDIA_GRAV_NE, MEDIA_GRAV_E, MEDIA_GRAV_SE,
	MEDIA_GRAV_S, MEDIA_GRAV_SW, MEDIA_GRAV_W, MEDIA_GRAV_NW,
};

/* Output formats; AUTO never reaches media_transform_reader() (the delivery
 * layer resolves it from the Accept header first). */
enum media_format {
	MEDIA_FMT_JPEG = 0, MEDIA_FMT_PNG, MEDIA_FMT_WEBP, MEDIA_FMT_AVIF, MEDIA_FMT_JXL, MEDIA_FMT_AUTO,
};

/* "jpeg" "png" "webp" "avif" "jxl" "auto"; mime "image/jpeg" ... ("" for AUTO). */
const char *media_format_name(enum media_format f);
const char *media_format_mime(enum media_format f);

/*
 * One transform. Zero-initialised means: same size, INSIDE, centre, no
 * rotation, white background, JPEG at the format's default quality, dpr 1,
 * default sharpening, copyright and creator kept.
 *
 * Order of operations: trim -> rotate/flip -> resize/crop per fit ->
 * sharpen (after a downscale) -> blur -> pad -> watermark -> flatten on bg
 * when the format has no alpha -> sRGB -> encode (re-encoding at lower
 * quality until max_bytes is met). Rotation comes before the flips: flip_h
 * mirrors the turned image left to right. Trim takes the top-left pixel as
 * the border colour; an image that is all border is kept whole.
 *
 * Metadata when !strip_all: an sRGB ICC profile (libvips's, with compact
 * curves: about 1 KB), and copyright/creator as EXIF Copyright/Artist
 * (ASCII: other characters are transliterated) and XMP dc:rights/
 * dc:creator (UTF-8). JPEG, WebP and AVIF get both; PNG gets XMP only
 * (libvips 8.14 writes no EXIF to PNG); JPEG XL is then wrapped in its
 * ISO BMFF container with an "xml " box (libvips 8.14 writes neither).
 * Nothing of the master or the original is carried over.
 */
struct media_transform {
	int width, height;         /* box in CSS pixels, 0 = unset; multiplied by dpr */
	enum media_fit fit;
	enum media_crop crop;
	enum media_gravity gravity; /* for MEDIA_CROP_GRAVITY */
	double focal_x, focal_y;   /* 0..1 of the master's width/height; used by
				      MEDIA_CROP_FOCAL, which falls back to SMART when
				      either is < 0 */
	int rotate;                /* 0, 90, 180, 270 clockwise */
	bool flip_h, flip_v;
	bool bg_set;
	uint8_t bg[4];             /* RGBA background for padding/flattening; white when !bg_set */
	int pad[4];                /* top, right, bottom, left in CSS pixels (times dpr), added
				      outside the box */
	enum media_format format;
	int quality;               /* 1..100, 0 = format default (JPEG 85, WebP 80, AVIF 55,
				      JXL 75; PNG ignores it) */
	double dpr;                /* 1..4; 0 = 1 */
	double up;                 /* largest enlargement, 1..8; 0 = 1 (never enlarge) */
	double blur;               /* Gaussian sigma, 0 = none */
	double sharpen;            /* sigma (vips_sharpen); 0 = default mild sharpen (3x3) after a
				      downscale, < 0 = none */
	int trim;                  /* threshold 1..255 to trim a uniform border, 0 = none */
	int64_t max_bytes;         /* byte budget, 0 = none; DAM_ELIMIT when even the lowest
				      quality cannot meet it */
	bool strip_all;            /* true: no metadata at all; false: copyright and creator
				      (below) written as EXIF/XMP when given */
	const char *copyright;     /* may be NULL */
	const char *creator;       /* may be NULL */
	struct blob_reader *wm;    /* watermark master (another asset's master; borrowed),
				      NULL = none */
	enum media_gravity wm_gravity; /* placed flush with that edge or corner */
	double wm_scale;           /* watermark width as a fraction of the output width, 0..1;
				      0 = 0.25 (height follows, at most the output's) */
	double wm_opacity;         /* 0..1; 0 draws nothing */
};

/* Fills t with the defaults described above (wm = NULL, dpr 1,
 * wm_scale 0.25, wm_opacity 1). */
void media_transform_init(struct media_transform *t);

struct media_transform_limits {
	uint64_t max_input_pixels;  /* refuse a master larger than this */
	uint64_t max_output_pixels; /* refuse a result larger than this (after dpr and pad) */
	int timeout_ms;             /* cancel the libvips pipeline after this; 0 = none */
};

/* 100 MP in, 50 MP out, 20 s. */
void media_transform_limits_default(struct media_transform_limits *lim);

struct media_transform_result {
	void *data;      /* malloc'd, caller frees */
	size_t len;
	int width, height;
	enum media_format format;
	int quality;     /* the quality finally used (after the byte budget) */
	double enlarged; /* largest scale factor applied, 1 = not enlarged */
};

/* What a transform would make of a width x height master, without pixels. */
struct media_transform_plan {
	int width, height; /* the result's size (before trim, which needs pixels) */
	double enlarged;   /* as media_transform_result.enlarged */
};

/*
 * Plans t on a width x height master: the sizes and the enlargement, or the
 * refusal media_transform_reader() would give for a source too small for cover
 * or fill (DAM_ECONFLICT, field "up", with the message). Format AUTO is
 * accepted here. Pure arithmetic: no I/O, thread-safe.
 */
int media_transform_plan(int width, int height, const struct media_transform *t,
			 struct media_transform_plan *out, struct dam_err *err);

/*
 * Applies t to the master read through `master` (borrowed; read with
 * ranged blob_reader_pread calls only, so from an object store only the
 * bytes of the pyramid level and region needed are fetched), reading the
 * pyramid level nearest the needed size. On success fills *out.
 * lim may be NULL (the defaults). Errors: DAM_EINVAL for options out of
 * range or contradicting each other ("crop needs fit cover", format AUTO),
 * DAM_ELIMIT for pixel limits, byte budget or timeout (message says which:
 * "transform took longer than N ms"), DAM_EMEDIA when the master or the
 * watermark master does not decode ("watermark master does not decode:
 * ..."), DAM_EIO, DAM_ENOMEM. On error out->data is NULL.
 */
int media_transform_reader(struct blob_reader *master, const struct media_transform *t,
		       const struct media_transform_limits *lim, struct media_transform_result *out,
		       struct dam_err *err);

/*
 * Writes the normalised master of an untrusted image file (in_fd, borrowed)
 * to out_path (created/truncated): full resolution, EXIF orientation
 * applied, converted to sRGB from its ICC profile (CMYK and 16-bit
 * included), alpha kept, tiled (256 px) pyramidal TIFF, JPEG-compressed
 * (Q 92) without alpha and deflate with alpha. Only in a sandboxed worker
 * child after media_init(). PDF/SVG: the first page rasterised at the size
 * media_probe_fd reports (at most 4096 px on the long side; PDF pages
 * flattened on white). No metadata is kept (not even the ICC profile: a
 * master is sRGB by definition); BigTIFF when the pixels need it. Fills
 * *width, *height. Errors as media_probe_fd (DAM_ELIMIT, DAM_EMEDIA),
 * DAM_EIO when out_path cannot be created.
 */
int media_master_write(int in_fd, const struct media_sniff *sniff, const struct media_limits *lim,
		       const char *out_path, int *width, int *height, struct dam_err *err);

#endif
