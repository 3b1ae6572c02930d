/*
 * libFuzzer target for the search query parser: parse, dump, walk the
 * fields, free. Checks the invariants query.h promises (tree shape, clean
 * values, errors with a position inside the input and a UTF-8 message) and
 * aborts when one is broken, so the fuzzer reports it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/query.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s)
{
	if (!s || !*s || !utf8_valid(s, strlen(s)) || utf8_has_control(s, strlen(s)) || strchr(s, '"'))
		abort();
}

static int check_node(const struct qnode *q, int depth)
{
	int terms = 0;

	if (depth > 2 * QUERY_MAX_DEPTH + 2)
		abort();
	switch (q->kind) {
	case QNODE_AND:
	case QNODE_OR:
		if (q->nkids < 2)
			abort();
		for (int i = 0; i < q->nkids; i++) {
			if (q->kids[i]->kind == q->kind)
				abort();
			terms += check_node(q->kids[i], depth + 1);
		}
		return terms;
	case QNODE_NOT:
		if (q->nkids != 1)
			abort();
		return check_node(q->kids[0], depth + 1);
	case QNODE_FIELD:
		check_str(q->name);
		if (strlen(q->name) > QUERY_MAX_FIELD || q->name[0] < 'a' || q->name[0] > 'z')
			abort();
		if ((q->op == QOP_RANGE) != (q->value2 != NULL))
			abort();
		if (q->value2)
			check_str(q->value2);
		/* fall through */
	case QNODE_TEXT:
		check_str(q->value);
		return 1;
	}
	abort();
}

static int count_field(const struct qnode *f, void *arg)
{
	if (f->kind != QNODE_FIELD)
		abort();
	(*(int *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query_error qe;
	struct qnode *q = NULL;
	int rc = query_parse((const char *)data, size, &q, &qe);
	int fields = 0;
	char *d;

	if (rc < 0) {
		if (q || qe.pos < 0 || (size_t)qe.pos > size || !qe.msg[0] ||
		    !utf8_valid(qe.msg, strlen(qe.msg)))
			abort();
		return 0;
	}
	if (!q || check_node(q, 0) > QUERY_MAX_TERMS || q->pos < 0 || (size_t)q->pos >= size)
		abort();
	query_fields(q, count_field, &fields);
	if (!(d = query_dump(q)) || !utf8_valid(d, strlen(d)))
		abort();
	free(d);
	query_free(q);
	return 0;
}
