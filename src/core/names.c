#include "core/names.h"

#include <string.h>

#include "util/utf8.h"

#define TAG_MAX 200

bool asset_field_key_valid(const char *key)
{
	const char *at = strchr(key, '@'); /* "title@zh": one value per language */
	size_t n = at ? (size_t)(at - key) : strlen(key);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return !at || fielddef_lang_valid(at + 1);
}

bool asset_tag_valid(const char *tag)
{
	size_t n = strlen(tag);

	return n > 0 && n <= TAG_MAX && tag[0] != ' ' && tag[n - 1] != ' ' && utf8_valid(tag, n) &&
	       !utf8_has_control(tag, n);
}

bool fielddef_lang_valid(const char *lang)
{
	size_t i = 0, j;

	while (lang[i] >= 'a' && lang[i] <= 'z')
		i++;
	if (i < 2 || i > 3)
		return false;
	if (!lang[i])
		return true;
	if (lang[i] != '-')
		return false;
	for (j = i + 1; (lang[j] >= 'a' && lang[j] <= 'z') || (lang[j] >= '0' && lang[j] <= '9'); j++)
		;
	return !lang[j] && j - i - 1 >= 2 && j - i - 1 <= 8;
}
