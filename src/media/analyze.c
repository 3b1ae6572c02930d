/*
 * analyze.c - automatic tags and search-by-image fingerprints of a decoded
 * picture: dominant colour names, orientation, aspect and resolution
 * classes, transparency, a DCT perceptual hash and a colour histogram.
 *
 * Everything is computed from one small copy of the image derive.c has
 * already decoded into memory (SIDE x SIDE, aspect ignored, 8-bit sRGB with
 * alpha), box-sampled straight from the preview's pixels in C: a libvips
 * resize to 64x64 cost ~9 ms of CPU per image (pipeline and threads for
 * 4096 pixels), the sampling well under 1 ms. Only the transparency test
 * reads every pixel (of the alpha band), because averaging hides single
 * transparent pixels.
 *
 * Colours are named in Oklab (Björn Ottosson, 2020) rather than CIE Lab:
 * Lab's hue bends blue towards purple (sRGB #0000FF has a Lab hue near
 * that of violet), Oklab keeps hue lines straight, so a nearest-prototype
 * rule works with few prototypes. Near-neutral and very dark pixels are
 * settled by lightness first, so greys never take a hue.
 */
#include "media/analyze.h"
#include "media/init.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SIDE 64        /* the working copy: SIDE x SIDE */
#define HASH_SIDE 32   /* pHash input: HASH_SIDE x HASH_SIDE grey */
#define HASH_FREQ 8    /* the top-left HASH_FREQ x HASH_FREQ DCT block */
#define ALPHA_SEEN 13  /* alpha below this (5%) counts as fully transparent */
#define ALPHA_REAL 250 /* alpha below this (of 255) is real transparency */
#define ASPECT_TOL 0.03 /* |ln(ratio / class)| accepted as that class */
#define TAG_SHARE_MIN 0.10

/* ---- colour names ---- */

enum colour {
	C_RED, C_ORANGE, C_YELLOW, C_GREEN, C_TEAL, C_BLUE, C_NAVY, C_PURPLE,
	C_PINK, C_BROWN, C_BEIGE, C_GOLD, C_BLACK, C_GREY, C_SILVER, C_WHITE,
	C_COUNT
};

static const struct {
	const char *en, *zh;
} colour_names[C_COUNT] = {
	[C_RED] = { "red", "红色" },	       [C_ORANGE] = { "orange", "橙色" },
	[C_YELLOW] = { "yellow", "黄色" },   [C_GREEN] = { "green", "绿色" },
	[C_TEAL] = { "teal", "青色" },       [C_BLUE] = { "blue", "蓝色" },
	[C_NAVY] = { "navy", "藏青色" },     [C_PURPLE] = { "purple", "紫色" },
	[C_PINK] = { "pink", "粉色" },       [C_BROWN] = { "brown", "棕色" },
	[C_BEIGE] = { "beige", "米色" },     [C_GOLD] = { "gold", "金色" },
	[C_BLACK] = { "black", "黑色" },     [C_GREY] = { "grey", "灰色" },
	[C_SILVER] = { "silver", "银色" },   [C_WHITE] = { "white", "白色" },
};

/* Chromatic prototypes (sRGB); a pixel takes the name of the nearest.
 * Several per name where one colour name spans a wide region (dark and
 * bright greens, sky and royal blues). Tuned against the CSS named
 * colours: all but the ambiguous "brown" (#A52A2A) and "darkred" match. */
