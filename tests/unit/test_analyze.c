/*
 * test_analyze.c - unit tests of src/media/analyze.c through the public
 * media_derive_analyze_fd(): colour names, shape classes, transparency,
 * perceptual hash and colour histogram, and the tags made of them.
 *
 * Test images are drawn with libvips in a temporary folder (a video with
 * the ffmpeg program, skipped when it is missing), so every assertion
 * checks a value we put there. When DAM_TEST_FIXTURES names a folder made
 * by tests/gen-fixtures.sh, its photos, PNG and videos are checked too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "media/media.h"

/* The scene's noise seed. Over seeds 1-16 its 3%-cropped copy moved 3-9
 * hash bits (median 5); this one moves 5. */
#define SCENE_SEED 9

static char tmpdir[256];
static struct media_limits lim;

/* ---- helpers ---- */

static int count_emit(void *ctx, const struct media_derivative *d, struct dam_err *err)
{
	(void)d;
	(void)err;
	(*(int *)ctx)++;
	return 0;
}

/* Sniffs and derives `path`, analysing it; asserts success. Returns the
 * number of derivatives. */
static int analyze_path(const char *path, struct media_analysis *a)
{
	struct media_sniff s;
	struct dam_err err = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC), n = 0, rc;

	if (fd < 0)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	assert_int_equal(media_sniff_fd(fd, path, &s, &err), 0);
	rc = media_derive_analyze_fd(fd, &s, &lim, count_emit, &n, a, &err);
	close(fd);
	if (rc != 0)
		fail_msg("%s: %d %s", path, rc, err.msg);
	return n;
}

/* Saves im as tmpdir/name (options in the name: "x.jpg[Q=60]") and
 * analyses the file. Takes im. */
static void save_analyze(VipsImage *im, const char *name, struct media_analysis *a)
{
	char path[512], file[512];

	snprintf(file, sizeof file, "%s/%s", tmpdir, name);
	if (vips_image_write_to_file(im, file, NULL))
		fail_msg("cannot write %s: %s", file, vips_error_buffer());
	g_object_unref(im);
	snprintf(path, sizeof path, "%s", file);
	path[strcspn(path, "[")] = '\0';
	assert_true(analyze_path(path, a) >= 2); /* preview and thumbnail at least */
	assert_true(a->valid);
}

/* A w x h uchar image of one colour (bands 3 or 4 from ink). */
static VipsImage *solid(int w, int h, const double *ink, int bands)
{
	VipsImage *b = NULL, *l = NULL, *c = NULL;
	double one[4] = { 1, 1, 1, 1 };

	assert_int_equal(vips_black(&b, w, h, "bands", bands, NULL), 0);
	assert_int_equal(vips_linear(b, &l, one, ink, bands, NULL), 0);
	assert_int_equal(vips_cast(l, &c, VIPS_FORMAT_UCHAR, NULL), 0);
	g_object_unref(b);
	g_object_unref(l);
	return c;
}

/* A copy in memory, to draw on. Takes im. */
static VipsImage *drawable(VipsImage *im)
{
	VipsImage *m = vips_image_copy_memory(im);

	assert_non_null(m);
	g_object_unref(im);
	return m;
}

static void rect(VipsImage *im, double r, double g, double b, int x, int y, int w, int h)
{
	double ink[4] = { r, g, b, 255 };

	assert_int_equal(vips_draw_rect(im, ink, vips_image_get_bands(im), x, y, w, h, "fill",
					TRUE, NULL),
			 0);
}

static double share_of(const struct media_analysis *a, const char *en)
{
	int i;

	for (i = 0; i < a->ncolors; i++)
		if (!strcmp(a->colors[i].name_en, en))
			return a->colors[i].share;
	return 0;
}

/* Confidence of `tag` in the tags of a, or -1 when absent. */
static double tag_conf(const struct media_analysis *a, const char *tag)
{
	json_t *tags = media_analysis_tags(a), *t;
	double c = -1;
	size_t i;

	assert_non_null(tags);
	json_array_foreach(tags, i, t) {
		if (!strcmp(json_string_value(json_object_get(t, "tag")), tag))
			c = json_real_value(json_object_get(t, "confidence"));
	}
	json_decref(tags);
	return c;
}

