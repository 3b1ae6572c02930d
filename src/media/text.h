/*
 * text.h - strings from files: JSON text, XML entities, the root element
 * of an XML document (text.c). Every parser takes (ptr, len) of untrusted
 * bytes and never reads outside them.
 *
 * Internal to src/media (names carry the media__ prefix): nothing outside
 * src/media includes this. One header per .c of media/ (see imgio.h).
 */
#ifndef DAM_MEDIA_TEXT_H
#define DAM_MEDIA_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/media.h"

/* A new JSON string of (s, len) made valid UTF-8 (invalid bytes are read as
 * Latin-1), with surrounding white space trimmed. NULL when the result is
 * empty. Caller owns the result. */
json_t *media__json_text(const char *s, size_t len);

/* Sets obj[key] = media__json_text(s, len) unless that is empty. */
void media__set_text(json_t *obj, const char *key, const char *s, size_t len);

/* Decodes XML entities (&amp; &lt; &gt; &quot; &apos; &#NN; &#xNN;) of
 * (s, len) into dst (capacity cap, NUL-terminated, truncated if needed).
 * Returns the decoded length. */
size_t media__xml_unescape(const char *s, size_t len, char *dst, size_t cap);

/* Finds the root element of an XML document in (s, len): skips BOM, prolog,
 * comments, processing instructions and DOCTYPE. On success sets *tag to the
 * '<' of the root start tag, *taglen to the length up to and including its
 * '>' and returns true. */
bool media__xml_root(const char *s, size_t len, const char **tag, size_t *taglen);

/* True when (s, len) is an XML document whose root element is <svg>. */
bool media__is_svg(const char *s, size_t len);

/* Value of attribute `name` in a start tag (tag, taglen): sets *val, *vlen
 * (raw, not unescaped) and returns true when present. */
bool media__xml_attr(const char *tag, size_t taglen, const char *name, const char **val,
		     size_t *vlen);

#endif
