/* test_frame.c - the pure frame codec (src/frame.c, PROTOCOL.md 4 and 6.3): round trips, one test
 * per reject, bounds. */
#include "testutil.h"

#define MAXM ((uint32_t)SHMF_DEFAULT_MAX_MESSAGE) /* max_message for the round trips */

/* The valid frame every reject test starts from: a MSG of 16 payload bytes with seq 5, 40 bytes
 * in all, decoded with max_message 64 from a buffer of exactly its size. */
#define BASE_LEN  16u
#define BASE_SEQ  5u
#define BASE_MAX  64u
/* The ring position the test frames claim to sit at (PROTOCOL.md 4, the pos stamp). */
#define FPOS      0x00000002ABCD0010ull
#define BASE_SIZE 40u

/* Write a MSG frame of `length` payload bytes (deterministic pattern) and its zero padding at buf;
 * return its size, align8(24 + length). */
static size_t make_msg(uint8_t *buf, uint32_t length, uint64_t seq)
{
	size_t size = (size_t)shmf_frame_size(length);

	tu_fill(buf + SHMF_FRAME_HEADER, length, 7, seq);
	memset(buf + SHMF_FRAME_HEADER + length, 0, size - SHMF_FRAME_HEADER - length);
	shmf_frame_hdr_encode(buf, SHMF_TYPE_MSG, length, seq, FPOS, buf + SHMF_FRAME_HEADER);
	return size;
}

/* Write a PAD frame of `length` body bytes (garbage, as the spec allows) at buf; return 24 +
 * length. */
static size_t make_pad(uint8_t *buf, uint32_t length, uint64_t seq)
{
	memset(buf + SHMF_FRAME_HEADER, 0xEE, length);
	shmf_frame_hdr_encode(buf, SHMF_TYPE_PAD, length, seq, FPOS, NULL);
	return SHMF_FRAME_HEADER + (size_t)length;
}

static size_t make_base(uint8_t *buf)
{
	size_t size = make_msg(buf, BASE_LEN, BASE_SEQ);
	ck_assert_uint_eq(size, BASE_SIZE);
	return size;
}

static int decode(const uint8_t *buf, size_t len, uint32_t max_message, uint64_t expect_seq)
{
	shmf_frame_hdr h;
	const uint8_t *payload = NULL;
	return shmf_frame_decode(buf, len, max_message, expect_seq, FPOS, &h, &payload);
}

static int decode_at(const uint8_t *buf, size_t len, uint32_t max_message, uint64_t expect_seq,
                     uint64_t pos)
{
	shmf_frame_hdr h;
	const uint8_t *payload = NULL;
	return shmf_frame_decode(buf, len, max_message, expect_seq, pos, &h, &payload);
}

static void flip_bit(uint8_t *buf, size_t off, unsigned bit)
{
	tu_set8(buf, off, (uint8_t)(buf[off] ^ (1u << bit)));
}

/* The frame CRC computed independently: bytes 0x04..0x17, then the payload, bit by bit. */
static uint32_t ref_frame_crc(const uint8_t *frame, const uint8_t *payload, size_t len)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < 20 + len; i++) {
		c ^= i < 20 ? frame[4 + i] : payload[i - 20];
		for (int k = 0; k < 8; k++)
			c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

/* ---- round trips --------------------------------------------------------------------------- */

START_TEST(test_msg_frames_of_lengths_0_1_7_8_9_and_max_round_trip)
{
	static const uint32_t lengths[] = {0, 1, 7, 8, 9, MAXM};
	static const size_t sizes[] = {24, 32, 32, 32, 40, 24 + (size_t)MAXM};

	for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
		uint32_t len = lengths[k];
		uint64_t seq = 0x0123456789ABCDEFull + k; /* uses all 64 bits */
		size_t size = (size_t)shmf_frame_size(len);
		uint8_t *buf = malloc(size); /* exactly the frame: ASan sees any overread */
		shmf_frame_hdr h;
		const uint8_t *payload = NULL;

		ck_assert_ptr_nonnull(buf);
		ck_assert_uint_eq(size, sizes[k]);
		ck_assert_uint_eq(make_msg(buf, len, seq), size);
		/* The bytes are where PROTOCOL.md 4 puts them. */
		ck_assert_uint_eq(tu_get32(buf, SHMF_F_LENGTH), len);
		ck_assert_uint_eq(tu_get64(buf, SHMF_F_SEQ), seq);
		ck_assert_uint_eq(shmf_ld16(buf + SHMF_F_TYPE), SHMF_TYPE_MSG);
		ck_assert_uint_eq(shmf_ld16(buf + SHMF_F_FLAGS), 0);
		ck_assert_uint_eq(tu_get32(buf, SHMF_F_POS), (uint32_t)FPOS);
		ck_assert_uint_eq(tu_get32(buf, SHMF_F_CRC), ref_frame_crc(buf, buf + 24, len));

		ck_assert_int_eq(shmf_frame_decode(buf, size, MAXM, seq, FPOS, &h, &payload), 0);
		ck_assert_ptr_eq(payload, buf + SHMF_FRAME_HEADER);
		ck_assert_uint_eq(h.type, SHMF_TYPE_MSG);
		ck_assert_uint_eq(h.length, len);
		ck_assert_uint_eq(h.seq, seq);
		ck_assert_uint_eq(h.flags, 0);
		ck_assert_uint_eq(h.pos, (uint32_t)FPOS);
		ck_assert_uint_eq(h.crc, tu_get32(buf, SHMF_F_CRC));
		ck_assert_msg(tu_check_fill(payload, len, 7, seq),
		              "payload of length %" PRIu32 " changed", len);
		free(buf);
	}
}
END_TEST

