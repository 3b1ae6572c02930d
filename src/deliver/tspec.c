/*
 * tspec.c - the transform URL grammar (see tspec.h, docs/delivery.md).
 *
 * One table drives everything: each option has a name, its TS_* bit, a
 * value parser and a printer, and the table's order is the canonical
 * order. Parsing walks the comma-separated options left to right and
 * reports the first problem with the 1-based character position of the
 * option at fault; whole-spec rules (contradictions) are checked at the
 * end. Numbers are read and written without the C library's
 * locale-dependent strtod/printf("%f"), so the canonical text is the same
 * in every process whatever setlocale() a library called.
 */
#include "deliver/tspec.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

#define TSPEC_MAX_LEN 1024
#define MAX_DIGITS 15 /* significant digits of a decimal: exact in a double */
#define EXP_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define BUDGET_MIN INT64_C(1024)
#define BUDGET_MAX (INT64_C(100) << 20)

struct parser {
	const char *s;
	size_t len;
	const struct tspec_limits *lim;
	struct tspec *out;
	struct dam_err *err;
	size_t b;          /* byte offset of the option being parsed */
	size_t at[32];     /* byte offset of each named option, by TS_* bit index */
};

/* ---- words ---- */

static const char *const fit_words[] = { "inside", "contain", "cover", "fill", NULL };
/* Index = enum media_gravity. */
static const char *const grav_words[] = { "center", "n", "ne", "e", "se", "s", "sw", "w", "nw", NULL };
static const char *const crop_words[] = { "smart", "focal", "center", "n", "ne", "e", "se", "s",
					  "sw", "w", "nw", NULL };
static const char *const rot_words[] = { "0", "90", "180", "270", NULL };
static const char *const flip_words[] = { "h", "v", "hv", NULL };
static const char *const meta_words[] = { "copyright", "none", NULL };

/* Input names; the first name of a format is the one printed. */
static const struct {
	const char *name;
	enum media_format f;
} fmt_names[] = {
	{ "jpeg", MEDIA_FMT_JPEG }, { "jpg", MEDIA_FMT_JPEG }, { "png", MEDIA_FMT_PNG },
	{ "webp", MEDIA_FMT_WEBP }, { "avif", MEDIA_FMT_AVIF }, { "jxl", MEDIA_FMT_JXL },
	{ "auto", MEDIA_FMT_AUTO },
};

#define NFORMATS (sizeof fmt_names / sizeof fmt_names[0])

static const char *format_name(enum media_format f)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (fmt_names[i].f == f)
			return fmt_names[i].name;
	return "jpeg";
}

static int word(const char *v, size_t n, const char *const *words)
{
	for (int i = 0; words[i]; i++)
		if (strlen(words[i]) == n && !memcmp(words[i], v, n))
			return i;
	return -1;
}

/* "a, b, c" into buf. */
static const char *word_list(char *buf, size_t size, const char *const *words)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; words[i] && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", words[i]);
	return buf;
}

/* ---- numbers ---- */

static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
				1e12, 1e13, 1e14, 1e15 };

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Digits only; values beyond 18 digits come out as INT64_MAX (out of any
 * range). False on anything that is not a digit, or no digits. */
static bool parse_int(const char *v, size_t n, int64_t *out)
{
	int64_t x = 0;
	int digits = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return false;
		if (x == 0 && v[i] == '0')
			continue;
		if (++digits > 18)
			x = INT64_MAX;
		else
			x = x * 10 + (v[i] - '0');
	}
	*out = x;
	return true;
}

enum { DEC_OK = 0, DEC_SYNTAX = -1, DEC_DIGITS = -2 };

/*
 * DIGITS [ '.' DIGITS ] with at most 15 significant digits (leading and
 * trailing zeros do not count). The value is m / 10^k with both exact in a
 * double, so the one division rounds correctly: the same text always gives
 * the same double, and fmt_dec() finds that text again.
 */
static int parse_dec(const char *v, size_t n, double *out)
{
	size_t i = 0, ie, fb, fe;
	uint64_t m = 0;
	int sig = 0;

	while (i < n && is_digit(v[i]))
		i++;
	ie = i;
	if (ie == 0)
		return DEC_SYNTAX;
	fb = fe = n;
	if (i < n) {
		if (v[i++] != '.')
			return DEC_SYNTAX;
		fb = i;
		while (i < n && is_digit(v[i]))
			i++;
		if (i != n || i == fb)
			return DEC_SYNTAX;
		while (fe > fb && v[fe - 1] == '0')
			fe--;
	}
	if (fe - fb > MAX_DIGITS)
		return DEC_DIGITS;
	for (i = 0; i < fe; i++) {
		if (i >= ie && i < fb)
			continue; /* the '.' */
		if (m == 0 && v[i] == '0')
			continue;
		if (++sig > MAX_DIGITS)
			return DEC_DIGITS;
		m = m * 10 + (uint64_t)(v[i] - '0');
	}
	*out = (double)m / pow10[fe - fb];
	return DEC_OK;
}

