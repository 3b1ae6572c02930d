#include "testutil.h"

#include "deliver/tspec.h"

#define WM_ID "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

static struct tspec parse_ok(const char *text)
{
	struct tspec s;
	struct dam_err err = { 0 };
	int rc = tspec_parse(text, strlen(text), NULL, &s, &err);

	if (rc != 0)
		fail_msg("'%s': unexpected error %d: %s", text, rc, err.msg);
	return s;
}

/* The canonical text of s (static buffer, overwritten by the next call). */
static const char *canon(const struct tspec *s)
{
	static char out[2048];
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(tspec_format(s, &sb), 0);
	snprintf(out, sizeof out, "%s", sb.buf);
	strbuf_release(&sb);
	return out;
}

/* Every field but nops (the count of options named in the text). */
static void assert_tspec_equal(const char *what, const struct tspec *a, const struct tspec *b)
{
	const struct media_transform *x = &a->t, *y = &b->t;
	bool same = a->set == b->set && !strcmp(a->preset, b->preset) &&
		    !strcmp(a->wm_asset, b->wm_asset) && a->version == b->version && a->exp == b->exp &&
		    a->download == b->download && x->width == y->width && x->height == y->height &&
		    x->fit == y->fit && x->crop == y->crop && x->gravity == y->gravity &&
		    x->focal_x == y->focal_x && x->focal_y == y->focal_y && x->rotate == y->rotate &&
		    x->flip_h == y->flip_h && x->flip_v == y->flip_v && x->bg_set == y->bg_set &&
		    !memcmp(x->bg, y->bg, 4) && !memcmp(x->pad, y->pad, sizeof x->pad) &&
		    x->format == y->format && x->quality == y->quality && x->dpr == y->dpr &&
		    x->blur == y->blur && x->sharpen == y->sharpen && x->trim == y->trim &&
		    x->max_bytes == y->max_bytes && x->strip_all == y->strip_all &&
		    x->copyright == y->copyright && x->creator == y->creator && x->wm == y->wm &&
		    x->wm_gravity == y->wm_gravity && x->wm_scale == y->wm_scale &&
		    x->wm_opacity == y->wm_opacity;

	if (!same) {
		char ca[2048];
		snprintf(ca, sizeof ca, "%s", canon(a));
		fail_msg("%s: specs differ: %s vs %s", what, ca, canon(b));
	}
}

/* ---- valid options, field by field ---- */

static void test_defaults(void **state)
{
	const char *none[] = { "_", "raw" };

	for (int i = 0; i < 2; i++) {
		struct tspec s = parse_ok(none[i]);
		assert_int_equal(s.set, 0);
		assert_int_equal(s.nops, 0);
		assert_int_equal(s.t.width, 0);
		assert_int_equal(s.t.height, 0);
		assert_int_equal(s.t.fit, MEDIA_FIT_INSIDE);
		assert_int_equal(s.t.format, MEDIA_FMT_JPEG);
		assert_int_equal(s.t.quality, 0);
		assert_true(s.t.dpr == 1);
		assert_true(s.t.sharpen == 0);
		assert_null(s.t.wm);
		assert_false(s.t.bg_set);
		assert_false(s.t.strip_all);
		assert_null(s.t.copyright);
		assert_string_equal(s.preset, "");
		assert_string_equal(s.wm_asset, "");
		assert_int_equal(s.version, 0);
		assert_int_equal(s.exp, 0);
		assert_false(s.download);
		assert_string_equal(canon(&s), "_");
	}
}

static void test_brief_examples(void **state)
{
	struct tspec s = parse_ok("w_800,h_800,fit_cover,crop_smart,f_auto,q_80");

	assert_int_equal(s.t.width, 800);
	assert_int_equal(s.t.height, 800);
	assert_int_equal(s.t.fit, MEDIA_FIT_COVER);
	assert_int_equal(s.t.crop, MEDIA_CROP_SMART);
	assert_int_equal(s.t.format, MEDIA_FMT_AUTO);
	assert_int_equal(s.t.quality, 80);
	assert_int_equal(s.set, TS_W | TS_H | TS_FIT | TS_CROP | TS_FMT | TS_Q);
	assert_int_equal(s.nops, 6);
	assert_string_equal(canon(&s), "w_800,h_800,fit_cover,crop_smart,f_auto,q_80");

	s = parse_ok("p_tmall,exp_1800000000");
	assert_string_equal(s.preset, "tmall");
	assert_int_equal(s.exp, INT64_C(1800000000));
	assert_int_equal(s.set, TS_PRESET | TS_EXP);
	assert_string_equal(canon(&s), "p_tmall,exp_1800000000");

	s = parse_ok("wm_" WM_ID ":se:0.2:0.5");
	assert_string_equal(s.wm_asset, WM_ID);
	assert_int_equal(s.t.wm_gravity, MEDIA_GRAV_SE);
	assert_true(s.t.wm_scale == 0.2);
	assert_true(s.t.wm_opacity == 0.5);
	assert_null(s.t.wm);
	assert_int_equal(s.set, TS_WM);
	assert_string_equal(canon(&s), "wm_" WM_ID ":se:0.2:0.5");
}

