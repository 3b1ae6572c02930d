/*
 * query.c - the search query language parser (see query.h, docs/search.md).
 *
 * Three stages: a check of the whole text (length, UTF-8, control
 * characters), a lexer that cuts the text into parentheses, operators and
 * terms (a term keeps its quoted sections whole, so an unclosed quote is
 * found wherever it is), and a recursive-descent parser:
 *
 *   query = or ;  or = and { "OR" and } ;  and = unary { ["AND"] unary } ;
 *   unary = ("NOT" | "-") unary | "(" or ")" | term
 *
 * Terms are taken apart (field name, comparison, value, range, quotes, '*')
 * only when the parser builds their node. The first problem from the left
 * is reported; every error path frees what was built.
 */
#include "core/query.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/utf8.h"

enum tok_kind { T_EOF, T_LPAREN, T_RPAREN, T_AND, T_OR, T_NOT, T_NEG, T_TERM };

struct tok {
	enum tok_kind kind;
	size_t pos, end; /* [pos, end) in the input */
};

struct parser {
	const char *s;
	size_t len;
	size_t p;       /* lexer position, just after tok */
	struct tok tok; /* the current (lookahead) token */
	int depth, nterms;
	struct query_error *qe;
};

/* A slice of the input holding a value, without quotes and '*'. */
struct val {
	size_t pos, len;
	bool phrase, prefix;
};

/* ---- characters and messages ---- */

/* 1-based column of byte offset pos, counted in code points. */
static int column(const struct parser *ps, size_t pos)
{
	return utf8_column(ps->s, ps->len, pos);
}

/* Length of the valid UTF-8 sequence at s[i], or 0. Same rule as utf8.c
 * (which keeps its helper static), checked by utf8_valid itself. */
static size_t seq_len(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];
	size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;

	if (n == 0 || n > len - i || !utf8_valid(s + i, n))
		return 0;
	return n;
}

/* Bytes of white space at s[i]: ASCII space, tab, CR, LF, and the no-break
 * and ideographic spaces (U+00A0, U+3000) that CJK input methods type. */
static size_t space_len(const struct parser *ps, size_t i)
{
	const unsigned char *s = (const unsigned char *)ps->s;

	if (i >= ps->len)
		return 0;
	if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		return 1;
	if (s[i] == 0xc2 && i + 1 < ps->len && s[i + 1] == 0xa0)
		return 2;
	if (s[i] == 0xe3 && i + 2 < ps->len && s[i + 1] == 0x80 && s[i + 2] == 0x80)
		return 3;
	return 0;
}

/* True where a term ends: end of input, white space or a parenthesis. */
static bool is_sep(const struct parser *ps, size_t i)
{
	return i >= ps->len || space_len(ps, i) || ps->s[i] == '(' || ps->s[i] == ')';
}

/* User text quoted in a message: at most 40 bytes, cut at a character
 * boundary, "..." when cut. */
static const char *snip(char buf[48], const char *s, size_t n)
{
	size_t k = n;

	if (n > 40) {
		k = 40;
		while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
			k--;
	}
	memcpy(buf, s, k);
	memcpy(buf + k, n > k ? "..." : "", n > k ? 4 : 1);
	return buf;
}

static int fail(struct parser *ps, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fills the error and returns DAM_EINVAL. A message cut by the buffer size
 * is trimmed back to whole characters so it stays valid UTF-8. */
static int fail(struct parser *ps, size_t pos, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!ps->qe)
		return DAM_EINVAL;
	ps->qe->pos = (int)pos;
	va_start(ap, fmt);
	vsnprintf(ps->qe->msg, sizeof ps->qe->msg, fmt, ap);
	va_end(ap);
	n = strlen(ps->qe->msg);
	while (n > 0 && !utf8_valid(ps->qe->msg, n))
		ps->qe->msg[--n] = '\0';
	return DAM_EINVAL;
}

static int oom(struct parser *ps)
{
	fail(ps, 0, "out of memory while parsing the query");
	return DAM_ENOMEM;
}

/* ---- whole-text checks ---- */