/* m with k decimals ("1234", 2 -> "12.34"), trailing fraction zeros cut. */
static void put_fixed(char out[40], uint64_t m, int k)
{
	char d[24];
	int n = snprintf(d, sizeof d, "%llu", (unsigned long long)m), o = 0;

	while (k > 0 && n > 1 && m % 10 == 0) {
		m /= 10;
		k--;
		d[--n] = '\0';
	}
	if (n <= k) { /* 0.0xyz */
		out[o++] = '0';
		out[o++] = '.';
		for (int z = 0; z < k - n; z++)
			out[o++] = '0';
		memcpy(out + o, d, (size_t)n + 1);
		return;
	}
	memcpy(out, d, (size_t)(n - k));
	o = n - k;
	if (k) {
		out[o++] = '.';
		memcpy(out + o, d + n - k, (size_t)k);
		o += k;
	}
	out[o] = '\0';
}

/*
 * The shortest plain decimal that parse_dec() reads back as exactly v.
 * Every value parse_dec() makes has one; any other value is printed with
 * 15 significant digits. Negative and non-finite values (never in a
 * parsed spec) print as 0.
 */
static const char *fmt_dec(char out[40], double v)
{
	uint64_t m = 0;
	int last = 0;

	if (!(v > 0 && v < pow10[MAX_DIGITS])) {
		memcpy(out, "0", 2);
		return out;
	}
	for (int k = 0; k <= MAX_DIGITS; k++) {
		double sc = v * pow10[k];
		if (sc >= pow10[MAX_DIGITS])
			break;
		m = (uint64_t)llround(sc);
		last = k;
		if ((double)m / pow10[k] == v)
			break;
	}
	put_fixed(out, m, m ? last : 0);
	return out;
}

/* ---- errors ---- */

/* 1-based character position of byte offset pos (UTF-8 code points, so a
 * person counting characters in the URL finds the spot). */
static int column(const struct parser *ps, size_t pos)
{
	return utf8_column(ps->s, ps->len, pos);
}

static int fail_at(struct parser *ps, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct parser *ps, size_t pos, const char *fmt, ...)
{
	char msg[DAM_ERR_MSG_MAX - 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return dam_err_set(ps->err, DAM_EINVAL, "transform", "at %d: %s", column(ps, pos), msg);
}

/* An error about the option being parsed. */
#define fail(ps, ...) fail_at((ps), (ps)->b, __VA_ARGS__)

/* User text quoted in a message: printable ASCII kept, other bytes as
 * \xNN, at most 24 bytes of input, "..." when cut. */
static const char *snip(char buf[120], const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && i < 24; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
	}
	memcpy(buf + o, n > 24 ? "..." : "", n > 24 ? 4 : 1);
	return buf;
}

/* ---- option values ---- */

typedef int (*opt_parse_fn)(struct parser *ps, const char *v, size_t n);
typedef int (*opt_print_fn)(const struct tspec *s, struct strbuf *sb);

static int int_opt(struct parser *ps, const char *name, const char *v, size_t n, int64_t lo,
		   int64_t hi, int64_t *out)
{
	if (!parse_int(v, n, out) || *out < lo || *out > hi)
		return fail(ps, "%s must be a whole number from %lld to %lld", name, (long long)lo,
			    (long long)hi);
	return 0;
}

static int dec_opt(struct parser *ps, const char *name, const char *v, size_t n, double lo,
		   double hi, const char *like, double *out)
{
	char a[40], b[40];
	int rc = parse_dec(v, n, out);

	if (rc == DEC_DIGITS)
		return fail(ps, "%s has more than %d significant digits", name, MAX_DIGITS);
	if (rc < 0 || *out < lo || *out > hi)
		return fail(ps, "%s must be a number from %s to %s, like %s", name, fmt_dec(a, lo),
			    fmt_dec(b, hi), like);
	return 0;
}

static int word_opt(struct parser *ps, const char *name, const char *v, size_t n,
		    const char *const *words)
{
	char list[200];
	int i = word(v, n, words);

	if (i < 0)
		return fail(ps, "%s must be one of %s", name, word_list(list, sizeof list, words));
	return i;
}

