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
 * (UTF-8, XML scanning), av.c (FFmpeg), derive.c (WebP derivatives),
 * analyze.c (automatic tags, perceptual hash, colour histogram),
 * transform.c (normalised masters and delivery transforms, see
 * transform.h), imgio.c (the libvips helpers several of them share).
 * Their media__ helpers are declared one internal header per file
 * (init.h, text.h, meta.h, av.h, imgio.h, analyze.h).
 */
#ifndef DAM_MEDIA_MEDIA_H
#define DAM_MEDIA_MEDIA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/blob.h"
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
	char ext_given[16];     /* the file name's extension when ext_mismatch, else "" */
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
 * A later call only switches the magick loader to lim->allow_magick (a job
 * child forked from a zygote started under other settings); make it only
 * while no other thread runs libvips. argv0 may be NULL. Returns 0 or
 * DAM_EMEDIA. */
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
/* The same for bytes behind a blob reader (borrowed; the first 1 MB is
 * read with blob_reader_pread), e.g. a resumable upload's partial object. */
int media_sniff_reader(struct blob_reader *r, const char *filename, struct media_sniff *out,
		       struct dam_err *err);

/* The one wording of an extension mismatch, for the upload response, the
 * CLI and anything else that reports it: "the content is text/plain, but
 * the name ends in .jpg" (plus "; .png would fit" when the content has a
 * known extension). Writes "" and returns false when s has no mismatch.
 * out holds at least 256 bytes. */
bool media_sniff_warning(const struct media_sniff *s, char *out, size_t cap);

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

/* The text of every page of the PDF open on fd (read from its start), in
 * page order, cut to at most max bytes (at a character boundary), valid
 * UTF-8 with control characters as spaces; for the search index. *out is a
 * new string (caller frees), or NULL when the PDF holds no text. Returns 0,
 * DAM_EMEDIA when poppler cannot open the document, DAM_EIO, DAM_ENOMEM. */
#define MEDIA_PDF_TEXT_MAX (4u << 20)
int media_pdf_text(int fd, size_t max, char **out, struct dam_err *err);

/* Pages of a PDF that get a rendition of their own (the first included).
 * Each page is a full render at preview size, about 0.1-0.5 s with poppler,
 * in the one job of its file: 50 pages cover brochures, spec sheets and
 * lookbooks within the worker's time limit, where a 900-page catalogue
 * would not finish; the original stays downloadable for the rest. */
#define MEDIA_PDF_PAGES_MAX 50

/* The most derivatives one media_derive_fd() call hands to emit(): a PDF's
 * preview, thumbnail and its pages 2 .. MEDIA_PDF_PAGES_MAX. Callers that
 * collect them size their arrays with it. */
#define MEDIA_DERIVATIVES_MAX (2 + MEDIA_PDF_PAGES_MAX - 1)

/* One derivative produced by media_derive_fd(). Everything (data, spec,
 * strings) is borrowed for the duration of the callback only: copy or
 * json_incref what you keep. */
