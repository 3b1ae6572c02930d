/*
 * transform.c - delivery images from a normalised master, and writing that
 * master from an untrusted original.
 *
 * Reading: a master is a page pyramid (page k is page 0 halved k times,
 * see media_master_write()), so a transform loads only the smallest page
 * that still holds at least as many pixels as the output needs and makes
 * one reduction of less than 2x from it, like vips_thumbnail() does. The
 * plan (sizes, crop window, level) is made with arithmetic on the header
 * first, so limits are checked before any pixel is decoded; the libvips
 * pipeline is then built lazily and runs once, inside the encoder.
 *
 * Rotation and flips are applied after the resize, to the small image,
 * with the box, the crop gravity and the focal point mapped to the
 * unrotated frame; the result is the same as rotating first.
 *
 * Errors: libvips keeps one error buffer per process, shared by every
 * thread. Transforms run concurrently in the server, so they never read
 * it (a message there may belong to another request): every message is
 * built here, naming the stage that failed. After a libvips failure the
 * buffer is cleared so that it does not fill up (it is a fixed 10 KB and
 * stops taking text when full); nothing in the server process reads it.
 *
 * Timeout: the image being computed gets a progress handler that kills
 * the evaluation once the deadline has passed; between stages the
 * deadline is checked directly. libheif and libjxl encode after libvips
 * has handed them all the pixels and cannot be interrupted: a huge AVIF
 * or JPEG XL overruns the deadline by its encoding time.
 */
#include "media/transform.h"

#include <errno.h>
#include <fcntl.h>
#include <lcms2.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/imgio.h"
#include "media/init.h"
#include "media/source.h"
#include "util/strbuf.h"
#include "util/utf8.h"

#define MASTER_TILE 256
#define MASTER_Q 92
/* PDF and SVG masters are rendered at most this long on their long side. */
#define DOC_MAX_SIDE 4096
/* Smart crop looks at a 32x32 attention map; a level this large is plenty. */
#define SMART_SIDE 256
#define DEFAULT_WM_SCALE 0.25
/* Longest copyright/creator text we embed. */
#define META_TEXT_MAX 2000
/* Scaled images beyond this many pixels on a side are refused (they are
 * lazily computed, but the sizes must stay in int). */
#define MAX_SIDE 10000000

/* ---- names and defaults ---- */

const char *media_format_name(enum media_format f)
{
	static const char *const names[] = { "jpeg", "png", "webp", "avif", "jxl", "auto" };

	return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "";
}

const char *media_format_mime(enum media_format f)
{
	static const char *const mimes[] = { "image/jpeg", "image/png", "image/webp",
					     "image/avif", "image/jxl", "" };

	return (unsigned)f < sizeof mimes / sizeof mimes[0] ? mimes[f] : "";
}

static int default_quality(enum media_format f)
{
	switch (f) {
	case MEDIA_FMT_JPEG:
		return 85;
	case MEDIA_FMT_WEBP:
		return 80;
	case MEDIA_FMT_AVIF:
		return 55;
	case MEDIA_FMT_JXL:
		return 75;
	case MEDIA_FMT_PNG:
	case MEDIA_FMT_AUTO:
		break;
	}
	return 0;
}

static bool format_has_alpha(enum media_format f)
{
	return f != MEDIA_FMT_JPEG;
}

void media_transform_init(struct media_transform *t)
{
	memset(t, 0, sizeof *t);
	t->dpr = 1;
	t->wm = NULL;
	t->wm_scale = DEFAULT_WM_SCALE;
	t->wm_opacity = 1;
}

void media_transform_limits_default(struct media_transform_limits *lim)
{
	lim->max_input_pixels = 100ull * 1000 * 1000;
	lim->max_output_pixels = 50ull * 1000 * 1000;
	lim->timeout_ms = 20000;
}

/* ---- the sRGB profile we embed ---- */

/*
 * libvips's built-in sRGB profile is 6.9 KB, 6 KB of it three identical
 * 1024-entry tone curves: too much for a 20 KB thumbnail. We embed the
 * same profile (same primaries, white point and curve) with one 256-entry
 * curve shared by the three channels and the two redundant description
 * tags dropped: about 1 KB. With 256 entries every 8-bit code value is a
 * table entry, so a colour-managed viewer gets exactly the values the
 * full profile gives for our 8-bit output.
 */
static pthread_once_t srgb_once = PTHREAD_ONCE_INIT;
static VipsBlob *srgb_blob;

static cmsToneCurve *sample_curve(cmsHPROFILE h, cmsTagSignature sig, cmsUInt16Number *v)
{
	cmsToneCurve *c = cmsReadTag(h, sig);
	int i;

	if (!c)
		return NULL;
	for (i = 0; i < 256; i++)
		v[i] = cmsEvalToneCurve16(c, (cmsUInt16Number)(i * 257));
	return c;
}

static void srgb_make(void)
{
	static const cmsTagSignature trc[3] = { cmsSigRedTRCTag, cmsSigGreenTRCTag,
						cmsSigBlueTRCTag };
	cmsUInt16Number v[3][256];
	cmsToneCurve *c = NULL;
	cmsHPROFILE h = NULL;
	VipsBlob *full = NULL;
	cmsUInt32Number n = 0;
	const void *p;
	void *buf = NULL;
	size_t len;
	int i;

	if (vips_profile_load("srgb", &full, NULL))
		goto out;
	p = vips_blob_get(full, &len);
	if (!(h = cmsOpenProfileFromMem(p, (cmsUInt32Number)len)))
		goto out;
	for (i = 0; i < 3; i++)
		if (!sample_curve(h, trc[i], v[i]))
			goto out;
	if (memcmp(v[0], v[1], sizeof v[0]) || memcmp(v[0], v[2], sizeof v[0]))
		goto out; /* not the profile we know: embed it as it is */
	if (!(c = cmsBuildTabulatedToneCurve16(NULL, 256, v[0])) ||
	    !cmsWriteTag(h, cmsSigRedTRCTag, c) ||
	    !cmsLinkTag(h, cmsSigGreenTRCTag, cmsSigRedTRCTag) ||
	    !cmsLinkTag(h, cmsSigBlueTRCTag, cmsSigRedTRCTag))
		goto out;
	cmsWriteTag(h, cmsSigDeviceMfgDescTag, NULL);
	cmsWriteTag(h, cmsSigDeviceModelDescTag, NULL);
	if (!cmsSaveProfileToMem(h, NULL, &n) || !n || !(buf = g_malloc(n)) ||
	    !cmsSaveProfileToMem(h, buf, &n))
		goto out;
	srgb_blob = vips_blob_new((VipsCallbackFn)vips_area_free_cb, buf, n);
	buf = NULL;
out:
	g_free(buf);
	if (c)
		cmsFreeToneCurve(c);
	if (h)
		cmsCloseProfile(h);
	if (!srgb_blob && full) {
		srgb_blob = full; /* the full profile is still right, only larger */
		full = NULL;
	}
	if (full)
		vips_area_unref(VIPS_AREA(full));
	vips_error_clear();
}

/* The profile (borrowed, lives as long as the process), or NULL. */
static VipsBlob *srgb_profile(void)
{
	pthread_once(&srgb_once, srgb_make);
	return srgb_blob;
}

/* ---- one transform's state ---- */

struct deadline {
	gint64 end; /* g_get_monotonic_time() limit, 0 = none */
	int ms;
	gint fired;
};

struct tx {
	const struct media_transform *t;
	const struct media_transform_limits *lim;
	struct deadline dl;
	VipsObject *scope; /* owns every image of the pipeline */
	struct dam_err *err;
};

/* Room for n new images owned by the transform. Each slot is unreffed once
 * when the scope dies, so an image goes into exactly one slot: the stage
 * helpers below hand back through VipsImage **out a pointer borrowed from
 * their own slots, which the caller keeps in a plain local (`&im`), never in
 * a slot of its own array. */
static VipsImage **tmp(struct tx *x, int n)
{
	return (VipsImage **)vips_object_local_array(x->scope, n);
}