static const struct {
	enum colour c;
	unsigned char r, g, b;
} protos[] = {
	{ C_RED, 200, 30, 40 },	    { C_RED, 255, 0, 0 },	 { C_ORANGE, 240, 130, 30 },
	{ C_ORANGE, 255, 120, 70 }, { C_YELLOW, 245, 215, 40 },	 { C_YELLOW, 255, 255, 0 },
	{ C_GREEN, 50, 160, 70 },   { C_GREEN, 0, 255, 0 },	 { C_GREEN, 140, 200, 50 },
	{ C_GREEN, 30, 90, 40 },    { C_TEAL, 20, 150, 150 },	 { C_TEAL, 60, 220, 220 },
	{ C_BLUE, 30, 90, 220 },    { C_BLUE, 0, 0, 255 },	 { C_BLUE, 70, 130, 180 },
	{ C_BLUE, 100, 160, 240 },  { C_NAVY, 25, 35, 100 },	 { C_PURPLE, 120, 50, 170 },
	{ C_PURPLE, 190, 90, 210 }, { C_PURPLE, 75, 0, 130 },	 { C_PINK, 240, 140, 180 },
	{ C_PINK, 255, 190, 200 },  { C_PINK, 255, 20, 150 },	 { C_BROWN, 130, 80, 40 },
	{ C_BROWN, 110, 40, 30 },   { C_BROWN, 190, 110, 60 },	 { C_BEIGE, 220, 200, 165 },
	{ C_BEIGE, 245, 240, 215 }, { C_GOLD, 200, 160, 60 },
};
#define NPROTOS (sizeof protos / sizeof protos[0])

struct oklab {
	float l, a, b;
};

/* sRGB 8-bit to linear light, one table per call (256 pow()s: cheaper
 * than guarding a shared one). */
static void linear_table(float lin[256])
{
	int i;

	for (i = 0; i < 256; i++) {
		double c = i / 255.0;

		lin[i] = (float)(c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4));
	}
}

static struct oklab to_oklab(const float lin[256], int r8, int g8, int b8)
{
	float r = lin[r8], g = lin[g8], b = lin[b8];
	float l = cbrtf(0.4122214708f * r + 0.5363325363f * g + 0.0514459929f * b);
	float m = cbrtf(0.2119034982f * r + 0.6806995451f * g + 0.1073969566f * b);
	float s = cbrtf(0.0883024619f * r + 0.2817188376f * g + 0.6299787005f * b);

	return (struct oklab){
		.l = 0.2104542553f * l + 0.7936177850f * m - 0.0040720468f * s,
		.a = 1.9779984951f * l - 2.4285922050f * m + 0.4505937099f * s,
		.b = 0.0259040371f * l + 0.7827717662f * m - 0.8086757660f * s,
	};
}

/* Lightness rules first (dark or neutral pixels never take a hue), then
 * the nearest chromatic prototype, lightness differences weighted 0.7. */
static enum colour colour_of(struct oklab p, const struct oklab pro[NPROTOS])
{
	float chroma = hypotf(p.a, p.b), best = INFINITY;
	enum colour c = C_GREY;
	size_t i;

	if (p.l < 0.20f || (p.l < 0.30f && chroma < 0.06f))
		return C_BLACK;
	if (chroma < 0.03f)
		return p.l > 0.94f ? C_WHITE : p.l > 0.75f ? C_SILVER : C_GREY;
	for (i = 0; i < NPROTOS; i++) {
		float dl = (p.l - pro[i].l) * 0.7f, da = p.a - pro[i].a, db = p.b - pro[i].b;
		float d = dl * dl + da * da + db * db;

		if (d < best) {
			best = d;
			c = protos[i].c;
		}
	}
	return c;
}

static int share_cmp(const void *x, const void *y)
{
	const struct media_color *a = x, *b = y;

	return (a->share < b->share) - (a->share > b->share);
}

/* ---- the pixel passes ---- */

/* Shares of the named colours over the opaque-enough pixels (weighted by
 * alpha), top MEDIA_COLORS_MAX into out->colors. */