/* ---- colour, shape, tags ---- */

static void test_blue_landscape(void **state)
{
	const double blue[3] = { 0, 0, 255 };
	struct media_analysis a;

	(void)state;
	save_analyze(solid(1000, 600, blue, 3), "blue.png", &a);
	assert_int_equal(a.kind, MEDIA_IMAGE);
	assert_int_equal(a.width, 1000);
	assert_int_equal(a.height, 600);
	assert_true(a.ncolors >= 1);
	assert_string_equal(a.colors[0].name_en, "blue");
	assert_string_equal(a.colors[0].name_zh, "蓝色");
	assert_true(a.colors[0].share > 0.9);
	assert_string_equal(a.orientation, "landscape");
	/* 5:3 = 1.667 is 6.5% from 16:9 and 10.5% from 3:2: no class */
	assert_string_equal(a.aspect, "");
	assert_string_equal(a.resolution, "small"); /* 0.6 MP */
	assert_false(a.transparent);
	assert_true(tag_conf(&a, "blue") > 0.9);
	assert_true(tag_conf(&a, "蓝色") > 0.9);
	assert_true(tag_conf(&a, "landscape") == 1);
	assert_true(tag_conf(&a, "resolution:small") == 1);
	assert_true(tag_conf(&a, "kind:image") == 1);
	assert_true(tag_conf(&a, "transparent") < 0);
	assert_true(tag_conf(&a, "red") < 0);
}

static void test_portrait_9_16(void **state)
{
	const double orange[3] = { 250, 130, 20 };
	struct media_analysis a;

	(void)state;
	save_analyze(solid(1080, 1920, orange, 3), "tall.jpg[Q=90]", &a);
	/* the original's size, not the 900x1600 preview's */
	assert_int_equal(a.width, 1080);
	assert_int_equal(a.height, 1920);
	assert_string_equal(a.orientation, "portrait");
	assert_string_equal(a.aspect, "9:16");
	assert_true(a.aspect_closeness > 0.99);
	assert_string_equal(a.resolution, "medium"); /* 2.07 MP */
	assert_string_equal(a.colors[0].name_en, "orange");
	assert_string_equal(a.colors[0].name_zh, "橙色");
	assert_true(tag_conf(&a, "portrait") == 1);
	assert_true(tag_conf(&a, "aspect:9:16") > 0.99);
	assert_true(tag_conf(&a, "resolution:medium") == 1);
}

static void test_shape_classes(void **state)
{
	const double grey[3] = { 128, 128, 128 };
	struct media_analysis a;

	(void)state;
	save_analyze(solid(2400, 1800, grey, 3), "4x3.png", &a);
	assert_string_equal(a.aspect, "4:3");
	assert_string_equal(a.resolution, "large"); /* 4.32 MP */
	save_analyze(solid(1010, 1000, grey, 3), "sq.png", &a);
	assert_string_equal(a.orientation, "square");
	assert_string_equal(a.aspect, "1:1");
	/* 1% off: closeness 1 - 0.00995 / 0.06 */
	assert_true(fabs(a.aspect_closeness - 0.834) < 0.01);
	assert_true(fabs(tag_conf(&a, "aspect:1:1") - 0.834) < 0.01);
	save_analyze(solid(4500, 3000, grey, 3), "big.png", &a);
	assert_string_equal(a.aspect, "3:2");
	assert_string_equal(a.resolution, "very-large"); /* 13.5 MP */
	assert_true(tag_conf(&a, "resolution:very-large") == 1);
}

/* EXIF orientation 6 turns a stored 600x400 into a displayed 400x600. */
static void test_exif_orientation(void **state)
{
	const double green[3] = { 40, 160, 60 };
	struct media_analysis a;
	VipsImage *im = solid(600, 400, green, 3);

	(void)state;
	vips_image_set_int(im, VIPS_META_ORIENTATION, 6);
	save_analyze(im, "rot.jpg[Q=90]", &a);
	assert_int_equal(a.width, 400);
	assert_int_equal(a.height, 600);
	assert_string_equal(a.orientation, "portrait");
	assert_string_equal(a.aspect, "2:3");
	assert_string_equal(a.colors[0].name_en, "green");
}

