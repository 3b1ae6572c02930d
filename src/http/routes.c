/* routes.c - the route table. docs/openapi.yaml must describe exactly these
 * (tests/api/openapi.test.mjs checks both ways). */
#include "http/handlers.h"

#define MB (1024u * 1024u)
#define JSON_MAX (1u * MB)

/* Upload routes take up to the server's single-request cap; the router
 * checks this bound and the handler the configured cap. */
#define UPLOAD_MAX ((size_t)4096 * MB)

const struct route http_routes[] = {
	{ "GET", "/healthz", h_healthz, ROUTE_PUBLIC | ROUTE_INLINE, 0, "healthz" },
	{ "GET", "/readyz", h_readyz, ROUTE_PUBLIC, 0, "readyz" },
	{ "GET", "/metrics", h_metrics, 0, 0, "metrics" },
	{ "GET", "/api/v1/openapi.yaml", h_openapi, 0, 0, "openapi" },
	{ "POST", "/api/v1/session", h_session_create, ROUTE_PUBLIC | ROUTE_NO_CSRF, 64 * 1024, "session_create" },
	{ "GET", "/api/v1/session", h_session_get, 0, 0, "session_get" },
	{ "DELETE", "/api/v1/session", h_session_delete, 0, 0, "session_delete" },
	{ "GET", "/api/v1/assets", h_assets_list, 0, 0, "assets_list" },
	{ "POST", "/api/v1/assets", h_assets_create, 0, UPLOAD_MAX, "assets_create" },
	{ "GET", "/api/v1/assets/{id}", h_asset_get, ROUTE_QUICK, 0, "asset_get" },
	{ "PATCH", "/api/v1/assets/{id}", h_asset_patch, 0, JSON_MAX, "asset_patch" },
	{ "DELETE", "/api/v1/assets/{id}", h_asset_delete, 0, 0, "asset_delete" },
	{ "POST", "/api/v1/assets/{id}/restore", h_asset_restore, 0, 0, "asset_restore" },
	{ "GET", "/api/v1/assets/{id}/original", h_asset_original, 0, 0, "asset_original" },
	{ "GET", "/api/v1/assets/{id}/similar", h_asset_similar, 0, 0, "asset_similar" },
	{ "GET", "/api/v1/assets/{id}/versions", h_versions_list, ROUTE_QUICK, 0, "versions_list" },
	{ "POST", "/api/v1/assets/{id}/versions", h_versions_create, 0, UPLOAD_MAX, "versions_create" },
	{ "GET", "/api/v1/assets/{id}/versions/{number}", h_version_get, ROUTE_QUICK, 0, "version_get" },
	{ "GET", "/api/v1/assets/{id}/versions/{number}/original", h_version_original, 0, 0, "version_original" },
	{ "GET", "/api/v1/assets/{id}/renditions", h_renditions_list, ROUTE_QUICK, 0, "renditions_list" },
	{ "GET", "/api/v1/assets/{id}/renditions/{name}", h_rendition_get, 0, 0, "rendition_get" },
	{ "OPTIONS", "/api/v1/uploads", h_tus_options, 0, 0, "tus_options" },
	{ "POST", "/api/v1/uploads", h_tus_create, 0, 0, "tus_create" },
	{ "HEAD", "/api/v1/uploads/{id}", h_tus_head, 0, 0, "tus_head" },
	{ "GET", "/api/v1/uploads/{id}", h_tus_head, 0, 0, "tus_get" },
	{ "PATCH", "/api/v1/uploads/{id}", h_tus_patch, 0, 64 * MB, "tus_patch" },
	{ "DELETE", "/api/v1/uploads/{id}", h_tus_delete, 0, 0, "tus_delete" },
	{ "POST", "/api/v1/assets/bulk", h_assets_bulk, 0, JSON_MAX, "assets_bulk" },
	{ "GET", "/api/v1/incomplete", h_incomplete, 0, 0, "incomplete" },
	{ "GET", "/api/v1/fields", h_fields_list, 0, 0, "fields_list" },
	{ "POST", "/api/v1/fields", h_fields_create, 0, JSON_MAX, "fields_create" },
	{ "DELETE", "/api/v1/fields/{key}", h_field_delete, 0, 0, "field_delete" },
	{ "GET", "/api/v1/vocabularies", h_vocabs_list, 0, 0, "vocabularies_list" },
	{ "POST", "/api/v1/vocabularies", h_vocabs_create, 0, JSON_MAX, "vocabularies_create" },
	{ "GET", "/api/v1/vocabularies/{name}", h_vocab_get, 0, 0, "vocabulary_get" },
	{ "PUT", "/api/v1/vocabularies/{name}/terms/{term}", h_vocab_term_put, 0, JSON_MAX, "vocabulary_term_put" },
	{ "GET", "/api/v1/templates", h_templates_list, 0, 0, "templates_list" },
	{ "POST", "/api/v1/templates", h_templates_create, 0, JSON_MAX, "templates_create" },
	{ "DELETE", "/api/v1/templates/{name}", h_template_delete, 0, 0, "template_delete" },
	{ "POST", "/api/v1/templates/{name}/apply", h_templates_apply, 0, JSON_MAX, "template_apply" },
	{ "GET", "/api/v1/name-patterns", h_patterns_list, 0, 0, "name_patterns_list" },
	{ "POST", "/api/v1/name-patterns", h_patterns_create, 0, JSON_MAX, "name_patterns_create" },
	{ "GET", "/api/v1/languages", h_languages_get, 0, 0, "languages_get" },
	{ "PUT", "/api/v1/languages", h_languages_put, 0, JSON_MAX, "languages_put" },
	{ "GET", "/api/v1/search", h_search, 0, 0, "search" },
	{ "POST", "/api/v1/search/image", h_search_image, 0, 64 * MB, "search_image" },
	{ "GET", "/api/v1/searches", h_searches_list, 0, 0, "searches_list" },
	{ "POST", "/api/v1/searches", h_searches_create, 0, 64 * 1024, "searches_create" },
	{ "DELETE", "/api/v1/searches/{id}", h_searches_delete, 0, 0, "searches_delete" },
	{ "GET", "/api/v1/jobs", h_jobs_list, 0, 0, "jobs_list" },
	{ "POST", "/api/v1/jobs/{id}/retry", h_job_retry, 0, 0, "job_retry" },
	{ "POST", "/api/v1/jobs/{id}/cancel", h_job_cancel, 0, 0, "job_cancel" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