static int p_w(struct parser *ps, const char *v, size_t n)
{
	int64_t x = 0;
	int rc = int_opt(ps, "w", v, n, 1, ps->lim->max_side, &x);

	ps->out->t.width = (int)x;
	return rc;
}

static int p_h(struct parser *ps, const char *v, size_t n)
{
	int64_t x = 0;
	int rc = int_opt(ps, "h", v, n, 1, ps->lim->max_side, &x);

	ps->out->t.height = (int)x;
	return rc;
}

static int p_fit(struct parser *ps, const char *v, size_t n)
{
	static const char *const listed[] = { "contain", "cover", "fill", "inside", NULL };
	char list[80];
	int i = word(v, n, fit_words);

	if (i < 0)
		return fail(ps, "fit must be one of %s", word_list(list, sizeof list, listed));
	ps->out->t.fit = (enum media_fit)i;
	return 0;
}

static int p_crop(struct parser *ps, const char *v, size_t n)
{
	int i = word_opt(ps, "crop", v, n, crop_words);
	struct media_transform *t = &ps->out->t;

	if (i < 0)
		return i;
	if (i == 0)
		t->crop = MEDIA_CROP_SMART;
	else if (i == 1)
		t->crop = MEDIA_CROP_FOCAL;
	else if (i == 2)
		t->crop = MEDIA_CROP_CENTER;
	else
		t->crop = MEDIA_CROP_GRAVITY, t->gravity = (enum media_gravity)(i - 2);
	return 0;
}

static int p_rot(struct parser *ps, const char *v, size_t n)
{
	int i = word_opt(ps, "rot", v, n, rot_words);

	if (i >= 0)
		ps->out->t.rotate = 90 * i;
	return i < 0 ? i : 0;
}

static int p_flip(struct parser *ps, const char *v, size_t n)
{
	int i = word_opt(ps, "flip", v, n, flip_words);

	if (i >= 0) {
		ps->out->t.flip_h = i != 1;
		ps->out->t.flip_v = i != 0;
	}
	return i < 0 ? i : 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int p_bg(struct parser *ps, const char *v, size_t n)
{
	uint8_t rgba[4] = { 0, 0, 0, 255 };

	if (n != 6 && n != 8)
		goto bad;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(v[i]), lo = hexval(v[i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		rgba[i / 2] = (uint8_t)(hi * 16 + lo);
	}
	ps->out->t.bg_set = true;
	memcpy(ps->out->t.bg, rgba, 4);
	return 0;
bad:
	return fail(ps, "bg must be a hex colour RRGGBB or RRGGBBAA, like ffffff or 00000080");
}

static int p_pad(struct parser *ps, const char *v, size_t n)
{
	int64_t x[4];
	size_t b = 0;
	int k = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] != ':')
			continue;
		if (k == 4 || !parse_int(v + b, i - b, &x[k]) || x[k] > 2000)
			goto bad;
		k++;
		b = i + 1;
	}
	if (k != 1 && k != 4)
		goto bad;
	for (int i = 0; i < 4; i++)
		ps->out->t.pad[i] = (int)x[k == 1 ? 0 : i];
	return 0;
bad:
	return fail(ps, "pad must be N or TOP:RIGHT:BOTTOM:LEFT, each a whole number from 0 to 2000");
}

/* "jpeg, png, ..." of the allowed formats, aliases left out. */
static size_t allowed_formats(char *buf, size_t size, unsigned allowed)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NFORMATS && o < size; i++)
		if ((allowed & (1u << fmt_names[i].f)) && format_name(fmt_names[i].f) == fmt_names[i].name)
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "", fmt_names[i].name);
	return o;
}

static int p_f(struct parser *ps, const char *v, size_t n)
{
	char list[80];
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (strlen(fmt_names[i].name) == n && !memcmp(fmt_names[i].name, v, n))
			break;
	if (i < NFORMATS && (ps->lim->formats & (1u << fmt_names[i].f))) {
		ps->out->t.format = fmt_names[i].f;
		return 0;
	}
	if (!allowed_formats(list, sizeof list, ps->lim->formats))
		return fail(ps, "no output format is allowed here");
	if (i < NFORMATS)
		return fail(ps, "f_%s is not allowed here; f must be one of %s", fmt_names[i].name, list);
	return fail(ps, "f must be one of %s", list);
}

