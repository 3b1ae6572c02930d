/*
 * strbuf.h - one growable string, always NUL-terminated, never NULL.
 *
 * `buf` points at a static empty string until the first append, so a
 * strbuf can be used without allocation checks. `max` (0 = no bound) caps
 * the length for anything holding client data: appends beyond it fail with
 * DAM_ELIMIT and leave the contents unchanged.
 */
#ifndef DAM_UTIL_STRBUF_H
#define DAM_UTIL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
	size_t max;
};

#define STRBUF_INIT { strbuf_empty, 0, 0, 0 }
extern char strbuf_empty[];

void strbuf_init(struct strbuf *sb, size_t max);
/* Frees the contents; sb is empty and reusable afterwards. */
void strbuf_release(struct strbuf *sb);
/* Hands the string to the caller (free with free()); sb becomes empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_reset(struct strbuf *sb);

/* Appends; return 0, DAM_ENOMEM or DAM_ELIMIT. */
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_adds(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Appends bytes as lower-case hex. */
int strbuf_addhex(struct strbuf *sb, const unsigned char *data, size_t len);

#endif
