/* cmd_schema.c - the metadata schema: `dam field|vocab|template|pattern|languages|incomplete`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "core/fielddef.h"
#include "core/namepattern.h"
#include "core/template.h"
#include "core/vocab.h"

typedef int (*sub_fn)(struct dam *, int, char **);

struct sub {
	const char *name;
	sub_fn run;
};

/* Opens the library and runs the subcommand argv[1] of cmd. */
static int dispatch(struct cli *cli, const char *cmd, const struct sub *subs, size_t n, int argc, char **argv)
{
	struct dam *dam;
	int code;

	if (argc < 2)
		return cli_usage(cmd, "give a subcommand");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], subs[i].name))
			continue;
		if (cli_open(cli, &dam, &code) < 0)
			return code;
		code = subs[i].run(dam, argc, argv);
		library_close(dam);
		return code;
	}
	return cli_usage(cmd, "unknown subcommand %s", argv[1]);
}

/* Splits "a=b" in place; NULL when there is no '=' or nothing before it. */
static char *split_eq(char *s)
{
	char *eq = strchr(s, '=');

	if (!eq || eq == s)
		return NULL;
	*eq = '\0';
	return eq + 1;
}

/* Up to argc pointers, for repeated options. */
struct list {
	const char **v;
	const char **w; /* second half of KEY=VALUE pairs */
	int n;
};

static int list_alloc(struct list *l, int argc)
{
	l->n = 0;
	l->v = calloc((size_t)argc + 1, sizeof *l->v);
	l->w = calloc((size_t)argc + 1, sizeof *l->w);
	return l->v && l->w ? 0 : -1;
}

static void list_free(struct list *l)
{
	free(l->v);
	free(l->w);
}

/* Adds "K=V" (pair) to l; a usage error when it has no '='. */
static int list_pair(struct list *l, const char *cmd, const char *opt, char *arg)
{
	char *val = split_eq(arg);

	if (!val)
		return cli_usage(cmd, "%s wants KEY=VALUE, got \"%s\"", opt, arg);
	l->v[l->n] = arg;
	l->w[l->n++] = val;
	return EXIT_OK;
}

static bool want_json(int argc, char **argv, int from)
{
	for (int i = from; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			return true;
	return false;
}

/* ---- dam field ---- */

/* dam field add KEY ... defines; dam field set KEY ... (the same options)
 * replaces a definition (fielddef_set). */
static int field_add_cmd(struct dam *dam, int argc, char **argv)
{
	bool replace = !strcmp(argv[1], "set");
	struct fielddef d = { 0 };
	struct dam_err err;
	struct list labels;
	bool has_type = false;
	int code = EXIT_OK;

	dam_err_clear(&err);
	if (list_alloc(&labels, argc) < 0)
		return EXIT_FAILURE_;
	for (int i = 2; i < argc && code == EXIT_OK; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if (!strcmp(a, "--type") && more) {
			has_type = true;
			if (field_type_parse(argv[++i], &d.type, &err) < 0)
				code = cli_usage("field", "%s", err.msg);
		} else if (!strcmp(a, "--label") && more)
			code = list_pair(&labels, "field", "--label", argv[++i]);
		else if (!strcmp(a, "--default") && more)
			d.default_value = argv[++i];
		else if (!strcmp(a, "--vocab") && more)
			d.vocab = argv[++i];
		else if (!strcmp(a, "--help-text") && more)
			d.help = argv[++i];
		else if (!strcmp(a, "--required"))
			d.required = true;
		else if (!strcmp(a, "--searchable"))
			d.searchable = true;
		else if (!strcmp(a, "--facetable"))
			d.facetable = true;
		else if (!strcmp(a, "--multilang"))
			d.multilang = true;
		else if (a[0] != '-' && !d.key)
			d.key = a;
		else
			code = cli_usage("field", "unexpected argument %s", a);
	}
	if (code == EXIT_OK && (!d.key || !has_type))
		code = cli_usage("field", "%s needs a KEY and --type TYPE", argv[1]);
	if (code == EXIT_OK) {
		d.label_langs = labels.v;
		d.label_texts = labels.w;
		d.nlabels = labels.n;
		if ((replace ? fielddef_set(dam, &d, &err) : fielddef_add(dam, &d, &err)) < 0)
			code = cli_fail(&err);
		else
			printf("%s field %s (%s)\n", replace ? "changed" : "defined", d.key, field_type_name(d.type));
	}
	list_free(&labels);
	return code;
}

static int field_list_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	json_t *list, *f;
	size_t i;

	if (argc > 3 || (argc == 3 && strcmp(argv[2], "--json")))
		return cli_usage("field", "list takes only --json");
	dam_err_clear(&err);
	if (fielddef_list(dam, &list, &err) < 0)
		return cli_fail(&err);
	if (want_json(argc, argv, 2))
		cli_print_json(list);
	else
		json_array_foreach(list, i, f) {
			const json_t *en = json_object_get(json_object_get(f, "labels"), "en");
			printf("%-20s %-11s%s%s%s%s", json_string_value(json_object_get(f, "key")),
			       json_string_value(json_object_get(f, "type")),
			       json_is_true(json_object_get(f, "required")) ? " required" : "",
			       json_is_true(json_object_get(f, "searchable")) ? " searchable" : "",
			       json_is_true(json_object_get(f, "facetable")) ? " facetable" : "",
			       json_is_true(json_object_get(f, "multilang")) ? " multilang" : "");
			if (json_is_string(json_object_get(f, "vocab")))
				printf(" vocab=%s", json_string_value(json_object_get(f, "vocab")));
			if (json_is_string(en))
				printf(" \"%s\"", json_string_value(en));
			printf("\n");
		}
	json_decref(list);
	return EXIT_OK;
}