static int check_text(struct parser *ps)
{
	const unsigned char *s = (const unsigned char *)ps->s;
	size_t i = 0, n;

	if (ps->len > QUERY_MAX_BYTES)
		return fail(ps, QUERY_MAX_BYTES, "the query is longer than %d bytes (it has %zu)",
			    QUERY_MAX_BYTES, ps->len);
	while (i < ps->len) {
		if (!(n = seq_len(ps->s, ps->len, i)))
			return fail(ps, i, "invalid UTF-8 at column %d", column(ps, i));
		if ((n == 1 && (s[i] < 0x20 || s[i] == 0x7f) && !space_len(ps, i)) ||
		    (n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0))
			return fail(ps, i, "control character U+%04X at column %d",
				    (unsigned)(n == 1 ? s[i] : s[i + 1]), column(ps, i));
		i += n;
	}
	for (i = 0; i < ps->len && (n = space_len(ps, i));)
		i += n;
	if (i == ps->len)
		return fail(ps, 0, "the query is empty");
	return 0;
}

/* ---- lexer ---- */

static const char *tok_name(enum tok_kind k)
{
	switch (k) {
	case T_AND: return "AND";
	case T_OR: return "OR";
	case T_NOT: return "NOT";
	case T_NEG: return "-";
	case T_LPAREN: return "(";
	case T_RPAREN: return ")";
	default: return "?";
	}
}

static bool tok_is(const struct parser *ps, size_t b, size_t e, const char *word)
{
	return e - b == strlen(word) && !memcmp(ps->s + b, word, e - b);
}

/* A term: everything up to the next separator, quoted sections included
 * whole (with their spaces and parentheses). */
static int lex_term(struct parser *ps, size_t i)
{
	size_t b = i;
	char buf[48];

	while (!is_sep(ps, i)) {
		if (ps->s[i] == '"') {
			const char *q = memchr(ps->s + i + 1, '"', ps->len - i - 1);
			if (!q)
				return fail(ps, i, "unclosed quote starting at column %d", column(ps, i));
			i = (size_t)(q - ps->s) + 1;
		} else {
			i++;
		}
	}
	ps->tok = (struct tok){ T_TERM, b, i };
	ps->p = i;
	if (tok_is(ps, b, i, "AND"))
		ps->tok.kind = T_AND;
	else if (tok_is(ps, b, i, "OR"))
		ps->tok.kind = T_OR;
	else if (tok_is(ps, b, i, "NOT"))
		ps->tok.kind = T_NOT;
	else if (tok_is(ps, b, i, "&&") || tok_is(ps, b, i, "||"))
		return fail(ps, b, "'%s' at column %d is not an operator; use %s",
			    snip(buf, ps->s + b, 2), column(ps, b), ps->s[b] == '&' ? "AND" : "OR");
	return 0;
}

/* Reads the next token into ps->tok. */
static int lex(struct parser *ps)
{
	size_t i = ps->p, n;

	while ((n = space_len(ps, i)))
		i += n;
	if (i >= ps->len) {
		ps->tok = (struct tok){ T_EOF, i, i };
		ps->p = i;
		return 0;
	}
	switch (ps->s[i]) {
	case '(':
		ps->tok = (struct tok){ T_LPAREN, i, i + 1 };
		break;
	case ')':
		ps->tok = (struct tok){ T_RPAREN, i, i + 1 };
		break;
	case '-':
		if (i + 1 >= ps->len || space_len(ps, i + 1) || ps->s[i + 1] == ')')
			return fail(ps, i, "'-' at column %d must be followed directly by a word, "
				    "phrase, field filter or '(', like -red", column(ps, i));
		ps->tok = (struct tok){ T_NEG, i, i + 1 };
		break;
	default:
		return lex_term(ps, i);
	}
	ps->p = i + 1;
	return 0;
}

/* ---- nodes ---- */

static struct qnode *node_new(enum qnode_kind kind, size_t pos)
{
	struct qnode *n = calloc(1, sizeof *n);

	if (n) {
		n->kind = kind;
		n->pos = (int)pos;
		n->op = QOP_EQ;
	}
	return n;
}

void query_free(struct qnode *q)
{
	if (!q)
		return;
	for (int i = 0; i < q->nkids; i++)
		query_free(q->kids[i]);
	free(q->kids);
	free(q->name);
	free(q->value);
	free(q->value2);
	free(q);
}

/* Room for `more` further children. */
static int kids_grow(struct qnode *n, int more)
{
	struct qnode **k = realloc(n->kids, (size_t)(n->nkids + more) * sizeof *k);

	if (!k)
		return DAM_ENOMEM;
	n->kids = k;
	return 0;
}

/* *acc = (kind *acc right), flattening children of the same kind. Takes
 * ownership of *acc and right; on failure both are freed and *acc is NULL. */