START_TEST(test_msg_frame_decodes_from_a_buffer_longer_than_the_frame)
{
	uint8_t buf[256];
	memset(buf, 0xAB, sizeof buf);
	make_base(buf);
	/* len stands for the room to the end of the data area: more room is fine. */
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ), 0);
}
END_TEST

START_TEST(test_msg_of_exactly_max_message_is_accepted)
{
	uint8_t buf[BASE_SIZE];
	make_base(buf);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_LEN, BASE_SEQ), 0);
}
END_TEST

START_TEST(test_pad_frames_round_trip_and_their_body_is_not_checked)
{
	static const uint32_t lengths[] = {0, 8, 16, 200, 4096 - 24};

	for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
		uint32_t len = lengths[k];
		size_t size = SHMF_FRAME_HEADER + (size_t)len;
		uint8_t *buf = malloc(size);
		shmf_frame_hdr h;
		const uint8_t *payload = NULL;

		ck_assert_ptr_nonnull(buf);
		ck_assert_uint_eq(make_pad(buf, len, 77 + k), size);
		ck_assert_uint_eq(shmf_ld16(buf + SHMF_F_TYPE), SHMF_TYPE_PAD);
		/* The CRC covers the header only (PROTOCOL.md 4). */
		ck_assert_uint_eq(tu_get32(buf, SHMF_F_CRC), ref_frame_crc(buf, NULL, 0));
		ck_assert_int_eq(shmf_frame_decode(buf, size, MAXM, 77 + k, FPOS, &h, &payload), 0);
		ck_assert_uint_eq(h.type, SHMF_TYPE_PAD);
		ck_assert_uint_eq(h.length, len);
		ck_assert_uint_eq(h.seq, 77 + k);
		if (len > 0) {
			tu_bump8(buf, SHMF_FRAME_HEADER + len - 1); /* the body is not covered */
			ck_assert_int_eq(decode(buf, size, MAXM, 77 + k), 0);
		}
		free(buf);
	}
}
END_TEST

/* R6: a PAD is shorter than the largest frame (a writer pads only a tail too short for one). */
START_TEST(test_pad_must_be_shorter_than_the_largest_frame)
{
	uint8_t buf[24 + 200];
	make_pad(buf, 200, 3);
	ck_assert_int_eq(decode(buf, sizeof buf, 201, 3), 0); /* 224 < align8(225) = 232 */
	ck_assert_int_eq(decode(buf, sizeof buf, 200, 3), SHMF_ELENGTH); /* 224 >= align8(224) */
	ck_assert_int_eq(decode(buf, sizeof buf, 64, 3), SHMF_ELENGTH);  /* 224 >= 88 */
	make_pad(buf, 40, 3);
	ck_assert_int_eq(decode(buf, 64, 41, 3), 0);            /* 64 < align8(24 + 41) = 72 */
	ck_assert_int_eq(decode(buf, 64, 40, 3), SHMF_ELENGTH); /* 64 >= align8(24 + 40) = 64 */
}
END_TEST

