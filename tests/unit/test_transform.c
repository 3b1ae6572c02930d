/*
 * test_transform.c - unit tests of src/media/transform.c: normalised
 * masters (media_master_write) and delivery transforms
 * (media_transform_reader, here over readers of local files).
 *
 * Inputs are drawn with libvips in a temporary folder (plus exiftool for
 * camera metadata), turned into masters, and every assertion checks an
 * outcome we can predict from what was drawn: sizes, where a marked
 * pixel lands, colours of padding and watermark, bytes that identify a
 * format, metadata read back from the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include "media/media.h"
#include "media/meta.h" /* media__xmp_parse, to read XMP back */
#include "media/transform.h"

static char tmpdir[256];
static struct media_limits lim;
static struct media_transform_limits tlim;

#define OK(call)                                                                   \
	do {                                                                       \
		int rc_ = (call);                                                  \
		if (rc_ != 0)                                                      \
			fail_msg("%s = %d: %s", #call, rc_, err.msg);              \
	} while (0)

/* ---- helpers ---- */

static void pathf(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmpdir, name);
}

#define sh tu_sh

static int open_in(const char *name)
{
	return tu_open_in(tmpdir, name);
}

/* A w x h image of one colour (bands values), in memory so that it can be
 * drawn on. */
static VipsImage *solid(int w, int h, int bands, const double *c)
{
	VipsImage *b = NULL, *l = NULL, *s = NULL, *m;
	double one[4] = { 1, 1, 1, 1 };

	assert_int_equal(vips_black(&b, w, h, "bands", bands, NULL), 0);
	assert_int_equal(vips_linear(b, &l, one, c, bands, "uchar", TRUE, NULL), 0);
	assert_int_equal(vips_copy(l, &s, "interpretation",
				   bands >= 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W,
				   NULL),
			 0);
	m = vips_image_copy_memory(s);
	assert_non_null(m);
	g_object_unref(s);
	g_object_unref(l);
	g_object_unref(b);
	return m;
}

static void rect(VipsImage *im, const double *c, int x, int y, int w, int h)
{
	assert_int_equal(vips_draw_rect(im, (double *)c, vips_image_get_bands(im), x, y, w, h,
					"fill", TRUE, NULL),
			 0);
}

/* Saves and drops im. */
static void save(VipsImage *im, const char *name)
{
	char p[512];

	pathf(p, sizeof p, name);
	if (vips_image_write_to_file(im, p, NULL))
		fail_msg("cannot write %s: %s", p, vips_error_buffer());
	g_object_unref(im);
}

/* Writes the master of input `in` to `out` and returns its size. */
static void master(const char *in, const char *out, int *w, int *h)
{
	struct dam_err err = { 0 };
	struct media_sniff s;
	char p[512];
	int fd = open_in(in), mw, mh;

	OK(media_sniff_fd(fd, in, &s, &err));
	pathf(p, sizeof p, out);
	OK(media_master_write(fd, &s, &lim, p, &mw, &mh, &err));
	close(fd);
	if (w)
		*w = mw;
	if (h)
		*h = mh;
}

/* Runs t on master `m`; returns the code, fills *r. */
static int xform(const char *m, const struct media_transform *t, struct media_transform_result *r,
		 struct dam_err *err)
{
	struct blob_reader *rd;
	int fd = open_in(m), rc;

	assert_int_equal(blob_reader_from_fd(fd, &rd, NULL), 0);
	rc = media_transform_reader(rd, t, &tlim, r, err);
	blob_reader_free(rd);
	close(fd);
	if (rc < 0)
		assert_null(r->data);
	return rc;
}

/* Runs t, expects success, decodes the output (caller unrefs). */
static VipsImage *render(const char *m, const struct media_transform *t,
			 struct media_transform_result *r)
{
	struct dam_err err = { 0 };
	VipsImage *im;

	OK(xform(m, t, r, &err));
	assert_non_null(r->data);
	im = vips_image_new_from_buffer(r->data, r->len, "", NULL);
	if (!im)
		fail_msg("output does not decode: %s", vips_error_buffer());
	assert_int_equal(vips_image_get_width(im), r->width);
	assert_int_equal(vips_image_get_height(im), r->height);
	return im;
}

/* Size of the output of t on m (decoded). */
static void dims(const char *m, const struct media_transform *t, int ew, int eh)
{
	struct media_transform_result r;
	VipsImage *im = render(m, t, &r);

	if (r.width != ew || r.height != eh)
		fail_msg("%dx%d, expected %dx%d", r.width, r.height, ew, eh);
	g_object_unref(im);
	free(r.data);
}

static void pixel(VipsImage *im, int x, int y, double *px)
{
	double *v = NULL;
	int n = 0, i;

	assert_int_equal(vips_getpoint(im, &v, &n, x, y, NULL), 0);
	for (i = 0; i < n && i < 4; i++)
		px[i] = v[i];
	g_free(v);
}

static void assert_rgb(VipsImage *im, int x, int y, double r, double g, double b, double tol)
{
	double px[4] = { 0 };

	pixel(im, x, y, px);
	if (fabs(px[0] - r) > tol || fabs(px[1] - g) > tol || fabs(px[2] - b) > tol)
		fail_msg("pixel (%d,%d) = %.0f,%.0f,%.0f, expected %.0f,%.0f,%.0f (+-%.0f)", x, y,
			 px[0], px[1], px[2], r, g, b, tol);
}

/* Pixels that are clearly red (the salient marker). */
static int count_red(VipsImage *im)
{
	VipsImage *rgb = NULL;
	unsigned char *p;
	size_t len, i;
	int n = 0, bands;

	assert_int_equal(vips_colourspace(im, &rgb, VIPS_INTERPRETATION_sRGB, NULL), 0);
	bands = vips_image_get_bands(rgb);
	p = vips_image_write_to_memory(rgb, &len);
	assert_non_null(p);
	for (i = 0; i + (size_t)bands <= len; i += (size_t)bands)
		n += p[i] > 180 && p[i + 1] < 80 && p[i + 2] < 80;
	g_free(p);
	g_object_unref(rgb);
	return n;
}

static bool has_field(VipsImage *im, const char *name)
{
	return vips_image_get_typeof(im, name) != 0;
}

/* ---- inputs ---- */

static const double GREY[3] = { 128, 128, 128 }, RED[3] = { 230, 20, 20 },
		    WHITE[3] = { 255, 255, 255 }, BLUE[3] = { 30, 60, 200 },
		    BLACK[3] = { 0, 0, 0 };