static int join(struct parser *ps, enum qnode_kind kind, struct qnode **acc, struct qnode *right)
{
	struct qnode *l = *acc, *n = l;
	int more = right->kind == kind ? right->nkids : 1;

	*acc = NULL;
	if (l->kind != kind && !(n = node_new(kind, (size_t)l->pos)))
		goto nomem;
	if (kids_grow(n, more + (n != l)) < 0)
		goto nomem;
	if (n != l)
		n->kids[n->nkids++] = l;
	if (right->kind == kind) {
		memcpy(n->kids + n->nkids, right->kids, (size_t)right->nkids * sizeof *n->kids);
		n->nkids += right->nkids;
		right->nkids = 0;
		query_free(right);
	} else {
		n->kids[n->nkids++] = right;
	}
	*acc = n;
	return 0;
nomem:
	if (n && n != l)
		query_free(n);
	query_free(l);
	query_free(right);
	return oom(ps);
}

/* The input need not be NUL-terminated, so copy exactly len bytes
 * (strndup would look for a NUL past them). */
static int set_str(struct parser *ps, char **dst, size_t pos, size_t len)
{
	if (!(*dst = malloc(len + 1)))
		return oom(ps);
	memcpy(*dst, ps->s + pos, len);
	(*dst)[len] = '\0';
	return 0;
}

/* ---- terms ---- */

/* A word or "phrase" in [b, e), with an optional trailing '*'. */
static int scan_value(struct parser *ps, size_t b, size_t e, struct val *v)
{
	const char *s = ps->s;
	const char *q;

	*v = (struct val){ b, e - b, false, false };
	if (s[b] == '"') {
		q = memchr(s + b + 1, '"', e - b - 1); /* the lexer saw it closed */
		v->pos = b + 1;
		v->len = (size_t)(q - s) - v->pos;
		v->phrase = true;
		b = (size_t)(q - s) + 1;
		if (b < e && s[b] == '*')
			v->prefix = true, b++;
		if (b < e)
			return fail(ps, b, "unexpected '%c' after the closing quote at column %d; "
				    "put a space between them", s[b], column(ps, b));
		for (size_t i = v->pos; i < v->pos + v->len; i++)
			if ((unsigned char)s[i] < 0x20)
				return fail(ps, i, "control character U+%04X inside quotes at column %d",
					    (unsigned)s[i], column(ps, i));
		for (b = v->pos; b < v->pos + v->len && space_len(ps, b);)
			b += space_len(ps, b);
		if (b == v->pos + v->len)
			return fail(ps, v->pos - 1, "empty quotes at column %d", column(ps, v->pos - 1));
		return 0;
	}
	if ((q = memchr(s + b, '"', e - b)))
		return fail(ps, (size_t)(q - s), "a quote inside a word at column %d; put a space "
			    "before it, or quote the whole value", column(ps, (size_t)(q - s)));
	if ((q = memchr(s + b, '*', e - b)) && (size_t)(q - s) != e - 1)
		return fail(ps, (size_t)(q - s), "'*' at column %d is only allowed at the end of a "
			    "word, like sneak*", column(ps, (size_t)(q - s)));
	if (q) {
		if (e - b == 1)
			return fail(ps, b, "'*' at column %d needs a word before it, like sneak*",
				    column(ps, b));
		v->prefix = true;
		v->len--;
	}
	return 0;
}

static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || n > QUERY_MAX_FIELD || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* The comparison after "name:" at v; returns its length. */
static size_t scan_op(const char *s, size_t v, size_t e, enum qop *op)
{
	*op = QOP_EQ;
	if (v < e && (s[v] == '>' || s[v] == '<')) {
		bool eq = v + 1 < e && s[v + 1] == '=';
		*op = s[v] == '>' ? (eq ? QOP_GE : QOP_GT) : (eq ? QOP_LE : QOP_LT);
		return eq ? 2 : 1;
	}
	return 0;
}

