/*
 * sniff.c - file type by content (libmagic), never by extension.
 *
 * One magic_t is loaded on first use and shared behind a mutex: loading the
 * database costs far more than a lookup, and magic_t is not thread-safe.
 * We read the head of the file with pread() (position untouched) and ask
 * magic_buffer(), so libmagic never reads the descriptor itself.
 */
#include "media/media.h"
#include "media/text.h"

#include <errno.h>
#include <magic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* libmagic's own tests look at most this far into a file */
#define SNIFF_BYTES (1024 * 1024)

/* What we know of a MIME type: its kind, short format name and the
 * extensions that fit it (first = the one to suggest). */
struct mime_info {
	const char *mime;
	enum media_kind kind;
	const char *format;
	const char *exts[6];
};

/* Container families share extensions: an .mov holding an ISO "mp42" brand
 * plays everywhere a .mov does, so that is no contradiction. */
#define ISOBMFF_EXTS { "mp4", "m4v", "mov", "m4a", "3gp", NULL }

static const struct mime_info mime_table[] = {
	{ "image/jpeg", MEDIA_IMAGE, "jpeg", { "jpg", "jpeg", "jpe", "jfif", NULL } },
	{ "image/png", MEDIA_IMAGE, "png", { "png", NULL } },
	{ "image/gif", MEDIA_IMAGE, "gif", { "gif", NULL } },
	{ "image/webp", MEDIA_IMAGE, "webp", { "webp", NULL } },
	{ "image/tiff", MEDIA_IMAGE, "tiff", { "tif", "tiff", NULL } },
	{ "image/heic", MEDIA_IMAGE, "heic", { "heic", "heif", "hif", NULL } },
	{ "image/heif", MEDIA_IMAGE, "heif", { "heif", "heic", "hif", NULL } },
	{ "image/avif", MEDIA_IMAGE, "avif", { "avif", NULL } },
	{ "image/jxl", MEDIA_IMAGE, "jxl", { "jxl", NULL } },
	{ "image/svg+xml", MEDIA_IMAGE, "svg", { "svg", NULL } },
	{ "image/vnd.adobe.photoshop", MEDIA_IMAGE, "psd", { "psd", "psb", NULL } },
	{ "image/bmp", MEDIA_IMAGE, "bmp", { "bmp", "dib", NULL } },
	{ "image/x-ms-bmp", MEDIA_IMAGE, "bmp", { "bmp", "dib", NULL } },
	{ "image/jp2", MEDIA_IMAGE, "jp2", { "jp2", "j2k", "jpf", NULL } },
	{ "image/x-icon", MEDIA_IMAGE, "ico", { "ico", NULL } },
	{ "image/vnd.microsoft.icon", MEDIA_IMAGE, "ico", { "ico", NULL } },
	{ "video/mp4", MEDIA_VIDEO, "mp4", ISOBMFF_EXTS },
	{ "video/quicktime", MEDIA_VIDEO, "mov", { "mov", "mp4", "m4v", "qt", NULL } },
	{ "video/3gpp", MEDIA_VIDEO, "3gp", ISOBMFF_EXTS },
	{ "video/webm", MEDIA_VIDEO, "webm", { "webm", "mkv", NULL } },
	{ "video/x-matroska", MEDIA_VIDEO, "mkv", { "mkv", "webm", "mka", NULL } },
	{ "video/x-msvideo", MEDIA_VIDEO, "avi", { "avi", NULL } },
	{ "video/mpeg", MEDIA_VIDEO, "mpeg", { "mpg", "mpeg", "m2v", "vob", NULL } },
	{ "video/mp2t", MEDIA_VIDEO, "ts", { "ts", "mts", "m2ts", NULL } },
	{ "video/ogg", MEDIA_VIDEO, "ogv", { "ogv", "ogg", NULL } },
	{ "audio/mpeg", MEDIA_AUDIO, "mp3", { "mp3", "mp2", "mpga", NULL } },
	{ "audio/x-wav", MEDIA_AUDIO, "wav", { "wav", "wave", NULL } },
	{ "audio/wav", MEDIA_AUDIO, "wav", { "wav", "wave", NULL } },
	{ "audio/flac", MEDIA_AUDIO, "flac", { "flac", NULL } },
	{ "audio/x-flac", MEDIA_AUDIO, "flac", { "flac", NULL } },
	{ "audio/ogg", MEDIA_AUDIO, "ogg", { "ogg", "oga", "opus", NULL } },
	{ "audio/mp4", MEDIA_AUDIO, "m4a", ISOBMFF_EXTS },
	{ "audio/x-m4a", MEDIA_AUDIO, "m4a", ISOBMFF_EXTS },
	{ "audio/x-aiff", MEDIA_AUDIO, "aiff", { "aif", "aiff", NULL } },
	{ "application/pdf", MEDIA_DOCUMENT, "pdf", { "pdf", NULL } },
	{ "application/msword", MEDIA_DOCUMENT, "doc", { "doc", "dot", NULL } },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	  MEDIA_DOCUMENT, "docx", { "docx", NULL } },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	  MEDIA_DOCUMENT, "xlsx", { "xlsx", NULL } },
	{ "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	  MEDIA_DOCUMENT, "pptx", { "pptx", NULL } },
	{ "application/vnd.ms-excel", MEDIA_DOCUMENT, "xls", { "xls", NULL } },
	{ "application/vnd.ms-powerpoint", MEDIA_DOCUMENT, "ppt", { "ppt", NULL } },
	{ "application/vnd.oasis.opendocument.text", MEDIA_DOCUMENT, "odt", { "odt", NULL } },
	{ "application/rtf", MEDIA_DOCUMENT, "rtf", { "rtf", NULL } },
	{ "text/rtf", MEDIA_DOCUMENT, "rtf", { "rtf", NULL } },
	{ "application/zip", MEDIA_OTHER, "zip", { "zip", NULL } },
	{ "font/sfnt", MEDIA_OTHER, "ttf", { "ttf", "otf", NULL } },
	{ "font/woff2", MEDIA_OTHER, "woff2", { "woff2", NULL } },
	{ "model/gltf-binary", MEDIA_OTHER, "glb", { "glb", NULL } },
};