static bool expired(struct deadline *d)
{
	if (d->end && g_get_monotonic_time() > d->end)
		g_atomic_int_set(&d->fired, 1);
	return g_atomic_int_get(&d->fired) != 0;
}

/* Runs in libvips's worker threads while an image is computed. */
static void on_eval(VipsImage *im, VipsProgress *progress, void *data)
{
	struct deadline *d = data;

	(void)progress;
	if (expired(d))
		vips_image_set_kill(im, TRUE);
}

/* Images computed from `im` report their progress to it, so one watch on
 * an image covers everything downstream of it. */
static void watch(struct tx *x, VipsImage *im)
{
	if (!x->dl.end)
		return;
	vips_image_set_progress(im, TRUE);
	g_signal_connect(im, "eval", G_CALLBACK(on_eval), &x->dl);
}

static int timed_out(struct tx *x)
{
	return dam_err_set(x->err, DAM_ELIMIT, NULL, "transform took longer than %d ms",
			   x->dl.ms);
}

/* A libvips call failed while doing `what`: a timeout if the deadline has
 * passed, else `code` with our own message (see the top of the file). */
static int vfail(struct tx *x, int code, const char *what)
{
	vips_error_clear();
	if (expired(&x->dl))
		return timed_out(x);
	return dam_err_set(x->err, code, NULL, "%s", what);
}

static int check_time(struct tx *x)
{
	return expired(&x->dl) ? timed_out(x) : 0;
}

/* ---- reading a master through its blob_reader ---- */

/* Page `page` of the TIFF in r, header read, pixels on demand (each read
 * a pread of r, see source.c). */
static VipsImage *load_page(struct blob_reader *r, int page)
{
	VipsSource *src = media__reader_source(r);
	VipsImage *im = NULL;

	if (!src)
		return NULL;
	if (vips_tiffload_source(src, &im, "page", page, NULL))
		im = NULL;
	g_object_unref(src);
	return im;
}

struct master {
	struct blob_reader *r;
	const char *what; /* "master" or "watermark master", for messages */
	int w, h, pages;
	VipsImage *page0; /* borrowed from the transform's scope */
};

static double mp(uint64_t px)
{
	return (double)px / 1e6;
}

static int master_open(struct tx *x, struct blob_reader *r, const char *what, struct master *m)
{
	unsigned char magic[4];
	VipsImage **t = tmp(x, 1);
	uint64_t px;
	ssize_t n;

	m->r = r;
	m->what = what;
	if ((n = blob_reader_pread(r, magic, sizeof magic, 0, x->err)) < 0)
		return (int)n;
	if (n < 4 || !((!memcmp(magic, "II", 2) && (magic[2] == 42 || magic[2] == 43) && !magic[3]) ||
		       (!memcmp(magic, "MM", 2) && !magic[2] && (magic[3] == 42 || magic[3] == 43))))
		return dam_err_set(x->err, DAM_EMEDIA, NULL, "%s does not decode: %s", what,
				   n == 0 ? "empty file" : "not a TIFF file");
	if (!(t[0] = load_page(r, 0))) {
		char msg[128];

		snprintf(msg, sizeof msg, "%s does not decode: unreadable TIFF header", what);
		return vfail(x, DAM_EMEDIA, msg);
	}
	m->page0 = t[0];
	m->w = vips_image_get_width(t[0]);
	m->h = vips_image_get_height(t[0]);
	m->pages = vips_image_get_n_pages(t[0]);
	px = (uint64_t)m->w * (uint64_t)m->h;
	if (x->lim->max_input_pixels && px > x->lim->max_input_pixels)
		return dam_err_set(x->err, DAM_ELIMIT, NULL,
				   "%s is %dx%d (%.1f megapixels), limit is %.1f", what, m->w, m->h,
				   mp(px), mp(x->lim->max_input_pixels));
	return 0;
}

/* Smallest pyramid level (page) whose part (rw x rh of the master's
 * w x h) holds at least need_w x need_h pixels (half a pixel of slack,
 * so a level one rounding short is still taken). */
static int pick_level(const struct master *m, double rw, double rh, double need_w, double need_h)
{
	int k;

	for (k = m->pages - 1; k > 0; k--) {
		double lw = m->w >> k, lh = m->h >> k;

		if (k >= 30 || lw < 1 || lh < 1)
			continue;
		if (rw * lw / m->w >= need_w - 0.5 && rh * lh / m->h >= need_h - 0.5)
			return k;
	}
	return 0;
}

/* Level k of the master (borrowed), with the sizes checked: a page that
 * is not the expected halving (a master made otherwise) falls back to
 * page 0, which is always right, only slower. */
static VipsImage *master_level(struct tx *x, const struct master *m, int k)
{
	VipsImage **t = tmp(x, 1);

	if (k == 0)
		return m->page0;
	t[0] = load_page(m->r, k);
	if (t[0] && vips_image_get_width(t[0]) == m->w >> k &&
	    vips_image_get_height(t[0]) == m->h >> k)
		return t[0];
	vips_error_clear();
	return m->page0;
}

/* ---- geometry ---- */

struct plan {
	int tx, ty, tw, th; /* trimmed region of the master, master pixels */
	int rw, rh;         /* that region rotated */
	int sw, sh;         /* scaled (rotated frame), before the crop */
	int cw, ch;         /* the window kept (== sw x sh unless cover crops) */
	int cx, cy;         /* its position in the scaled image */
	int bw, bh;         /* the canvas before padding (the box for contain) */
	int pad[4];         /* top, right, bottom, left, device pixels */
	int fw, fh;         /* final size */
	bool down;          /* scaled down on either axis */
	double enlarged;    /* largest scale factor above 1 (1 = not enlarged) */
};

static int clamp_int(double v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : (int)v;
}

static int side(double v)
{
	return v < 1 ? 1 : v > MAX_SIDE ? MAX_SIDE : (int)lround(v);
}

static bool odd_rotation(const struct media_transform *t)
{
	return t->rotate == 90 || t->rotate == 270;
}

/* Fits rw x rh inside bw x bh (0 = unbounded), enlarging at most `up`
 * times, with the constrained side landing on the box exactly. */
static void fit_inside(int rw, int rh, double bw, double bh, double up, int *sw, int *sh)
{
	double sx = bw > 0 ? bw / rw : INFINITY, sy = bh > 0 ? bh / rh : INFINITY;
	double s = sx < sy ? sx : sy;

	if (s == INFINITY || (s >= 1 && up <= 1)) {
		*sw = rw;
		*sh = rh;
	} else if (s > up) {
		*sw = side(rw * up);
		*sh = side(rh * up);
	} else if (sx <= sy) {
		*sw = side(bw);
		*sh = side(rh * sx);
	} else {
		*sh = side(bh);
		*sw = side(rw * sy);
	}
}

/* Rounding of a box side may ask for a hair more than `up` allows. */
#define UP_SLACK 0.002

/* Cover and fill promise exactly the box: a source that would need more
 * enlargement than allowed is refused, saying by how much. */
static int too_small(struct tx *x, const struct plan *p, const char *fit, double bw, double bh,
		     double need, double up)
{
	if (up <= 1)
		return dam_err_set(x->err, DAM_ECONFLICT, "up",
				   "the image is %dx%d, too small for fit %s %dx%d: it would have to be "
				   "enlarged %.2fx and this transform never enlarges (up_N allows it)",
				   p->rw, p->rh, fit, side(bw), side(bh), need);
	return dam_err_set(x->err, DAM_ECONFLICT, "up",
			   "the image is %dx%d, too small for fit %s %dx%d: it would have to be "
			   "enlarged %.2fx, more than the %gx allowed (up_%g)",
			   p->rw, p->rh, fit, side(bw), side(bh), need, up, up);
}