/* A one-page PDF of 8000 x 4000 pt, its left half blue. */
static void write_pdf(const char *name)
{
	static const char *const objs[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 8000 4000] /Contents 4 0 R "
		"/Resources << >> >>",
		"<< /Length 27 >>\nstream\n0 0 1 rg 0 0 4000 4000 re f\nendstream",
	};
	char buf[2048], p[512];
	size_t o, off[4], i, n = sizeof objs / sizeof objs[0], xref;
	FILE *f;

	o = (size_t)snprintf(buf, sizeof buf, "%%PDF-1.4\n");
	for (i = 0; i < n; i++) {
		off[i] = o;
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%zu 0 obj\n%s\nendobj\n", i + 1,
				      objs[i]);
	}
	xref = o;
	o += (size_t)snprintf(buf + o, sizeof buf - o, "xref\n0 %zu\n0000000000 65535 f \n", n + 1);
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%010zu 00000 n \n", off[i]);
	o += (size_t)snprintf(buf + o, sizeof buf - o,
			      "trailer\n<< /Size %zu /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", n + 1,
			      xref);
	pathf(p, sizeof p, name);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, o, f), o);
	assert_int_equal(fclose(f), 0);
}

static void make_inputs(void)
{
	const char *d = tmpdir;
	VipsImage *im;

	/* photo.jpg: 1200x800 quadrants, with camera EXIF, GPS and XMP */
	im = solid(1200, 800, 3, GREY);
	rect(im, RED, 0, 0, 600, 400);
	rect(im, BLUE, 600, 400, 600, 400);
	save(im, "photo.jpg");
	sh("exiftool -q -overwrite_original -Make=Canon -Model='EOS R5' "
	   "-GPSLatitude=52.37 -GPSLatitudeRef=N -GPSLongitude=4.9 -GPSLongitudeRef=E "
	   "-DateTimeOriginal='2026:03:14 10:20:30' -XMP-dc:Creator='Someone Else' "
	   "-Copyright='old notice' %s/photo.jpg",
	   d);

	/* rot6.jpg: stored 400x300, a red block top-left, Orientation 6 (turn
	 * 90 degrees clockwise to view): upright it is top-right */
	im = solid(400, 300, 3, WHITE);
	rect(im, RED, 0, 0, 60, 40);
	vips_image_set_int(im, "orientation", 6);
	save(im, "rot6.jpg");

	/* marked.png: 300x200 grey, red 10x10 block top-left */
	im = solid(300, 200, 3, GREY);
	rect(im, RED, 0, 0, 10, 10);
	save(im, "marked.png");

	/* salient.png: flat grey 1200x600, a small red square near the right
	 * edge, centred at (1110, 300) */
	im = solid(1200, 600, 3, GREY);
	rect(im, RED, 1080, 270, 60, 60);
	save(im, "salient.png");

	/* border.png: a 400x200 blue rectangle on a 100 px white border */
	im = solid(600, 400, 3, WHITE);
	rect(im, BLUE, 100, 100, 400, 200);
	save(im, "border.png");

	/* white.png: the watermark's background; wm.png: black, 100x50 */
	save(solid(800, 400, 3, WHITE), "white.png");
	save(solid(100, 50, 3, BLACK), "wm.png");

	/* alpha.png: 300x200, transparent, with an opaque blue block */
	{
		const double clear[4] = { 0, 0, 0, 0 }, opaque[4] = { 30, 60, 200, 255 };

		im = solid(300, 200, 4, clear);
		rect(im, opaque, 100, 50, 100, 100);
		save(im, "alpha.png");
	}
	/* alpha16.png: the same, 16 bits a sample */
	sh("vips cast %s/alpha.png %s/a16.v ushort --shift && "
	   "vips copy %s/a16.v %s/alpha16.png --interpretation rgb16",
	   d, d, d, d);

	/* a CMYK JPEG of (90, 120, 160), a colour CMYK can hold, through
	 * libvips's CMYK profile, with the profile and without; and a 16-bit
	 * PNG */
	sh("vips black %s/b.v 200 100 --bands 3 && vips linear %s/b.v %s/c.v '1 1 1' '90 120 160' "
	   "--uchar && vips copy %s/c.v %s/c3.v --interpretation srgb && "
	   "vips icc_export %s/c3.v %s/cmyk.jpg --output-profile cmyk && "
	   "vips copy %s/cmyk.jpg '%s/cmyk-bare.jpg[strip]' && "
	   "vips cast %s/c3.v %s/c16.v ushort --shift && "
	   "vips copy %s/c16.v %s/rgb16.png --interpretation rgb16",
	   d, d, d, d, d, d, d, d, d, d, d, d, d);

	/* drawing.svg: 10000 x 5000 user units, rendered at most 4096 wide */
	{
		static const char svg[] =
			"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10000\" "
			"height=\"5000\"><rect width=\"10000\" height=\"5000\" fill=\"#1e3cc8\"/>"
			"</svg>\n";
		char p[512];
		FILE *f;

		pathf(p, sizeof p, "drawing.svg");
		f = fopen(p, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(svg, 1, sizeof svg - 1, f), sizeof svg - 1);
		assert_int_equal(fclose(f), 0);
	}

	write_pdf("wide.pdf");
	master("photo.jpg", "photo.tif", NULL, NULL);
	master("marked.png", "marked.tif", NULL, NULL);
	master("salient.png", "salient.tif", NULL, NULL);
	master("border.png", "border.tif", NULL, NULL);
	master("white.png", "white.tif", NULL, NULL);
	master("wm.png", "wm.tif", NULL, NULL);
	master("alpha.png", "alpha.tif", NULL, NULL);
}

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/test_transform.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	media_limits_default(&lim);
	media_transform_limits_default(&tlim);
	if (media_init("test_transform", &lim, NULL) < 0)
		return -1;
	/* a GLib critical or warning (a double unref, a loader complaint)
	 * fails the run even without G_DEBUG=fatal-warnings */
	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	make_inputs();
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];

	if (!getenv("DAM_TEST_KEEP")) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			return -1;
	}
	media_shutdown();
	return 0;
}

/* ---- masters ---- */

/* TileWidth (322) of the first IFD of a little-endian classic TIFF. */
static int tiff_tile_width(const char *name)
{
	unsigned char b[8], e[12];
	uint32_t off;
	uint16_t n, i;
	int fd = open_in(name), w = 0;

	assert_int_equal(pread(fd, b, 8, 0), 8);
	assert_memory_equal(b, "II*\0", 4);
	off = b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24;
	assert_int_equal(pread(fd, b, 2, off), 2);
	n = (uint16_t)(b[0] | b[1] << 8);
	for (i = 0; i < n && !w; i++) {
		assert_int_equal(pread(fd, e, 12, off + 2 + 12 * i), 12);
		if ((e[0] | e[1] << 8) == 322)
			w = e[8] | e[9] << 8;
	}
	close(fd);
	return w;
}

