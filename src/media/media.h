/*
 * media.h - reading untrusted media files: type sniffing, technical metadata
 * and derivatives (thumbnail, preview, video poster and keyframe strip).
 *
 * This layer knows nothing of SQL, HTTP or where blobs live: it reads from a
 * file descriptor it is given (borrowed, never closed here; it may be read
 * from any offset, callers must not rely on its position afterwards) and
 * returns JSON (jansson) and memory buffers.
 *
 * Everything except media_sniff_fd() decodes untrusted data and must only be
 * called in a sandboxed worker child (see core/worker.h) after media_init().
 *
 * Thread-safety: media_init() once per process; media_sniff_fd() is
 * thread-safe (one shared libmagic handle behind a mutex). The decoding
 * calls are re-entrant in memory, but media_derive_fd() reads libvips's
 * process-wide error buffer to catch decode failures that libvips 8.14
 * reports only there, so run one derive at a time per process (the worker
 * model: one job per child) or an error may be blamed on the wrong file.
 *
 * Loaders: libvips's untrusted loaders are blocked except jxl, pdf (poppler)
 * and svg (librsvg), plus magick when media_limits.allow_magick; see init.c.
 *
 * Files: init.c (start, limits, errors), sniff.c (libmagic), probe.c
 * (images/PDF/SVG metadata), meta.c (EXIF/IPTC/XMP/ICC parsers), text.c
 * (UTF-8, XML scanning), av.c (FFmpeg), derive.c (WebP derivatives);
 * media_int.h holds their shared media__ helpers.
 */
#ifndef DAM_MEDIA_MEDIA_H
#define DAM_MEDIA_MEDIA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum media_kind {
	MEDIA_OTHER = 0,
	MEDIA_IMAGE,
	MEDIA_VIDEO,
	MEDIA_AUDIO,
	MEDIA_DOCUMENT, /* PDF and office documents */
};

/* "image", "video", "audio", "document", "other". */
const char *media_kind_name(enum media_kind k);

struct media_sniff {
	char mime[128];         /* by content (libmagic), e.g. "image/jpeg" */
	enum media_kind kind;
	char format[16];        /* short format name: "jpeg", "png", "mp4", "pdf" ... or "" */
	bool ext_mismatch;      /* the file name's extension contradicts the content */
	char ext_expected[16];  /* an extension fitting the content ("jpg"), or "" */
};

struct media_limits {
	uint64_t max_pixels;      /* refuse images with width*height above this (decompression bombs) */
	int max_dimension;        /* refuse images wider or taller than this */
	double max_video_seconds; /* keyframe strip only samples within this; 0 = no limit */
	bool allow_magick;        /* allow libvips's ImageMagick loader (PSD etc.); off by default */
};

/* Fills *lim with safe defaults: 250 megapixels, 50000 px, 4 h, no magick. */
void media_limits_default(struct media_limits *lim);

/* Starts libvips (once per process) and blocks its untrusted loaders, except
 * those this module explicitly allows (and magick when lim->allow_magick).
 * argv0 may be NULL. Returns 0 or DAM_EMEDIA. */
int media_init(const char *argv0, const struct media_limits *lim, struct dam_err *err);

/* Shuts libvips down (for leak checkers). Safe to call when not inited. */
void media_shutdown(void);

/* Detects type by content with libmagic; `filename` (may be NULL) is only
 * used to compare the extension. Does not decode pixels; safe in any process
 * and without media_init(). Reads the first 1 MB with pread() (the file
 * position is untouched). SVG that libmagic calls text/xml or text/plain is
 * recognised by its root element. ext_mismatch is set only when the
 * extension is one we know for another type (a PNG named .jpg); a missing
 * or unknown extension is no mismatch, and the ISO media family
 * (mp4/m4v/mov/m4a/3gp) counts as one. Office documents are
 * MEDIA_DOCUMENT too. Returns 0, DAM_EIO if fd cannot be read, DAM_ENOMEM.
 * Empty files give mime "application/x-empty", kind MEDIA_OTHER. */
int media_sniff_fd(int fd, const char *filename, struct media_sniff *out, struct dam_err *err);