static int p_q(struct parser *ps, const char *v, size_t n)
{
	int64_t x = 0;
	int rc = int_opt(ps, "q", v, n, 1, 100, &x);

	ps->out->t.quality = (int)x;
	return rc;
}

static int p_dpr(struct parser *ps, const char *v, size_t n)
{
	return dec_opt(ps, "dpr", v, n, 1, 4, "1.5", &ps->out->t.dpr);
}

static int p_up(struct parser *ps, const char *v, size_t n)
{
	return dec_opt(ps, "up", v, n, 1, 8, "1.5", &ps->out->t.up);
}

static int p_blur(struct parser *ps, const char *v, size_t n)
{
	return dec_opt(ps, "blur", v, n, 0.3, 100, "2", &ps->out->t.blur);
}

static int p_sharpen(struct parser *ps, const char *v, size_t n)
{
	int rc = dec_opt(ps, "sharpen", v, n, 0, 10, "1", &ps->out->t.sharpen);

	if (rc == 0 && ps->out->t.sharpen == 0)
		ps->out->t.sharpen = -1; /* sharpen_0: none at all (transform.h: < 0) */
	return rc;
}

static int p_trim(struct parser *ps, const char *v, size_t n)
{
	int64_t x = 0;
	int rc = int_opt(ps, "trim", v, n, 1, 255, &x);

	ps->out->t.trim = (int)x;
	return rc;
}

/* wm_ASSETID:GRAVITY:SCALE:OPACITY */
static int p_wm(struct parser *ps, const char *v, size_t n)
{
	const char *part[4];
	size_t plen[4], b = 0;
	char id[DAM_ID_LEN + 1], list[80];
	struct media_transform *t = &ps->out->t;
	int k = 0, g;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] != ':')
			continue;
		if (k == 4)
			goto shape;
		part[k] = v + b;
		plen[k++] = i - b;
		b = i + 1;
	}
	if (k != 4)
		goto shape;
	if (plen[0] != DAM_ID_LEN)
		goto badid;
	memcpy(id, part[0], DAM_ID_LEN);
	id[DAM_ID_LEN] = '\0';
	if (!id_valid(id))
		goto badid;
	if ((g = word(part[1], plen[1], grav_words)) < 0)
		return fail(ps, "the wm gravity must be one of %s",
			    word_list(list, sizeof list, grav_words));
	if (parse_dec(part[2], plen[2], &t->wm_scale) != DEC_OK || t->wm_scale < 0.01 ||
	    t->wm_scale > 1)
		return fail(ps, "the wm scale must be a number from 0.01 to 1, like 0.2");
	if (parse_dec(part[3], plen[3], &t->wm_opacity) != DEC_OK || t->wm_opacity > 1)
		return fail(ps, "the wm opacity must be a number from 0 to 1, like 0.5");
	memcpy(ps->out->wm_asset, id, sizeof id);
	t->wm_gravity = (enum media_gravity)g;
	return 0;
shape:
	return fail(ps, "wm must be ASSETID:GRAVITY:SCALE:OPACITY, like wm_<uuid>:se:0.2:0.5");
badid:
	return fail(ps, "the wm asset id must be a 36-character lowercase UUID");
}

static int p_budget(struct parser *ps, const char *v, size_t n)
{
	int64_t x = 0, mult = 1;

	if (n > 1 && (v[n - 1] == 'k' || v[n - 1] == 'm'))
		mult = v[--n] == 'k' ? 1024 : 1024 * 1024;
	if (!parse_int(v, n, &x) || x > BUDGET_MAX || x * mult < BUDGET_MIN || x * mult > BUDGET_MAX)
		return fail(ps, "budget must be a byte count from 1k to 100m (k = 1024 bytes, "
			    "m = 1024k), like 500k");
	ps->out->t.max_bytes = x * mult;
	return 0;
}

static int p_meta(struct parser *ps, const char *v, size_t n)
{
	int i = word_opt(ps, "meta", v, n, meta_words);

	if (i >= 0)
		ps->out->t.strip_all = i == 1;
	return i < 0 ? i : 0;
}

static int p_p(struct parser *ps, const char *v, size_t n)
{
	bool ok = n >= 1 && n < sizeof ps->out->preset;

	for (size_t i = 0; ok && i < n; i++)
		ok = (v[i] >= 'a' && v[i] <= 'z') || is_digit(v[i]) || v[i] == '-';
	if (!ok)
		return fail(ps, "p must be a preset name of 1 to 32 characters a-z, 0-9 and '-'");
	memcpy(ps->out->preset, v, n);
	ps->out->preset[n] = '\0';
	return 0;
}

