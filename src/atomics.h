/* atomics.h - the one home of memory ordering, and of every access to shared memory.
 *
 * Nothing else in shmframe names a memory order for the segment or dereferences a pointer into it,
 * with one exception: the payload words of the fused copy-and-CRC (src/crc32c_hw.h, inlined into
 * ring.c's fast path), relaxed atomic word loads, each fetched once; a fuzz build sends those
 * through shmf_sh_copy_out_crc() below instead. Every other load goes through a shmf_sh_*
 * helper, so that:
 *   - each shared field is read exactly once per call site, into a local (PROTO 6.1);
 *   - byte order is little-endian on every host (PROTO 1);
 *   - a fuzz build (SHMF_FUZZ_HOSTILE_LOADS) can make every load return attacker bytes, which is
 *     how fuzz/hostile_memory.c catches double fetches.
 * Word accesses are C11 atomics on naturally aligned words, so a concurrent write by the peer is
 * never a torn read and never undefined behaviour. The writer's payload copy into the ring and
 * the 24- and 124-byte header copies use memcpy: the honest protocol never writes a byte the other
 * side is copying (PROTO 5.2), and a hostile peer that does so only corrupts bytes we verify
 * afterwards.
 *
 * The pairs (PROTO 8.1): each release store below is named at its call site together with the
 * acquire load it pairs with.
 */
#ifndef SHMF_ATOMICS_H
#define SHMF_ATOMICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SHMF_LE32(x) __builtin_bswap32(x)
#define SHMF_LE64(x) __builtin_bswap64(x)
#else
#define SHMF_LE32(x) (x)
#define SHMF_LE64(x) (x)
#endif

#ifdef SHMF_FUZZ_HOSTILE_LOADS
/* Provided by the hostile_memory fuzz harness: fill `dst` with the next `n` attacker bytes. */
void shmf_fuzz_hostile_fill(void *dst, size_t n);
#endif

static inline _Atomic uint64_t *shmf_a64(unsigned char *p)
{
	return (_Atomic uint64_t *)(void *)p;
}
static inline _Atomic uint32_t *shmf_a32(unsigned char *p)
{
	return (_Atomic uint32_t *)(void *)p;
}

/* ---- loads --------------------------------------------------------------------------------- */

static inline uint64_t shmf_sh_load_acquire64(unsigned char *p)
{
#ifdef SHMF_FUZZ_HOSTILE_LOADS
	uint64_t v;
	(void)p;
	shmf_fuzz_hostile_fill(&v, sizeof v);
	return v;
#else
	return SHMF_LE64(atomic_load_explicit(shmf_a64(p), memory_order_acquire));
#endif
}

static inline uint64_t shmf_sh_load_relaxed64(unsigned char *p)
{
#ifdef SHMF_FUZZ_HOSTILE_LOADS
	uint64_t v;
	(void)p;
	shmf_fuzz_hostile_fill(&v, sizeof v);
	return v;
#else
	return SHMF_LE64(atomic_load_explicit(shmf_a64(p), memory_order_relaxed));
#endif
}

static inline uint32_t shmf_sh_load_acquire32(unsigned char *p)
{
#ifdef SHMF_FUZZ_HOSTILE_LOADS
	uint32_t v;
	(void)p;
	shmf_fuzz_hostile_fill(&v, sizeof v);
	return v;
#else
	return SHMF_LE32(atomic_load_explicit(shmf_a32(p), memory_order_acquire));
#endif
}

static inline uint32_t shmf_sh_load_relaxed32(unsigned char *p)
{
#ifdef SHMF_FUZZ_HOSTILE_LOADS
	uint32_t v;
	(void)p;
	shmf_fuzz_hostile_fill(&v, sizeof v);
	return v;
#else
	return SHMF_LE32(atomic_load_explicit(shmf_a32(p), memory_order_relaxed));
#endif
}

/* Copy `n` bytes (n > 0) out of the segment into private memory. The caller verifies the copy,
 * never the source. */
static inline void shmf_sh_copy_out(void *dst, const unsigned char *src, size_t n)
{
#ifdef SHMF_FUZZ_HOSTILE_LOADS
	(void)src;
	shmf_fuzz_hostile_fill(dst, n);
#else
	memcpy(dst, src, n);
#endif
}

/* A frame header (24 bytes, 8-byte aligned) as its three little-endian words, each fetched once:
 * crc | length << 32, seq, type | flags << 16 | pos << 32 (PROTO 4). */