static void test_each_option(void **state)
{
	struct tspec s;

	s = parse_ok("h_16384");
	assert_int_equal(s.t.height, 16384);
	assert_int_equal(s.t.width, 0);
	s = parse_ok("w_0800"); /* leading zeros are read, not printed */
	assert_int_equal(s.t.width, 800);
	assert_string_equal(canon(&s), "w_800");
	s = parse_ok("w_1,h_2,fit_contain");
	assert_int_equal(s.t.fit, MEDIA_FIT_CONTAIN);
	s = parse_ok("fit_fill,h_2,w_1");
	assert_int_equal(s.t.fit, MEDIA_FIT_FILL);
	assert_string_equal(canon(&s), "w_1,h_2,fit_fill");

	s = parse_ok("crop_ne,fit_cover,w_10,h_20");
	assert_int_equal(s.t.crop, MEDIA_CROP_GRAVITY);
	assert_int_equal(s.t.gravity, MEDIA_GRAV_NE);
	assert_string_equal(canon(&s), "w_10,h_20,fit_cover,crop_ne");
	s = parse_ok("w_10,h_20,fit_cover,crop_focal");
	assert_int_equal(s.t.crop, MEDIA_CROP_FOCAL);
	s = parse_ok("w_10,h_20,fit_cover,crop_nw");
	assert_int_equal(s.t.gravity, MEDIA_GRAV_NW);
	s = parse_ok("w_10,h_20,fit_cover,crop_center"); /* the default: dropped */
	assert_int_equal(s.t.crop, MEDIA_CROP_CENTER);
	assert_int_equal(s.set, TS_W | TS_H | TS_FIT);

	s = parse_ok("rot_270,flip_hv");
	assert_int_equal(s.t.rotate, 270);
	assert_true(s.t.flip_h && s.t.flip_v);
	s = parse_ok("flip_v");
	assert_false(s.t.flip_h);
	assert_true(s.t.flip_v);
	s = parse_ok("flip_h");
	assert_true(s.t.flip_h);
	assert_false(s.t.flip_v);

	s = parse_ok("bg_FFaa00");
	assert_true(s.t.bg_set);
	assert_int_equal(s.t.bg[0], 255);
	assert_int_equal(s.t.bg[1], 170);
	assert_int_equal(s.t.bg[2], 0);
	assert_int_equal(s.t.bg[3], 255);
	assert_string_equal(canon(&s), "bg_ffaa00");
	s = parse_ok("bg_00000080");
	assert_int_equal(s.t.bg[3], 128);
	assert_string_equal(canon(&s), "bg_00000080");
	s = parse_ok("bg_123456ff");
	assert_string_equal(canon(&s), "bg_123456");

	s = parse_ok("pad_10");
	for (int i = 0; i < 4; i++)
		assert_int_equal(s.t.pad[i], 10);
	s = parse_ok("pad_1:2:3:2000");
	assert_int_equal(s.t.pad[0], 1);
	assert_int_equal(s.t.pad[1], 2);
	assert_int_equal(s.t.pad[2], 3);
	assert_int_equal(s.t.pad[3], 2000);
	s = parse_ok("pad_5:5:5:5");
	assert_string_equal(canon(&s), "pad_5");
	s = parse_ok("pad_0:0:0:0");
	assert_int_equal(s.set, 0);

	s = parse_ok("f_jpg");
	assert_int_equal(s.t.format, MEDIA_FMT_JPEG);
	assert_int_equal(s.set, TS_FMT); /* JPEG is not dropped: it is not "auto" */
	assert_string_equal(canon(&s), "f_jpeg");
	s = parse_ok("f_png");
	assert_int_equal(s.t.format, MEDIA_FMT_PNG);
	s = parse_ok("f_webp");
	assert_int_equal(s.t.format, MEDIA_FMT_WEBP);
	s = parse_ok("f_avif");
	assert_int_equal(s.t.format, MEDIA_FMT_AVIF);
	s = parse_ok("f_jxl");
	assert_int_equal(s.t.format, MEDIA_FMT_JXL);
	s = parse_ok("q_1");
	assert_int_equal(s.t.quality, 1);
	s = parse_ok("q_100");
	assert_int_equal(s.t.quality, 100);

	s = parse_ok("dpr_1.5");
	assert_true(s.t.dpr == 1.5);
	s = parse_ok("dpr_4");
	assert_true(s.t.dpr == 4);
	s = parse_ok("dpr_2.000");
	assert_true(s.t.dpr == 2);
	assert_string_equal(canon(&s), "dpr_2");
	s = parse_ok("dpr_1.0");
	assert_int_equal(s.set, 0);

	s = parse_ok("blur_0.3");
	assert_true(s.t.blur == 0.3);
	assert_string_equal(canon(&s), "blur_0.3");
	s = parse_ok("blur_100");
	assert_true(s.t.blur == 100);
	s = parse_ok("sharpen_0");
	assert_true(s.t.sharpen < 0); /* none at all */
	assert_string_equal(canon(&s), "sharpen_0");
	s = parse_ok("sharpen_1.25");
	assert_true(s.t.sharpen == 1.25);
	s = parse_ok("sharpen_10");
	assert_true(s.t.sharpen == 10);
	s = parse_ok("trim_1");
	assert_int_equal(s.t.trim, 1);
	s = parse_ok("trim_255");
	assert_int_equal(s.t.trim, 255);

	s = parse_ok("wm_" WM_ID ":center:1:0");
	assert_int_equal(s.t.wm_gravity, MEDIA_GRAV_CENTER);
	assert_true(s.t.wm_scale == 1);
	assert_true(s.t.wm_opacity == 0);
	s = parse_ok("wm_" WM_ID ":nw:0.01:1");
	assert_int_equal(s.t.wm_gravity, MEDIA_GRAV_NW);
	assert_true(s.t.wm_scale == 0.01);

	s = parse_ok("budget_500k");
	assert_int_equal(s.t.max_bytes, 500 * 1024);
	s = parse_ok("budget_2m");
	assert_int_equal(s.t.max_bytes, 2 * 1024 * 1024);
	s = parse_ok("budget_2048");
	assert_int_equal(s.t.max_bytes, 2048);
	assert_string_equal(canon(&s), "budget_2k");
	s = parse_ok("budget_1500");
	assert_int_equal(s.t.max_bytes, 1500);
	assert_string_equal(canon(&s), "budget_1500");
	s = parse_ok("budget_1k");
	assert_int_equal(s.t.max_bytes, 1024);
	s = parse_ok("budget_100m");
	assert_int_equal(s.t.max_bytes, INT64_C(100) * 1024 * 1024);
	s = parse_ok("budget_1024k");
	assert_int_equal(s.t.max_bytes, INT64_C(1024) * 1024);
	assert_string_equal(canon(&s), "budget_1m");

	s = parse_ok("meta_none");
	assert_true(s.t.strip_all);
	s = parse_ok("meta_copyright");
	assert_false(s.t.strip_all);
	assert_int_equal(s.set, 0);

	s = parse_ok("p_amazon-main-2,v_3,dl_1");
	assert_string_equal(s.preset, "amazon-main-2");
	assert_int_equal(s.version, 3);
	assert_true(s.download);
	s = parse_ok("p_abcdefghijklmnopqrstuvwxyz012345"); /* 32 characters */
	assert_string_equal(s.preset, "abcdefghijklmnopqrstuvwxyz012345");
	s = parse_ok("v_2147483647,exp_253402300799");
	assert_int_equal(s.version, 2147483647);
	assert_int_equal(s.exp, INT64_C(253402300799));
}

