/*
 * s3.c - S3 client on libcurl (see s3.h for the contract).
 *
 * Layout: configuration and the secret; URLs (AWS encoding, sorted query);
 * one request runner (struct req) that every operation fills in; a small
 * XML reader for S3's few response documents; the operations; the
 * streaming uploader.
 */
#include "store/s3.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/secret.h"
#include "util/strbuf.h"

#define KEY_MAX 1024
#define ERR_BODY_MAX (64 << 10)  /* an S3 error document is a few hundred bytes */
#define XML_BODY_MAX (16 << 20)  /* a list page of 1000 keys is ~300 KB */
#define MAX_PARTS 10000          /* S3's limit per multipart upload */
#define SMALL_BUF ((size_t)64 << 10)     /* first part buffer of an upload */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Returned by a sink that has all it wants: ends the transfer as success. */
#define SINK_DONE 1

struct s3_client {
	CURL *h;
	char *scheme;    /* "http" or "https" */
	char *host;      /* host[:port] of the endpoint */
	char *base;      /* the endpoint's path ("" or "/prefix", no trailing /) */
	char *bucket;
	char *key_id;
	char *secret;    /* wiped on free */
	char *sigv4;     /* "aws:amz:REGION:s3" */
	char *region;
	bool vhost;
	long connect_timeout_ms;
	long stall_timeout_s;
	size_t part_size;
	uint64_t copy_max;
	FILE *trace;
	char curl_err[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* curl_global_init is not guaranteed thread-safe on every build, so it runs
 * once, before the first handle. Its global state lives until exit. */
static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- configuration and the secret ---- */

/* Copies the secret from the one source cfg names into *out. */
static int secret_load(const struct s3_config *cfg, char **out, struct dam_err *err)
{
	const char *v = cfg->secret;
	int n = !!cfg->secret + !!cfg->secret_env + !!cfg->secret_file;
	int rc;

	*out = NULL;
	if (n != 1)
		return dam_err_set(err, DAM_EINVAL, "s3",
				   "s3: give the secret in exactly one way (value, environment "
				   "variable or file), not %d", n);
	if (cfg->secret_file || cfg->secret_env) {
		rc = cfg->secret_file ? secret_from_file(cfg->secret_file, "s3", out, err)
				      : secret_from_env(cfg->secret_env, "s3", out, err);
		if (rc < 0)
			return rc;
		v = *out;
	}
	if (!*v || strlen(v) > SECRET_MAX)
		return dam_err_set(err, DAM_EINVAL, "s3", "s3: the secret is empty or too long");
	if (!*out && !(*out = strdup(v)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	return 0;
}

/* Splits "scheme://host[:port][/path]" into the client. */
static int endpoint_parse(struct s3_client *c, const char *ep, struct dam_err *err)
{
	const char *p = strstr(ep ? ep : "", "://"), *slash;
	size_t base_len;

	if (!p || (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)))
		return dam_err_set(err, DAM_EINVAL, "s3",
				   "s3: endpoint must be an http:// or https:// URL, not \"%s\"",
				   ep ? ep : "");
	p += 3;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	base_len = strlen(slash);
	while (base_len > 0 && slash[base_len - 1] == '/')
		base_len--;
	c->scheme = strndup(ep, (size_t)(p - 3 - ep));
	c->host = strndup(p, (size_t)(slash - p));
	c->base = strndup(slash, base_len);
	if (!c->scheme || !c->host || !c->base)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if (!*c->host || strpbrk(c->host, "?#@ "))
		return dam_err_set(err, DAM_EINVAL, "s3", "s3: bad host in endpoint \"%s\"", ep);
	return 0;
}

/* Bucket names as S3 allows them (3-63 of a-z 0-9 . -): they go into a
 * host name with virtual-host addressing. */
static bool bucket_ok(const char *b)
{
	size_t n = b ? strlen(b) : 0;

	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '.' ||
		      b[i] == '-'))
			return false;
	return true;
}

static int config_check(const struct s3_config *cfg, struct dam_err *err)
{
	size_t part = cfg->part_size ? cfg->part_size : S3_PART_DEFAULT;

	if (!bucket_ok(cfg->bucket))
		return dam_err_set(err, DAM_EINVAL, "s3",
				   "s3: bucket \"%s\" is not a valid name (3-63 of a-z 0-9 . -)",
				   cfg->bucket ? cfg->bucket : "");
	if (!cfg->region || !*cfg->region || strpbrk(cfg->region, ":/ "))
		return dam_err_set(err, DAM_EINVAL, "s3", "s3: region is missing or invalid");
	if (!cfg->key_id || !*cfg->key_id || strpbrk(cfg->key_id, ":/ \r\n"))
		return dam_err_set(err, DAM_EINVAL, "s3", "s3: key id is missing or invalid");
	if (part < S3_PART_MIN || part > S3_PART_MAX)
		return dam_err_set(err, DAM_EINVAL, "s3",
				   "s3: part size %zu is outside %zu..%zu bytes", part, S3_PART_MIN,
				   S3_PART_MAX);
	return 0;
}

static int client_fill(struct s3_client *c, const struct s3_config *cfg, struct dam_err *err)
{
	int rc;

	if ((rc = endpoint_parse(c, cfg->endpoint, err)) < 0)
		return rc;
	if ((rc = secret_load(cfg, &c->secret, err)) < 0)
		return rc;
	c->bucket = strdup(cfg->bucket);
	c->key_id = strdup(cfg->key_id);
	c->region = strdup(cfg->region);
	if (asprintf(&c->sigv4, "aws:amz:%s:s3", cfg->region) < 0)
		c->sigv4 = NULL;
	if (!c->bucket || !c->key_id || !c->region || !c->sigv4)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	c->vhost = cfg->virtual_host;
	c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000;
	c->stall_timeout_s = cfg->stall_timeout_s > 0 ? cfg->stall_timeout_s : 60;
	c->part_size = cfg->part_size ? cfg->part_size : S3_PART_DEFAULT;
	c->copy_max = cfg->copy_max ? cfg->copy_max : S3_COPY_MAX;
	c->trace = cfg->trace;
	return 0;
}

int s3_client_new(const struct s3_config *cfg, struct s3_client **out, struct dam_err *err)
{
	struct s3_client *c = NULL;
	int rc;

	*out = NULL;
	if ((rc = config_check(cfg, err)) < 0)
		return rc;
	pthread_once(&curl_once, curl_init);
	if (sodium_init() < 0 || curl_init_rc != CURLE_OK)
		return dam_err_set(err, DAM_EIO, NULL, "s3: libsodium or libcurl failed to start");
	if (!(c = calloc(1, sizeof *c)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if ((rc = client_fill(c, cfg, err)) < 0)
		goto fail;
	if (!(c->h = curl_easy_init())) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "s3: cannot make a libcurl handle");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	s3_client_free(c);
	return rc;
}

void s3_client_free(struct s3_client *c)
{
	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	if (c->secret) {
		sodium_memzero(c->secret, strlen(c->secret));
		free(c->secret);
	}
	free(c->scheme);
	free(c->host);
	free(c->base);
	free(c->bucket);
	free(c->key_id);
	free(c->region);
	free(c->sigv4);
	free(c);
}

/* ---- URLs ---- */

static bool key_ok(const char *key)
{
	return key && *key && strnlen(key, KEY_MAX + 1) <= KEY_MAX;
}

/* AWS's URI encoding: every byte but A-Z a-z 0-9 - . _ ~ (and '/' in a
 * path) as %XX, upper-case hex. libcurl signs the URL as it is given, so
 * this is also the canonical form the signature covers. */
static int uri_encode(struct strbuf *sb, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
		unsigned char ch = *p;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~' || (keep_slash && ch == '/'))
			rc = strbuf_addch(sb, (char)ch);
		else
			rc = strbuf_addf(sb, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
	}
	return rc;
}

/* A query parameter; value NULL is sent as "name=" (S3's "?uploads"). */
struct qparam {
	const char *name;
	const char *value;
};

static int qparam_cmp(const void *a, const void *b)
{
	return strcmp(((const struct qparam *)a)->name, ((const struct qparam *)b)->name);
}

/* Appends "?a=1&b=2" with the parameters sorted by name, as SigV4's
 * canonical query wants (libcurl 7.88 does not sort). Names are plain
 * ASCII, so sorting them before encoding equals sorting after. */
static int query_add(struct strbuf *sb, struct qparam *q, size_t n)
{
	int rc = 0;

	if (n) /* q is NULL then, which qsort may not be given */
		qsort(q, n, sizeof *q, qparam_cmp);
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = strbuf_addch(sb, i ? '&' : '?');
		if (rc == 0)
			rc = uri_encode(sb, q[i].name, false);
		if (rc == 0)
			rc = strbuf_addch(sb, '=');
		if (rc == 0 && q[i].value)
			rc = uri_encode(sb, q[i].value, false);
	}
	return rc;
}

/* The URL of key (NULL = the bucket itself) with the query q[0..n). */
static int url_make(const struct s3_client *c, const char *key, struct qparam *q, size_t n,
		    struct strbuf *sb)
{
	int rc;

