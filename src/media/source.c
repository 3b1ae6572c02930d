/* source.c - libvips reading through a blob_reader (source.h). */
#include <stdio.h>

#include "media/source.h"

/* Each source has its own position, so several images loaded from one
 * reader (the pages of a pyramid) and several threads read independently:
 * every read is a pread of exactly the bytes libvips asks for, which on an
 * object store is one ranged GET, so a tile needs only its own bytes. */
struct rsrc {
	struct blob_reader *r;
	gint64 pos;
};

static gint64 rsrc_read(VipsSourceCustom *s, void *buf, gint64 len, void *data)
{
	struct rsrc *p = data;
	ssize_t n;

	(void)s;
	if (len <= 0)
		return 0;
	if ((n = blob_reader_pread(p->r, buf, (size_t)len, (uint64_t)p->pos, NULL)) < 0)
		return -1;
	p->pos += n;
	return n;
}

static gint64 rsrc_seek(VipsSourceCustom *s, gint64 off, int whence, void *data)
{
	struct rsrc *p = data;
	gint64 base;

	(void)s;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = p->pos;
		break;
	case SEEK_END:
		base = (gint64)blob_reader_size(p->r);
		break;
	default:
		return -1;
	}
	if (base + off < 0)
		return -1;
	p->pos = base + off;
	return p->pos;
}

static void rsrc_free(void *data, GClosure *closure)
{
	(void)closure;
	g_free(data);
}

VipsSource *media__reader_source(struct blob_reader *r)
{
	VipsSourceCustom *src = vips_source_custom_new();
	struct rsrc *p;

	if (!src)
		return NULL;
	p = g_new0(struct rsrc, 1);
	p->r = r;
	g_signal_connect_data(src, "read", G_CALLBACK(rsrc_read), p, rsrc_free, 0);
	g_signal_connect(src, "seek", G_CALLBACK(rsrc_seek), p);
	return VIPS_SOURCE(src);
}