/*
 * Technical metadata of the file as a new JSON object (caller owns *out,
 * json_decref). Keys (absent when unknown):
 *   all:    "kind", "mime", "format"
 *   image:  "width","height" (as stored, before "orientation" is
 *           applied),"bands","interpretation" (libvips nick: "srgb",
 *           "b-w","cmyk","rgb16"...),"icc" (profile description),
 *           "alpha"(bool),"resolution":{"x","y","unit"} (pixels per "in",
 *           or per "cm" when the file says so; absent when not given),
 *           "orientation"(1-8),"pages",
 *           "exif":{"make","model","lens","exposure_time","f_number","iso",
 *                   "focal_length","date_taken","gps":{"lat","lon","alt"}},
 *           "embedded":{"title","description","keywords":[..],"creator",
 *                   "copyright","usage_terms"} from IPTC and XMP (XMP wins)
 *   video/audio: "container" (libavformat name, e.g.
 *           "mov,mp4,m4a,3gp,3g2,mj2"),"duration"(s),"bitrate"(bit/s),
 *           "video":{"codec","width","height","fps","rotation"} (rotation:
 *           0/90/180/270, the clockwise turn that shows the video upright,
 *           as ffmpeg applies it; ffprobe prints the opposite sign),
 *           "audio":{"codec","channels","sample_rate"}; video also
 *           top-level "width","height"
 *   pdf:    "pages","page_width","page_height" (points),"title","author"
 *           (also under "embedded")
 *   svg:    "viewbox":[x,y,w,h], "width","height"
 * Images, PDF and SVG are read header-only (no pixel decode), so a file
 * whose header is whole but whose pixels are damaged passes here and fails
 * in media_derive_fd().
 * Refuses images above the limits with DAM_ELIMIT and a message naming the
 * size ("image is 60000x60000 = 3600 megapixels, limit is 250"), files that
 * do not decode with DAM_EMEDIA and the decoder's words. Other codes:
 * DAM_EIO, DAM_ENOMEM. On error *out is NULL.
 */
int media_probe_fd(int fd, const struct media_sniff *sniff, const struct media_limits *lim,
		   json_t **out, struct dam_err *err);

/* One derivative produced by media_derive_fd(). Everything (data, spec,
 * strings) is borrowed for the duration of the callback only: copy or
 * json_incref what you keep. */
struct media_derivative {
	const char *name; /* "thumbnail", "preview", "poster", "keyframes" */
	const char *mime; /* "image/webp" */
	const void *data;
	size_t len;
	int width, height;
	json_t *spec;     /* how it was made, e.g. {"max":320,"format":"webp","q":80}; borrowed */
};

/* Return 0 to continue, negative to abort derive with that code (fill err;
 * if left empty, derive fills it with a generic message). */
typedef int (*media_emit_fn)(void *ctx, const struct media_derivative *d, struct dam_err *err);

/*
 * Makes the derivatives of a file and hands each to emit():
 *   images and PDF (first page), SVG, anything libvips loads: "thumbnail"
 *   (longest side <= 320 px) and "preview" (<= 1600 px), WebP, sRGB, never
 *   upscaled, EXIF orientation applied;
 *   video: "poster" (a frame from ~10% in, preview size, WebP), "thumbnail"
 *   of that frame and "keyframes" (a horizontal strip of up to 10 distinct
 *   frames sampled evenly within max_video_seconds, each 160 px high,
 *   WebP; spec adds "frames", "height", "span"), display matrix and pixel
 *   aspect applied; a file without a video stream gives nothing;
 *   audio and other kinds: nothing (returns 0).
 * Decodes each image once (shrink-on-load at preview size, thumbnail made
 * from the preview in memory); fails damaged pixel data (fail_on=error).
 * Derivatives carry no metadata. Returns 0, or DAM_ELIMIT / DAM_EMEDIA as
 * media_probe_fd, or the negative code emit() returned.
 */
int media_derive_fd(int fd, const struct media_sniff *sniff, const struct media_limits *lim,
		    media_emit_fn emit, void *ctx, struct dam_err *err);

#endif