static VipsImage *load_master(const char *name, int page)
{
	char p[512];
	VipsImage *im;

	pathf(p, sizeof p, name);
	im = vips_image_new_from_file(p, "page", page, NULL);
	if (!im)
		fail_msg("cannot read %s page %d: %s", p, page, vips_error_buffer());
	return im;
}

static void test_master_pyramid(void **state)
{
	VipsImage *im = load_master("photo.tif", 0), *l1;
	gchar **f;
	int i;

	assert_int_equal(vips_image_get_width(im), 1200);
	assert_int_equal(vips_image_get_height(im), 800);
	assert_int_equal(vips_image_get_bands(im), 3);
	assert_int_equal(vips_image_get_format(im), VIPS_FORMAT_UCHAR);
	/* 1200 -> 600 -> 300 -> 150: one page per level */
	assert_true(vips_image_get_n_pages(im) >= 3);
	l1 = load_master("photo.tif", 1);
	assert_int_equal(vips_image_get_width(l1), 600);
	assert_int_equal(vips_image_get_height(l1), 400);
	assert_int_equal(tiff_tile_width("photo.tif"), 256);
	/* pixels survive (JPEG Q92 tiles): the quadrants */
	assert_rgb(im, 100, 100, 230, 20, 20, 12);
	assert_rgb(im, 1100, 700, 30, 60, 200, 12);
	/* no metadata at all: not the camera's, not even a profile */
	f = vips_image_get_fields(im);
	for (i = 0; f[i]; i++)
		if (!strncmp(f[i], "exif-", 5) || strstr(f[i], "-data") || !strncmp(f[i], "xmp", 3))
			fail_msg("master carries %s", f[i]);
	g_strfreev(f);
	g_object_unref(l1);
	g_object_unref(im);
}

static void test_master_orientation(void **state)
{
	VipsImage *im;
	int w, h;

	master("rot6.jpg", "rot6.tif", &w, &h);
	assert_int_equal(w, 300);
	assert_int_equal(h, 400);
	im = load_master("rot6.tif", 0);
	assert_int_equal(vips_image_get_width(im), 300);
	/* stored top-left, turned clockwise: top-right */
	assert_rgb(im, 280, 20, 230, 20, 20, 30);
	assert_rgb(im, 20, 20, 255, 255, 255, 10);
	assert_false(has_field(im, "orientation") &&
		     vips_image_get_orientation(im) != 1);
	g_object_unref(im);
}

static void test_master_colour(void **state)
{
	VipsImage *im;

	/* CMYK back to sRGB, from its profile or libvips's when it has none */
	master("cmyk.jpg", "cmyk.tif", NULL, NULL);
	im = load_master("cmyk.tif", 0);
	assert_int_equal(vips_image_get_bands(im), 3);
	assert_int_equal(vips_image_get_interpretation(im), VIPS_INTERPRETATION_sRGB);
	assert_rgb(im, 100, 50, 90, 120, 160, 12);
	g_object_unref(im);
	master("cmyk-bare.jpg", "cmyk-bare.tif", NULL, NULL);
	im = load_master("cmyk-bare.tif", 0);
	assert_int_equal(vips_image_get_bands(im), 3);
	assert_rgb(im, 100, 50, 90, 120, 160, 12);
	g_object_unref(im);

	/* 16-bit RGB becomes 8-bit with the same colour */
	master("rgb16.png", "rgb16.tif", NULL, NULL);
	im = load_master("rgb16.tif", 0);
	assert_int_equal(vips_image_get_format(im), VIPS_FORMAT_UCHAR);
	assert_rgb(im, 100, 50, 90, 120, 160, 2);
	g_object_unref(im);

	/* alpha is kept (deflate tiles keep it exact) */
	im = load_master("alpha.tif", 0);
	assert_int_equal(vips_image_get_bands(im), 4);
	{
		double px[4];

		pixel(im, 10, 10, px);
		assert_true(px[3] == 0);
		pixel(im, 150, 100, px);
		assert_true(px[3] == 255 && px[2] == 200);
	}
	g_object_unref(im);
}

static void test_master_svg(void **state)
{
	int w, h;

	master("drawing.svg", "drawing.tif", &w, &h);
	assert_int_equal(w, 4096);
	assert_int_equal(h, 2048);
}

static void test_master_pdf(void **state)
{
	VipsImage *im;
	int w, h;

	master("wide.pdf", "wide.tif", &w, &h);
	assert_int_equal(w, 4096);
	assert_int_equal(h, 2048);
	im = load_master("wide.tif", 0);
	assert_int_equal(vips_image_get_bands(im), 3); /* paper is opaque */
	assert_rgb(im, 1000, 1000, 0, 0, 255, 12);
	assert_rgb(im, 3000, 1000, 255, 255, 255, 4);
	g_object_unref(im);
}

static void test_master_refuses(void **state)
{
	struct dam_err err = { 0 };
	struct media_limits small = lim;
	struct media_sniff s;
	char p[512];
	int fd = open_in("photo.jpg"), w, h;

	OK(media_sniff_fd(fd, "photo.jpg", &s, &err));
	small.max_pixels = 1000;
	pathf(p, sizeof p, "never.tif");
	assert_int_equal(media_master_write(fd, &s, &small, p, &w, &h, &err), DAM_ELIMIT);
	assert_non_null(strstr(err.msg, "1200x800"));
	assert_int_equal(media_master_write(fd, &s, &lim, "/nonexistent/dir/m.tif", &w, &h, &err),
			 DAM_ENOTFOUND);
	close(fd);
}

/* ---- sizes ---- */

/* t with up = `up` on m is refused: DAM_ECONFLICT, field "up", the message
 * holding `msg`; media_transform_plan says the same without pixels. */
static void too_small(const char *m, struct media_transform *t, double up, const char *msg)
{
	struct media_transform_result r;
	struct media_transform_plan plan;
	struct dam_err err = { 0 };
	double keep = t->up;

	t->up = up;
	assert_int_equal(xform(m, t, &r, &err), DAM_ECONFLICT);
	assert_string_equal(err.field, "up");
	if (!strstr(err.msg, msg))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, msg);
	assert_int_equal(media_transform_plan(1200, 800, t, &plan, &err), DAM_ECONFLICT);
	t->up = keep;
}

