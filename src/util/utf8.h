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

struct dam_err;

/* The longest stored name (file name, asset name) in bytes. */
#define DAM_NAME_MAX 255

/*
 * The one check of a name dam stores and shows (the file name of an upload
 * by multipart, X-Filename or tus, of a file ingested by the CLI or found by
 * a folder walk): 1..max bytes, no NUL, valid UTF-8, no control characters
 * (< 0x20, 0x7f), and no bidirectional embedding, override or isolate
 * characters (U+202A-U+202E, U+2066-U+2069), which make "gpj.exe" preceded
 * by U+202E show as "exe.jpg". Refused, not removed: a name that has them
 * is almost always a disguise, and silently changing it would hide that.
 * The checks run in that order, so the message names the first problem
 * ("too long (70000 bytes, max 255)", never "not valid UTF-8" for a long
 * name). what starts the message ("the file name"); field names the input.
 * Returns 0, or DAM_EINVAL with err filled. Thread-safe.
 */
int utf8_name_check(const char *s, size_t len, size_t max, const char *what, const char *field,
		    struct dam_err *err);

struct strbuf;
/* Appends s to out, replacing each invalid byte with U+FFFD and each control
 * character with U+FFFD too, so any file name can be shown and stored. */
int utf8_sanitize(const char *s, size_t len, struct strbuf *out);

#endif