/* Sizes for p->tw x p->th; fills everything except cx, cy. */
static int plan_size(struct tx *x, struct plan *p)
{
	const struct media_transform *t = x->t;
	double dpr = t->dpr > 0 ? t->dpr : 1;
	double bw = t->width * dpr, bh = t->height * dpr, up = t->up >= 1 ? t->up : 1;
	enum media_fit fit = bw > 0 && bh > 0 ? t->fit : MEDIA_FIT_INSIDE;
	uint64_t px;
	int i;

	p->rw = odd_rotation(t) ? p->th : p->tw;
	p->rh = odd_rotation(t) ? p->tw : p->th;
	switch (fit) {
	case MEDIA_FIT_INSIDE:
	case MEDIA_FIT_CONTAIN:
		fit_inside(p->rw, p->rh, bw, bh, up, &p->sw, &p->sh);
		p->cw = p->sw;
		p->ch = p->sh;
		break;
	case MEDIA_FIT_COVER: {
		double sx = bw / p->rw, sy = bh / p->rh, s = sx > sy ? sx : sy;

		if (s > up * (1 + UP_SLACK))
			return too_small(x, p, "cover", bw, bh, s, up);
		p->sw = sx >= sy ? side(bw) : side(p->rw * s);
		p->sh = sx >= sy ? side(p->rh * s) : side(bh);
		p->cw = clamp_int(lround(bw), 1, p->sw);
		p->ch = clamp_int(lround(bh), 1, p->sh);
		break;
	}
	case MEDIA_FIT_FILL: {
		double m = fmax(bw / p->rw, bh / p->rh);

		if (m > up * (1 + UP_SLACK))
			return too_small(x, p, "fill", bw, bh, m, up);
		p->sw = p->cw = side(bw);
		p->sh = p->ch = side(bh);
		break;
	}
	}
	p->down = p->sw < p->rw || p->sh < p->rh;
	p->enlarged = fmax(1, fmax((double)p->sw / p->rw, (double)p->sh / p->rh));
	p->bw = fit == MEDIA_FIT_CONTAIN ? side(bw) : p->cw;
	p->bh = fit == MEDIA_FIT_CONTAIN ? side(bh) : p->ch;
	for (i = 0; i < 4; i++)
		p->pad[i] = (int)lround(t->pad[i] * dpr);
	p->fw = side((double)p->bw + p->pad[1] + p->pad[3]);
	p->fh = side((double)p->bh + p->pad[0] + p->pad[2]);
	px = (uint64_t)p->fw * (uint64_t)p->fh;
	if (x->lim->max_output_pixels && px > x->lim->max_output_pixels)
		return dam_err_set(x->err, DAM_ELIMIT, NULL,
				   "result would be %dx%d (%.1f megapixels), limit is %.1f", p->fw,
				   p->fh, mp(px), mp(x->lim->max_output_pixels));
	if (p->sw >= MAX_SIDE || p->sh >= MAX_SIDE || p->fw >= MAX_SIDE || p->fh >= MAX_SIDE)
		return dam_err_set(x->err, DAM_ELIMIT, NULL, "result would be too large");
	return 0;
}

/* The scaled image in the unrotated frame. */
static void unrotated_size(const struct media_transform *t, const struct plan *p, int *uw, int *uh)
{
	*uw = odd_rotation(t) ? p->sh : p->sw;
	*uh = odd_rotation(t) ? p->sw : p->sh;
}

/* A point of the master (master pixels) in the scaled, rotated image. */
static void map_point(const struct media_transform *t, const struct plan *p, double mx, double my,
		      double *ox, double *oy)
{
	double x = mx - p->tx, y = my - p->ty, u, v;

	switch (t->rotate) {
	case 90: /* clockwise: the left edge becomes the top */
		u = p->th - y;
		v = x;
		break;
	case 180:
		u = p->tw - x;
		v = p->th - y;
		break;
	case 270:
		u = y;
		v = p->tw - x;
		break;
	default:
		u = x;
		v = y;
		break;
	}
	if (t->flip_h)
		u = p->rw - u;
	if (t->flip_v)
		v = p->rh - v;
	*ox = u * p->sw / p->rw;
	*oy = v * p->sh / p->rh;
}

static void window_at(struct plan *p, double cx, double cy)
{
	p->cx = clamp_int(lround(cx - p->cw / 2.0), 0, p->sw - p->cw);
	p->cy = clamp_int(lround(cy - p->ch / 2.0), 0, p->sh - p->ch);
}

static void window_gravity(struct plan *p, enum media_gravity g)
{
	int dx = p->sw - p->cw, dy = p->sh - p->ch;

	p->cx = dx / 2;
	p->cy = dy / 2;
	if (g == MEDIA_GRAV_NE || g == MEDIA_GRAV_E || g == MEDIA_GRAV_SE)
		p->cx = dx;
	if (g == MEDIA_GRAV_NW || g == MEDIA_GRAV_W || g == MEDIA_GRAV_SW)
		p->cx = 0;
	if (g == MEDIA_GRAV_NW || g == MEDIA_GRAV_N || g == MEDIA_GRAV_NE)
		p->cy = 0;
	if (g == MEDIA_GRAV_SW || g == MEDIA_GRAV_S || g == MEDIA_GRAV_SE)
		p->cy = dy;
}

/* ---- pixel stages ---- */

static VipsArrayDouble *colour(const uint8_t *rgba, int n)
{
	double v[4];
	int i;

	for (i = 0; i < n && i < 4; i++)
		v[i] = rgba[i];
	return vips_array_double_new(v, n);
}

static int flatten(struct tx *x, VipsImage *in, const uint8_t *bg, VipsImage **out)
{
	VipsArrayDouble *b = colour(bg, 3);
	VipsImage **t = tmp(x, 1);
	int rc = vips_flatten(in, &t[0], "background", b, NULL);

	vips_area_unref(VIPS_AREA(b));
	if (rc)
		return vfail(x, DAM_EMEDIA, "cannot flatten the image");
	*out = t[0];
	return 0;
}

/* Makes w x h exactly (vips_resize may land a pixel off). */
static int exact_size(struct tx *x, VipsImage *in, int w, int h, VipsImage **out)
{
	VipsImage **t = tmp(x, 1);

	if (vips_image_get_width(in) == w && vips_image_get_height(in) == h) {
		*out = in;
		return 0;
	}
	if (vips_gravity(in, &t[0], VIPS_COMPASS_DIRECTION_NORTH_WEST, w, h, "extend",
			 VIPS_EXTEND_COPY, NULL))
		return vfail(x, DAM_EMEDIA, "cannot resize the image");
	*out = t[0];
	return 0;
}

/*
 * The region (rx, ry, rw, rh) of the master (master pixels), read from the
 * level `lv` (lw x lh, a reduction of the master's w x h) and resized to
 * exactly uw x uh, 8-bit sRGB with alpha if the master has it.
 */
static int load_region(struct tx *x, const struct master *m, VipsImage *lv, int rx, int ry, int rw,
		       int rh, int uw, int uh, VipsImage **out)
{
	VipsImage **t = tmp(x, 8), *im = lv;
	int lw = vips_image_get_width(lv), lh = vips_image_get_height(lv);
	int x0 = clamp_int(lround((double)rx * lw / m->w), 0, lw - 1);
	int y0 = clamp_int(lround((double)ry * lh / m->h), 0, lh - 1);
	int x1 = clamp_int(lround((double)(rx + rw) * lw / m->w), x0 + 1, lw);
	int y1 = clamp_int(lround((double)(ry + rh) * lh / m->h), y0 + 1, lh);
	bool alpha;

	if (vips_image_get_bands(im) < 3 || vips_image_get_format(im) != VIPS_FORMAT_UCHAR) {
		/* masters are 8-bit sRGB; accept others by converting */
		if (vips_colourspace(im, &t[0], VIPS_INTERPRETATION_sRGB, NULL) ||
		    vips_cast_uchar(t[0], &t[1], NULL))
			return vfail(x, DAM_EMEDIA, "the master is not an sRGB image");
		im = t[1];
	}
	if (x0 > 0 || y0 > 0 || x1 < lw || y1 < lh) {
		if (vips_extract_area(im, &t[2], x0, y0, x1 - x0, y1 - y0, NULL))
			return vfail(x, DAM_EMEDIA, "cannot cut the trimmed region");
		im = t[2];
	}
	if (x1 - x0 == uw && y1 - y0 == uh) {
		*out = im;
		return 0;
	}
	/* resize with premultiplied alpha, so transparent pixels do not
	 * bleed their colour into the edges */
	alpha = vips_image_hasalpha(im);
	if (alpha && vips_premultiply(im, &t[3], NULL))
		return vfail(x, DAM_EMEDIA, "cannot resize the image");
	if (vips_resize(alpha ? t[3] : im, &t[4], (double)uw / (x1 - x0), "vscale",
			(double)uh / (y1 - y0), NULL))
		return vfail(x, DAM_EMEDIA, "cannot resize the image");
	im = t[4];
	if (alpha) {
		if (vips_unpremultiply(im, &t[5], NULL) || vips_cast_uchar(t[5], &t[6], NULL))
			return vfail(x, DAM_EMEDIA, "cannot resize the image");
		im = t[6];
	}
	return exact_size(x, im, uw, uh, out);
}