	if (c->vhost)
		rc = strbuf_addf(sb, "%s://%s.%s%s/", c->scheme, c->bucket, c->host, c->base);
	else
		rc = strbuf_addf(sb, "%s://%s%s/%s%s", c->scheme, c->host, c->base, c->bucket,
				 key ? "/" : "");
	if (rc == 0 && key)
		rc = uri_encode(sb, key, true);
	if (rc == 0)
		rc = query_add(sb, q, n);
	return rc;
}

/* ---- the request runner ---- */

enum body_kind { BODY_NONE, BODY_MEM, BODY_STREAM };

struct req {
	struct s3_client *c;
	const char *verb;         /* "GET", "PUT", "POST", "DELETE", "HEAD" */
	const char *key;          /* for messages; NULL = the bucket */
	struct strbuf url;
	struct curl_slist *headers;
	/* request body */
	enum body_kind body;
	const unsigned char *mem;
	size_t mem_len, mem_pos;
	s3_read_fn rfn;
	void *rctx;
	uint64_t stream_len, stream_pos;
	const char *sha256;       /* the body's SHA-256 hex when the caller knows it */
	/* response */
	long status;
	s3_write_fn sink;         /* receives a 2xx body; NULL = into resp */
	void *sink_ctx;
	struct strbuf resp;       /* a 2xx body when there is no sink */
	struct strbuf ebody;      /* an error body (S3's <Error> document) */
	uint64_t delivered;
	char etag[S3_ETAG_MAX];
	int cb_rc;                /* why a callback stopped the transfer */
};

static void req_init(struct req *r, struct s3_client *c, const char *verb, const char *key)
{
	memset(r, 0, sizeof *r);
	r->c = c;
	r->verb = verb;
	r->key = key;
	strbuf_init(&r->url, 0);
	strbuf_init(&r->resp, XML_BODY_MAX);
	strbuf_init(&r->ebody, 0);
}

static void req_release(struct req *r)
{
	strbuf_release(&r->url);
	strbuf_release(&r->resp);
	strbuf_release(&r->ebody);
	curl_slist_free_all(r->headers);
	r->headers = NULL;
}

/* Adds "name: value" to r's headers. */
static int req_header(struct req *r, const char *name, const char *value)
{
	char line[2048];
	struct curl_slist *l;

	if ((size_t)snprintf(line, sizeof line, "%s: %s", name, value) >= sizeof line)
		return DAM_ELIMIT;
	if (!(l = curl_slist_append(r->headers, line)))
		return DAM_ENOMEM;
	r->headers = l;
	return 0;
}

/* The body's SHA-256 (hex) for x-amz-content-sha256, which S3 checks
 * against the bytes; a streamed body is sent UNSIGNED-PAYLOAD instead,
 * unless the caller gave its hash. */
static int req_payload_header(struct req *r)
{
	unsigned char sum[crypto_hash_sha256_BYTES];
	char hex[crypto_hash_sha256_BYTES * 2 + 1];

	if (r->sha256)
		return req_header(r, "x-amz-content-sha256", r->sha256);
	if (r->body == BODY_STREAM)
		return req_header(r, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
	if (r->body == BODY_NONE || r->mem_len == 0)
		return req_header(r, "x-amz-content-sha256", EMPTY_SHA256);
	crypto_hash_sha256(sum, r->mem, r->mem_len);
	sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
	return req_header(r, "x-amz-content-sha256", hex);
}

static long req_status(struct req *r)
{
	long code = 0;

	curl_easy_getinfo(r->c->h, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* The body goes to the caller's sink only on success; an error document
 * is kept for the message. */
static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct req *r = ud;
	size_t len = size * n;
	long code = req_status(r);
	int rc;

	if (code >= 200 && code < 300) {
		rc = r->sink ? r->sink(r->sink_ctx, data, len) : strbuf_add(&r->resp, data, len);
		if (rc != 0) {
			r->cb_rc = rc; /* returning short makes libcurl stop */
			return 0;
		}
		r->delivered += len;
		return len;
	}
	/* An error body longer than any S3 error document is cut, not failed;
	 * without memory the message has only the status. */
	if (r->ebody.len < ERR_BODY_MAX)
		(void)strbuf_add(&r->ebody, data,
				 len < ERR_BODY_MAX - r->ebody.len ? len : ERR_BODY_MAX - r->ebody.len);
	return len;
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
	struct req *r = ud;
	size_t len = size * n, k;

	if (len > 5 && !strncasecmp(buf, "ETag:", 5)) {
		const char *v = buf + 5;
		while (*v == ' ' && v < buf + len)
			v++;
		k = (size_t)(buf + len - v);
		while (k > 0 && (v[k - 1] == '\r' || v[k - 1] == '\n' || v[k - 1] == ' '))
			k--;
		if (k < sizeof r->etag) {
			memcpy(r->etag, v, k);
			r->etag[k] = '\0';
		}
	}
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
	struct req *r = ud;
	size_t cap = size * n;
	ssize_t got;

	if (r->body == BODY_MEM) {
		if (cap > r->mem_len - r->mem_pos)
			cap = r->mem_len - r->mem_pos;
		memcpy(buf, r->mem + r->mem_pos, cap);
		r->mem_pos += cap;
		return cap;
	}
	if (cap > r->stream_len - r->stream_pos)
		cap = (size_t)(r->stream_len - r->stream_pos);
	if (cap == 0)
		return 0;
	got = r->rfn(r->rctx, buf, cap);
	if (got < 0 || (got == 0 && r->stream_pos < r->stream_len) || (size_t)got > cap) {
		r->cb_rc = got < 0 ? (int)got : DAM_EIO;
		return CURL_READFUNC_ABORT;
	}
	r->stream_pos += (uint64_t)got;
	return (size_t)got;
}

/* libcurl rewinds a body to resend it, e.g. when a kept-alive connection
 * turned out closed. A body in memory can; a streamed one cannot, and that
 * request fails for its caller to retry. */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
	struct req *r = ud;

	if (r->body != BODY_MEM || origin != SEEK_SET || offset < 0 ||
	    (uint64_t)offset > r->mem_len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->mem_pos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* The trace: headers both ways and libcurl's notes, never bodies; the
 * Authorization header is replaced (it carries the key id and a signature
 * made with the secret). */
static int on_trace(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
	FILE *f = ud;
	const char *mark = type == CURLINFO_TEXT ? "* " : type == CURLINFO_HEADER_IN ? "< " : "> ";
	const char *p = data, *end = data + size, *nl;

	if (type != CURLINFO_TEXT && type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
		return 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len >= 14 && !strncasecmp(p, "Authorization:", 14))
			fprintf(f, "%sAuthorization: [redacted]\n", mark);
		else if (len > 0)
			fprintf(f, "%s%.*s\n", mark, (int)len, p);
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* Options every request has; curl_easy_reset() clears the last request's
 * options but keeps the live connection, so the next request reuses it. */
static void req_setup_common(struct req *r)
{
	struct s3_client *c = r->c;
	CURL *h = c->h;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, r->url.buf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L); /* keys are names, not paths to tidy */
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, c->key_id);
	curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	/* No total timeout: a 5 GB object may take long. A stalled one may not. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->stall_timeout_s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	if (c->trace) {
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_trace);
		curl_easy_setopt(h, CURLOPT_DEBUGDATA, c->trace);
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
}

static void req_setup_method(struct req *r)
{
	CURL *h = r->c->h;

	if (!strcmp(r->verb, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->verb, "PUT")) {
		/* Expect: 100-continue stays: libcurl would sign an empty
		 * "Expect:" that it then leaves out, breaking the signature. */
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, r);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, r);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(r->body == BODY_STREAM ? r->stream_len : r->mem_len));
	} else if (!strcmp(r->verb, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->mem ? (const char *)r->mem : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->mem_len);
	} else if (strcmp(r->verb, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->verb);
	}
}

