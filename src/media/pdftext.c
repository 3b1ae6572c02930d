/*
 * pdftext.c - the text of a PDF's pages, for the search index.
 *
 * poppler-glib reads the document (the same library libvips renders PDF
 * pages with); runs in the worker's child process like every other reader
 * of untrusted files.
 */
#include "media/media.h"
#include "media/text.h"

#include <errno.h>
#include <poppler.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/strbuf.h"

/* Appends page text, cut at a whole UTF-8 character so out stays valid. */
static bool add_capped(struct strbuf *out, const char *t, size_t max)
{
	size_t n = strlen(t);

	if (out->len + n + 1 > max) {
		n = max > out->len + 1 ? max - out->len - 1 : 0;
		while (n && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
		strbuf_add(out, t, n);
		return false;
	}
	strbuf_add(out, t, n);
	strbuf_addch(out, '\n');
	return true;
}

int media_pdf_text(int fd, size_t max, char **out, struct dam_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	PopplerDocument *doc = NULL;
	GError *gerr = NULL;
	json_t *clean = NULL;
	int dfd, n, rc = 0;

	*out = NULL;
	if ((dfd = dup(fd)) < 0)
		return dam_err_set(err, DAM_EIO, NULL, "cannot read the PDF: %s", strerror(errno));
	if (lseek(dfd, 0, SEEK_SET) < 0) {
		close(dfd);
		return dam_err_set(err, DAM_EIO, NULL, "cannot read the PDF: %s", strerror(errno));
	}
	/* takes dfd, closed with the document (or at once on failure) */
	if (!(doc = poppler_document_new_from_fd(dfd, NULL, &gerr))) {
		rc = dam_err_set(err, DAM_EMEDIA, NULL, "the PDF's text cannot be read: %s",
				 gerr ? gerr->message : "unknown error");
		goto out;
	}
	n = poppler_document_get_n_pages(doc);
	for (int i = 0; i < n; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		char *t = page ? poppler_page_get_text(page) : NULL;
		bool more = !t || add_capped(&sb, t, max);
		g_free(t);
		if (page)
			g_object_unref(page);
		if (!more)
			break;
	}
	/* control characters (form feeds, NULs in broken files) become spaces */
	if (sb.len && !(clean = media__json_text(sb.buf, sb.len)))
		goto out;
	if (clean && !(*out = strdup(json_string_value(clean))))
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
out:
	json_decref(clean);
	if (gerr)
		g_error_free(gerr);
	if (doc)
		g_object_unref(doc);
	strbuf_release(&sb);
	return rc;
}