static void test_default_values_and_presets(void **state)
{
	struct tspec s = parse_ok("w_800,rot_0,fit_inside,pad_0,dpr_1,meta_copyright");

	/* no preset: options naming the default change nothing and are dropped */
	assert_int_equal(s.set, TS_W);
	assert_int_equal(s.nops, 6);
	assert_string_equal(canon(&s), "w_800");

	/* with a preset they override it, so they stay */
	s = parse_ok("p_tmall,rot_0,fit_inside,dpr_1");
	assert_int_equal(s.set, TS_PRESET | TS_ROT | TS_FIT | TS_DPR);
	assert_string_equal(canon(&s), "p_tmall,fit_inside,dpr_1,rot_0");

	/* and the contradiction rules wait for the preset to be overlaid */
	s = parse_ok("p_tmall,crop_smart");
	assert_int_equal(s.t.crop, MEDIA_CROP_SMART);
	s = parse_ok("p_tmall,w_300,fit_cover");
	assert_int_equal(s.t.fit, MEDIA_FIT_COVER);
}

static void test_limits_param(void **state)
{
	struct tspec_limits lim;
	struct tspec s;
	struct dam_err err;
	char text[200] = "";
	size_t n = 0;

	tspec_limits_default(&lim);
	assert_int_equal(lim.max_ops, 16);
	assert_int_equal(lim.max_side, 16384);
	assert_int_equal(lim.formats, 0x3f);

	lim.max_side = 2000;
	assert_int_equal(tspec_parse("w_2000", 6, &lim, &s, &err), 0);
	assert_int_equal(tspec_parse("w_2001", 6, &lim, &s, &err), DAM_EINVAL);
	assert_string_equal(err.msg, "at 1: w must be a whole number from 1 to 2000");

	lim.formats = 1u << MEDIA_FMT_JPEG | 1u << MEDIA_FMT_PNG;
	assert_int_equal(tspec_parse("f_jpg", 5, &lim, &s, &err), 0);
	assert_int_equal(tspec_parse("w_1,f_webp", 10, &lim, &s, &err), DAM_EINVAL);
	assert_string_equal(err.msg, "at 5: f_webp is not allowed here; f must be one of jpeg, png");
	assert_int_equal(tspec_parse("f_auto", 6, &lim, &s, &err), DAM_EINVAL);
	lim.formats = 0;
	assert_int_equal(tspec_parse("f_png", 5, &lim, &s, &err), DAM_EINVAL);
	assert_string_equal(err.msg, "at 1: no output format is allowed here");

	/* max_ops: 16 parse, 17 do not; the error points at the 17th */
	tspec_limits_default(&lim);
	{
		static const char *const ops[] = { "w_1", "h_1", "fit_cover", "crop_n", "rot_90",
			"flip_h", "trim_5", "pad_1", "bg_000000", "blur_1", "sharpen_1", "f_png", "q_5",
			"budget_2k", "meta_none", "v_1", "dl_1" };
		for (int i = 0; i < 16; i++)
			n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", i ? "," : "", ops[i]);
		assert_int_equal(tspec_parse(text, n, &lim, &s, &err), 0);
		assert_int_equal(s.nops, 16);
		size_t at = n + 2;
		n += (size_t)snprintf(text + n, sizeof text - n, ",%s", ops[16]);
		assert_int_equal(tspec_parse(text, n, &lim, &s, &err), DAM_EINVAL);
		char want[64];
		snprintf(want, sizeof want, "at %zu: more than 16 options", at);
		assert_string_equal(err.msg, want);
		lim.max_ops = 2;
		assert_int_equal(tspec_parse("w_1,h_1,q_1", 11, &lim, &s, &err), DAM_EINVAL);
		assert_string_equal(err.msg, "at 9: more than 2 options");
	}
}

