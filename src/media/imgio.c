/*
 * imgio.c - opening, checking, resizing and encoding images with libvips,
 * for probe.c, derive.c, av.c and transform.c (see imgio.h).
 */
#include "media/imgio.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "media/init.h"

#define WEBP_Q 80

int media__check_size(int64_t w, int64_t h, const struct media_limits *lim, struct dam_err *err)
{
	uint64_t px;

	if (w <= 0 || h <= 0)
		return dam_err_set(err, DAM_EMEDIA, NULL, "image has no pixels (%lldx%lld)",
				   (long long)w, (long long)h);
	px = (uint64_t)w * (uint64_t)h;
	if (lim->max_pixels && px > lim->max_pixels)
		return dam_err_set(err, DAM_ELIMIT, NULL,
				   "image is %lldx%lld = %llu megapixels, limit is %llu", (long long)w,
				   (long long)h, (unsigned long long)((px + 500000) / 1000000),
				   (unsigned long long)(lim->max_pixels / 1000000));
	if (lim->max_dimension > 0 && (w > lim->max_dimension || h > lim->max_dimension))
		return dam_err_set(err, DAM_ELIMIT, NULL,
				   "image is %lldx%lld, limit is %d px on either side", (long long)w,
				   (long long)h, lim->max_dimension);
	return 0;
}

int media__open_image(int fd, const char *opts, VipsImage **out, struct dam_err *err)
{
	VipsSource *src = NULL;
	char path[64];
	int rc = 0;

	*out = NULL;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot seek file");
	src = vips_source_new_from_descriptor(fd);
	if (!src)
		return media__vips_err(err, DAM_EIO, "cannot read file");
	*out = vips_image_new_from_source(src, opts, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
	if (!*out && media__magick_allowed()) {
		/* the magick loader has no source variant in 8.14 */
		vips_error_clear();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		*out = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
	}
	if (!*out)
		rc = media__vips_err(err, DAM_EMEDIA, "cannot decode image");
	g_object_unref(src);
	return rc;
}

int media__fit(VipsImage *in, int max, VipsImage **out, struct dam_err *err)
{
	int w = vips_image_get_width(in), h = vips_image_get_height(in);
	int tw = w, th = h;
	VipsImage *t = NULL;
	int rc = 0;

	*out = NULL;
	if (max <= 0 || (w <= max && h <= max)) {
		g_object_ref(in);
		*out = in;
		return 0;
	}
	if (w >= h) {
		tw = max;
		th = (int)lround((double)h * max / w);
	} else {
		th = max;
		tw = (int)lround((double)w * max / h);
	}
	tw = tw < 1 ? 1 : tw;
	th = th < 1 ? 1 : th;
	/* separate scales, so each side lands on its target size */
	if (vips_resize(in, &t, (double)tw / w, "vscale", (double)th / h, NULL))
		return media__vips_err(err, DAM_EMEDIA, "cannot resize image");
	if (vips_image_get_width(t) != tw || vips_image_get_height(t) != th) {
		/* rounding inside vips_resize: trim or extend the last pixel */
		if (vips_gravity(t, out, VIPS_COMPASS_DIRECTION_NORTH_WEST, tw, th, "extend",
				 VIPS_EXTEND_COPY, NULL))
			rc = media__vips_err(err, DAM_EMEDIA, "cannot resize image");
		g_object_unref(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* An 8-bit sRGB (with alpha, if any) version of im; new reference. */
static int to_srgb8(VipsImage *im, VipsImage **out, struct dam_err *err)
{
	if (vips_image_get_interpretation(im) == VIPS_INTERPRETATION_sRGB &&
	    vips_image_get_format(im) == VIPS_FORMAT_UCHAR && vips_image_get_bands(im) <= 4) {
		g_object_ref(im);
		*out = im;
		return 0;
	}
	if (vips_colourspace(im, out, VIPS_INTERPRETATION_sRGB, NULL))
		return media__vips_err(err, DAM_EMEDIA, "cannot convert image to sRGB");
	return 0;
}

int media__emit_webp(VipsImage *im, const char *name, int max, json_t *extra,
		     media_emit_fn emit, void *ctx, struct dam_err *err)
{
	VipsImage *fit = NULL, *rgb = NULL;
	struct media_derivative d;
	json_t *spec = NULL;
	void *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = media__fit(im, max, &fit, err)) < 0)
		goto out;
	if ((rc = to_srgb8(fit, &rgb, err)) < 0)
		goto out;
	if (vips_webpsave_buffer(rgb, &buf, &len, "Q", WEBP_Q, "strip", TRUE, NULL)) {
		rc = media__vips_err(err, DAM_EMEDIA, "cannot encode WebP");
		goto out;
	}
	spec = json_pack("{s:s,s:i}", "format", "webp", "q", WEBP_Q);
	if (max > 0)
		json_object_set_new(spec, "max", json_integer(max));
	if (extra)
		json_object_update(spec, extra);
	d = (struct media_derivative){
		.name = name,
		.mime = "image/webp",
		.data = buf,
		.len = len,
		.width = vips_image_get_width(rgb),
		.height = vips_image_get_height(rgb),
		.spec = spec,
	};
	rc = emit(ctx, &d, err);
	if (rc < 0 && err && err->code == 0)
		dam_err_set(err, rc, NULL, "storing %s failed", name);
out:
	json_decref(spec);
	g_free(buf);
	if (rgb)
		g_object_unref(rgb);
	if (fit)
		g_object_unref(fit);
	return rc < 0 ? rc : 0;
}

bool media__decode_failed(const char *buf)
{
	while (*buf) {
		size_t n = strcspn(buf, "\n");

		if (n > 0 && strncmp(buf, "source: bad seek", 16) != 0)
			return true;
		buf += n + (buf[n] == '\n');
	}
	return false;
}
