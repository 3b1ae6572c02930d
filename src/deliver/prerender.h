/*
 * prerender.h - the "renditions" job: renders every ahead-of-time preset
 * of one version from its delivery master and stores each as a rendition
 * named "preset:NAME" with the spec that made it. A preset whose stored
 * spec (options, master, focal point, copyright/creator) is unchanged is
 * skipped, so the job can be queued whenever anything might have changed.
 * Runs in a sandboxed job child like every media job.
 */
#ifndef DAM_DELIVER_PRERENDER_H
#define DAM_DELIVER_PRERENDER_H

#include "core/delivery.h"
#include "core/library.h"
#include "deliver/tspec.h"

/* Registers prerender_run() as the "renditions" job kind (core/process.h). */
void prerender_register(void);

int prerender_run(struct dam *dam, const char *job_id, const char *claim, struct dam_err *err);

/*
 * The transform a spec means for this asset: the spec's options, the
 * asset's focal point applied to every crop (a smart or centre crop becomes
 * a focal crop when the asset has one), copyright and creator unless the
 * spec says meta_none. format must already be concrete (not AUTO).
 */
void prerender_transform_of(const struct tspec *s, const struct delivery_info *a,
			    struct media_transform *t);

/* The spec text stored with a preset rendition (and compared to decide
 * whether to render again): the preset's name, its options, their
 * preset_spec_hash() as "preset_hash" (what preset_sync() looks for), the
 * master, focal point, copyright and creator. Caller frees. */
char *prerender_spec_json(const char *preset, const char *options, const struct delivery_info *a);

#endif