/* Where trimming a uniform border leaves the master, found on the level
 * the transform would read anyway (one pixel of it is at most about one
 * output pixel). The border colour is the top-left pixel's. */
static int trim(struct tx *x, const struct master *m, struct plan *p)
{
	VipsImage **t = tmp(x, 2), *lv, *im;
	double *px = NULL, bg[4] = { 0 };
	int uw, uh, n = 0, l, tp, w, h, lw, lh, rc, i;
	VipsArrayDouble *b;

	unrotated_size(x->t, p, &uw, &uh);
	im = lv = master_level(x, m, pick_level(m, m->w, m->h, uw, uh));
	if (vips_image_hasalpha(im)) {
		/* transparent borders trim like uniform ones */
		if (vips_flatten(im, &t[0], NULL))
			return vfail(x, DAM_EMEDIA, "cannot trim the image");
		im = t[0];
	}
	if (vips_getpoint(im, &px, &n, 0, 0, NULL))
		return vfail(x, DAM_EMEDIA, "cannot trim the image");
	for (i = 0; i < n && i < 4; i++)
		bg[i] = px[i];
	g_free(px);
	b = vips_array_double_new(bg, n < 4 ? n : 4);
	watch(x, im);
	rc = vips_find_trim(im, &l, &tp, &w, &h, "threshold", (double)x->t->trim, "background", b,
			    NULL);
	vips_area_unref(VIPS_AREA(b));
	if (rc)
		return vfail(x, DAM_EMEDIA, "cannot trim the image");
	if (w <= 0 || h <= 0)
		return 0; /* all border: keep the image rather than nothing */
	lw = vips_image_get_width(lv);
	lh = vips_image_get_height(lv);
	p->tx = clamp_int(floor((double)l * m->w / lw), 0, m->w - 1);
	p->ty = clamp_int(floor((double)tp * m->h / lh), 0, m->h - 1);
	p->tw = clamp_int(ceil((double)(l + w) * m->w / lw), p->tx + 1, m->w) - p->tx;
	p->th = clamp_int(ceil((double)(tp + h) * m->h / lh), p->ty + 1, m->h) - p->ty;
	return 0;
}

/* The window of a smart crop: libvips's attention centre, looked for on a
 * small level (the attention map is 32x32 whatever the input). */
static int smart_window(struct tx *x, const struct master *m, struct plan *p)
{
	VipsImage **t = tmp(x, 1), *lv, *im;
	int uw, uh, aw, ah, ww, wh, ax = 0, ay = 0, rc;
	double s, cx, cy;

	s = (double)SMART_SIDE / (p->tw > p->th ? p->tw : p->th);
	s = s > 1 ? 1 : s;
	aw = side(p->tw * s);
	ah = side(p->th * s);
	lv = master_level(x, m, pick_level(m, p->tw, p->th, aw, ah));
	if ((rc = load_region(x, m, lv, p->tx, p->ty, p->tw, p->th, aw, ah, &im)) < 0)
		return rc;
	/* flatten() keeps its result in its own slot of the scope: take the
	 * pointer, never store it in a second array (two owners, two unrefs) */
	if (vips_image_hasalpha(im) &&
	    (rc = flatten(x, im, x->t->bg_set ? x->t->bg : (const uint8_t[]){ 255, 255, 255 },
			  &im)) < 0)
		return rc;
	/* the window, in the unrotated frame of the analysis image */
	unrotated_size(x->t, p, &uw, &uh);
	ww = clamp_int(lround((double)(odd_rotation(x->t) ? p->ch : p->cw) * aw / uw), 1, aw);
	wh = clamp_int(lround((double)(odd_rotation(x->t) ? p->cw : p->ch) * ah / uh), 1, ah);
	watch(x, im);
	if (vips_smartcrop(im, &t[0], ww, wh, "interesting", VIPS_INTERESTING_ATTENTION,
			   "attention_x", &ax, "attention_y", &ay, NULL))
		return vfail(x, DAM_EMEDIA, "cannot find the salient region");
	map_point(x->t, p, p->tx + (ax + 0.5) * p->tw / aw, p->ty + (ay + 0.5) * p->th / ah, &cx,
		  &cy);
	window_at(p, cx, cy);
	return 0;
}

static int place_window(struct tx *x, const struct master *m, struct plan *p)
{
	const struct media_transform *t = x->t;
	double cx, cy;

	p->cx = (p->sw - p->cw) / 2;
	p->cy = (p->sh - p->ch) / 2;
	if (p->cw == p->sw && p->ch == p->sh)
		return 0;
	switch (t->crop) {
	case MEDIA_CROP_CENTER:
		break;
	case MEDIA_CROP_GRAVITY:
		window_gravity(p, t->gravity);
		break;
	case MEDIA_CROP_FOCAL:
		if (t->focal_x >= 0 && t->focal_y >= 0) {
			map_point(t, p, t->focal_x * m->w, t->focal_y * m->h, &cx, &cy);
			window_at(p, cx, cy);
			break;
		}
		/* fall through - without a focal point, smart */
	case MEDIA_CROP_SMART:
		return smart_window(x, m, p);
	}
	return 0;
}

static int orient(struct tx *x, VipsImage *in, VipsImage **out)
{
	const struct media_transform *t = x->t;
	VipsImage **v = tmp(x, 3), *im = in;

	if (t->rotate) {
		VipsAngle a = t->rotate == 90 ? VIPS_ANGLE_D90 :
			      t->rotate == 180 ? VIPS_ANGLE_D180 : VIPS_ANGLE_D270;

		if (vips_rot(im, &v[0], a, NULL))
			return vfail(x, DAM_EMEDIA, "cannot rotate the image");
		im = v[0];
	}
	if (t->flip_h) {
		if (vips_flip(im, &v[1], VIPS_DIRECTION_HORIZONTAL, NULL))
			return vfail(x, DAM_EMEDIA, "cannot flip the image");
		im = v[1];
	}
	if (t->flip_v) {
		if (vips_flip(im, &v[2], VIPS_DIRECTION_VERTICAL, NULL))
			return vfail(x, DAM_EMEDIA, "cannot flip the image");
		im = v[2];
	}
	*out = im;
	return 0;
}

/*
 * The default sharpening after a downscale: a 3x3 Laplacian at 3/8
 * strength on the colour bands in sRGB, an integer convolution that costs
 * a few ms where vips_sharpen (L* in LabS, with its curve) costs tens of
 * ms on an 800 px image. An explicit sigma gets vips_sharpen.
 */
static int mild_sharpen(struct tx *x, VipsImage *in, VipsImage **out)
{
	VipsImage **v = tmp(x, 5), *im = in;
	int bands = vips_image_get_bands(in);
	bool alpha = vips_image_hasalpha(in);

	if (!(v[0] = vips_image_new_matrixv(3, 3, 0.0, -3.0, 0.0, -3.0, 44.0, -3.0, 0.0, -3.0,
					    0.0)))
		return vfail(x, DAM_EMEDIA, "cannot sharpen the image");
	vips_image_set_double(v[0], "scale", 32);
	if (alpha) {
		if (vips_extract_band(in, &v[1], 0, "n", bands - 1, NULL) ||
		    vips_extract_band(in, &v[2], bands - 1, NULL))
			return vfail(x, DAM_EMEDIA, "cannot sharpen the image");
		im = v[1];
	}
	if (vips_conv(im, &v[3], v[0], "precision", VIPS_PRECISION_INTEGER, NULL))
		return vfail(x, DAM_EMEDIA, "cannot sharpen the image");
	*out = v[3];
	if (alpha) {
		if (vips_bandjoin2(v[3], v[2], &v[4], NULL))
			return vfail(x, DAM_EMEDIA, "cannot sharpen the image");
		*out = v[4];
	}
	return 0;
}

