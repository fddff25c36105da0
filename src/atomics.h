/* atomics.h - the one home of memory ordering, and of every access to shared memory.
 *
 * Nothing else in shmframe names a memory order or dereferences a pointer into the segment.
 * Every load from the segment goes through a shmf_sh_* helper, so that:
 *   - each shared field is read exactly once per call site, into a local (PROTO 6.1);
 *   - byte order is little-endian on every host (PROTO 1);
 *   - a fuzz build (SHMF_FUZZ_HOSTILE_LOADS) can make every load return attacker bytes, which is
 *     how fuzz/hostile_memory.c catches double fetches.
 * Word accesses are C11 atomics on naturally aligned words, so a concurrent write by the peer is
 * never a torn read and never undefined behaviour. Bulk copies (frame bodies) use memcpy: the
 * honest protocol never writes a byte the other side is copying (PROTO 5.2), and a hostile peer
 * that does so only corrupts bytes we verify afterwards.
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

/* Copy `n` bytes out of the segment into private memory. The caller verifies the copy, never the
 * source. */
static inline void shmf_sh_copy_out(void *dst, const unsigned char *src, size_t n)
{
#ifdef SHMF_FUZZ_HOSTILE_LOADS
	(void)src;
	shmf_fuzz_hostile_fill(dst, n);
#else
	if (n != 0)
		memcpy(dst, src, n);
#endif
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

/* The full fence of the futex protocol (PROTO 8, steps W2 and S2). */
static inline void shmf_fence_seq_cst(void)
{
	atomic_thread_fence(memory_order_seq_cst);
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
