/*
 * equal.c - bench/ingest's "limit": the least work that produces the same
 * set of outputs as a dam ingest of one image, with libvips and nothing else
 * (no database, no blob store, no job queue, no process isolation).
 *
 *   equal OUTDIR SPECFILE FILE
 *
 * For FILE: SHA-256 of the bytes (OpenSSL, as dam's store), then the
 * normalised master exactly as dam writes it (decode, autorotate, sRGB, a
 * tiled pyramidal TIFF with 256 px JPEG Q92 tiles, or deflate with alpha),
 * then from that master the 1600 px preview and the 320 px thumbnail (WebP
 * Q80, stripped) and one output per line of SPECFILE:
 *
 *   NAME W H contain|cover BG(hex or -) jpeg|webp|png Q
 *
 * run.sh writes SPECFILE from `dam preset list --json` (the presets dam
 * renders ahead), with identical specs merged: dam stores identical bytes
 * once, and the limit encodes them once. `contain` fits inside WxH and pads
 * with BG, `cover` fills WxH with libvips's attention crop (dam's
 * crop_smart). Sources smaller than a box are enlarged to fill it, as dam's
 * presets deliver the size they promise; the preview and thumbnail (H 0:
 * longest side W) are never enlarged.
 *
 * Exit status 0 when every output was written.
 * Build: cc -O2 -o equal equal.c $(pkg-config --cflags --libs vips libcrypto)
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vips/vips.h>

struct spec {
	char name[64], fit[16], bg[16], fmt[8];
	int w, h, q;
};

static int sha256_file(const char *path)
{
	unsigned char buf[1 << 16], md[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	SHA256_Init(&c);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		SHA256_Update(&c, buf, (size_t)n);
	SHA256_Final(md, &c);
	close(fd);
	return n < 0 ? -1 : 0;
}

static int write_master(const char *in, const char *out)
{
	VipsImage *im = NULL, *rot = NULL, *srgb = NULL;
	int rc = -1;

	if (!(im = vips_image_new_from_file(in, "access", VIPS_ACCESS_SEQUENTIAL, NULL)))
		goto out;
	if (vips_autorot(im, &rot, NULL) || vips_colourspace(rot, &srgb, VIPS_INTERPRETATION_sRGB, NULL))
		goto out;
	rc = vips_tiffsave(srgb, out, "tile", TRUE, "tile_width", 256, "tile_height", 256, "pyramid", TRUE,
			   "compression",
			   vips_image_hasalpha(srgb) ? VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE
						     : VIPS_FOREIGN_TIFF_COMPRESSION_JPEG,
			   "Q", 92, "predictor", VIPS_FOREIGN_TIFF_PREDICTOR_HORIZONTAL, "strip", TRUE, NULL);
out:
	if (srgb)
		g_object_unref(srgb);
	if (rot)
		g_object_unref(rot);
	if (im)
		g_object_unref(im);
	return rc;
}

static int save(VipsImage *im, const char *fmt, int q, const char *path)
{
	if (!strcmp(fmt, "webp"))
		return vips_webpsave(im, path, "Q", q, "strip", TRUE, NULL);
	if (!strcmp(fmt, "png"))
		return vips_pngsave(im, path, "strip", TRUE, NULL);
	return vips_jpegsave(im, path, "Q", q, "strip", TRUE, NULL);
}

/* One output from the master: thumbnail into the box, then pad or flatten. */
static int render(const char *master, const struct spec *s, const char *path)
{
	VipsObject *scope = VIPS_OBJECT(vips_image_new());
	VipsImage **t = (VipsImage **)vips_object_local_array(scope, 4);
	VipsImage *im;
	double bg[3] = { 255, 255, 255 };
	unsigned v;
	int rc = -1;

	if (s->bg[0] != '-' && sscanf(s->bg, "%6x", &v) == 1) {
		bg[0] = (v >> 16) & 255;
		bg[1] = (v >> 8) & 255;
		bg[2] = v & 255;
	}
	if (!strcmp(s->fit, "cover")) {
		if (vips_thumbnail(master, &t[0], s->w, "height", s->h, "crop", VIPS_INTERESTING_ATTENTION,
				   "size", VIPS_SIZE_BOTH, NULL))
			goto out;
	} else if (vips_thumbnail(master, &t[0], s->w, "height", s->h ? s->h : s->w, "size",
				  VIPS_SIZE_BOTH, NULL))
		goto out;
	im = t[0];
	if (vips_image_hasalpha(im) && strcmp(s->fmt, "png") && strcmp(s->fmt, "webp")) {
		if (vips_flatten(im, &t[1], "background", vips_array_double_new(bg, 3), NULL))
			goto out;
		im = t[1];
	}
	if (!strcmp(s->fit, "contain") && s->h &&
	    (vips_image_get_width(im) != s->w || vips_image_get_height(im) != s->h)) {
		if (vips_gravity(im, &t[2], VIPS_COMPASS_DIRECTION_CENTRE, s->w, s->h, "extend",
				 VIPS_EXTEND_BACKGROUND, "background", vips_array_double_new(bg, 3), NULL))
			goto out;
		im = t[2];
	}
	rc = save(im, s->fmt, s->q, path);
out:
	g_object_unref(scope);
	return rc;
}

int main(int argc, char **argv)
{
	struct spec s, fixed[2] = {
		{ "preview", "contain", "-", "webp", 1600, 0, 80 },
		{ "thumbnail", "contain", "-", "webp", 320, 0, 80 },
	};
	char master[4096], path[4096], line[512];
	const char *base;
	VipsImage *im;
	FILE *f;
	int failed = 0, i;

	if (argc != 4) {
		fprintf(stderr, "usage: equal OUTDIR SPECFILE FILE\n");
		return 2;
	}
	if (VIPS_INIT(argv[0]))
		return 2;
	vips_cache_set_max(0);
	base = strrchr(argv[3], '/') ? strrchr(argv[3], '/') + 1 : argv[3];
	snprintf(master, sizeof master, "%s/%s.master.tif", argv[1], base);
	if (sha256_file(argv[3]) < 0 || write_master(argv[3], master) < 0) {
		fprintf(stderr, "equal: %s: %s\n", argv[3], vips_error_buffer());
		return 1;
	}
	/* Previews are never enlarged. (libvips 8.14's thumbnail "size=down"
	 * picks too small a page of a pyramid, so the box is clamped here.) */
	if ((im = vips_image_new_from_file(master, NULL))) {
		int side = MAX(vips_image_get_width(im), vips_image_get_height(im));

		for (i = 0; i < 2; i++)
			fixed[i].w = MIN(fixed[i].w, side);
		g_object_unref(im);
	}
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s.%s.webp", argv[1], base, fixed[i].name);
		failed |= render(master, &fixed[i], path) < 0;
	}
	if (!(f = fopen(argv[2], "r")))
		return 2;
	while (fgets(line, sizeof line, f)) {
		memset(&s, 0, sizeof s);
		if (sscanf(line, "%63s %d %d %15s %15s %7s %d", s.name, &s.w, &s.h, s.fit, s.bg, s.fmt, &s.q) != 7)
			continue;
		snprintf(path, sizeof path, "%s/%s.%s.%s", argv[1], base, s.name, s.fmt);
		failed |= render(master, &s, path) < 0;
	}
	fclose(f);
	if (failed)
		fprintf(stderr, "equal: %s: %s\n", argv[3], vips_error_buffer());
	vips_shutdown();
	return failed;
}