/* The enlargement applied is reported, by the transform and its plan. */
static void test_enlarged(void **state)
{
	struct media_transform_result r;
	struct media_transform_plan plan;
	struct media_transform t;
	struct dam_err err = { 0 };
	VipsImage *im;

	media_transform_init(&t);
	t.width = t.height = 1080;
	t.fit = MEDIA_FIT_COVER;
	t.crop = MEDIA_CROP_SMART;
	t.up = 2;
	im = render("photo.tif", &t, &r); /* 1200x800: 1.35x */
	assert_int_equal(r.width, 1080);
	assert_int_equal(r.height, 1080);
	assert_true(fabs(r.enlarged - 1.35) < 0.01);
	g_object_unref(im);
	free(r.data);
	OK(media_transform_plan(1200, 800, &t, &plan, &err));
	assert_int_equal(plan.width, 1080);
	assert_true(fabs(plan.enlarged - 1.35) < 0.01);
	/* contain never enlarges unless up says so: the image stays 1200x800
	 * in the middle of the 2000x2000 canvas */
	t.fit = MEDIA_FIT_CONTAIN;
	t.crop = MEDIA_CROP_CENTER;
	t.width = t.height = 2000;
	t.up = 0;
	t.format = MEDIA_FMT_PNG;
	im = render("photo.tif", &t, &r);
	assert_int_equal(r.width, 2000);
	assert_int_equal(r.height, 2000);
	assert_true(r.enlarged == 1);
	assert_rgb(im, 1000, 350, 255, 255, 255, 0); /* padding above the photo (y 600..1400) */
	assert_rgb(im, 700, 800, 230, 20, 20, 10);   /* the red top-left quadrant, unscaled */
	g_object_unref(im);
	free(r.data);
	/* downscaling is not enlarging */
	t.width = t.height = 400;
	im = render("photo.tif", &t, &r);
	assert_true(r.enlarged == 1);
	g_object_unref(im);
	free(r.data);
}

static void test_fits(void **state)
{
	struct media_transform t;

	media_transform_init(&t);
	dims("photo.tif", &t, 1200, 800); /* nothing set: as is */
	t.width = 400;
	t.height = 400;
	dims("photo.tif", &t, 400, 267); /* inside */
	t.width = t.height = 2000;
	dims("photo.tif", &t, 1200, 800); /* inside never upscales by default */
	t.up = 1.5;
	dims("photo.tif", &t, 1800, 1200); /* ... and at most up times with it */
	t.up = 0;
	t.fit = MEDIA_FIT_CONTAIN;
	dims("photo.tif", &t, 2000, 2000); /* contain: always the box */
	t.width = t.height = 400;
	dims("photo.tif", &t, 400, 400);
	t.fit = MEDIA_FIT_COVER;
	dims("photo.tif", &t, 400, 400);
	t.fit = MEDIA_FIT_FILL;
	t.width = 400;
	t.height = 100;
	dims("photo.tif", &t, 400, 100);
	/* cover and fill of a source too small: exactly the box within up,
	 * refused beyond it (cover 2000x1000 needs 1.67x, fill 2400x600 2x) */
	t.width = 2400;
	t.height = 600;
	t.up = 2;
	dims("photo.tif", &t, 2400, 600);
	t.fit = MEDIA_FIT_COVER;
	t.width = 2000;
	t.height = 1000;
	dims("photo.tif", &t, 2000, 1000);
	too_small("photo.tif", &t, 0, "enlarged 1.67x and this transform never enlarges");
	too_small("photo.tif", &t, 1.5, "enlarged 1.67x, more than the 1.5x allowed (up_1.5)");
	t.fit = MEDIA_FIT_FILL;
	t.width = 2400;
	t.height = 600;
	too_small("photo.tif", &t, 1.9, "fill 2400x600");
	t.up = 0;
	/* one side: the other follows, every fit is inside */
	t.fit = MEDIA_FIT_COVER;
	t.width = 300;
	t.height = 0;
	dims("photo.tif", &t, 300, 200);
	t.width = 0;
	t.height = 100;
	t.fit = MEDIA_FIT_CONTAIN;
	dims("photo.tif", &t, 150, 100);
	t.height = 5000;
	dims("photo.tif", &t, 1200, 800);
	/* dpr multiplies the box and the padding */
	media_transform_init(&t);
	t.width = t.height = 200;
	t.dpr = 2;
	dims("photo.tif", &t, 400, 267);
	t.pad[0] = 10;
	t.pad[1] = 20;
	t.pad[2] = 30;
	t.pad[3] = 40;
	dims("photo.tif", &t, 400 + 120, 267 + 80);
	/* rotation swaps the box's meaning */
	media_transform_init(&t);
	t.width = 400;
	t.rotate = 90;
	dims("photo.tif", &t, 400, 600);
}

static void test_padding(void **state)
{
	struct media_transform_result r;
	struct media_transform t;
	VipsImage *im;

	/* contain letterboxes with bg; pad adds outside the box */
	media_transform_init(&t);
	t.width = t.height = 400;
	t.fit = MEDIA_FIT_CONTAIN;
	t.bg_set = true;
	t.bg[0] = 0;
	t.bg[1] = 200;
	t.bg[2] = 0;
	t.bg[3] = 255;
	t.pad[0] = 10; /* top */
	t.pad[3] = 30; /* left */
	t.format = MEDIA_FMT_PNG;
	im = render("photo.tif", &t, &r);
	assert_int_equal(r.width, 430);
	assert_int_equal(r.height, 410);
	assert_rgb(im, 5, 5, 0, 200, 0, 0);        /* padding corner */
	assert_rgb(im, 230, 20, 0, 200, 0, 0);     /* letterbox band above */
	assert_rgb(im, 230, 400, 0, 200, 0, 0);    /* and below */
	assert_rgb(im, 60, 150, 230, 20, 20, 10);  /* image: red quadrant */
	assert_rgb(im, 400, 320, 30, 60, 200, 10); /* blue quadrant */
	g_object_unref(im);
	free(r.data);

	/* a transparent bg on PNG: the padding is transparent */
	t.bg[3] = 0;
	im = render("photo.tif", &t, &r);
	assert_int_equal(vips_image_get_bands(im), 4);
	{
		double px[4];

		pixel(im, 5, 5, px);
		assert_true(px[3] == 0);
		pixel(im, 230, 200, px);
		assert_true(px[3] == 255);
	}
	g_object_unref(im);
	free(r.data);
}

