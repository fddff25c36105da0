/* crc32c.c - CRC-32C (Castagnoli), PROTO 3.
 *
 * Two implementations compute the same function: a portable slicing-by-8 table, and the
 * hardware instruction (SSE4.2 crc32 on x86-64, the CRC32C instructions on ARMv8), chosen at
 * run time on each call, so there is no global state to initialise. tests/test_crc32c.c holds
 * both to the same vectors and to each other.
 */
#include "internal.h"

#include "atomics.h"
#include "bytes.h"
#include "crc32c_hw.h"

/* The join of three streams by carry-less multiplication (below): x86-64 with PCLMULQDQ, checked
 * at run time. A build may leave it out (the test build shmframe_obj_noclmul, so that the join
 * by lookups runs here too). */
#if defined(SHMF_CRC_HW) && defined(__x86_64__) && !defined(SHMF_CRC32C_NO_CLMUL)
#include <wmmintrin.h>
#define SHMF_CLMUL             1
#define SHMF_HW_CLMUL          __attribute__((target("sse4.2,pclmul")))
#define SHMF_CRC32C_JOIN_CLMUL 1
#endif
#if defined(SHMF_CRC_HW)
#define SHMF_CRC32C_JOIN_TABLES 1
#endif
#include "crc32c_table.h"

#if defined(SHMF_CRC_HW) && defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif

uint32_t shmf_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

	while (len >= 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		                   (uint32_t)p[3] << 24);
		c = shmf_crc32c_tab[7][lo & 0xFF] ^ shmf_crc32c_tab[6][(lo >> 8) & 0xFF] ^
		    shmf_crc32c_tab[5][(lo >> 16) & 0xFF] ^ shmf_crc32c_tab[4][lo >> 24] ^
		    shmf_crc32c_tab[3][p[4]] ^ shmf_crc32c_tab[2][p[5]] ^ shmf_crc32c_tab[1][p[6]] ^
		    shmf_crc32c_tab[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = (c >> 8) ^ shmf_crc32c_tab[0][(c ^ *p++) & 0xFF];
	return ~c;
}

/* One definition for every build: gcovr merges the counts of the objects built with and
 * without the instruction, and wants each function at one line. */
int shmf_crc32c_hw_available(void)
{
#if defined(SHMF_CRC_HW) && defined(__x86_64__)
	return __builtin_cpu_supports("sse4.2") ? 1 : 0;
#elif defined(SHMF_CRC_HW)
	return (getauxval(AT_HWCAP) & HWCAP_CRC32) ? 1 : 0;
#else
	return 0;
#endif
}

#if defined(SHMF_CLMUL)
static int clmul_available(void)
{
	return __builtin_cpu_supports("pclmul") ? 1 : 0; /* GCOVR_EXCL_BR_LINE: one side a CPU */
}
#endif

#if defined(SHMF_CRC_HW)
/* Three streams at once. The instruction takes 3 cycles and accepts one a cycle, so one stream
 * runs at a third of its speed: long runs are cut into three blocks of L bytes whose CRCs are
 * computed side by side and then joined, reg(A B C) = reg(A) x^(16L) ^ reg(B) x^(8L) ^ reg(C)
 * mod P, reg(B) and reg(C) taken from 0. Multiplying by x^(8L) is linear in the register, and
 * is done one of two ways (the constants: tools/gen_crc32c_table.py, crc32c_table.h):
 *   - by carry-less multiplication (x86-64 PCLMULQDQ), for any L that is a multiple of 8: a run
 *     is cut into blocks of 1024 bytes and one last set of three of whatever size fits, so only
 *     the last 0-23 bytes go one at a time;
 *   - elsewhere by eight 4-bit lookups, for L = 1024 and 256 only: the rest of the run, up to
 *     767 bytes, goes one stream at a time. */

/* The coverage build (-O0) keeps the bodies inlined per mode below as plain functions, so that gcov
 * counts each branch once, with every mode, and not once per copy (as ring.c does). */
#if defined(SHMF_GCOV)
#define CRC_INLINE static
#else
#define CRC_INLINE __attribute__((always_inline)) static inline
#endif

/* The three streams' loop over 3L bytes: c continues the run, *c1 and *c2 start from 0. */
SHMF_HW CRC_INLINE shmf_crc_reg three_streams(shmf_crc_reg c, shmf_crc_reg *c1, shmf_crc_reg *c2,
                                              unsigned char *dst, const unsigned char *src,
                                              size_t L, enum shmf_pass m)
{
	shmf_crc_reg b1 = 0, b2 = 0;

	for (size_t i = 0; i < L; i += 8) {
		uint64_t a = shmf_crc_load8(src + i, m), b = shmf_crc_load8(src + L + i, m);
		uint64_t d = shmf_crc_load8(src + 2 * L + i, m);
		if (m == SHMF_PASS_COPY_IN || m == SHMF_PASS_COPY_OUT) {
			__builtin_memcpy(dst + i, &a, 8);
			__builtin_memcpy(dst + L + i, &b, 8);
			__builtin_memcpy(dst + 2 * L + i, &d, 8);
		}
		c = SHMF_HW64(c, SHMF_LE64(a));
		b1 = SHMF_HW64(b1, SHMF_LE64(b));
		b2 = SHMF_HW64(b2, SHMF_LE64(d));
	}
	*c1 = b1;
	*c2 = b2;
	return c;
}