static int field_rm_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;

	if (argc != 3)
		return cli_usage("field", "rm needs one KEY");
	dam_err_clear(&err);
	if (fielddef_remove(dam, argv[2], &err) < 0)
		return cli_fail(&err);
	printf("removed field definition %s (stored values stay as free fields)\n", argv[2]);
	return EXIT_OK;
}

static const struct sub field_subs[] = {
	{ "add", field_add_cmd }, { "set", field_add_cmd }, { "list", field_list_cmd }, { "rm", field_rm_cmd },
};

int cmd_field(struct cli *cli, int argc, char **argv)
{
	return dispatch(cli, "field", field_subs, sizeof field_subs / sizeof field_subs[0], argc, argv);
}

/* ---- dam vocab ---- */

static int vocab_add_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;

	if (argc != 3)
		return cli_usage("vocab", "add needs one NAME");
	dam_err_clear(&err);
	if (vocab_add(dam, argv[2], &err) < 0)
		return cli_fail(&err);
	printf("created vocabulary %s\n", argv[2]);
	return EXIT_OK;
}

static int vocab_term_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	struct list syn, labels;
	const char *vocab = NULL, *term = NULL, *parent = NULL;
	int code = EXIT_OK;

	if (list_alloc(&syn, argc) < 0 || list_alloc(&labels, argc) < 0)
		return EXIT_FAILURE_;
	for (int i = 2; i < argc && code == EXIT_OK; i++) {
		bool more = i + 1 < argc;
		if (!strcmp(argv[i], "--parent") && more)
			parent = argv[++i];
		else if (!strcmp(argv[i], "--synonym") && more)
			syn.v[syn.n++] = argv[++i];
		else if (!strcmp(argv[i], "--label") && more)
			code = list_pair(&labels, "vocab", "--label", argv[++i]);
		else if (argv[i][0] != '-' && !vocab)
			vocab = argv[i];
		else if (argv[i][0] != '-' && !term)
			term = argv[i];
		else
			code = cli_usage("vocab", "unexpected argument %s", argv[i]);
	}
	if (code == EXIT_OK && !term)
		code = cli_usage("vocab", "term needs a vocabulary NAME and a TERM");
	dam_err_clear(&err);
	if (code == EXIT_OK) {
		if (vocab_term_set(dam, vocab, term, parent, syn.v, syn.n, labels.v, labels.w, labels.n, &err) < 0)
			code = cli_fail(&err);
		else
			printf("%s: term %s%s%s\n", vocab, term, parent ? " under " : "", parent ? parent : "");
	}
	list_free(&syn);
	list_free(&labels);
	return code;
}