static void test_sharpen(void **state)
{
	struct media_transform_result a, b;
	struct media_transform t;
	VipsImage *ia, *ib;

	/* explicit sharpening changes edges, not flat colour */
	media_transform_init(&t);
	t.width = 600;
	t.format = MEDIA_FMT_PNG;
	t.sharpen = -1;
	ia = render("photo.tif", &t, &a);
	t.sharpen = 2;
	ib = render("photo.tif", &t, &b);
	assert_rgb(ia, 100, 100, 230, 20, 20, 6);
	assert_rgb(ib, 100, 100, 230, 20, 20, 6);
	assert_rgb(ib, 500, 300, 30, 60, 200, 6);
	assert_true(a.len != b.len || memcmp(a.data, b.data, a.len) != 0);
	g_object_unref(ia);
	g_object_unref(ib);
	free(a.data);
	free(b.data);
}

/* ---- crops ---- */

static int red_in(const struct media_transform *t)
{
	struct media_transform_result r;
	VipsImage *im = render("salient.tif", t, &r);
	int n = count_red(im);

	assert_int_equal(r.width, 400);
	assert_int_equal(r.height, 400);
	g_object_unref(im);
	free(r.data);
	return n;
}

static void test_crops(void **state)
{
	struct media_transform t;

	/* salient.tif is 1200x600: cover 400x400 scales to 800x400 and
	 * keeps a 400 px window; the red square is at x 720..760 */
	media_transform_init(&t);
	t.width = t.height = 400;
	t.fit = MEDIA_FIT_COVER;
	t.format = MEDIA_FMT_PNG;
	assert_int_equal(red_in(&t), 0); /* centre: 200..600 */
	t.crop = MEDIA_CROP_SMART;
	assert_true(red_in(&t) > 1000);
	t.crop = MEDIA_CROP_GRAVITY;
	t.gravity = MEDIA_GRAV_E;
	assert_true(red_in(&t) > 1000);
	t.gravity = MEDIA_GRAV_W;
	assert_int_equal(red_in(&t), 0);
	t.crop = MEDIA_CROP_FOCAL;
	t.focal_x = 1110.0 / 1200;
	t.focal_y = 0.5;
	assert_true(red_in(&t) > 1000);
	t.focal_x = 0.1;
	assert_int_equal(red_in(&t), 0);
	/* a focal point unset falls back to smart */
	t.focal_x = -1;
	assert_true(red_in(&t) > 1000);
	/* the window follows the object when the image is turned: rotated
	 * 180 the square is on the left, and smart still finds it */
	t.crop = MEDIA_CROP_SMART;
	t.rotate = 180;
	assert_true(red_in(&t) > 1000);
}

static void test_trim(void **state)
{
	struct media_transform_result r;
	struct media_transform t;
	VipsImage *im;

	media_transform_init(&t);
	t.trim = 10;
	t.format = MEDIA_FMT_PNG;
	im = render("border.tif", &t, &r);
	/* 400x200 blue, give or take the JPEG tiles' edge */
	assert_true(abs(r.width - 400) <= 2 && abs(r.height - 200) <= 2);
	assert_rgb(im, 2, 2, 30, 60, 200, 40);
	assert_rgb(im, r.width - 3, r.height - 3, 30, 60, 200, 40);
	g_object_unref(im);
	free(r.data);
	/* trimmed then scaled */
	t.width = 200;
	dims("border.tif", &t, 200, 100);
}

static void test_rotate_flip(void **state)
{
	struct media_transform_result r;
	struct media_transform t;
	VipsImage *im;

	/* marked.tif: 300x200, red 10x10 top-left */
	media_transform_init(&t);
	t.format = MEDIA_FMT_PNG;
	t.rotate = 90;
	im = render("marked.tif", &t, &r);
	assert_int_equal(r.width, 200);
	assert_int_equal(r.height, 300);
	assert_rgb(im, 195, 4, 230, 20, 20, 40); /* clockwise: top-right */
	assert_rgb(im, 4, 4, 128, 128, 128, 20);
	g_object_unref(im);
	free(r.data);

	t.rotate = 270;
	im = render("marked.tif", &t, &r);
	assert_rgb(im, 4, 295, 230, 20, 20, 40); /* bottom-left */
	g_object_unref(im);
	free(r.data);

	t.rotate = 0;
	t.flip_h = true;
	im = render("marked.tif", &t, &r);
	assert_int_equal(r.width, 300);
	assert_rgb(im, 295, 4, 230, 20, 20, 40);
	g_object_unref(im);
	free(r.data);

	t.flip_h = false;
	t.flip_v = true;
	im = render("marked.tif", &t, &r);
	assert_rgb(im, 4, 195, 230, 20, 20, 40);
	g_object_unref(im);
	free(r.data);

	/* rotate first, then flip in the turned frame */
	t.rotate = 90;
	t.flip_v = false;
	t.flip_h = true;
	im = render("marked.tif", &t, &r);
	assert_rgb(im, 4, 4, 230, 20, 20, 40);
	g_object_unref(im);
	free(r.data);
}

/* ---- watermark ---- */

static void test_watermark(void **state)
{
	struct media_transform_result r;
	struct media_transform t;
	VipsImage *im;
	struct blob_reader *wr;
	int wfd = open_in("wm.tif");

	/* white 800x400; black 100x50 mark at a quarter of the width (200x100)
	 * in the bottom-right corner at half opacity: mid grey there */
	media_transform_init(&t);
	t.format = MEDIA_FMT_PNG;
	assert_int_equal(blob_reader_from_fd(wfd, &wr, NULL), 0);
	t.wm = wr;
	t.wm_gravity = MEDIA_GRAV_SE;
	t.wm_scale = 0.25;
	t.wm_opacity = 0.5;
	im = render("white.tif", &t, &r);
	assert_int_equal(r.width, 800);
	assert_int_equal(r.height, 400);
	assert_int_equal(vips_image_get_bands(im), 3);
	assert_rgb(im, 790, 390, 128, 128, 128, 3);
	assert_rgb(im, 610, 310, 128, 128, 128, 3);
	assert_rgb(im, 590, 390, 255, 255, 255, 0);
	assert_rgb(im, 790, 290, 255, 255, 255, 0);
	assert_rgb(im, 10, 10, 255, 255, 255, 0);
	g_object_unref(im);
	free(r.data);

	t.wm_gravity = MEDIA_GRAV_NW;
	t.wm_opacity = 1;
	im = render("white.tif", &t, &r);
	assert_rgb(im, 10, 10, 0, 0, 0, 3);
	assert_rgb(im, 790, 390, 255, 255, 255, 0);
	g_object_unref(im);
	free(r.data);
	blob_reader_free(wr);
	close(wfd);
}