/* ---- invalid options: code, field and the position in the message ---- */

struct bad_case {
	const char *text;
	const char *msg; /* the whole message, or its start when it ends in '~' */
};

static const struct bad_case bad_cases[] = {
	{ "", "at 1: no options; use _ for none" },
	{ "fit_square", "at 1: fit must be one of contain, cover, fill, inside" },
	{ "w_800,zz_1", "at 7: unknown option \"zz\"; options are p, w, h, fit, crop, up, dpr, rot, flip, "
			"trim, pad, bg, blur, sharpen, wm, f, q, budget, meta, v, exp, dl" },
	{ "W_800", "at 1: unknown option \"W\"~" },
	{ "w_1,\xe8\xbf\x90_1", "at 5: unknown option \"\\xe8\\xbf\\x90\"~" },
	{ "\xe8\xbf\x90,w_x", "at 1: unknown option~" },
	{ "w_1,_x", "at 5: unknown option \"\"~" },
	{ "w", "at 1: w needs '_' and a value, like w_800" },
	{ "w800", "at 1: unknown option \"w800\"~" },
	{ "h_1,fit", "at 5: fit needs '_' and a value, like fit_cover" },
	{ "w_1,_", "at 5: \"_\" means no options and cannot be combined with others" },
	{ "raw,w_1", "at 1: \"raw\" means no options and cannot be combined with others" },
	/* empty options */
	{ "w_800,,h_1", "at 7: empty option between commas" },
	{ ",w_1", "at 1: empty option between commas" },
	{ "w_1,", "at 4: empty option between commas" },
	{ ",", "at 1: empty option between commas" },
	/* repeated */
	{ "w_1,w_2", "at 5: w is given twice (first at 1)" },
	{ "q_80,w_1,h_1,q_80", "at 14: q is given twice (first at 1)" },
	{ "f_jpg,f_jpeg", "at 7: f is given twice (first at 1)" },
	/* integers */
	{ "w_abc", "at 1: w must be a whole number from 1 to 16384" },
	{ "w_0", "at 1: w must be a whole number from 1 to 16384" },
	{ "w_16385", "at 1: w must be a whole number from 1 to 16384" },
	{ "h_-1", "at 1: h must be a whole number from 1 to 16384" },
	{ "w_+1", "at 1: w must be a whole number~" },
	{ "w_1.5", "at 1: w must be a whole number~" },
	{ "w_", "at 1: w must be a whole number~" },
	{ "w_ 1", "at 1: w must be a whole number~" },
	{ "w_99999999999999999999999", "at 1: w must be a whole number~" },
	{ "w_1,h_1,q_0", "at 9: q must be a whole number from 1 to 100" },
	{ "q_101", "at 1: q must be a whole number from 1 to 100" },
	{ "trim_0", "at 1: trim must be a whole number from 1 to 255" },
	{ "trim_256", "at 1: trim must be a whole number from 1 to 255" },
	{ "v_0", "at 1: v must be a whole number from 1 to 2147483647" },
	{ "v_x", "at 1: v must be a whole number~" },
	{ "v_2147483648", "at 1: v must be a whole number~" },
	{ "exp_0", "at 1: exp must be a unix time in seconds from 1 to 253402300799" },
	{ "exp_-5", "at 1: exp must be a unix time~" },
	{ "w_1,exp_1800000000000", "at 5: exp must be a unix time~" }, /* milliseconds */
	/* decimals */
	{ "dpr_0.5", "at 1: dpr must be a number from 1 to 4, like 1.5" },
	{ "dpr_4.01", "at 1: dpr must be a number from 1 to 4, like 1.5" },
	{ "dpr_1.", "at 1: dpr must be a number~" },
	{ "dpr_.5", "at 1: dpr must be a number~" },
	{ "dpr_1e0", "at 1: dpr must be a number~" },
	{ "dpr_1,5", "at 7: unknown option \"5\"~" },
	{ "dpr_1.1234567890123456", "at 1: dpr has more than 15 significant digits" },
	{ "blur_0.2", "at 1: blur must be a number from 0.3 to 100, like 2" },
	{ "blur_100.5", "at 1: blur must be a number from 0.3 to 100~" },
	{ "sharpen_10.1", "at 1: sharpen must be a number from 0 to 10, like 1" },
	{ "sharpen_-1", "at 1: sharpen must be a number~" },
	/* pad, budget, colours */
	{ "pad_2001", "at 1: pad must be N or TOP:RIGHT:BOTTOM:LEFT, each a whole number from 0 to 2000" },
	{ "pad_1:2:3", "at 1: pad must be N or TOP:RIGHT:BOTTOM:LEFT~" },
	{ "pad_1:2:3:4:5", "at 1: pad must be N or~" },
	{ "pad_1::3:4", "at 1: pad must be N or~" },
	{ "pad_1:2:3:2001", "at 1: pad must be N or~" },
	{ "budget_1000", "at 1: budget must be a byte count from 1k to 100m (k = 1024 bytes, m = 1024k), like 500k" },
	{ "budget_101m", "at 1: budget must be a byte count~" },
	{ "budget_1g", "at 1: budget must be a byte count~" },
	{ "budget_k", "at 1: budget must be a byte count~" },
	{ "budget_1.5m", "at 1: budget must be a byte count~" },
	{ "bg_fff", "at 1: bg must be a hex colour RRGGBB or RRGGBBAA, like ffffff or 00000080" },
	{ "bg_gggggg", "at 1: bg must be a hex colour~" },
	{ "bg_1234567", "at 1: bg must be a hex colour~" },
	{ "bg_#ffffff", "at 1: bg must be a hex colour~" },
	/* words */
	{ "w_1,h_1,fit_cover,crop_middle", "at 19: crop must be one of smart, focal, center, n, ne, e, se, s, sw, w, nw" },
	{ "rot_45", "at 1: rot must be one of 0, 90, 180, 270" },
	{ "flip_x", "at 1: flip must be one of h, v, hv" },
	{ "flip_vh", "at 1: flip must be one of h, v, hv" },
	{ "meta_all", "at 1: meta must be one of copyright, none" },
	{ "f_gif", "at 1: f must be one of jpeg, png, webp, avif, jxl, auto" },
	{ "f_JPEG", "at 1: f must be one of~" },
	{ "dl_0", "at 1: dl must be 1" },
	{ "dl_yes", "at 1: dl must be 1" },
	/* watermark */
	{ "wm_" WM_ID ":se:0.2", "at 1: wm must be ASSETID:GRAVITY:SCALE:OPACITY, like wm_<uuid>:se:0.2:0.5" },
	{ "wm_" WM_ID ":se:0.2:0.5:1", "at 1: wm must be ASSETID:GRAVITY~" },
	{ "wm_" WM_ID, "at 1: wm must be ASSETID:GRAVITY~" },
	{ "wm_0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B:se:0.2:0.5", "at 1: the wm asset id must be a 36-character lowercase UUID" },
	{ "wm_0190a1b2c3d47e5f8a9b0c1d2e3f4a5b:se:0.2:0.5", "at 1: the wm asset id~" },
	{ "w_9,wm_0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g:se:0.2:0.5", "at 5: the wm asset id~" },
	{ "wm_" WM_ID ":up:0.2:0.5", "at 1: the wm gravity must be one of center, n, ne, e, se, s, sw, w, nw" },
	{ "wm_" WM_ID ":smart:0.2:0.5", "at 1: the wm gravity~" },
	{ "wm_" WM_ID ":se:0:0.5", "at 1: the wm scale must be a number from 0.01 to 1, like 0.2" },
	{ "wm_" WM_ID ":se:1.5:0.5", "at 1: the wm scale~" },
	{ "wm_" WM_ID ":se:0.2:2", "at 1: the wm opacity must be a number from 0 to 1, like 0.5" },
	{ "wm_" WM_ID ":se:0.2:", "at 1: the wm opacity~" },
	/* presets */
	{ "p_Tmall", "at 1: p must be a preset name of 1 to 32 characters a-z, 0-9 and '-'" },
	{ "p_", "at 1: p must be a preset name~" },
	{ "p_tm_all", "at 1: p must be a preset name~" },
	{ "p_abcdefghijklmnopqrstuvwxyz0123456", "at 1: p must be a preset name~" },
	/* contradictions, at the option that needs the other */
	{ "crop_smart,w_1,h_1", "at 1: crop needs fit_cover" },
	{ "w_1,h_1,fit_contain,crop_n", "at 21: crop needs fit_cover (fit is contain)" },
	{ "w_1,h_1,fit_inside,crop_n", "at 20: crop needs fit_cover (fit is inside)" },
	{ "w_800,fit_cover", "at 7: fit_cover needs both w and h" },
	{ "h_800,fit_contain", "at 7: fit_contain needs both w and h" },
	{ "fit_fill", "at 1: fit_fill needs both w and h" },
	/* the first problem from the left wins */
	{ "w_0,zz_1", "at 1: w must be~" },
	{ "w_1,fit_cover,zz_1", "at 15: unknown option~" },
};