/* Prints the terms under parent (NULL = top), indented by depth. */
static void print_tree(const json_t *terms, const char *parent, int depth)
{
	const json_t *t, *s;
	size_t i, j;

	if (depth > 64)
		return;
	json_array_foreach(terms, i, t) {
		const json_t *p = json_object_get(t, "parent");
		const char *term = json_string_value(json_object_get(t, "term"));
		if (parent ? !json_is_string(p) || strcasecmp(json_string_value(p), parent) : json_is_string(p))
			continue;
		printf("%*s", depth * 2, "");
		cli_print_name(stdout, term);
		json_array_foreach(json_object_get(t, "synonyms"), j, s) {
			printf(j ? ", " : " (= ");
			cli_print_name(stdout, json_string_value(s));
		}
		printf("%s\n", json_array_size(json_object_get(t, "synonyms")) ? ")" : "");
		print_tree(terms, term, depth + 1);
	}
}

static int vocab_show_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	const char *name = NULL;
	json_t *v;

	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--json") && !name)
			name = argv[i];
		else if (strcmp(argv[i], "--json"))
			return cli_usage("vocab", "unexpected argument %s", argv[i]);
	if (!name)
		return cli_usage("vocab", "show needs a vocabulary NAME");
	dam_err_clear(&err);
	if (vocab_get(dam, name, &v, &err) < 0)
		return cli_fail(&err);
	if (want_json(argc, argv, 2))
		cli_print_json(v);
	else
		print_tree(json_object_get(v, "terms"), NULL, 0);
	json_decref(v);
	return EXIT_OK;
}

static int vocab_list_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	json_t *list, *v;
	size_t i;

	dam_err_clear(&err);
	if (vocab_list(dam, &list, &err) < 0)
		return cli_fail(&err);
	if (want_json(argc, argv, 2))
		cli_print_json(list);
	else
		json_array_foreach(list, i, v)
			printf("%-24s %lld terms\n", json_string_value(json_object_get(v, "name")),
			       (long long)json_integer_value(json_object_get(v, "terms")));
	json_decref(list);
	return EXIT_OK;
}

static const struct sub vocab_subs[] = {
	{ "add", vocab_add_cmd }, { "term", vocab_term_cmd }, { "show", vocab_show_cmd }, { "list", vocab_list_cmd },
};

int cmd_vocab(struct cli *cli, int argc, char **argv)
{
	return dispatch(cli, "vocab", vocab_subs, sizeof vocab_subs / sizeof vocab_subs[0], argc, argv);
}

/* ---- dam template ---- */

static int template_add_cmd(struct dam *dam, int argc, char **argv)
{
	struct template_def d = { 0 };
	struct dam_err err;
	struct list fields, tags;
	int code = EXIT_OK;

	if (list_alloc(&fields, argc) < 0 || list_alloc(&tags, argc) < 0)
		return EXIT_FAILURE_;
	for (int i = 2; i < argc && code == EXIT_OK; i++) {
		bool more = i + 1 < argc;
		if (!strcmp(argv[i], "--field") && more)
			code = list_pair(&fields, "template", "--field", argv[++i]);
		else if (!strcmp(argv[i], "--tag") && more)
			tags.v[tags.n++] = argv[++i];
		else if (!strcmp(argv[i], "--match") && more)
			d.match = argv[++i];
		else if (argv[i][0] != '-' && !d.name)
			d.name = argv[i];
		else
			code = cli_usage("template", "unexpected argument %s", argv[i]);
	}
	if (code == EXIT_OK && !d.name)
		code = cli_usage("template", "add needs a NAME");
	dam_err_clear(&err);
	if (code == EXIT_OK) {
		d.keys = fields.v;
		d.values = fields.w;
		d.nfields = fields.n;
		d.tags = tags.v;
		d.ntags = tags.n;
		if (template_add(dam, &d, &err) < 0)
			code = cli_fail(&err);
		else
			printf("saved template %s (%d fields, %d tags)\n", d.name, d.nfields, d.ntags);
	}
	list_free(&fields);
	list_free(&tags);
	return code;
}