/* "lo..hi" in [v, e), dots at dd: both ends plain words. */
static int scan_range(struct parser *ps, struct qnode *n, size_t v, size_t dd, size_t e)
{
	struct val lo, hi;
	int rc;

	if (n->op != QOP_EQ)
		return fail(ps, dd, "a range at column %d cannot follow a comparison; write "
			    "%s:low..high", column(ps, dd), n->name);
	if (dd == v || dd + 2 == e)
		return fail(ps, dd, "the range at column %d needs a value on both sides of '..', "
			    "like %s:1000..2000", column(ps, dd), n->name);
	if (ps->s[dd + 2] == '.' || memmem(ps->s + dd + 2, e - dd - 2, "..", 2))
		return fail(ps, dd, "too many dots in the range at column %d; write %s:low..high",
			    column(ps, dd), n->name);
	if ((rc = scan_value(ps, v, dd, &lo)) < 0 || (rc = scan_value(ps, dd + 2, e, &hi)) < 0)
		return rc;
	if (lo.prefix || hi.prefix || lo.phrase || hi.phrase)
		return fail(ps, v, "a range at column %d cannot use quotes or '*'", column(ps, v));
	n->op = QOP_RANGE;
	if ((rc = set_str(ps, &n->value, lo.pos, lo.len)) < 0)
		return rc;
	return set_str(ps, &n->value2, hi.pos, hi.len);
}

/* The value of "name:" at [v, e), into n. */
static int scan_field_value(struct parser *ps, struct qnode *n, size_t b, size_t v, size_t e)
{
	const char *s = ps->s;
	const char *dd;
	struct val val;
	size_t k = scan_op(s, v, e, &n->op);
	char buf[48];
	int rc;

	if (v + k == e) {
		if (k)
			return fail(ps, b, "the comparison '%s' at column %d has no value, like %s:%s1000",
				    snip(buf, s + b, e - b), column(ps, b), n->name, query_op_name(n->op));
		return fail(ps, b, "the field '%s' at column %d has no value; write %s:value with no "
			    "space after ':'", n->name, column(ps, b), n->name);
	}
	v += k;
	if (s[v] == '<' || s[v] == '>' || s[v] == '=')
		return fail(ps, v, "bad comparison '%s' at column %d; use %s:value or one of > >= < <=",
			    snip(buf, s + b, e - b), column(ps, v), n->name);
	if (s[v] != '"' && (dd = memmem(s + v, e - v, "..", 2)))
		return scan_range(ps, n, v, (size_t)(dd - s), e);
	if ((rc = scan_value(ps, v, e, &val)) < 0)
		return rc;
	if (val.prefix && n->op != QOP_EQ)
		return fail(ps, e - 1, "'*' at column %d cannot be combined with a comparison",
			    column(ps, e - 1));
	n->phrase = val.phrase;
	n->prefix = val.prefix;
	return set_str(ps, &n->value, val.pos, val.len);
}