static void name_colours(const unsigned char *px, const float lin[256], struct media_analysis *out)
{
	struct oklab pro[NPROTOS];
	struct media_color all[C_COUNT];
	double weight[C_COUNT] = { 0 }, total = 0;
	size_t i;
	int k;

	for (i = 0; i < NPROTOS; i++)
		pro[i] = to_oklab(lin, protos[i].r, protos[i].g, protos[i].b);
	for (i = 0; i < SIDE * SIDE; i++, px += 4) {
		double w = px[3] / 255.0;

		if (px[3] < ALPHA_SEEN)
			continue;
		weight[colour_of(to_oklab(lin, px[0], px[1], px[2]), pro)] += w;
		total += w;
	}
	out->ncolors = 0;
	if (total <= 0)
		return;
	for (k = 0; k < C_COUNT; k++) {
		snprintf(all[k].name_en, sizeof all[k].name_en, "%s", colour_names[k].en);
		snprintf(all[k].name_zh, sizeof all[k].name_zh, "%s", colour_names[k].zh);
		all[k].share = (float)(weight[k] / total);
	}
	qsort(all, C_COUNT, sizeof all[0], share_cmp);
	for (k = 0; k < MEDIA_COLORS_MAX && all[k].share > 0; k++)
		out->colors[out->ncolors++] = all[k];
}

/* Adds weight w to the 4x4x4 histogram at 8-bit (r, g, b), split between
 * the neighbouring bin centres (trilinear), so a colour on a bin edge
 * moved a little by re-encoding stays where it was. */
static void hist_add(float *h, const unsigned char *rgb, float w)
{
	int lo[3], c, i;
	float fr[3];

	for (c = 0; c < 3; c++) {
		float x = rgb[c] / 64.0f - 0.5f; /* bin centres at 0..3 */

		x = x < 0 ? 0 : x > 3 ? 3 : x;
		lo[c] = x >= 3 ? 2 : (int)x;
		fr[c] = x - (float)lo[c];
	}
	for (i = 0; i < 8; i++) {
		float f = w;
		int idx = 0;

		for (c = 0; c < 3; c++) {
			int hi = (i >> c) & 1;

			f *= hi ? fr[c] : 1 - fr[c];
			idx = idx * 4 + lo[c] + hi;
		}
		h[idx] += f;
	}
}

static void histogram(const unsigned char *px, struct media_analysis *out)
{
	double total = 0;
	size_t i;

	memset(out->hist, 0, sizeof out->hist);
	for (i = 0; i < SIDE * SIDE; i++, px += 4) {
		if (px[3] < ALPHA_SEEN)
			continue;
		hist_add(out->hist, px, px[3] / 255.0f);
		total += px[3] / 255.0;
	}
	for (i = 0; total > 0 && i < MEDIA_HIST_BINS; i++)
		out->hist[i] = (float)(out->hist[i] / total);
}

static int float_cmp(const void *x, const void *y)
{
	float a = *(const float *)x, b = *(const float *)y;

	return (a > b) - (a < b);
}

/* The pHash input: the working copy's luma flattened on white, 2x2
 * averaged to HASH_SIDE. (A (1 3 3 1) tent instead of the box moved no
 * fewer bits on cropped copies.) Returns the mean grey. */
static double hash_grey(const unsigned char *px, float grey[HASH_SIDE][HASH_SIDE])
{
	double mean = 0;
	int x, y, i;

	for (y = 0; y < HASH_SIDE; y++)
		for (x = 0; x < HASH_SIDE; x++) {
			float s = 0;

			for (i = 0; i < 4; i++) {
				const unsigned char *p =
					px + 4 * ((2 * y + (i >> 1)) * SIDE + 2 * x + (i & 1));
				float a = p[3] / 255.0f;

				s += (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) * a +
				     255.0f * (1 - a);
			}
			grey[y][x] = s / 4;
			mean += s / 4;
		}
	return mean / (HASH_SIDE * HASH_SIDE);
}

/* DCT pHash: the 32x32 grey of hash_grey(), the top-left 8x8 of its 2D
 * DCT-II; bit 8*v+u is set when coefficient (u, v) is above the median of
 * the 63 AC terms. The DC slot (bit 0) holds "mean brightness above
 * mid-grey" instead of the always-set DC bit. */
