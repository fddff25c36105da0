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

#if defined(SHMF_CRC_HW)
/* Three streams at once. The instruction takes 3 cycles and accepts one a cycle, so one stream
 * runs at a third of its speed: long runs are cut into three blocks of L bytes whose CRCs are
 * computed side by side and then joined, reg(A B C) = shift(shift(reg(A)) ^ reg(B)) ^ reg(C),
 * where shift(c) = c x^(8L) mod P is linear in c: eight lookups of four bits each. The tables
 * were computed (and the join checked against the plain CRC) by a throwaway script: the
 * register after L zero bytes from each single 4-bit value. */
/* x^(8 * 256) mod P on the register, four bits at a time. */
static const uint32_t shift_256[8][16] = {
        {0x00000000u, 0xDCB17AA4u, 0xBC8E83B9u, 0x603FF91Du, 0x7CF17183u, 0xA0400B27u, 0xC07FF23Au,
         0x1CCE889Eu, 0xF9E2E306u, 0x255399A2u, 0x456C60BFu, 0x99DD1A1Bu, 0x85139285u, 0x59A2E821u,
         0x399D113Cu, 0xE52C6B98u},
        {0x00000000u, 0xF629B0FDu, 0xE9BF170Bu, 0x1F96A7F6u, 0xD69258E7u, 0x20BBE81Au, 0x3F2D4FECu,
         0xC904FF11u, 0xA8C8C73Fu, 0x5EE177C2u, 0x4177D034u, 0xB75E60C9u, 0x7E5A9FD8u, 0x88732F25u,
         0x97E588D3u, 0x61CC382Eu},
        {0x00000000u, 0x547DF88Fu, 0xA8FBF11Eu, 0xFC860991u, 0x541B94CDu, 0x00666C42u, 0xFCE065D3u,
         0xA89D9D5Cu, 0xA837299Au, 0xFC4AD115u, 0x00CCD884u, 0x54B1200Bu, 0xFC2CBD57u, 0xA85145D8u,
         0x54D74C49u, 0x00AAB4C6u},
        {0x00000000u, 0x558225C5u, 0xAB044B8Au, 0xFE866E4Fu, 0x53E4E1E5u, 0x0666C420u, 0xF8E0AA6Fu,
         0xAD628FAAu, 0xA7C9C3CAu, 0xF24BE60Fu, 0x0CCD8840u, 0x594FAD85u, 0xF42D222Fu, 0xA1AF07EAu,
         0x5F2969A5u, 0x0AAB4C60u},
        {0x00000000u, 0x4A7FF165u, 0x94FFE2CAu, 0xDE8013AFu, 0x2C13B365u, 0x666C4200u, 0xB8EC51AFu,
         0xF293A0CAu, 0x582766CAu, 0x125897AFu, 0xCCD88400u, 0x86A77565u, 0x7434D5AFu, 0x3E4B24CAu,
         0xE0CB3765u, 0xAAB4C600u},
        {0x00000000u, 0xB04ECD94u, 0x6571EDD9u, 0xD53F204Du, 0xCAE3DBB2u, 0x7AAD1626u, 0xAF92366Bu,
         0x1FDCFBFFu, 0x902BC195u, 0x20650C01u, 0xF55A2C4Cu, 0x4514E1D8u, 0x5AC81A27u, 0xEA86D7B3u,
         0x3FB9F7FEu, 0x8FF73A6Au},
        {0x00000000u, 0x25BBF5DBu, 0x4B77EBB6u, 0x6ECC1E6Du, 0x96EFD76Cu, 0xB35422B7u, 0xDD983CDAu,
         0xF823C901u, 0x2833D829u, 0x0D882DF2u, 0x6344339Fu, 0x46FFC644u, 0xBEDC0F45u, 0x9B67FA9Eu,
         0xF5ABE4F3u, 0xD0101128u},
        {0x00000000u, 0x5067B052u, 0xA0CF60A4u, 0xF0A8D0F6u, 0x4472B7B9u, 0x141507EBu, 0xE4BDD71Du,
         0xB4DA674Fu, 0x88E56F72u, 0xD882DF20u, 0x282A0FD6u, 0x784DBF84u, 0xCC97D8CBu, 0x9CF06899u,
         0x6C58B86Fu, 0x3C3F083Du},
};

