/* h_upload.c - single-request uploads: multipart/form-data with one or many
 * files plus fields, or a raw body with the file name in a header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/asset.h"
#include "core/ingest.h"
#include "core/job.h"
#include "core/upload.h"
#include "http/handlers.h"
#include "http/multipart.h"
#include "util/fsutil.h"
#include "util/utf8.h"

#define MAX_OPTS 64

struct upload_opts {
	struct ingest_opts o;
	const char *tags[MAX_OPTS], *keys[MAX_OPTS], *vals[MAX_OPTS];
	char *owned[3 * MAX_OPTS];
	int nowned;
};

static void opts_release(struct upload_opts *u)
{
	for (int i = 0; i < u->nowned; i++)
		free(u->owned[i]);
}

static const char *own(struct upload_opts *u, char *s)
{
	if (u->nowned < 3 * MAX_OPTS)
		u->owned[u->nowned++] = s;
	return s;
}

/* A client's file name made safe: the last path segment, checked by
 * utf8_name_check() (the one rule for stored names), refusing ".."
 * segments and absolute paths. NULL with res filled when refused. */
static char *safe_name(const char *name, size_t len, struct http_res *res)
{
	const char *base;
	struct dam_err err;

	for (base = name + len; base > name && base[-1] != '/' && base[-1] != '\\'; base--)
		;
	/* The base name first, so a long name is called long whatever it holds;
	 * then the folders the client sent (dropped, but not when malformed). */
	if (utf8_name_check(base, (size_t)(name + len - base), DAM_NAME_MAX, "the file name", "filename", &err) < 0 ||
	    utf8_name_check(name, len, 4 * DAM_NAME_MAX, "the file name's folders", "filename", &err) < 0) {
		http_res_error(res, 400, "invalid_filename", err.msg, "filename");
		return NULL;
	}
	if (name[0] == '/' || name[0] == '\\' || strstr(name, "..") == name || memmem(name, len, "/..", 3) ||
	    memmem(name, len, "\\..", 3)) {
		http_res_error(res, 400, "invalid_filename", "the file name may not be an absolute path or contain ..", "filename");
		return NULL;
	}
	return strndup(base, (size_t)(name + len - base));
}

/* Tags and fields of a form part: "tag" (repeatable), "tags" (comma
 * separated), "field.KEY". Other names are refused. */
static int form_field(struct upload_opts *u, const struct multipart_part *p, struct http_res *res)
{
	char *v = strndup(p->data, p->len);

	if (!v || !utf8_valid(v, p->len) || strlen(v) != p->len) {
		free(v);
		return http_res_error(res, 400, "invalid", "form values must be UTF-8 text", p->name), -1;
	}
	own(u, v);
	if (!strcmp(p->name, "tag") && u->o.ntags < MAX_OPTS) {
		u->tags[u->o.ntags++] = v;
	} else if (!strcmp(p->name, "tags")) {
		for (char *save = NULL, *t = strtok_r(v, ",", &save); t && u->o.ntags < MAX_OPTS; t = strtok_r(NULL, ",", &save)) {
			while (*t == ' ')
				t++;
			for (char *e = t + strlen(t); e > t && e[-1] == ' '; e--)
				e[-1] = '\0';
			if (*t)
				u->tags[u->o.ntags++] = t;
		}
	} else if (!strcmp(p->name, "template")) {
		u->o.template_name = v;
	} else if (!strncmp(p->name, "field.", 6) && u->o.nmeta < MAX_OPTS) {
		u->keys[u->o.nmeta] = own(u, strdup(p->name + 6));
		u->vals[u->o.nmeta++] = v;
	} else {
		char m[200];
		snprintf(m, sizeof m, "unknown form field \"%.60s\" (use file, tag, tags, template or field.KEY)", p->name);
		return http_res_error(res, 400, "unknown_field", m, p->name), -1;
	}
	return 0;
}

static int ingest_bytes(struct server_ctx *srv, struct dam *dam, const char *name, const char *data, size_t len,
			const struct ingest_opts *o, json_t *results)
{
	struct ingest_result r;
	int fd = memfd_create("dam-upload", MFD_CLOEXEC), rc;

	if (fd < 0 || fs_write_full(fd, data, len) < 0) {
		if (fd >= 0)
			close(fd);
		return DAM_EIO;
	}
	rc = ingest_fd(dam, fd, name, NULL, o, &r);
	close(fd);
	if (rc < 0)
		return rc;
	atomic_fetch_add(&srv->metrics.uploads, 1);
	atomic_fetch_add(&srv->metrics.upload_bytes, len);
	if (r.status == INGEST_DUPLICATE)
		atomic_fetch_add(&srv->metrics.duplicates, 1);
	json_array_append_new(results, ingest_result_json(&r, name));
	return 0;
}