static inline uint32_t shift(uint32_t c, const uint32_t tab[8][16])
{
	return tab[0][c & 15] ^ tab[1][(c >> 4) & 15] ^ tab[2][(c >> 8) & 15] ^
	       tab[3][(c >> 12) & 15] ^ tab[4][(c >> 16) & 15] ^ tab[5][(c >> 20) & 15] ^
	       tab[6][(c >> 24) & 15] ^ tab[7][c >> 28];
}

/* 3L bytes, joined by lookups. Out of line, so that the short messages' path keeps few registers
 * to save. */
SHMF_HW __attribute__((noinline)) static shmf_crc_reg hw_three(shmf_crc_reg c, unsigned char *dst,
                                                               const unsigned char *src, size_t L,
                                                               const uint32_t tab[8][16],
                                                               enum shmf_pass m)
{
	shmf_crc_reg c1, c2;

	c = three_streams(c, &c1, &c2, dst, src, L, m);
	c = shift((uint32_t)c, tab) ^ (uint32_t)c1;
	return shift((uint32_t)c, tab) ^ (uint32_t)c2;
}

#if defined(SHMF_CLMUL)
/* 3L bytes (L a multiple of 8, at most 1024), joined by two carry-less products. */
SHMF_HW_CLMUL static inline shmf_crc_reg three_clmul(shmf_crc_reg c, unsigned char *dst,
                                                     const unsigned char *src, size_t L,
                                                     enum shmf_pass m)
{
	const uint32_t *k = clmul_k[L / 8 - 1];
	shmf_crc_reg c1, c2;

	c = three_streams(c, &c1, &c2, dst, src, L, m);
	__m128i a = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)(uint32_t)c),
	                                 _mm_cvtsi32_si128((int)k[1]), 0);
	__m128i b = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)(uint32_t)c1),
	                                 _mm_cvtsi32_si128((int)k[0]), 0);
	return SHMF_HW64(0, (uint64_t)_mm_cvtsi128_si64(_mm_xor_si128(a, b))) ^ (uint32_t)c2;
}

/* n >= SHMF_CRC_SPLIT_MIN bytes: blocks of 3 x 1024, then three blocks of the largest multiple of
 * 8 that fits, then the last 0-23 bytes. */
SHMF_HW_CLMUL __attribute__((noinline)) static shmf_crc_reg
hw_long_clmul(shmf_crc_reg c, unsigned char *dst, const unsigned char *src, size_t n,
              enum shmf_pass m)
{
	size_t i = 0, L;

	for (; n - i >= (size_t)3 * 1024; i += (size_t)3 * 1024)
		c = three_clmul(c, dst != NULL ? dst + i : NULL, src + i, 1024, m);
	if ((L = (n - i) / 24 * 8) != 0) {
		c = three_clmul(c, dst != NULL ? dst + i : NULL, src + i, L, m);
		i += 3 * L;
	}
	return shmf_crc_hw_short(c, dst != NULL ? dst + i : NULL, src + i, n - i, m);
}
#endif

/* The register over n bytes at src from state c, storing them to dst on the way for the copy
 * passes. A leading 32-bit step brings a 20-byte frame header at offset 4 of an aligned buffer to
 * one 32-bit and two 64-bit steps. */
SHMF_HW CRC_INLINE shmf_crc_reg hw_pass(shmf_crc_reg c, unsigned char *dst,
                                        const unsigned char *src, size_t n, enum shmf_pass m)
{
	if (m == SHMF_PASS_CRC && n >= 4 && ((uintptr_t)src & 7u) == 4) {
		uint32_t w;
		__builtin_memcpy(&w, src, 4);
		c = SHMF_HW32(c, SHMF_LE32(w));
		src += 4;
		n -= 4;
	}
	if (m == SHMF_PASS_CRC) {
		while (n && ((uintptr_t)src & 7u)) {
			c = SHMF_HW8(c, *src++);
			n--;
		}
	}
#if defined(SHMF_CLMUL)
	if (n >= SHMF_CRC_SPLIT_MIN && clmul_available()) /* GCOVR_EXCL_BR_LINE: one side a CPU */
		return hw_long_clmul(c, dst, src, n, m);
#endif
	size_t i = 0; /* dst + i only in the copy passes: dst is NULL in the others */
	for (; n - i >= (size_t)3 * 1024; i += (size_t)3 * 1024)
		c = hw_three(c, dst != NULL ? dst + i : NULL, src + i, 1024, shift_1024, m);
	for (; n - i >= (size_t)3 * 256; i += (size_t)3 * 256)
		c = hw_three(c, dst != NULL ? dst + i : NULL, src + i, 256, shift_256, m);
	return shmf_crc_hw_short(c, dst != NULL ? dst + i : NULL, src + i, n - i, m);
}

