/* oracle.h - independent re-implementations that the fuzz targets hold the library to.
 *
 * Written from docs/PROTOCOL.md, not from src/: nothing here includes internal.h, bytes.h or
 * layout.h, and the CRC is the bitwise definition of PROTOCOL.md section 3, not the library's
 * tables or instructions. Only the error numbers come from the public header (their values are
 * part of the ABI, PROTOCOL.md section 10).
 *
 *   fz_crc32c          CRC-32C, bitwise, chainable like the library's (PROTO 3)
 *   fz_ld* / fz_st*    little-endian access to private byte buffers (PROTO 1)
 *   fz_frame_*         the per-frame checks R3..R9 (PROTO 4, 6.3)
 *   fz_name_valid      segment names (PROTO 9.4)
 */
#ifndef SHMF_FUZZ_ORACLE_H
#define SHMF_FUZZ_ORACLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shmframe.h"

/* ---- PROTO 1: little-endian fields ---------------------------------------------------------- */

static inline uint16_t fz_ld16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] | (unsigned)p[1] << 8);
}

static inline uint32_t fz_ld32(const uint8_t *p)
{
	return (uint32_t)fz_ld16(p) | (uint32_t)fz_ld16(p + 2) << 16;
}

static inline uint64_t fz_ld64(const uint8_t *p)
{
	return (uint64_t)fz_ld32(p) | (uint64_t)fz_ld32(p + 4) << 32;
}

static inline void fz_st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xFFu);
	p[1] = (uint8_t)(v >> 8);
}

static inline void fz_st32(uint8_t *p, uint32_t v)
{
	fz_st16(p, (uint16_t)(v & 0xFFFFu));
	fz_st16(p + 2, (uint16_t)(v >> 16));
}

static inline void fz_st64(uint8_t *p, uint64_t v)
{
	fz_st32(p, (uint32_t)(v & 0xFFFFFFFFu));
	fz_st32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t fz_align8(uint64_t x)
{
	return (x + 7u) & ~(uint64_t)7u;
}

/* ---- PROTO 3: CRC-32C, one bit at a time ---------------------------------------------------- */

/* `prev` is the CRC of the bytes before buf (0 for none): fz_crc32c(fz_crc32c(0, a), b) is the
 * CRC of a then b. Reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF. */
static inline uint32_t fz_crc32c(uint32_t prev, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~prev;

	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
	}
	return ~c;
}