struct media_derivative {
	const char *name; /* "thumbnail", "preview", "poster", "keyframes", "page-2" ... */
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
 *   PDF with more than one page: also "page-2", "page-3" ... up to
 *   "page-<MEDIA_PDF_PAGES_MAX>", each that page rendered at preview size
 *   (<= 1600 px, WebP, sRGB); each page's spec adds "page" (its number),
 *   "pages" (in the document) and "capped" (the document has more pages
 *   than get renditions). The preview's spec adds "pages",
 *   "pages_rendered" (pages with a rendition, the first included) and
 *   "capped". Every page's header is checked against the limits. A later
 *   page that does not decode or is over the limits ends the run of pages
 *   there without failing the call: the pages before it are kept and the
 *   preview's spec says "page_error": "page N: <reason>". The first page
 *   failing fails the call, as for any image;
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

/* ---- automatic tags and search-by-image fingerprints (analyze.c) ---- */

#define MEDIA_HIST_BINS 64 /* 4 x 4 x 4 sRGB bins, index r*16 + g*4 + b */
#define MEDIA_COLORS_MAX 5

/* One named colour: English and Chinese name (UTF-8) and the share of the
 * visible pixels it covers, 0..1. */
struct media_color {
	char name_en[16]; /* "red" ... see the palette below */
	char name_zh[16]; /* "红色" ... */
	float share;
};

/*
 * What a worker computes from the pixels of an image or a video's poster
 * frame, made by media_derive_analyze_fd(). Plain data, no pointers: copy
 * it freely. Fields are meaningful only when `valid`.
 *
 * Palette (16 names): red 红色, orange 橙色, yellow 黄色, green 绿色,
 * teal 青色, blue 蓝色, navy 藏青色, purple 紫色, pink 粉色, brown 棕色,
 * beige 米色, gold 金色, black 黑色, grey 灰色, silver 银色 (light grey),
 * white 白色. Pixels of a 64x64 copy are named in Oklab; near-neutral
 * pixels go to black/grey/silver/white by lightness, never to a hue; fully
 * transparent pixels (alpha < 5%) are left out, others weigh by alpha.
 *
 * phash: DCT perceptual hash, 64 bits: the 32x32 grey image (flattened on
 * white), the top-left 8x8 of its DCT-II, bit 8*v+u set when coefficient
 * (u,v) is above the median of the 63 AC terms; bit 0 (the DC slot) is
 * "mean brightness above mid-grey". Compare with media_phash_distance():
 * 0 = same picture; resized, re-encoded or lightly cropped copies stay
 * within ~10; unrelated pictures land near 32.
 * hist: soft-binned (trilinear) 4x4x4 sRGB histogram of the visible
 * pixels, summing to 1 (all 0 for a fully transparent image). Compare with
 * media_hist_similarity().
 */
struct media_analysis {
	bool valid;             /* false: no pixels to analyse (audio, documents, other) */
	enum media_kind kind;   /* MEDIA_IMAGE or MEDIA_VIDEO when valid */
	int width, height;      /* the original's display size: EXIF orientation or video
				   rotation and pixel aspect applied (not the preview's) */
	uint64_t phash;
	float hist[MEDIA_HIST_BINS];
	struct media_color colors[MEDIA_COLORS_MAX]; /* largest share first */
	int ncolors;            /* entries used in colors[] (shares > 0) */
	bool transparent;       /* an alpha band with a pixel below 250/255 (read on the
				   decoded preview: isolated pixels of a huge image can be
				   averaged away) */
	char orientation[12];   /* "landscape", "portrait" or "square" (within 3%) */
	char aspect[8];         /* nearest of "1:1" "5:4" "4:5" "4:3" "3:4" "3:2" "2:3"
				   "16:9" "9:16" "21:9" within 3% (|ln(ratio/class)| <=
				   0.03), else "" (e.g. 1000x600 = 5:3 has none) */
	float aspect_closeness; /* 1 = exact, 0.5 = at the 3% edge, 0 when aspect is "" */
	char resolution[16];    /* by width*height: "small" < 1 MP, "medium" 1-4 MP,
				   "large" 4-12 MP, "very-large" >= 12 MP */
};

/*
 * media_derive_fd() that also analyses the pixels it decodes (no second
 * decode): images from their in-memory preview, video from its poster
 * frame. *out (may be NULL: then this is media_derive_fd()) is always
 * reset; valid only for images (sniff kind MEDIA_IMAGE) and video with a
 * video stream, false for everything else (PDF and other documents,
 * audio). Returns as media_derive_fd(); a failed analysis fails the call
 * with DAM_EMEDIA.
 */
int media_derive_analyze_fd(int fd, const struct media_sniff *sniff,
			    const struct media_limits *lim, media_emit_fn emit, void *ctx,
			    struct media_analysis *out, struct dam_err *err);

/*
 * The automatic tags of an analysis, as a new JSON array (caller owns,
 * json_decref) of {"tag": string, "confidence": 0..1 (3 decimals)}, in
 * this order:
 *   colour names, English then Chinese ("blue", "蓝色"), for each colour
 *     with share >= 10%; confidence = share;
 *   "landscape" | "portrait" | "square" (1);
 *   "aspect:16:9" etc. when there is an aspect class (aspect_closeness);
 *   "resolution:small" | ":medium" | ":large" | ":very-large" (1);
 *   "transparent" when it is (1);
 *   "kind:image" | "kind:video" (1).
 * An invalid (or NULL) analysis gives an empty array. NULL on ENOMEM.
 */
json_t *media_analysis_tags(const struct media_analysis *a);

/* Hamming distance of two pHashes, 0..64. */
int media_phash_distance(uint64_t a, uint64_t b);

/* Histogram intersection of two MEDIA_HIST_BINS histograms, in [0, 1]:
 * 1 = same colour distribution. Two empty histograms give 1, one empty 0. */
double media_hist_similarity(const float *a, const float *b);

#endif
