/*
 * config.h - the library's dam.conf (INI, parsed with inih).
 *
 * Unknown sections or keys are refused with their line number, so a typo
 * never silently falls back to a default.
 */
#ifndef DAM_UTIL_CONFIG_H
#define DAM_UTIL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

struct dam_config {
	char name[128];            /* [library] name */
	char store_backend[16];    /* [store] backend = fs */
	uint64_t max_pixels;       /* [limits] max_pixels */
	int max_dimension;         /* [limits] max_dimension */
	bool allow_magick;         /* [limits] allow_magick: PSD and other ImageMagick formats */
	int job_timeout_s;         /* [worker] timeout: wall clock seconds per job */
	int job_cpu_s;             /* [worker] cpu: CPU seconds per job */
	int job_memory_mb;         /* [worker] memory: address space per job child */
	int job_file_mb;           /* [worker] file_size: largest file a job may write */
	int job_attempts;          /* [worker] attempts before a job is failed */
	int workers;               /* [worker] processes: 0 = one per core */
};

/* Fills cfg with defaults. */
void config_defaults(struct dam_config *cfg);

/* Loads path over the defaults. DAM_ENOTFOUND if missing, DAM_EINVAL with the
 * line and key on a bad entry. */
int config_load(const char *path, struct dam_config *cfg, struct dam_err *err);

/* The text of a fresh dam.conf with every key and its default, commented. */
const char *config_default_text(void);

#endif