/* The frame CRC's start: header bytes 0x04..0x17 of a private header (PROTO 4). */
SHMF_HW static inline shmf_crc_reg hw_hdr(shmf_crc_reg c, const uint8_t *hdr)
{
	if (hdr == NULL)
		return c;
	return shmf_crc_hw_header(c, shmf_ld64(hdr + SHMF_F_CRC), shmf_ld64(hdr + SHMF_F_SEQ),
	                          shmf_ld64(hdr + SHMF_F_TYPE));
}

SHMF_HW static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	return ~(uint32_t)hw_pass(~crc, NULL, p, len, SHMF_PASS_CRC);
}

SHMF_HW static uint32_t copy_in_hw(uint32_t crc, const uint8_t *hdr, unsigned char *dst,
                                   const uint8_t *src, size_t n)
{
	return ~(uint32_t)hw_pass(hw_hdr(~crc, hdr), dst, src, n, SHMF_PASS_COPY_IN);
}

SHMF_HW static uint32_t copy_out_hw(uint32_t crc, const uint8_t *hdr, uint8_t *dst,
                                    const unsigned char *src, size_t n)
{
	if (dst == NULL)
		return ~(uint32_t)hw_pass(hw_hdr(~crc, hdr), NULL, src, n, SHMF_PASS_SHARED);
	return ~(uint32_t)hw_pass(hw_hdr(~crc, hdr), dst, src, n, SHMF_PASS_COPY_OUT);
}
#endif

/* Falls back to the table where the instruction is missing, so callers may use it anywhere. */
uint32_t shmf_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
#if defined(SHMF_CRC_HW)
	if (shmf_crc32c_hw_available()) /* GCOVR_EXCL_BR_LINE: one side a CPU; see crc32c_table */
		return crc_hw(crc, buf, len);
#endif
	return shmf_crc32c_sw(crc, buf, len);
}

uint32_t shmf_crc32c(uint32_t crc, const void *buf, size_t len)
{
#if defined(SHMF_CRC_HW)
	if (shmf_crc32c_hw_available()) /* GCOVR_EXCL_BR_LINE: one side a CPU; see crc32c_table */
		return crc_hw(crc, buf, len);
#endif
	return shmf_crc32c_sw(crc, buf, len);
}

/* The fused copies of the fast path (atomics.h: shmf_sh_copy_in_crc, shmf_sh_copy_out_crc).
 * Without the instruction: copy, then the table over the private bytes (in place, for a NULL
 * dst: through a private chunk, so that each shared byte is still fetched once). */
static uint32_t copy_in_sw(uint32_t crc, const uint8_t *hdr, unsigned char *dst, const void *src,
                           size_t n)
{
	if (hdr != NULL)
		crc = shmf_crc32c_sw(crc, hdr + 4, 20);
	if (n != 0)
		memcpy(dst, src, n);
	return shmf_crc32c_sw(crc, src, n);
}

__attribute__((noinline)) static uint32_t copy_out_sw(uint32_t crc, const uint8_t *hdr, void *dst,
                                                      const unsigned char *src, size_t n)
{
	uint8_t chunk[256];

	if (hdr != NULL)
		crc = shmf_crc32c_sw(crc, hdr + 4, 20);
	if (dst != NULL) {
		if (n != 0)
			memcpy(dst, src, n);
		return shmf_crc32c_sw(crc, dst, n);
	}
	while (n != 0) {
		size_t k = n < sizeof chunk ? n : sizeof chunk;
		memcpy(chunk, src, k);
		crc = shmf_crc32c_sw(crc, chunk, k);
		src += k;
		n -= k;
	}
	return crc;
}

uint32_t shmf_crc32c_copy_in(uint32_t crc, const uint8_t *hdr, unsigned char *dst, const void *src,
                             size_t n)
{
#if defined(SHMF_CRC_HW)
	if (shmf_crc32c_hw_available()) /* GCOVR_EXCL_BR_LINE: one side a CPU; see crc32c_table */
		return copy_in_hw(crc, hdr, dst, src, n);
#endif
	return copy_in_sw(crc, hdr, dst, src, n);
}

uint32_t shmf_crc32c_copy_out(uint32_t crc, const uint8_t *hdr, void *dst, const unsigned char *src,
                              size_t n)
{
#if defined(SHMF_CRC_HW)
	if (shmf_crc32c_hw_available()) /* GCOVR_EXCL_BR_LINE: one side a CPU; see crc32c_table */
		return copy_out_hw(crc, hdr, dst, src, n);
#endif
	return copy_out_sw(crc, hdr, dst, src, n);
}