static int p_v(struct parser *ps, const char *v, size_t n)
{
	int64_t x = 0;
	int rc = int_opt(ps, "v", v, n, 1, INT32_MAX, &x);

	ps->out->version = (int)x;
	return rc;
}

static int p_exp(struct parser *ps, const char *v, size_t n)
{
	if (!parse_int(v, n, &ps->out->exp) || ps->out->exp < 1 || ps->out->exp > EXP_MAX)
		return fail(ps, "exp must be a unix time in seconds from 1 to %lld",
			    (long long)EXP_MAX);
	return 0;
}

static int p_dl(struct parser *ps, const char *v, size_t n)
{
	if (n != 1 || v[0] != '1')
		return fail(ps, "dl must be 1");
	ps->out->download = true;
	return 0;
}

/* ---- printing ---- */

static int w_w(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_addf(sb, "w_%d", s->t.width);
}

static int w_h(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_addf(sb, "h_%d", s->t.height);
}

static int w_fit(const struct tspec *s, struct strbuf *sb)
{
	unsigned f = (unsigned)s->t.fit;

	return strbuf_addf(sb, "fit_%s", f < 4 ? fit_words[f] : "inside");
}

static const char *grav_name(enum media_gravity g)
{
	return (unsigned)g < 9 ? grav_words[g] : "center";
}

static int w_crop(const struct tspec *s, struct strbuf *sb)
{
	const char *c = s->t.crop == MEDIA_CROP_SMART ? "smart" :
			s->t.crop == MEDIA_CROP_FOCAL ? "focal" :
			s->t.crop == MEDIA_CROP_GRAVITY ? grav_name(s->t.gravity) : "center";

	return strbuf_addf(sb, "crop_%s", c);
}

static int w_rot(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_addf(sb, "rot_%d", s->t.rotate);
}

static int w_flip(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_addf(sb, "flip_%s%s", s->t.flip_h ? "h" : "", s->t.flip_v ? "v" : "");
}

static int w_bg(const struct tspec *s, struct strbuf *sb)
{
	int rc = strbuf_adds(sb, "bg_");

	return rc ? rc : strbuf_addhex(sb, s->t.bg, s->t.bg[3] == 255 ? 3 : 4);
}

static int w_pad(const struct tspec *s, struct strbuf *sb)
{
	const int *p = s->t.pad;

	if (p[0] == p[1] && p[0] == p[2] && p[0] == p[3])
		return strbuf_addf(sb, "pad_%d", p[0]);
	return strbuf_addf(sb, "pad_%d:%d:%d:%d", p[0], p[1], p[2], p[3]);
}

static int w_f(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_addf(sb, "f_%s", format_name(s->t.format));
}

static int w_q(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_addf(sb, "q_%d", s->t.quality);
}

static int w_dpr(const struct tspec *s, struct strbuf *sb)
{
	char d[40];

	return strbuf_addf(sb, "dpr_%s", fmt_dec(d, s->t.dpr));
}

static int w_up(const struct tspec *s, struct strbuf *sb)
{
	char d[40];

	return strbuf_addf(sb, "up_%s", fmt_dec(d, s->t.up < 1 ? 1 : s->t.up));
}

static int w_blur(const struct tspec *s, struct strbuf *sb)
{
	char d[40];

	return strbuf_addf(sb, "blur_%s", fmt_dec(d, s->t.blur));
}

static int w_sharpen(const struct tspec *s, struct strbuf *sb)
{
	char d[40];

	return strbuf_addf(sb, "sharpen_%s", fmt_dec(d, s->t.sharpen < 0 ? 0 : s->t.sharpen));
}

static int w_trim(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_addf(sb, "trim_%d", s->t.trim);
}

static int w_wm(const struct tspec *s, struct strbuf *sb)
{
	char a[40], b[40];

	return strbuf_addf(sb, "wm_%s:%s:%s:%s", s->wm_asset, grav_name(s->t.wm_gravity),
			   fmt_dec(a, s->t.wm_scale), fmt_dec(b, s->t.wm_opacity));
}

static int w_budget(const struct tspec *s, struct strbuf *sb)
{
	int64_t b = s->t.max_bytes;

	if (b % (1024 * 1024) == 0)
		return strbuf_addf(sb, "budget_%lldm", (long long)(b >> 20));
	if (b % 1024 == 0)
		return strbuf_addf(sb, "budget_%lldk", (long long)(b >> 10));
	return strbuf_addf(sb, "budget_%lld", (long long)b);
}

static int w_meta(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_adds(sb, s->t.strip_all ? "meta_none" : "meta_copyright");
}

