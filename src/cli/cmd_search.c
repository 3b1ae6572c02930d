/* cmd_search.c - `dam search`: the query language from the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/search.h"
#include "util/strbuf.h"

static void print_facets(const json_t *facets)
{
	const char *facet, *value;
	json_t *vals, *n;

	json_object_foreach((json_t *)facets, facet, vals) {
		printf("  %s:", facet);
		json_object_foreach(vals, value, n)
			printf(" %s(%lld)", value, (long long)json_integer_value(n));
		printf("\n");
	}
}

int cmd_search(struct cli *cli, int argc, char **argv)
{
	struct search_request sr = { 0 };
	struct strbuf q = STRBUF_INIT;
	struct dam_err err;
	struct dam *dam;
	bool json = false;
	json_t *out, *it;
	size_t i;
	int code;

	/* Known --options anywhere; everything else is the query, so
	 * "-tag:draft" (NOT) is never taken for an option. */
	for (int k = 1; k < argc; k++) {
		const char *a = argv[k];
		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--facets")) {
			sr.facets = true;
		} else if (!strcmp(a, "--prefix-last")) {
			sr.prefix_last = true;
		} else if ((!strcmp(a, "--sort") || !strcmp(a, "--cursor") || !strcmp(a, "--limit")) && k + 1 < argc) {
			const char *v = argv[++k];
			if (a[2] == 's')
				sr.sort = v;
			else if (a[2] == 'c')
				sr.cursor = v;
			else if ((sr.limit = (int)strtol(v, NULL, 10)) < 1 || sr.limit > 1000)
				return cli_usage("search", "--limit wants 1-1000");
		} else if (!strcmp(a, "--")) {
			for (k++; k < argc; k++) {
				if (q.len)
					strbuf_addch(&q, ' ');
				strbuf_adds(&q, argv[k]);
			}
		} else {
			if (q.len)
				strbuf_addch(&q, ' ');
			strbuf_adds(&q, a);
		}
	}
	sr.q = q.buf;
	if (cli_open(cli, &dam, &code) < 0) {
		strbuf_release(&q);
		return code;
	}
	dam_err_clear(&err);
	if (search_run(dam, &sr, &out, &err) < 0) {
		library_close(dam);
		strbuf_release(&q);
		return cli_fail(&err);
	}
	if (json) {
		cli_print_json(out);
	} else {
		json_array_foreach(json_object_get(out, "items"), i, it) {
			printf("%s  %-8s %10lld  ", json_string_value(json_object_get(it, "id")),
			       json_string_value(json_object_get(it, "kind")), (long long)json_integer_value(json_object_get(it, "size")));
			cli_print_name(stdout, json_string_value(json_object_get(it, "name")));
			printf("\n");
		}
		printf("%lld result(s)\n", (long long)json_integer_value(json_object_get(out, "total")));
		if (sr.facets)
			print_facets(json_object_get(out, "facets"));
		if (json_is_string(json_object_get(out, "next_cursor")))
			printf("more: --cursor %s\n", json_string_value(json_object_get(out, "next_cursor")));
	}
	json_decref(out);
	library_close(dam);
	strbuf_release(&q);
	return EXIT_OK;
}