static uint64_t phash(const unsigned char *px)
{
	float grey[HASH_SIDE][HASH_SIDE], cosv[HASH_FREQ][HASH_SIDE];
	float rows[HASH_SIDE][HASH_FREQ], coef[HASH_FREQ * HASH_FREQ], ac[HASH_FREQ * HASH_FREQ];
	double mean = hash_grey(px, grey);
	uint64_t h = 0;
	float med;
	int x, y, u, v, i;

	for (u = 0; u < HASH_FREQ; u++)
		for (x = 0; x < HASH_SIDE; x++)
			cosv[u][x] = (float)cos((2 * x + 1) * u * M_PI / (2 * HASH_SIDE));
	for (y = 0; y < HASH_SIDE; y++) /* rows first, then columns */
		for (u = 0; u < HASH_FREQ; u++) {
			float s = 0;

			for (x = 0; x < HASH_SIDE; x++)
				s += grey[y][x] * cosv[u][x];
			rows[y][u] = s;
		}
	for (v = 0; v < HASH_FREQ; v++)
		for (u = 0; u < HASH_FREQ; u++) {
			float s = 0;

			for (y = 0; y < HASH_SIDE; y++)
				s += rows[y][u] * cosv[v][y];
			coef[v * HASH_FREQ + u] = s;
		}
	memcpy(ac, coef + 1, sizeof ac[0] * (HASH_FREQ * HASH_FREQ - 1));
	qsort(ac, HASH_FREQ * HASH_FREQ - 1, sizeof ac[0], float_cmp);
	med = ac[(HASH_FREQ * HASH_FREQ - 1) / 2];
	for (i = 1; i < HASH_FREQ * HASH_FREQ; i++)
		if (coef[i] > med)
			h |= (uint64_t)1 << i;
	if (mean > 127.5)
		h |= 1;
	return h;
}

/* ---- shape classes ---- */

static const struct {
	const char *name;
	int w, h;
} aspects[] = {
	{ "1:1", 1, 1 },   { "5:4", 5, 4 }, { "4:5", 4, 5 },   { "4:3", 4, 3 },
	{ "3:4", 3, 4 },   { "3:2", 3, 2 }, { "2:3", 2, 3 },   { "16:9", 16, 9 },
	{ "9:16", 9, 16 }, { "21:9", 21, 9 },
};

static const struct {
	double below_mp; /* the class holds sizes below this many megapixels */
	const char *name;
} resolutions[] = {
	{ 1, "small" },
	{ 4, "medium" },
	{ 12, "large" },
	{ INFINITY, "very-large" },
};

void media__analysis_set_size(struct media_analysis *out, int width, int height)
{
	double ratio = (double)width / height, best = INFINITY, mp;
	size_t i, bi = 0;

	out->width = width;
	out->height = height;
	for (i = 0; i < sizeof aspects / sizeof aspects[0]; i++) {
		double d = fabs(log(ratio * aspects[i].h / aspects[i].w));

		if (d < best) {
			best = d;
			bi = i;
		}
	}
	out->aspect[0] = '\0';
	out->aspect_closeness = 0;
	if (best <= ASPECT_TOL) {
		snprintf(out->aspect, sizeof out->aspect, "%s", aspects[bi].name);
		out->aspect_closeness = (float)(1 - best / (2 * ASPECT_TOL));
	}
	snprintf(out->orientation, sizeof out->orientation, "%s",
		 fabs(log(ratio)) <= ASPECT_TOL ? "square"
		 : ratio > 1		       ? "landscape"
					       : "portrait");
	mp = (double)out->width * out->height / 1e6;
	for (i = 0; mp >= resolutions[i].below_mp; i++)
		;
	snprintf(out->resolution, sizeof out->resolution, "%s", resolutions[i].name);
}

/* ---- reading the picture ---- */

