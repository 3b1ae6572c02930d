/*
 * test_media.c - unit tests of src/media: sniffing, probing, derivatives,
 * limits and corrupt input.
 *
 * Inputs are made at test time in a temporary folder with the vips, ffmpeg
 * and exiftool programs (Debian: libvips-tools, ffmpeg, libimage-exiftool-perl)
 * and small hand-written files (PDF, SVG, PNG bombs), so every assertion
 * checks a value we put there. When DAM_TEST_FIXTURES names a folder made by
 * tests/gen-fixtures.sh, its files are also run through sniff, probe and
 * derive with checks that hold for any well-formed input.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include "media/media.h"
#include "media/meta.h" /* the internal parsers, for hostile blobs */
#include "media/text.h"

static char tmpdir[256];
static struct media_limits lim;

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

static void write_file(const char *name, const void *data, size_t len)
{
	char p[512];
	FILE *f;

	pathf(p, sizeof p, name);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A PNG whose header claims w x h RGB, padded with a bogus IDAT to ~20 KB. */
static void write_png_bomb(const char *name, uint32_t w, uint32_t h)
{
	static unsigned char buf[20 * 1024 + 64];
	size_t o = 0, idat = 20 * 1024;

	memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
	o = 8;
	put32(buf + o, 13);
	memcpy(buf + o + 4, "IHDR", 4);
	put32(buf + o + 8, w);
	put32(buf + o + 12, h);
	memcpy(buf + o + 16, "\x08\x02\x00\x00\x00", 5);
	put32(buf + o + 21, crc32_of(buf + o + 4, 17));
	o += 25;
	put32(buf + o, (uint32_t)idat);
	memcpy(buf + o + 4, "IDAT", 4);
	memset(buf + o + 8, 0, idat);
	buf[o + 8] = 0x78;
	buf[o + 9] = 0x9c;
	put32(buf + o + 8 + idat, crc32_of(buf + o + 4, idat + 4));
	o += 12 + idat;
	put32(buf + o, 0);
	memcpy(buf + o + 4, "IEND", 4);
	put32(buf + o + 8, crc32_of(buf + o + 4, 4));
	o += 12;
	write_file(name, buf, o);
}

/* A two-page PDF (US Letter) with a title and author. */
static void write_pdf(const char *name)
{
	static const char *objs[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
		"/Resources << >> >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
		"/Resources << >> >>",
		"<< /Length 31 >>\nstream\n0 0 1 rg 100 100 300 400 re f\nendstream",
		"<< /Title (Spec sheet) /Author (ACME Docs) >>",
	};
	char buf[4096];
	size_t o = 0, off[8], i, n = sizeof objs / sizeof objs[0];
	size_t xref;

	o += (size_t)snprintf(buf + o, sizeof buf - o, "%%PDF-1.4\n");
	for (i = 0; i < n; i++) {
		off[i] = o;
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%zu 0 obj\n%s\nendobj\n", i + 1,
				      objs[i]);
	}
	xref = o;
	o += (size_t)snprintf(buf + o, sizeof buf - o, "xref\n0 %zu\n0000000000 65535 f \n",
			      n + 1);
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%010zu 00000 n \n", off[i]);
	o += (size_t)snprintf(buf + o, sizeof buf - o,
			      "trailer\n<< /Size %zu /Root 1 0 R /Info 6 0 R >>\nstartxref\n%zu\n"
			      "%%%%EOF\n",
			      n + 1, xref);
	write_file(name, buf, o);
}

/* One page of write_pdf_pages(): its size in points and the colour that
 * fills it. */
struct pdf_page {
	int w, h;
	double r, g, b;
};