static void check_bad(const char *text, size_t len, const char *want)
{
	struct tspec s;
	struct dam_err err = { 0 };
	size_t wl = strlen(want);
	bool prefix = wl && want[wl - 1] == '~';
	int rc = tspec_parse(text, len, NULL, &s, &err);

	if (rc != DAM_EINVAL)
		fail_msg("'%.*s': expected DAM_EINVAL, got %d (%s)", (int)len, text, rc, canon(&s));
	assert_int_equal(err.code, DAM_EINVAL);
	assert_string_equal(err.field, "transform");
	if (prefix ? strncmp(err.msg, want, wl - 1) != 0 : strcmp(err.msg, want) != 0)
		fail_msg("'%.*s'\n  got:  %s\n  want: %s", (int)len, text, err.msg, want);
	/* a failed parse leaves a reset spec */
	assert_int_equal(s.set, 0);
	assert_int_equal(s.t.width, 0);
	assert_null(s.t.wm);
}

static void test_invalid(void **state)
{
	char big[1100];

	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
		check_bad(bad_cases[i].text, strlen(bad_cases[i].text), bad_cases[i].msg);
	check_bad("w_1\0h", 5, "at 1: w must be a whole number~");
	check_bad("w_1,h\0_1", 8, "at 5: unknown option \"h\\x00\"~");
	check_bad(NULL, 0, "at 1: no options; use _ for none");

	/* 1024 characters are read (and fail on their content), 1025 are too long */
	memset(big, 'x', sizeof big);
	check_bad(big, 1024, "at 1: unknown option~");
	check_bad(big, 1025, "at 1025: the options are longer than 1024 characters");
	/* err may be NULL */
	{
		struct tspec s;
		assert_int_equal(tspec_parse("zz_1", 4, NULL, &s, NULL), DAM_EINVAL);
	}
}

