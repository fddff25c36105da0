/* bytes.h - little-endian loads and stores on PRIVATE byte buffers.
 *
 * These never touch the segment: shared memory is read only through src/atomics.h. They exist so
 * that no code casts a byte pointer to a wider type (Monocypher's load32_le, BearSSL's
 * br_dec32le): alignment and byte order are handled here, once.
 */
#ifndef SHMF_BYTES_H
#define SHMF_BYTES_H

#include <stdint.h>

static inline uint16_t shmf_ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static inline uint32_t shmf_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t shmf_ld64(const uint8_t *p)
{
	return (uint64_t)shmf_ld32(p) | (uint64_t)shmf_ld32(p + 4) << 32;
}

static inline void shmf_st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void shmf_st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void shmf_st64(uint8_t *p, uint64_t v)
{
	shmf_st32(p, (uint32_t)v);
	shmf_st32(p + 4, (uint32_t)(v >> 32));
}

#endif