/* ---- XML: the handful of S3 response elements we read ---- */

/* Appends code point cp as UTF-8. */
static int utf8_add(struct strbuf *sb, unsigned long cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		n = 4;
	}
	for (size_t i = 1; i < n; i++)
		b[i] = (unsigned char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 63));
	return strbuf_add(sb, b, n);
}

/* Decodes the reference at s[*i] ("&amp;", "&#233;", "&#xE9;") and moves
 * *i past it. */
static int xml_entity(struct strbuf *sb, const char *s, size_t n, size_t *i)
{
	static const struct { const char *ent; char ch; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
	};
	unsigned long cp;
	char *endp;

	for (size_t e = 0; e < sizeof ents / sizeof ents[0]; e++) {
		size_t k = strlen(ents[e].ent);
		if (*i + k <= n && !memcmp(s + *i, ents[e].ent, k)) {
			*i += k;
			return strbuf_addch(sb, ents[e].ch);
		}
	}
	/* The document ends with a tag, so strtoul stops inside it. */
	if (*i + 3 >= n || s[*i + 1] != '#')
		return DAM_EINVAL;
	cp = s[*i + 2] == 'x' ? strtoul(s + *i + 3, &endp, 16) : strtoul(s + *i + 2, &endp, 10);
	if (endp >= s + n || *endp != ';' || cp == 0 || cp > 0x10FFFF)
		return DAM_EINVAL;
	*i = (size_t)(endp - s) + 1;
	return utf8_add(sb, cp);
}

/* Appends text with XML's entities decoded. */
static int xml_unescape(struct strbuf *sb, const char *s, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0;)
		rc = s[i] == '&' ? xml_entity(sb, s, n, &i) : strbuf_addch(sb, s[i++]);
	return rc;
}