/* ---- canonical form ---- */

struct canon_case {
	const char *in, *out;
};

static const struct canon_case canon_cases[] = {
	{ "_", "_" },
	{ "raw", "_" },
	{ "q_80,f_auto,crop_smart,fit_cover,h_800,w_800", "w_800,h_800,fit_cover,crop_smart,f_auto,q_80" },
	{ "exp_1800000000,p_tmall", "p_tmall,exp_1800000000" },
	{ "dl_1,v_7,p_jd,w_1200", "p_jd,w_1200,v_7,dl_1" },
	{ "f_jpg,q_085", "f_jpeg,q_85" },
	{ "dpr_1.50,blur_02.50,sharpen_0.000", "dpr_1.5,blur_2.5,sharpen_0" },
	{ "bg_FFFFFFFF,pad_3:3:3:3", "pad_3,bg_ffffff" },
	{ "budget_1048576", "budget_1m" },
	{ "budget_4096k", "budget_4m" },
	{ "wm_" WM_ID ":SE:0.2:0.5", NULL }, /* gravity is lower-case only: error */
	{ "wm_" WM_ID ":sw:0.250:00.5", "wm_" WM_ID ":sw:0.25:0.5" },
	{ "rot_0,flip_h,w_5", "w_5,flip_h" },
	{ "meta_none,trim_12,rot_180", "rot_180,trim_12,meta_none" },
	{ "dpr_3.14159265358979", "dpr_3.14159265358979" },
	{ "up_2.50,fit_cover,h_9,w_9", "w_9,h_9,fit_cover,up_2.5" },
	{ "w_9,up_1", "w_9" }, /* up_1 is the default: no canonical text */
	{ "w_9,up_9", NULL },  /* at most 8 */
	{ "w_9,up_0.5", NULL }, /* never below 1 */
	{ "blur_0.30000000000000", "blur_0.3" },
	{ "wm_" WM_ID ":n:0.01:0.000000000000001", "wm_" WM_ID ":n:0.01:0.000000000000001" },
	{ "sharpen_9.99999999999999", "sharpen_9.99999999999999" },
	{ "w_16384,h_1,fit_fill,dpr_2,rot_90,flip_hv,trim_255,pad_0:1:2:2000,bg_01020304,blur_99.9,"
	  "sharpen_0.1,wm_" WM_ID ":e:1:1,f_avif,q_1",
	  "w_16384,h_1,fit_fill,dpr_2,rot_90,flip_hv,trim_255,pad_0:1:2:2000,bg_01020304,blur_99.9,"
	  "sharpen_0.1,wm_" WM_ID ":e:1:1,f_avif,q_1" },
};

static void test_canonical(void **state)
{
	for (size_t i = 0; i < sizeof canon_cases / sizeof canon_cases[0]; i++) {
		const struct canon_case *c = &canon_cases[i];
		struct tspec a, b;
		char first[2048];
		int rc = tspec_parse(c->in, strlen(c->in), NULL, &a, NULL);

		if (!c->out) {
			assert_int_equal(rc, DAM_EINVAL);
			continue;
		}
		if (rc != 0)
			fail_msg("'%s' does not parse", c->in);
		snprintf(first, sizeof first, "%s", canon(&a));
		if (strcmp(first, c->out) != 0)
			fail_msg("'%s'\n  got:  %s\n  want: %s", c->in, first, c->out);
		/* parse(format(x)) == x and format is a fixed point */
		b = parse_ok(first);
		assert_tspec_equal(c->in, &a, &b);
		assert_string_equal(canon(&b), first);
	}
}

