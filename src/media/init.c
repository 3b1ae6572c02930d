/*
 * init.c - starting libvips with only the loaders we trust.
 *
 * libvips 8.14 marks these loaders "untrusted": analyze, csv, fits, jp2k,
 * jxl, magick, mat, openexr, openslide, pdf, ppm, rad, raw, svg, vips.
 * We block them all and allow back only what a DAM must read:
 *   jxl  - JPEG XL is a delivery and camera format we accept;
 *   pdf  - (poppler) page previews of documents;
 *   svg  - (librsvg) previews of logos and drawings;
 *   magick - (ImageMagick: PSD and many rare formats) only when configured,
 *          as its attack surface is by far the largest.
 * libvips flags the JPEG XL saver untrusted along with the loader; it only
 * encodes pixels we made (delivery transforms), so it is allowed too.
 * The loaders trusted by libvips (jpeg, png, webp, gif, tiff, heif) stay on.
 */
#include "media/init.h"

#include <libavutil/log.h>
#include <string.h>

static bool g_inited;
static bool g_magick;

/* Loader base classes (cover the file, buffer and source variants). */
static const char *const allowed_untrusted[] = {
	"VipsForeignLoadJxl",
	"VipsForeignSaveJxl",
	"VipsForeignLoadPdf",
	"VipsForeignLoadSvg",
};

const char *media_kind_name(enum media_kind k)
{
	switch (k) {
	case MEDIA_IMAGE:
		return "image";
	case MEDIA_VIDEO:
		return "video";
	case MEDIA_AUDIO:
		return "audio";
	case MEDIA_DOCUMENT:
		return "document";
	case MEDIA_OTHER:
		break;
	}
	return "other";
}

void media_limits_default(struct media_limits *lim)
{
	memset(lim, 0, sizeof *lim);
	lim->max_pixels = 250ull * 1000 * 1000;
	lim->max_dimension = 50000;
	lim->max_video_seconds = 4 * 3600;
	lim->allow_magick = false;
}

bool media__magick_allowed(void)
{
	return g_magick;
}

int media__vips_err(struct dam_err *err, int code, const char *what)
{
	char msg[DAM_ERR_MSG_MAX];
	const char *buf = vips_error_buffer();
	size_t n;

	buf = buf ? buf : "";
	/* libheif's recovered over-reads are noise, not the cause */
	while (!strncmp(buf, "source: bad seek", 16) && strchr(buf, '\n'))
		buf = strchr(buf, '\n') + 1;
	snprintf(msg, sizeof msg, "%s", buf);
	/* keep the first line: later lines repeat the cause */
	n = strcspn(msg, "\n");
	msg[n] = '\0';
	vips_error_clear();
	return dam_err_set(err, code, NULL, "%s: %s", what, msg[0] ? msg : "unknown decoder error");
}

/*
 * Asked by GLib before it aborts on a message that is fatal (criticals
 * and warnings are, under the test runners' G_DEBUG=fatal-warnings).
 * libvips remarks on the file it decodes with warnings of its own log
 * domain that no option turns off: libvips 8.14 ends every JPEG read that
 * libjpeg warned about with "read gave N warnings" and the libjpeg text
 * (whatever fail_on says; the damaged file then fails with our own
 * message), and heifload says "ignoring nclx profile" for almost every
 * AVIF and HEIC (the colour description libheif writes by default). Those
 * describe untrusted input, not a fault of ours, so they only print.
 * Everything else stays fatal: a critical of any domain (a double unref
 * is GLib-GObject-CRITICAL, a bad argument to libvips VIPS-CRITICAL) and
 * warnings of GLib, GObject or any other library.
 */
static gboolean fatal_filter(const gchar *domain, GLogLevelFlags level, const gchar *msg,
			     gpointer data)
{
	(void)msg;
	(void)data;
	return !(domain && !strcmp(domain, "VIPS") &&
		 (level & G_LOG_LEVEL_MASK) == G_LOG_LEVEL_WARNING);
}

int media_init(const char *argv0, const struct media_limits *lim, struct dam_err *err)
{
	size_t i;

	if (g_inited) {
		/* A job child forked from a zygote that started before the
		 * library's allow_magick changed (dam config push): the child
		 * decides with the settings it read for its job. */
		bool want = lim && lim->allow_magick;
		if (want != g_magick)
			vips_operation_block_set("VipsForeignLoadMagick", !want);
		g_magick = want;
		return 0;
	}
	g_test_log_set_fatal_handler(fatal_filter, NULL);
	if (VIPS_INIT(argv0 ? argv0 : "dam"))
		return media__vips_err(err, DAM_EMEDIA, "cannot start libvips");
	vips_block_untrusted_set(TRUE);
	for (i = 0; i < sizeof allowed_untrusted / sizeof allowed_untrusted[0]; i++)
		vips_operation_block_set(allowed_untrusted[i], FALSE);
	g_magick = lim && lim->allow_magick;
	if (g_magick)
		vips_operation_block_set("VipsForeignLoadMagick", FALSE);
	/* Workers open each file once: caching operations only holds memory
	 * (and file names like /proc/self/fd/N would alias). */
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_cache_set_max_files(0);
	av_log_set_level(AV_LOG_QUIET);
	g_inited = true;
	return 0;
}

void media_shutdown(void)
{
	if (!g_inited)
		return;
	vips_shutdown();
	g_inited = false;
}
