#include "http/multipart.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return nlen <= hlen ? memmem(hay, hlen, needle, nlen) : NULL;
}

int multipart_boundary(const char *ct, char *out, size_t outlen, struct dam_err *err)
{
	const char *p;
	size_t n;

	if (!ct || strncasecmp(ct, "multipart/form-data", 19))
		return dam_err_set(err, DAM_EINVAL, "Content-Type", "expected multipart/form-data");
	if (!(p = strcasestr(ct, "boundary=")))
		return dam_err_set(err, DAM_EINVAL, "Content-Type", "multipart/form-data without a boundary");
	p += 9;
	if (*p == '"') {
		const char *q = strchr(++p, '"');
		if (!q)
			return dam_err_set(err, DAM_EINVAL, "Content-Type", "unterminated quoted boundary");
		n = (size_t)(q - p);
	} else {
		n = strcspn(p, "; \t");
	}
	if (n == 0 || n > 70 || n >= outlen)
		return dam_err_set(err, DAM_EINVAL, "Content-Type", "the boundary must be 1-70 characters");
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* A parameter of a Content-Disposition header line (value copied): 1 found,
 * 0 absent, -1 malformed, -2 longer than out. */
static int param(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + nl + 1 < len; i++) {
		if ((i == 0 || line[i - 1] == ';' || line[i - 1] == ' ') && !strncasecmp(line + i, name, nl) &&
		    line[i + nl] == '=') {
			const char *v = line + i + nl + 1, *end = line + len;
			size_t o = 0;
			if (v < end && *v == '"') {
				for (v++; v < end && *v != '"'; v++) {
					if (*v == '\\' && v + 1 < end)
						v++;
					if (o + 1 >= outlen)
						return -2;
					out[o++] = *v;
				}
				if (v >= end)
					return -1;
			} else {
				for (; v < end && *v != ';' && *v != ' '; v++) {
					if (o + 1 >= outlen)
						return -2;
					out[o++] = *v;
				}
			}
			out[o] = '\0';
			return 1;
		}
	}
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* RFC 5987: UTF-8''percent-encoded. -1 malformed, -2 longer than out. */
static int ext_value(const char *in, char *out, size_t outlen)
{
	const char *p = strstr(in, "''");
	size_t o = 0;

	if (strncasecmp(in, "UTF-8''", 7) || !p)
		return -1;
	for (p += 2; *p; p++) {
		char c = *p;
		if (c == '%') {
			int h = hexval(p[1]), l = h >= 0 ? hexval(p[2]) : -1;
			if (h < 0 || l < 0)
				return -1;
			c = (char)(h * 16 + l);
			if (c == '\0' || (unsigned char)c < 0x20)
				return -1;
			p += 2;
		}
		if (o + 1 >= outlen)
			return -2;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

static int part_headers(const char *h, size_t len, struct multipart_part *part, struct dam_err *err)
{
	bool disposition = false;
	int rc;

	/* A NUL or control byte would silently cut a name short later. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)h[i] < 0x20 && h[i] != '\r' && h[i] != '\n' && h[i] != '\t')
			return dam_err_set(err, DAM_EINVAL, "body", "a part's headers contain a NUL or control character");

	while (len) {
		const char *eol = find(h, len, "\r\n", 2);
		size_t ll = eol ? (size_t)(eol - h) : len;
		char ext[768];
		if (ll > 20 && !strncasecmp(h, "Content-Disposition:", 20)) {
			const char *v = h + 20;
			size_t vl = ll - 20;
			while (vl && *v == ' ')
				v++, vl--;
			if (vl < 9 || strncasecmp(v, "form-data", 9))
				return dam_err_set(err, DAM_EINVAL, "body", "a part's Content-Disposition is not form-data");
			if (param(v, vl, "name", part->name, sizeof part->name) != 1)
				return dam_err_set(err, DAM_EINVAL, "body", "a part has no name");
			/* -2: longer than the buffer, which holds any name dam would
			 * store (DAM_NAME_MAX); the caller checks the rest. */
			if ((rc = param(v, vl, "filename", part->filename, sizeof part->filename)) == -1)
				return dam_err_set(err, DAM_EINVAL, "body", "a part's filename is malformed");
			if (rc != -2 && (rc = param(v, vl, "filename*", ext, sizeof ext)) == 1)
				rc = ext_value(ext, part->filename, sizeof part->filename), rc = rc == -2 ? -2 : rc < 0 || !part->filename[0] ? -1 : 0;
			if (rc == -2)
				return dam_err_set(err, DAM_EINVAL, "filename", "the file name is too long (max %d bytes)",
						   (int)sizeof part->filename - 1);
			if (rc < 0)
				return dam_err_set(err, DAM_EINVAL, "body", "a part's filename* is malformed");
			disposition = true;
		} else if (ll > 13 && !strncasecmp(h, "Content-Type:", 13)) {
			const char *v = h + 13;
			size_t vl = ll - 13;
			while (vl && *v == ' ')
				v++, vl--;
			snprintf(part->content_type, sizeof part->content_type, "%.*s", (int)vl, v);
		}
		if (!eol)
			break;
		len -= ll + 2;
		h = eol + 2;
	}
	if (!disposition)
		return dam_err_set(err, DAM_EINVAL, "body", "a part has no Content-Disposition header");
	return 0;
}

int multipart_parse(const char *body, size_t len, const char *boundary, struct multipart_part *parts,
		    struct dam_err *err)
{
	char delim[80];
	size_t dl = (size_t)snprintf(delim, sizeof delim, "--%s", boundary);
	const char *p, *end = body + len;
	int n = 0;

	if (!(p = find(body, len, delim, dl)))
		return dam_err_set(err, DAM_EINVAL, "body", "the body does not contain the multipart boundary");
	for (;;) {
		const char *hdr_end, *next;
		p += dl;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return n ? n : dam_err_set(err, DAM_EINVAL, "body", "the multipart body has no parts");
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return dam_err_set(err, DAM_EINVAL, "body", "the multipart body is truncated or malformed after a boundary");
		p += 2;
		if (!(hdr_end = find(p, (size_t)(end - p), "\r\n\r\n", 4)))
			return dam_err_set(err, DAM_EINVAL, "body", "the multipart body is truncated inside part headers");
		if (n == MULTIPART_MAX_PARTS)
			return dam_err_set(err, DAM_ELIMIT, "body", "more than %d parts", MULTIPART_MAX_PARTS);
		memset(&parts[n], 0, sizeof parts[n]);
		if (part_headers(p, (size_t)(hdr_end - p), &parts[n], err) < 0)
			return DAM_EINVAL;
		p = hdr_end + 4;
		{
			char crlf_delim[84];
			size_t cl = (size_t)snprintf(crlf_delim, sizeof crlf_delim, "\r\n%s", delim);
			if (!(next = find(p, (size_t)(end - p), crlf_delim, cl)))
				return dam_err_set(err, DAM_EINVAL, "body",
						   "the multipart body is truncated: a part has no closing boundary");
			parts[n].data = p;
			parts[n].len = (size_t)(next - p);
			n++;
			p = next + 2;
		}
	}
}