static int effects(struct tx *x, const struct plan *p, VipsImage *in, VipsImage **out)
{
	const struct media_transform *t = x->t;
	VipsImage **v = tmp(x, 3), *im = in;
	int rc;

	if (t->sharpen > 0) {
		if (vips_sharpen(im, &v[0], "sigma", t->sharpen, NULL))
			return vfail(x, DAM_EMEDIA, "cannot sharpen the image");
		im = v[0];
	} else if (t->sharpen == 0 && p->down) {
		if ((rc = mild_sharpen(x, im, &im)) < 0)
			return rc;
	}
	if (t->blur > 0) {
		if (vips_gaussblur(im, &v[1], t->blur, NULL))
			return vfail(x, DAM_EMEDIA, "cannot blur the image");
		im = v[1];
	}
	if (vips_image_get_format(im) != VIPS_FORMAT_UCHAR) {
		if (vips_cast_uchar(im, &v[2], NULL))
			return vfail(x, DAM_EMEDIA, "cannot sharpen the image");
		im = v[2];
	}
	*out = im;
	return 0;
}

/* The box of contain and the padding, in the background colour. A
 * translucent background on a format with alpha gives the image alpha. */
static int pad(struct tx *x, const struct plan *p, const uint8_t *bg, VipsImage *in,
	       VipsImage **out)
{
	VipsImage **v = tmp(x, 2), *im = in;
	VipsArrayDouble *b;
	int rc;

	if (p->fw == p->cw && p->fh == p->ch) {
		*out = in;
		return 0;
	}
	if (!vips_image_hasalpha(im) && bg[3] < 255 && format_has_alpha(x->t->format)) {
		if (vips_bandjoin_const1(im, &v[0], 255, NULL))
			return vfail(x, DAM_EMEDIA, "cannot pad the image");
		im = v[0];
	}
	b = colour(bg, vips_image_get_bands(im));
	rc = vips_embed(im, &v[1], p->pad[3] + (p->bw - p->cw) / 2, p->pad[0] + (p->bh - p->ch) / 2,
			p->fw, p->fh, "extend", VIPS_EXTEND_BACKGROUND, "background", b, NULL);
	vips_area_unref(VIPS_AREA(b));
	if (rc)
		return vfail(x, DAM_EMEDIA, "cannot pad the image");
	*out = v[1];
	return 0;
}

/* The watermark (another master) at wm_scale of the width, placed by
 * wm_gravity flush with the edges, its alpha multiplied by wm_opacity. */
static int watermark(struct tx *x, VipsImage *in, VipsImage **out)
{
	const struct media_transform *t = x->t;
	VipsImage **v = tmp(x, 4), *lv, *wm;
	double scale = t->wm_scale > 0 ? t->wm_scale : DEFAULT_WM_SCALE;
	int W = vips_image_get_width(in), H = vips_image_get_height(in), ww, wh, rc, px, py;
	struct master m;
	struct plan g;

	*out = in;
	if (!t->wm || t->wm_opacity <= 0)
		return 0;
	if ((rc = master_open(x, t->wm, "watermark master", &m)) < 0)
		return rc;
	ww = side(W * scale);
	wh = side((double)ww * m.h / m.w);
	if (wh > H) {
		wh = H;
		ww = side((double)wh * m.w / m.h);
	}
	lv = master_level(x, &m, pick_level(&m, m.w, m.h, ww, wh));
	if ((rc = load_region(x, &m, lv, 0, 0, m.w, m.h, ww, wh, &wm)) < 0)
		return rc;
	if (!vips_image_hasalpha(wm)) {
		if (vips_bandjoin_const1(wm, &v[0], 255, NULL))
			return vfail(x, DAM_EMEDIA, "cannot apply the watermark");
		wm = v[0];
	}
	if (t->wm_opacity < 1) {
		double a[4] = { 1, 1, 1, t->wm_opacity }, b[4] = { 0 };

		if (vips_linear(wm, &v[1], a, b, 4, "uchar", TRUE, NULL))
			return vfail(x, DAM_EMEDIA, "cannot apply the watermark");
		wm = v[1];
	}
	memset(&g, 0, sizeof g);
	g.sw = W;
	g.sh = H;
	g.cw = ww;
	g.ch = wh;
	window_gravity(&g, t->wm_gravity);
	px = g.cx;
	py = g.cy;
	if (vips_composite2(in, wm, &v[2], VIPS_BLEND_MODE_OVER, "x", px, "y", py, NULL))
		return vfail(x, DAM_EMEDIA, "cannot apply the watermark");
	*out = v[2];
	if (!vips_image_hasalpha(in)) {
		/* an opaque base stays opaque: drop the alpha compositing adds */
		if (vips_extract_band(v[2], &v[3], 0, "n", 3, NULL))
			return vfail(x, DAM_EMEDIA, "cannot apply the watermark");
		*out = v[3];
	}
	return 0;
}

/* ---- metadata ---- */

static int xml_escaped(struct strbuf *sb, const char *s)
{
	int rc = 0;

	for (; *s && rc == 0; s++) {
		switch (*s) {
		case '<':
			rc = strbuf_adds(sb, "&lt;");
			break;
		case '>':
			rc = strbuf_adds(sb, "&gt;");
			break;
		case '&':
			rc = strbuf_adds(sb, "&amp;");
			break;
		case '"':
			rc = strbuf_adds(sb, "&quot;");
			break;
		default:
			rc = strbuf_addch(sb, *s);
		}
	}
	return rc;
}

/* An XMP packet with dc:rights and dc:creator (XMP carries UTF-8; EXIF
 * ASCII fields only transliterations). */