/* x^(8 * 1024) mod P on the register, four bits at a time. */
static const uint32_t shift_1024[8][16] = {
        {0x00000000u, 0xFE314258u, 0xF98EF241u, 0x07BFB019u, 0xF6F19273u, 0x08C0D02Bu, 0x0F7F6032u,
         0xF14E226Au, 0xE80F5217u, 0x163E104Fu, 0x1181A056u, 0xEFB0E20Eu, 0x1EFEC064u, 0xE0CF823Cu,
         0xE7703225u, 0x1941707Du},
        {0x00000000u, 0xD5F2D2DFu, 0xAE09D34Fu, 0x7BFB0190u, 0x59FFD06Fu, 0x8C0D02B0u, 0xF7F60320u,
         0x2204D1FFu, 0xB3FFA0DEu, 0x660D7201u, 0x1DF67391u, 0xC804A14Eu, 0xEA0070B1u, 0x3FF2A26Eu,
         0x4409A3FEu, 0x91FB7121u},
        {0x00000000u, 0x6213374Du, 0xC4266E9Au, 0xA63559D7u, 0x8DA0ABC5u, 0xEFB39C88u, 0x4986C55Fu,
         0x2B95F212u, 0x1EAD217Bu, 0x7CBE1636u, 0xDA8B4FE1u, 0xB89878ACu, 0x930D8ABEu, 0xF11EBDF3u,
         0x572BE424u, 0x3538D369u},
        {0x00000000u, 0x3D5A42F6u, 0x7AB485ECu, 0x47EEC71Au, 0xF5690BD8u, 0xC833492Eu, 0x8FDD8E34u,
         0xB287CCC2u, 0xEF3E6141u, 0xD26423B7u, 0x958AE4ADu, 0xA8D0A65Bu, 0x1A576A99u, 0x270D286Fu,
         0x60E3EF75u, 0x5DB9AD83u},
        {0x00000000u, 0xDB90B473u, 0xB2CD1E17u, 0x695DAA64u, 0x60764ADFu, 0xBBE6FEACu, 0xD2BB54C8u,
         0x092BE0BBu, 0xC0EC95BEu, 0x1B7C21CDu, 0x72218BA9u, 0xA9B13FDAu, 0xA09ADF61u, 0x7B0A6B12u,
         0x1257C176u, 0xC9C77505u},
        {0x00000000u, 0x84355D8Du, 0x0D86CDEBu, 0x89B39066u, 0x1B0D9BD6u, 0x9F38C65Bu, 0x168B563Du,
         0x92BE0BB0u, 0x361B37ACu, 0xB22E6A21u, 0x3B9DFA47u, 0xBFA8A7CAu, 0x2D16AC7Au, 0xA923F1F7u,
         0x20906191u, 0xA4A53C1Cu},
        {0x00000000u, 0x6C366F58u, 0xD86CDEB0u, 0xB45AB1E8u, 0xB535CB91u, 0xD903A4C9u, 0x6D591521u,
         0x016F7A79u, 0x6F87E1D3u, 0x03B18E8Bu, 0xB7EB3F63u, 0xDBDD503Bu, 0xDAB22A42u, 0xB684451Au,
         0x02DEF4F2u, 0x6EE89BAAu},
        {0x00000000u, 0xDF0FC3A6u, 0xBBF3F1BDu, 0x64FC321Bu, 0x720B958Bu, 0xAD04562Du, 0xC9F86436u,
         0x16F7A790u, 0xE4172B16u, 0x3B18E8B0u, 0x5FE4DAABu, 0x80EB190Du, 0x961CBE9Du, 0x49137D3Bu,
         0x2DEF4F20u, 0xF2E08C86u},
};

static inline uint32_t shift(uint32_t c, const uint32_t tab[8][16])
{
	return tab[0][c & 15] ^ tab[1][(c >> 4) & 15] ^ tab[2][(c >> 8) & 15] ^
	       tab[3][(c >> 12) & 15] ^ tab[4][(c >> 16) & 15] ^ tab[5][(c >> 20) & 15] ^
	       tab[6][(c >> 24) & 15] ^ tab[7][c >> 28];
}

/* 3L bytes as three streams (see above). Out of line, so that the short messages' path keeps
 * few registers to save. */
SHMF_HW __attribute__((noinline)) static shmf_crc_reg hw_three(shmf_crc_reg c, unsigned char *dst,
                                                               const unsigned char *src, size_t L,
                                                               const uint32_t tab[8][16],
                                                               enum shmf_pass m)
{
	shmf_crc_reg c1 = 0, c2 = 0;

	for (size_t i = 0; i < L; i += 8) {
		uint64_t a = shmf_crc_load8(src + i, m), b = shmf_crc_load8(src + L + i, m);
		uint64_t d = shmf_crc_load8(src + 2 * L + i, m);
		if (m == SHMF_PASS_COPY_IN || m == SHMF_PASS_COPY_OUT) {
			__builtin_memcpy(dst + i, &a, 8);
			__builtin_memcpy(dst + L + i, &b, 8);
			__builtin_memcpy(dst + 2 * L + i, &d, 8);
		}
		c = SHMF_HW64(c, SHMF_LE64(a));
		c1 = SHMF_HW64(c1, SHMF_LE64(b));
		c2 = SHMF_HW64(c2, SHMF_LE64(d));
	}
	c = shift((uint32_t)c, tab) ^ (uint32_t)c1;
	return shift((uint32_t)c, tab) ^ (uint32_t)c2;
}

/* The register over n bytes at src from state c, storing them to dst on the way for the copy
 * passes. A leading 32-bit step brings a 20-byte frame header at offset 4 of an aligned buffer to
 * one 32-bit and two 64-bit steps. */
SHMF_HW __attribute__((always_inline)) static inline shmf_crc_reg
hw_pass(shmf_crc_reg c, unsigned char *dst, const unsigned char *src, size_t n, enum shmf_pass m)
{
	/* GCOVR_EXCL_BR_START: this body is inlined once per mode m, and gcov counts each copy's
	 * branches apart; the tests run every mode (test_crc32c, both builds), but within one copy
	 * the tests of m and of dst never go the other way. Lines stay counted. */
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
	size_t i = 0; /* dst + i only in the copy passes: dst is NULL in the others */
	for (; n - i >= (size_t)3 * 1024; i += (size_t)3 * 1024)
		c = hw_three(c, dst != NULL ? dst + i : NULL, src + i, 1024, shift_1024, m);
	for (; n - i >= (size_t)3 * 256; i += (size_t)3 * 256)
		c = hw_three(c, dst != NULL ? dst + i : NULL, src + i, 256, shift_256, m);
	return shmf_crc_hw_short(c, dst != NULL ? dst + i : NULL, src + i, n - i, m);
	/* GCOVR_EXCL_BR_STOP */
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