static int w_p(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_addf(sb, "p_%s", s->preset);
}

static int w_v(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_addf(sb, "v_%d", s->version);
}

static int w_exp(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_addf(sb, "exp_%lld", (long long)s->exp);
}

static int w_dl(const struct tspec *s, struct strbuf *sb)
{
	return strbuf_adds(sb, "dl_1");
}

/* ---- the option table, in canonical order ---- */

struct option {
	const char *name;
	unsigned bit;
	opt_parse_fn parse;
	opt_print_fn print;
	const char *example;
};

static const struct option options[] = {
	{ "p", TS_PRESET, p_p, w_p, "p_tmall" },
	{ "w", TS_W, p_w, w_w, "w_800" },
	{ "h", TS_H, p_h, w_h, "h_800" },
	{ "fit", TS_FIT, p_fit, w_fit, "fit_cover" },
	{ "crop", TS_CROP, p_crop, w_crop, "crop_smart" },
	{ "up", TS_UP, p_up, w_up, "up_1.5" },
	{ "dpr", TS_DPR, p_dpr, w_dpr, "dpr_2" },
	{ "rot", TS_ROT, p_rot, w_rot, "rot_90" },
	{ "flip", TS_FLIP, p_flip, w_flip, "flip_h" },
	{ "trim", TS_TRIM, p_trim, w_trim, "trim_10" },
	{ "pad", TS_PAD, p_pad, w_pad, "pad_20" },
	{ "bg", TS_BG, p_bg, w_bg, "bg_ffffff" },
	{ "blur", TS_BLUR, p_blur, w_blur, "blur_5" },
	{ "sharpen", TS_SHARPEN, p_sharpen, w_sharpen, "sharpen_1" },
	{ "wm", TS_WM, p_wm, w_wm, "wm_<uuid>:se:0.2:0.5" },
	{ "f", TS_FMT, p_f, w_f, "f_auto" },
	{ "q", TS_Q, p_q, w_q, "q_80" },
	{ "budget", TS_BUDGET, p_budget, w_budget, "budget_500k" },
	{ "meta", TS_META, p_meta, w_meta, "meta_none" },
	{ "v", TS_VERSION, p_v, w_v, "v_3" },
	{ "exp", TS_EXP, p_exp, w_exp, "exp_1800000000" },
	{ "dl", TS_DL, p_dl, w_dl, "dl_1" },
};

#define NOPTIONS (sizeof options / sizeof options[0])

static const struct option *find_option(const char *name, size_t n)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strlen(options[i].name) == n && !memcmp(options[i].name, name, n))
			return &options[i];
	return NULL;
}

static int bit_index(unsigned bit)
{
	return __builtin_ctz(bit);
}

/* ---- parsing ---- */

static void tspec_reset(struct tspec *s)
{
	memset(s, 0, sizeof *s);
	s->t.wm = NULL;
	s->t.dpr = 1;
}

void tspec_limits_default(struct tspec_limits *lim)
{
	lim->max_ops = 16;
	lim->max_side = 16384;
	lim->formats = (1u << (MEDIA_FMT_AUTO + 1)) - 1;
}

/* One option at [b, e). */
static int parse_option(struct parser *ps, size_t b, size_t e)
{
	const char *s = ps->s + b, *us = memchr(s, '_', e - b);
	size_t nlen = us ? (size_t)(us - s) : e - b;
	const struct option *o = find_option(s, nlen);
	char buf[120], names[200];
	size_t k = 0;

	ps->b = b;
	if ((e - b == 1 && s[0] == '_') || (e - b == 3 && !memcmp(s, "raw", 3)))
		return fail(ps, "\"%s\" means no options and cannot be combined with others",
			    e - b == 1 ? "_" : "raw");
	if (!o) {
		for (size_t i = 0; i < NOPTIONS; i++)
			k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "",
					      options[i].name);
		return fail(ps, "unknown option \"%s\"; options are %s", snip(buf, s, nlen), names);
	}
	if (!us)
		return fail(ps, "%s needs '_' and a value, like %s", o->name, o->example);
	if (ps->out->set & o->bit)
		return fail(ps, "%s is given twice (first at %d)", o->name,
			    column(ps, ps->at[bit_index(o->bit)]));
	ps->out->set |= o->bit;
	ps->at[bit_index(o->bit)] = b;
	return o->parse(ps, us + 1, e - b - nlen - 1);
}

/* Rules between options. With a preset they are left to the overlaid
 * result: the preset may supply the box or the fit (transform.h defines
 * what a lone side or a crop without COVER does). */
