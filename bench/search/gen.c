/*
 * gen.c - writes N synthetic assets straight into a dam library's SQLite
 * database (assets, versions, blobs, tags, fields), one transaction per
 * 50,000 assets. Deterministic (seeded PRNG). The schema triggers mark every
 * asset dirty, so the next `dam search` indexes them all (search_sync).
 *
 *   cc -O2 -o gen gen.c -lsqlite3 && ./gen LIB/dam.db N [START]
 *
 * Per asset: kind image 70% / video 10% / document 10% / audio 5% / other 5%;
 * one version (5% have two: the old one's file name holds "oldversionword");
 * titles in en + one of zh/fr/nl; description; 5-15 tags from a 3,000-word
 * vocabulary (Zipf-like); sku; ~20 fields; metadata with width/height and
 * "analysis": colours (en + zh names), orientation, aspect, resolution.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rs = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}
static int rn(int n) { return (int)(rnd() % (uint64_t)n); }
/* Zipf-ish: small indexes much more frequent. */
static int zipf(int n)
{
	double u = (double)(rnd() % 1000000) / 1000000.0;
	int k = (int)(n * u * u * u);
	return k >= n ? n - 1 : k;
}

static const char *en[] = { "blue", "sneaker", "running", "shoe", "spring", "summer", "autumn", "winter", "launch",
	"campaign", "studio", "portrait", "product", "leather", "canvas", "white", "black", "red", "green", "urban",
	"outdoor", "beach", "mountain", "city", "night", "morning", "coffee", "breakfast", "team", "office", "kids",
	"women", "men", "sport", "yoga", "tennis", "football", "jacket", "dress", "bag", "watch", "sunglasses",
	"lifestyle", "flatlay", "closeup", "detail", "hero", "banner", "social", "catalog", "lookbook", "retail",
	"store", "window", "display", "packaging", "logo", "event", "festival", "concert" };
static const char *fr[] = { "café", "crème", "été", "hiver", "printemps", "chaussure", "bleu", "rouge", "élégant",
	"soirée", "plage", "montagne", "ville", "matin", "déjeuner", "équipe", "boutique", "vitrine", "défilé",
	"collection", "créateur", "lumière", "forêt", "château", "fenêtre", "goûter", "pâtisserie", "noël" };
static const char *nl[] = { "fiets", "zomer", "winter", "strand", "schoen", "blauw", "rood", "gezellig", "molen",
	"grachten", "kaas", "tulpen", "ontbijt", "kantoor", "winkel", "etalage", "voorjaar", "herfst", "regen", "zee" };
static const char *zh[] = { "白色运动鞋", "蓝色", "春季", "夏季新品", "跑步鞋", "女装", "男装", "户外", "城市",
	"海滩", "山脉", "咖啡", "早餐", "团队", "办公室", "儿童", "运动", "夹克", "连衣裙", "手提包", "手表", "太阳镜",
	"生活方式", "产品", "发布会", "活动", "节日", "音乐会", "黑色皮革", "红色连衣裙" };
#define N_(a) ((int)(sizeof a / sizeof a[0]))

static const char *colors[][2] = { { "red", "红色" }, { "orange", "橙色" }, { "yellow", "黄色" },
	{ "green", "绿色" }, { "teal", "青色" }, { "blue", "蓝色" }, { "navy", "藏青色" }, { "purple", "紫色" },
	{ "pink", "粉色" }, { "brown", "棕色" }, { "beige", "米色" }, { "gold", "金色" }, { "black", "黑色" },
	{ "grey", "灰色" }, { "silver", "银色" }, { "white", "白色" } };
static const char *brands[] = { "Acme", "Northwind", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella",
	"Hooli", "Vandelay", "Wonka", "Stark", "Wayne" };
static const char *seasons[] = { "SS24", "AW24", "SS25", "AW25", "SS26", "AW26" };
static const char *categories[] = { "footwear", "apparel", "accessories", "bags", "eyewear", "watches", "home",
	"beauty", "kids", "sport" };
static const char *countries[] = { "NL", "FR", "CN", "US", "DE", "IT", "JP", "GB", "ES", "BE" };
static const char *licenses[] = { "royalty-free", "rights-managed", "editorial", "internal" };
static const char *kinds[] = { "image", "video", "document", "audio", "other" };
static const char *mimes[] = { "image/jpeg", "video/mp4", "application/pdf", "audio/wav", "application/octet-stream" };
static const char *formats[] = { "jpeg", "mp4", "pdf", "wav", "" };
static const char *exts[] = { "jpg", "mp4", "pdf", "wav", "bin" };

static char vocab[3000][24];

static void mkvocab(void)
{
	static const char *syl[] = { "ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sa", "do", "fu", "gi",
		"ha", "jo", "ku", "ma", "no", "pa", "re", "si", "to", "wa", "ye" };
	int i = 0;
	for (; i < N_(en); i++)
		snprintf(vocab[i], sizeof vocab[i], "%s", en[i]);
	for (; i < 3000; i++) {
		int a = i % 24, b = (i / 24) % 24, c = (i / 576) % 24;
		snprintf(vocab[i], sizeof vocab[i], "%s%s%s%s", syl[a], syl[b], syl[c], i % 3 ? "" : "n");
	}
}

