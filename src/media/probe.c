/*
 * probe.c - technical metadata of images, PDF and SVG (libvips, header only)
 * and dispatch to av.c for video and audio.
 *
 * libvips loaders are lazy: vips_image_new_from_source() reads the header
 * and no pixels, so the size limits are checked before any decode.
 */
#include "media/media.h"
#include "media/av.h"
#include "media/imgio.h"
#include "media/init.h"
#include "media/meta.h"
#include "media/text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool get_string(VipsImage *im, const char *field, const char **s)
{
	if (!vips_image_get_typeof(im, field)) /* gchararray or VipsRefString */
		return false;
	if (vips_image_get_string(im, field, s) != 0) {
		vips_error_clear();
		return false;
	}
	return true;
}

static bool get_int(VipsImage *im, const char *field, int *v)
{
	if (vips_image_get_typeof(im, field) != G_TYPE_INT)
		return false;
	if (vips_image_get_int(im, field, v) != 0) {
		vips_error_clear();
		return false;
	}
	return true;
}

static bool get_blob(VipsImage *im, const char *field, const void **p, size_t *len)
{
	if (vips_image_get_typeof(im, field) != VIPS_TYPE_BLOB)
		return false;
	if (vips_image_get_blob(im, field, p, len) != 0) {
		vips_error_clear();
		return false;
	}
	return *len > 0;
}

/* xres/yres are pixels per mm; files say inch or cm. */
static void probe_resolution(VipsImage *im, json_t *obj)
{
	double xres = vips_image_get_xres(im), yres = vips_image_get_yres(im), f = 25.4;
	const char *unit = "in", *u;

	/* 1 px/mm is libvips's "not given" */
	if (!(xres > 0 && yres > 0) || xres > 1e6 || yres > 1e6 || (xres == 1 && yres == 1))
		return;
	if (get_string(im, "resolution-unit", &u) && !strcmp(u, "cm")) {
		unit = "cm";
		f = 10;
	}
	json_object_set_new(obj, "resolution",
			    json_pack("{s:f,s:f,s:s}", "x", round(xres * f * 100) / 100, "y",
				      round(yres * f * 100) / 100, "unit", unit));
}

/* IPTC first, then XMP over it (XMP wins). */
static void probe_embedded(VipsImage *im, json_t *obj)
{
	json_t *emb = json_object();
	const void *p;
	size_t len;

	if (get_blob(im, "iptc-data", &p, &len))
		media__iptc_parse(p, len, emb);
	if (get_blob(im, "xmp-data", &p, &len))
		media__xmp_parse(p, len, emb);
	if (json_object_size(emb))
		json_object_set_new(obj, "embedded", emb);
	else
		json_decref(emb);
}

static void probe_image_fields(VipsImage *im, json_t *obj)
{
	const void *icc;
	size_t icclen;
	json_t *desc;
	int v;

	json_object_set_new(obj, "width", json_integer(vips_image_get_width(im)));
	json_object_set_new(obj, "height", json_integer(vips_image_get_height(im)));
	json_object_set_new(obj, "bands", json_integer(vips_image_get_bands(im)));
	json_object_set_new(obj, "interpretation",
			    json_string(vips_enum_nick(VIPS_TYPE_INTERPRETATION,
						       vips_image_get_interpretation(im))));
	json_object_set_new(obj, "alpha", json_boolean(vips_image_hasalpha(im)));
	if (get_blob(im, "icc-profile-data", &icc, &icclen) &&
	    (desc = media__icc_description(icc, icclen)))
		json_object_set_new(obj, "icc", desc);
	probe_resolution(im, obj);
	if (get_int(im, "orientation", &v) && v >= 1 && v <= 8)
		json_object_set_new(obj, "orientation", json_integer(v));
	if (get_int(im, "n-pages", &v) && v >= 1)
		json_object_set_new(obj, "pages", json_integer(v));
	media__exif_to_json(im, obj);
	probe_embedded(im, obj);
}