/* im as 8-bit sRGB (with alpha, if any) of 1-4 bands, readable with
 * VIPS_IMAGE_ADDR; new reference. derive's preview already is (so this is
 * a reference count); 16-bit, CMYK, Lab... are converted. */
static int readable_srgb8(VipsImage *im, VipsImage **out, struct dam_err *err)
{
	VipsInterpretation in = vips_image_get_interpretation(im);
	VipsImage *t[2] = { NULL, NULL }, *cur = im;
	int rc = 0;

	*out = NULL;
	if (vips_image_get_format(im) != VIPS_FORMAT_UCHAR ||
	    (in != VIPS_INTERPRETATION_sRGB && in != VIPS_INTERPRETATION_B_W) ||
	    vips_image_get_bands(im) > 4) {
		if (vips_colourspace(im, &t[0], VIPS_INTERPRETATION_sRGB, NULL) ||
		    vips_cast(t[0], &t[1], VIPS_FORMAT_UCHAR, NULL))
			goto fail;
		cur = t[1];
		if (vips_image_get_bands(cur) > 4) {
			rc = dam_err_set(err, DAM_EMEDIA, NULL, "cannot analyse a %d-band image",
					 vips_image_get_bands(cur));
			goto out;
		}
	}
	/* a lazy image (the video poster) is rendered to memory here */
	if (vips_image_wio_input(cur))
		goto fail;
	g_object_ref(cur);
	*out = cur;
	goto out;
fail:
	rc = media__vips_err(err, DAM_EMEDIA, "cannot analyse image");
out:
	if (t[1])
		g_object_unref(t[1]);
	if (t[0])
		g_object_unref(t[0]);
	return rc;
}

/* Box-filters im into the SIDE x SIDE RGBA working copy (aspect ignored),
 * sampling at most about SAMPLES x SAMPLES pixels per cell: a cell of the
 * 1600 px preview is ~25 px, and the statistics drawn from it (colour
 * shares, a 32x32 hash) do not need every pixel. Colour is averaged
 * weighted by alpha, so invisible pixels lend no colour. */
#define SAMPLES 1000
static void box_sample(VipsImage *im, unsigned char *out)
{
	int w = vips_image_get_width(im), h = vips_image_get_height(im);
	int bands = vips_image_get_bands(im), ox, oy;
	/* band offsets of R, G, B, alpha (-1: opaque) */
	int g = bands >= 3 ? 1 : 0, b = bands >= 3 ? 2 : 0;
	int a = bands == 2 ? 1 : bands == 4 ? 3 : -1;

	for (oy = 0; oy < SIDE; oy++) {
		int y0 = (int)((int64_t)oy * h / SIDE), y1 = (int)((int64_t)(oy + 1) * h / SIDE);
		int sy;

		y1 = y1 > y0 ? y1 : y0 + 1;
		sy = (y1 - y0 + SAMPLES - 1) / SAMPLES;
		for (ox = 0; ox < SIDE; ox++, out += 4) {
			int x0 = (int)((int64_t)ox * w / SIDE), x1 = (int)((int64_t)(ox + 1) * w / SIDE);
			uint64_t sr = 0, sg = 0, sb = 0, sa = 0;
			unsigned int n = 0;
			int x, y, sx;

			x1 = x1 > x0 ? x1 : x0 + 1;
			sx = (x1 - x0 + SAMPLES - 1) / SAMPLES;
			for (y = y0; y < y1; y += sy) {
				const unsigned char *p = VIPS_IMAGE_ADDR(im, x0, y);

				for (x = x0; x < x1; x += sx, p += sx * bands, n++) {
					unsigned int al = a < 0 ? 255 : p[a];

					sr += p[0] * al;
					sg += p[g] * al;
					sb += p[b] * al;
					sa += al;
				}
			}
			out[0] = sa ? (unsigned char)((sr + sa / 2) / sa) : 0;
			out[1] = sa ? (unsigned char)((sg + sa / 2) / sa) : 0;
			out[2] = sa ? (unsigned char)((sb + sa / 2) / sa) : 0;
			out[3] = (unsigned char)((sa + n / 2) / n);
		}
	}
}