static int xmp_packet(const struct media_transform *t, struct strbuf *sb)
{
	int rc = strbuf_adds(sb, "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
				 "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf="
				 "\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description "
				 "rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">");

	if (!rc && t->copyright && *t->copyright &&
	    !(rc = strbuf_adds(sb, "<dc:rights><rdf:Alt><rdf:li xml:lang=\"x-default\">")) &&
	    !(rc = xml_escaped(sb, t->copyright)))
		rc = strbuf_adds(sb, "</rdf:li></rdf:Alt></dc:rights>");
	if (!rc && t->creator && *t->creator &&
	    !(rc = strbuf_adds(sb, "<dc:creator><rdf:Seq><rdf:li>")) &&
	    !(rc = xml_escaped(sb, t->creator)))
		rc = strbuf_adds(sb, "</rdf:li></rdf:Seq></dc:creator>");
	if (!rc)
		rc = strbuf_adds(sb, "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>");
	return rc;
}

static bool has_text(const char *s)
{
	return s && *s;
}

/*
 * A copy of im carrying only what we mean to write: every field the
 * master brought is removed (libvips 8.14 has no "keep" option, only
 * strip), then the sRGB profile, and unless strip_all the copyright and
 * creator as EXIF Copyright/Artist and XMP. The savers add the EXIF
 * fields the standard requires (version, colour space, size, resolution).
 */
static int set_metadata(struct tx *x, VipsImage *in, VipsImage **out, struct strbuf *xmp)
{
	const struct media_transform *t = x->t;
	VipsImage **v = tmp(x, 1);
	gchar **fields;
	VipsBlob *icc;
	int i;

	/* 72 dpi: the master's resolution means nothing for a rendition */
	if (vips_copy(in, &v[0], "interpretation", VIPS_INTERPRETATION_sRGB, "xres", 72 / 25.4,
		      "yres", 72 / 25.4, NULL))
		return vfail(x, DAM_EMEDIA, "cannot prepare the image");
	fields = vips_image_get_fields(v[0]);
	for (i = 0; fields && fields[i]; i++)
		vips_image_remove(v[0], fields[i]); /* the core header fields stay */
	g_strfreev(fields);
	*out = v[0];
	if (t->strip_all)
		return 0;
	if ((icc = srgb_profile())) {
		GValue val = G_VALUE_INIT;

		g_value_init(&val, VIPS_TYPE_BLOB);
		g_value_set_boxed(&val, icc);
		vips_image_set(v[0], VIPS_META_ICC_NAME, &val);
		g_value_unset(&val);
	}
	/* savers always make an EXIF block; it says "uncalibrated" unless told */
	vips_image_set_string(v[0], "exif-ifd2-ColorSpace", "1");
	if (!has_text(t->copyright) && !has_text(t->creator))
		return 0;
	if (has_text(t->copyright))
		vips_image_set_string(v[0], "exif-ifd0-Copyright", t->copyright);
	if (has_text(t->creator))
		vips_image_set_string(v[0], "exif-ifd0-Artist", t->creator);
	if (xmp_packet(t, xmp) < 0)
		return dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
	vips_image_set_blob_copy(v[0], VIPS_META_XMP_NAME, xmp->buf, xmp->len);
	return 0;
}

/* ---- encoding ---- */

static void put_box(struct strbuf *sb, const char *type, size_t len, int *rc)
{
	unsigned char h[8];
	uint32_t n = (uint32_t)(len + 8);

	h[0] = (unsigned char)(n >> 24);
	h[1] = (unsigned char)(n >> 16);
	h[2] = (unsigned char)(n >> 8);
	h[3] = (unsigned char)n;
	memcpy(h + 4, type, 4);
	if (!*rc)
		*rc = strbuf_add(sb, h, sizeof h);
}

/*
 * libvips 8.14's jxlsave writes a bare codestream and drops XMP/EXIF. To
 * carry the copyright, wrap the codestream in the ISO BMFF container of
 * ISO/IEC 18181-2 with an "xml " box holding the XMP.
 */
static int jxl_wrap(const void *cs, size_t cslen, const struct strbuf *xmp, struct strbuf *out)
{
	static const unsigned char sig[12] = { 0, 0, 0, 12, 'J', 'X', 'L', ' ', 0x0d, 0x0a, 0x87,
					       0x0a };
	static const unsigned char ftyp[20] = { 0, 0, 0, 20, 'f', 't', 'y', 'p', 'j', 'x', 'l',
						' ', 0, 0, 0, 0, 'j', 'x', 'l', ' ' };
	int rc;

	if (cslen > UINT32_MAX - 64)
		return DAM_ELIMIT;
	rc = strbuf_add(out, sig, sizeof sig);
	if (!rc)
		rc = strbuf_add(out, ftyp, sizeof ftyp);
	put_box(out, "xml ", xmp->len, &rc);
	if (!rc)
		rc = strbuf_add(out, xmp->buf, xmp->len);
	put_box(out, "jxlc", cslen, &rc);
	if (!rc)
		rc = strbuf_add(out, cs, cslen);
	return rc;
}

/* Encodes im at quality q into out (reset first). */
static int encode(struct tx *x, VipsImage *im, int q, const struct strbuf *xmp, struct strbuf *out)
{
	bool strip = x->t->strip_all;
	void *buf = NULL;
	size_t len = 0;
	int rc = 0, v;

	switch (x->t->format) {
	case MEDIA_FMT_JPEG:
		v = vips_jpegsave_buffer(im, &buf, &len, "Q", q, "optimize_coding", TRUE, "strip",
					 strip, NULL);
		break;
	case MEDIA_FMT_PNG:
		v = vips_pngsave_buffer(im, &buf, &len, "compression", 6, "strip", strip, NULL);
		break;
	case MEDIA_FMT_WEBP:
		v = vips_webpsave_buffer(im, &buf, &len, "Q", q, "strip", strip, NULL);
		break;
	case MEDIA_FMT_AVIF:
		v = vips_heifsave_buffer(im, &buf, &len, "Q", q, "compression",
					 VIPS_FOREIGN_HEIF_COMPRESSION_AV1, "strip", strip, NULL);
		break;
	case MEDIA_FMT_JXL:
		v = vips_jxlsave_buffer(im, &buf, &len, "Q", q, "strip", strip, NULL);
		break;
	default:
		return dam_err_set(x->err, DAM_EINVAL, "format", "unknown format");
	}
	if (v) {
		char msg[64];

		snprintf(msg, sizeof msg, "cannot encode %s", media_format_name(x->t->format));
		return vfail(x, DAM_EMEDIA, msg);
	}
	strbuf_reset(out);
	if (x->t->format == MEDIA_FMT_JXL && xmp->len)
		rc = jxl_wrap(buf, len, xmp, out);
	else
		rc = strbuf_add(out, buf, len);
	g_free(buf);
	if (rc < 0)
		return dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
	return 0;
}

static void swap_bufs(struct strbuf *a, struct strbuf *b)
{
	struct strbuf t = *a;

	*a = *b;
	*b = t;
}

/* Encodes at the requested quality; over the byte budget, binary-searches
 * the highest quality that meets it. The image is computed once into
 * memory first, so each try only encodes. */
static int encode_budget(struct tx *x, VipsImage *in, const struct strbuf *xmp,
			 struct strbuf *out, int *quality)
{
	const struct media_transform *t = x->t;
	struct strbuf trial = STRBUF_INIT;
	VipsImage **v = tmp(x, 1), *im = in;
	int q = t->quality ? t->quality : default_quality(t->format), lo, hi, rc = 0;
	size_t max = (size_t)t->max_bytes;

	*quality = t->format == MEDIA_FMT_PNG ? 0 : q;
	if (t->max_bytes > 0) {
		if (!(v[0] = vips_image_copy_memory(in)))
			return vfail(x, DAM_EMEDIA, "cannot make the image");
		im = v[0];
		watch(x, im);
	}
	if ((rc = encode(x, im, q, xmp, out)) < 0 || !t->max_bytes || out->len <= max)
		return rc;
	if (t->format == MEDIA_FMT_PNG)
		return dam_err_set(x->err, DAM_ELIMIT, NULL,
				   "the PNG is %zu bytes, over the budget of %zu (PNG has no quality "
				   "to lower)",
				   out->len, max);
	if (q == 1)
		goto impossible;
	if ((rc = check_time(x)) < 0 || (rc = encode(x, im, 1, xmp, &trial)) < 0)
		goto out;
	if (trial.len > max)
		goto impossible;
	/* quality lo fits and its encoding is in out; hi does not fit */
	swap_bufs(out, &trial);
	lo = 1;
	hi = q;
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;

		if ((rc = check_time(x)) < 0 || (rc = encode(x, im, mid, xmp, &trial)) < 0)
			goto out;
		if (trial.len <= max) {
			swap_bufs(out, &trial);
			lo = mid;
		} else {
			hi = mid;
		}
	}
	*quality = lo;
	goto out;
impossible:
	rc = dam_err_set(x->err, DAM_ELIMIT, NULL,
			 "even at quality 1 the %s is %zu bytes, over the budget of %zu",
			 media_format_name(t->format), q == 1 ? out->len : trial.len, max);
out:
	strbuf_release(&trial);
	return rc;
}

/* ---- media_transform_reader ---- */