/* Finds the next <tag>...</tag> in [*pos, end): *start and *len give its raw
 * content and *pos moves past it. False when there is none. S3's documents
 * have no attributes on the elements read here and no CDATA. */
static bool xml_next(const char **pos, const char *end, const char *tag, const char **start,
		     size_t *len)
{
	char open[64], close[64];
	const char *a, *b;

	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	if (!(a = memmem(*pos, (size_t)(end - *pos), open, strlen(open))))
		return false;
	a += strlen(open);
	if (!(b = memmem(a, (size_t)(end - a), close, strlen(close))))
		return false;
	*start = a;
	*len = (size_t)(b - a);
	*pos = b + strlen(close);
	return true;
}

/* The text of the first <tag> in [from, end), decoded into sb (reset
 * first). False when absent or malformed. */
static bool xml_text(const char *from, const char *end, const char *tag, struct strbuf *sb)
{
	const char *s;
	size_t n;

	strbuf_reset(sb);
	return xml_next(&from, end, tag, &s, &n) && xml_unescape(sb, s, n) == 0;
}

/* ---- errors ---- */

/* What to check, for the S3 error codes that mean a configuration fault. */
static const char *error_hint(const char *code)
{
	static const struct { const char *code, *hint; } hints[] = {
		{ "SignatureDoesNotMatch",
		  "the signature does not match: the secret is wrong for this key id "
		  "(or the request was altered)" },
		{ "InvalidAccessKeyId", "the server does not know this key id" },
		{ "AccessDenied", "the key may not do this on this bucket" },
		{ "NoSuchBucket", "the bucket does not exist" },
		{ "RequestTimeTooSkewed", "this machine's clock is too far off the server's" },
	};

	for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
		if (!strcmp(code, hints[i].code))
			return hints[i].hint;
	return NULL;
}

static int status_code(long status)
{
	switch (status) {
	case 404: return DAM_ENOTFOUND;
	case 403: return DAM_EPERM;
	case 400: case 416: return DAM_EINVAL;
	case 409: case 412: return DAM_ECONFLICT;
	default: return DAM_EIO;
	}
}

/* Maps a failed response (S3's <Error> document, or just a status) to
 * dam_err. */
static int req_fail(struct req *r, struct dam_err *err)
{
	struct strbuf code = STRBUF_INIT, msg = STRBUF_INIT;
	const struct strbuf *doc = r->ebody.len ? &r->ebody : &r->resp;
	const char *hint = NULL;
	int rc = status_code(r->status);

	xml_text(doc->buf, doc->buf + doc->len, "Code", &code);
	xml_text(doc->buf, doc->buf + doc->len, "Message", &msg);
	if (code.len)
		hint = error_hint(code.buf);
	else if (r->status == 403)
		hint = "no error document came (HEAD answers have none): a wrong secret, an "
		       "unknown key id or a missing permission";
	dam_err_set(err, rc, "s3", "s3: %s %s/%s: HTTP %ld%s%s%s%s%s%s", r->verb, r->c->bucket,
		    r->key ? r->key : "", r->status, code.len ? " " : "", code.buf,
		    msg.len ? ": " : "", msg.buf, hint ? " - " : "", hint ? hint : "");
	strbuf_release(&code);
	strbuf_release(&msg);
	return rc;
}

/* Runs r. Returns 0 when S3 answered (any status, in r->status), or an
 * error for a transport failure or a callback that stopped it. */
static int req_perform(struct req *r, struct dam_err *err)
{
	CURLcode cc;
	int rc;

	if ((rc = req_payload_header(r)) < 0)
		return dam_err_set(err, rc, NULL, "s3: cannot build the request headers");
	r->c->curl_err[0] = '\0';
	req_setup_common(r);
	req_setup_method(r);
	cc = curl_easy_perform(r->c->h);
	r->status = req_status(r);
	if (cc == CURLE_WRITE_ERROR && r->cb_rc == SINK_DONE)
		return 0;
	if (r->cb_rc < 0)
		return dam_err_set(err, r->cb_rc, "s3", "s3: %s %s/%s: stopped: %s", r->verb,
				   r->c->bucket, r->key ? r->key : "",
				   r->body == BODY_STREAM ? "the body's reader failed or ended early"
							  : dam_err_name(r->cb_rc));
	if (cc != CURLE_OK)
		return dam_err_set(err, DAM_EIO, "s3", "s3: %s %s/%s: %s", r->verb, r->c->bucket,
				   r->key ? r->key : "",
				   r->c->curl_err[0] ? r->c->curl_err : curl_easy_strerror(cc));
	return 0;
}

/* req_perform, then any status but 2xx is an error. */
static int req_run(struct req *r, struct dam_err *err)
{
	int rc = req_perform(r, err);

	if (rc == 0 && (r->status < 200 || r->status > 299))
		rc = req_fail(r, err);
	return rc;
}

/* Some answers (CopyObject, CompleteMultipartUpload) are 200 with an
 * <Error> document when the server fails after it started answering. */
static int req_check_body(struct req *r, struct dam_err *err)
{
	if (memmem(r->resp.buf, r->resp.len, "<Error>", 7)) {
		r->status = 500;
		return req_fail(r, err);
	}
	return 0;
}

/* Fills r's URL; a bad key is the caller's input error. */
static int req_url(struct req *r, const char *key, struct qparam *q, size_t n,
		   struct dam_err *err)
{
	if (key && !key_ok(key))
		return dam_err_set(err, DAM_EINVAL, "s3", "s3: object key must be 1..%d bytes",
				   KEY_MAX);
	if (url_make(r->c, key, q, n, &r->url) < 0)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	return 0;
}

/* ---- objects ---- */

int s3_bucket_create(struct s3_client *c, struct dam_err *err)
{
	struct strbuf body = STRBUF_INIT;
	struct req r;
	int rc;

	req_init(&r, c, "PUT", NULL);
	/* us-east-1 is the default location; elsewhere AWS wants it named. */
	if (strcmp(c->region, "us-east-1") &&
	    strbuf_addf(&body,
			"<CreateBucketConfiguration><LocationConstraint>%s</LocationConstraint>"
			"</CreateBucketConfiguration>",
			c->region) < 0) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	r.body = BODY_MEM;
	r.mem = (const unsigned char *)body.buf;
	r.mem_len = body.len;
	if ((rc = req_url(&r, NULL, NULL, 0, err)) < 0 || (rc = req_perform(&r, err)) < 0)
		goto out;
	if (r.status == 409 && memmem(r.ebody.buf, r.ebody.len, "BucketAlreadyOwnedByYou", 23))
		rc = 0;
	else if (r.status < 200 || r.status > 299)
		rc = req_fail(&r, err);
out:
	req_release(&r);
	strbuf_release(&body);
	return rc;
}