/* Black, grey and white thirds, plus a faintly warm grey: no hues. */
static void test_neutrals(void **state)
{
	const double white[3] = { 255, 255, 255 };
	struct media_analysis a;
	VipsImage *im = drawable(solid(900, 300, white, 3));

	(void)state;
	rect(im, 0, 0, 0, 0, 0, 300, 300);
	rect(im, 128, 126, 124, 300, 0, 300, 300);
	save_analyze(im, "neutral.png", &a);
	assert_int_equal(a.ncolors, 3);
	assert_true(fabs(share_of(&a, "black") - 1.0 / 3) < 0.03);
	assert_true(fabs(share_of(&a, "grey") - 1.0 / 3) < 0.03);
	assert_true(fabs(share_of(&a, "white") - 1.0 / 3) < 0.03);
	assert_true(tag_conf(&a, "黑色") > 0.3);
	assert_true(tag_conf(&a, "灰色") > 0.3);
	assert_true(tag_conf(&a, "白色") > 0.3);
	assert_string_equal(a.aspect, "");      /* 3:1 */
	assert_true(tag_conf(&a, "aspect:21:9") < 0);
}

/* Colours below 10% are kept in the analysis but give no tag. */
static void test_minor_colour(void **state)
{
	const double white[3] = { 255, 255, 255 };
	struct media_analysis a;
	VipsImage *im = drawable(solid(1000, 1000, white, 3));

	(void)state;
	rect(im, 220, 20, 30, 0, 0, 1000, 60); /* 6% red */
	rect(im, 30, 40, 110, 0, 500, 1000, 500); /* half navy */
	save_analyze(im, "minor.png", &a);
	assert_true(fabs(share_of(&a, "red") - 0.06) < 0.02);
	assert_true(fabs(share_of(&a, "navy") - 0.5) < 0.03);
	assert_true(tag_conf(&a, "red") < 0);
	assert_true(tag_conf(&a, "navy") > 0.45);
	assert_true(tag_conf(&a, "藏青色") > 0.45);
}

/* ---- transparency ---- */

static VipsImage *rgba(int w, int h, const double *rgb, int alpha_left, int alpha_right)
{
	VipsImage *c = solid(w, h, rgb, 3), *al, *out = NULL;
	const double zero[1] = { 0 };

	al = drawable(solid(w, h, zero, 1));
	assert_int_equal(vips_draw_rect1(al, alpha_left, 0, 0, w / 2, h, "fill", TRUE, NULL), 0);
	assert_int_equal(vips_draw_rect1(al, alpha_right, w / 2, 0, w - w / 2, h, "fill", TRUE,
					 NULL),
			 0);
	assert_int_equal(vips_bandjoin2(c, al, &out, NULL), 0);
	g_object_unref(c);
	g_object_unref(al);
	return out;
}

static void test_transparency(void **state)
{
	const double red[3] = { 210, 20, 30 };
	struct media_analysis a;

	(void)state;
	save_analyze(rgba(400, 400, red, 0, 255), "half.png", &a);
	assert_true(a.transparent);
	assert_true(tag_conf(&a, "transparent") == 1);
	/* the invisible half does not count */
	assert_string_equal(a.colors[0].name_en, "red");
	assert_true(a.colors[0].share > 0.95);

	save_analyze(rgba(400, 400, red, 255, 255), "opaque.png", &a);
	assert_false(a.transparent);
	assert_true(tag_conf(&a, "transparent") < 0);

	save_analyze(rgba(400, 400, red, 249, 255), "faint.png", &a);
	assert_true(a.transparent); /* 249 < 250 is real transparency */
	save_analyze(rgba(400, 400, red, 251, 255), "almost.png", &a);
	assert_false(a.transparent);
}

/* ---- search by image ---- */

/* A synthetic "photo": a colour gradient with shapes and soft noise
 * (seeded: the test is the same on every run). */