/* A PDF of n pages, each filled with its colour. */
static void write_pdf_pages(const char *name, int n, const struct pdf_page *pg)
{
	size_t cap = 4096 + (size_t)n * 512, o = 0, *off, xref;
	char *buf = malloc(cap), kids[64 * 16] = "", content[128];
	int i, nobj = 2 + 2 * n;

	off = calloc((size_t)nobj, sizeof *off);
	assert_non_null(buf);
	assert_non_null(off);
	assert_true(n <= 64);
	for (i = 0; i < n; i++)
		snprintf(kids + strlen(kids), sizeof kids - strlen(kids), "%d 0 R ", 3 + 2 * i);
	o += (size_t)snprintf(buf + o, cap - o, "%%PDF-1.4\n");
	off[0] = o;
	o += (size_t)snprintf(buf + o, cap - o, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	off[1] = o;
	o += (size_t)snprintf(buf + o, cap - o,
			      "2 0 obj\n<< /Type /Pages /Kids [%s] /Count %d >>\nendobj\n", kids, n);
	for (i = 0; i < n; i++) {
		int len = snprintf(content, sizeof content, "%.2f %.2f %.2f rg 0 0 %d %d re f",
				   pg[i].r, pg[i].g, pg[i].b, pg[i].w, pg[i].h);

		off[2 + 2 * i] = o;
		o += (size_t)snprintf(buf + o, cap - o,
				      "%d 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
				      "/Contents %d 0 R /Resources << >> >>\nendobj\n",
				      3 + 2 * i, pg[i].w, pg[i].h, 4 + 2 * i);
		off[3 + 2 * i] = o;
		o += (size_t)snprintf(buf + o, cap - o,
				      "%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n",
				      4 + 2 * i, len, content);
	}
	xref = o;
	o += (size_t)snprintf(buf + o, cap - o, "xref\n0 %d\n0000000000 65535 f \n", nobj + 1);
	for (i = 0; i < nobj; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%010zu 00000 n \n", off[i]);
	o += (size_t)snprintf(buf + o, cap - o,
			      "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
			      nobj + 1, xref);
	assert_true(o < cap);
	write_file(name, buf, o);
	free(off);
	free(buf);
}

static void make_pdfs(void)
{
	/* red, green, blue; the last page portrait */
	static const struct pdf_page rgb[] = {
		{ 400, 300, 0.9, 0.1, 0.1 },
		{ 400, 300, 0.1, 0.7, 0.2 },
		{ 300, 400, 0.1, 0.2, 0.9 },
	};
	/* page 3 is over the 50000 px side limit (at 72 dpi, points are px) */
	static const struct pdf_page bad3[] = {
		{ 400, 300, 0.9, 0.1, 0.1 },
		{ 400, 300, 0.1, 0.7, 0.2 },
		{ 60000, 60000, 0.1, 0.2, 0.9 },
		{ 400, 300, 0.1, 0.7, 0.2 },
	};
	struct pdf_page many[MEDIA_PDF_PAGES_MAX + 3];
	int i;

	write_pdf_pages("pages.pdf", 3, rgb);
	write_pdf_pages("badpage.pdf", 4, bad3);
	write_pdf_pages("badfirst.pdf", 2, bad3 + 2);
	for (i = 0; i < MEDIA_PDF_PAGES_MAX + 3; i++)
		many[i] = (struct pdf_page){ 60, 80, i % 2 ? 0.0 : 1.0, 0.5, 0.5 };
	write_pdf_pages("many.pdf", MEDIA_PDF_PAGES_MAX + 3, many);
}

static void make_inputs(void)
{
	static const char svg[] =
		"<!-- a logo -->\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" "
		"height=\"300\" viewBox=\"0, 0 800 600\">\n<rect x=\"10\" y=\"10\" width=\"780\" "
		"height=\"580\" fill=\"#c00\"/>\n</svg>\n";
	const char *d = tmpdir;
	char p[512];
	struct stat sb;
	int fd;

	/* a 2400x1600 photo, stored sideways (orientation 6), sRGB profile */
	sh("vips gaussnoise %s/n.v 2400 1600 --mean 128 --sigma 40 && "
	   "vips bandjoin_const %s/n.v %s/n3.v '100 50' && "
	   "vips cast %s/n3.v %s/n8.v uchar && "
	   "vips copy %s/n8.v %s/rgb.v --interpretation srgb && "
	   "vips copy %s/rgb.v '%s/photo.jpg[Q=85,profile=srgb]'",
	   d, d, d, d, d, d, d, d, d);
	sh("exiftool -q -overwrite_original -Make=Canon -Model='EOS 5D (II)' "
	   "-LensModel='EF 50mm f/1.8' -ExposureTime=1/200 -FNumber=2.8 -ISO=400 "
	   "-FocalLength=50 -DateTimeOriginal='2023:05:01 12:34:56' -GPSLatitude=52.5 "
	   "-GPSLatitudeRef=N -GPSLongitude=13.25 -GPSLongitudeRef=W -GPSAltitude=34.5 "
	   "-GPSAltitudeRef=0 -Orientation#=6 -XResolution=300 -YResolution=300 "
	   "-ResolutionUnit=inches -XMP-dc:Title='Red shoe' "
	   "-XMP-dc:Description='A <red> & shiny shoe' -XMP-dc:Subject=shoe "
	   "-XMP-dc:Subject=red -XMP-dc:Creator='Ann Smith' -XMP-dc:Creator='Bo Li' "
	   "-XMP-dc:Rights='(c) ACME' -XMP-xmpRights:UsageTerms='Web only' "
	   "-IPTC:ObjectName='IPTC title' -IPTC:Keywords=Shoe -IPTC:Keywords=leather "
	   "-IPTC:By-line=Bob -IPTC:CopyrightNotice='IPTC copy' "
	   "-IPTC:Caption-Abstract='iptc caption' %s/photo.jpg",
	   d);
	/* IPTC only, to see it used when there is no XMP */
	sh("vips copy %s/rgb.v %s/iptc.jpg && exiftool -q -overwrite_original "
	   "-IPTC:ObjectName='Only IPTC' -IPTC:Keywords=a -IPTC:Keywords=b %s/iptc.jpg",
	   d, d, d);
	sh("vips copy %s/rgb.v %s/image.webp && vips copy %s/rgb.v %s/image.heic",
	   d, d, d, d);
	/* 16-bit TIFF */
	sh("vips cast %s/rgb.v %s/rgb16.v ushort --shift && "
	   "vips copy %s/rgb16.v %s/image.tif --interpretation rgb16",
	   d, d, d, d);
	sh("vips black %s/a.v 300 200 --bands 4 && vips linear %s/a.v %s/a2.v '10 20 30 128' "
	   "0 --uchar && vips copy %s/a2.v %s/alpha.png --interpretation srgb",
	   d, d, d, d, d);
	sh("ffmpeg -v error -y -f lavfi -i testsrc=duration=2:size=320x240:rate=25 "
	   "-f lavfi -i sine=frequency=440:duration=2 -ac 2 -c:v libx264 -pix_fmt yuv420p "
	   "-c:a aac -shortest %s/clip.mp4",
	   d);
	sh("ffmpeg -v error -y -i %s/clip.mp4 -c copy -metadata:s:v:0 rotate=90 %s/rotated.mp4",
	   d, d);
	sh("ffmpeg -v error -y -f lavfi -i sine=frequency=440:duration=1 -ac 1 -ar 22050 "
	   "%s/sound.wav",
	   d);
	write_file("drawing.svg", svg, sizeof svg - 1);
	write_pdf("doc.pdf");
	make_pdfs();
	write_png_bomb("bomb.png", 40000, 25000);  /* 1 gigapixel in 20 KB */
	write_png_bomb("wide.png", 60000, 60000);
	write_file("empty.bin", "", 0);
	/* a JPEG header followed by garbage, and a JPEG cut in half */
	pathf(p, sizeof p, "photo.jpg");
	assert_int_equal(stat(p, &sb), 0);
	{
		unsigned char *b = malloc((size_t)sb.st_size);
		size_t i;

		fd = open_in("photo.jpg");
		assert_int_equal(read(fd, b, (size_t)sb.st_size), sb.st_size);
		close(fd);
		write_file("truncated.jpg", b, (size_t)sb.st_size / 2);
		for (i = 4; i < 4096 && i < (size_t)sb.st_size; i++)
			b[i] = (unsigned char)(i * 7 + 3);
		write_file("corrupt.jpg", b, 4096);
		free(b);
	}
}

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/test_media.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	media_limits_default(&lim);
	if (media_init("test_media", &lim, NULL) < 0)
		return -1;
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

static void sniff(const char *file, const char *as, struct media_sniff *s)
{
	struct dam_err err = { 0 };
	int fd = open_in(file);

	assert_int_equal(media_sniff_fd(fd, as, s, &err), 0);
	close(fd);
}

static json_t *probe(const char *file, int want_rc, struct dam_err *err)
{
	struct media_sniff s;
	json_t *j = NULL;
	int fd = open_in(file);

	assert_int_equal(media_sniff_fd(fd, file, &s, err), 0);
	assert_int_equal(media_probe_fd(fd, &s, &lim, &j, err), want_rc);
	close(fd);
	if (want_rc == 0)
		assert_non_null(j);
	else
		assert_null(j);
	return j;
}

static const char *jstr(json_t *o, const char *path)
{
	json_t *v = o;
	char key[64];
	const char *p = path;

	while (v && *p) {
		size_t n = strcspn(p, ".");

		snprintf(key, sizeof key, "%.*s", (int)n, p);
		v = json_object_get(v, key);
		p += n + (p[n] == '.');
	}
	if (!json_is_string(v))
		fail_msg("%s is not a string", path);
	return json_string_value(v);
}

static double jnum(json_t *o, const char *path)
{
	json_t *v = o;
	char key[64];
	const char *p = path;

	while (v && *p) {
		size_t n = strcspn(p, ".");

		snprintf(key, sizeof key, "%.*s", (int)n, p);
		v = json_object_get(v, key);
		p += n + (p[n] == '.');
	}
	if (!json_is_number(v))
		fail_msg("%s is not a number", path);
	return json_number_value(v);
}

/* ---- derivatives ---- */

struct got {
	int n;
	struct {
		char name[32];
		int w, h;      /* as reported */
		int dw, dh;    /* decoded from the WebP */
		int rgb[3];    /* the centre pixel */
		char spec[512];
	} d[MEDIA_DERIVATIVES_MAX];
};

static int collect(void *ctx, const struct media_derivative *d, struct dam_err *err)
{
	struct got *g = ctx;
	VipsImage *im;
	char *spec;

	double *px = NULL;
	int npx = 0, b;

	assert_true(g->n < MEDIA_DERIVATIVES_MAX);
	assert_string_equal(d->mime, "image/webp");
	assert_true(d->len > 0);
	im = vips_image_new_from_buffer(d->data, d->len, "", NULL);
	assert_non_null(im);
	assert_int_equal(vips_getpoint(im, &px, &npx, d->width / 2, d->height / 2, NULL), 0);
	assert_true(npx >= 3);
	for (b = 0; b < 3; b++)
		g->d[g->n].rgb[b] = (int)lround(px[b]);
	g_free(px);
	snprintf(g->d[g->n].name, sizeof g->d[g->n].name, "%s", d->name);
	g->d[g->n].w = d->width;
	g->d[g->n].h = d->height;
	g->d[g->n].dw = vips_image_get_width(im);
	g->d[g->n].dh = vips_image_get_height(im);
	assert_int_equal(g->d[g->n].dw, d->width);
	assert_int_equal(g->d[g->n].dh, d->height);
	g_object_unref(im);
	spec = json_dumps(d->spec, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(spec);
	snprintf(g->d[g->n].spec, sizeof g->d[g->n].spec, "%s", spec);
	free(spec);
	g->n++;
	return 0;
}

static int derive(const char *file, struct got *g, struct dam_err *err)
{
	struct media_sniff s;
	int fd = open_in(file), rc;

	memset(g, 0, sizeof *g);
	assert_int_equal(media_sniff_fd(fd, file, &s, err), 0);
	rc = media_derive_fd(fd, &s, &lim, collect, g, err);
	close(fd);
	return rc;
}

static int find(const struct got *g, const char *name)
{
	int i;

	for (i = 0; i < g->n; i++)
		if (!strcmp(g->d[i].name, name))
			return i;
	fail_msg("no derivative %s", name);
	return -1;
}

/* Asserts that a call returning a dam code succeeded, showing err.msg. */
#define OK(call)                                                                   \
	do {                                                                       \
		int rc_ = (call);                                                  \
		if (rc_ != 0)                                                      \
			fail_msg("%s = %d: %s", #call, rc_, err.msg);              \
	} while (0)

/* ---- tests ---- */

static void test_sniff(void **state)
{
	struct media_sniff s;

	sniff("photo.jpg", "IMG_1.JPG", &s);
	assert_string_equal(s.mime, "image/jpeg");
	assert_int_equal(s.kind, MEDIA_IMAGE);
	assert_string_equal(s.format, "jpeg");
	assert_false(s.ext_mismatch);
	sniff("photo.jpg", "x.jpe", &s);
	assert_false(s.ext_mismatch);

	sniff("alpha.png", "holiday.jpg", &s); /* a PNG named .jpg */
	assert_string_equal(s.mime, "image/png");
	assert_true(s.ext_mismatch);
	assert_string_equal(s.ext_expected, "png");

	sniff("alpha.png", "no_extension", &s);
	assert_false(s.ext_mismatch);
	sniff("alpha.png", NULL, &s);
	assert_false(s.ext_mismatch);
	sniff("alpha.png", "scan.final", &s); /* unknown extension: no claim */
	assert_false(s.ext_mismatch);

	sniff("image.tif", "a.TIF", &s);
	assert_string_equal(s.mime, "image/tiff");
	assert_false(s.ext_mismatch);
	sniff("image.webp", "a.webp", &s);
	assert_string_equal(s.mime, "image/webp");
	sniff("image.heic", "a.heif", &s);
	assert_int_equal(s.kind, MEDIA_IMAGE);
	assert_false(s.ext_mismatch);

	sniff("clip.mp4", "clip.mp4", &s);
	assert_string_equal(s.mime, "video/mp4");
	assert_int_equal(s.kind, MEDIA_VIDEO);
	assert_false(s.ext_mismatch);
	sniff("clip.mp4", "clip.mov", &s); /* same ISO media family */
	assert_false(s.ext_mismatch);
	sniff("clip.mp4", "clip.png", &s);
	assert_true(s.ext_mismatch);

	sniff("sound.wav", "s.wav", &s);
	assert_int_equal(s.kind, MEDIA_AUDIO);
	assert_string_equal(s.format, "wav");
	assert_false(s.ext_mismatch);

	sniff("drawing.svg", "logo.svg", &s); /* no XML declaration */
	assert_string_equal(s.mime, "image/svg+xml");
	assert_int_equal(s.kind, MEDIA_IMAGE);
	assert_false(s.ext_mismatch);

	sniff("doc.pdf", "doc.pdf", &s);
	assert_string_equal(s.mime, "application/pdf");
	assert_int_equal(s.kind, MEDIA_DOCUMENT);

	sniff("empty.bin", "e.jpg", &s);
	assert_string_equal(s.mime, "application/x-empty");
	assert_int_equal(s.kind, MEDIA_OTHER);
	assert_string_equal(media_kind_name(s.kind), "other");
}

static void test_sniff_bad_fd(void **state)
{
	struct media_sniff s;
	struct dam_err err = { 0 };

	assert_int_equal(media_sniff_fd(-1, "x.jpg", &s, &err), DAM_EIO);
	assert_int_equal(err.code, DAM_EIO);
}

static void test_probe_photo(void **state)
{
	struct dam_err err = { 0 };
	json_t *j = probe("photo.jpg", 0, &err), *kw;

	assert_string_equal(jstr(j, "kind"), "image");
	assert_int_equal((int)jnum(j, "width"), 2400);
	assert_int_equal((int)jnum(j, "height"), 1600);
	assert_int_equal((int)jnum(j, "bands"), 3);
	assert_string_equal(jstr(j, "interpretation"), "srgb");
	assert_true(json_is_false(json_object_get(j, "alpha")));
	assert_int_equal((int)jnum(j, "orientation"), 6);
	assert_non_null(strstr(jstr(j, "icc"), "sRGB"));
	assert_true(fabs(jnum(j, "resolution.x") - 300) < 0.5);
	assert_string_equal(jstr(j, "resolution.unit"), "in");
	/* EXIF */
	assert_string_equal(jstr(j, "exif.make"), "Canon");
	assert_string_equal(jstr(j, "exif.model"), "EOS 5D (II)");
	assert_string_equal(jstr(j, "exif.lens"), "EF 50mm f/1.8");
	assert_true(fabs(jnum(j, "exif.exposure_time") - 0.005) < 1e-9);
	assert_true(fabs(jnum(j, "exif.f_number") - 2.8) < 1e-9);
	assert_int_equal((int)jnum(j, "exif.iso"), 400);
	assert_true(fabs(jnum(j, "exif.focal_length") - 50) < 1e-9);
	assert_string_equal(jstr(j, "exif.date_taken"), "2023-05-01T12:34:56");
	assert_true(fabs(jnum(j, "exif.gps.lat") - 52.5) < 1e-6);
	assert_true(fabs(jnum(j, "exif.gps.lon") + 13.25) < 1e-6);
	assert_true(fabs(jnum(j, "exif.gps.alt") - 34.5) < 1e-6);
	/* XMP over IPTC, keywords merged without duplicates */
	assert_string_equal(jstr(j, "embedded.title"), "Red shoe");
	assert_string_equal(jstr(j, "embedded.description"), "A <red> & shiny shoe");
	assert_string_equal(jstr(j, "embedded.creator"), "Ann Smith, Bo Li");
	assert_string_equal(jstr(j, "embedded.copyright"), "(c) ACME");
	assert_string_equal(jstr(j, "embedded.usage_terms"), "Web only");
	kw = json_object_get(json_object_get(j, "embedded"), "keywords");
	assert_int_equal(json_array_size(kw), 3);
	assert_string_equal(json_string_value(json_array_get(kw, 0)), "Shoe");
	assert_string_equal(json_string_value(json_array_get(kw, 1)), "leather");
	assert_string_equal(json_string_value(json_array_get(kw, 2)), "red");
	json_decref(j);

	j = probe("iptc.jpg", 0, &err);
	assert_string_equal(jstr(j, "embedded.title"), "Only IPTC");
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "embedded"),
							  "keywords")),
			 2);
	assert_null(json_object_get(j, "exif"));
	json_decref(j);
}

