/* floor_probe.c - what the checks of SHMF/1 cost alone, for docs/PERFORMANCE.md (issue #8).
 *
 * The callgrind probe counts the library's send + receive. This counts the same frame going
 * through one ring with every step and check that PROTOCOL.md asks of a writer and a reader, and
 * nothing else: no API (no handle, no argument checks, no timeout), no sticky error, no zero-copy
 * state, no SIGBUS guard, no end of lap (the ring is large enough for the run), all of it in one
 * function compiled for the CRC instruction, with the library's own inline copy-and-CRC loop
 * (src/crc32c_hw.h). The writer: room against a cached rpos, the header, the zeroed alignment
 * bytes, the payload copied and checksummed, wseq and wpos released, the wake check's fence and
 * load. The reader: wpos acquired and checked (P1, P2) when the cached one is used up, R1-R3, the
 * header loaded once, R4-R7, the payload copied out and checksummed (R8), R9, rseq and rpos
 * released, the wake check. Its count is a floor for any implementation of the protocol built
 * the way shmframe is (copy then verify, each shared word fetched once), with this compiler.
 *
 *   shmf_floor_probe SIZE N      exit 0, or 1 with a line on stderr (a check failed)
 *
 * x86-64 with SSE4.2 only; elsewhere it says so and exits 77.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomics.h"
#include "crc32c_hw.h"
#include "layout.h"

#if defined(SHMF_CRC_HW) && defined(__x86_64__)

#define CAP      ((uint64_t)1 << 30) /* no lap ends in a run of N <= 2^22 messages of 64 B */
#define MAX_SIZE 200u

static unsigned char tx_buf[MAX_SIZE], rx_buf[MAX_SIZE];

struct side {
	uint64_t pos, seq, peer;
};

__attribute__((noinline)) SHMF_HW static int floor_loop(unsigned char *ctl, unsigned char *data,
                                                        size_t size, uint64_t n)
{
	struct side w = {0, 0, 0}, r = {0, 0, 0};

	for (uint64_t i = 0; i < n; i++) {
		memcpy(tx_buf, &i, 8);
		/* ---- the writer (PROTO 5.2) ---- */
		uint64_t fsize = shmf_frame_size(size);
		if (w.pos + fsize - w.peer > CAP) {
			w.peer = shmf_sh_load_acquire64(ctl + SHMF_C_RPOS);
			if ((w.peer & 7u) != 0 || w.pos - w.peer > CAP ||
			    w.pos + fsize - w.peer > CAP)
				return -1;
		}
		unsigned char *f = data + (w.pos & (CAP - 1));
		uint64_t w0 = (uint64_t)size << 32, w1 = w.seq;
		uint64_t w2 = SHMF_TYPE_MSG | (uint64_t)(uint32_t)w.pos << 32;
		if (fsize != SHMF_FRAME_HEADER + size)
			shmf_sh_store_relaxed64(f + fsize - 8u, 0);
		shmf_crc_reg c = shmf_crc_hw_header(~(uint32_t)0, w0, w1, w2);
		c = shmf_crc_hw_short(c, f + SHMF_FRAME_HEADER, tx_buf, size, SHMF_PASS_COPY_IN);
		shmf_sh_store_relaxed64(f + SHMF_F_SEQ, w1);
		shmf_sh_store_relaxed64(f + SHMF_F_TYPE, w2);
		shmf_sh_store_relaxed64(f + SHMF_F_CRC, w0 | (uint32_t)~c);
		w.seq++;
		w.pos += fsize;
		shmf_sh_store_release64(ctl + SHMF_C_WSEQ, w.seq);
		shmf_sh_store_release64(ctl + SHMF_C_WPOS, w.pos);
		shmf_fence_seq_cst();
		if (shmf_sh_load_relaxed32(ctl + SHMF_C_RWAIT) != 0)
			return -1; /* nobody sleeps here */

		/* ---- the reader (PROTO 5.4, 6.3) ---- */
		if (r.peer == r.pos) {
			uint64_t wp = shmf_sh_load_acquire64(ctl + SHMF_C_WPOS);
			if ((wp & 7u) != 0 || wp - r.pos > CAP || wp == r.pos) /* P1, P2, R1 */
				return -1;
			r.peer = wp;
		}
		uint64_t avail = r.peer - r.pos, tail = CAP - (r.pos & (CAP - 1));
		if (tail < SHMF_FRAME_HEADER || avail < SHMF_FRAME_HEADER) /* R2, R3 */
			return -1;
		unsigned char *g = data + (r.pos & (CAP - 1));
		uint64_t h0, h1, h2;
		shmf_sh_load_frame_header(g, &h0, &h1, &h2);
		uint64_t len = h0 >> 32, gsize = shmf_frame_size(len);
		if ((uint32_t)h2 != SHMF_TYPE_MSG) /* R4, R5 */
			return -1;
		if (len > MAX_SIZE || gsize > tail || gsize > avail ||
		    len > sizeof rx_buf) /* R6, R7 */
			return -1;
		uint64_t d = shmf_crc_hw_header(~(uint32_t)0, h0, h1, h2);
		d = shmf_crc_hw_short(d, rx_buf, g + SHMF_FRAME_HEADER, len, SHMF_PASS_COPY_OUT);
		if ((uint32_t)~d != (uint32_t)h0) /* R8 */
			return -1;
		if (h1 != r.seq || (uint32_t)(h2 >> 32) != (uint32_t)r.pos) /* R9 */
			return -1;
		r.seq++;
		r.pos += gsize;
		shmf_sh_store_relaxed64(ctl + SHMF_C_RSEQ, r.seq);
		shmf_sh_store_release64(ctl + SHMF_C_RPOS, r.pos);
		shmf_fence_seq_cst();
		if (shmf_sh_load_relaxed32(ctl + SHMF_C_WWAIT) != 0)
			return -1;

		/* ---- the caller's check, as in callgrind_probe.c ---- */
		uint64_t v = 0;
		if (len != size || (size >= 8 && (memcpy(&v, rx_buf, 8), v != i)))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: shmf_floor_probe SIZE N\n");
		return 2;
	}
	size_t size = (size_t)strtoull(argv[1], NULL, 10);
	uint64_t n = strtoull(argv[2], NULL, 10);
	if (size > MAX_SIZE || n * shmf_frame_size(size) > CAP) {
		fprintf(stderr, "floor probe: SIZE <= %u and N x frame size <= 2^30\n", MAX_SIZE);
		return 2;
	}
	if (!__builtin_cpu_supports("sse4.2")) {
		fprintf(stderr, "floor probe: no SSE4.2 here\n");
		return 77;
	}
	unsigned char *ctl = aligned_alloc(4096, SHMF_CTL_AREA);
	unsigned char *data = aligned_alloc(4096, CAP);
	if (ctl == NULL || data == NULL) {
		fprintf(stderr, "floor probe: out of memory\n");
		return 1;
	}
	memset(ctl, 0, SHMF_CTL_AREA);
	int rc = floor_loop(ctl, data, size, n);
	free(data);
	free(ctl);
	if (rc != 0)
		fprintf(stderr, "floor probe: a check failed\n");
	return rc == 0 ? 0 : 1;
}

#else
int main(void)
{
	fprintf(stderr, "floor probe: x86-64 with the CRC instruction only\n");
	return 77;
}
#endif