START_TEST(test_encoder_reproduces_the_spec_frame_vectors)
{
	/* PROTOCOL.md 11.1, byte for byte. */
	static const uint8_t hello[48] = {
	        0x0b, 0x04, 0x45, 0x50, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x66, 0x72, 0x6f, 0x6d, 0x20, 0x57,
	        0x72, 0x69, 0x74, 0x65, 0x72, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	static const uint8_t empty[24] = {
	        0x38, 0xdc, 0x85, 0x3b, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12,
	};
	static const uint8_t pad40[40] = {
	        0xa8, 0xc4, 0x6c, 0x67, 0x10, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0xd8, 0x00, 0x00, 0x00,
	};
	uint8_t buf[48];

	memset(buf, 0, sizeof buf);
	memcpy(buf + 24, "Hello from Writer!", 18);
	shmf_frame_hdr_encode(buf, SHMF_TYPE_MSG, 18, 0, 0, buf + 24);
	ck_assert_mem_eq(buf, hello, sizeof hello);
	ck_assert_int_eq(decode_at(hello, sizeof hello, 200, 0, 0), 0);

	memset(buf, 0, sizeof buf);
	shmf_frame_hdr_encode(buf, SHMF_TYPE_MSG, 0, 5, 0x12345678, NULL);
	ck_assert_mem_eq(buf, empty, sizeof empty);
	ck_assert_int_eq(decode_at(empty, sizeof empty, 200, 5, 0x12345678), 0);

	memset(buf, 0, sizeof buf);
	shmf_frame_hdr_encode(buf, SHMF_TYPE_PAD, 16, 7, 216, NULL);
	ck_assert_mem_eq(buf, pad40, sizeof pad40);
	ck_assert_int_eq(decode_at(pad40, sizeof pad40, 200, 7, 216), 0);
}
END_TEST

/* ---- one test per reject of shmf_frame_decode, each by a named edit of the base frame -------- */

START_TEST(test_reject_buffer_shorter_than_a_header)
{
	uint8_t buf[BASE_SIZE];
	make_base(buf);
	for (size_t len = 0; len < SHMF_FRAME_HEADER; len++)
		ck_assert_msg(decode(buf, len, BASE_MAX, BASE_SEQ) == SHMF_EPOS, "len %zu", len);
	ck_assert_int_eq(decode(buf, BASE_SIZE, BASE_MAX, BASE_SEQ), 0); /* the control */
}
END_TEST

START_TEST(test_reject_unknown_type)
{
	static const uint16_t types[] = {0, 3, 0xFFFF};

	for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
		uint8_t buf[BASE_SIZE];
		make_base(buf);
		tu_set16(buf, SHMF_F_TYPE, types[k]);
		tu_fix_frame_crc(buf);
		ck_assert_msg(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ) == SHMF_ETYPE, "type %u",
		              (unsigned)types[k]);
	}
}
END_TEST

START_TEST(test_reject_nonzero_flags)
{
	static const uint16_t flags[] = {1, 0x8000, 0xFFFF};

	for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++) {
		uint8_t buf[BASE_SIZE];
		make_base(buf);
		tu_set16(buf, SHMF_F_FLAGS, flags[k]);
		tu_fix_frame_crc(buf);
		ck_assert_msg(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ) == SHMF_EFLAGS,
		              "flags 0x%x", (unsigned)flags[k]);
	}
}
END_TEST

/* R9: a frame that claims another position (one or more laps earlier, or anywhere else) is
 * stale even when its sequence number is the expected one. */
START_TEST(test_reject_wrong_position_stamp)
{
	const uint32_t here = (uint32_t)FPOS;
	const uint32_t stamps[] = {here - 256u, here - 4096u, here - (1u << 30), here + 8u, 0u};

	for (size_t k = 0; k < sizeof stamps / sizeof stamps[0]; k++) {
		uint8_t buf[BASE_SIZE];
		make_base(buf);
		tu_set32(buf, SHMF_F_POS, stamps[k]);
		tu_fix_frame_crc(buf);
		ck_assert_msg(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ) == SHMF_ESEQ,
		              "stamp 0x%" PRIx32, stamps[k]);
	}
}
END_TEST

