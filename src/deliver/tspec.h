/*
 * tspec.h - the transform URL grammar (docs/delivery.md): parsing an options
 * segment such as "w_800,h_800,fit_cover,crop_smart,f_auto,q_80" into a
 * struct tspec, and printing a tspec back in canonical form (the form that
 * is signed and used as the rendition-cache key).
 *
 * Grammar: options separated by ','; each option is name '_' value; values
 * with several parts separate them with ':'. Names (each at most once):
 *   w_N h_N            box width/height, 1..16384
 *   fit_contain|cover|fill|inside
 *   crop_smart|focal|center|n|ne|e|se|s|sw|w|nw   (needs fit_cover)
 *   up_1..8            largest enlargement (decimal; default 1 = never enlarge;
 *                      transform.h gives the rule of each fit)
 *   rot_0|90|180|270   flip_h|v|hv
 *   bg_RRGGBB | bg_RRGGBBAA (hex)
 *   pad_N | pad_T:R:B:L  (0..2000 each)
 *   f_jpeg|jpg|png|webp|avif|jxl|auto     q_1..100
 *   dpr_1..4 (decimal, e.g. 1.5)   blur_0.3..100   sharpen_0..10 (0 = none)
 *   trim_1..255
 *   wm_ASSETID:GRAVITY:SCALE:OPACITY  (gravity as crop; scale 0.01..1; opacity 0..1)
 *   budget_N[k|m]      byte budget (1k .. 100m; k = 1024 bytes, m = 1024k)
 *   meta_none|copyright
 *   p_NAME             a preset ([a-z0-9-], 1..32); other options override it
 *   v_N                pin version N (1..); the URL is then immutable
 *   exp_UNIXSECONDS    the URL stops working after this time (1..253402300799)
 *   dl_1               deliver as an attachment (Content-Disposition)
 * A lone "_" or "raw" means "no options" (the preset-less identity).
 *
 * Pure text processing: no I/O, no allocation except in tspec_format()'s
 * strbuf. Thread-safe.
 */
#ifndef DAM_DELIVER_TSPEC_H
#define DAM_DELIVER_TSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/transform.h"
#include "util/err.h"
#include "util/id.h"
#include "util/strbuf.h"

/* Bits of tspec.set: which options the text named (so a preset can be
 * overlaid by explicit options, see tspec_overlay()). */
enum tspec_opt {
	TS_W = 1u << 0, TS_H = 1u << 1, TS_FIT = 1u << 2, TS_CROP = 1u << 3, TS_ROT = 1u << 4,
	TS_FLIP = 1u << 5, TS_BG = 1u << 6, TS_PAD = 1u << 7, TS_FMT = 1u << 8, TS_Q = 1u << 9,
	TS_DPR = 1u << 10, TS_BLUR = 1u << 11, TS_SHARPEN = 1u << 12, TS_TRIM = 1u << 13,
	TS_WM = 1u << 14, TS_BUDGET = 1u << 15, TS_META = 1u << 16, TS_PRESET = 1u << 17,
	TS_VERSION = 1u << 18, TS_EXP = 1u << 19, TS_DL = 1u << 20, TS_UP = 1u << 21,
};

struct tspec {
	struct media_transform t;     /* wm is always NULL here; the caller opens the
				         watermark's master */
	unsigned set;                 /* TS_* bits named in the text; without p_, an
				         option naming the default (fit_inside,
				         crop_center, rot_0, pad_0, dpr_1,
				         meta_copyright) changes nothing and is left
				         out, so it has no canonical text; with p_ it
				         stays, to override the preset */
	int nops;                     /* options named */
	char preset[33];              /* p_ value or "" */
	char wm_asset[DAM_ID_LEN + 1];/* wm_ asset id or "" */
	int version;                  /* v_ value, 0 = current */
	int64_t exp;                  /* exp_ value (unix seconds), 0 = none */
	bool download;                /* dl_1 */
};

struct tspec_limits {
	int max_ops;          /* refuse more options than this (default 16) */
	int max_side;         /* refuse w/h above this (default 16384) */
	unsigned formats;     /* allowed formats: bit (1u << enum media_format); AUTO
				 means "negotiate among the allowed ones" */
};

/* max_ops 16, max_side 16384, every format allowed. */
void tspec_limits_default(struct tspec_limits *lim);

/*
 * Parses text[0..len) into *out (reset first). Refuses unknown names,
 * repeated names, bad values, values out of range, disallowed formats,
 * more than lim->max_ops options, and contradictions (crop without
 * fit_cover, fit other than inside without both w and h when it needs a
 * box: contain/cover/fill need both), each with DAM_EINVAL and a message
 * that names the option and its 1-based character position, e.g.
 * "at 9: unknown option \"zz\"". err->field is "transform".
 * The contradiction rules apply only when no p_ is named: the preset may
 * supply the box or the fit, and after tspec_overlay() transform.h says
 * what a lone side (every fit is INSIDE) or a crop without COVER (ignored)
 * does. On error *out is reset to the defaults.
 */
int tspec_parse(const char *text, size_t len, const struct tspec_limits *lim, struct tspec *out,
		struct dam_err *err);

/*
 * Canonical text of s: the options in s->set in a fixed order (p w h fit
 * crop up dpr rot flip trim pad bg blur sharpen wm f q budget meta v exp dl),
 * numbers in shortest form, "jpg" printed as "jpeg"; "_" when nothing is
 * set. tspec_parse(tspec_format(s)) gives back an equal spec (all but
 * nops). Appends to sb. Returns 0, DAM_ENOMEM, or DAM_ELIMIT when sb->max
 * is reached.
 */
int tspec_format(const struct tspec *s, struct strbuf *sb);

/*
 * Lays the options set in `over` on top of `base` (a preset): every option
 * named in over->set replaces base's; `set` becomes the union. preset
 * name, version, exp and download come from `over` (values and bits);
 * nops becomes the number of bits in set.
 */
void tspec_overlay(struct tspec *base, const struct tspec *over);

/* Picks the output format for AUTO from an Accept header (may be NULL):
 * AVIF, then WebP, then JPEG, each only when allowed by formats (bits as in
 * tspec_limits) and, for AVIF/WebP, accepted explicitly ("image/avif" with
 * q > 0). Images with alpha should pass has_alpha so JPEG becomes PNG. */
enum media_format tspec_negotiate(const char *accept, unsigned formats, bool has_alpha);

#endif