/* Any alpha below ALPHA_REAL, over every pixel (averaging would hide
 * single ones). */
static bool has_transparency(VipsImage *im)
{
	int bands = vips_image_get_bands(im), w = vips_image_get_width(im);
	int h = vips_image_get_height(im), x, y;

	if (bands != 2 && bands != 4)
		return false;
	for (y = 0; y < h; y++) {
		const unsigned char *p = VIPS_IMAGE_ADDR(im, 0, y) + bands - 1;
		unsigned char min = 255;

		for (x = 0; x < w; x++, p += bands)
			min = *p < min ? *p : min;
		if (min < ALPHA_REAL)
			return true;
	}
	return false;
}

int media__analyze_image(VipsImage *im, int width, int height, struct media_analysis *out,
			 struct dam_err *err)
{
	unsigned char px[SIDE * SIDE * 4];
	VipsImage *rgb = NULL;
	float lin[256];
	int rc;

	memset(out, 0, sizeof *out);
	out->kind = MEDIA_IMAGE;
	if (width < 1 || height < 1)
		return dam_err_set(err, DAM_EINVAL, NULL, "image size %dx%d", width, height);
	if ((rc = readable_srgb8(im, &rgb, err)) < 0)
		return rc;
	out->transparent = has_transparency(rgb);
	box_sample(rgb, px);
	g_object_unref(rgb);
	linear_table(lin);
	name_colours(px, lin, out);
	histogram(px, out);
	out->phash = phash(px);
	media__analysis_set_size(out, width, height);
	out->valid = true;
	return 0;
}

/* ---- public ---- */

int media_phash_distance(uint64_t a, uint64_t b)
{
	return __builtin_popcountll(a ^ b);
}

double media_hist_similarity(const float *a, const float *b)
{
	double s = 0, sa = 0, sb = 0;
	int i;

	for (i = 0; i < MEDIA_HIST_BINS; i++) {
		s += a[i] < b[i] ? a[i] : b[i];
		sa += a[i];
		sb += b[i];
	}
	if (sa <= 0 || sb <= 0) /* an empty (fully transparent) side */
		return sa <= 0 && sb <= 0 ? 1 : 0;
	s /= sa > sb ? sa : sb;
	return s < 0 ? 0 : s > 1 ? 1 : s;
}

static int tag_add(json_t *arr, const char *tag, double confidence)
{
	json_t *o = json_pack("{s:s,s:f}", "tag", tag, "confidence",
			      round(confidence * 1000) / 1000);

	return o ? json_array_append_new(arr, o) : -1;
}

json_t *media_analysis_tags(const struct media_analysis *a)
{
	json_t *arr = json_array();
	char buf[64];
	int i, bad = 0;

	if (!arr || !a || !a->valid)
		return arr;
	for (i = 0; i < a->ncolors; i++) {
		if (a->colors[i].share < TAG_SHARE_MIN)
			continue;
		bad |= tag_add(arr, a->colors[i].name_en, a->colors[i].share);
		bad |= tag_add(arr, a->colors[i].name_zh, a->colors[i].share);
	}
	bad |= tag_add(arr, a->orientation, 1);
	if (a->aspect[0]) {
		snprintf(buf, sizeof buf, "aspect:%s", a->aspect);
		bad |= tag_add(arr, buf, a->aspect_closeness);
	}
	snprintf(buf, sizeof buf, "resolution:%s", a->resolution);
	bad |= tag_add(arr, buf, 1);
	if (a->transparent)
		bad |= tag_add(arr, "transparent", 1);
	snprintf(buf, sizeof buf, "kind:%s", media_kind_name(a->kind));
	bad |= tag_add(arr, buf, 1);
	if (bad) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}