START_TEST(test_reject_msg_longer_than_max_message)
{
	uint8_t buf[256];
	memset(buf, 0x5A, sizeof buf);
	make_base(buf);
	/* The frame fits the buffer, its CRC and seq are right: only max_message is exceeded. */
	tu_set32(buf, SHMF_F_LENGTH, BASE_MAX + 1);
	tu_fix_frame_crc(buf);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ), SHMF_ELENGTH);
	/* Control: one byte less is accepted. */
	tu_set32(buf, SHMF_F_LENGTH, BASE_MAX);
	tu_fix_frame_crc(buf);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ), 0);
}
END_TEST

START_TEST(test_reject_msg_that_runs_past_the_buffer)
{
	uint8_t buf[256];
	memset(buf, 0, sizeof buf);
	make_base(buf);
	/* 17 bytes make a 48-byte frame; the buffer says 40. */
	tu_set32(buf, SHMF_F_LENGTH, BASE_LEN + 1);
	tu_fix_frame_crc(buf);
	ck_assert_int_eq(decode(buf, BASE_SIZE, BASE_MAX, BASE_SEQ), SHMF_ELENGTH);
	ck_assert_int_eq(decode(buf, BASE_SIZE + 8, BASE_MAX, BASE_SEQ), 0); /* control */
	/* The largest length, where a careless 32-bit sum would wrap (R6 stops it before R8). */
	tu_set32(buf, SHMF_F_LENGTH, 0xFFFFFFFFu);
	ck_assert_int_eq(decode(buf, BASE_SIZE, 0xFFFFFFFFu, BASE_SEQ), SHMF_ELENGTH);
	tu_set32(buf, SHMF_F_LENGTH, 0xFFFFFFF0u);
	ck_assert_int_eq(decode(buf, BASE_SIZE, 0xFFFFFFFFu, BASE_SEQ), SHMF_ELENGTH);
}
END_TEST

START_TEST(test_reject_msg_whose_padding_runs_past_the_buffer)
{
	uint8_t buf[48];
	memset(buf, 0, sizeof buf);
	make_msg(buf, 17, BASE_SEQ);
	/* R6 bounds align8(24 + 17) = 48, not 41: a buffer of 41 bytes is too short. */
	ck_assert_int_eq(decode(buf, 24 + 17, BASE_MAX, BASE_SEQ), SHMF_ELENGTH);
	ck_assert_int_eq(decode(buf, 48, BASE_MAX, BASE_SEQ), 0);
}
END_TEST

START_TEST(test_reject_pad_that_does_not_end_at_the_buffer_end)
{
	uint8_t buf[64];
	memset(buf, 0, sizeof buf);
	ck_assert_uint_eq(make_pad(buf, 16, BASE_SEQ), 40);
	ck_assert_int_eq(decode(buf, 40, BASE_MAX, BASE_SEQ), 0); /* control */
	/* The same PAD in a longer buffer: 24 + 16 != 48. */
	ck_assert_int_eq(decode(buf, 48, BASE_MAX, BASE_SEQ), SHMF_ELENGTH);
	/* A shorter length: 24 + 8 != 40. */
	tu_set32(buf, SHMF_F_LENGTH, 8);
	tu_fix_frame_crc(buf);
	ck_assert_int_eq(decode(buf, 40, BASE_MAX, BASE_SEQ), SHMF_ELENGTH);
	/* A longer length: 24 + 24 != 40. */
	tu_set32(buf, SHMF_F_LENGTH, 24);
	tu_fix_frame_crc(buf);
	ck_assert_int_eq(decode(buf, 40, BASE_MAX, BASE_SEQ), SHMF_ELENGTH);
}
END_TEST

START_TEST(test_reject_flipped_payload_bit)
{
	for (unsigned bit = 0; bit < 8 * BASE_LEN; bit++) {
		uint8_t buf[BASE_SIZE];
		make_base(buf);
		flip_bit(buf, SHMF_FRAME_HEADER + bit / 8, bit % 8);
		ck_assert_msg(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ) == SHMF_ECRC, "bit %u",
		              bit);
	}
}
END_TEST

START_TEST(test_flipped_padding_bit_is_not_checked)
{
	uint8_t buf[48];
	make_msg(buf, 17, BASE_SEQ);
	/* PROTOCOL.md 4: readers do not check the padding and the CRC does not cover it. */
	flip_bit(buf, 24 + 17, 0);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ), 0);
}
END_TEST