/* "name:value" at [b, e) with the colon at c. */
static int scan_field(struct parser *ps, struct qnode *n, size_t b, size_t c, size_t e)
{
	char buf[48];
	int rc;

	if (c == b)
		return fail(ps, b, "':' at column %d has no field name before it; put text containing "
			    "':' in quotes", column(ps, b));
	if (c - b > QUERY_MAX_FIELD && valid_name(ps->s + b, QUERY_MAX_FIELD))
		return fail(ps, b, "the field name at column %d is longer than %d characters",
			    column(ps, b), QUERY_MAX_FIELD);
	if (!valid_name(ps->s + b, c - b))
		return fail(ps, b, "'%s' at column %d is not a field name (a letter, then letters, "
			    "digits, '_' or '.'); put text containing ':' in quotes",
			    snip(buf, ps->s + b, c - b), column(ps, b));
	if ((rc = set_str(ps, &n->name, b, c - b)) < 0)
		return rc;
	for (char *p = n->name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return scan_field_value(ps, n, b, c + 1, e);
}

/* The current T_TERM token as a TEXT or FIELD node. */
static int parse_term(struct parser *ps, struct qnode **out)
{
	size_t b = ps->tok.pos, e = ps->tok.end, c;
	struct qnode *n;
	struct val v;
	int rc;

	if (++ps->nterms > QUERY_MAX_TERMS)
		return fail(ps, b, "the query has more than %d terms (the %dth starts at column %d)",
			    QUERY_MAX_TERMS, QUERY_MAX_TERMS + 1, column(ps, b));
	/* A field is a name and ':' before any quote: "a:b" is a phrase. */
	for (c = b; c < e && ps->s[c] != ':' && ps->s[c] != '"'; c++)
		;
	if (!(n = node_new(c < e && ps->s[c] == ':' ? QNODE_FIELD : QNODE_TEXT, b)))
		return oom(ps);
	if (n->kind == QNODE_FIELD) {
		rc = scan_field(ps, n, b, c, e);
	} else if ((rc = scan_value(ps, b, e, &v)) == 0) {
		n->phrase = v.phrase;
		n->prefix = v.prefix;
		rc = set_str(ps, &n->value, v.pos, v.len);
	}
	if (rc == 0)
		rc = lex(ps);
	if (rc < 0) {
		query_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* ---- parser ---- */

static int parse_or(struct parser *ps, struct qnode **out);

static bool starts_operand(enum tok_kind k)
{
	return k == T_TERM || k == T_NOT || k == T_NEG || k == T_LPAREN;
}

/* After the operator op, the current token must start an operand. */
static int need_operand(struct parser *ps, const struct tok *op)
{
	const struct tok *t = &ps->tok;

	if (t->kind == T_EOF || t->kind == T_RPAREN)
		return fail(ps, op->pos, "'%s' at column %d has nothing after it", tok_name(op->kind),
			    column(ps, op->pos));
	if (!starts_operand(t->kind))
		return fail(ps, t->pos, "'%s' at column %d follows '%s' with nothing between them",
			    tok_name(t->kind), column(ps, t->pos), tok_name(op->kind));
	return 0;
}

static int enter(struct parser *ps, const struct tok *t)
{
	if (++ps->depth > QUERY_MAX_DEPTH)
		return fail(ps, t->pos, "the query nests deeper than %d levels at column %d",
			    QUERY_MAX_DEPTH, column(ps, t->pos));
	return 0;
}

static int parse_unary(struct parser *ps, struct qnode **out);

/* NOT x, -x */
static int parse_not(struct parser *ps, struct qnode **out)
{
	struct tok op = ps->tok;
	struct qnode *kid = NULL, *n;
	int rc;

	if ((rc = enter(ps, &op)) < 0 || (rc = lex(ps)) < 0 || (rc = need_operand(ps, &op)) < 0 ||
	    (rc = parse_unary(ps, &kid)) < 0)
		return rc;
	ps->depth--;
	if (!(n = node_new(QNODE_NOT, op.pos)) || kids_grow(n, 1) < 0) {
		query_free(n);
		query_free(kid);
		return oom(ps);
	}
	n->kids[n->nkids++] = kid;
	*out = n;
	return 0;
}

/* ( or ) */
static int parse_group(struct parser *ps, struct qnode **out)
{
	struct tok lp = ps->tok;
	struct qnode *n = NULL;
	int rc;

	if ((rc = enter(ps, &lp)) < 0 || (rc = lex(ps)) < 0)
		return rc;
	if (ps->tok.kind == T_RPAREN)
		return fail(ps, lp.pos, "empty parentheses at column %d", column(ps, lp.pos));
	if (ps->tok.kind == T_EOF)
		return fail(ps, lp.pos, "unclosed '(' at column %d; add a ')'", column(ps, lp.pos));
	if ((rc = parse_or(ps, &n)) < 0)
		return rc;
	/* parse_or stops only at ')' or the end */
	if (ps->tok.kind != T_RPAREN) {
		query_free(n);
		return fail(ps, lp.pos, "unclosed '(' at column %d; add a ')'", column(ps, lp.pos));
	}
	if (n->kind == QNODE_AND || n->kind == QNODE_OR)
		n->pos = (int)lp.pos;
	ps->depth--;
	if ((rc = lex(ps)) < 0) {
		query_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

static int parse_unary(struct parser *ps, struct qnode **out)
{
	const struct tok *t = &ps->tok;

	switch (t->kind) {
	case T_NOT:
	case T_NEG:
		return parse_not(ps, out);
	case T_LPAREN:
		return parse_group(ps, out);
	case T_TERM:
		return parse_term(ps, out);
	case T_AND:
	case T_OR:
		return fail(ps, t->pos, "'%s' at column %d has nothing before it", tok_name(t->kind),
			    column(ps, t->pos));
	case T_RPAREN:
		return fail(ps, t->pos, "unmatched ')' at column %d", column(ps, t->pos));
	case T_EOF:
		break;
	}
	return fail(ps, t->pos, "the query ends too early at column %d", column(ps, t->pos));
}

/* unary { ["AND"] unary } and, with kind OR and sub parse_and, or. */
static int parse_chain(struct parser *ps, struct qnode **out, enum qnode_kind kind,
		       int (*sub)(struct parser *, struct qnode **))
{
	struct qnode *acc = NULL, *right = NULL;
	enum tok_kind opk = kind == QNODE_AND ? T_AND : T_OR;
	int rc;

	if ((rc = sub(ps, &acc)) < 0)
		return rc;
	for (;;) {
		struct tok op = ps->tok;
		if (op.kind == opk) {
			if ((rc = lex(ps)) < 0 || (rc = need_operand(ps, &op)) < 0)
				goto out;
		} else if (kind == QNODE_OR || !starts_operand(op.kind)) {
			break;
		}
		if ((rc = sub(ps, &right)) < 0 || (rc = join(ps, kind, &acc, right)) < 0)
			goto out;
	}
	*out = acc;
	return 0;
out:
	query_free(acc);
	return rc;
}

static int parse_and(struct parser *ps, struct qnode **out)
{
	return parse_chain(ps, out, QNODE_AND, parse_unary);
}

static int parse_or(struct parser *ps, struct qnode **out)
{
	return parse_chain(ps, out, QNODE_OR, parse_and);
}

int query_parse(const char *text, size_t len, struct qnode **out, struct query_error *qe)
{
	struct parser ps = { .s = text ? text : "", .len = text ? len : 0, .qe = qe };
	struct qnode *q = NULL;
	int rc;

	*out = NULL;
	if (qe) {
		qe->pos = -1;
		qe->msg[0] = '\0';
	}
	if ((rc = check_text(&ps)) < 0 || (rc = lex(&ps)) < 0 || (rc = parse_or(&ps, &q)) < 0)
		return rc;
	if (ps.tok.kind != T_EOF) { /* parse_or stops only at ')' or the end */
		query_free(q);
		return fail(&ps, ps.tok.pos, "unmatched ')' at column %d", column(&ps, ps.tok.pos));
	}
	*out = q;
	return 0;
}

/* ---- walking and dumping ---- */

const char *query_op_name(enum qop op)
{
	static const char *const names[] = { "=", ">", ">=", "<", "<=", ".." };

	return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

int query_fields(const struct qnode *q, query_field_fn fn, void *arg)
{
	int rc = 0;

	if (!q)
		return 0;
	if (q->kind == QNODE_FIELD)
		return fn(q, arg);
	for (int i = 0; i < q->nkids && rc == 0; i++)
		rc = query_fields(q->kids[i], fn, arg);
	return rc;
}

static int dump_str(struct strbuf *sb, const char *s)
{
	int rc = strbuf_addch(sb, ' ');

	if (rc == 0)
		rc = strbuf_addch(sb, '"');
	for (; s && *s && rc == 0; s++) {
		if (*s == '"' || *s == '\\')
			rc = strbuf_addch(sb, '\\');
		if (rc == 0)
			rc = strbuf_addch(sb, *s);
	}
	return rc ? rc : strbuf_addch(sb, '"');
}

static int dump_node(struct strbuf *sb, const struct qnode *q)
{
	static const char *const kinds[] = { "and", "or", "not", "text", "field" };
	int rc = strbuf_addf(sb, "(%s", (unsigned)q->kind < 5 ? kinds[q->kind] : "?");

	for (int i = 0; i < q->nkids && rc == 0; i++)
		if ((rc = strbuf_addch(sb, ' ')) == 0)
			rc = dump_node(sb, q->kids[i]);
	if (rc == 0 && q->kind == QNODE_FIELD)
		rc = strbuf_addf(sb, " %s %s", q->name ? q->name : "?", query_op_name(q->op));
	if (rc == 0 && (q->kind == QNODE_FIELD || q->kind == QNODE_TEXT))
		rc = dump_str(sb, q->value);
	if (rc == 0 && q->value2)
		rc = dump_str(sb, q->value2);
	if (rc == 0 && q->phrase)
		rc = strbuf_adds(sb, " phrase");
	if (rc == 0 && q->prefix)
		rc = strbuf_adds(sb, " prefix");
	return rc ? rc : strbuf_addch(sb, ')');
}

char *query_dump(const struct qnode *q)
{
	struct strbuf sb = STRBUF_INIT;

	if ((q ? dump_node(&sb, q) : strbuf_adds(&sb, "()")) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

int query_error_to_dam(const struct query_error *qe, int code, struct dam_err *err)
{
	return dam_err_set(err, code, "q", "%s",
			   qe && qe->msg[0] ? qe->msg : "the query is not valid");
}
