/*
 * vocab.h - controlled vocabularies: named sets of terms with a hierarchy
 * (Footwear > Sneakers), labels per language and synonyms
 * (trainers = sneakers = 运动鞋).
 *
 * A term's id is its canonical text ("sneakers"); terms and synonyms are
 * compared ignoring ASCII case, are unique within a vocabulary (a word is
 * either a term or the synonym of exactly one term), hold 1-200 bytes of
 * UTF-8 without control characters, edge spaces or commas (commas separate
 * multichoice values). A term's parent is another term of the same
 * vocabulary; cycles are refused.
 *
 * For search: vocab_expand() gives a term, its synonyms and all its
 * descendants with their synonyms ("a parent term matches its children");
 * vocab_resolve() maps a synonym to its canonical term.
 *
 * Every change writes one audit row in its transaction. JSON returned is
 * owned by the caller.
 */
#ifndef DAM_CORE_VOCAB_H
#define DAM_CORE_VOCAB_H

#include <jansson.h>
#include <stdbool.h>

#include "core/library.h"
#include "util/strbuf.h"

#define VOCAB_TERM_MAX 200

/* Creates an empty vocabulary; name is [a-z0-9_.-]{1,64}. DAM_EEXIST when
 * it exists. Audit: vocab.add. */
int vocab_add(struct dam *dam, const char *name, struct dam_err *err);

/* True when word is acceptable as a term or synonym. */
bool vocab_term_valid(const char *word);

/* Adds or updates term in vocabulary vocab: parent (NULL = top level, or a
 * term of the vocabulary), synonyms to add (nsyn may be 0), labels to set
 * (parallel langs/texts). Updating keeps existing synonyms and labels not
 * named. DAM_ENOTFOUND for an unknown vocabulary or parent, DAM_EINVAL for
 * a cycle or a bad word, DAM_ECONFLICT when a synonym already belongs to
 * another term or is a term. Audit: vocab.term. */
int vocab_term_set(struct dam *dam, const char *vocab, const char *term, const char *parent,
		   const char *const *synonyms, int nsyn, const char *const *label_langs,
		   const char *const *label_texts, int nlabels, struct dam_err *err);

/* The whole of a term, as vocab_term_edit() writes it. */
struct vocab_term {
	const char *term;                /* its text (a new one renames it); NULL keeps it */
	const char *parent;              /* NULL = top level */
	bool keep_parent;                /* true: parent is ignored, the term stays where it is */
	const char *const *synonyms;     /* all of them; nsyn < 0 keeps those it has */
	int nsyn;
	const char *const *label_langs;  /* all labels, parallel arrays; nlabels < 0 keeps them */
	const char *const *label_texts;
	int nlabels;
};

/* Replaces the existing term `term` of vocab with t: its text (a rename),
 * parent, synonyms and labels, all at once. A renamed term keeps its old
 * text as a synonym, so values stored with it still resolve to the term;
 * children follow the rename. DAM_ENOTFOUND for an unknown vocabulary,
 * term or parent, DAM_EINVAL for a bad word or a cycle, DAM_ECONFLICT when
 * the new text or a synonym belongs to another term. Audit: vocab.term
 * (before and after). */
int vocab_term_edit(struct dam *dam, const char *vocab, const char *term, const struct vocab_term *t,
		    struct dam_err *err);

/* Vocabularies: [{"name", "terms": N}] by name. */
int vocab_list(struct dam *dam, json_t **out, struct dam_err *err);

/* One vocabulary: {"name", "terms": [{"term", "parent" (or null), "labels",
 * "synonyms": [...]}]} in creation order. DAM_ENOTFOUND when unknown. */
int vocab_get(struct dam *dam, const char *vocab, json_t **out, struct dam_err *err);

/* True (1) when vocabulary vocab exists, 0 when not, < 0 on error. */
int vocab_exists(struct dam *dam, const char *vocab, struct dam_err *err);

/* The canonical term of word (a term or a synonym) into out. vocab NULL
 * searches every vocabulary (first by vocabulary name). DAM_ENOTFOUND when
 * word is in none. */
int vocab_resolve(struct dam *dam, const char *vocab, const char *word,
		  char out[VOCAB_TERM_MAX + 1], struct dam_err *err);

/* Expands word (resolved first, so a synonym works too) to a JSON array of
 * strings: the term, its synonyms, and every descendant term with its
 * synonyms. vocab NULL = the first vocabulary holding word. DAM_ENOTFOUND
 * when word is in no vocabulary. */
int vocab_expand(struct dam *dam, const char *vocab, const char *word, json_t **out,
		 struct dam_err *err);

/* Appends the terms of vocab, comma-separated in creation order, to out,
 * stopping with " …" once out would pass max bytes. For error messages. */
int vocab_allowed(struct dam *dam, const char *vocab, size_t max, struct strbuf *out,
		  struct dam_err *err);

#endif
