/*
 * libFuzzer target for the parsers of embedded metadata and XML that read
 * untrusted bytes from files: IPTC-IIM, XMP, ICC profile descriptions and
 * the SVG root scan. The first byte picks the parser.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "media/meta.h"
#include "media/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *emb, *s;
	const char *tag, *val;
	size_t taglen, vlen;

	if (size < 1)
		return 0;
	emb = json_object();
	switch (data[0] % 4) {
	case 0:
		media__iptc_parse(data + 1, size - 1, emb);
		break;
	case 1:
		media__xmp_parse((const char *)data + 1, size - 1, emb);
		break;
	case 2:
		s = media__icc_description(data + 1, size - 1);
		json_decref(s);
		break;
	case 3:
		if (media__xml_root((const char *)data + 1, size - 1, &tag, &taglen))
			media__xml_attr(tag, taglen, "viewBox", &val, &vlen);
		media__is_svg((const char *)data + 1, size - 1);
		break;
	}
	json_decref(emb);
	return 0;
}
