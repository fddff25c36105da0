/* crc32c.c - fuzz target: the library's two CRC-32C implementations (PROTOCOL.md 3) against each
 * other and against the bitwise definition in oracle.h.
 *
 * Input: byte 0 = buffer misalignment (low 4 bits), bytes 1..2 = split point (modulo the data
 * length + 1), bytes 3..6 = initial CRC ("the CRC of the bytes before"), then the data. A shorter
 * input is all data, with offset 0, split 0 and initial CRC 0.
 *
 * Oracle: for the whole data and for the two halves chained at the split point, starting from 0
 * and from the initial CRC, at the given misalignment: shmf_crc32c_sw == shmf_crc32c_hw ==
 * shmf_crc32c == the bitwise CRC, and mixing implementations across the split changes nothing.
 * The first run also checks the bitwise oracle against the vectors of PROTOCOL.md 3.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "oracle.h"
#include "internal.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
	free(buf);
	return 0;
}