/* Every decimal with up to 4 places in each range round-trips exactly. */
static void test_canonical_decimals(void **state)
{
	char text[64], want[64];

	for (int i = 100; i <= 400; i++) {
		struct tspec a, b;
		snprintf(text, sizeof text, "dpr_%d.%02d", i / 100, i % 100);
		a = parse_ok(text);
		assert_true(a.t.dpr == (double)i / 100);
		b = parse_ok(canon(&a));
		assert_tspec_equal(text, &a, &b);
	}
	for (int i = 1; i <= 10000; i++) {
		struct tspec a, b;
		int k = 4;
		snprintf(text, sizeof text, "wm_" WM_ID ":s:1:%d.%04d", i / 10000, i % 10000);
		a = parse_ok(text);
		b = parse_ok(canon(&a));
		assert_tspec_equal(text, &a, &b);
		/* shortest: trailing zeros gone */
		int m = i;
		while (k > 0 && m % 10 == 0)
			m /= 10, k--;
		if (k == 0)
			snprintf(want, sizeof want, "wm_" WM_ID ":s:1:%d", m);
		else
			snprintf(want, sizeof want, "wm_" WM_ID ":s:1:0.%0*d", k, m);
		assert_string_equal(canon(&a), want);
	}
}

static void test_format_errors(void **state)
{
	struct tspec s = parse_ok("w_800,h_600");
	struct strbuf sb;

	strbuf_init(&sb, 5); /* too small: the strbuf's limit is reported */
	assert_int_equal(tspec_format(&s, &sb), DAM_ELIMIT);
	strbuf_release(&sb);
	/* appends */
	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_adds(&sb, "/t/"), 0);
	assert_int_equal(tspec_format(&s, &sb), 0);
	assert_string_equal(sb.buf, "/t/w_800,h_600");
	strbuf_release(&sb);
}

/* ---- overlay ---- */

static void test_overlay(void **state)
{
	struct tspec base = parse_ok("w_800,h_800,fit_cover,crop_smart,q_80,bg_ffffff,rot_90");
	struct tspec over = parse_ok("p_tmall,q_90,crop_n,rot_0,exp_1800000000,dl_1");

	tspec_overlay(&base, &over);
	assert_int_equal(base.t.width, 800);
	assert_int_equal(base.t.height, 800);
	assert_int_equal(base.t.fit, MEDIA_FIT_COVER);
	assert_int_equal(base.t.crop, MEDIA_CROP_GRAVITY);
	assert_int_equal(base.t.gravity, MEDIA_GRAV_N);
	assert_int_equal(base.t.quality, 90);
	assert_int_equal(base.t.rotate, 0);
	assert_true(base.t.bg_set);
	assert_string_equal(base.preset, "tmall");
	assert_int_equal(base.exp, INT64_C(1800000000));
	assert_true(base.download);
	assert_int_equal(base.version, 0);
	assert_int_equal(base.set, TS_W | TS_H | TS_FIT | TS_CROP | TS_Q | TS_BG | TS_ROT | TS_PRESET |
					   TS_EXP | TS_DL);
	assert_int_equal(base.nops, 10);
	assert_string_equal(canon(&base),
			    "p_tmall,w_800,h_800,fit_cover,crop_n,rot_0,bg_ffffff,q_90,exp_1800000000,dl_1");

	/* the overlaid result round-trips too */
	struct tspec again = parse_ok(canon(&base));
	assert_tspec_equal("overlay", &base, &again);

	/* options not named in over keep base's values, including a watermark;
	 * preset/version/exp/download follow over even when over leaves them out */
	base = parse_ok("wm_" WM_ID ":se:0.2:0.5,sharpen_0,budget_300k,meta_none,f_webp,dpr_2");
	base.version = 4;
	base.set |= TS_VERSION;
	over = parse_ok("f_png,w_100");
	tspec_overlay(&base, &over);
	assert_string_equal(base.wm_asset, WM_ID);
	assert_true(base.t.wm_opacity == 0.5);
	assert_true(base.t.sharpen < 0);
	assert_int_equal(base.t.max_bytes, 300 * 1024);
	assert_true(base.t.strip_all);
	assert_int_equal(base.t.format, MEDIA_FMT_PNG);
	assert_true(base.t.dpr == 2);
	assert_int_equal(base.t.width, 100);
	assert_int_equal(base.version, 0);
	assert_int_equal(base.set & TS_VERSION, 0);
	assert_string_equal(canon(&base), "w_100,dpr_2,sharpen_0,wm_" WM_ID ":se:0.2:0.5,f_png,budget_300k,meta_none");

	/* a watermark in over replaces base's */
	over = parse_ok("wm_0190a1b2-c3d4-7e5f-8a9b-000000000000:nw:0.1:1");
	tspec_overlay(&base, &over);
	assert_string_equal(base.wm_asset, "0190a1b2-c3d4-7e5f-8a9b-000000000000");
	assert_int_equal(base.t.wm_gravity, MEDIA_GRAV_NW);
	assert_true(base.t.wm_scale == 0.1);

	/* overlaying nothing changes no transform option */
	base = parse_ok("w_5,h_6,fit_fill");
	over = parse_ok("_");
	tspec_overlay(&base, &over);
	assert_string_equal(canon(&base), "w_5,h_6,fit_fill");
}