static void test_probe_images(void **state)
{
	struct dam_err err = { 0 };
	json_t *j;

	j = probe("alpha.png", 0, &err);
	assert_int_equal((int)jnum(j, "width"), 300);
	assert_int_equal((int)jnum(j, "height"), 200);
	assert_int_equal((int)jnum(j, "bands"), 4);
	assert_true(json_is_true(json_object_get(j, "alpha")));
	assert_string_equal(jstr(j, "format"), "png");
	json_decref(j);

	j = probe("image.tif", 0, &err);
	assert_int_equal((int)jnum(j, "width"), 2400);
	assert_string_equal(jstr(j, "interpretation"), "rgb16");
	json_decref(j);

	j = probe("image.heic", 0, &err);
	assert_int_equal((int)jnum(j, "width"), 2400);
	assert_int_equal((int)jnum(j, "height"), 1600);
	json_decref(j);

	j = probe("drawing.svg", 0, &err);
	assert_string_equal(jstr(j, "mime"), "image/svg+xml");
	assert_int_equal((int)jnum(j, "width"), 400);
	assert_int_equal((int)jnum(j, "height"), 300);
	assert_int_equal(json_array_size(json_object_get(j, "viewbox")), 4);
	assert_true(jnum(json_array_get(json_object_get(j, "viewbox"), 0), "") == 0);
	assert_true(json_number_value(json_array_get(json_object_get(j, "viewbox"), 2)) == 800);
	assert_true(json_number_value(json_array_get(json_object_get(j, "viewbox"), 3)) == 600);
	json_decref(j);

	j = probe("doc.pdf", 0, &err);
	assert_string_equal(jstr(j, "kind"), "document");
	assert_int_equal((int)jnum(j, "pages"), 2);
	assert_int_equal((int)jnum(j, "page_width"), 612);
	assert_int_equal((int)jnum(j, "page_height"), 792);
	assert_string_equal(jstr(j, "title"), "Spec sheet");
	assert_string_equal(jstr(j, "author"), "ACME Docs");
	assert_string_equal(jstr(j, "embedded.title"), "Spec sheet");
	json_decref(j);
}