/* The vectors of PROTO 3 and the fingerprint of PROTO 2.1: 1 when the oracle itself is right. */
static inline int fz_crc32c_selftest(void)
{
	static const char fp[] =
	        "SHMF/1 header=128 role=64 ringctl=256 ctlarea=4096 frame=24 align=8";
	uint8_t b[32];
	int ok = fz_crc32c(0, "123456789", 9) == 0xE3069283u;

	ok = ok && fz_crc32c(fz_crc32c(0, "1234", 4), "56789", 5) == 0xE3069283u;
	memset(b, 0, sizeof b);
	ok = ok && fz_crc32c(0, b, sizeof b) == 0x8A9136AAu;
	memset(b, 0xFF, sizeof b);
	ok = ok && fz_crc32c(0, b, sizeof b) == 0x62A8AB43u;
	for (unsigned i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	ok = ok && fz_crc32c(0, b, sizeof b) == 0x46DD794Eu;
	for (unsigned i = 0; i < 32; i++)
		b[i] = (uint8_t)(31u - i);
	ok = ok && fz_crc32c(0, b, sizeof b) == 0x113FDB5Cu;
	ok = ok && fz_crc32c(0, fp, sizeof fp - 1) == 0x9D825D65u;
	return ok;
}

/* ---- PROTO 4 and 6.3: frames ---------------------------------------------------------------- */

#define FZ_FRAME_HDR 24u
#define FZ_TYPE_MSG  1u
#define FZ_TYPE_PAD  2u

typedef struct fz_hdr {
	uint32_t crc;
	uint32_t length;
	uint64_t seq;
	uint16_t type;
	uint16_t flags;
	uint32_t pos;
} fz_hdr;

static inline void fz_hdr_read(const uint8_t raw[FZ_FRAME_HDR], fz_hdr *h)
{
	h->crc = fz_ld32(raw);
	h->length = fz_ld32(raw + 4);
	h->seq = fz_ld64(raw + 8);
	h->type = fz_ld16(raw + 16);
	h->flags = fz_ld16(raw + 18);
	h->pos = fz_ld32(raw + 20);
}

/* The frame CRC: header bytes 0x04..0x17, then the payload for MSG only (PROTO 4). */
static inline uint32_t fz_frame_crc(const uint8_t raw[FZ_FRAME_HDR], const uint8_t *payload)
{
	uint32_t crc = fz_crc32c(0, raw + 4, FZ_FRAME_HDR - 4u);
	if (fz_ld16(raw + 16) == FZ_TYPE_MSG)
		crc = fz_crc32c(crc, payload, fz_ld32(raw + 4));
	return crc;
}

/* R4, R5, R6 for a frame with `tail` bytes to the end of the data area and `avail` published
 * bytes from the frame on. */
static inline int fz_frame_check_hdr(const fz_hdr *h, uint64_t tail, uint64_t avail,
                                     uint32_t max_message)
{
	if (h->type != FZ_TYPE_MSG && h->type != FZ_TYPE_PAD)
		return SHMF_ETYPE; /* R4 */
	if (h->flags != 0)
		return SHMF_EFLAGS; /* R5 */
	if (h->type == FZ_TYPE_PAD) {
		if (FZ_FRAME_HDR + (uint64_t)h->length != tail || tail > avail ||
		    tail >= fz_align8(FZ_FRAME_HDR + (uint64_t)max_message))
			return SHMF_ELENGTH; /* R6, PAD */
		return 0;
	}
	uint64_t size = fz_align8(FZ_FRAME_HDR + (uint64_t)h->length);
	if (h->length > max_message || size > tail || size > avail)
		return SHMF_ELENGTH; /* R6, MSG */
	return 0;
}

/* R8 and R9, once R4..R6 passed (so the payload lies within the buffer). */
static inline int fz_frame_check_body(const uint8_t raw[FZ_FRAME_HDR], const fz_hdr *h,
                                      uint64_t expect_seq, uint64_t pos)
{
	if (fz_frame_crc(raw, raw + FZ_FRAME_HDR) != h->crc)
		return SHMF_ECRC; /* R8 */
	if (h->seq != expect_seq || h->pos != (uint32_t)(pos & 0xFFFFFFFFu))
		return SHMF_ESEQ; /* R9 */
	return 0;
}

/* R3..R9 on a frame at the start of `len` bytes that are both the room to the end of the data
 * area and the published bytes: the contract of shmf_frame_decode(). */
static inline int fz_frame_decode(const uint8_t *buf, size_t len, uint32_t max_message,
                                  uint64_t expect_seq, uint64_t pos, fz_hdr *h)
{
	int rc;

	if (len < FZ_FRAME_HDR)
		return SHMF_EPOS; /* R3 */
	fz_hdr_read(buf, h);
	if ((rc = fz_frame_check_hdr(h, len, len, max_message)) != 0)
		return rc;
	return fz_frame_check_body(buf, h, expect_seq, pos);
}

/* ---- PROTO 9.4: names ----------------------------------------------------------------------- */

/* "/" then 1 to 254 bytes in 0x21..0x7E other than '/'; "/." and "/.." refused. */
static inline int fz_name_valid(const char *name)
{
	size_t n = 0;

	if (name[0] != '/')
		return 0;
	for (const char *p = name + 1; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x21 || c > 0x7E || c == '/')
			return 0;
		if (++n > 254)
			return 0;
	}
	if (n == 0)
		return 0;
	if (strcmp(name, "/.") == 0 || strcmp(name, "/..") == 0)
		return 0;
	return 1;
}

#endif
