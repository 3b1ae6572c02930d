/* utf8.h - UTF-8 validation (no overlongs, no surrogates, <= U+10FFFF). */
#ifndef DAM_UTIL_UTF8_H
#define DAM_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool utf8_valid(const char *s, size_t len);

/* The 1-based character column of byte offset pos in s[0..len), counting
 * UTF-8 sequences (for error messages that point into user input). */
int utf8_column(const char *s, size_t len, size_t pos);
/* True when s has a byte < 0x20 or 0x7f (control characters). */
bool utf8_has_control(const char *s, size_t len);

struct strbuf;
/* Appends s to out, replacing each invalid byte with U+FFFD and each control
 * character with U+FFFD too, so any file name can be shown and stored. */
int utf8_sanitize(const char *s, size_t len, struct strbuf *out);

#endif
