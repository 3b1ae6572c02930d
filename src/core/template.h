/*
 * template.h - metadata templates: a named set of field values and tags,
 * applied at ingest and by bulk edit.
 *
 * At ingest a new asset gets, in this order of precedence (the first to
 * set a key wins; tags are the union):
 *   1. the uploader's own fields and tags (ingest --meta/--tag, field.KEY),
 *   2. the template chosen at upload (ingest_opts.template_name),
 *   3. fields parsed from the file name (core/namepattern.h),
 *   4. every template whose `match` glob fits, in name order: a glob with a
 *      '/' is matched against the source path ('*' crosses folders), one
 *      without against the file name (fnmatch),
 *   5. defaults of defined fields (core/fielddef.h).
 * All resulting values are validated; a refusal fails that file.
 *
 * Bulk edit applies a template (overwriting those fields, adding its tags)
 * or sets one field on a list of assets. Each asset changes through
 * asset_patch(), so each gets its own validated change and audit row.
 *
 * JSON returned is owned by the caller. A handle is used by one thread at
 * a time.
 */
#ifndef DAM_CORE_TEMPLATE_H
#define DAM_CORE_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>

#include "core/ingest_opts.h"
#include "core/library.h"

struct template_def {
	const char *name;               /* [a-z0-9_.-]{1,64} */
	const char *match;              /* glob, or NULL/"" for none */
	const char *const *keys;        /* field values (validated) */
	const char *const *values;
	int nfields;
	const char *const *tags;
	int ntags;
};

/* Creates or replaces a template. Values are validated against field
 * definitions now (and again when applied). Audit: template.add. */
int template_add(struct dam *dam, const struct template_def *def, struct dam_err *err);

/* Audit: template.remove. DAM_ENOTFOUND when absent. */
int template_remove(struct dam *dam, const char *name, struct dam_err *err);

/* [{"name", "match", "fields": {k: v}, "tags": [...]}] by name. */
int template_list(struct dam *dam, json_t **out, struct dam_err *err);

/* One template (same shape); DAM_ENOTFOUND when absent. */
int template_get(struct dam *dam, const char *name, json_t **out, struct dam_err *err);

/* True when glob fits: against source (if given) when glob has a '/',
 * else against name. */
bool template_glob_matches(const char *glob, const char *name, const char *source);

/* Owned strings behind an effective ingest_opts (see below). */
struct template_meta {
	char **keys, **values;
	int n, alloc;
	char **tags;
	int ntags, tagalloc;
};
void template_meta_init(struct template_meta *m);
void template_meta_release(struct template_meta *m);
/* Sets key unless already set (first wins). 0 or DAM_ENOMEM. */
int template_meta_field(struct template_meta *m, const char *key, const char *value);
/* Adds tag unless present. 0 or DAM_ENOMEM. */
int template_meta_tag(struct template_meta *m, const char *tag);

/* Computes the fields and tags of a new asset named name (display base
 * name) from source (absolute path or NULL), following the precedence
 * above, and validates them. *out becomes a copy of *in whose tags and
 * meta arrays point into *storage (which the caller initialised and later
 * releases). DAM_ENOTFOUND when in->template_name is not a template,
 * DAM_EINVAL when a value is refused. Reads only; call inside the ingest
 * transaction. */
int template_apply_to_opts(struct dam *dam, const struct ingest_opts *in, const char *name,
			   const char *source, struct ingest_opts *out, struct template_meta *storage,
			   struct dam_err *err);

/* Applies template name to n assets (ids or unique prefixes). All ids are
 * resolved and the values validated before anything changes; then each
 * asset is patched in its own transaction. Returns the number of assets
 * changed, or < 0 (a failure part-way leaves earlier assets changed). */
int template_apply_bulk(struct dam *dam, const char *name, const char *const *asset_ids, int n,
			struct dam_err *err);

/* Sets key=value (empty removes) on n assets, like template_apply_bulk. */
int template_set_field_bulk(struct dam *dam, const char *key, const char *value,
			    const char *const *asset_ids, int n, struct dam_err *err);

#endif
