#include "cli/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/timeutil.h"

void progress_init(struct progress *p, const char *label, bool quiet)
{
	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	p->label = label;
	p->quiet = quiet;
	p->tty = isatty(STDERR_FILENO);
	p->start = p->last_draw = time_mono();
}

static void draw(struct progress *p, bool force)
{
	double now = time_mono(), el = now - p->start;
	double fps = el > 0 ? p->done / el : 0, mbs = el > 0 ? p->bytes / el / 1e6 : 0;
	char eta[32] = "";

	if (p->quiet || (!force && now - p->last_draw < (p->tty ? 0.1 : 5.0)))
		return;
	p->last_draw = now;
	if (p->total > 0 && fps > 0 && p->done < p->total)
		snprintf(eta, sizeof eta, " ETA %.0fs", (p->total - p->done) / fps);
	if (p->tty) {
		int width = 24, fill = p->total > 0 ? (int)(width * p->done / p->total) : 0;
		char bar[32];
		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(width - fill));
		bar[width] = '\0';
		fprintf(stderr, "\r\033[K%s [%s] %lld/%lld  %.1f files/s  %.1f MB/s%s %s", p->label, bar,
			(long long)p->done, (long long)p->total, fps, mbs, eta, p->note);
	} else {
		fprintf(stderr, "%s: %lld/%lld files, %.1f files/s, %.1f MB/s%s %s\n", p->label,
			(long long)p->done, (long long)p->total, fps, mbs, eta, p->note);
	}
	fflush(stderr);
}

void progress_update(struct progress *p, int64_t done, int64_t total, int64_t bytes, const char *note)
{
	pthread_mutex_lock(&p->lock);
	p->done = done;
	p->total = total;
	if (bytes)
		p->bytes = bytes;
	if (note)
		snprintf(p->note, sizeof p->note, "%s", note);
	draw(p, false);
	pthread_mutex_unlock(&p->lock);
}

void progress_log(struct progress *p, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&p->lock);
	if (p->tty && !p->quiet)
		fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (p->tty)
		draw(p, true);
	pthread_mutex_unlock(&p->lock);
}

void progress_finish(struct progress *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->tty && !p->quiet && p->last_draw > p->start)
		fputs("\r\033[K", stderr);
	fflush(stderr);
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_destroy(&p->lock);
}
