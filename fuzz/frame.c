/* frame.c - fuzz target: shmf_frame_decode on raw bytes (PROTOCOL.md 4, 6.3 R3..R9).
 * Input format and oracle: frame_common.h. Most inputs die at the CRC (R8); frame_fixed_crc.c
 * is the same target with the checksum fixed up.
 */
#include "frame_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_frame_params pr;
	const uint8_t *frame;
	size_t len;

	fz_frame_split(data, size, &pr, &frame, &len);
	fz_frame_run(frame, len, &pr);
	return 0;
}
