/*
 * meta.c - metadata embedded in image files: EXIF (from the fields libvips
 * decodes), IPTC-IIM, XMP and the ICC profile description.
 *
 * All blobs come from the file: each parser checks every length against the
 * bytes it was given and gives up quietly on anything malformed, since
 * missing metadata is not an error of the file.
 */
#include "media/meta.h"
#include "media/text.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- EXIF ---- */

/*
 * libvips renders an EXIF entry as "RAW (HUMAN, Type, N components, M
 * bytes)", e.g. "14/5 (f/2.8, Rational, 1 components, 8 bytes)". Copies RAW
 * into buf. RAW may itself contain " (" ("EOS 5D (II)"), so we cut the three
 * trailing fields off first and, for strings where RAW == HUMAN, split in
 * the middle.
 */
static bool exif_raw(VipsImage *im, const char *field, char *buf, size_t cap)
{
	const char *s;
	size_t len, k, commas = 0;

	if (vips_image_get_typeof(im, field) == 0 || vips_image_get_string(im, field, &s) != 0) {
		vips_error_clear();
		return false;
	}
	len = strlen(s);
	if (len && s[len - 1] == ')')
		len--;
	while (len && commas < 3) /* drop ", Type, N components, M bytes" */
		if (s[--len] == ',')
			commas++;
	if (commas == 3 && len >= 2 && (len - 2) % 2 == 0) {
		k = (len - 2) / 2;
		if (!memcmp(s + k, " (", 2) && !memcmp(s, s + k + 2, k)) {
			len = k;
			goto copy;
		}
	}
	if (commas == 3) {
		const char *p = strstr(s, " (");

		len = p && (size_t)(p - s) <= len ? (size_t)(p - s) : len;
	} else {
		len = strlen(s);
	}
copy:
	snprintf(buf, cap, "%.*s", (int)len, s);
	return buf[0] != '\0';
}

/* Parses one rational "a/b" or decimal at *p, advancing it. */
static bool parse_rational(const char **p, double *v)
{
	char *end;
	double num, den = 1;

	num = strtod(*p, &end);
	if (end == *p)
		return false;
	if (*end == '/') {
		const char *d = end + 1;

		den = strtod(d, &end);
		if (end == d)
			return false;
	}
	*p = end;
	if (den == 0 || !isfinite(num) || !isfinite(den))
		return false;
	*v = num / den;
	return true;
}

static bool exif_number(VipsImage *im, const char *field, double *v)
{
	char buf[256];
	const char *p = buf;

	return exif_raw(im, field, buf, sizeof buf) && parse_rational(&p, v);
}

static void exif_set_string(VipsImage *im, json_t *exif, const char *key, const char *field)
{
	char buf[512];

	if (exif_raw(im, field, buf, sizeof buf))
		media__set_text(exif, key, buf, strlen(buf));
}

static void exif_set_number(VipsImage *im, json_t *exif, const char *key, const char *field)
{
	double v;

	if (exif_number(im, field, &v))
		json_object_set_new(exif, key, json_real(v));
}

/* "52/1 30/1 1234/100" + "N" -> 52.50343 */
static bool exif_gps_coord(VipsImage *im, const char *field, const char *ref_field, double *out)
{
	char buf[256], ref[32];
	const char *p = buf;
	double part[3] = { 0, 0, 0 };
	int i;

	if (!exif_raw(im, field, buf, sizeof buf))
		return false;
	for (i = 0; i < 3; i++) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		if (!parse_rational(&p, &part[i]))
			return false;
	}
	if (i == 0)
		return false;
	*out = part[0] + part[1] / 60 + part[2] / 3600;
	if (exif_raw(im, ref_field, ref, sizeof ref) && (ref[0] == 'S' || ref[0] == 'W'))
		*out = -*out;
	return *out >= -180 && *out <= 180;
}