static int validate(const struct media_transform *t, struct dam_err *err)
{
	int i;

#define BAD(field, ...) return dam_err_set(err, DAM_EINVAL, field, __VA_ARGS__)
	if (t->width < 0 || t->height < 0 || t->width > 1000000 || t->height > 1000000)
		BAD("width", "width and height must be 0..1000000");
	if ((unsigned)t->fit > MEDIA_FIT_FILL)
		BAD("fit", "unknown fit");
	if ((unsigned)t->crop > MEDIA_CROP_FOCAL)
		BAD("crop", "unknown crop");
	if (t->crop != MEDIA_CROP_CENTER && t->fit != MEDIA_FIT_COVER)
		BAD("crop", "crop needs fit cover");
	if ((unsigned)t->gravity > MEDIA_GRAV_NW || (unsigned)t->wm_gravity > MEDIA_GRAV_NW)
		BAD("gravity", "unknown gravity");
	if (!(t->focal_x <= 1) || !(t->focal_y <= 1))
		BAD("focal", "focal point must be within 0..1 (or negative for none)");
	if (t->rotate != 0 && t->rotate != 90 && t->rotate != 180 && t->rotate != 270)
		BAD("rotate", "rotation must be 0, 90, 180 or 270");
	for (i = 0; i < 4; i++)
		if (t->pad[i] < 0 || t->pad[i] > 100000)
			BAD("pad", "padding must be 0..100000");
	if (t->format == MEDIA_FMT_AUTO)
		BAD("format", "format auto must be resolved before transforming");
	if ((unsigned)t->format > MEDIA_FMT_JXL)
		BAD("format", "unknown format");
	if (t->quality < 0 || t->quality > 100)
		BAD("quality", "quality must be 1..100");
	if (!(t->dpr == 0 || (t->dpr >= 1 && t->dpr <= 4)))
		BAD("dpr", "dpr must be 1..4");
	if (!(t->up == 0 || (t->up >= 1 && t->up <= 8)))
		BAD("up", "up (the largest enlargement) must be 1..8");
	if (!(t->blur >= 0 && t->blur <= 1000))
		BAD("blur", "blur must be 0..1000");
	if (!(t->sharpen <= 100)) /* NaN too */
		BAD("sharpen", "sharpen must be at most 100");
	if (t->trim < 0 || t->trim > 255)
		BAD("trim", "trim must be 0..255");
	if (t->max_bytes < 0)
		BAD("max_bytes", "byte budget must not be negative");
	if (!(t->wm_scale >= 0 && t->wm_scale <= 1) || !(t->wm_opacity >= 0 && t->wm_opacity <= 1))
		BAD("watermark", "watermark scale and opacity must be 0..1");
	if (!t->strip_all) {
		const char *s[2] = { t->copyright, t->creator };

		for (i = 0; i < 2; i++) {
			if (!s[i])
				continue;
			if (strlen(s[i]) > META_TEXT_MAX)
				BAD("meta", "copyright and creator must be at most %d bytes",
				    META_TEXT_MAX);
			if (!utf8_valid(s[i], strlen(s[i])) || utf8_has_control(s[i], strlen(s[i])))
				BAD("meta", "copyright and creator must be UTF-8 text");
		}
	}
#undef BAD
	return 0;
}

static int run(struct tx *x, struct blob_reader *master, struct media_transform_result *res, struct strbuf *buf)
{
	const struct media_transform *t = x->t;
	static const uint8_t white[4] = { 255, 255, 255, 255 };
	const uint8_t *bg = t->bg_set ? t->bg : white;
	struct strbuf xmp = STRBUF_INIT;
	VipsImage **v = tmp(x, 1), *lv, *im, *fin = NULL;
	struct master m;
	struct plan p;
	int rc, uw, uh;

	/* sizes, trim and the crop window first: limits before pixels */
	memset(&p, 0, sizeof p);
	if ((rc = master_open(x, master, "master", &m)) < 0)
		goto out;
	p.tw = m.w;
	p.th = m.h;
	if ((rc = plan_size(x, &p)) < 0)
		goto out;
	if (t->trim > 0 && ((rc = trim(x, &m, &p)) < 0 || (rc = plan_size(x, &p)) < 0))
		goto out;
	if ((rc = check_time(x)) < 0 || (rc = place_window(x, &m, &p)) < 0)
		goto out;
	/* decode the level, resize once, then work on the small image */
	unrotated_size(t, &p, &uw, &uh);
	lv = master_level(x, &m, pick_level(&m, p.tw, p.th, uw, uh));
	if ((rc = load_region(x, &m, lv, p.tx, p.ty, p.tw, p.th, uw, uh, &im)) < 0 ||
	    (rc = orient(x, im, &im)) < 0)
		goto out;
	if (p.cw != p.sw || p.ch != p.sh) {
		if (vips_extract_area(im, &v[0], p.cx, p.cy, p.cw, p.ch, NULL)) {
			rc = vfail(x, DAM_EMEDIA, "cannot crop the image");
			goto out;
		}
		im = v[0];
	}
	if ((rc = effects(x, &p, im, &im)) < 0 || (rc = pad(x, &p, bg, im, &im)) < 0 ||
	    (rc = watermark(x, im, &im)) < 0)
		goto out;
	if (!format_has_alpha(t->format) && vips_image_hasalpha(im) &&
	    (rc = flatten(x, im, bg, &im)) < 0)
		goto out;
	if ((rc = set_metadata(x, im, &fin, &xmp)) < 0 || (rc = check_time(x)) < 0)
		goto out;
	watch(x, fin);
	if ((rc = encode_budget(x, fin, &xmp, buf, &res->quality)) < 0)
		goto out;
	res->width = vips_image_get_width(fin);
	res->height = vips_image_get_height(fin);
	res->format = t->format;
	res->enlarged = p.enlarged;
out:
	strbuf_release(&xmp);
	return rc;
}

int media_transform_reader(struct blob_reader *master, const struct media_transform *t,
		       const struct media_transform_limits *lim, struct media_transform_result *out,
		       struct dam_err *err)
{
	struct media_transform_limits dflt;
	struct strbuf buf = STRBUF_INIT;
	struct tx x;
	int rc;

