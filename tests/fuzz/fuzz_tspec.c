/*
 * libFuzzer target for the transform URL grammar: parse arbitrary bytes
 * (with every format allowed, and again with a narrow limit set); when they
 * parse, print the canonical form, parse that, and abort when the spec or
 * the canonical text changes. Errors must carry DAM_EINVAL, the field
 * "transform" and an "at N: " position inside the input (or just past it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/tspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct tspec *a, const struct tspec *b)
{
	const struct media_transform *x = &a->t, *y = &b->t;

	return a->set == b->set && !strcmp(a->preset, b->preset) && !strcmp(a->wm_asset, b->wm_asset) &&
	       a->version == b->version && a->exp == b->exp && a->download == b->download &&
	       x->width == y->width && x->height == y->height && x->fit == y->fit && x->crop == y->crop &&
	       x->gravity == y->gravity && x->rotate == y->rotate && x->flip_h == y->flip_h &&
	       x->flip_v == y->flip_v && x->bg_set == y->bg_set && !memcmp(x->bg, y->bg, 4) &&
	       !memcmp(x->pad, y->pad, sizeof x->pad) && x->format == y->format &&
	       x->quality == y->quality && x->dpr == y->dpr && x->blur == y->blur &&
	       x->sharpen == y->sharpen && x->trim == y->trim && x->max_bytes == y->max_bytes &&
	       x->strip_all == y->strip_all && x->wm == y->wm && x->wm_gravity == y->wm_gravity &&
	       x->wm_scale == y->wm_scale && x->wm_opacity == y->wm_opacity;
}

static void check_error(const struct dam_err *err, size_t size)
{
	long at;
	char *end;

	if (err->code != DAM_EINVAL || strcmp(err->field, "transform") || strncmp(err->msg, "at ", 3))
		abort();
	at = strtol(err->msg + 3, &end, 10);
	if (end[0] != ':' || end[1] != ' ' || at < 1 || (size_t)at > size + 1 || !end[2])
		abort();
}

static void one(const uint8_t *data, size_t size, const struct tspec_limits *lim)
{
	struct tspec a, b;
	struct dam_err err = { 0 };
	struct strbuf s1 = STRBUF_INIT, s2 = STRBUF_INIT;

	if (tspec_parse((const char *)data, size, lim, &a, &err) < 0) {
		check_error(&err, size);
		return;
	}
	if (a.nops > lim->max_ops || a.t.wm != NULL)
		abort();
	if (tspec_format(&a, &s1) < 0 || tspec_parse(s1.buf, s1.len, lim, &b, &err) < 0) {
		fprintf(stderr, "canonical form does not parse: %s (%s)\n", s1.buf, err.msg);
		abort();
	}
	if (tspec_format(&b, &s2) < 0 || strcmp(s1.buf, s2.buf) || !same(&a, &b)) {
		fprintf(stderr, "canonical forms differ: %s / %s\n", s1.buf, s2.buf);
		abort();
	}
	strbuf_release(&s1);
	strbuf_release(&s2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tspec_limits lim;
	struct tspec over;

	tspec_limits_default(&lim);
	one(data, size, &lim);
	lim.max_ops = 4;
	lim.max_side = 1000;
	lim.formats = 1u << MEDIA_FMT_JPEG | 1u << MEDIA_FMT_WEBP | 1u << MEDIA_FMT_AUTO;
	one(data, size, &lim);
	/* negotiation reads the bytes as an Accept header and must pick an
	 * allowed format whenever one is allowed */
	if (size < 4096) {
		char accept[4096];
		memcpy(accept, data, size);
		accept[size] = '\0';
		enum media_format f = tspec_negotiate(accept, lim.formats, size & 1);
		if (!(lim.formats & (1u << f)))
			abort();
	}
	/* overlay onto a preset must give a spec that round-trips (the union
	 * may name more options than one URL may) */
	tspec_limits_default(&lim);
	if (tspec_parse((const char *)data, size, &lim, &over, NULL) == 0 && (over.set & TS_PRESET)) {
		lim.max_ops = 32;
		struct tspec base, c;
		struct strbuf s1 = STRBUF_INIT, s2 = STRBUF_INIT;
		static const char preset[] = "w_800,h_800,fit_cover,crop_smart,bg_ffffff,q_80,sharpen_0";
		if (tspec_parse(preset, sizeof preset - 1, &lim, &base, NULL) < 0)
			abort();
		tspec_overlay(&base, &over);
		if (tspec_format(&base, &s1) < 0 || tspec_parse(s1.buf, s1.len, &lim, &c, NULL) < 0 ||
		    tspec_format(&c, &s2) < 0 || strcmp(s1.buf, s2.buf) || !same(&base, &c)) {
			fprintf(stderr, "overlay does not round-trip: %s / %s\n", s1.buf, s2.buf);
			abort();
		}
		strbuf_release(&s1);
		strbuf_release(&s2);
	}
	return 0;
}