/* ---- formats and metadata ---- */

static void test_formats(void **state)
{
	static const struct {
		enum media_format f;
		const char *magic;
		size_t off, len;
	} fm[] = {
		{ MEDIA_FMT_JPEG, "\xff\xd8\xff", 0, 3 },
		{ MEDIA_FMT_PNG, "\x89PNG\r\n\x1a\n", 0, 8 },
		{ MEDIA_FMT_WEBP, "WEBP", 8, 4 },
		{ MEDIA_FMT_AVIF, "ftypavif", 4, 8 },
		{ MEDIA_FMT_JXL, "\xff\x0a", 0, 2 },
	};
	struct media_transform_result r;
	struct media_transform t;
	size_t i;

	for (i = 0; i < sizeof fm / sizeof fm[0]; i++) {
		VipsImage *im;

		media_transform_init(&t);
		t.width = 300;
		t.format = fm[i].f;
		t.strip_all = true;
		im = render("photo.tif", &t, &r);
		assert_int_equal(r.format, fm[i].f);
		assert_int_equal(r.width, 300);
		assert_int_equal(r.height, 200);
		if (memcmp((char *)r.data + fm[i].off, fm[i].magic, fm[i].len))
			fail_msg("%s output does not start as expected", media_format_name(fm[i].f));
		/* (JPEG XL always codes its colour space; libvips makes a
		 * profile of it) */
		if (fm[i].f != MEDIA_FMT_JXL && has_field(im, VIPS_META_ICC_NAME))
			fail_msg("%s has a profile", media_format_name(fm[i].f));
		/* colours survive every encoder */
		assert_rgb(im, 50, 50, 230, 20, 20, 25);
		assert_rgb(im, 250, 150, 30, 60, 200, 25);
		if (fm[i].f != MEDIA_FMT_PNG)
			assert_int_equal(r.quality, fm[i].f == MEDIA_FMT_JPEG   ? 85 :
						   fm[i].f == MEDIA_FMT_WEBP ? 80 :
						   fm[i].f == MEDIA_FMT_AVIF ? 55 : 75);
		g_object_unref(im);
		free(r.data);
	}
	assert_string_equal(media_format_mime(MEDIA_FMT_AVIF), "image/avif");
	assert_string_equal(media_format_name(MEDIA_FMT_JXL), "jxl");
}

/* The sRGB profile we embed gives the same colours as libvips's own. */
static void check_profile(VipsImage *im)
{
	VipsImage *a = NULL, *b = NULL;
	const void *icc;
	size_t len;
	double pa[4], pb[4];
	int i;

	assert_int_equal(vips_image_get_blob(im, VIPS_META_ICC_NAME, &icc, &len), 0);
	assert_true(len > 300 && len < 1500);
	assert_memory_equal((const char *)icc + 36, "acsp", 4);
	assert_memory_equal((const char *)icc + 16, "RGB ", 4);
	assert_int_equal(vips_icc_import(im, &a, "embedded", TRUE, NULL), 0);
	assert_int_equal(vips_icc_import(im, &b, "embedded", FALSE, "input_profile", "srgb", NULL),
			 0);
	pixel(a, 50, 50, pa);
	pixel(b, 50, 50, pb);
	for (i = 0; i < 3; i++)
		assert_true(fabs(pa[i] - pb[i]) < 0.01);
	g_object_unref(a);
	g_object_unref(b);
}