static int check_rules(struct parser *ps)
{
	const struct tspec *s = ps->out;
	unsigned set = s->set;

	if (set & TS_PRESET)
		return 0;
	if ((set & TS_CROP) && (!(set & TS_FIT) || s->t.fit != MEDIA_FIT_COVER)) {
		ps->b = ps->at[bit_index(TS_CROP)];
		if (set & TS_FIT)
			return fail(ps, "crop needs fit_cover (fit is %s)", fit_words[s->t.fit]);
		return fail(ps, "crop needs fit_cover");
	}
	if ((set & TS_FIT) && s->t.fit != MEDIA_FIT_INSIDE && (set & (TS_W | TS_H)) != (TS_W | TS_H)) {
		ps->b = ps->at[bit_index(TS_FIT)];
		return fail(ps, "fit_%s needs both w and h", fit_words[s->t.fit]);
	}
	return 0;
}

/* Without a preset, an option naming the default changes nothing: drop it
 * so "w_800,rot_0" and "w_800" have one canonical form. With a preset it
 * stays, because it overrides the preset's value. */
static void drop_defaults(struct tspec *s)
{
	const struct media_transform *t = &s->t;

	if (s->set & TS_PRESET)
		return;
	if (t->fit == MEDIA_FIT_INSIDE)
		s->set &= ~(unsigned)TS_FIT;
	if (t->crop == MEDIA_CROP_CENTER)
		s->set &= ~(unsigned)TS_CROP;
	if (t->rotate == 0)
		s->set &= ~(unsigned)TS_ROT;
	if (!t->pad[0] && !t->pad[1] && !t->pad[2] && !t->pad[3])
		s->set &= ~(unsigned)TS_PAD;
	if (t->dpr == 1)
		s->set &= ~(unsigned)TS_DPR;
	if (t->up <= 1)
		s->set &= ~(unsigned)TS_UP;
	if (!t->strip_all)
		s->set &= ~(unsigned)TS_META;
}

int tspec_parse(const char *text, size_t len, const struct tspec_limits *lim, struct tspec *out,
		struct dam_err *err)
{
	struct tspec_limits dl;
	struct parser ps = { .s = text ? text : "", .len = text ? len : 0, .lim = lim, .out = out,
			     .err = err };
	size_t b = 0;
	int rc;

	if (!lim) {
		tspec_limits_default(&dl);
		ps.lim = &dl;
	}
	tspec_reset(out);
	if (ps.len > TSPEC_MAX_LEN)
		rc = fail_at(&ps, TSPEC_MAX_LEN, "the options are longer than %d characters",
			     TSPEC_MAX_LEN);
	else if (ps.len == 0)
		rc = fail_at(&ps, 0, "no options; use _ for none");
	else if ((ps.len == 1 && ps.s[0] == '_') || (ps.len == 3 && !memcmp(ps.s, "raw", 3)))
		return 0;
	else
		rc = 0;
	while (rc == 0 && b <= ps.len) {
		const char *c = memchr(ps.s + b, ',', ps.len - b);
		size_t e = c ? (size_t)(c - ps.s) : ps.len;
		if (e == b)
			rc = fail_at(&ps, b < ps.len ? b : b - 1, "empty option between commas");
		else if (++out->nops > ps.lim->max_ops)
			rc = fail_at(&ps, b, "more than %d options", ps.lim->max_ops);
		else
			rc = parse_option(&ps, b, e);
		b = e + 1;
	}
	if (rc == 0)
		rc = check_rules(&ps);
	if (rc < 0) {
		tspec_reset(out);
		return rc;
	}
	drop_defaults(out);
	return 0;
}

/* ---- printing, overlay, negotiation ---- */

int tspec_format(const struct tspec *s, struct strbuf *sb)
{
	bool first = true;
	int rc = 0;

	for (size_t i = 0; i < NOPTIONS && rc == 0; i++) {
		if (!(s->set & options[i].bit))
			continue;
		if (!first)
			rc = strbuf_addch(sb, ',');
		if (rc == 0)
			rc = options[i].print(s, sb);
		first = false;
	}
	if (rc == 0 && first)
		rc = strbuf_addch(sb, '_');
	return rc;
}

