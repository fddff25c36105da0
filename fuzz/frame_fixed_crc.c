/* frame_fixed_crc.c - fuzz target: shmf_frame_decode on frames whose CRC the harness fixes up,
 * so that the fuzzer reaches R9 and the success path (PROTOCOL.md 4, 6.3).
 *
 * Input: one control byte, then the 20-byte prefix and the frame of frame_common.h.
 *   bit 0  force the type: bit 1 clear = MSG, set = PAD
 *   bit 2  clear the flags
 *   bit 3  fit the length to the frame (PAD: len - 24; MSG: round_down8(len) - 24 - k, where
 *          k = bits 5..7, so the frame is followed by k to k+7 spare bytes)
 *   bit 4  stamp the expected seq and position (R9 passes)
 * Then the harness always rewrites the crc field with the independent CRC over header bytes
 * 4..23 and, for MSG, the payload bytes the frame has (all of them when the length fits).
 * Oracle: frame_common.h.
 */
#include "frame_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_frame_params pr;
	const uint8_t *frame;
	uint8_t *copy;
	size_t len;
	unsigned ctl = size != 0 ? data[0] : 0;

	fz_frame_split(size != 0 ? data + 1 : data, size != 0 ? size - 1 : 0, &pr, &frame, &len);
	copy = malloc(len != 0 ? len : 1);
	if (copy == NULL)
		abort();
	if (len != 0)
		memcpy(copy, frame, len);
	if (len >= FZ_FRAME_HDR) {
		if (ctl & 1u)
			fz_st16(copy + 16, (ctl & 2u) ? FZ_TYPE_PAD : FZ_TYPE_MSG);
		if (ctl & 4u)
			fz_st16(copy + 18, 0);
		if (ctl & 8u) {
			size_t k = (ctl >> 5) & 7u;
			size_t body = (len & ~(size_t)7u) - FZ_FRAME_HDR;
			if (fz_ld16(copy + 16) == FZ_TYPE_PAD)
				fz_st32(copy + 4, (uint32_t)(len - FZ_FRAME_HDR));
			else if (body >= k && body - k <= UINT32_MAX)
				fz_st32(copy + 4, (uint32_t)(body - k));
		}
		if (ctl & 16u) {
			fz_st64(copy + 8, pr.seq);
			fz_st32(copy + 20, (uint32_t)(pr.pos & 0xFFFFFFFFu));
		}
		uint32_t crc = fz_crc32c(0, copy + 4, FZ_FRAME_HDR - 4u);
		if (fz_ld16(copy + 16) == FZ_TYPE_MSG) {
			size_t n = fz_ld32(copy + 4);
			if (n > len - FZ_FRAME_HDR)
				n = len - FZ_FRAME_HDR;
			crc = fz_crc32c(crc, copy + FZ_FRAME_HDR, n);
		}
		fz_st32(copy, crc);
	}
	fz_frame_run(copy, len, &pr);
	free(copy);
	return 0;
}