/* Every EXIF field in im is one the standard requires or ours. */
static void check_exif_only_ours(VipsImage *im)
{
	static const char *const allowed[] = {
		"Copyright", "Artist", "Orientation", "XResolution", "YResolution",
		"ResolutionUnit", "YCbCrPositioning", "ExifVersion", "ComponentsConfiguration",
		"FlashpixVersion", "ColorSpace", "PixelXDimension", "PixelYDimension",
	};
	gchar **f = vips_image_get_fields(im);
	int i;

	for (i = 0; f[i]; i++) {
		const char *name = f[i];
		size_t k;
		bool ok = false;

		if (strncmp(name, "exif-ifd", 8))
			continue;
		name = strchr(name + 8, '-') + 1;
		for (k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
			ok |= !strcmp(name, allowed[k]);
		if (!ok)
			fail_msg("unexpected EXIF field %s", f[i]);
	}
	g_strfreev(f);
}

static void check_xmp(VipsImage *im, const char *creator, const char *rights)
{
	json_t *emb = json_object();
	const void *p;
	size_t len;

	/* libvips 8.14's heifload names the XMP item by its MIME type */
	if (vips_image_get_blob(im, VIPS_META_XMP_NAME, &p, &len) &&
	    vips_image_get_blob(im, "heif-mime-1", &p, &len))
		fail_msg("no XMP");
	media__xmp_parse(p, len, emb);
	assert_string_equal(json_string_value(json_object_get(emb, "copyright")), rights);
	assert_string_equal(json_string_value(json_object_get(emb, "creator")), creator);
	json_decref(emb);
}

static void test_metadata(void **state)
{
	static const enum media_format fmts[] = { MEDIA_FMT_JPEG, MEDIA_FMT_WEBP, MEDIA_FMT_AVIF,
						  MEDIA_FMT_PNG, MEDIA_FMT_JXL };
	struct media_transform_result r;
	struct media_transform t;
	size_t i;

	for (i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		VipsImage *im;
		const char *s;

		media_transform_init(&t);
		t.width = 300;
		t.format = fmts[i];
		t.copyright = "(c) 2026 Brand <BV> & Co";
		t.creator = "Ada Fotógrafa";
		im = render("photo.tif", &t, &r);
		if (fmts[i] == MEDIA_FMT_JXL) {
			/* libvips reads neither the container's XMP nor EXIF:
			 * look for the box */
			assert_memory_equal(r.data, "\0\0\0\x0cJXL \r\n\x87\n", 12);
			assert_non_null(memmem(r.data, r.len, "xml ", 4));
			assert_non_null(memmem(r.data, r.len, "Brand &lt;BV&gt; &amp; Co", 25));
			g_object_unref(im);
			free(r.data);
			continue;
		}
		check_profile(im);
		check_xmp(im, "Ada Fotógrafa", "(c) 2026 Brand <BV> & Co");
		if (fmts[i] != MEDIA_FMT_PNG) { /* libvips 8.14 writes no EXIF to PNG */
			assert_int_equal(vips_image_get_string(im, "exif-ifd0-Copyright", &s), 0);
			assert_true(!strncmp(s, "(c) 2026 Brand <BV> & Co", 24));
			assert_int_equal(vips_image_get_string(im, "exif-ifd0-Artist", &s), 0);
			assert_true(!strncmp(s, "Ada Fot", 7)); /* EXIF is ASCII */
			check_exif_only_ours(im);
			assert_int_equal(vips_image_get_string(im, "exif-ifd2-ColorSpace", &s), 0);
			assert_true(!strncmp(s, "1 (sRGB", 7));
		}
		assert_false(has_field(im, "exif-ifd3-GPSLatitude"));
		assert_false(has_field(im, "exif-ifd0-Make"));
		assert_false(has_field(im, VIPS_META_IPTC_NAME));
		g_object_unref(im);
		free(r.data);
	}

	/* strip_all: nothing, not even the profile */
	media_transform_init(&t);
	t.width = 300;
	t.copyright = "(c) 2026 Brand BV";
	t.strip_all = true;
	{
		VipsImage *im = render("photo.tif", &t, &r);
		gchar **f = vips_image_get_fields(im);
		int k;

		for (k = 0; f[k]; k++)
			if (!strncmp(f[k], "exif-", 5) || strstr(f[k], "-data"))
				fail_msg("stripped output carries %s", f[k]);
		g_strfreev(f);
		g_object_unref(im);
		free(r.data);
	}
	/* no copyright given: profile only */
	t.strip_all = false;
	t.copyright = NULL;
	{
		VipsImage *im = render("photo.tif", &t, &r);

		check_profile(im);
		assert_false(has_field(im, "exif-ifd0-Copyright"));
		assert_false(has_field(im, VIPS_META_XMP_NAME));
		g_object_unref(im);
		free(r.data);
	}
}

static void test_alpha(void **state)
{
	struct media_transform_result r;
	struct media_transform t;
	VipsImage *im;
	double px[4];

	media_transform_init(&t);
	t.format = MEDIA_FMT_WEBP;
	t.quality = 100;
	im = render("alpha.tif", &t, &r);
	assert_int_equal(vips_image_get_bands(im), 4);
	pixel(im, 10, 10, px);
	assert_true(px[3] == 0);
	g_object_unref(im);
	free(r.data);
	/* JPEG has no alpha: flattened on bg */
	t.format = MEDIA_FMT_JPEG;
	t.bg_set = true;
	t.bg[0] = 250;
	t.bg[1] = 250;
	t.bg[2] = 0;
	t.bg[3] = 255;
	im = render("alpha.tif", &t, &r);
	assert_int_equal(vips_image_get_bands(im), 3);
	assert_rgb(im, 10, 10, 250, 250, 0, 8);
	assert_rgb(im, 150, 100, 30, 60, 200, 12);
	g_object_unref(im);
	free(r.data);
}

/*
 * A smart crop of an image with alpha flattens a small copy for the
 * attention search. That copy used to be stored in two scope arrays and
 * unreffed twice: a GLib critical (fatal here, see setup) on every RGBA,
 * 16-bit or transparent SVG master. The window must still find the
 * opaque block: alpha.png is 300x200, clear but for a blue block at
 * x 100..200, y 50..150.
 */
static void test_smart_alpha(void **state)
{
	static const char *const masters[] = { "alpha.tif", "alpha16.tif" };
	struct media_transform_result r;
	struct media_transform t;
	VipsImage *im;
	double px[4];

	master("alpha16.png", "alpha16.tif", NULL, NULL);
	for (size_t i = 0; i < sizeof masters / sizeof masters[0]; i++) {
		media_transform_init(&t);
		t.width = 100;
		t.height = 200;
		t.fit = MEDIA_FIT_COVER;
		t.crop = MEDIA_CROP_SMART;
		t.format = MEDIA_FMT_JPEG;
		t.quality = 95;
		im = render(masters[i], &t, &r);
		assert_int_equal(r.width, 100);
		assert_int_equal(r.height, 200);
		assert_int_equal(vips_image_get_bands(im), 3);
		assert_rgb(im, 50, 100, 30, 60, 200, 14); /* the block, centred */
		assert_rgb(im, 50, 10, 255, 255, 255, 8); /* clear: flattened on white */
		g_object_unref(im);
		free(r.data);
		/* PNG keeps the alpha of the same window */
		t.format = MEDIA_FMT_PNG;
		im = render(masters[i], &t, &r);
		assert_int_equal(vips_image_get_bands(im), 4);
		pixel(im, 50, 10, px);
		assert_true(px[3] == 0);
		pixel(im, 50, 100, px);
		assert_true(px[3] == 255 && fabs(px[2] - 200) <= 2);
		g_object_unref(im);
		free(r.data);
	}
}

/* ---- limits, budget, errors ---- */

static void test_budget(void **state)
{
	struct media_transform_result r;
	struct media_transform t;
	struct dam_err err = { 0 };
	size_t full;

	media_transform_init(&t);
	t.width = 600;
	t.format = MEDIA_FMT_WEBP;
	t.quality = 95;
	t.sharpen = -1;
	/* flat colours compress too well: noise */
	sh("vips gaussnoise %s/noise.v 600 400 --mean 128 --sigma 50 && "
	   "vips cast %s/noise.v %s/n8.v uchar && vips bandjoin '%s/n8.v %s/n8.v %s/n8.v' %s/n3.v && "
	   "vips copy %s/n3.v %s/noise.png --interpretation srgb",
	   tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir);
	master("noise.png", "noise.tif", NULL, NULL);
	OK(xform("noise.tif", &t, &r, &err));
	full = r.len;
	free(r.data);
	t.max_bytes = (int64_t)full / 3;
	OK(xform("noise.tif", &t, &r, &err));
	assert_true(r.len <= (size_t)t.max_bytes);
	assert_true(r.quality >= 1 && r.quality < 95);
	assert_int_equal(r.width, 600);
	free(r.data);
	/* the next quality up would not have fitted */
	t.quality = r.quality + 1;
	t.max_bytes = 0;
	OK(xform("noise.tif", &t, &r, &err));
	assert_true(r.len > (size_t)full / 3);
	free(r.data);
	/* impossible */
	t.quality = 0;
	t.max_bytes = 100;
	assert_int_equal(xform("noise.tif", &t, &r, &err), DAM_ELIMIT);
	assert_non_null(strstr(err.msg, "quality 1"));
	t.format = MEDIA_FMT_PNG;
	assert_int_equal(xform("noise.tif", &t, &r, &err), DAM_ELIMIT);
	assert_non_null(strstr(err.msg, "budget"));
}

static void test_limits(void **state)
{
	struct media_transform_limits keep = tlim;
	struct media_transform_result r;
	struct media_transform t;
	struct dam_err err = { 0 };

	media_transform_init(&t);
	tlim.max_input_pixels = 1000;
	assert_int_equal(xform("photo.tif", &t, &r, &err), DAM_ELIMIT);
	assert_non_null(strstr(err.msg, "master is 1200x800"));
	tlim = keep;

	/* 400x267 fits 120000 pixels; dpr 2 does not, nor padding */
	tlim.max_output_pixels = 120000;
	t.width = t.height = 400;
	dims("photo.tif", &t, 400, 267);
	t.dpr = 2;
	assert_int_equal(xform("photo.tif", &t, &r, &err), DAM_ELIMIT);
	assert_non_null(strstr(err.msg, "800x533"));
	t.dpr = 1;
	t.pad[0] = 50;
	assert_int_equal(xform("photo.tif", &t, &r, &err), DAM_ELIMIT);
	assert_non_null(strstr(err.msg, "400x317"));
	tlim = keep;
}

static void test_timeout(void **state)
{
	struct media_transform_limits keep = tlim;
	struct media_transform_result r;
	struct media_transform t;
	struct dam_err err = { 0 };
	gint64 t0;
	int ms;

	/* a 4000x4000 Gaussian blur of sigma 40 takes seconds */
	media_transform_init(&t);
	t.width = t.height = 4000;
	t.fit = MEDIA_FIT_CONTAIN;
	t.blur = 40;
	tlim.timeout_ms = 150;
	t0 = g_get_monotonic_time();
	assert_int_equal(xform("photo.tif", &t, &r, &err), DAM_ELIMIT);
	ms = (int)((g_get_monotonic_time() - t0) / 1000);
	assert_string_equal(err.msg, "transform took longer than 150 ms");
	/* cancelled, not run to the end */
	if (ms > 1500)
		fail_msg("timeout took effect after %d ms", ms);
	tlim = keep;
	/* and the next transform is not affected */
	t.blur = 0;
	t.width = t.height = 100;
	dims("photo.tif", &t, 100, 100);
}

static void test_errors(void **state)
{
	struct media_transform_result r;
	struct media_transform t;
	struct dam_err err = { 0 };
	int fd;

	media_transform_init(&t);
	t.crop = MEDIA_CROP_SMART;
	assert_int_equal(xform("photo.tif", &t, &r, &err), DAM_EINVAL);
	assert_string_equal(err.msg, "crop needs fit cover");
	media_transform_init(&t);
	t.format = MEDIA_FMT_AUTO;
	assert_int_equal(xform("photo.tif", &t, &r, &err), DAM_EINVAL);
	media_transform_init(&t);
	t.rotate = 45;
	assert_int_equal(xform("photo.tif", &t, &r, &err), DAM_EINVAL);
	media_transform_init(&t);
	t.dpr = 5;
	assert_int_equal(xform("photo.tif", &t, &r, &err), DAM_EINVAL);
	/* an original is no master */
	media_transform_init(&t);
	assert_int_equal(xform("photo.jpg", &t, &r, &err), DAM_EMEDIA);
	assert_non_null(strstr(err.msg, "master does not decode"));
	fd = open_in("photo.jpg");
	assert_int_equal(blob_reader_from_fd(fd, &t.wm, NULL), 0);
	assert_int_equal(xform("photo.tif", &t, &r, &err), DAM_EMEDIA);
	assert_true(!strncmp(err.msg, "watermark master does not decode: ", 34));
	blob_reader_free(t.wm);
	close(fd);
	/* a truncated master */
	sh("head -c 3000 %s/photo.tif > %s/cut.tif", tmpdir, tmpdir);
	media_transform_init(&t);
	assert_int_equal(xform("cut.tif", &t, &r, &err), DAM_EMEDIA);
}

/* ---- concurrency: one reader shared by threads ---- */

struct job {
	struct blob_reader *r;
	int rc;
	size_t len;
	unsigned char head[64];
};

static void *worker(void *arg)
{
	struct job *j = arg;
	struct media_transform_result r;
	struct media_transform t;
	struct dam_err err = { 0 };
	int i;

	media_transform_init(&t);
	t.width = t.height = 300;
	t.fit = MEDIA_FIT_COVER;
	t.format = MEDIA_FMT_PNG;
	for (i = 0; i < 4 && j->rc == 0; i++) {
		j->rc = media_transform_reader(j->r, &t, &tlim, &r, &err);
		if (j->rc == 0) {
			j->len = r.len;
			memcpy(j->head, (char *)r.data + r.len - sizeof j->head, sizeof j->head);
			free(r.data);
		}
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct job jobs[4];
	pthread_t th[4];
	struct blob_reader *rd;
	int fd = open_in("photo.tif"), i;

	assert_int_equal(blob_reader_from_fd(fd, &rd, NULL), 0);
	for (i = 0; i < 4; i++) {
		memset(&jobs[i], 0, sizeof jobs[i]);
		jobs[i].r = rd;
		assert_int_equal(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(jobs[i].rc, 0);
		assert_int_equal(jobs[i].len, jobs[0].len);
		assert_memory_equal(jobs[i].head, jobs[0].head, sizeof jobs[0].head);
	}
	blob_reader_free(rd);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_master_pyramid), cmocka_unit_test(test_master_orientation),
		cmocka_unit_test(test_master_colour),  cmocka_unit_test(test_master_svg),
		cmocka_unit_test(test_master_pdf),     cmocka_unit_test(test_master_refuses),
		cmocka_unit_test(test_fits),	       cmocka_unit_test(test_sharpen),
		cmocka_unit_test(test_padding),	       cmocka_unit_test(test_crops),
		cmocka_unit_test(test_trim),	       cmocka_unit_test(test_rotate_flip),
		cmocka_unit_test(test_watermark),      cmocka_unit_test(test_formats),
		cmocka_unit_test(test_metadata),       cmocka_unit_test(test_alpha),
		cmocka_unit_test(test_smart_alpha),    cmocka_unit_test(test_enlarged),
		cmocka_unit_test(test_budget),	       cmocka_unit_test(test_limits),
		cmocka_unit_test(test_timeout),	       cmocka_unit_test(test_errors),
		cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