static int template_list_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	json_t *list, *t, *v;
	const char *k;
	size_t i, j;

	dam_err_clear(&err);
	if (template_list(dam, &list, &err) < 0)
		return cli_fail(&err);
	if (want_json(argc, argv, 2)) {
		cli_print_json(list);
		json_decref(list);
		return EXIT_OK;
	}
	json_array_foreach(list, i, t) {
		const char *match = json_string_value(json_object_get(t, "match"));
		printf("%s", json_string_value(json_object_get(t, "name")));
		if (match && *match)
			printf(" match=%s", match);
		json_object_foreach(json_object_get(t, "fields"), k, v)
			printf(" %s=%s", k, json_string_value(v));
		json_array_foreach(json_object_get(t, "tags"), j, v)
			printf(" +%s", json_string_value(v));
		printf("\n");
	}
	json_decref(list);
	return EXIT_OK;
}

static int template_apply_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	int n;

	if (argc < 4)
		return cli_usage("template", "apply needs a template NAME and asset IDs");
	dam_err_clear(&err);
	if ((n = template_apply_bulk(dam, argv[2], (const char *const *)argv + 3, argc - 3, &err)) < 0)
		return cli_fail(&err);
	printf("applied template %s to %d asset%s\n", argv[2], n, n == 1 ? "" : "s");
	return EXIT_OK;
}

static int template_rm_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;

	if (argc != 3)
		return cli_usage("template", "rm needs one NAME");
	dam_err_clear(&err);
	if (template_remove(dam, argv[2], &err) < 0)
		return cli_fail(&err);
	printf("removed template %s\n", argv[2]);
	return EXIT_OK;
}

static const struct sub template_subs[] = {
	{ "add", template_add_cmd }, { "list", template_list_cmd },
	{ "apply", template_apply_cmd }, { "rm", template_rm_cmd },
};

int cmd_template(struct cli *cli, int argc, char **argv)
{
	return dispatch(cli, "template", template_subs, sizeof template_subs / sizeof template_subs[0], argc, argv);
}

/* ---- dam pattern ---- */

static int pattern_change_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	bool add = !strcmp(argv[1], "add");

	if (argc != 3)
		return cli_usage("pattern", "%s needs one PATTERN (quote it)", argv[1]);
	dam_err_clear(&err);
	if ((add ? namepattern_add(dam, argv[2], &err) : namepattern_remove(dam, argv[2], &err)) < 0)
		return cli_fail(&err);
	printf("%s pattern %s\n", add ? "added" : "removed", argv[2]);
	return EXIT_OK;
}

static int pattern_list_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	json_t *list, *p;
	size_t i;

	dam_err_clear(&err);
	if (namepattern_list(dam, &list, &err) < 0)
		return cli_fail(&err);
	if (want_json(argc, argv, 2))
		cli_print_json(list);
	else
		json_array_foreach(list, i, p)
			printf("%lld  %s\n", (long long)json_integer_value(json_object_get(p, "position")),
			       json_string_value(json_object_get(p, "pattern")));
	json_decref(list);
	return EXIT_OK;
}

static int pattern_test_cmd(struct dam *dam, int argc, char **argv)
{
	struct namepattern_match m;
	struct dam_err err;
	int rc;

	if (argc != 3)
		return cli_usage("pattern", "test needs one FILENAME");
	dam_err_clear(&err);
	if ((rc = namepattern_apply(dam, argv[2], &m, &err)) < 0)
		return cli_fail(&err);
	if (!rc) {
		printf("no pattern matches\n");
		return EXIT_PARTIAL;
	}
	printf("%s\n", m.pattern);
	for (int i = 0; i < m.n; i++)
		printf("  %s=%s\n", m.keys[i], m.values[i]);
	return EXIT_OK;
}

static const struct sub pattern_subs[] = {
	{ "add", pattern_change_cmd }, { "rm", pattern_change_cmd },
	{ "list", pattern_list_cmd }, { "test", pattern_test_cmd },
};

int cmd_pattern(struct cli *cli, int argc, char **argv)
{
	return dispatch(cli, "pattern", pattern_subs, sizeof pattern_subs / sizeof pattern_subs[0], argc, argv);
}

