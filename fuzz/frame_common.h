/* frame_common.h - the body of the frame targets (frame.c, frame_fixed_crc.c): run
 * shmf_frame_decode on an exact-size heap copy of a frame and hold it to the independent model of
 * oracle.h.
 *
 * Input of both targets: a 20-byte prefix, then the frame.
 *   0x00 u32 max_message    0x04 u64 expected seq    0x0C u64 ring position of the frame
 * A shorter input is zero-extended to 20 bytes and the frame is empty.
 *
 * Oracle: the library's return code equals the model's (R3..R9 in PROTOCOL.md 6.3 order, with
 * tail = avail = the frame's length); on success the payload pointer is buf + 24, the decoded
 * header equals the model's, the independent bitwise CRC-32C over header bytes 4..23 (+ the
 * payload for MSG) equals the crc field, the frame fits the buffer, and the library's encoder
 * re-creates the same 24 header bytes.
 */
#ifndef SHMF_FUZZ_FRAME_COMMON_H
#define SHMF_FUZZ_FRAME_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "oracle.h"
#include "internal.h"

#define FZ_FRAME_PREFIX 20u

typedef struct fz_frame_params {
	uint32_t max_message;
	uint64_t seq;
	uint64_t pos;
} fz_frame_params;

/* Split an input into parameters and the frame's bytes. */
static inline void fz_frame_split(const uint8_t *data, size_t size, fz_frame_params *pr,
                                  const uint8_t **frame, size_t *len)
{
	uint8_t pre[FZ_FRAME_PREFIX];

	memset(pre, 0, sizeof pre);
	memcpy(pre, data, size < sizeof pre ? size : sizeof pre);
	pr->max_message = fz_ld32(pre);
	pr->seq = fz_ld64(pre + 4);
	pr->pos = fz_ld64(pre + 12);
	*frame = data + (size < sizeof pre ? size : sizeof pre);
	*len = size < sizeof pre ? 0 : size - sizeof pre;
}

static inline void fz_frame_run(const uint8_t *frame, size_t len, const fz_frame_params *pr)
{
	static int checked;
	/* exact size, so that ASan sees a read one byte past the frame */
	uint8_t *buf = malloc(len != 0 ? len : 1);
	const uint8_t *payload = NULL;
	shmf_frame_hdr h;
	fz_hdr m = {0};
	int rc, want;

	if (buf == NULL)
		abort();
	if (!checked) {
		FZ_CHECK(fz_crc32c_selftest(), "the oracle's CRC-32C fails PROTOCOL.md 3");
		FZ_CHECK(shmf_frame_decode(NULL, 0, 0, 0, 0, &h, &payload) == SHMF_EINVAL, "NULL");
		checked = 1;
	}
	if (len != 0)
		memcpy(buf, frame, len);
	rc = shmf_frame_decode(buf, len, pr->max_message, pr->seq, pr->pos, &h, &payload);
	want = fz_frame_decode(buf, len, pr->max_message, pr->seq, pr->pos, &m);
	if (getenv("SHMF_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "  decode of %zu bytes: %d\n", len, rc);
	FZ_CHECK(rc == want, "library %d, model %d (len %zu, max_message %u)", rc, want, len,
	         (unsigned)pr->max_message);
	if (rc == 0) {
		uint8_t raw[SHMF_FRAME_HEADER];
		FZ_CHECK(payload == buf + FZ_FRAME_HDR, "payload pointer");
		FZ_CHECK(h.crc == m.crc && h.length == m.length && h.seq == m.seq &&
		                 h.type == m.type && h.flags == m.flags && h.pos == m.pos,
		         "decoded header differs from the model's");
		FZ_CHECK(fz_frame_crc(buf, buf + FZ_FRAME_HDR) == h.crc, "crc field 0x%08x",
		         (unsigned)h.crc);
		if (h.type == FZ_TYPE_MSG)
			FZ_CHECK(h.length <= pr->max_message &&
			                 fz_align8(FZ_FRAME_HDR + (uint64_t)h.length) <= len,
			         "MSG length %u does not fit %zu", (unsigned)h.length, len);
		else
			FZ_CHECK(FZ_FRAME_HDR + (uint64_t)h.length == len, "PAD length %u in %zu",
			         (unsigned)h.length, len);
		shmf_frame_hdr_encode(raw, h.type, h.length, h.seq, pr->pos,
		                      h.type == FZ_TYPE_MSG ? payload : NULL);
		FZ_CHECK(memcmp(raw, buf, sizeof raw) == 0, "re-encoded header differs");
	}
	free(buf);
}

#endif