static VipsImage *scene(int w, int h, int seed)
{
	VipsImage *xy = NULL, *x = NULL, *y = NULL, *r = NULL, *g = NULL, *b = NULL;
	VipsImage *rgb = NULL, *n = NULL, *nb = NULL, *sum = NULL, *c = NULL, *im;
	double ink[3] = { 40, 60, 200 };

	assert_int_equal(vips_xyz(&xy, w, h, NULL), 0);
	assert_int_equal(vips_extract_band(xy, &x, 0, NULL), 0);
	assert_int_equal(vips_extract_band(xy, &y, 1, NULL), 0);
	assert_int_equal(vips_linear1(x, &r, 200.0 / w, 30, NULL), 0);
	assert_int_equal(vips_linear1(y, &g, 180.0 / h, 50, NULL), 0);
	assert_int_equal(vips_linear1(x, &b, -100.0 / w, 160, NULL), 0);
	{
		VipsImage *bands[3] = { r, g, b };

		assert_int_equal(vips_bandjoin(bands, &rgb, 3, NULL), 0);
	}
	assert_int_equal(vips_gaussnoise(&n, w / 10, h / 10, "mean", 0.0, "sigma", 25.0, "seed",
					 seed, NULL), 0);
	assert_int_equal(vips_resize(n, &nb, 10, NULL), 0);
	assert_int_equal(vips_add(rgb, nb, &sum, NULL), 0);
	assert_int_equal(vips_cast(sum, &c, VIPS_FORMAT_UCHAR, NULL), 0);
	im = drawable(c);
	assert_int_equal(vips_draw_circle(im, ink, 3, w * 3 / 10, h / 2, h / 4, "fill", TRUE, NULL),
			 0);
	rect(im, 250, 200, 40, w * 6 / 10, h / 8, w / 4, h / 5);
	rect(im, 20, 20, 20, w / 2, h * 7 / 10, w / 3, h / 6);
	rect(im, 240, 240, 235, w / 12, h / 12, w / 6, h / 3);
	ink[0] = 200, ink[1] = 40, ink[2] = 50;
	assert_int_equal(vips_draw_circle(im, ink, 3, w * 8 / 10, h * 6 / 10, h / 7, "fill", TRUE,
					  NULL),
			 0);
	g_object_unref(xy);
	g_object_unref(x);
	g_object_unref(y);
	g_object_unref(r);
	g_object_unref(g);
	g_object_unref(b);
	g_object_unref(rgb);
	g_object_unref(n);
	g_object_unref(nb);
	g_object_unref(sum);
	return im;
}

static VipsImage *checkerboard(int side, int cells)
{
	const double black[3] = { 0, 0, 0 };
	VipsImage *im = drawable(solid(side, side, black, 3));
	int cs = side / cells, i, j;

	for (i = 0; i < cells; i++)
		for (j = 0; j < cells; j++)
			if ((i + j) % 2)
				rect(im, 255, 255, 255, i * cs, j * cs, cs, cs);
	return im;
}

static VipsImage *gradient(int side)
{
	VipsImage *xy = NULL, *x = NULL, *l = NULL, *c = NULL, *out = NULL;

	assert_int_equal(vips_xyz(&xy, side, side, NULL), 0);
	assert_int_equal(vips_extract_band(xy, &x, 0, NULL), 0);
	assert_int_equal(vips_linear1(x, &l, 255.0 / side, 0, NULL), 0);
	assert_int_equal(vips_cast(l, &c, VIPS_FORMAT_UCHAR, NULL), 0);
	assert_int_equal(vips_colourspace(c, &out, VIPS_INTERPRETATION_sRGB, NULL), 0);
	g_object_unref(xy);
	g_object_unref(x);
	g_object_unref(l);
	g_object_unref(c);
	return out;
}

static VipsImage *blocky_noise(int side)
{
	VipsImage *n = NULL, *z = NULL, *c = NULL;

	assert_int_equal(vips_gaussnoise(&n, 16, 16, "mean", 128.0, "sigma", 70.0, "seed", 7,
					 NULL), 0);
	assert_int_equal(vips_zoom(n, &z, side / 16, side / 16, NULL), 0);
	assert_int_equal(vips_cast(z, &c, VIPS_FORMAT_UCHAR, NULL), 0);
	g_object_unref(n);
	g_object_unref(z);
	return c;
}