static void test_probe_av(void **state)
{
	struct dam_err err = { 0 };
	json_t *j;

	j = probe("clip.mp4", 0, &err);
	assert_string_equal(jstr(j, "kind"), "video");
	assert_non_null(strstr(jstr(j, "container"), "mp4"));
	assert_true(fabs(jnum(j, "duration") - 2) < 0.1);
	assert_true(jnum(j, "bitrate") > 0);
	assert_string_equal(jstr(j, "video.codec"), "h264");
	assert_int_equal((int)jnum(j, "video.width"), 320);
	assert_int_equal((int)jnum(j, "video.height"), 240);
	assert_int_equal((int)jnum(j, "width"), 320);
	assert_true(fabs(jnum(j, "video.fps") - 25) < 0.01);
	assert_int_equal((int)jnum(j, "video.rotation"), 0);
	assert_string_equal(jstr(j, "audio.codec"), "aac");
	assert_int_equal((int)jnum(j, "audio.channels"), 2);
	assert_int_equal((int)jnum(j, "audio.sample_rate"), 44100);
	json_decref(j);

	/* ffprobe shows this display matrix as "rotation=90" (counter-clockwise);
	 * we report the clockwise turn that makes it upright, as ffmpeg applies */
	j = probe("rotated.mp4", 0, &err);
	assert_int_equal((int)jnum(j, "video.rotation"), 270);
	json_decref(j);

	j = probe("sound.wav", 0, &err);
	assert_string_equal(jstr(j, "kind"), "audio");
	assert_true(fabs(jnum(j, "duration") - 1) < 0.05);
	assert_string_equal(jstr(j, "audio.codec"), "pcm_s16le");
	assert_int_equal((int)jnum(j, "audio.channels"), 1);
	assert_int_equal((int)jnum(j, "audio.sample_rate"), 22050);
	assert_null(json_object_get(j, "video"));
	json_decref(j);
}

