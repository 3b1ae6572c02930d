/*
 * ui_files.h - the web UI's files, embedded in the binary at build time.
 *
 * scripts/embed-ui.sh generates ui_files.c from web/dist/manifest.tsv (or,
 * when the UI was not built, a one-page placeholder saying how to build it).
 * Everything here is static data that lives as long as the process.
 */
#ifndef DAM_HTTP_UI_FILES_H
#define DAM_HTTP_UI_FILES_H

#include <stdbool.h>
#include <stddef.h>

struct ui_file {
	const char *path;               /* URL path, e.g. "/ui/static/app-3F2A9C1B.js"; "index.html" for the page */
	const char *content_type;
	const char *etag;               /* strong, quoted: "\"sha256-prefix\"" */
	bool immutable;                 /* the name carries a content hash: cache for a year */
	const unsigned char *data;
	size_t len;
	const unsigned char *gzip;      /* gzip -9 of data, or NULL when it would not shrink */
	size_t gzip_len;
};

/* NULL-path terminated. */
extern const struct ui_file ui_files[];

#endif
