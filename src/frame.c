/* frame.c - the SHMF/1 frame codec (PROTO 4) and the per-frame checks R3..R9 (PROTO 6.3).
 *
 * Pure: these functions read only the private buffers they are given, never past buf + len,
 * allocate nothing and make no system call, so fuzz/frame.c can drive them alone. The ring
 * reader (ring.c) runs the same checks, in the same order, on the copies it takes from shared
 * memory: both use the inline implementations in frame_checks.h.
 */
#include "internal.h"

#include "bytes.h"
#include "frame_checks.h"

void shmf_frame_hdr_decode(const uint8_t raw[SHMF_FRAME_HEADER], shmf_frame_hdr *h)
{
	shmf_frame_hdr_decode_inl(raw, h);
}

/* The CRC covers header bytes 0x04..0x17, then the payload (PROTO 4). The payload's own CRC is
 * passed in so that a writer can fold it into its copy loop and a reader into its copy-out. */
uint32_t shmf_frame_crc(const uint8_t raw[SHMF_FRAME_HEADER], const void *payload, size_t len)
{
	uint32_t crc = shmf_crc32c(0, raw + SHMF_F_LENGTH, SHMF_FRAME_HEADER - SHMF_F_LENGTH);
	return len ? shmf_crc32c(crc, payload, len) : crc;
}

void shmf_frame_hdr_encode(uint8_t raw[SHMF_FRAME_HEADER], uint16_t type, uint32_t length,
                           uint64_t seq, uint64_t pos, const void *payload)
{
	shmf_st32(raw + SHMF_F_CRC, 0);
	shmf_st32(raw + SHMF_F_LENGTH, length);
	shmf_st64(raw + SHMF_F_SEQ, seq);
	shmf_st16(raw + SHMF_F_TYPE, type);
	shmf_st16(raw + SHMF_F_FLAGS, 0);
	shmf_st32(raw + SHMF_F_POS, (uint32_t)pos);
	shmf_st32(raw + SHMF_F_CRC,
	          shmf_frame_crc(raw, payload, type == SHMF_TYPE_MSG ? length : 0));
}

int shmf_frame_check_type(const shmf_frame_hdr *h)
{
	return shmf_frame_check_type_inl(h);
}

int shmf_frame_check_length(const shmf_frame_hdr *h, uint64_t tail, uint64_t avail,
                            uint32_t max_message)
{
	return shmf_frame_check_length_inl(h, tail, avail, max_message);
}

/* R8, on private copies only. */
int shmf_frame_check_crc(const shmf_frame_hdr *h, const uint8_t raw[SHMF_FRAME_HEADER],
                         const void *payload)
{
	size_t len = h->type == SHMF_TYPE_MSG ? h->length : 0;
	return shmf_frame_crc(raw, payload, len) == h->crc ? 0 : SHMF_ECRC;
}

int shmf_frame_check_seq(const shmf_frame_hdr *h, uint64_t expect_seq, uint64_t pos)
{
	return shmf_frame_check_seq_inl(h, expect_seq, pos);
}

int shmf_frame_decode(const uint8_t *buf, size_t len, uint32_t max_message, uint64_t expect_seq,
                      uint64_t pos, shmf_frame_hdr *h, const uint8_t **payload)
{
	int rc;

	if (buf == NULL || h == NULL || payload == NULL)
		return SHMF_EINVAL;
	if (len < SHMF_FRAME_HEADER)
		return SHMF_EPOS; /* R3 */
	shmf_frame_hdr_decode(buf, h);
	if ((rc = shmf_frame_check_type(h)) != 0)
		return rc;
	if ((rc = shmf_frame_check_length(h, len, len, max_message)) != 0)
		return rc;
	if ((rc = shmf_frame_check_crc(h, buf, buf + SHMF_FRAME_HEADER)) != 0)
		return rc;
	if ((rc = shmf_frame_check_seq(h, expect_seq, pos)) != 0)
		return rc;
	*payload = buf + SHMF_FRAME_HEADER;
	return 0;
}
