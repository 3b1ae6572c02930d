/*
 * progress.h - progress on stderr: a redrawn bar with rate and ETA on a
 * terminal, a plain line every few seconds otherwise, nothing in --json mode.
 * Thread-safe (worker threads report job completions).
 */
#ifndef DAM_CLI_PROGRESS_H
#define DAM_CLI_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct progress {
	pthread_mutex_t lock;
	const char *label;
	bool tty, quiet;
	double start, last_draw;
	int64_t done, total, bytes;
	char note[96];
};

void progress_init(struct progress *p, const char *label, bool quiet);
/* Sets absolute counters; total 0 = unknown; note may be NULL. */
void progress_update(struct progress *p, int64_t done, int64_t total, int64_t bytes, const char *note);
/* Prints a log line above the bar (or alone when not a tty). */
void progress_log(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clears the bar. */
void progress_finish(struct progress *p);

#endif
