/* callgrind_probe.c - the instruction count of the fast path, for ci/callgrind.sh and
 * docs/PERFORMANCE.md.
 *
 * One process, one thread, one channel: side A sends N messages of SIZE bytes on ring 0 and side
 * B receives each one at once (never waits, never sleeps), so that the run is the
 * same every time and callgrind's count is exact. Only probe_loop() is counted
 * (--toggle-collect=probe_loop); divide by N for one send plus one receive.
 *
 *   shmf_callgrind_probe MODE SIZE N [CAPACITY]
 *     MODE  copy   shmf_send + shmf_recv, timeout 0
 *           wait   the same with timeout -1, the library's default wait (it never waits here:
 *                  there is always room and a message, so this is the cost of a call that
 *                  could wait and did not)
 *           zero   shmf_reserve + shmf_commit + shmf_peek + shmf_release, timeout 0
 *
 * Every message is checked (its index in the first 8 bytes, its length), as the bench does.
 * Exit 0, or 1 with a line on stderr.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmframe.h"

#define MAX_SIZE ((size_t)64 << 10)

static unsigned char tx_buf[MAX_SIZE], rx_buf[MAX_SIZE];

static int check(const unsigned char *p, size_t got, size_t want, uint64_t i)
{
	uint64_t v = 0;

	if (got != want)
		return -1;
	if (want >= 8) {
		memcpy(&v, p, 8);
		if (v != i)
			return -1;
	}
	return 0;
}

/* The counted region. noinline, so that --toggle-collect finds it by name. */
__attribute__((noinline)) static int probe_loop(shmf_channel *a, shmf_channel *b, int zero,
                                                size_t size, uint64_t n, int timeout)
{
	size_t got;

	for (uint64_t i = 0; i < n; i++) {
		if (!zero) {
			if (size >= 8)
				memcpy(tx_buf, &i, 8);
			if (shmf_send(a, tx_buf, size, timeout) != 0 ||
			    shmf_recv(b, rx_buf, sizeof rx_buf, &got, timeout) != 0 ||
			    check(rx_buf, got, size, i) != 0)
				return -1;
		} else {
			void *w;
			const void *r;
			if (shmf_reserve(a, size, &w, 0) != 0)
				return -1;
			if (size >= 8)
				memcpy(w, &i, 8);
			if (shmf_commit(a, size) != 0 || shmf_peek(b, &r, &got, 0) != 0 ||
			    check(r, got, size, i) != 0 || shmf_release(b) != 0)
				return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	char name[64];
	shmf_config cfg;
	shmf_channel *a = NULL, *b = NULL;
	int rc, status = 1;

	if (argc < 4 || argc > 5 ||
	    (strcmp(argv[1], "copy") != 0 && strcmp(argv[1], "wait") != 0 &&
	     strcmp(argv[1], "zero") != 0)) {
		fprintf(stderr, "usage: shmf_callgrind_probe copy|wait|zero SIZE N [CAPACITY]\n");
		return 2;
	}
	size_t size = (size_t)strtoull(argv[2], NULL, 10);
	uint64_t n = strtoull(argv[3], NULL, 10);
	shmf_config_init(&cfg);
	if (argc == 5)
		cfg.capacity = (size_t)strtoull(argv[4], NULL, 10);
	if (size > MAX_SIZE) {
		fprintf(stderr, "probe: size %zu > %zu\n", size, MAX_SIZE);
		return 2;
	}
	snprintf(name, sizeof name, "/shmf-probe-%ld", (long)getpid());
	if ((rc = shmf_create(name, &cfg, &a)) != 0 ||
	    (rc = shmf_attach(name, SHMF_SIDE_B, 0, &b)) != 0) {
		fprintf(stderr, "probe: %s\n", shmf_strerror(rc));
		goto out;
	}
	if (probe_loop(a, b, argv[1][0] == 'z', size, n, argv[1][0] == 'w' ? -1 : 0) != 0) {
		fprintf(stderr, "probe: a message failed its check\n");
		goto out;
	}
	status = 0;
out:
	shmf_close(b);
	shmf_close(a);
	shmf_unlink(name);
	return status;
}