static void test_derive_photo(void **state)
{
	struct dam_err err = { 0 };
	struct got g;
	int p, t;

	OK(derive("photo.jpg", &g, &err));
	assert_int_equal(g.n, 2);
	p = find(&g, "preview");
	t = find(&g, "thumbnail");
	/* 2400x1600 stored with orientation 6: upright it is 1600 tall */
	assert_int_equal(g.d[p].dh, 1600);
	assert_int_equal(g.d[p].dw, 1067);
	assert_int_equal(g.d[t].dh, 320);
	assert_int_equal(g.d[t].dw, 213);
	assert_non_null(strstr(g.d[t].spec, "\"max\":320"));
	assert_non_null(strstr(g.d[t].spec, "\"format\":\"webp\""));
	assert_non_null(strstr(g.d[p].spec, "\"max\":1600"));
}

static void test_derive_images(void **state)
{
	struct dam_err err = { 0 };
	struct got g;
	int i;

	/* small: never upscaled */
	OK(derive("alpha.png", &g, &err));
	assert_int_equal(g.n, 2);
	i = find(&g, "preview");
	assert_int_equal(g.d[i].dw, 300);
	assert_int_equal(g.d[i].dh, 200);
	i = find(&g, "thumbnail");
	assert_int_equal(g.d[i].dw, 300);

	OK(derive("image.tif", &g, &err)); /* 16-bit in, 8-bit WebP out */
	i = find(&g, "thumbnail");
	assert_int_equal(g.d[i].dw, 320);
	assert_int_equal(g.d[i].dh, 213);
	i = find(&g, "preview");
	assert_int_equal(g.d[i].dw, 1600);

	OK(derive("image.webp", &g, &err));
	assert_int_equal(g.d[find(&g, "thumbnail")].dw, 320);
	OK(derive("image.heic", &g, &err));
	assert_int_equal(g.d[find(&g, "thumbnail")].dw, 320);

	OK(derive("drawing.svg", &g, &err));
	i = find(&g, "thumbnail");
	assert_int_equal(g.d[i].dw, 320);
	assert_int_equal(g.d[i].dh, 240);
	assert_int_equal(g.d[find(&g, "preview")].dw, 400);

	OK(derive("doc.pdf", &g, &err));
	i = find(&g, "thumbnail");
	assert_int_equal(g.d[i].dh, 320);
	assert_int_equal(g.d[i].dw, 247); /* 612x792 */
	i = find(&g, "preview");
	assert_int_equal(g.d[i].dh, 792);

	OK(derive("sound.wav", &g, &err));
	assert_int_equal(g.n, 0);
	OK(derive("empty.bin", &g, &err));
	assert_int_equal(g.n, 0);
}