/* One PUT from memory; if_absent adds If-None-Match: * (412 when the key
 * exists). */
/* sha256: the body's hash when the caller knows it (else computed). */
static int put_mem(struct s3_client *c, const char *key, const void *data, size_t len, bool if_absent,
		   const char *sha256, struct dam_err *err)
{
	struct req r;
	int rc;

	req_init(&r, c, "PUT", key);
	r.body = BODY_MEM;
	r.mem = data;
	r.mem_len = len;
	r.sha256 = sha256;
	if (if_absent && (rc = req_header(&r, "If-None-Match", "*")) < 0)
		rc = dam_err_set(err, rc, NULL, "s3: cannot build the request headers");
	else if ((rc = req_url(&r, key, NULL, 0, err)) == 0)
		rc = req_run(&r, err);
	req_release(&r);
	return rc;
}

int s3_put(struct s3_client *c, const char *key, const void *data, size_t len,
	   struct dam_err *err)
{
	return put_mem(c, key, data, len, false, NULL, err);
}

int s3_put_if_absent(struct s3_client *c, const char *key, const void *data, size_t len,
		     struct dam_err *err)
{
	return put_mem(c, key, data, len, true, NULL, err);
}

int s3_put_sha256(struct s3_client *c, const char *key, const void *data, size_t len, const char *sha256,
		  struct dam_err *err)
{
	return put_mem(c, key, data, len, false, sha256, err);
}

static int put_stream(struct s3_client *c, const char *key, uint64_t len, const char *sha256, s3_read_fn fn,
		      void *ctx, struct dam_err *err)
{
	struct req r;
	int rc;

	req_init(&r, c, "PUT", key);
	r.body = BODY_STREAM;
	r.rfn = fn;
	r.rctx = ctx;
	r.stream_len = len;
	r.sha256 = sha256;
	if ((rc = req_url(&r, key, NULL, 0, err)) == 0)
		rc = req_run(&r, err);
	req_release(&r);
	return rc;
}

int s3_put_stream(struct s3_client *c, const char *key, uint64_t len, s3_read_fn fn, void *ctx,
		  struct dam_err *err)
{
	return put_stream(c, key, len, NULL, fn, ctx, err);
}

int s3_put_stream_sha256(struct s3_client *c, const char *key, uint64_t len, const char *sha256, s3_read_fn fn,
			 void *ctx, struct dam_err *err)
{
	return put_stream(c, key, len, sha256, fn, ctx, err);
}

int s3_get_stream(struct s3_client *c, const char *key, s3_write_fn fn, void *ctx,
		  uint64_t *size, struct dam_err *err)
{
	struct req r;
	int rc;

	req_init(&r, c, "GET", key);
	r.sink = fn;
	r.sink_ctx = ctx;
	if ((rc = req_url(&r, key, NULL, 0, err)) == 0)
		rc = req_run(&r, err);
	if (size)
		*size = r.delivered;
	req_release(&r);
	return rc;
}

int s3_get(struct s3_client *c, const char *key, size_t max, void **data, size_t *len,
	   struct dam_err *err)
{
	struct req r;
	int rc;

	*data = NULL;
	*len = 0;
	req_init(&r, c, "GET", key);
	r.resp.max = max;
	if ((rc = req_url(&r, key, NULL, 0, err)) < 0 || (rc = req_run(&r, err)) < 0)
		goto out;
	if (!(*data = strbuf_detach(&r.resp, len)))
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
out:
	req_release(&r);
	return rc;
}

struct range_sink {
	unsigned char *buf;
	size_t cap, got;
};

static int range_write(void *ctx, const void *data, size_t len)
{
	struct range_sink *s = ctx;
	size_t n = len < s->cap - s->got ? len : s->cap - s->got;

	memcpy(s->buf + s->got, data, n);
	s->got += n;
	/* More than asked for: stop there. An exact fill ends on its own, which
	 * keeps the connection for the next read. */
	return n < len ? SINK_DONE : 0;
}

int s3_get_range(struct s3_client *c, const char *key, uint64_t offset, void *buf, size_t len,
		 size_t *got, struct dam_err *err)
{
	struct range_sink s = { buf, len, 0 };
	char range[64];
	struct req r;
	int rc;

	*got = 0;
	if (len == 0)
		return 0;
	req_init(&r, c, "GET", key);
	r.sink = range_write;
	r.sink_ctx = &s;
	snprintf(range, sizeof range, "bytes=%" PRIu64 "-%" PRIu64, offset, offset + len - 1);
	if ((rc = req_url(&r, key, NULL, 0, err)) < 0 || (rc = req_header(&r, "Range", range)) < 0 ||
	    (rc = req_perform(&r, err)) < 0)
		goto out;
	if (r.status == 416) /* at or past the end: like pread, nothing */
		goto out;
	if (r.status == 200 && offset > 0) /* the server ignored Range */
		rc = dam_err_set(err, DAM_EIO, "s3", "s3: GET %s/%s: the server ignored Range",
				 c->bucket, key);
	else if (r.status != 206 && r.status != 200)
		rc = req_fail(&r, err);
	else
		*got = s.got;
out:
	if (rc == DAM_ENOMEM)
		dam_err_set(err, rc, NULL, "out of memory");
	req_release(&r);
	return rc;
}