/* ---- dam languages ---- */

static int languages_show_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;
	json_t *langs, *l;
	size_t i;

	dam_err_clear(&err);
	if (fielddef_languages(dam, &langs, &err) < 0)
		return cli_fail(&err);
	json_array_foreach(langs, i, l)
		printf("%s%s", i ? "," : "", json_string_value(l));
	printf("\n");
	json_decref(langs);
	return EXIT_OK;
}

static int languages_set_cmd(struct dam *dam, int argc, char **argv)
{
	struct dam_err err;

	if (argc != 3)
		return cli_usage("languages", "set needs one list like en,zh,nl,fr");
	dam_err_clear(&err);
	if (fielddef_languages_set(dam, argv[2], &err) < 0)
		return cli_fail(&err);
	return languages_show_cmd(dam, argc, argv);
}

static const struct sub languages_subs[] = {
	{ "set", languages_set_cmd }, { "show", languages_show_cmd },
};

int cmd_languages(struct cli *cli, int argc, char **argv)
{
	char *show[] = { argv[0], "show", NULL };

	if (argc == 1)
		return dispatch(cli, "languages", languages_subs, 2, 2, show);
	return dispatch(cli, "languages", languages_subs, 2, argc, argv);
}

/* ---- dam incomplete ---- */

static void print_incomplete(const json_t *report)
{
	const json_t *a, *k;
	size_t i, j;

	json_array_foreach(json_object_get(report, "assets"), i, a) {
		printf("%s  ", json_string_value(json_object_get(a, "id")));
		cli_print_name(stdout, json_string_value(json_object_get(a, "name")));
		printf("  missing:");
		json_array_foreach(json_object_get(a, "missing"), j, k)
			printf(" %s", json_string_value(k));
		printf("\n");
	}
}

/* Applies the fix to every asset of the report. */
static int incomplete_fix(struct dam *dam, const json_t *report, const char *tpl, const char *key,
			  const char *value, struct dam_err *err)
{
	size_t n = json_array_size(json_object_get(report, "assets")), i;
	const char **ids = calloc(n + 1, sizeof *ids);
	const json_t *a;
	int rc;

	if (!ids)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	json_array_foreach(json_object_get(report, "assets"), i, a)
		ids[i] = json_string_value(json_object_get(a, "id"));
	rc = tpl ? template_apply_bulk(dam, tpl, ids, (int)n, err)
		 : template_set_field_bulk(dam, key, value, ids, (int)n, err);
	free(ids);
	return rc;
}

int cmd_incomplete(struct cli *cli, int argc, char **argv)
{
	struct dam_err err;
	struct dam *dam;
	const char *tpl = NULL, *key = NULL, *value = NULL;
	bool json = false;
	json_t *report = NULL;
	int code = EXIT_OK, n;

	for (int i = 1; i < argc && code == EXIT_OK; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--apply-template") && i + 1 < argc)
			tpl = argv[++i];
		else if (!strcmp(argv[i], "--set") && i + 1 < argc) {
			key = argv[++i];
			if (!(value = split_eq(argv[i])))
				code = cli_usage("incomplete", "--set wants KEY=VALUE");
		} else
			code = cli_usage("incomplete", "unexpected argument %s", argv[i]);
	}
	if (code == EXIT_OK && tpl && key)
		code = cli_usage("incomplete", "give --apply-template or --set, not both");
	if (code != EXIT_OK || cli_open(cli, &dam, &code) < 0)
		return code;
	dam_err_clear(&err);
	if (fielddef_incomplete(dam, &report, &err) < 0) {
		code = cli_fail(&err);
	} else if (tpl || key) {
		if ((n = incomplete_fix(dam, report, tpl, key, value, &err)) < 0)
			code = cli_fail(&err);
		else
			printf("fixed %d asset%s\n", n, n == 1 ? "" : "s");
	} else {
		if (json)
			cli_print_json(report);
		else
			print_incomplete(report);
		/* Exit 1 when something is incomplete, like fsck finding damage. */
		code = json_integer_value(json_object_get(report, "count")) ? EXIT_PARTIAL : EXIT_OK;
	}
	json_decref(report);
	library_close(dam);
	return code;
}
