/* crc32c.c - fuzz target: the library's two CRC-32C implementations (PROTOCOL.md 3) against each
 * other and against the bitwise definition in oracle.h, and the fused copy-and-checksum passes
 * of the fast path (shmf_crc32c_copy_out, shmf_crc32c_copy_in, declared in atomics.h).
 *
 * Input: byte 0 = buffer misalignment (low 4 bits) and, in bit 4, "the fused copies take a
 * frame header" (the first 24 data bytes, whose bytes 4..23 the CRC covers first), bytes 1..2 =
 * split point (modulo the data length + 1), bytes 3..6 = initial CRC ("the CRC of the bytes
 * before"), then the data. A shorter input is all data, with offset 0, split 0, initial CRC 0
 * and no header.
 *
 * Oracle: for the whole data and for the two halves chained at the split point, starting from 0
 * and from the initial CRC, at the given misalignment: shmf_crc32c_sw == shmf_crc32c_hw ==
 * shmf_crc32c == the bitwise CRC, and mixing implementations across the split changes nothing.
 * The fused copies, from an 8-byte-aligned source (as a frame payload is) into a destination at
 * the misalignment, and with no destination (the check in place of shmf_peek), and the writer's
 * copy into an aligned destination from a source at the misalignment: each returns the bitwise
 * CRC of header bytes 4..23 then data, chained from the initial CRC, and each copy is exact.
 * The first run also checks the bitwise oracle against the vectors of PROTOCOL.md 3.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "oracle.h"
#include "internal.h"
#include "atomics.h"

static void agree(uint32_t init, const uint8_t *p, size_t n, size_t split)
{
	uint32_t want = fz_crc32c(init, p, n);
	uint32_t sw = shmf_crc32c_sw(init, p, n);
	uint32_t hw = shmf_crc32c_hw(init, p, n);
	uint32_t any = shmf_crc32c(init, p, n);
	size_t m = n - split;

	FZ_CHECK(sw == want && hw == want && any == want,
	         "n %zu init 0x%08x: sw 0x%08x hw 0x%08x dispatch 0x%08x oracle 0x%08x", n,
	         (unsigned)init, (unsigned)sw, (unsigned)hw, (unsigned)any, (unsigned)want);
	FZ_CHECK(fz_crc32c(fz_crc32c(init, p, split), p + split, m) == want, "oracle chaining");
	FZ_CHECK(shmf_crc32c_sw(shmf_crc32c_sw(init, p, split), p + split, m) == want,
	         "sw chained at %zu of %zu", split, n);
	FZ_CHECK(shmf_crc32c_hw(shmf_crc32c_hw(init, p, split), p + split, m) == want,
	         "hw chained at %zu of %zu", split, n);
	FZ_CHECK(shmf_crc32c_sw(shmf_crc32c_hw(init, p, split), p + split, m) == want,
	         "hw then sw at %zu of %zu", split, n);
	FZ_CHECK(shmf_crc32c_hw(shmf_crc32c_sw(init, p, split), p + split, m) == want,
	         "sw then hw at %zu of %zu", split, n);
	FZ_CHECK(shmf_crc32c_sw(init, p, 0) == init && shmf_crc32c_hw(init, p, 0) == init,
	         "the CRC of nothing after init is init");
}

/* Every buffer is a heap block of exactly the bytes it holds, so a read or write past the end
 * is caught; `at` bytes of slack in front set the misalignment. */
static void fused(uint32_t init, const uint8_t *hdr, const uint8_t *p, size_t n, size_t at)
{
	uint32_t want = fz_crc32c(hdr != NULL ? fz_crc32c(init, hdr + 4, 20) : init, p, n);
	unsigned char *src = calloc(1, n != 0 ? n : 1); /* aligned: malloc's alignment is 16 */
	unsigned char *blk = malloc(at + n != 0 ? at + n : 1);
	unsigned char *dst = malloc(n != 0 ? n : 1);
	uint32_t got;

	FZ_CHECK(src != NULL && blk != NULL && dst != NULL, "out of memory");
	if (n != 0) {
		memcpy(src, p, n);
		memset(blk + at, 0x5A, n);
	}
	got = shmf_crc32c_copy_out(init, hdr, blk + at, src, n);
	FZ_CHECK(got == want, "copy_out n %zu at %zu hdr %d: 0x%08x, want 0x%08x", n, at,
	         hdr != NULL, (unsigned)got, (unsigned)want);
	FZ_CHECK(n == 0 || memcmp(blk + at, p, n) == 0, "copy_out n %zu at %zu: wrong bytes", n,
	         at);
	got = shmf_crc32c_copy_out(init, hdr, NULL, src, n);
	FZ_CHECK(got == want, "copy_out in place n %zu hdr %d: 0x%08x, want 0x%08x", n, hdr != NULL,
	         (unsigned)got, (unsigned)want);
	if (n != 0) {
		memcpy(blk + at, p, n);
		memset(dst, 0xA5, n);
	}
	got = shmf_crc32c_copy_in(init, hdr, dst, blk + at, n);
	FZ_CHECK(got == want, "copy_in n %zu at %zu hdr %d: 0x%08x, want 0x%08x", n, at,
	         hdr != NULL, (unsigned)got, (unsigned)want);
	FZ_CHECK(n == 0 || memcmp(dst, p, n) == 0, "copy_in n %zu at %zu: wrong bytes", n, at);
	free(src);
	free(blk);
	free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[24];
	int with_hdr = 0;
	static int checked;
	size_t off = 0, split = 0, n = size;
	uint32_t init = 0;
	const uint8_t *src = data;

	if (!checked) {
		FZ_CHECK(fz_crc32c_selftest(), "the oracle fails PROTOCOL.md 3");
		FZ_CHECK(shmf_crc32c_hw_available() == 0 || shmf_crc32c_hw_available() == 1,
		         "hw_available");
		checked = 1;
	}
	if (size >= 7) {
		off = data[0] & 15u;
		with_hdr = (data[0] & 16u) != 0;
		split = fz_ld16(data + 1);
		init = fz_ld32(data + 3);
		src = data + 7;
		n = size - 7;
	}
	split %= n + 1u;
	/* exact size: the data ends where the allocation ends, off bytes after its start */
	uint8_t *buf = malloc(off + n != 0 ? off + n : 1);
	FZ_CHECK(buf != NULL, "out of memory");
	memset(buf, 0xEE, off);
	if (n != 0)
		memcpy(buf + off, src, n);
	agree(0, buf + off, n, split);
	agree(init, buf + off, n, split);
	if (with_hdr && n >= sizeof hdr) {
		memcpy(hdr, buf + off, sizeof hdr);
		fused(init, hdr, buf + off + sizeof hdr, n - sizeof hdr, off);
	} else {
		fused(init, NULL, buf + off, n, off);
	}
	free(buf);
	return 0;
}
