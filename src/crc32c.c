/* crc32c.c - CRC-32C (Castagnoli), PROTO 3.
 *
 * Two implementations compute the same function: a portable slicing-by-8 table, and the
 * hardware instruction (SSE4.2 crc32 on x86-64, the CRC32C instructions on ARMv8), chosen at
 * run time on each call, so there is no global state to initialise. tests/test_crc32c.c holds
 * both to the same vectors and to each other.
 */
#include "internal.h"

#include "crc32c_table.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#define SHMF_HW_X86 1
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#define SHMF_HW_ARM 1
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

#if defined(SHMF_HW_X86)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = ~crc;

	while (len && ((uintptr_t)p & 7u)) {
		c = _mm_crc32_u8((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		uint64_t w;
		__builtin_memcpy(&w, p, 8);
		c = _mm_crc32_u64(c, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

int shmf_crc32c_hw_available(void)
{
	return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}
#elif defined(SHMF_HW_ARM)
__attribute__((target("+crc"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint32_t c = ~crc;

	while (len >= 8) {
		uint64_t w;
		__builtin_memcpy(&w, p, 8);
		c = __builtin_aarch64_crc32cx(c, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_aarch64_crc32cb(c, *p++);
	return ~c;
}

int shmf_crc32c_hw_available(void)
{
	return (getauxval(AT_HWCAP) & HWCAP_CRC32) ? 1 : 0;
}
#else
int shmf_crc32c_hw_available(void)
{
	return 0;
}
#endif

/* Falls back to the table where the instruction is missing, so callers may use it anywhere. */
uint32_t shmf_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
#if defined(SHMF_HW_X86) || defined(SHMF_HW_ARM)
	if (shmf_crc32c_hw_available())
		return crc_hw(crc, buf, len);
#endif
	return shmf_crc32c_sw(crc, buf, len);
}

uint32_t shmf_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return shmf_crc32c_hw(crc, buf, len);
}