/* PROTOCOL.md 6.3 checks R6 (length) before R8 (crc): a length bit flipped upward makes the frame
 * run past the buffer, so R6 rejects it before the CRC is computed. */
START_TEST(test_flipped_length_bit_that_grows_the_frame_is_a_length_reject)
{
	uint8_t buf[BASE_SIZE];
	make_base(buf);
	flip_bit(buf, SHMF_F_LENGTH, 3); /* 16 -> 24: a 48-byte frame in 40 bytes */
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ), SHMF_ELENGTH);
	make_base(buf);
	flip_bit(buf, SHMF_F_LENGTH + 3, 7); /* 16 -> 0x80000010: beyond max_message too */
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ), SHMF_ELENGTH);
}
END_TEST

/* A length bit flipped downward leaves a frame that passes R6, so R8 (crc) is the first to fail. */
START_TEST(test_flipped_length_bit_that_shrinks_the_frame_is_a_crc_reject)
{
	uint8_t buf[BASE_SIZE];
	make_base(buf);
	flip_bit(buf, SHMF_F_LENGTH, 4); /* 16 -> 0 */
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ), SHMF_ECRC);
}
END_TEST

/* R8 (crc) comes before R9 (seq): a flipped seq bit is caught by the CRC, not as a wrong seq. */
START_TEST(test_flipped_seq_bit_is_a_crc_reject_not_a_seq_reject)
{
	for (unsigned bit = 0; bit < 64; bit++) {
		uint8_t buf[BASE_SIZE];
		make_base(buf);
		flip_bit(buf, SHMF_F_SEQ + bit / 8, bit % 8);
		ck_assert_msg(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ) == SHMF_ECRC,
		              "seq bit %u", bit);
	}
}
END_TEST

START_TEST(test_reject_wrong_seq_with_a_fixed_crc)
{
	uint8_t buf[BASE_SIZE];
	make_base(buf);
	tu_set64(buf, SHMF_F_SEQ, BASE_SEQ + 1);
	tu_fix_frame_crc(buf);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ), SHMF_ESEQ);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ + 1), 0); /* control */
	/* A stale frame from an earlier lap, and one 2^32 ahead (no 32-bit truncation). */
	tu_set64(buf, SHMF_F_SEQ, BASE_SEQ - 1);
	tu_fix_frame_crc(buf);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ), SHMF_ESEQ);
	tu_set64(buf, SHMF_F_SEQ, BASE_SEQ + (1ull << 32));
	tu_fix_frame_crc(buf);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ), SHMF_ESEQ);
}
END_TEST

START_TEST(test_reject_flipped_crc_byte)
{
	for (size_t i = 0; i < 4; i++) {
		uint8_t buf[BASE_SIZE];
		make_base(buf);
		tu_bump8(buf, SHMF_F_CRC + i);
		ck_assert_msg(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ) == SHMF_ECRC,
		              "crc byte %zu", i);
	}
}
END_TEST

START_TEST(test_header_checks_come_before_crc_and_seq)
{
	uint8_t buf[BASE_SIZE];
	/* Broken CRC and wrong seq everywhere: the earliest check in 6.3 names the error. */
	make_base(buf);
	tu_set16(buf, SHMF_F_TYPE, 9);
	tu_set16(buf, SHMF_F_FLAGS, 1);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ + 1), SHMF_ETYPE); /* R4 */
	make_base(buf);
	tu_set16(buf, SHMF_F_FLAGS, 1);
	tu_set32(buf, SHMF_F_LENGTH, 1000);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ + 1), SHMF_EFLAGS); /* R5 */
	make_base(buf);
	tu_set32(buf, SHMF_F_LENGTH, 1000);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ + 1), SHMF_ELENGTH); /* R6 */
	make_base(buf);
	tu_bump8(buf, SHMF_F_CRC);
	ck_assert_int_eq(decode(buf, sizeof buf, BASE_MAX, BASE_SEQ + 1), SHMF_ECRC); /* R8 */
}
END_TEST

