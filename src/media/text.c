/*
 * text.c - bounded handling of text found inside files: UTF-8 repair for
 * JSON, XML entities, and a minimal XML scanner (root element, attributes).
 *
 * These are not XML parsers: they only look for the few things the module
 * needs and every loop is bounded by the given length.
 */
#include "media/text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

json_t *media__json_text(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char *buf;
	size_t i = 0, o = 0;
	json_t *j = NULL;

	if (!s)
		return NULL;
	/* embedded NULs end the text (C strings in file formats) */
	len = strnlen(s, len);
	while (len && (isspace(p[len - 1])))
		len--;
	while (len && isspace(*p))
		p++, len--;
	if (!len)
		return NULL;
	buf = malloc(len * 2 + 1); /* Latin-1 bytes grow to 2 */
	if (!buf)
		return NULL;
	while (i < len) {
		size_t k = utf8_seq(p + i, len - i);

		if (k == 1 && p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') {
			buf[o++] = ' '; /* control characters */
			i++;
		} else if (k) {
			memcpy(buf + o, p + i, k);
			o += k;
			i += k;
		} else {
			buf[o++] = (unsigned char)(0xc0 | (p[i] >> 6));
			buf[o++] = (unsigned char)(0x80 | (p[i] & 0x3f));
			i++;
		}
	}
	j = json_stringn((const char *)buf, o);
	free(buf);
	return j;
}

void media__set_text(json_t *obj, const char *key, const char *s, size_t len)
{
	json_t *j = media__json_text(s, len);

	if (j)
		json_object_set_new(obj, key, j);
}

/* Appends code point cp as UTF-8 if it fits. */
static size_t put_utf8(char *dst, size_t o, size_t cap, unsigned long cp)
{
	unsigned char b[4];
	size_t n, i;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80)
		b[0] = (unsigned char)cp, n = 1;
	else if (cp < 0x800)
		b[0] = (unsigned char)(0xc0 | (cp >> 6)), b[1] = (unsigned char)(0x80 | (cp & 0x3f)),
		n = 2;
	else if (cp < 0x10000)
		b[0] = (unsigned char)(0xe0 | (cp >> 12)),
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
		b[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
	else
		b[0] = (unsigned char)(0xf0 | (cp >> 18)),
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f)),
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
		b[3] = (unsigned char)(0x80 | (cp & 0x3f)), n = 4;
	if (o + n >= cap)
		return o;
	for (i = 0; i < n; i++)
		dst[o + i] = (char)b[i];
	return o + n;
}

static const struct {
	const char *name;
	char c;
} entities[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' },
		 { "apos;", '\'' } };

size_t media__xml_unescape(const char *s, size_t len, char *dst, size_t cap)
{
	size_t i = 0, o = 0, k;

	if (!cap)
		return 0;
	while (i < len && o + 1 < cap) {
		if (s[i] != '&') {
			dst[o++] = s[i++];
			continue;
		}
		for (k = 0; k < sizeof entities / sizeof entities[0]; k++) {
			size_t el = strlen(entities[k].name);

			if (len - i - 1 >= el && !memcmp(s + i + 1, entities[k].name, el)) {
				dst[o++] = entities[k].c;
				i += 1 + el;
				break;
			}
		}
		if (k < sizeof entities / sizeof entities[0])
			continue;
		if (i + 2 < len && s[i + 1] == '#') {
			size_t j = i + 2;
			int base = 10;
			unsigned long cp = 0;

			if (s[j] == 'x' || s[j] == 'X')
				base = 16, j++;
			while (j < len && j - i < 12 && isxdigit((unsigned char)s[j]) &&
			       (base == 16 || isdigit((unsigned char)s[j]))) {
				int d = isdigit((unsigned char)s[j]) ? s[j] - '0'
								     : tolower((unsigned char)s[j]) - 'a' + 10;
				cp = cp * (unsigned long)base + (unsigned long)d;
				j++;
			}
			if (j < len && s[j] == ';' && j > i + 2) {
				o = put_utf8(dst, o, cap, cp);
				i = j + 1;
				continue;
			}
		}
		dst[o++] = s[i++]; /* a lone '&' stays */
	}
	dst[o] = '\0';
	return o;
}

