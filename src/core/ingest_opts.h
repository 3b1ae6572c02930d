/*
 * ingest_opts.h - what a caller asks of an ingest (core/ingest.h).
 *
 * A header of its own, without code, because two modules fill it:
 * ingest.c reads it, and template.c (core/template.h) makes the effective
 * options of a file from the caller's and a template's. With the struct in
 * ingest.h, template.h had to include ingest.h while ingest.c includes
 * template.h: one include circle.
 *
 * Ownership: every pointer is borrowed from the caller for the call.
 */
#ifndef DAM_CORE_INGEST_OPTS_H
#define DAM_CORE_INGEST_OPTS_H

#include <stdbool.h>

struct ingest_opts {
	const char *const *tags;        /* user tags for new assets */
	int ntags;
	const char *const *meta_keys;   /* fields for new assets */
	const char *const *meta_values;
	int nmeta;
	const char *new_version_of;     /* asset id: add a version instead of an asset */
	bool dry_run;                   /* hash and sniff only; change nothing */
	bool versions_by_name;          /* a known source path with new bytes becomes a new version */
	int priority;                   /* of the processing job (enum job_priority) */
	const char *user_id;            /* creator recorded on new assets, or NULL */
	const char *template_name;      /* metadata template for new assets (core/template.h), or NULL */
};

#endif