int s3_head(struct s3_client *c, const char *key, uint64_t *size, struct dam_err *err)
{
	curl_off_t cl = -1;
	struct req r;
	int rc;

	req_init(&r, c, "HEAD", key);
	if ((rc = req_url(&r, key, NULL, 0, err)) == 0 && (rc = req_run(&r, err)) == 0 && size) {
		curl_easy_getinfo(c->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (cl < 0)
			rc = dam_err_set(err, DAM_EIO, "s3", "s3: HEAD %s/%s: no Content-Length",
					 c->bucket, key);
		else
			*size = (uint64_t)cl;
	}
	req_release(&r);
	return rc;
}

/* A 404 that means "already gone" (no such key or upload), not a missing
 * bucket, which is a configuration fault to report. */
static bool req_gone(const struct req *r)
{
	return r->status == 404 && !memmem(r->ebody.buf, r->ebody.len, "NoSuchBucket", 12);
}

int s3_delete(struct s3_client *c, const char *key, struct dam_err *err)
{
	struct req r;
	int rc;

	req_init(&r, c, "DELETE", key);
	if ((rc = req_url(&r, key, NULL, 0, err)) == 0 && (rc = req_perform(&r, err)) == 0 &&
	    !req_gone(&r) && (r.status < 200 || r.status > 299))
		rc = req_fail(&r, err);
	req_release(&r);
	return rc;
}

/* ---- listing ---- */

static int list_entry(const char *s, const char *e, s3_list_fn fn, void *ctx, struct strbuf tx[4])
{
	struct s3_object o = { 0 };
	char *endp;

	if (!xml_text(s, e, "Key", &tx[0]) || !xml_text(s, e, "Size", &tx[1]))
		return DAM_EIO;
	xml_text(s, e, "ETag", &tx[2]);
	xml_text(s, e, "LastModified", &tx[3]);
	o.key = tx[0].buf;
	o.size = strtoull(tx[1].buf, &endp, 10);
	if (*endp || endp == tx[1].buf)
		return DAM_EIO;
	o.etag = tx[2].buf;
	o.last_modified = tx[3].buf;
	return fn(ctx, &o);
}

/* One page: calls fn per <Contents>; *token gets the next page's token
 * (empty when this was the last). */
static int list_page(struct req *r, s3_list_fn fn, void *ctx, struct strbuf *token,
		     struct dam_err *err)
{
	struct strbuf tx[4] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
	const char *pos = r->resp.buf, *end = pos + r->resp.len, *s;
	size_t n;
	int rc = 0;

	while (rc == 0 && xml_next(&pos, end, "Contents", &s, &n))
		rc = list_entry(s, s + n, fn, ctx, tx);
	if (rc == DAM_EIO)
		dam_err_set(err, rc, "s3", "s3: list %s: malformed answer", r->c->bucket);
	if (rc == 0 && !strstr(r->resp.buf, "<IsTruncated>true</IsTruncated>"))
		strbuf_reset(token);
	else if (rc == 0 && !xml_text(r->resp.buf, end, "NextContinuationToken", token))
		rc = dam_err_set(err, DAM_EIO, "s3", "s3: list %s: truncated without a token",
				 r->c->bucket);
	for (int i = 0; i < 4; i++)
		strbuf_release(&tx[i]);
	return rc;
}

int s3_list(struct s3_client *c, const char *prefix, int page_size, s3_list_fn fn, void *ctx,
	    struct dam_err *err)
{
	struct strbuf token = STRBUF_INIT;
	char max[16];
	struct req r;
	int rc = 0;

	snprintf(max, sizeof max, "%d", page_size > 0 && page_size <= 1000 ? page_size : 1000);
	do {
		struct qparam q[4] = { { "list-type", "2" }, { "max-keys", max } };
		size_t n = 2;
		if (prefix && *prefix)
			q[n++] = (struct qparam){ "prefix", prefix };
		if (token.len)
			q[n++] = (struct qparam){ "continuation-token", token.buf };
		req_init(&r, c, "GET", prefix);
		if ((rc = req_url(&r, NULL, q, n, err)) == 0 && (rc = req_run(&r, err)) == 0)
			rc = list_page(&r, fn, ctx, &token, err);
		req_release(&r);
	} while (rc == 0 && token.len);
	strbuf_release(&token);
	return rc;
}

/* ---- multipart ---- */

int s3_multipart_create(struct s3_client *c, const char *key, char **upload_id,
			struct dam_err *err)
{
	struct qparam q[] = { { "uploads", NULL } };
	struct strbuf id = STRBUF_INIT;
	struct req r;
	int rc;

	*upload_id = NULL;
	req_init(&r, c, "POST", key);
	if ((rc = req_url(&r, key, q, 1, err)) < 0 || (rc = req_run(&r, err)) < 0)
		goto out;
	if (!xml_text(r.resp.buf, r.resp.buf + r.resp.len, "UploadId", &id) || !id.len) {
		rc = dam_err_set(err, DAM_EIO, "s3", "s3: POST %s/%s?uploads: no UploadId", c->bucket,
				 key);
		goto out;
	}
	if (!(*upload_id = strbuf_detach(&id, NULL)))
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
out:
	strbuf_release(&id);
	req_release(&r);
	return rc;
}

int s3_multipart_put_part(struct s3_client *c, const char *key, const char *upload_id,
			  const void *data, size_t len, struct s3_part *part, struct dam_err *err)
{
	char num[16];
	struct qparam q[] = { { "partNumber", num }, { "uploadId", upload_id } };
	struct req r;
	int rc;

	if (part->number < 1 || part->number > MAX_PARTS)
		return dam_err_set(err, DAM_EINVAL, "s3", "s3: part number %d is outside 1..%d",
				   part->number, MAX_PARTS);
	snprintf(num, sizeof num, "%d", part->number);
	req_init(&r, c, "PUT", key);
	r.body = BODY_MEM;
	r.mem = data;
	r.mem_len = len;
	if ((rc = req_url(&r, key, q, 2, err)) == 0 && (rc = req_run(&r, err)) == 0) {
		if (!r.etag[0])
			rc = dam_err_set(err, DAM_EIO, "s3", "s3: PUT %s/%s part %d: no ETag",
					 c->bucket, key, part->number);
		else
			memcpy(part->etag, r.etag, sizeof part->etag);
	}
	req_release(&r);
	return rc;
}

static int complete_doc(struct strbuf *sb, const struct s3_part *parts, size_t n)
{
	int rc = strbuf_adds(sb, "<CompleteMultipartUpload>");

	for (size_t i = 0; i < n && rc == 0; i++)
		rc = strbuf_addf(sb, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
				 parts[i].number, parts[i].etag);
	if (rc == 0)
		rc = strbuf_adds(sb, "</CompleteMultipartUpload>");
	return rc;
}

int s3_multipart_complete(struct s3_client *c, const char *key, const char *upload_id,
			  const struct s3_part *parts, size_t n, struct dam_err *err)
{
	struct qparam q[] = { { "uploadId", upload_id } };
	struct strbuf doc = STRBUF_INIT;
	struct req r;
	int rc;

	req_init(&r, c, "POST", key);
	for (size_t i = 0; i < n; i++)
		if (strpbrk(parts[i].etag, "<&")) {
			req_release(&r);
			return dam_err_set(err, DAM_EINVAL, "s3", "s3: bad ETag of part %d",
					   parts[i].number);
		}
	if (complete_doc(&doc, parts, n) < 0) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	r.body = BODY_MEM;
	r.mem = (const unsigned char *)doc.buf;
	r.mem_len = doc.len;
	if ((rc = req_url(&r, key, q, 1, err)) == 0 && (rc = req_run(&r, err)) == 0)
		rc = req_check_body(&r, err);
out:
	strbuf_release(&doc);
	req_release(&r);
	return rc;
}

int s3_multipart_abort(struct s3_client *c, const char *key, const char *upload_id,
		       struct dam_err *err)
{
	struct qparam q[] = { { "uploadId", upload_id } };
	struct req r;
	int rc;

	req_init(&r, c, "DELETE", key);
	if ((rc = req_url(&r, key, q, 1, err)) == 0 && (rc = req_perform(&r, err)) == 0 &&
	    !req_gone(&r) && (r.status < 200 || r.status > 299))
		rc = req_fail(&r, err);
	req_release(&r);
	return rc;
}

static int pending_entry(const char *s, const char *e, s3_pending_fn fn, void *ctx,
			 struct strbuf tx[3])
{
	struct s3_pending p;

	if (!xml_text(s, e, "Key", &tx[0]) || !xml_text(s, e, "UploadId", &tx[1]))
		return DAM_EIO;
	xml_text(s, e, "Initiated", &tx[2]);
	p.key = tx[0].buf;
	p.upload_id = tx[1].buf;
	p.initiated = tx[2].buf;
	return fn(ctx, &p);
}

/* One page of ListMultipartUploads; the markers get the next page's
 * position (key marker empty when this was the last). */
static int pending_page(struct req *r, s3_pending_fn fn, void *ctx, struct strbuf *kmark,
			struct strbuf *umark, struct dam_err *err)
{
	struct strbuf tx[3] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
	const char *pos = r->resp.buf, *end = pos + r->resp.len, *s;
	size_t n;
	int rc = 0;

	while (rc == 0 && xml_next(&pos, end, "Upload", &s, &n))
		rc = pending_entry(s, s + n, fn, ctx, tx);
	if (rc == DAM_EIO)
		dam_err_set(err, rc, "s3", "s3: list uploads %s: malformed answer", r->c->bucket);
	if (rc == 0 && !strstr(r->resp.buf, "<IsTruncated>true</IsTruncated>")) {
		strbuf_reset(kmark);
	} else if (rc == 0 && (!xml_text(r->resp.buf, end, "NextKeyMarker", kmark) || !kmark->len)) {
		rc = dam_err_set(err, DAM_EIO, "s3", "s3: list uploads %s: truncated without a marker",
				 r->c->bucket);
	} else if (rc == 0) {
		xml_text(r->resp.buf, end, "NextUploadIdMarker", umark);
	}
	for (int i = 0; i < 3; i++)
		strbuf_release(&tx[i]);
	return rc;
}

int s3_multipart_list(struct s3_client *c, const char *prefix, s3_pending_fn fn, void *ctx,
		      struct dam_err *err)
{
	struct strbuf kmark = STRBUF_INIT, umark = STRBUF_INIT;
	struct req r;
	int rc = 0;

	do {
		struct qparam q[4] = { { "uploads", NULL } };
		size_t n = 1;
		if (prefix && *prefix)
			q[n++] = (struct qparam){ "prefix", prefix };
		if (kmark.len) {
			q[n++] = (struct qparam){ "key-marker", kmark.buf };
			q[n++] = (struct qparam){ "upload-id-marker", umark.buf };
		}
		req_init(&r, c, "GET", prefix);
		if ((rc = req_url(&r, NULL, q, n, err)) == 0 && (rc = req_run(&r, err)) == 0)
			rc = pending_page(&r, fn, ctx, &kmark, &umark, err);
		req_release(&r);
	} while (rc == 0 && kmark.len);
	strbuf_release(&kmark);
	strbuf_release(&umark);
	return rc;
}

/* ---- server-side copy ---- */

/* The x-amz-copy-source header: "/bucket/key", URI-encoded. */
static int copy_source(struct req *r, const char *src)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = strbuf_addf(&sb, "/%s/", r->c->bucket);

	if (rc == 0)
		rc = uri_encode(&sb, src, true);
	if (rc == 0)
		rc = req_header(r, "x-amz-copy-source", sb.buf);
	strbuf_release(&sb);
	return rc;
}