START_TEST(test_decode_refuses_null_arguments)
{
	uint8_t buf[BASE_SIZE];
	shmf_frame_hdr h;
	const uint8_t *payload = NULL;

	make_base(buf);
	ck_assert_int_eq(
	        shmf_frame_decode(NULL, sizeof buf, BASE_MAX, BASE_SEQ, FPOS, &h, &payload),
	        SHMF_EINVAL);
	ck_assert_int_eq(shmf_frame_decode(NULL, 0, BASE_MAX, BASE_SEQ, FPOS, &h, &payload),
	                 SHMF_EINVAL);
	ck_assert_int_eq(
	        shmf_frame_decode(buf, sizeof buf, BASE_MAX, BASE_SEQ, FPOS, NULL, &payload),
	        SHMF_EINVAL);
	ck_assert_int_eq(shmf_frame_decode(buf, sizeof buf, BASE_MAX, BASE_SEQ, FPOS, &h, NULL),
	                 SHMF_EINVAL);
	ck_assert_int_eq(shmf_frame_decode(buf, sizeof buf, BASE_MAX, BASE_SEQ, FPOS, &h, &payload),
	                 0);
}
END_TEST

/* ---- decode never reads beyond buf + len --------------------------------------------------- */

/* Two pages, the second PROT_NONE: a read past the end of the first one faults. */
typedef struct guard {
	uint8_t *map;
	size_t page;
	uint8_t *end; /* first byte of the guard page */
} guard;

static void guard_init(guard *g)
{
	long ps = sysconf(_SC_PAGESIZE);
	ck_assert_int_gt(ps, 0);
	g->page = (size_t)ps;
	void *m =
	        mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	g->map = m;
	g->end = g->map + g->page;
	ck_assert_int_eq(mprotect(g->end, g->page, PROT_NONE), 0);
}

static void guard_free(guard *g)
{
	munmap(g->map, 2 * g->page);
}

static int is_decode_error(int rc)
{
	return rc == SHMF_EPOS || rc == SHMF_ETYPE || rc == SHMF_EFLAGS || rc == SHMF_ELENGTH ||
	       rc == SHMF_ECRC || rc == SHMF_ESEQ;
}

START_TEST(test_decode_of_a_truncated_frame_stops_at_the_buffer_end)
{
	guard g;
	uint8_t frame[104];

	guard_init(&g);
	ck_assert_uint_eq(make_msg(frame, 80, 0), sizeof frame);
	for (size_t len = 0; len <= 100; len++) {
		uint8_t *p = g.end - len;
		memcpy(p, frame, len);
		int rc = decode(p, len, MAXM, 0);
		int want = len < SHMF_FRAME_HEADER ? SHMF_EPOS : SHMF_ELENGTH;
		ck_assert_msg(rc == want, "len %zu: got %d, want %d", len, rc, want);
	}
	/* The whole frame flush against the guard decodes, reading its last byte and no further. */
	memcpy(g.end - sizeof frame, frame, sizeof frame);
	ck_assert_int_eq(decode(g.end - sizeof frame, sizeof frame, MAXM, 0), 0);
	guard_free(&g);
}
END_TEST

START_TEST(test_decode_of_frames_that_fill_the_buffer_reads_up_to_its_end_only)
{
	guard g;

	guard_init(&g);
	for (size_t len = 0; len <= 100; len++) {
		uint8_t *p = g.end - len;
		uint8_t tmp[128];
		int rc, want;

		if (len < SHMF_FRAME_HEADER) {
			memset(p, 0, len);
			ck_assert_int_eq(decode(p, len, MAXM, 0), SHMF_EPOS);
			continue;
		}
		/* A MSG whose payload claims all of the buffer: valid only when len is a multiple
		 * of 8. */
		uint32_t plen = (uint32_t)(len - SHMF_FRAME_HEADER);
		tu_fill(tmp + SHMF_FRAME_HEADER, plen, 3, 1);
		shmf_frame_hdr_encode(tmp, SHMF_TYPE_MSG, plen, 1, FPOS, tmp + SHMF_FRAME_HEADER);
		memcpy(p, tmp, len);
		rc = decode(p, len, MAXM, 1);
		want = len % 8 == 0 ? 0 : SHMF_ELENGTH;
		ck_assert_msg(rc == want, "MSG len %zu: got %d, want %d", len, rc, want);
		/* A PAD that fills the buffer is always valid. */
		memset(tmp + SHMF_FRAME_HEADER, 0x33, plen);
		shmf_frame_hdr_encode(tmp, SHMF_TYPE_PAD, plen, 2, FPOS, NULL);
		memcpy(p, tmp, len);
		ck_assert_msg(decode(p, len, MAXM, 2) == 0, "PAD len %zu", len);
	}
	guard_free(&g);
}
END_TEST