#define N_MIME (sizeof mime_table / sizeof mime_table[0])

static pthread_mutex_t magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_db; /* loaded once, guarded by magic_lock */

static const struct mime_info *mime_lookup(const char *mime)
{
	size_t i;

	for (i = 0; i < N_MIME; i++)
		if (!strcasecmp(mime_table[i].mime, mime))
			return &mime_table[i];
	return NULL;
}

static bool info_has_ext(const struct mime_info *mi, const char *ext)
{
	size_t j;

	for (j = 0; j < sizeof mi->exts / sizeof mi->exts[0] && mi->exts[j]; j++)
		if (!strcasecmp(mi->exts[j], ext))
			return true;
	return false;
}

/* Some extension of the table: we only flag extensions we know, since an
 * unknown one (".final", ".bak") says nothing about the content. */
static bool ext_known(const char *ext)
{
	size_t i;

	for (i = 0; i < N_MIME; i++)
		if (info_has_ext(&mime_table[i], ext))
			return true;
	return false;
}

/* The extension of the last path component, or NULL. */
static const char *file_ext(const char *filename)
{
	const char *base, *dot;

	if (!filename)
		return NULL;
	base = strrchr(filename, '/');
	base = base ? base + 1 : filename;
	dot = strrchr(base, '.');
	if (!dot || dot == base || !dot[1] || strlen(dot + 1) > 10)
		return NULL;
	return dot + 1;
}

static enum media_kind kind_of(const char *mime)
{
	if (!strncmp(mime, "image/", 6))
		return MEDIA_IMAGE;
	if (!strncmp(mime, "video/", 6))
		return MEDIA_VIDEO;
	if (!strncmp(mime, "audio/", 6))
		return MEDIA_AUDIO;
	if (!strcmp(mime, "application/pdf"))
		return MEDIA_DOCUMENT;
	return MEDIA_OTHER;
}