	memset(out, 0, sizeof *out);
	if (!lim) {
		media_transform_limits_default(&dflt);
		lim = &dflt;
	}
	if ((rc = validate(t, err)) < 0)
		return rc;
	memset(&x, 0, sizeof x);
	x.t = t;
	x.lim = lim;
	x.err = err;
	x.dl.ms = lim->timeout_ms;
	if (lim->timeout_ms > 0)
		x.dl.end = g_get_monotonic_time() + (gint64)lim->timeout_ms * 1000;
	x.scope = VIPS_OBJECT(vips_image_new());
	rc = run(&x, master, out, &buf);
	/* frees the whole pipeline (and the eval handlers pointing at x) */
	g_object_unref(x.scope);
	if (rc == 0) {
		out->data = strbuf_detach(&buf, &out->len);
		if (!out->data)
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	strbuf_release(&buf);
	if (rc < 0)
		memset(out, 0, sizeof *out);
	return rc;
}

/* ---- media_master_write ---- */

/* 8-bit sRGB from anything libvips loads: the embedded ICC profile (or
 * libvips's CMYK profile for CMYK without one) to sRGB, else a plain
 * colourspace conversion. Alpha is split off first so that 16-bit alpha
 * is scaled, not clipped, and no profile ever sees it. */
static int master_srgb(VipsObject *scope, VipsImage *in, VipsImage **out, struct dam_err *err)
{
	VipsImage **t = (VipsImage **)vips_object_local_array(scope, 8), *c = in, *a = NULL;
	int bands = vips_image_get_bands(in);
	bool alpha = vips_image_hasalpha(in);
	VipsInterpretation interp;

	if (alpha) {
		if (vips_extract_band(in, &t[0], 0, "n", bands - 1, NULL) ||
		    vips_extract_band(in, &t[1], bands - 1, NULL))
			return media__vips_err(err, DAM_EMEDIA, "cannot read alpha");
		c = t[0];
		a = t[1];
		if (vips_image_get_format(a) == VIPS_FORMAT_USHORT) {
			if (vips_linear1(a, &t[2], 1.0 / 257, 0, "uchar", TRUE, NULL))
				return media__vips_err(err, DAM_EMEDIA, "cannot read alpha");
			a = t[2];
		} else if (vips_image_get_format(a) != VIPS_FORMAT_UCHAR) {
			if (vips_cast_uchar(a, &t[2], NULL))
				return media__vips_err(err, DAM_EMEDIA, "cannot read alpha");
			a = t[2];
		}
	}
	interp = vips_image_guess_interpretation(c);
	if (vips_image_get_typeof(in, VIPS_META_ICC_NAME) || interp == VIPS_INTERPRETATION_CMYK) {
		if (vips_icc_transform(c, &t[3], "srgb", "embedded", TRUE, "input_profile",
				       interp == VIPS_INTERPRETATION_CMYK ? "cmyk" : "srgb", "depth",
				       8, NULL)) {
			/* a broken or mismatched profile: convert as if it had none */
			vips_error_clear();
			t[3] = NULL;
		}
	}
	if (!t[3] && vips_colourspace(c, &t[3], VIPS_INTERPRETATION_sRGB, NULL))
		return media__vips_err(err, DAM_EMEDIA, "cannot convert image to sRGB");
	c = t[3];
	if (vips_image_get_format(c) != VIPS_FORMAT_UCHAR) {
		if (vips_cast_uchar(c, &t[4], NULL))
			return media__vips_err(err, DAM_EMEDIA, "cannot convert image to sRGB");
		c = t[4];
	}
	if (vips_image_get_bands(c) != 3)
		return dam_err_set(err, DAM_EMEDIA, NULL, "cannot convert image to sRGB (%d bands)",
				   vips_image_get_bands(c));
	if (a) {
		if (vips_bandjoin2(c, a, &t[5], NULL))
			return media__vips_err(err, DAM_EMEDIA, "cannot convert image to sRGB");
		c = t[5];
	}
	if (vips_copy(c, &t[6], "interpretation", VIPS_INTERPRETATION_sRGB, NULL))
		return media__vips_err(err, DAM_EMEDIA, "cannot convert image to sRGB");
	*out = t[6];
	return 0;
}

/* Opens the whole image for the master: fail_on=error, rendered at
 * `scale` for PDF/SVG, random access when it must be rotated. */
static int master_load(int fd, bool magick, bool rotate, double scale, bool doc,
		       VipsImage **out, struct dam_err *err)
{
	VipsAccess acc = rotate ? VIPS_ACCESS_RANDOM : VIPS_ACCESS_SEQUENTIAL;
	VipsSource *src = NULL;
	char path[64];

	*out = NULL;
	if (magick) {
		/* the magick loader has no source variant in 8.14 */
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		*out = vips_image_new_from_file(path, "access", acc, "fail_on",
						VIPS_FAIL_ON_ERROR, NULL);
	} else {
		if (lseek(fd, 0, SEEK_SET) < 0)
			return dam_err_errno(err, DAM_EIO, errno, "cannot seek file");
		if (!(src = vips_source_new_from_descriptor(fd)))
			return media__vips_err(err, DAM_EIO, "cannot read file");
		if (doc)
			*out = vips_image_new_from_source(src, "", "access", acc, "fail_on",
							  VIPS_FAIL_ON_ERROR, "scale", scale, NULL);
		else
			*out = vips_image_new_from_source(src, "", "access", acc, "fail_on",
							  VIPS_FAIL_ON_ERROR, NULL);
		g_object_unref(src);
	}
	if (!*out)
		return media__vips_err(err, DAM_EMEDIA, "cannot decode image");
	return 0;
}

int media_master_write(int in_fd, const struct media_sniff *sniff, const struct media_limits *lim,
		       const char *out_path, int *width, int *height, struct dam_err *err)
{
	VipsObject *scope = VIPS_OBJECT(vips_image_new());
	VipsImage **t = (VipsImage **)vips_object_local_array(scope, 6), *im;
	const char *name;
	char loader[32] = "";
	bool doc, magick, rotate, alpha;
	double scale = 1, raw;
	int rc, w, h, lng, ofd;

	*width = *height = 0;
	/* limits and shape from the header, before any decode */
	if ((rc = media__open_image(in_fd, "", &t[0], err)) < 0)
		goto out;
	w = vips_image_get_width(t[0]);
	h = vips_image_get_height(t[0]);
	if ((rc = media__check_size(w, h, lim, err)) < 0)
		goto out;
	if (vips_image_get_typeof(t[0], VIPS_META_LOADER) &&
	    !vips_image_get_string(t[0], VIPS_META_LOADER, &name))
		snprintf(loader, sizeof loader, "%s", name); /* name dies with t[0] */
	doc = !strncmp(loader, "pdfload", 7) || !strncmp(loader, "svgload", 7) ||
	      (sniff && (!strcmp(sniff->mime, "application/pdf") ||
			 !strcmp(sniff->mime, "image/svg+xml")));
	magick = !strncmp(loader, "magick", 6);
	rotate = vips_image_get_orientation(t[0]) > 1;
	lng = w > h ? w : h;
	if (doc && lng > DOC_MAX_SIDE)
		scale = (double)DOC_MAX_SIDE / lng;
	/* the header's source shares the file offset with the next one */
	g_object_unref(t[0]);
	t[0] = NULL;

	/* libvips 8.14's tile cache turns a loader failure into a warning
	 * and grey tiles, so a failed read shows only in the error buffer:
	 * start it empty. Worker children decode one file per process. */
	vips_error_clear();
	if ((rc = master_load(in_fd, magick, rotate, scale, doc, &t[1], err)) < 0)
		goto out;
	im = t[1];
	if ((rc = media__check_size(vips_image_get_width(im), vips_image_get_height(im), lim,
				    err)) < 0)
		goto out;
	if (rotate) {
		if (vips_autorot(im, &t[2], NULL)) {
			rc = media__vips_err(err, DAM_EMEDIA, "cannot rotate image");
			goto out;
		}
		im = t[2];
	}
	if (doc && vips_image_hasalpha(im) && !strncmp(loader, "pdfload", 7)) {
		/* PDF pages are opaque paper: JPEG tiles instead of deflate */
		if (vips_flatten(im, &t[3], NULL)) {
			rc = media__vips_err(err, DAM_EMEDIA, "cannot render page");
			goto out;
		}
		im = t[3];
	}
	if ((rc = master_srgb(scope, im, &im, err)) < 0)
		goto out;
	alpha = vips_image_hasalpha(im);
	/* classic TIFF ends at 4 GiB: a pyramid adds a third to the pixels,
	 * and compression almost never makes things larger */
	/* path and permission problems are I/O errors, not the file's fault */
	if ((ofd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot create master %s", out_path);
		goto out;
	}
	close(ofd);
	raw = (double)vips_image_get_width(im) * vips_image_get_height(im) *
	      vips_image_get_bands(im) * 4 / 3;
	if (vips_tiffsave(im, out_path, "tile", TRUE, "tile_width", MASTER_TILE, "tile_height",
			  MASTER_TILE, "pyramid", TRUE, "compression",
			  alpha ? VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE
				: VIPS_FOREIGN_TIFF_COMPRESSION_JPEG,
			  "Q", MASTER_Q, "predictor", VIPS_FOREIGN_TIFF_PREDICTOR_HORIZONTAL,
			  "strip", TRUE, "bigtiff", raw > 3.5e9, NULL) ||
	    media__decode_failed(vips_error_buffer())) {
		/* pixels are decoded while writing: mostly a damaged file */
		rc = media__vips_err(err, DAM_EMEDIA, "cannot write master");
		goto out;
	}
	*width = vips_image_get_width(im);
	*height = vips_image_get_height(im);
out:
	g_object_unref(scope);
	return rc;
}

/* ---- media_transform_plan ---- */

int media_transform_plan(int width, int height, const struct media_transform *t,
			 struct media_transform_plan *out, struct dam_err *err)
{
	struct media_transform_limits lim;
	struct media_transform c = *t;
	struct tx x;
	struct plan p;
	int rc;

	memset(out, 0, sizeof *out);
	if (c.format == MEDIA_FMT_AUTO)
		c.format = MEDIA_FMT_JPEG; /* sizes do not depend on the format */
	if ((rc = validate(&c, err)) < 0)
		return rc;
	if (width < 1 || height < 1)
		return dam_err_set(err, DAM_EINVAL, "width", "image size must be at least 1x1");
	media_transform_limits_default(&lim);
	lim.max_input_pixels = lim.max_output_pixels = 0;
	memset(&x, 0, sizeof x);
	x.t = &c;
	x.lim = &lim;
	x.err = err;
	memset(&p, 0, sizeof p);
	p.tw = width;
	p.th = height;
	if ((rc = plan_size(&x, &p)) < 0)
		return rc;
	out->width = p.fw;
	out->height = p.fh;
	out->enlarged = p.enlarged;
	return 0;
}