static int copy_whole(struct s3_client *c, const char *src, const char *dst,
		      struct dam_err *err)
{
	struct req r;
	int rc;

	req_init(&r, c, "PUT", dst);
	if ((rc = req_url(&r, dst, NULL, 0, err)) == 0) {
		if (copy_source(&r, src) < 0)
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		else if ((rc = req_run(&r, err)) == 0)
			rc = req_check_body(&r, err);
	}
	req_release(&r);
	return rc;
}

/* Part size for copying size bytes through the client: the configured
 * one, raised where S3's 10,000 parts would not hold the object. */
static size_t copy_part_size(const struct s3_client *c, uint64_t size)
{
	uint64_t part = c->part_size;

	if (part < (size + MAX_PARTS - 1) / MAX_PARTS)
		part = (size + MAX_PARTS - 1) / MAX_PARTS;
	return (size_t)part;
}

/* Above copy_max (5 GiB, CopyObject's limit) the bytes go through this
 * client, one part at a time: a ranged GET, then UploadPart; memory is
 * bounded by one part. Server-side UploadPartCopy would spare the traffic,
 * but libcurl 7.88 sorts the headers it signs as whole "name:value" lines,
 * so "x-amz-copy-source-range" lands before "x-amz-copy-source" and every
 * such request fails with SignatureDoesNotMatch. */