static void exif_gps(VipsImage *im, json_t *exif)
{
	json_t *gps = json_object();
	double lat, lon, alt;
	char ref[64];

	if (exif_gps_coord(im, "exif-ifd3-GPSLatitude", "exif-ifd3-GPSLatitudeRef", &lat) &&
	    exif_gps_coord(im, "exif-ifd3-GPSLongitude", "exif-ifd3-GPSLongitudeRef", &lon) &&
	    fabs(lat) <= 90) {
		json_object_set_new(gps, "lat", json_real(round(lat * 1e7) / 1e7));
		json_object_set_new(gps, "lon", json_real(round(lon * 1e7) / 1e7));
	}
	if (exif_number(im, "exif-ifd3-GPSAltitude", &alt)) {
		/* the ref is a byte: 1 (libexif: "Below sea level") means negative */
		if (exif_raw(im, "exif-ifd3-GPSAltitudeRef", ref, sizeof ref) &&
		    (!strcmp(ref, "1") || strcasestr(ref, "below")))
			alt = -alt;
		json_object_set_new(gps, "alt", json_real(alt));
	}
	if (json_object_size(gps))
		json_object_set_new(exif, "gps", gps);
	else
		json_decref(gps);
}

/* "2023:05:01 12:34:56" -> "2023-05-01T12:34:56" */
static void exif_date(VipsImage *im, json_t *exif)
{
	char buf[64];
	int y, mo, d, h, mi, s;

	if (!exif_raw(im, "exif-ifd2-DateTimeOriginal", buf, sizeof buf) &&
	    !exif_raw(im, "exif-ifd0-DateTime", buf, sizeof buf))
		return;
	if (sscanf(buf, "%4d:%2d:%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) == 6 && y > 0 &&
	    mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h < 24 && mi >= 0 && mi < 60 &&
	    s >= 0 && s <= 60) {
		json_object_set_new(exif, "date_taken",
				    json_sprintf("%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, s));
	}
}

void media__exif_to_json(VipsImage *im, json_t *obj)
{
	json_t *exif = json_object();
	double iso;

	exif_set_string(im, exif, "make", "exif-ifd0-Make");
	exif_set_string(im, exif, "model", "exif-ifd0-Model");
	exif_set_string(im, exif, "lens", "exif-ifd2-LensModel");
	exif_set_number(im, exif, "exposure_time", "exif-ifd2-ExposureTime");
	exif_set_number(im, exif, "f_number", "exif-ifd2-FNumber");
	if (exif_number(im, "exif-ifd2-ISOSpeedRatings", &iso) ||
	    exif_number(im, "exif-ifd2-PhotographicSensitivity", &iso))
		json_object_set_new(exif, "iso", json_integer((json_int_t)iso));
	exif_set_number(im, exif, "focal_length", "exif-ifd2-FocalLength");
	exif_date(im, exif);
	exif_gps(im, exif);
	if (json_object_size(exif))
		json_object_set_new(obj, "exif", exif);
	else
		json_decref(exif);
}

/* ---- keywords ---- */

static void add_keyword(json_t *emb, const char *s, size_t len)
{
	json_t *kw = json_object_get(emb, "keywords"), *v;
	json_t *word = media__json_text(s, len);
	size_t i;

	if (!word)
		return;
	if (!kw) {
		kw = json_array();
		json_object_set_new(emb, "keywords", kw);
	}
	json_array_foreach(kw, i, v)
	{
		if (!strcasecmp(json_string_value(v), json_string_value(word))) {
			json_decref(word);
			return;
		}
	}
	json_array_append_new(kw, word);
}

/* ---- IPTC-IIM ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Finds Photoshop image resource 0x0404 (IPTC-NAA) in an 8BIM block. */
static bool psd_find_iptc(const unsigned char *p, size_t len, const unsigned char **iim,
			  size_t *iimlen)
{
	size_t i = 0;

	while (len - i >= 12 && !memcmp(p + i, "8BIM", 4)) {
		uint16_t id = be16(p + i + 4);
		size_t name = 1 + (size_t)p[i + 6], size;

		name += name & 1; /* Pascal string padded to even */
		i += 6 + name;
		if (i > len || len - i < 4)
			return false;
		size = be32(p + i);
		i += 4;
		if (size > len - i)
			return false;
		if (id == 0x0404) {
			*iim = p + i;
			*iimlen = size;
			return true;
		}
		i += size + (size & 1);
		if (i > len)
			return false;
	}
	return false;
}

void media__iptc_parse(const unsigned char *p, size_t len, json_t *emb)
{
	static const char ps[] = "Photoshop 3.0";
	size_t i = 0;

	if (len >= sizeof ps && !memcmp(p, ps, sizeof ps)) { /* includes the NUL */
		p += sizeof ps;
		len -= sizeof ps;
	}
	if (len >= 4 && !memcmp(p, "8BIM", 4) && !psd_find_iptc(p, len, &p, &len))
		return;
	while (len - i >= 5 && p[i] == 0x1c) {
		unsigned rec = p[i + 1], ds = p[i + 2];
		size_t n = be16(p + i + 3);
		const char *v;

		i += 5;
		if (n & 0x8000) { /* extended dataset: n & 0x7fff length bytes follow */
			size_t k, ll = n & 0x7fff;

			if (ll == 0 || ll > 4 || len - i < ll)
				return;
			for (n = 0, k = 0; k < ll; k++)
				n = n << 8 | p[i + k];
			i += ll;
		}
		if (n > len - i)
			return;
		v = (const char *)p + i;
		i += n;
		if (rec != 2)
			continue;
		if (ds == 25)
			add_keyword(emb, v, n);
		else if (ds == 5 && !json_object_get(emb, "title"))
			media__set_text(emb, "title", v, n);
		else if (ds == 120 && !json_object_get(emb, "description"))
			media__set_text(emb, "description", v, n);
		else if (ds == 80 && !json_object_get(emb, "creator"))
			media__set_text(emb, "creator", v, n);
		else if (ds == 116 && !json_object_get(emb, "copyright"))
			media__set_text(emb, "copyright", v, n);
	}
}

/* ---- XMP ---- */

/* Finds the first element <name ...>content</name> in (p, len): sets the
 * start tag's '<' (*ts) and the content range [*cs, *ce). False if absent,
 * empty (<name/>) or unterminated. */
static bool xmp_element(const char *p, size_t len, const char *name, size_t *ts, size_t *cs,
			size_t *ce)
{
	size_t nl = strlen(name), i = 0;
	char close[80];

	if (nl + 4 > sizeof close)
		return false;
	snprintf(close, sizeof close, "</%s>", name);
	while (i < len) {
		const char *hit = memmem(p + i, len - i, name, nl);
		const char *end;
		size_t s, e;

		if (!hit)
			return false;
		s = (size_t)(hit - p);
		i = s + nl;
		if (s == 0 || p[s - 1] != '<' || i >= len ||
		    !(p[i] == '>' || p[i] == '/' || isspace((unsigned char)p[i])))
			continue;
		for (e = i; e < len && p[e] != '>'; e++)
			;
		if (e >= len || p[e - 1] == '/')
			return false;
		end = memmem(p + e + 1, len - e - 1, close, strlen(close));
		if (!end)
			return false;
		*ts = s - 1;
		*cs = e + 1;
		*ce = (size_t)(end - p);
		return true;
	}
	return false;
}

/* Receives one value of a property; `scratch` is fresh per property. */
typedef void (*xmp_item_fn)(json_t *scratch, const char *key, const char *s, size_t len,
			    bool is_default);

/* Calls fn for each rdf:li of (p, len), or once for plain text content. */
static void xmp_items(const char *p, size_t len, json_t *scratch, const char *key,
		      xmp_item_fn fn)
{
	size_t i = 0, ts, cs, ce, n;
	bool any = false;
	char *buf = malloc(len + 1); /* unescaping never grows the text */

	if (!buf)
		return;
	while (i < len && xmp_element(p + i, len - i, "rdf:li", &ts, &cs, &ce)) {
		bool dflt = memmem(p + i + ts, cs - ts, "x-default", 9) != NULL;

		n = media__xml_unescape(p + i + cs, ce - cs, buf, len + 1);
		fn(scratch, key, buf, n, dflt);
		i += ce + strlen("</rdf:li>");
		any = true;
	}
	if (!any && !memchr(p, '<', len)) {
		n = media__xml_unescape(p, len, buf, len + 1);
		fn(scratch, key, buf, n, true);
	}
	free(buf);
}

/* rdf:Alt: the x-default item, else the first. */
static void xmp_alt(json_t *scratch, const char *key, const char *s, size_t len,
		    bool is_default)
{
	if (!is_default && json_object_get(scratch, key))
		return;
	media__set_text(scratch, key, s, len);
}

static void xmp_keyword(json_t *scratch, const char *key, const char *s, size_t len, bool d)
{
	add_keyword(scratch, s, len);
}

/* rdf:Seq of creators, joined with ", ". */
static void xmp_seq(json_t *scratch, const char *key, const char *s, size_t len, bool d)
{
	json_t *cur = json_object_get(scratch, key);
	json_t *j = media__json_text(s, len);

	if (!j)
		return;
	if (!cur) {
		json_object_set_new(scratch, key, j);
		return;
	}
	json_object_set_new(scratch, key,
			    json_sprintf("%s, %s", json_string_value(cur), json_string_value(j)));
	json_decref(j);
}

static const struct {
	const char *element;
	const char *key;
	xmp_item_fn fn;
} xmp_props[] = {
	{ "dc:title", "title", xmp_alt },
	{ "dc:description", "description", xmp_alt },
	{ "dc:subject", "keywords", xmp_keyword },
	{ "dc:creator", "creator", xmp_seq },
	{ "dc:rights", "copyright", xmp_alt },
	{ "xmpRights:UsageTerms", "usage_terms", xmp_alt },
};

void media__xmp_parse(const char *p, size_t len, json_t *emb)
{
	size_t k, ts, cs, ce, idx;
	json_t *scratch, *v;

	for (k = 0; k < sizeof xmp_props / sizeof xmp_props[0]; k++) {
		if (!xmp_element(p, len, xmp_props[k].element, &ts, &cs, &ce))
			continue;
		scratch = json_object();
		xmp_items(p + cs, ce - cs, scratch, xmp_props[k].key, xmp_props[k].fn);
		if (xmp_props[k].fn == xmp_keyword) {
			json_array_foreach(json_object_get(scratch, "keywords"), idx, v)
			{
				const char *w = json_string_value(v);

				add_keyword(emb, w, strlen(w));
			}
		} else if ((v = json_object_get(scratch, xmp_props[k].key))) {
			json_object_set(emb, xmp_props[k].key, v); /* XMP wins */
		}
		json_decref(scratch);
	}
}

/* ---- ICC ---- */

static json_t *utf16be_to_json(const unsigned char *p, size_t n)
{
	char *buf = malloc(n * 2 + 1); /* each 2-byte unit -> at most 3 bytes, pairs 4 */
	size_t i, o = 0;
	json_t *j;

	if (!buf)
		return NULL;
	for (i = 0; i + 1 < n; i += 2) {
		unsigned long cp = be16(p + i);

		if (cp >= 0xd800 && cp <= 0xdbff && i + 3 < n) {
			unsigned long lo = be16(p + i + 2);

			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		if (cp == 0)
			break;
		if (cp < 0x80) {
			buf[o++] = (char)cp;
		} else if (cp < 0x800) {
			buf[o++] = (char)(0xc0 | (cp >> 6));
			buf[o++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			buf[o++] = (char)(0xe0 | (cp >> 12));
			buf[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			buf[o++] = (char)(0x80 | (cp & 0x3f));
		} else {
			buf[o++] = (char)(0xf0 | (cp >> 18));
			buf[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			buf[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			buf[o++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	j = media__json_text(buf, o);
	free(buf);
	return j;
}

json_t *media__icc_description(const unsigned char *p, size_t len)
{
	uint32_t count, i;

	if (len < 132 || memcmp(p + 36, "acsp", 4))
		return NULL;
	count = be32(p + 128);
	if (count > (len - 132) / 12)
		return NULL;
	for (i = 0; i < count; i++) {
		const unsigned char *e = p + 132 + 12 * (size_t)i, *t;
		uint32_t off = be32(e + 4), size = be32(e + 8);

		if (memcmp(e, "desc", 4))
			continue;
		if (off > len || size > len - off || size < 12)
			return NULL;
		t = p + off;
		if (!memcmp(t, "desc", 4)) { /* v2 textDescriptionType */
			uint32_t n = be32(t + 8);

			if (n > size - 12)
				return NULL;
			return media__json_text((const char *)t + 12, n);
		}
		if (!memcmp(t, "mluc", 4) && size >= 16) { /* v4 multiLocalizedUnicode */
			uint32_t nrec = be32(t + 8), rsize = be32(t + 12), r, best = 0;

			if (rsize < 12 || nrec == 0 || nrec > (size - 16) / rsize)
				return NULL;
			for (r = 0; r < nrec; r++)
				if (!memcmp(t + 16 + (size_t)r * rsize, "enUS", 4)) {
					best = r;
					break;
				}
			e = t + 16 + (size_t)best * rsize;
			{
				uint32_t slen = be32(e + 4), soff = be32(e + 8);

				if (soff > size || slen > size - soff)
					return NULL;
				return utf16be_to_json(t + soff, slen);
			}
		}
		return NULL;
	}
	return NULL;
}