static sqlite3 *db;
static sqlite3_stmt *st_asset, *st_ver, *st_blob, *st_tag, *st_field;

static void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}
static sqlite3_stmt *prep(const char *sql)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL))
		die(sql);
	return s;
}
static void step(sqlite3_stmt *s)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		die("step");
	sqlite3_reset(s);
}
static void exec(const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL))
		die(sql);
}

static void uuid7(char out[37], uint64_t ms)
{
	uint64_t a = rnd(), b = rnd();
	snprintf(out, 37, "%08x-%04x-7%03x-%04x-%012llx", (unsigned)(ms >> 16), (unsigned)(ms & 0xffff),
		 (unsigned)(a & 0xfff), (unsigned)(0x8000 | ((a >> 12) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffull));
}

static void field(const char *id, const char *k, const char *v, int64_t t)
{
	sqlite3_bind_text(st_field, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_field, 2, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_field, 3, v, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st_field, 4, t);
	step(st_field);
}

static void words(char *out, size_t cap, const char **w, int n, int k, const char *sep)
{
	out[0] = 0;
	for (int i = 0; i < k; i++) {
		size_t l = strlen(out);
		snprintf(out + l, cap - l, "%s%s", i ? sep : "", w[rn(n)]);
	}
}

static void version(const char *aid, const char *vid, int num, int64_t i, int kind, const char *fname,
		    int64_t t, const char *meta, int64_t size)
{
	char hash[65];
	snprintf(hash, sizeof hash, "%016llx%016llx%016llx%016llx", (unsigned long long)i, (unsigned long long)num,
		 (unsigned long long)rnd(), (unsigned long long)rnd());
	sqlite3_bind_text(st_blob, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_blob, 2, size);
	sqlite3_bind_int64(st_blob, 3, t);
	step(st_blob);
	sqlite3_bind_text(st_ver, 1, vid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_ver, 2, aid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st_ver, 3, num);
	sqlite3_bind_text(st_ver, 4, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_ver, 5, size);
	sqlite3_bind_text(st_ver, 6, fname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_ver, 7, mimes[kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st_ver, 8, kinds[kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st_ver, 9, formats[kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st_ver, 10, meta, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_ver, 11, t);
	step(st_ver);
}

int main(int argc, char **argv)
{
	int64_t n, start, base = 1704067200000LL; /* 2024-01-01 */
	struct timespec t0, t1;

	if (argc < 3) {
		fprintf(stderr, "usage: gen DB N [START]\n");
		return 2;
	}
	n = atoll(argv[2]);
	start = argc > 3 ? atoll(argv[3]) : 0;
	rs ^= (uint64_t)(start + 1) * 0x2545F4914F6CDD1Dull;
	mkvocab();
	if (sqlite3_open(argv[1], &db))
		die("open");
	exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-512000;");
	st_asset = prep("INSERT INTO assets(id,name,kind,current_version_id,created_at,updated_at,created_by) VALUES (?,?,?,?,?,?,'bench')");
	st_ver = prep("INSERT INTO versions(id,asset_id,number,blob_hash,size,filename,mime,kind,format,metadata,status,created_at,created_by)"
		      " VALUES (?,?,?,?,?,?,?,?,?,?,'ready',?,'bench')");
	st_blob = prep("INSERT INTO blobs(hash,size,refcount,created_at) VALUES (?,?,1,?)");
	st_tag = prep("INSERT OR IGNORE INTO tags(asset_id,tag,source,created_at) VALUES (?,?,'user',?)");
	st_field = prep("INSERT OR REPLACE INTO fields(asset_id,key,value,source,updated_at) VALUES (?,?,?,'user',?)");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	exec("BEGIN");
	for (int64_t i = start; i < start + n; i++) {
		char aid[37], vid[37], vid0[37], name[160], meta[600], buf[400], sku[32];
		int64_t t = base + i * 30000; /* one every 30 s: created grows with rowid */
		int r = rn(100), kind = r < 70 ? 0 : r < 80 ? 1 : r < 90 ? 2 : r < 95 ? 3 : 4;
		int w = 640 + rn(6000), h = 480 + rn(4500), nc = 1 + rn(3), two = rn(100) < 5;
		int64_t size = 1000 + (int64_t)(rnd() % 50000000);
		const char *lang;

		uuid7(aid, (uint64_t)t);
		uuid7(vid, (uint64_t)t);
		snprintf(name, sizeof name, "%s-%s-%07lld.%s", en[rn(N_(en))], en[rn(N_(en))], (long long)i, exts[kind]);
		{
			size_t l = 0;
			l += snprintf(meta + l, sizeof meta - l, "{\"width\":%d,\"height\":%d,\"analysis\":{\"colors\":[", w, h);
			/* shares 0.5/0.3/0.2: the index counts a colour from 10% */
			for (int c = 0; c < nc; c++) {
				int ci = zipf(16);
				l += snprintf(meta + l, sizeof meta - l, "%s{\"name\":\"%s\",\"name_zh\":\"%s\",\"share\":%.1f}",
					      c ? "," : "", colors[ci][0], colors[ci][1], c == 0 ? 0.5 : c == 1 ? 0.3 : 0.2);
			}
			double ratio = (double)w / h;
			l += snprintf(meta + l, sizeof meta - l, "],\"orientation\":\"%s\",\"aspect\":\"%s\",\"resolution\":\"%s\"}}",
				      ratio > 1.1 ? "landscape" : ratio < 0.9 ? "portrait" : "square",
				      ratio > 1.6 ? "16:9" : ratio > 1.4 ? "3:2" : ratio > 1.2 ? "4:3" : ratio > 0.9 ? "1:1" : "2:3",
				      (double)w * h < 4e6 ? "medium" : (double)w * h < 12e6 ? "large" : "very-large");
		}
		if (two) {
			char old[160];
			uuid7(vid0, (uint64_t)t);
			snprintf(old, sizeof old, "oldversionword-%07lld.%s", (long long)i, exts[kind]);
			version(aid, vid0, 1, i, kind, old, t, meta, size / 2);
		}
		version(aid, vid, two ? 2 : 1, i, kind, name, t, meta, size);
		sqlite3_bind_text(st_asset, 1, aid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st_asset, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st_asset, 3, kinds[kind], -1, SQLITE_STATIC);
		sqlite3_bind_text(st_asset, 4, vid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st_asset, 5, t);
		sqlite3_bind_int64(st_asset, 6, t);
		step(st_asset);
		/* tags */
		for (int k = 5 + rn(11); k > 0; k--) {
			sqlite3_bind_text(st_tag, 1, aid, -1, SQLITE_STATIC);
			sqlite3_bind_text(st_tag, 2, vocab[zipf(3000)], -1, SQLITE_STATIC);
			sqlite3_bind_int64(st_tag, 3, t);
			step(st_tag);
		}
		/* fields (~20) */
		words(buf, sizeof buf, en, N_(en), 3 + rn(3), " ");
		field(aid, "title", buf, t);
		r = rn(3);
		lang = r == 0 ? "title@zh" : r == 1 ? "title@fr" : "title@nl";
		if (r == 0)
			words(buf, sizeof buf, zh, N_(zh), 1 + rn(2), "");
		else if (r == 1)
			words(buf, sizeof buf, fr, N_(fr), 2 + rn(3), " ");
		else
			words(buf, sizeof buf, nl, N_(nl), 2 + rn(3), " ");
		field(aid, lang, buf, t);
		words(buf, sizeof buf, en, N_(en), 8 + rn(10), " ");
		field(aid, "description", buf, t);
		snprintf(sku, sizeof sku, "%c%c%c-%06d", 'A' + rn(26), 'A' + rn(26), 'A' + rn(26), rn(1000000));
		field(aid, "sku", sku, t);
		field(aid, "brand", brands[zipf(N_(brands))], t);
		field(aid, "season", seasons[rn(N_(seasons))], t);
		field(aid, "category", categories[zipf(N_(categories))], t);
		field(aid, "country", countries[rn(N_(countries))], t);
		field(aid, "license", licenses[rn(N_(licenses))], t);
		snprintf(buf, sizeof buf, "%s %s", en[rn(N_(en))], en[rn(N_(en))]);
		field(aid, "photographer", buf, t);
		snprintf(buf, sizeof buf, "%s %s", en[rn(N_(en))], seasons[rn(N_(seasons))]);
		field(aid, "campaign", buf, t);
		snprintf(buf, sizeof buf, "%013llu", (unsigned long long)(rnd() % 10000000000000ull));
		field(aid, "ean", buf, t);
		field(aid, "material", vocab[rn(200)], t);
		field(aid, "product_line", vocab[200 + rn(100)], t);
		field(aid, "rights_holder", brands[rn(N_(brands))], t);
		field(aid, "usage", rn(2) ? "web" : "print", t);
		snprintf(buf, sizeof buf, "%d", rn(500));
		field(aid, "stock", buf, t);
		field(aid, "status_note", rn(2) ? "approved" : "draft", t);
		snprintf(buf, sizeof buf, "%s-%d", vocab[rn(3000)], rn(100));
		field(aid, "shoot_id", buf, t);
		field(aid, "color_family", colors[rn(16)][0], t);
		if ((i + 1) % 50000 == 0) {
			exec("COMMIT");
			clock_gettime(CLOCK_MONOTONIC, &t1);
			fprintf(stderr, "%lld assets, %.1f s\n", (long long)(i + 1 - start),
				(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
			exec("BEGIN");
		}
	}
	exec("COMMIT");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "done: %lld assets in %.1f s\n", (long long)n, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	sqlite3_close(db);
	return 0;
}