static void respond(struct http_res *res, json_t *results)
{
	int added = 0, dups = 0, failed = 0, versions = 0;
	json_t *r;
	size_t i;

	json_array_foreach(results, i, r) {
		const char *s = json_string_value(json_object_get(r, "status"));
		added += !strcmp(s, "added");
		versions += !strcmp(s, "version");
		dups += !strcmp(s, "duplicate");
		failed += !strcmp(s, "failed");
	}
	http_res_json(res, added || versions ? 201 : failed && !dups ? 422 : 200,
		      json_pack("{s:O,s:{s:i,s:i,s:i,s:i}}", "results", results, "summary", "added", added, "versions",
				versions, "duplicates", dups, "failed", failed));
}

/* Shared by new assets and new versions (target non-NULL). */
static void upload(struct server_ctx *srv, struct dam *dam, struct http_req *req, struct http_res *res,
		   const char *target)
{
	const char *ct = http_req_header(req, "content-type");
	struct upload_opts u = { 0 };
	json_t *results = json_array();
	struct dam_err err;
	char boundary[80], *names[MULTIPART_MAX_PARTS] = { 0 };
	int n, files = 0;

	u.o.priority = JOB_PRIO_INTERACTIVE;
	u.o.user_id = req->actor.user_id;
	u.o.new_version_of = target;
	u.o.tags = u.tags;
	u.o.meta_keys = u.keys;
	u.o.meta_values = u.vals;
	if (!req->body_len) {
		http_res_error(res, 400, "empty", "the request has no file", NULL);
		goto out;
	}
	if (req->body_len > srv->opts.max_upload) {
		char m[160];
		snprintf(m, sizeof m, "single-request uploads are limited to %zu bytes; use resumable uploads (tus) at /api/v1/uploads",
			 srv->opts.max_upload);
		http_res_error(res, 413, "too_large", m, NULL);
		goto out;
	}
	if (ct && !strncasecmp(ct, "multipart/", 10)) {
		struct multipart_part *p = malloc(sizeof(struct multipart_part) * MULTIPART_MAX_PARTS);
		if (!p || multipart_boundary(ct, boundary, sizeof boundary, &err) < 0 ||
		    (n = multipart_parse(req->body, req->body_len, boundary, p, &err)) < 0) {
			http_res_error(res, 400, p && !strcmp(err.field, "filename") ? "invalid_filename" : "invalid_multipart",
				       p ? err.msg : "out of memory", p ? err.field : NULL);
			free(p);
			goto out;
		}
		for (int i = 0; i < n; i++)
			if (!p[i].filename[0] && form_field(&u, &p[i], res) < 0) {
				free(p);
				goto out;
			}
		if (ingest_opts_check(&u.o, &err) < 0) {
			free(p);
			http_res_dam_error(res, &err);
			goto out;
		}
		/* Check every file name and the count before storing anything:
		 * a refused request stores nothing. */
		for (int i = 0; i < n; i++) {
			if (!p[i].filename[0])
				continue;
			if (!(names[files] = safe_name(p[i].filename, strlen(p[i].filename), res))) {
				free(p);
				goto out;
			}
			files++;
		}
		if (target && files > 1) {
			free(p);
			http_res_error(res, 400, "too_many_files", "a new version takes exactly one file", "file");
			goto out;
		}
		for (int i = 0, f = 0; i < n; i++) {
			if (!p[i].filename[0])
				continue;
			if (ingest_bytes(srv, dam, names[f++], p[i].data, p[i].len, &u.o, results) < 0) {
				free(p);
				http_res_error(res, 500, "internal", "the upload could not be stored", NULL);
				goto out;
			}
		}
		free(p);
		if (!files) {
			http_res_error(res, 400, "no_file", "the form has no file part (a part with a filename)", "file");
			goto out;
		}
	} else {
		const char *h = http_req_header(req, "x-filename");
		char *decoded = NULL, *name;
		if (!h) {
			http_res_error(res, 400, "no_filename",
				       "send the file name in an X-Filename header (percent-encoded UTF-8), or use multipart/form-data",
				       "X-Filename");
			goto out;
		}
		decoded = http_percent_decode(h);
		if (!decoded || !(name = safe_name(decoded, strlen(decoded), res))) {
			if (!decoded && strstr(h, "%00"))
				http_res_error(res, 400, "invalid_filename", "the file name contains a NUL byte", "X-Filename");
			else if (!decoded)
				http_res_error(res, 400, "invalid_filename", "X-Filename has a bad percent escape", "X-Filename");
			free(decoded);
			goto out;
		}
		free(decoded);
		if (ingest_bytes(srv, dam, name, req->body, req->body_len, &u.o, results) < 0) {
			free(name);
			http_res_error(res, 500, "internal", "the upload could not be stored", NULL);
			goto out;
		}
		free(name);
	}
	respond(res, results);
out:
	for (int i = 0; i < files; i++)
		free(names[i]);
	json_decref(results);
	opts_release(&u);
}

HANDLER(h_assets_create)
{
	if (http_allow(req, res, AUTH_ASSET_CREATE, NULL))
		upload(srv, dam, req, res, NULL);
}

HANDLER(h_versions_create)
{
	char id[DAM_ID_LEN + 1];

	if (http_allow_new_version(dam, req, res, id))
		upload(srv, dam, req, res, id);
}