void tspec_overlay(struct tspec *base, const struct tspec *over)
{
	const unsigned own = TS_PRESET | TS_VERSION | TS_EXP | TS_DL;
	struct media_transform *t = &base->t;
	const struct media_transform *o = &over->t;
	unsigned set = over->set;

	if (set & TS_W)
		t->width = o->width;
	if (set & TS_H)
		t->height = o->height;
	if (set & TS_FIT)
		t->fit = o->fit;
	if (set & TS_CROP)
		t->crop = o->crop, t->gravity = o->gravity;
	if (set & TS_ROT)
		t->rotate = o->rotate;
	if (set & TS_FLIP)
		t->flip_h = o->flip_h, t->flip_v = o->flip_v;
	if (set & TS_BG)
		t->bg_set = o->bg_set, memcpy(t->bg, o->bg, sizeof t->bg);
	if (set & TS_PAD)
		memcpy(t->pad, o->pad, sizeof t->pad);
	if (set & TS_FMT)
		t->format = o->format;
	if (set & TS_Q)
		t->quality = o->quality;
	if (set & TS_DPR)
		t->dpr = o->dpr;
	if (set & TS_UP)
		t->up = o->up;
	if (set & TS_BLUR)
		t->blur = o->blur;
	if (set & TS_SHARPEN)
		t->sharpen = o->sharpen;
	if (set & TS_TRIM)
		t->trim = o->trim;
	if (set & TS_WM) {
		memcpy(base->wm_asset, over->wm_asset, sizeof base->wm_asset);
		t->wm_gravity = o->wm_gravity;
		t->wm_scale = o->wm_scale;
		t->wm_opacity = o->wm_opacity;
	}
	if (set & TS_BUDGET)
		t->max_bytes = o->max_bytes;
	if (set & TS_META)
		t->strip_all = o->strip_all;
	memcpy(base->preset, over->preset, sizeof base->preset);
	base->version = over->version;
	base->exp = over->exp;
	base->download = over->download;
	base->set = ((base->set | set) & ~own) | (set & own);
	base->nops = __builtin_popcount(base->set);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ieq(const char *a, size_t n, const char *b)
{
	if (strlen(b) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != b[i])
			return false;
	return true;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Whether the q parameter in [p, e) (after "q=") is above zero. A q that
 * is not a number counts as zero: JPEG is the safe answer to a garbled
 * header. */
static bool q_positive(const char *p, size_t n)
{
	bool digit = false;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '.')
			continue;
		if (!is_digit(p[i]))
			return false;
		digit |= p[i] != '0';
	}
	return digit;
}

/*
 * Whether the Accept header lists `type` itself (not a wildcard) with
 * q > 0. The first listing counts.
 */
static bool accepts(const char *accept, const char *type)
{
	const char *p = accept;

	while (*p) {
		const char *e = p + strcspn(p, ","), *semi, *te;
		while (p < e && is_ows(*p))
			p++;
		semi = memchr(p, ';', (size_t)(e - p));
		te = semi ? semi : e;
		while (te > p && is_ows(te[-1]))
			te--;
		if (ieq(p, (size_t)(te - p), type)) {
			bool ok = true;
			for (const char *a = semi; a && a < e;) {
				const char *ne = memchr(a + 1, ';', (size_t)(e - a - 1)), *pe;
				a++;
				pe = ne ? ne : e;
				while (a < pe && is_ows(*a))
					a++;
				while (pe > a && is_ows(pe[-1]))
					pe--;
				if (pe - a >= 2 && lower(a[0]) == 'q' && a[1] == '=')
					ok = q_positive(a + 2, (size_t)(pe - a - 2));
				a = ne;
			}
			return ok;
		}
		p = *e ? e + 1 : e;
	}
	return false;
}

enum media_format tspec_negotiate(const char *accept, unsigned formats, bool has_alpha)
{
	static const enum media_format last[] = { MEDIA_FMT_JPEG, MEDIA_FMT_PNG, MEDIA_FMT_WEBP,
						  MEDIA_FMT_AVIF, MEDIA_FMT_JXL };
	enum media_format plain = has_alpha ? MEDIA_FMT_PNG : MEDIA_FMT_JPEG;

	if (accept && (formats & (1u << MEDIA_FMT_AVIF)) && accepts(accept, "image/avif"))
		return MEDIA_FMT_AVIF;
	if (accept && (formats & (1u << MEDIA_FMT_WEBP)) && accepts(accept, "image/webp"))
		return MEDIA_FMT_WEBP;
	if (formats & (1u << plain))
		return plain;
	/* The plain format is not allowed: the first allowed one, in an order
	 * every client is most likely to decode. */
	for (size_t i = 0; i < sizeof last / sizeof last[0]; i++)
		if (formats & (1u << last[i]))
			return last[i];
	return MEDIA_FMT_JPEG;
}