static int copy_through(struct s3_client *c, const char *src, const char *dst, uint64_t size,
			struct dam_err *err)
{
	size_t part = copy_part_size(c, size), nparts = (size_t)((size + part - 1) / part), got;
	struct s3_part *parts = NULL;
	unsigned char *buf = NULL;
	char *id = NULL;
	int rc;

	if (!(parts = calloc(nparts, sizeof *parts)) || !(buf = malloc(part))) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if ((rc = s3_multipart_create(c, dst, &id, err)) < 0)
		goto out;
	for (size_t i = 0; i < nparts && rc == 0; i++) {
		uint64_t from = (uint64_t)i * part;
		size_t n = size - from < part ? (size_t)(size - from) : part;
		parts[i].number = (int)i + 1;
		if ((rc = s3_get_range(c, src, from, buf, n, &got, err)) == 0 && got != n)
			rc = dam_err_set(err, DAM_ECONFLICT, "s3",
					 "s3: copy of %s: it changed size while copied", src);
		if (rc == 0)
			rc = s3_multipart_put_part(c, dst, id, buf, n, &parts[i], err);
	}
	if (rc == 0)
		rc = s3_multipart_complete(c, dst, id, parts, nparts, err);
	if (rc < 0)
		s3_multipart_abort(c, dst, id, NULL);
out:
	free(id);
	free(buf);
	free(parts);
	return rc;
}

int s3_copy(struct s3_client *c, const char *src, const char *dst, uint64_t size,
	    struct dam_err *err)
{
	int rc;

	if (!key_ok(src) || !key_ok(dst))
		return dam_err_set(err, DAM_EINVAL, "s3", "s3: object key must be 1..%d bytes",
				   KEY_MAX);
	if (size == UINT64_MAX && (rc = s3_head(c, src, &size, err)) < 0)
		return rc;
	if (size <= c->copy_max || size == 0)
		return copy_whole(c, src, dst, err);
	return copy_through(c, src, dst, size, err);
}

/* ---- streaming upload ---- */

struct s3_upload {
	struct s3_client *c;
	char *key;
	unsigned char *buf; /* the part being filled; grows up to part_size */
	size_t len, cap;
	char *upload_id;    /* NULL until the first part is sent */
	struct s3_part *parts;
	size_t nparts, parts_cap;
	uint64_t size;
};

int s3_upload_begin(struct s3_client *c, const char *key, struct s3_upload **out,
		    struct dam_err *err)
{
	struct s3_upload *u;

	*out = NULL;
	if (!key_ok(key))
		return dam_err_set(err, DAM_EINVAL, "s3", "s3: object key must be 1..%d bytes",
				   KEY_MAX);
	if (!(u = calloc(1, sizeof *u)) || !(u->key = strdup(key))) {
		free(u);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	u->c = c;
	*out = u;
	return 0;
}

/* Makes room for want bytes in the part buffer: 64 KiB for a small object
 * (most thumbnails), then one whole part in one step. Growing by doubling
 * would hold the old and the new buffer at once while copying, 1.5 parts. */
static int upload_reserve(struct s3_upload *u, size_t want)
{
	size_t cap = want <= SMALL_BUF ? SMALL_BUF : u->c->part_size;
	unsigned char *p;

	if (want <= u->cap)
		return 0;
	if (!(p = realloc(u->buf, cap)))
		return DAM_ENOMEM;
	u->buf = p;
	u->cap = cap;
	return 0;
}

/* Sends the full buffer as the next part (starting the multipart upload
 * with the first). */
static int upload_flush(struct s3_upload *u, struct dam_err *err)
{
	struct s3_part *p;
	int rc;

	if (!u->upload_id && (rc = s3_multipart_create(u->c, u->key, &u->upload_id, err)) < 0)
		return rc;
	if (u->nparts == MAX_PARTS)
		return dam_err_set(err, DAM_ELIMIT, "s3",
				   "s3: upload of %s needs more than %d parts; raise the part size",
				   u->key, MAX_PARTS);
	if (u->nparts == u->parts_cap) {
		size_t cap = u->parts_cap ? u->parts_cap * 2 : 16;
		if (!(p = realloc(u->parts, cap * sizeof *p)))
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		u->parts = p;
		u->parts_cap = cap;
	}
	p = &u->parts[u->nparts];
	p->number = (int)u->nparts + 1;
	if ((rc = s3_multipart_put_part(u->c, u->key, u->upload_id, u->buf, u->len, p, err)) < 0)
		return rc;
	u->nparts++;
	u->len = 0;
	return 0;
}

int s3_upload_write(struct s3_upload *u, const void *data, size_t len, struct dam_err *err)
{
	const unsigned char *p = data;
	size_t part = u->c->part_size, n;
	int rc;

	while (len > 0) {
		/* A full part is sent only once more bytes follow, so an object
		 * of exactly one part is still a single PUT. */
		if (u->len == part && (rc = upload_flush(u, err)) < 0)
			return rc;
		n = len < part - u->len ? len : part - u->len;
		if (upload_reserve(u, u->len + n) < 0)
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		memcpy(u->buf + u->len, p, n);
		u->len += n;
		u->size += n;
		p += n;
		len -= n;
	}
	return 0;
}

uint64_t s3_upload_size(const struct s3_upload *u)
{
	return u->size;
}

static void upload_free(struct s3_upload *u)
{
	free(u->key);
	free(u->buf);
	free(u->upload_id);
	free(u->parts);
	free(u);
}

int s3_upload_finish(struct s3_upload *u, struct dam_err *err)
{
	int rc;

	if (!u->upload_id) {
		rc = s3_put(u->c, u->key, u->buf, u->len, err);
		upload_free(u);
		return rc;
	}
	if ((u->len > 0 && (rc = upload_flush(u, err)) < 0) ||
	    (rc = s3_multipart_complete(u->c, u->key, u->upload_id, u->parts, u->nparts, err)) < 0) {
		s3_upload_abort(u);
		return rc;
	}
	upload_free(u);
	return 0;
}

void s3_upload_abort(struct s3_upload *u)
{
	if (!u)
		return;
	/* Best effort: an upload left behind is found by gc (s3_multipart_list). */
	if (u->upload_id)
		s3_multipart_abort(u->c, u->key, u->upload_id, NULL);
	upload_free(u);
}