START_TEST(test_decode_of_garbage_stops_at_the_buffer_end)
{
	guard g;
	uint64_t s = tu_seed("test_decode_of_garbage_stops_at_the_buffer_end");

	guard_init(&g);
	for (size_t len = 0; len <= 100; len++) {
		uint8_t *p = g.end - len;
		for (int trial = 0; trial < 200; trial++) {
			for (size_t i = 0; i < len; i++)
				p[i] = (uint8_t)tu_rand(&s);
			if (len >= SHMF_FRAME_HEADER && (trial & 1)) {
				/* Plausible headers, so that decoding reaches the length and CRC
				 * checks. */
				uint32_t plen = (uint32_t)(tu_rand(&s) % (len + 16));
				tu_set16(p, SHMF_F_TYPE, (uint16_t)(1 + (trial & 2) / 2));
				tu_set16(p, SHMF_F_FLAGS, 0);
				tu_set32(p, SHMF_F_POS, (uint32_t)FPOS);
				tu_set32(p, SHMF_F_LENGTH, plen);
			}
			int rc = decode(p, len, MAXM, tu_rand(&s) & 1);
			if (len < SHMF_FRAME_HEADER)
				ck_assert_msg(rc == SHMF_EPOS, "len %zu: got %d", len, rc);
			else
				ck_assert_msg(rc == 0 || is_decode_error(rc), "len %zu: got %d",
				              len, rc);
		}
	}
	guard_free(&g);
}
END_TEST

static Suite *frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *rt = tcase_create("round_trip");
	TCase *rej = tcase_create("rejects");
	TCase *bounds = tcase_create("bounds");

	tcase_add_test(rt, test_msg_frames_of_lengths_0_1_7_8_9_and_max_round_trip);
	tcase_add_test(rt, test_msg_frame_decodes_from_a_buffer_longer_than_the_frame);
	tcase_add_test(rt, test_msg_of_exactly_max_message_is_accepted);
	tcase_add_test(rt, test_pad_frames_round_trip_and_their_body_is_not_checked);
	tcase_add_test(rt, test_pad_must_be_shorter_than_the_largest_frame);
	tcase_add_test(rt, test_encoder_reproduces_the_spec_frame_vectors);
	tcase_add_test(rt, test_flipped_padding_bit_is_not_checked);
	suite_add_tcase(s, rt);

	tcase_add_test(rej, test_reject_buffer_shorter_than_a_header);
	tcase_add_test(rej, test_reject_unknown_type);
	tcase_add_test(rej, test_reject_nonzero_flags);
	tcase_add_test(rej, test_reject_wrong_position_stamp);
	tcase_add_test(rej, test_reject_msg_longer_than_max_message);
	tcase_add_test(rej, test_reject_msg_that_runs_past_the_buffer);
	tcase_add_test(rej, test_reject_msg_whose_padding_runs_past_the_buffer);
	tcase_add_test(rej, test_reject_pad_that_does_not_end_at_the_buffer_end);
	tcase_add_test(rej, test_reject_flipped_payload_bit);
	tcase_add_test(rej, test_flipped_length_bit_that_grows_the_frame_is_a_length_reject);
	tcase_add_test(rej, test_flipped_length_bit_that_shrinks_the_frame_is_a_crc_reject);
	tcase_add_test(rej, test_flipped_seq_bit_is_a_crc_reject_not_a_seq_reject);
	tcase_add_test(rej, test_reject_wrong_seq_with_a_fixed_crc);
	tcase_add_test(rej, test_reject_flipped_crc_byte);
	tcase_add_test(rej, test_header_checks_come_before_crc_and_seq);
	tcase_add_test(rej, test_decode_refuses_null_arguments);
	suite_add_tcase(s, rej);

	tcase_set_timeout(bounds, 60);
	tcase_add_test(bounds, test_decode_of_a_truncated_frame_stops_at_the_buffer_end);
	tcase_add_test(bounds, test_decode_of_frames_that_fill_the_buffer_reads_up_to_its_end_only);
	tcase_add_test(bounds, test_decode_of_garbage_stops_at_the_buffer_end);
	suite_add_tcase(s, bounds);
	return s;
}

int main(void)
{
	return tu_main(frame_suite());
}