/* ---- negotiation ---- */

#define ALL ((1u << (MEDIA_FMT_AUTO + 1)) - 1)
#define BIT(f) (1u << (f))

static const char chrome[] = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
static const char safari17[] = "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,"
			       "video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5";
static const char safari14[] = "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";
static const char safari15[] = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";
static const char firefox[] = "image/avif,image/webp,*/*";
static const char edge_old[] = "image/webp,image/apng,image/*,*/*;q=0.8";

static void test_negotiate(void **state)
{
	/* browsers */
	assert_int_equal(tspec_negotiate(chrome, ALL, false), MEDIA_FMT_AVIF);
	assert_int_equal(tspec_negotiate(chrome, ALL, true), MEDIA_FMT_AVIF);
	assert_int_equal(tspec_negotiate(safari17, ALL, false), MEDIA_FMT_AVIF); /* our order, not theirs */
	assert_int_equal(tspec_negotiate(safari15, ALL, false), MEDIA_FMT_WEBP);
	assert_int_equal(tspec_negotiate(safari14, ALL, false), MEDIA_FMT_JPEG);
	assert_int_equal(tspec_negotiate(safari14, ALL, true), MEDIA_FMT_PNG);
	assert_int_equal(tspec_negotiate(firefox, ALL, false), MEDIA_FMT_AVIF);
	assert_int_equal(tspec_negotiate(edge_old, ALL, false), MEDIA_FMT_WEBP);
	/* restricted by the allowed formats */
	assert_int_equal(tspec_negotiate(chrome, ALL & ~BIT(MEDIA_FMT_AVIF), false), MEDIA_FMT_WEBP);
	assert_int_equal(tspec_negotiate(chrome, BIT(MEDIA_FMT_JPEG) | BIT(MEDIA_FMT_PNG), false), MEDIA_FMT_JPEG);
	assert_int_equal(tspec_negotiate(chrome, BIT(MEDIA_FMT_JPEG) | BIT(MEDIA_FMT_PNG), true), MEDIA_FMT_PNG);
	assert_int_equal(tspec_negotiate(chrome, BIT(MEDIA_FMT_JPEG), true), MEDIA_FMT_JPEG); /* no PNG allowed */
	assert_int_equal(tspec_negotiate("*/*", BIT(MEDIA_FMT_WEBP), false), MEDIA_FMT_WEBP); /* only one allowed */
	assert_int_equal(tspec_negotiate("*/*", BIT(MEDIA_FMT_JXL) | BIT(MEDIA_FMT_AVIF), false), MEDIA_FMT_AVIF);
	assert_int_equal(tspec_negotiate("*/*", 0, false), MEDIA_FMT_JPEG);
	/* curl, no header, wildcards only: the plain format */
	assert_int_equal(tspec_negotiate("*/*", ALL, false), MEDIA_FMT_JPEG);
	assert_int_equal(tspec_negotiate("*/*", ALL, true), MEDIA_FMT_PNG);
	assert_int_equal(tspec_negotiate(NULL, ALL, false), MEDIA_FMT_JPEG);
	assert_int_equal(tspec_negotiate(NULL, ALL, true), MEDIA_FMT_PNG);
	assert_int_equal(tspec_negotiate("", ALL, false), MEDIA_FMT_JPEG);
	assert_int_equal(tspec_negotiate("image/*", ALL, false), MEDIA_FMT_JPEG);
	/* q=0 excludes, in any spelling */
	assert_int_equal(tspec_negotiate("image/avif;q=0,image/webp", ALL, false), MEDIA_FMT_WEBP);
	assert_int_equal(tspec_negotiate("image/avif;q=0.0, image/webp;q=0.000", ALL, false), MEDIA_FMT_JPEG);
	assert_int_equal(tspec_negotiate("image/avif; Q=0, image/webp ;q=0.001", ALL, false), MEDIA_FMT_WEBP);
	assert_int_equal(tspec_negotiate("image/webp;level=1;q=0,image/avif;q=0.5", ALL, false), MEDIA_FMT_AVIF);
	assert_int_equal(tspec_negotiate("image/avif;q=abc", ALL, false), MEDIA_FMT_JPEG);
	assert_int_equal(tspec_negotiate("image/avif;q=1", ALL, false), MEDIA_FMT_AVIF);
	/* exact type names, any case, white space around */
	assert_int_equal(tspec_negotiate("IMAGE/AVIF", ALL, false), MEDIA_FMT_AVIF);
	assert_int_equal(tspec_negotiate("  image/webp  ;q=0.9 , text/html", ALL, false), MEDIA_FMT_WEBP);
	assert_int_equal(tspec_negotiate("image/avifx,image/webpp,xyz/image/avif", ALL, false), MEDIA_FMT_JPEG);
	assert_int_equal(tspec_negotiate(",,;;,image/webp,", ALL, false), MEDIA_FMT_WEBP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_brief_examples),
		cmocka_unit_test(test_each_option),
		cmocka_unit_test(test_default_values_and_presets),
		cmocka_unit_test(test_limits_param),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_canonical_decimals),
		cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_overlay),
		cmocka_unit_test(test_negotiate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