static void test_phash_copies(void **state)
{
	struct media_analysis base, half, q60, crop;
	VipsImage *im = scene(1200, 800, SCENE_SEED), *t = NULL;
	int d;

	(void)state;
	g_object_ref(im);
	save_analyze(im, "scene.png", &base);
	g_object_ref(im);
	assert_int_equal(vips_resize(im, &t, 0.5, NULL), 0);
	save_analyze(t, "scene-half.png", &half);
	g_object_ref(im);
	save_analyze(im, "scene-q60.jpg[Q=60]", &q60);
	/* 3% off each side */
	assert_int_equal(vips_crop(im, &t, 36, 24, 1200 - 72, 800 - 48, NULL), 0);
	save_analyze(t, "scene-crop.jpg[Q=85]", &crop);
	g_object_unref(im);

	d = media_phash_distance(base.phash, half.phash);
	print_message("scene: half %d", d);
	assert_true(d <= 10);
	d = media_phash_distance(base.phash, q60.phash);
	print_message(", q60 %d", d);
	assert_true(d <= 10);
	d = media_phash_distance(base.phash, crop.phash);
	print_message(", crop %d; hist %.3f %.3f %.3f\n", d,
		      media_hist_similarity(base.hist, half.hist),
		      media_hist_similarity(base.hist, q60.hist),
		      media_hist_similarity(base.hist, crop.hist));
	assert_true(d <= 10);
	assert_true(media_hist_similarity(base.hist, half.hist) > 0.8);
	assert_true(media_hist_similarity(base.hist, q60.hist) > 0.8);
	assert_true(media_hist_similarity(base.hist, crop.hist) > 0.8);
	assert_true(media_hist_similarity(base.hist, base.hist) > 0.999);
	assert_int_equal(media_phash_distance(base.phash, base.phash), 0);
}

static void test_phash_unrelated(void **state)
{
	struct media_analysis a[4];
	int i, j, d;

	(void)state;
	save_analyze(gradient(512), "gradient.png", &a[0]);
	save_analyze(checkerboard(512, 4), "checker.png", &a[1]);
	save_analyze(blocky_noise(512), "noise.png", &a[2]);
	save_analyze(scene(1200, 800, SCENE_SEED + 1), "scene2.png", &a[3]);
	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++) {
			d = media_phash_distance(a[i].phash, a[j].phash);
			print_message("unrelated %d-%d: %d, hist %.3f\n", i, j, d,
				      media_hist_similarity(a[i].hist, a[j].hist));
			assert_true(d >= 20);
		}
	/* black-and-white checkerboard vs colourful scene */
	assert_true(media_hist_similarity(a[1].hist, a[3].hist) < 0.3);
}

static void test_helpers(void **state)
{
	float h1[MEDIA_HIST_BINS] = { 0 }, h2[MEDIA_HIST_BINS] = { 0 }, h0[MEDIA_HIST_BINS] = { 0 };
	struct media_analysis none = { 0 };
	json_t *tags;

	(void)state;
	assert_int_equal(media_phash_distance(0, ~(uint64_t)0), 64);
	assert_int_equal(media_phash_distance(0xF0, 0x0F), 8);
	h1[0] = 0.5f;
	h1[1] = 0.5f;
	h2[1] = 0.5f;
	h2[2] = 0.5f;
	assert_true(fabs(media_hist_similarity(h1, h2) - 0.5) < 1e-6);
	assert_true(fabs(media_hist_similarity(h1, h1) - 1) < 1e-6);
	assert_true(media_hist_similarity(h1, h0) == 0);
	assert_true(media_hist_similarity(h0, h0) == 1);
	tags = media_analysis_tags(&none);
	assert_non_null(tags);
	assert_int_equal(json_array_size(tags), 0);
	json_decref(tags);
}

