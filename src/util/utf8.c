#include "util/utf8.h"

#include <stdint.h>
#include <string.h>

#include "util/err.h"
#include "util/strbuf.h"

bool utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		int n;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if (i + (size_t)n >= len)
			return false;
		for (int k = 1; k <= n; k++) {
			if ((s[i + (size_t)k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + (size_t)k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += (size_t)n + 1;
	}
	return true;
}

bool utf8_has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t seq_len(const char *s, size_t len)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;

	if (n == 0 || n > len || !utf8_valid(s, n))
		return 0;
	return n;
}

int utf8_sanitize(const char *s, size_t len, struct strbuf *out)
{
	int rc = 0;

	for (size_t i = 0; i < len && rc == 0;) {
		size_t n = seq_len(s + i, len - i);
		if (n == 0 || (n == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))) {
			rc = strbuf_adds(out, "\xef\xbf\xbd");
			i++;
		} else {
			rc = strbuf_add(out, s + i, n);
			i += n;
		}
	}
	return rc;
}

int utf8_column(const char *s, size_t len, size_t pos)
{
	int col = 1;

	for (size_t i = 0; i < pos && i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			col++;
	return col;
}

/* The code point of the valid sequence s[0..n). */
static uint32_t decode(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp = n == 1 ? u[0] : n == 2 ? u[0] & 0x1fu : n == 3 ? u[0] & 0x0fu : u[0] & 0x07u;

	for (size_t k = 1; k < n; k++)
		cp = (cp << 6) | (u[k] & 0x3fu);
	return cp;
}

static bool is_bidi_control(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

int utf8_name_check(const char *s, size_t len, size_t max, const char *what, const char *field,
		    struct dam_err *err)
{
	int col = 1;

	if (len == 0)
		return dam_err_set(err, DAM_EINVAL, field, "%s is empty", what);
	if (len > max)
		return dam_err_set(err, DAM_EINVAL, field, "%s is too long (%zu bytes, max %zu bytes)", what, len, max);
	if (memchr(s, '\0', len))
		return dam_err_set(err, DAM_EINVAL, field, "%s contains a NUL byte (at byte %zu)", what,
				   (size_t)((const char *)memchr(s, '\0', len) - s) + 1);
	for (size_t i = 0; i < len; col++) {
		size_t n = seq_len(s + i, len - i);
		uint32_t cp;
		if (n == 0)
			return dam_err_set(err, DAM_EINVAL, field, "%s is not valid UTF-8 (byte %zu)", what, i + 1);
		cp = decode(s + i, n);
		if (cp < 0x20 || cp == 0x7f)
			return dam_err_set(err, DAM_EINVAL, field, "%s contains a control character (U+%04X at character %d)",
					   what, (unsigned)cp, col);
		if (is_bidi_control(cp))
			return dam_err_set(err, DAM_EINVAL, field,
					   "%s contains a bidirectional control character (U+%04X at character %d),"
					   " which can disguise the real extension",
					   what, (unsigned)cp, col);
		i += n;
	}
	return 0;
}
