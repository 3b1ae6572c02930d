/*
 * query.h - the search query language: one parser for the API (?q=), the CLI
 * and the UI. It turns the text a person typed into a small syntax tree that
 * the search engine compiles; the language is documented for users in
 * docs/search.md.
 *
 *   spring launch                  words, implicit AND
 *   "blue sneaker"  sneak*         a phrase, a prefix
 *   type:image width:>=1000        field filters, comparisons > >= < <=
 *   created:2026-01-01..2026-03-31 an inclusive range
 *   tag:"spring 2026"  sku:ABC*    quoted and prefix field values
 *   a OR b  NOT c  -d  -tag:x  ( ) boolean operators, precedence NOT > AND > OR
 *
 * The parser knows no field names and no value types: `versions:all`,
 * `width:big` and `colour:red` all parse; the engine walks the FIELD nodes
 * with query_fields() and rejects what it does not know, using node->pos.
 *
 * Literal text only. TEXT values are plain literal words or phrases: the
 * parser never passes query syntax of another language through. Anything
 * that looks like FTS5 syntax (NEAR(a b), ^word, {col}, +word, a col:value
 * with a column name) either is an error here or comes out as a literal
 * TEXT/FIELD value; a '"' never occurs inside a value. The engine must quote
 * every TEXT value as an FTS5 string literal ("..." with '"' doubled) and add
 * the prefix '*' itself when node->prefix is set.
 *
 * Invariants of a tree returned by query_parse():
 *   - every value and name is non-empty, NUL-terminated, valid UTF-8, with no
 *     control characters (C0, DEL, C1) and no '"';
 *   - AND/OR nodes have >= 2 children and never a child of their own kind
 *     (a b (c d) is one AND of four); NOT has exactly one child;
 *   - at most QUERY_MAX_TERMS TEXT+FIELD nodes, nesting depth (parentheses
 *     and NOTs) at most QUERY_MAX_DEPTH.
 *
 * Errors name the problem and where it is: qe->pos is the 0-based byte
 * offset, and the message says the 1-based column counted in characters
 * (UTF-8 code points), e.g. "unclosed quote starting at column 7". Messages
 * are valid UTF-8, at most 255 bytes, fit for showing to the user as is.
 *
 * All functions are thread-safe (no shared state).
 */
#ifndef DAM_CORE_QUERY_H
#define DAM_CORE_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define QUERY_MAX_BYTES 4096 /* longest query text */
#define QUERY_MAX_TERMS 64   /* words, phrases and field filters */
#define QUERY_MAX_DEPTH 32   /* nested parentheses and NOTs */
#define QUERY_MAX_FIELD 64   /* longest field name */

enum qnode_kind {
	QNODE_AND,
	QNODE_OR,
	QNODE_NOT,
	QNODE_TEXT,  /* free text: a word or "a phrase" */
	QNODE_FIELD, /* name:value filter */
};

enum qop {
	QOP_EQ,    /* name:value (matches, or starts with when prefix) */
	QOP_GT,    /* name:>value */
	QOP_GE,    /* name:>=value */
	QOP_LT,    /* name:<value */
	QOP_LE,    /* name:<=value */
	QOP_RANGE, /* name:value..value2, both ends inclusive */
};

struct qnode {
	enum qnode_kind kind;
	int pos; /* byte offset in the input where the node starts: the word,
		  * the quote, the field name, the NOT or '-', the '(' of a
		  * parenthesised AND/OR, else its first operand */

	/* QNODE_AND, QNODE_OR: nkids >= 2, left to right; QNODE_NOT: nkids == 1. */
	struct qnode **kids;
	int nkids;

	/* QNODE_FIELD only. */
	char *name;   /* lower-cased, [a-z][a-z0-9_.]{0,63} */
	enum qop op;  /* QOP_EQ for TEXT */
	char *value2; /* upper bound of QOP_RANGE, else NULL */

	/* QNODE_TEXT and QNODE_FIELD. */
	char *value; /* as typed, without the quotes or the trailing '*' */
	bool phrase; /* the value was in double quotes (may hold spaces) */
	bool prefix; /* a trailing '*': match words starting with value */
};

struct query_error {
	int pos;       /* 0-based byte offset of the problem, -1 if none */
	char msg[256]; /* human message naming the 1-based column */
};

/*
 * Parses text[0..len) (need not be NUL-terminated; text may be NULL when
 * len is 0). On success returns 0 and sets *out to a new tree; the caller
 * frees it with query_free(). On failure returns DAM_EINVAL (bad query) or
 * DAM_ENOMEM, sets *out to NULL and, if qe is not NULL, fills it.
 */
int query_parse(const char *text, size_t len, struct qnode **out, struct query_error *qe);

/* Frees a tree from query_parse(). NULL is a no-op. */
void query_free(struct qnode *q);

/*
 * A canonical S-expression of the tree, for tests and debugging:
 *   (and (text "spring") (not (field color = "blue")))
 *   (text "blue sneaker" phrase)   (text "sneak" prefix)
 *   (field width >= "1000")        (field width .. "1000" "2000")
 *   (or (field sku = "ABC" prefix) (field tag = "spring 2026" phrase))
 * Strings are in double quotes with '"' and '\' escaped by '\'. NULL dumps
 * as "()". Returns a new string (caller frees with free()), or NULL when out
 * of memory.
 */
char *query_dump(const struct qnode *q);

/* The comparison as written in a dump: "=", ">", ">=", "<", "<=", "..". */
const char *query_op_name(enum qop op);

/*
 * Calls fn(field, arg) for every FIELD node of the tree, left to right
 * (in the order they appear in the input). Stops at the first non-zero
 * return of fn and returns it; returns 0 after visiting all. The nodes are
 * borrowed for the duration of the call.
 */
typedef int (*query_field_fn)(const struct qnode *field, void *arg);
int query_fields(const struct qnode *q, query_field_fn fn, void *arg);

/*
 * Copies a parse error into the project's error convention: code (usually
 * the return value of query_parse), field "q" and the message. Returns code,
 * so callers can write `return query_error_to_dam(&qe, rc, err);`.
 */
int query_error_to_dam(const struct query_error *qe, int code, struct dam_err *err);

#endif