/* Non-pixel kinds give no analysis; the plain derive still works. */
static void test_not_analysed(void **state)
{
	struct media_analysis a;
	char path[512];
	FILE *f;

	(void)state;
	snprintf(path, sizeof path, "%s/notes.txt", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("just some text\n", f);
	fclose(f);
	a.valid = true;
	assert_int_equal(analyze_path(path, &a), 0);
	assert_false(a.valid);
}

/* A 2000x1000 video: the poster (1600x800) is analysed, the size is the
 * stream's. */
static void test_video(void **state)
{
	struct media_analysis a;
	char path[512], cmd[1024];

	(void)state;
	if (system("ffmpeg -version >/dev/null 2>&1") != 0)
		skip();
	snprintf(path, sizeof path, "%s/wide.mp4", tmpdir);
	snprintf(cmd, sizeof cmd,
		 "ffmpeg -nostdin -v error -y -f lavfi -i color=c=blue:size=2000x1000:rate=10"
		 " -t 2 -c:v mpeg4 -q:v 5 -pix_fmt yuv420p '%s'",
		 path);
	assert_int_equal(system(cmd), 0);
	assert_true(analyze_path(path, &a) >= 2);
	assert_true(a.valid);
	assert_int_equal(a.kind, MEDIA_VIDEO);
	assert_int_equal(a.width, 2000);
	assert_int_equal(a.height, 1000);
	assert_string_equal(a.orientation, "landscape");
	assert_string_equal(a.resolution, "medium");
	assert_string_equal(a.colors[0].name_en, "blue");
	assert_true(tag_conf(&a, "kind:video") == 1);
}

/* ---- fixtures ---- */

static bool fixture(const char *dir, const char *name, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", dir, name);
	return access(path, R_OK) == 0;
}

static void test_fixtures(void **state)
{
	const char *dir = getenv("DAM_TEST_FIXTURES");
	struct media_analysis a, b;
	char p[1024];

	(void)state;
	if (!dir || !*dir || !fixture(dir, "photo.jpg", p, sizeof p))
		skip();
	analyze_path(p, &a);
	assert_true(a.valid);
	assert_int_equal(a.width, 1200);
	assert_int_equal(a.height, 800);
	assert_string_equal(a.aspect, "3:2");
	assert_string_equal(a.resolution, "small");
	assert_true(share_of(&a, "blue") + share_of(&a, "navy") > 0.2);
	if (fixture(dir, "photo2.jpg", p, sizeof p)) {
		analyze_path(p, &b);
		print_message("photo vs photo2: %d, hist %.3f\n",
			      media_phash_distance(a.phash, b.phash),
			      media_hist_similarity(a.hist, b.hist));
		assert_true(media_phash_distance(a.phash, b.phash) >= 20);
		assert_string_equal(b.aspect, "4:3");
	}
	if (fixture(dir, "rotated.jpg", p, sizeof p)) {
		analyze_path(p, &a);
		assert_int_equal(a.width, 300);
		assert_int_equal(a.height, 400);
		assert_string_equal(a.aspect, "3:4");
	}
	if (fixture(dir, "alpha.png", p, sizeof p)) {
		analyze_path(p, &a);
		assert_true(a.transparent);
	}
	if (fixture(dir, "clip.mp4", p, sizeof p)) {
		analyze_path(p, &a);
		assert_true(a.valid);
		assert_int_equal(a.kind, MEDIA_VIDEO);
		assert_string_equal(a.aspect, "4:3");
	}
	if (fixture(dir, "rotated.mp4", p, sizeof p)) {
		analyze_path(p, &a);
		assert_int_equal(a.width, 240);
		assert_int_equal(a.height, 320);
		assert_string_equal(a.orientation, "portrait");
	}
	if (fixture(dir, "sound.wav", p, sizeof p)) {
		analyze_path(p, &a);
		assert_false(a.valid);
	}
	if (fixture(dir, "doc.pdf", p, sizeof p)) {
		analyze_path(p, &a);
		assert_false(a.valid);
	}
}

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/test_analyze.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	media_limits_default(&lim);
	return media_init("test_analyze", &lim, NULL) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	if (!getenv("DAM_TEST_KEEP")) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			return -1;
	}
	media_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helpers),		 cmocka_unit_test(test_blue_landscape),
		cmocka_unit_test(test_portrait_9_16),	 cmocka_unit_test(test_shape_classes),
		cmocka_unit_test(test_exif_orientation), cmocka_unit_test(test_neutrals),
		cmocka_unit_test(test_minor_colour),	 cmocka_unit_test(test_transparency),
		cmocka_unit_test(test_phash_copies),	 cmocka_unit_test(test_phash_unrelated),
		cmocka_unit_test(test_not_analysed),	 cmocka_unit_test(test_video),
		cmocka_unit_test(test_fixtures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