static void probe_pdf_fields(VipsImage *im, json_t *obj)
{
	json_t *emb = json_object();
	const char *s;
	int v;

	if (get_int(im, "n-pages", &v) && v >= 1)
		json_object_set_new(obj, "pages", json_integer(v));
	/* pdfload renders at 72 dpi by default: pixels are points */
	json_object_set_new(obj, "page_width", json_integer(vips_image_get_width(im)));
	json_object_set_new(obj, "page_height", json_integer(vips_image_get_height(im)));
	if (get_string(im, "pdf-title", &s)) {
		media__set_text(obj, "title", s, strlen(s));
		media__set_text(emb, "title", s, strlen(s));
	}
	if (get_string(im, "pdf-author", &s)) {
		media__set_text(obj, "author", s, strlen(s));
		media__set_text(emb, "creator", s, strlen(s));
	}
	if (get_string(im, "pdf-subject", &s))
		media__set_text(emb, "description", s, strlen(s));
	if (get_string(im, "pdf-keywords", &s)) {
		json_t *kw = json_array();
		const char *p = s;

		while (*p) {
			size_t n = strcspn(p, ",;");
			json_t *w = media__json_text(p, n);

			if (w)
				json_array_append_new(kw, w);
			p += n + (p[n] != '\0');
		}
		if (json_array_size(kw))
			json_object_set_new(emb, "keywords", kw);
		else
			json_decref(kw);
	}
	if (json_object_size(emb))
		json_object_set_new(obj, "embedded", emb);
	else
		json_decref(emb);
}

/* Upper bound of bytes of an SVG file we scan for its root element. */
#define MEDIA_SVG_SCAN_MAX (1024 * 1024)

/* Reads up to MEDIA_SVG_SCAN_MAX bytes; *buf is malloc'ed. */
static int read_svg_head(int fd, char **buf, size_t *len, struct dam_err *err)
{
	size_t got = 0;

	*buf = malloc(MEDIA_SVG_SCAN_MAX);
	if (!*buf)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	while (got < MEDIA_SVG_SCAN_MAX) {
		ssize_t n = pread(fd, *buf + got, MEDIA_SVG_SCAN_MAX - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(*buf);
			*buf = NULL;
			return dam_err_errno(err, DAM_EIO, errno, "cannot read file");
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	return 0;
}

/* viewBox="min-x min-y width height", separated by spaces and/or commas */
static void probe_svg_viewbox(int fd, json_t *obj, struct dam_err *err)
{
	char *buf = NULL, vb[256], *p, *end;
	const char *tag, *val;
	size_t len = 0, tl, vl;
	double v[4];
	int i;

	if (read_svg_head(fd, &buf, &len, err) < 0)
		return; /* the image itself decoded: the viewBox is optional */
	if (!media__xml_root(buf, len, &tag, &tl) || !media__xml_attr(tag, tl, "viewBox", &val, &vl) ||
	    vl >= sizeof vb)
		goto out;
	media__xml_unescape(val, vl, vb, sizeof vb);
	p = vb;
	for (i = 0; i < 4; i++) {
		while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		v[i] = strtod(p, &end);
		if (end == p || !isfinite(v[i]))
			goto out;
		p = end;
	}
	if (v[2] > 0 && v[3] > 0)
		json_object_set_new(obj, "viewbox",
				    json_pack("[f,f,f,f]", v[0], v[1], v[2], v[3]));
out:
	free(buf);
}

static int probe_image(int fd, const struct media_sniff *sniff, const struct media_limits *lim,
		       json_t *obj, struct dam_err *err)
{
	VipsImage *im = NULL;
	int rc;

	if ((rc = media__open_image(fd, "", &im, err)) < 0)
		goto out;
	if ((rc = media__check_size(vips_image_get_width(im), vips_image_get_height(im), lim,
				    err)) < 0)
		goto out;
	if (!strcmp(sniff->mime, "application/pdf")) {
		probe_pdf_fields(im, obj);
		goto out;
	}
	probe_image_fields(im, obj);
	if (!strcmp(sniff->mime, "image/svg+xml"))
		probe_svg_viewbox(fd, obj, NULL);
out:
	if (im)
		g_object_unref(im);
	return rc;
}

int media_probe_fd(int fd, const struct media_sniff *sniff, const struct media_limits *lim,
		   json_t **out, struct dam_err *err)
{
	json_t *obj = json_object();
	int rc = 0;

	*out = NULL;
	if (!obj)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	json_object_set_new(obj, "kind", json_string(media_kind_name(sniff->kind)));
	media__set_text(obj, "mime", sniff->mime, strnlen(sniff->mime, sizeof sniff->mime));
	if (sniff->format[0])
		media__set_text(obj, "format", sniff->format,
				strnlen(sniff->format, sizeof sniff->format));
	switch (sniff->kind) {
	case MEDIA_IMAGE:
		rc = probe_image(fd, sniff, lim, obj, err);
		break;
	case MEDIA_DOCUMENT:
		if (!strcmp(sniff->mime, "application/pdf"))
			rc = probe_image(fd, sniff, lim, obj, err);
		break;
	case MEDIA_VIDEO:
	case MEDIA_AUDIO:
		rc = media__av_probe(fd, lim, obj, err);
		break;
	case MEDIA_OTHER:
		break;
	}
	if (rc < 0) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return 0;
}
