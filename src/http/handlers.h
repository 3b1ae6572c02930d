/*
 * handlers.h - the route handlers (one file per resource) and the small
 * helpers they share. Handlers parse, call core/, serialise.
 */
#ifndef DAM_HTTP_HANDLERS_H
#define DAM_HTTP_HANDLERS_H

#include "http/router.h"
#include "http/server_ctx.h"

/* Parses the JSON object body; on failure fills res (400) and returns < 0.
 * allowed: NULL-terminated list of keys; any other key is refused. */
int http_json_body(const struct http_req *req, struct http_res *res, const char *const *allowed, json_t **out);
/* auth_can or a 403 in res. */
bool http_allow(const struct http_req *req, struct http_res *res, enum auth_action action,
		const struct auth_object *obj);
/* Resolves the asset named by req->params[0] into id and checks that the
 * actor may add a version to it (upload or restore: the rights to create
 * and to edit); false after answering with the error. */
bool http_allow_new_version(struct dam *dam, const struct http_req *req, struct http_res *res,
			    char id[DAM_ID_LEN + 1]);
/* A text query parameter: 0 with *out (caller frees) or NULL when absent;
 * -1 after answering 400 when it holds a NUL byte (%00) or a malformed
 * percent-escape, so a value is never silently cut short or dropped. */
int http_query_str(const struct http_req *req, struct http_res *res, const char *name, char **out);
/* A positive integer query parameter within [lo, hi], or def; -1 and 400 on a bad value. */
long long http_query_int(const struct http_req *req, struct http_res *res, const char *name, long long def,
			 long long lo, long long hi);

/* Parses s[0..len) as a whole number in decimal digits only (no sign, no
 * space) into *out. DAM_EINVAL when it is not such a number (or empty),
 * DAM_ELIMIT when it is one outside [lo, hi] (however many digits: no
 * wrap-around). lo >= 0. */
int http_parse_int(const char *s, size_t len, long long lo, long long hi, long long *out);

/* Streams a blob with ETag, Last-Modified, Range/If-Range/If-None-Match,
 * HEAD and Content-Disposition (filename may be NULL for inline). */
void http_send_blob(struct dam *dam, const struct http_req *req, struct http_res *res, const char *key,
		    const char *mime, const char *filename, uint64_t last_modified_ms, const char *cache_control);

/* The same for an open file (taken over: closed with the response, or at
 * once on 304/416). etag is the quoted validator; ranges false answers
 * Range requests with the whole body (no Accept-Ranges). */
void http_send_fd(const struct http_req *req, struct http_res *res, int fd, uint64_t size, const char *etag,
		  const char *mime, const char *filename, uint64_t last_modified_ms, const char *cache_control,
		  bool ranges);

#define HANDLER(name) void name(struct server_ctx *srv, struct dam *dam, struct http_req *req, struct http_res *res)

HANDLER(h_healthz);
HANDLER(h_readyz);
HANDLER(h_metrics);
HANDLER(h_openapi);
HANDLER(h_session_create);
HANDLER(h_session_get);
HANDLER(h_session_delete);
HANDLER(h_assets_list);
HANDLER(h_assets_create);
HANDLER(h_asset_get);
HANDLER(h_asset_patch);
HANDLER(h_asset_delete);
HANDLER(h_asset_restore);
HANDLER(h_versions_list);
HANDLER(h_versions_create);
HANDLER(h_version_get);
HANDLER(h_version_original);
HANDLER(h_asset_original);
HANDLER(h_renditions_list);
HANDLER(h_rendition_get);
HANDLER(h_tus_options);
HANDLER(h_tus_create);
HANDLER(h_tus_head);
HANDLER(h_tus_patch);
HANDLER(h_tus_delete);
HANDLER(h_jobs_list);
HANDLER(h_audit_list);
HANDLER(h_asset_audit);
HANDLER(h_fields_list);
HANDLER(h_fields_create);
HANDLER(h_field_put);
HANDLER(h_field_delete);
HANDLER(h_vocabs_list);
HANDLER(h_vocabs_create);
HANDLER(h_vocab_get);
HANDLER(h_vocab_term_put);
HANDLER(h_vocab_term_patch);
HANDLER(h_templates_list);
HANDLER(h_templates_create);
HANDLER(h_template_delete);
HANDLER(h_templates_apply);
HANDLER(h_assets_bulk);
HANDLER(h_patterns_list);
HANDLER(h_patterns_create);
HANDLER(h_languages_get);
HANDLER(h_languages_put);
HANDLER(h_incomplete);
HANDLER(h_search);
HANDLER(h_asset_similar);
HANDLER(h_search_image);
HANDLER(h_searches_list);
HANDLER(h_searches_create);
HANDLER(h_searches_delete);
HANDLER(h_job_retry);
HANDLER(h_job_cancel);
HANDLER(h_deliver);
HANDLER(h_presets_list);
HANDLER(h_presets_create);
HANDLER(h_preset_get);
HANDLER(h_preset_put);
HANDLER(h_preset_delete);
HANDLER(h_asset_links);
HANDLER(h_asset_tile);
HANDLER(h_users_list);
HANDLER(h_users_create);
HANDLER(h_user_patch);
HANDLER(h_tokens_list);
HANDLER(h_tokens_create);
HANDLER(h_token_delete);
HANDLER(h_suggest);
HANDLER(h_version_restore);
HANDLER(h_zip_get);
HANDLER(h_zip_post);
HANDLER(h_ui_root);
HANDLER(h_ui);

#endif
