/* segment_guard.c - fuzz target: a segment image in private memory that ends flush against a
 * PROT_NONE page (and starts right after one), driven through the ring functions directly, so
 * that any read or write outside the image faults even in a build without ASan (AFL++, the plain
 * ctest replay).
 *
 * Input: the image, as for segment.c (same corpus format, same 0xFF8 flags word), 4096 bytes to
 * 1 MiB; other sizes are skipped (A5, the size floor, is checked by the attach before header
 * validation: segment.c covers it). The harness takes the header snapshot (shmf_header_snapshot
 * when the image is 8-aligned, which every valid one is), validates it with
 * shmf_header_validate() against the image's size and the header's own uid and mode (the file
 * facts of A14/A15 belong to segment.c), then for each ring:
 *   1. shmf_ring_bind + shmf_ring_reader_attach, and drains it with shmf_ring_read (or, when bit
 *      `ring` of the 0xFF8 flags word is set, shmf_ring_peek + shmf_ring_release) until a call
 *      returns non-zero, then calls once more (a reject must be sticky);
 *   2. binds a writer to the same ring (shmf_ring_writer_attach, which reads rpos as the reader
 *      left it) and, when writer and reader agree on position and sequence, writes one message
 *      (shmf_ring_write, or reserve + commit when bit 2 is set; length from bits 16..31 modulo
 *      max_message + 1) and reads it back.
 * Oracle: header validation, attaches and every read equal the model (model.h) as in segment.c;
 * peeked payloads lie inside the ring's data area; a message written is read back intact or the
 * write said SHMF_EAGAIN; and no access outside the image (the guard pages).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "model.h"
#include "internal.h"

#define FZ_SEG_MAX   (1u << 20)
#define FZ_CTL_FLAGS 0xFF8u

static void drain_and_write(unsigned char *img, const shmf_geom *g, const fz_geom *mg,
                            unsigned ring, uint32_t flags)
{
	int peek = (flags >> ring) & 1u;
	shmf_ring r, w;
	fz_reader m;
	uint8_t *buf = NULL;
	int rc, want;

	shmf_ring_bind(&r, img, ring, g);
	rc = shmf_ring_reader_attach(&r);
	want = fz_reader_attach(&m, img, mg, ring);
	FZ_CHECK(rc == want, "ring %u reader attach: library %d, model %d", ring, rc, want);
	if (rc != 0)
		return;
	if (g->max_message != 0) {
		buf = malloc(g->max_message);
		FZ_CHECK(buf != NULL, "out of memory");
	}
	for (size_t i = 0;; i++) {
		const uint8_t *mp = NULL;
		uint32_t mlen = 0;
		const void *p = buf;
		size_t len = (size_t)-1;

		FZ_CHECK(i <= g->cap[ring] / 8u + 2u, "no progress after %zu reads", i);
		if (peek)
			rc = shmf_ring_peek(&r, &p, &len);
		else
			rc = shmf_ring_read(&r, buf, g->max_message, &len);
		want = fz_reader_next(&m, peek ? SIZE_MAX : g->max_message, &mp, &mlen);
		FZ_CHECK(rc == want, "ring %u read %zu: library %d, model %d", ring, i, rc, want);
		if (rc != 0)
			break;
		FZ_CHECK(len == mlen && len <= g->max_message, "length %zu, model %u", len,
		         (unsigned)mlen);
		if (peek) {
			const unsigned char *q = p;
			FZ_CHECK(q >= r.data + FZ_FRAME_HDR && q + len <= r.data + r.cap,
			         "peek points outside the data area");
		}
		FZ_CHECK(len == 0 || memcmp(p, mp, len) == 0, "payload differs from the image");
		if (peek)
			FZ_CHECK(shmf_ring_release(&r) == 0, "release");
	}
	if (rc != SHMF_EAGAIN) {
		const void *p = NULL;
		size_t len = 0;
		int again = peek ? shmf_ring_peek(&r, &p, &len)
		                 : shmf_ring_read(&r, buf, g->max_message, &len);
		FZ_CHECK(again == rc, "reject %d not sticky: then %d", rc, again);
	}

	/* A writer on the same ring, after the reader: its attach sees the rpos the reader stored.
	 */
	shmf_ring_bind(&w, img, ring, g);
	rc = shmf_ring_writer_attach(&w);
	want = fz_writer_attach_check(img, mg, ring);
	FZ_CHECK(rc == want, "ring %u writer attach: library %d, model %d", ring, rc, want);
	if (rc == 0 && r.err == 0 && w.pos == r.pos && w.seq == r.seq) {
		size_t n = g->max_message != 0 ? (size_t)(flags >> 16) % (g->max_message + 1u) : 0;
		uint8_t *msg = malloc(n != 0 ? n : 1);
		size_t len = (size_t)-1;

		FZ_CHECK(msg != NULL, "out of memory");
		for (size_t i = 0; i < n; i++)
			msg[i] = (uint8_t)(i * 31u + ring);
		if (flags & 4u) {
			void *v = NULL;
			rc = shmf_ring_reserve(&w, n, &v);
			unsigned char *dst = v;
			if (rc == 0) {
				FZ_CHECK(dst >= w.data + FZ_FRAME_HDR && dst + n <= w.data + w.cap,
				         "reserve outside the data area");
				memcpy(dst, msg, n);
				rc = shmf_ring_commit(&w, n);
				FZ_CHECK(rc == 0, "commit %d", rc);
			}
		} else {
			rc = shmf_ring_write(&w, msg, n);
		}
		FZ_CHECK(rc == 0 || rc == SHMF_EAGAIN, "write of %zu bytes: %d", n, rc);
		if (rc == 0) {
			rc = shmf_ring_read(&r, buf, g->max_message, &len);
			FZ_CHECK(rc == 0 && len == n && (n == 0 || memcmp(buf, msg, n) == 0),
			         "read back %d, %zu of %zu bytes", rc, len, n);
		}
		free(msg);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t page = FZ_PAGE;
	uint8_t hdr[SHMF_HEADER_SIZE];
	shmf_geom g;
	fz_geom mg;
	uint32_t flags = 0;
	int rc, want;

	if (size < FZ_PAGE || size > FZ_SEG_MAX)
		return 0; /* A5 is the attach's check, before validation: segment.c covers it */
	size_t span = (size + page - 1u) / page * page;
	unsigned char *region =
	        mmap(NULL, span + 2u * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FZ_CHECK(region != MAP_FAILED, "mmap");
	FZ_CHECK(mprotect(region + page, span, PROT_READ | PROT_WRITE) == 0, "mprotect");
	unsigned char *img = region + page + span - size; /* ends at the guard page */
	memcpy(img, data, size);
	flags = fz_ld32(img + FZ_CTL_FLAGS);

	if (((uintptr_t)img & 7u) == 0)
		shmf_header_snapshot(img, hdr);
	else
		memcpy(hdr, img, sizeof hdr);
	FZ_CHECK(memcmp(hdr, img, sizeof hdr) == 0, "header snapshot differs from the image");
	uint32_t uid = fz_ld32(hdr + 0x24), mode = fz_ld32(hdr + 0x28) & 0777u;
	rc = shmf_header_validate(hdr, size, uid, mode, &g);
	want = fz_header_check(img, size, uid, mode, &mg);
	FZ_CHECK(rc == want, "header: library %d, model %d", rc, want);
	if (rc == 0) {
		FZ_CHECK(g.ring_count == mg.ring_count && g.max_message == mg.max_message &&
		                 g.total_size == mg.total_size && g.data_off[0] == mg.data[0] &&
		                 g.data_off[1] == mg.data[1] && g.cap[0] == mg.cap[0] &&
		                 g.cap[1] == mg.cap[1] && g.total_size == size,
		         "geometry differs from the model's");
		for (unsigned ring = 0; ring < g.ring_count; ring++)
			drain_and_write(img, &g, &mg, ring, flags);
	}
	munmap(region, span + 2u * page);
	return 0;
}
