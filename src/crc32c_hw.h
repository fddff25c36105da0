/* crc32c_hw.h - the CRC-32C instruction, for crc32c.c and for the ring's fast path.
 *
 * ring.c compiles its writer and reader a second time for the instruction (SHMF_HW) and inlines
 * the short fused copy below into them: at 64 B, a call into crc32c.c, its run-time CPU check and
 * a private header buffer cost more than the copy (issue #8). crc32c.c builds its long passes (the
 * three interleaved streams) around the same short loop, so there is one copy of it. The
 * functions are plain `static inline`, not always_inline: a function built for the instruction
 * may not be forced into one that is not (the portable instance's body names them too, behind a
 * test that is false there), and gcc and clang inline them at -O2 where the target matches.
 *
 * SHMF_CRC_HW is defined when this build has an instruction to use; whether the CPU has it is for
 * shmf_crc32c_hw_available() to say, at run time. Nothing here touches shared memory except
 * through load8()/load1() below, which are the single fetches of atomics.h's rules.
 */
#ifndef SHMF_CRC32C_HW_H
#define SHMF_CRC32C_HW_H

#include <stddef.h>
#include <stdint.h>

#include "atomics.h"

#if defined(SHMF_CRC32C_NO_HW)
/* The table alone, as on a CPU without the instruction: the test build shmframe_obj_nohw, so
 * that the fallbacks run (and are counted) here too. */
#elif defined(__x86_64__)
#include <nmmintrin.h>
#define SHMF_CRC_HW     1
/* The register is kept 64 bits wide, as the instruction has it, to spare a zero-extension per
 * step; only its low 32 bits are ever set. */
typedef uint64_t shmf_crc_reg;
#define SHMF_HW         __attribute__((target("sse4.2")))
#define SHMF_HW8(c, b)  _mm_crc32_u8((uint32_t)(c), (b))
#define SHMF_HW32(c, w) _mm_crc32_u32((uint32_t)(c), (w))
#define SHMF_HW64(c, w) _mm_crc32_u64((c), (w))
#elif defined(__aarch64__) && defined(__linux__)
#define SHMF_CRC_HW     1
typedef uint32_t shmf_crc_reg;
#define SHMF_HW         __attribute__((target("+crc")))
#define SHMF_HW8(c, b)  __builtin_aarch64_crc32cb((c), (b))
#define SHMF_HW32(c, w) __builtin_aarch64_crc32cw((c), (w))
#define SHMF_HW64(c, w) __builtin_aarch64_crc32cx((c), (w))
#endif

/* What a pass does with the bytes it checksums. */
enum shmf_pass {
	SHMF_PASS_CRC,      /* private bytes, checksum only (shmf_crc32c) */
	SHMF_PASS_COPY_IN,  /* private bytes, also stored into the ring (the writer) */
	SHMF_PASS_COPY_OUT, /* ring bytes, also stored into private memory (the reader) */
	SHMF_PASS_SHARED    /* ring bytes, checksum only (shmf_peek, the takeover repairs) */
};

#if defined(SHMF_CRC_HW)

/* crc32c.c runs three streams side by side from SHMF_CRC_SPLIT_MIN bytes where it can join them
 * by carry-less multiplication (x86-64), from 768 where it joins them by lookups. Payloads shorter
 * than SHMF_CRC_INLINE_MAX are copied and checksummed inline, one stream, by ring.c's fast path;
 * longer ones go to crc32c.c. One stream of 192 bytes takes 72 cycles of latency, three 24 and
 * their join about 15. */
#define SHMF_CRC_SPLIT_MIN  192u
#define SHMF_CRC_INLINE_MAX SHMF_CRC_SPLIT_MIN

/* One 8-byte load. From the ring (SHMF_PASS_COPY_OUT, SHMF_PASS_SHARED; src 8-byte aligned there)
 * it is a relaxed atomic load, which the compiler may neither repeat nor split: the value in the
 * register is both stored to the private copy and checksummed, so the CRC is that of the copy
 * (PROTO 6.1 rule 2) whatever the peer writes meanwhile, and each shared word is fetched once. */
static inline uint64_t shmf_crc_load8(const unsigned char *p, enum shmf_pass m)
{
	uint64_t w;

	if (m == SHMF_PASS_COPY_OUT || m == SHMF_PASS_SHARED)
		return __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_RELAXED);
	__builtin_memcpy(&w, p, 8);
	return w;
}

static inline uint8_t shmf_crc_load1(const unsigned char *p, enum shmf_pass m)
{
	return (m == SHMF_PASS_COPY_OUT || m == SHMF_PASS_SHARED)
	               ? __atomic_load_n(p, __ATOMIC_RELAXED)
	               : *p;
}

/* The register over n bytes at src from state c, storing them to dst on the way in the copy
 * passes (dst is unused, and may be NULL, in the others): 32 bytes a step, then 8, then 1. Any n
 * is right; it is fast for short runs only (one stream). */
SHMF_HW static inline shmf_crc_reg shmf_crc_hw_short(shmf_crc_reg c, unsigned char *dst,
                                                     const unsigned char *src, size_t n,
                                                     enum shmf_pass m)
{
	/* GCOVR_EXCL_BR_START: inlined once per mode m, and gcov counts each copy's branches
	 * apart; the tests run every mode (test_crc32c, test_ring), but within one copy the
	 * tests of m never go the other way. Lines stay counted. */
	int copy = m == SHMF_PASS_COPY_IN || m == SHMF_PASS_COPY_OUT;
	size_t n32 = n & ~(size_t)31, n8 = n & ~(size_t)7, i = 0;

	for (; i != n32; i += 32) {
		uint64_t w0 = shmf_crc_load8(src + i, m), w1 = shmf_crc_load8(src + i + 8, m);
		uint64_t w2 = shmf_crc_load8(src + i + 16, m), w3 = shmf_crc_load8(src + i + 24, m);
		if (copy) {
			__builtin_memcpy(dst + i, &w0, 8);
			__builtin_memcpy(dst + i + 8, &w1, 8);
			__builtin_memcpy(dst + i + 16, &w2, 8);
			__builtin_memcpy(dst + i + 24, &w3, 8);
		}
		c = SHMF_HW64(c, SHMF_LE64(w0));
		c = SHMF_HW64(c, SHMF_LE64(w1));
		c = SHMF_HW64(c, SHMF_LE64(w2));
		c = SHMF_HW64(c, SHMF_LE64(w3));
	}
	for (; i != n8; i += 8) {
		uint64_t w = shmf_crc_load8(src + i, m);
		if (copy)
			__builtin_memcpy(dst + i, &w, 8);
		c = SHMF_HW64(c, SHMF_LE64(w));
	}
	for (; i != n; i++) {
		uint8_t b = shmf_crc_load1(src + i, m);
		if (copy)
			dst[i] = b;
		c = SHMF_HW8(c, b);
	}
	return c;
	/* GCOVR_EXCL_BR_STOP */
}

/* A frame header's share of its CRC (PROTO 4: bytes 0x04..0x17), from the header's three
 * little-endian words as loaded or about to be stored: length, then seq, then type..pos. */
SHMF_HW static inline shmf_crc_reg shmf_crc_hw_header(shmf_crc_reg c, uint64_t w0, uint64_t w1,
                                                      uint64_t w2)
{
	c = SHMF_HW32(c, (uint32_t)(w0 >> 32));
	c = SHMF_HW64(c, w1);
	return SHMF_HW64(c, w2);
}

#endif /* SHMF_CRC_HW */
#endif