/* Asserts that derivative i's centre is within 40 of (r, g, b) per band. */
static void assert_colour(const struct got *g, int i, int r, int gr, int b)
{
	const int *c = g->d[i].rgb;

	if (abs(c[0] - r) > 40 || abs(c[1] - gr) > 40 || abs(c[2] - b) > 40)
		fail_msg("%s is %d,%d,%d, expected about %d,%d,%d", g->d[i].name, c[0], c[1], c[2], r,
			 gr, b);
}

static int count_named(const struct got *g, const char *prefix)
{
	int i, n = 0;

	for (i = 0; i < g->n; i++)
		n += !strncmp(g->d[i].name, prefix, strlen(prefix));
	return n;
}

static void test_derive_pdf_pages(void **state)
{
	struct dam_err err = { 0 };
	struct got g;
	int i;

	/* every page its own rendition, at preview size, with its own pixels */
	OK(derive("pages.pdf", &g, &err));
	assert_int_equal(g.n, 4);
	i = find(&g, "preview");
	assert_int_equal(g.d[i].dw, 400);
	assert_int_equal(g.d[i].dh, 300);
	assert_colour(&g, i, 230, 26, 26);
	assert_non_null(strstr(g.d[i].spec, "\"pages\":3,\"pages_rendered\":3"));
	assert_non_null(strstr(g.d[i].spec, "\"capped\":false"));
	assert_null(strstr(g.d[i].spec, "page_error"));
	i = find(&g, "page-2");
	assert_int_equal(g.d[i].dw, 400);
	assert_int_equal(g.d[i].dh, 300);
	assert_colour(&g, i, 26, 179, 51);
	assert_non_null(strstr(g.d[i].spec, "\"page\":2,\"pages\":3"));
	assert_non_null(strstr(g.d[i].spec, "\"max\":1600"));
	i = find(&g, "page-3");
	assert_int_equal(g.d[i].dw, 300); /* pages keep their own shape */
	assert_int_equal(g.d[i].dh, 400);
	assert_colour(&g, i, 26, 51, 230);

	/* the unit test's doc.pdf has two pages */
	OK(derive("doc.pdf", &g, &err));
	assert_int_equal(g.n, 3);
	assert_int_equal(g.d[find(&g, "page-2")].dh, 792);

	/* a page over the limits ends the run there; the pages before stay */
	OK(derive("badpage.pdf", &g, &err));
	assert_int_equal(count_named(&g, "page-"), 1);
	assert_colour(&g, find(&g, "page-2"), 26, 179, 51);
	i = find(&g, "preview");
	assert_non_null(strstr(g.d[i].spec, "\"page_error\":\"page 3: image is 60000x60000"));
	assert_non_null(strstr(g.d[i].spec, "\"pages\":4,\"pages_rendered\":2"));
	/* ... but the first page failing fails the file */
	assert_int_equal(derive("badfirst.pdf", &g, &err), DAM_ELIMIT);
	assert_int_equal(g.n, 0);

	/* a long document: pages up to the cap, and the specs say so */
	OK(derive("many.pdf", &g, &err));
	assert_int_equal(g.n, MEDIA_DERIVATIVES_MAX);
	assert_int_equal(count_named(&g, "page-"), MEDIA_PDF_PAGES_MAX - 1);
	i = find(&g, "preview");
	assert_non_null(strstr(g.d[i].spec, "\"capped\":true"));
	assert_non_null(strstr(g.d[i].spec, "\"pages\":53,\"pages_rendered\":50"));
	i = find(&g, "page-50");
	assert_int_equal(g.d[i].dw, 60);
	assert_int_equal(g.d[i].dh, 80);
	assert_colour(&g, i, 0, 128, 128); /* even pages are the teal ones */
	assert_non_null(strstr(g.d[i].spec, "\"capped\":true"));
	for (i = 0; i < g.n; i++)
		assert_string_not_equal(g.d[i].name, "page-51");
}

