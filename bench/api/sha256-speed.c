/* sha256-speed.c - how fast libsodium's crypto_hash_sha256 (what dam's tus
 * PATCH runs over every chunk, see blob_hash_state_update) hashes a file in
 * CHUNK-byte reads. Used by bench/api/upload.sh as a diagnostic row.
 *
 *   cc -O2 sha256-speed.c -lsodium -o sha256-speed && ./sha256-speed FILE [CHUNK]
 *
 * Prints: "<seconds hashing> <bytes> <hex digest>". Reading is not timed. */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t chunk = argc > 2 ? strtoul(argv[2], NULL, 10) : 16u << 20;
	unsigned char *buf, d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	unsigned long long total = 0;
	double hashing = 0;
	ssize_t n;
	int fd;

	if (argc < 2 || sodium_init() < 0 || !(buf = malloc(chunk)) || (fd = open(argv[1], O_RDONLY)) < 0) {
		fprintf(stderr, "usage: sha256-speed FILE [CHUNK]\n");
		return 2;
	}
	crypto_hash_sha256_init(&st);
	for (;;) {
		size_t got = 0;
		while (got < chunk && (n = read(fd, buf + got, chunk - got)) > 0)
			got += (size_t)n;
		if (!got)
			break;
		double t = now();
		crypto_hash_sha256_update(&st, buf, got);
		hashing += now() - t;
		total += got;
	}
	crypto_hash_sha256_final(&st, d);
	printf("%.3f %llu ", hashing, total);
	for (size_t i = 0; i < sizeof d; i++)
		printf("%02x", d[i]);
	printf("\n");
	return 0;
}