static inline void shmf_sh_load_frame_header(unsigned char *p, uint64_t *w0, uint64_t *w1,
                                             uint64_t *w2)
{
#ifdef SHMF_FUZZ_HOSTILE_LOADS
	uint64_t w[3];
	(void)p;
	shmf_fuzz_hostile_fill(w, sizeof w); /* one load of 24 bytes, as the harness expects */
	*w0 = SHMF_LE64(w[0]);
	*w1 = SHMF_LE64(w[1]);
	*w2 = SHMF_LE64(w[2]);
#else
	_Atomic uint64_t *a = shmf_a64(p);
	*w0 = SHMF_LE64(atomic_load_explicit(a, memory_order_relaxed));
	*w1 = SHMF_LE64(atomic_load_explicit(a + 1, memory_order_relaxed));
	*w2 = SHMF_LE64(atomic_load_explicit(a + 2, memory_order_relaxed));
#endif
}

/* Defined in crc32c.c, where the CRC instruction is: the fused copies below. */
uint32_t shmf_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t shmf_crc32c_copy_out(uint32_t crc, const uint8_t *hdr, void *dst, const unsigned char *src,
                              size_t n);
uint32_t shmf_crc32c_copy_in(uint32_t crc, const uint8_t *hdr, unsigned char *dst, const void *src,
                             size_t n);

/* Copy `n` bytes out of the segment into private memory and return the CRC-32C, chained from crc,
 * of the private header bytes hdr[4..24) (when hdr is not NULL: a frame's CRC, PROTO 4) and then
 * of the copy: PROTO 6.1 rule 2 in one pass. Every word of src is fetched once, and the value
 * fetched is both stored to dst and checksummed, so the CRC is that of the private copy whatever
 * the peer writes meanwhile. src must be 8-byte aligned (a frame payload is). With dst NULL,
 * only the CRC of the shared bytes, each fetched once (shmf_peek's check in place). */
static inline uint32_t shmf_sh_copy_out_crc(uint32_t crc, const uint8_t *hdr, void *dst,
                                            const unsigned char *src, size_t n)
{
#ifdef SHMF_FUZZ_HOSTILE_LOADS
	uint8_t chunk[256];
	(void)src;
	if (hdr != NULL)
		crc = shmf_crc32c(crc, hdr + 4, 20);
	while (n != 0) {
		size_t k = dst != NULL ? n : (n < sizeof chunk ? n : sizeof chunk);
		shmf_fuzz_hostile_fill(dst != NULL ? dst : chunk, k);
		crc = shmf_crc32c(crc, dst != NULL ? dst : chunk, k);
		n -= k;
	}
	return crc;
#else
	return shmf_crc32c_copy_out(crc, hdr, dst, src, n);
#endif
}

/* The CRC of bytes this side wrote into its own ring (the zero-copy commit checksums the payload
 * where it sits): chained from crc over hdr[4..24) (when not NULL) and those bytes. Not a load of
 * anything the peer wrote, so a fuzz build does not make it hostile. */
static inline uint32_t shmf_sh_own_crc(uint32_t crc, const uint8_t *hdr, const unsigned char *src,
                                       size_t n)
{
	return shmf_crc32c_copy_out(crc, hdr, NULL, src, n);
}

/* ---- stores -------------------------------------------------------------------------------- */

static inline void shmf_sh_store_release64(unsigned char *p, uint64_t v)
{
	atomic_store_explicit(shmf_a64(p), SHMF_LE64(v), memory_order_release);
}

static inline void shmf_sh_store_relaxed64(unsigned char *p, uint64_t v)
{
	atomic_store_explicit(shmf_a64(p), SHMF_LE64(v), memory_order_relaxed);
}

static inline void shmf_sh_store_release32(unsigned char *p, uint32_t v)
{
	atomic_store_explicit(shmf_a32(p), SHMF_LE32(v), memory_order_release);
}

static inline void shmf_sh_store_relaxed32(unsigned char *p, uint32_t v)
{
	atomic_store_explicit(shmf_a32(p), SHMF_LE32(v), memory_order_relaxed);
}

/* Copy private bytes into the segment (frame bodies, the header before it is published). */
static inline void shmf_sh_copy_in(unsigned char *dst, const void *src, size_t n)
{
	if (n != 0)
		memcpy(dst, src, n);
}

/* Copy private bytes into the segment and return the CRC-32C, chained from crc, of hdr[4..24)
 * (when not NULL) and then of those bytes: the writer's payload copy and checksum in one pass. */
static inline uint32_t shmf_sh_copy_in_crc(uint32_t crc, const uint8_t *hdr, unsigned char *dst,
                                           const void *src, size_t n)
{
	return shmf_crc32c_copy_in(crc, hdr, dst, src, n);
}

/* The full fence of the futex protocol (PROTO 8, steps W2 and S2), and the one between a lock
 * test and the second look at the peer's role line (PROTO 7). */
static inline void shmf_fence_seq_cst(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

/* A compiler barrier against this thread's own signal handler (the SIGBUS guard's flag). */
static inline void shmf_signal_fence(void)
{
	atomic_signal_fence(memory_order_seq_cst);
}

static inline void shmf_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

#endif