static void test_derive_video(void **state)
{
	struct dam_err err = { 0 };
	struct got g;
	int i;

	OK(derive("clip.mp4", &g, &err));
	assert_int_equal(g.n, 3);
	i = find(&g, "poster");
	assert_int_equal(g.d[i].dw, 320);
	assert_int_equal(g.d[i].dh, 240);
	i = find(&g, "thumbnail");
	assert_int_equal(g.d[i].dw, 320);
	i = find(&g, "keyframes");
	assert_int_equal(g.d[i].dh, 160);
	assert_int_equal(g.d[i].dw, 10 * 213); /* ten distinct 4:3 frames */
	assert_non_null(strstr(g.d[i].spec, "\"frames\":10"));

	OK(derive("rotated.mp4", &g, &err));
	i = find(&g, "poster");
	assert_int_equal(g.d[i].dw, 240);
	assert_int_equal(g.d[i].dh, 320);
	i = find(&g, "keyframes");
	assert_int_equal(g.d[i].dh, 160);
	assert_int_equal(g.d[i].dw, 10 * 120);
}

static void test_limits(void **state)
{
	struct dam_err err = { 0 };
	struct media_limits small;
	struct media_sniff s;
	struct got g;
	json_t *j;
	int fd;

	probe("bomb.png", DAM_ELIMIT, &err);
	assert_int_equal(err.code, DAM_ELIMIT);
	assert_non_null(strstr(err.msg, "40000x25000 = 1000 megapixels, limit is 250"));
	assert_int_equal(derive("bomb.png", &g, &err), DAM_ELIMIT);
	assert_int_equal(g.n, 0);

	probe("wide.png", DAM_ELIMIT, &err);
	assert_non_null(strstr(err.msg, "60000x60000 = 3600 megapixels"));
	assert_int_equal(derive("wide.png", &g, &err), DAM_ELIMIT);

	/* max_dimension alone */
	small = lim;
	small.max_dimension = 2000;
	fd = open_in("photo.jpg");
	assert_int_equal(media_sniff_fd(fd, NULL, &s, &err), 0);
	j = NULL;
	assert_int_equal(media_probe_fd(fd, &s, &small, &j, &err), DAM_ELIMIT);
	assert_null(j);
	assert_non_null(strstr(err.msg, "2400x1600"));
	close(fd);
}

static void test_corrupt(void **state)
{
	struct dam_err err = { 0 };
	struct got g;

	probe("corrupt.jpg", DAM_EMEDIA, &err);
	assert_int_equal(err.code, DAM_EMEDIA);
	assert_true(strlen(err.msg) > 20);
	assert_int_equal(derive("corrupt.jpg", &g, &err), DAM_EMEDIA);
	/* the header is whole, the pixels are not: derive must notice */
	assert_int_equal(derive("truncated.jpg", &g, &err), DAM_EMEDIA);
	assert_int_equal(g.n, 0);
	assert_non_null(strstr(err.msg, "decode"));
}

/* The metadata parsers on hand-made hostile blobs: no crash, no overread
 * (run under ASan), and the good parts still read. */
static void test_parsers(void **state)
{
	static const unsigned char iim[] = "\x1c\x02\x05\x00\x05Title"
					   "\x1c\x02\x19\x00\x03" "a\xe9" "b" /* Latin-1 */
					   "\x1c\x02\x19\x80\x02\x00\x01k" /* extended length */
					   "\x1c\x02\x78\xff\xff" "short"; /* length past the end */
	static const char xmp[] =
		"<dc:title><rdf:Alt><rdf:li xml:lang='de'>Schuh</rdf:li>"
		"<rdf:li xml:lang='x-default'>Shoe &amp; co &#233;&#x263A;</rdf:li></rdf:Alt>"
		"</dc:title><dc:subject><rdf:Bag><rdf:li>a</rdf:li><rdf:li>A</rdf:li>"
		"<rdf:li>b";
	unsigned char icc[200];
	json_t *emb = json_object(), *kw, *d;
	size_t n;

	media__iptc_parse(iim, sizeof iim - 1, emb);
	assert_string_equal(json_string_value(json_object_get(emb, "title")), "Title");
	kw = json_object_get(emb, "keywords");
	assert_int_equal(json_array_size(kw), 2);
	assert_string_equal(json_string_value(json_array_get(kw, 0)), "a\xc3\xa9" "b");
	assert_string_equal(json_string_value(json_array_get(kw, 1)), "k");
	assert_null(json_object_get(emb, "description"));
	for (n = 0; n < sizeof iim; n++) /* every truncation */
		media__iptc_parse(iim, n, emb);
	media__iptc_parse((const unsigned char *)"8BIM\x04\x04\xff", 7, emb);

	media__xmp_parse(xmp, sizeof xmp - 1, emb); /* dc:subject unterminated */
	assert_string_equal(json_string_value(json_object_get(emb, "title")),
			    "Shoe & co \xc3\xa9\xe2\x98\xba");
	assert_int_equal(json_array_size(json_object_get(emb, "keywords")), 2);
	for (n = 0; n < sizeof xmp; n++)
		media__xmp_parse(xmp, n, emb);
	json_decref(emb);

	/* ICC: v2 'desc' tag, then lies about counts and offsets */
	memset(icc, 0, sizeof icc);
	memcpy(icc + 36, "acsp", 4);
	icc[131] = 1;
	memcpy(icc + 132, "desc", 4);
	icc[139] = 150;
	icc[143] = 30;
	memcpy(icc + 150, "desc", 4);
	icc[161] = 6;
	memcpy(icc + 162, "Hello", 6);
	d = media__icc_description(icc, sizeof icc);
	assert_non_null(d);
	assert_string_equal(json_string_value(d), "Hello");
	json_decref(d);
	icc[161] = 200; /* text longer than the tag */
	assert_null(media__icc_description(icc, sizeof icc));
	icc[131] = 255; /* more tags than bytes */
	assert_null(media__icc_description(icc, sizeof icc));
	icc[131] = 1;
	icc[139] = 199; /* tag past the end */
	assert_null(media__icc_description(icc, sizeof icc));
	for (n = 0; n < sizeof icc; n++)
		json_decref(media__icc_description(icc, n));

	{
		static const char svg[] = "\xef\xbb\xbf<?xml version='1.0'?>"
					  "<!DOCTYPE svg [<!ENTITY a 'b'>]><svg:svg xmlns:svg='x'/>";

		assert_true(media__is_svg(svg, sizeof svg - 1));
	}
	assert_false(media__is_svg("<html><svg/></html>", 19));
	assert_false(media__is_svg("<svg", 4));
}