/* Runs libmagic on the buffer; fills mime (never empty on success). */
static int magic_mime(const void *buf, size_t len, char *mime, size_t cap, struct dam_err *err)
{
	const char *m;
	int rc = 0;

	pthread_mutex_lock(&magic_lock);
	if (!magic_db) {
		magic_db = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
		if (magic_db && magic_load(magic_db, NULL) != 0) {
			rc = dam_err_set(err, DAM_EMEDIA, NULL, "cannot load libmagic database: %s",
					 magic_error(magic_db));
			magic_close(magic_db);
			magic_db = NULL;
			goto out;
		}
		if (!magic_db) {
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "cannot start libmagic");
			goto out;
		}
	}
	m = magic_buffer(magic_db, buf, len);
	snprintf(mime, cap, "%s", m ? m : "application/octet-stream");
out:
	pthread_mutex_unlock(&magic_lock);
	return rc;
}

/* Reads up to cap bytes from offset 0. Returns the count or -errno. */
static ssize_t read_head(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = pread(fd, buf + got, cap - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Classifies the first n bytes of a file (buf), named filename. */
static int sniff_head(const char *buf, ssize_t n, const char *filename, struct media_sniff *out,
		      struct dam_err *err)
{
	const struct mime_info *mi;
	const char *ext;
	int rc;

	if (n == 0) {
		snprintf(out->mime, sizeof out->mime, "application/x-empty");
	} else if ((rc = magic_mime(buf, (size_t)n, out->mime, sizeof out->mime, err)) < 0) {
		return rc;
	}
	/* libmagic names SVG without an XML declaration text/xml or text/plain */
	if ((!strncmp(out->mime, "text/", 5) || !strcmp(out->mime, "application/xml")) &&
	    media__is_svg(buf, (size_t)n))
		snprintf(out->mime, sizeof out->mime, "image/svg+xml");
	out->kind = kind_of(out->mime);
	mi = mime_lookup(out->mime);
	if (mi) {
		out->kind = mi->kind;
		snprintf(out->format, sizeof out->format, "%s", mi->format);
		snprintf(out->ext_expected, sizeof out->ext_expected, "%s", mi->exts[0]);
	}
	ext = file_ext(filename);
	if (ext && n > 0 && ext_known(ext) && !(mi && info_has_ext(mi, ext))) {
		out->ext_mismatch = true;
		snprintf(out->ext_given, sizeof out->ext_given, "%s", ext); /* known, so short */
	}
	return 0;
}

int media_sniff_fd(int fd, const char *filename, struct media_sniff *out, struct dam_err *err)
{
	char *buf = NULL;
	ssize_t n;
	int rc = 0;

	memset(out, 0, sizeof *out);
	buf = malloc(SNIFF_BYTES);
	if (!buf)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	n = read_head(fd, buf, SNIFF_BYTES);
	if (n < 0)
		rc = dam_err_errno(err, DAM_EIO, (int)-n, "cannot read file");
	else
		rc = sniff_head(buf, n, filename, out, err);
	free(buf);
	return rc;
}

int media_sniff_reader(struct blob_reader *r, const char *filename, struct media_sniff *out,
		       struct dam_err *err)
{
	char *buf = NULL;
	ssize_t n;
	int rc;

	memset(out, 0, sizeof *out);
	buf = malloc(SNIFF_BYTES);
	if (!buf)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if ((n = blob_reader_pread(r, buf, SNIFF_BYTES, 0, err)) < 0)
		rc = (int)n;
	else
		rc = sniff_head(buf, n, filename, out, err);
	free(buf);
	return rc;
}

bool media_sniff_warning(const struct media_sniff *s, char *out, size_t cap)
{
	out[0] = '\0';
	if (!s->ext_mismatch)
		return false;
	snprintf(out, cap, "the content is %s, but the name ends in .%s%s%s%s", s->mime, s->ext_given,
		 s->ext_expected[0] ? "; ." : "", s->ext_expected, s->ext_expected[0] ? " would fit" : "");
	return true;
}
