/*
 * vipsloop.c - bench/deliver's "limit": the least work any server can do
 * for a cold 800x800 WebP: vips_thumbnail(file, 800, height 800, crop
 * centre) then vips_webpsave_buffer(Q) on THREADS threads, over the given
 * files round-robin, for SECONDS seconds. No HTTP, no database, no
 * metadata beyond what the saver writes by default.
 *
 *   vipsloop [-t THREADS] [-s SECONDS] [-q Q] [-c VIPS_CONCURRENCY] FILE...
 *
 * Prints one line of key=value pairs:
 *   images=N seconds=S ips=N/S p50_ms= p99_ms= max_ms= bytes_avg= maxrss_kb=
 * ips is images per second over the whole run (every thread stops taking
 * new files when the time is up and finishes the one in hand). The vips
 * operation cache is off, so a file seen before is really decoded again.
 * -c sets vips_concurrency_set() (default 1: THREADS images at once, each
 * on one thread, which is how the most images/s come out of the cores).
 *
 * Build: cc -O2 -o vipsloop vipsloop.c $(pkg-config --cflags --libs vips)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <vips/vips.h>

#define MAX_SAMPLES (1 << 20)

static char **files;
static int nfiles, quality = 80;
static double deadline;
static atomic_int next_file;
static atomic_long done_images, done_bytes, failures;
static double *samples;
static atomic_long nsamples;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *work(void *arg)
{
	(void)arg;
	while (now() < deadline) {
		int i = atomic_fetch_add(&next_file, 1) % nfiles;
		double t0 = now();
		VipsImage *im = NULL;
		void *buf = NULL;
		size_t len = 0;
		long k;

		if (vips_thumbnail(files[i], &im, 800, "height", 800, "crop", VIPS_INTERESTING_CENTRE, NULL) ||
		    vips_webpsave_buffer(im, &buf, &len, "Q", quality, NULL)) {
			fprintf(stderr, "vipsloop: %s: %s\n", files[i], vips_error_buffer());
			vips_error_clear();
			atomic_fetch_add(&failures, 1);
		} else {
			atomic_fetch_add(&done_images, 1);
			atomic_fetch_add(&done_bytes, (long)len);
			if ((k = atomic_fetch_add(&nsamples, 1)) < MAX_SAMPLES)
				samples[k] = (now() - t0) * 1000;
		}
		g_free(buf);
		if (im)
			g_object_unref(im);
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, long n, double p)
{
	long i = (long)(p * (double)n + 0.5) - 1;

	if (n == 0)
		return 0;
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

int main(int argc, char **argv)
{
	int threads = 2, conc = 1, opt;
	double seconds = 20, t0, elapsed;
	pthread_t *tid;
	struct rusage ru;
	long n;

	if (VIPS_INIT(argv[0]))
		vips_error_exit(NULL);
	while ((opt = getopt(argc, argv, "t:s:q:c:")) != -1) {
		switch (opt) {
		case 't': threads = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'q': quality = atoi(optarg); break;
		case 'c': conc = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: vipsloop [-t THREADS] [-s SECONDS] [-q Q] [-c CONCURRENCY] FILE...\n");
			return 2;
		}
	}
	files = argv + optind;
	nfiles = argc - optind;
	if (nfiles < 1 || threads < 1 || seconds <= 0) {
		fprintf(stderr, "vipsloop: give at least one file\n");
		return 2;
	}
	vips_cache_set_max(0);
	vips_concurrency_set(conc);
	samples = calloc(MAX_SAMPLES, sizeof *samples);
	tid = calloc((size_t)threads, sizeof *tid);
	t0 = now();
	deadline = t0 + seconds;
	for (int i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, work, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	elapsed = now() - t0;
	n = atomic_load(&nsamples) < MAX_SAMPLES ? atomic_load(&nsamples) : MAX_SAMPLES;
	qsort(samples, (size_t)n, sizeof *samples, cmp);
	getrusage(RUSAGE_SELF, &ru);
	printf("images=%ld seconds=%.2f ips=%.2f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f bytes_avg=%ld failures=%ld "
	       "maxrss_kb=%ld threads=%d concurrency=%d\n",
	       atomic_load(&done_images), elapsed, atomic_load(&done_images) / elapsed, pct(samples, n, 0.5),
	       pct(samples, n, 0.99), n ? samples[n - 1] : 0.0,
	       atomic_load(&done_images) ? atomic_load(&done_bytes) / atomic_load(&done_images) : 0,
	       atomic_load(&failures), ru.ru_maxrss, threads, conc);
	free(samples);
	free(tid);
	vips_shutdown();
	return atomic_load(&failures) ? 1 : 0;
}