/* Position of needle in (s, len) from `from`, or len. */
static size_t find(const char *s, size_t len, size_t from, const char *needle)
{
	size_t nl = strlen(needle);
	const char *hit;

	if (from >= len || len - from < nl)
		return len;
	hit = memmem(s + from, len - from, needle, nl);
	return hit ? (size_t)(hit - s) : len;
}

bool media__xml_root(const char *s, size_t len, const char **tag, size_t *taglen)
{
	size_t i = 0, e;
	char quote = 0;

	if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		i = 3;
	for (;;) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i >= len || s[i] != '<')
			return false;
		if (len - i >= 4 && !memcmp(s + i, "<!--", 4)) {
			e = find(s, len, i + 4, "-->");
			if (e >= len)
				return false;
			i = e + 3;
		} else if (len - i >= 2 && s[i + 1] == '?') {
			e = find(s, len, i + 2, "?>");
			if (e >= len)
				return false;
			i = e + 2;
		} else if (len - i >= 2 && s[i + 1] == '!') {
			/* DOCTYPE, possibly with an internal subset [...] */
			int depth = 0;

			for (e = i + 2; e < len; e++) {
				if (s[e] == '[')
					depth++;
				else if (s[e] == ']')
					depth--;
				else if (s[e] == '>' && depth <= 0)
					break;
			}
			if (e >= len)
				return false;
			i = e + 1;
		} else {
			break;
		}
	}
	for (e = i + 1; e < len; e++) {
		if (quote) {
			if (s[e] == quote)
				quote = 0;
		} else if (s[e] == '"' || s[e] == '\'') {
			quote = s[e];
		} else if (s[e] == '>') {
			*tag = s + i;
			*taglen = e - i + 1;
			return true;
		}
	}
	return false;
}

bool media__is_svg(const char *s, size_t len)
{
	const char *tag, *name;
	size_t tl, nl;

	if (!media__xml_root(s, len, &tag, &tl))
		return false;
	name = tag + 1;
	for (nl = 0; nl + 1 < tl; nl++)
		if (isspace((unsigned char)name[nl]) || name[nl] == '/' || name[nl] == '>')
			break;
	if (nl == 3 && !memcmp(name, "svg", 3))
		return true;
	return nl > 4 && !memcmp(name + nl - 4, ":svg", 4); /* <svg:svg xmlns:svg=...> */
}

bool media__xml_attr(const char *tag, size_t taglen, const char *name, const char **val,
		     size_t *vlen)
{
	size_t nl = strlen(name), i = 1;

	/* skip the element name */
	while (i < taglen && !isspace((unsigned char)tag[i]) && tag[i] != '>' && tag[i] != '/')
		i++;
	while (i < taglen) {
		size_t a, al, v;
		char q;

		while (i < taglen && (isspace((unsigned char)tag[i]) || tag[i] == '/'))
			i++;
		a = i;
		while (i < taglen && tag[i] != '=' && !isspace((unsigned char)tag[i]) &&
		       tag[i] != '>')
			i++;
		al = i - a;
		while (i < taglen && isspace((unsigned char)tag[i]))
			i++;
		if (i >= taglen || tag[i] != '=')
			return false;
		i++;
		while (i < taglen && isspace((unsigned char)tag[i]))
			i++;
		if (i >= taglen || (tag[i] != '"' && tag[i] != '\''))
			return false;
		q = tag[i++];
		v = i;
		while (i < taglen && tag[i] != q)
			i++;
		if (i >= taglen)
			return false;
		if (al == nl && !memcmp(tag + a, name, nl)) {
			*val = tag + v;
			*vlen = i - v;
			return true;
		}
		i++;
	}
	return false;
}