static int open_fixture(const char *dir, const char *name)
{
	char p[1024];

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return open(p, O_RDONLY | O_CLOEXEC);
}

/* Checks over tests/gen-fixtures.sh output, when present, that hold for
 * any well-formed input of each kind. */
static void test_fixtures(void **state)
{
	const char *dir = getenv("DAM_TEST_FIXTURES");
	static const char *good[] = { "photo.jpg", "photo2.jpg", "rotated.jpg", "alpha.png",
				      "image.webp", "image.tif", "image.avif", "image.heic",
				      "drawing.svg", "doc.pdf", "clip.mp4", "rotated.mp4",
				      "sound.wav" };
	static const char *hostile[] = { "bomb.png", "huge-dims.png" };
	struct dam_err err = { 0 };
	struct media_sniff s;
	struct got g;
	json_t *j = NULL;
	size_t i;
	int fd, k;

	if (!dir || !*dir)
		return;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		if ((fd = open_fixture(dir, good[i])) < 0)
			continue;
		memset(&g, 0, sizeof g);
		OK(media_sniff_fd(fd, good[i], &s, &err));
		assert_false(s.ext_mismatch);
		assert_int_not_equal(s.kind, MEDIA_OTHER);
		OK(media_probe_fd(fd, &s, &lim, &j, &err));
		assert_string_equal(jstr(j, "kind"), media_kind_name(s.kind));
		json_decref(j);
		OK(media_derive_fd(fd, &s, &lim, collect, &g, &err));
		for (k = 0; k < g.n; k++) {
			int lng = g.d[k].dw > g.d[k].dh ? g.d[k].dw : g.d[k].dh;

			if (!strcmp(g.d[k].name, "thumbnail"))
				assert_true(lng <= 320);
			else if (!strcmp(g.d[k].name, "keyframes"))
				assert_int_equal(g.d[k].dh, 160);
			else
				assert_true(lng <= 1600);
		}
		if (s.kind == MEDIA_AUDIO)
			assert_int_equal(g.n, 0);
		else
			assert_true(g.n >= 2);
		/* rotated.* are stored landscape and displayed portrait */
		if (!strncmp(good[i], "rotated.", 8)) {
			k = find(&g, "thumbnail");
			assert_true(g.d[k].dh > g.d[k].dw);
		}
		close(fd);
	}
	for (i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		if ((fd = open_fixture(dir, hostile[i])) < 0)
			continue;
		OK(media_sniff_fd(fd, hostile[i], &s, &err));
		assert_int_equal(media_probe_fd(fd, &s, &lim, &j, &err), DAM_ELIMIT);
		assert_int_equal(media_derive_fd(fd, &s, &lim, collect, &g, &err), DAM_ELIMIT);
		close(fd);
	}
	if ((fd = open_fixture(dir, "corrupt.jpg")) >= 0) {
		memset(&g, 0, sizeof g);
		OK(media_sniff_fd(fd, "corrupt.jpg", &s, &err));
		assert_int_equal(media_derive_fd(fd, &s, &lim, collect, &g, &err), DAM_EMEDIA);
		assert_int_equal(g.n, 0);
		close(fd);
	}
	if ((fd = open_fixture(dir, "fake.jpg")) >= 0) {
		OK(media_sniff_fd(fd, "fake.jpg", &s, &err));
		assert_string_equal(s.mime, "image/png");
		assert_true(s.ext_mismatch);
		close(fd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sniff),	     cmocka_unit_test(test_sniff_bad_fd),
		cmocka_unit_test(test_probe_photo),  cmocka_unit_test(test_probe_images),
		cmocka_unit_test(test_probe_av),     cmocka_unit_test(test_derive_photo),
		cmocka_unit_test(test_derive_images), cmocka_unit_test(test_derive_pdf_pages),
		cmocka_unit_test(test_derive_video),
		cmocka_unit_test(test_limits),	     cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_parsers),	     cmocka_unit_test(test_fixtures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
