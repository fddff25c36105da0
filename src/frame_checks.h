/* frame_checks.h - the frame header codec and the per-frame checks R4-R6 and R9 (PROTO 4, 6.3),
 * inline, for the two places that run them: frame.c (the pure codec a fuzzer drives alone, whose
 * functions are these) and the ring reader's fast path in ring.c (issue #8: a call per check
 * cost more than the check). One implementation of each rule; frame.c's functions wrap these.
 *
 * Pure: private buffers only, nothing past raw + 24, no allocation, no system call.
 */
#ifndef SHMF_FRAME_CHECKS_H
#define SHMF_FRAME_CHECKS_H

#include <stdint.h>

#include "bytes.h"
#include "internal.h"
#include "layout.h"

/* A header from its three little-endian 64-bit words, as loaded (PROTO 4): crc | length << 32,
 * seq, type | flags << 16 | pos << 32. */
static inline void shmf_frame_hdr_from_words(uint64_t w0, uint64_t w1, uint64_t w2,
                                             shmf_frame_hdr *h)
{
	h->crc = (uint32_t)w0;
	h->length = (uint32_t)(w0 >> 32);
	h->seq = w1;
	h->type = (uint16_t)w2;
	h->flags = (uint16_t)(w2 >> 16);
	h->pos = (uint32_t)(w2 >> 32);
}

static inline void shmf_frame_hdr_decode_inl(const uint8_t raw[SHMF_FRAME_HEADER],
                                             shmf_frame_hdr *h)
{
	shmf_frame_hdr_from_words(shmf_ld64(raw + SHMF_F_CRC), shmf_ld64(raw + SHMF_F_SEQ),
	                          shmf_ld64(raw + SHMF_F_TYPE), h);
}

/* R4, R5 */
static inline int shmf_frame_check_type_inl(const shmf_frame_hdr *h)
{
	if (h->type != SHMF_TYPE_MSG && h->type != SHMF_TYPE_PAD)
		return SHMF_ETYPE; /* R4 */
	if (h->flags != 0)
		return SHMF_EFLAGS; /* R5 */
	return 0;
}

/* R6 for a MSG frame of `length` payload bytes (see below). */
static inline int shmf_frame_check_msg_length_inl(uint32_t length, uint64_t tail, uint64_t avail,
                                                  uint32_t max_message)
{
	uint64_t size = shmf_frame_size(length);

	if (length > max_message || size > tail || size > avail)
		return SHMF_ELENGTH;
	return 0;
}

/* R6. tail: bytes from the frame to the end of the data area; avail: published bytes from the
 * frame on. Both are at most the capacity (2^30), and length < 2^32, so no sum overflows. */
static inline int shmf_frame_check_length_inl(const shmf_frame_hdr *h, uint64_t tail,
                                              uint64_t avail, uint32_t max_message)
{
	if (h->type == SHMF_TYPE_PAD) {
		/* A writer pads only a tail too short for the frame it is about to write, so an
		 * honest PAD is shorter than the largest frame. This also bounds the reader: a PAD
		 * is never at the start of a lap, so one call consumes at most one (PROTO 6.3 R6).
		 */
		if ((uint64_t)SHMF_FRAME_HEADER + h->length != tail || tail > avail ||
		    tail >= shmf_frame_size(max_message))
			return SHMF_ELENGTH;
		return 0;
	}
	return shmf_frame_check_msg_length_inl(h->length, tail, avail, max_message);
}

/* R9. The position stamp tells a frame from an older one at the same offset: k laps earlier its
 * stamp differs by k * capacity mod 2^32, which is not 0 for k < 4 since capacity <= 2^30. So a
 * stale frame is caught even where its sequence number alone would not tell (PROTO 7 repairs). */
static inline int shmf_frame_check_seq_inl(const shmf_frame_hdr *h, uint64_t expect_seq,
                                           uint64_t pos)
{
	return (h->seq == expect_seq && h->pos == (uint32_t)pos) ? 0 : SHMF_ESEQ;
}

#endif
