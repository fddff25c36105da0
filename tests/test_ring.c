/* test_ring.c - src/ring.c on private segment images: every reader reject of PROTOCOL.md 6.3,
 * stickiness (6.4), writer checks on rpos, round trips with PAD and skip, zero-copy, and the
 * takeover repairs of section 7. */
#include "testutil.h"

#define SEED 0x5EEDu
#define BIG  8192u /* a receive buffer larger than any payload used here */

/* ---- helpers ------------------------------------------------------------------------------- */

static unsigned char *ctl(tu_image *im)
{
	return tu_ctl0(im);
}

static uint64_t shared_wpos(tu_image *im)
{
	return tu_get64(ctl(im), SHMF_C_WPOS);
}
static uint64_t shared_wseq(tu_image *im)
{
	return tu_get64(ctl(im), SHMF_C_WSEQ);
}
static uint64_t shared_rpos(tu_image *im)
{
	return tu_get64(ctl(im), SHMF_C_RPOS);
}
static uint64_t shared_rseq(tu_image *im)
{
	return tu_get64(ctl(im), SHMF_C_RSEQ);
}

/* The frame at position pos of ring 0's data area. */
static unsigned char *frame_at(tu_image *im, uint64_t pos)
{
	return tu_data0(im) + (size_t)(pos & (im->g.cap[0] - 1u));
}

/* Write message number k (len bytes, payload tu_fill(SEED, k)) with the given writer. */
static void write_k(shmf_ring *w, size_t len, uint64_t k)
{
	uint8_t buf[BIG];

	ck_assert_uint_le(len, sizeof buf);
	tu_fill(buf, len, SEED, k);
	ck_assert_int_eq(shmf_ring_write(w, buf, len), 0);
}

/* Write messages first .. first+n-1, each of len bytes, with the image's writer. */
static void write_n(tu_image *im, unsigned n, size_t len, uint64_t first)
{
	for (unsigned i = 0; i < n; i++)
		write_k(&im->w0, len, first + i);
}

/* Read one message with reader r and check it is message k of len bytes. */
static void read_k(shmf_ring *r, size_t len, uint64_t k)
{
	uint8_t buf[BIG];
	size_t n = 0;

	ck_assert_int_eq(shmf_ring_read(r, buf, sizeof buf, &n), 0);
	ck_assert_uint_eq(n, len);
	ck_assert(tu_check_fill(buf, n, SEED, k));
}

/* The image's reader rejects the next frame with exactly `code`, counted in its line. */
static void expect_reject(tu_image *im, int code)
{
	uint8_t buf[BIG];
	size_t n = 0;

	ck_assert_int_eq(shmf_ring_read(&im->r0, buf, sizeof buf, &n), code);
	ck_assert_uint_eq(tu_get32(ctl(im), SHMF_C_RERRORS), 1);
	ck_assert_uint_eq(tu_get32(ctl(im), SHMF_C_RLASTERR), (uint32_t)(-code));
}

/* ---- P1, P2: the reader's snapshot of wpos --------------------------------------------------- */

START_TEST(test_reader_rejects_misaligned_wpos_with_ealign)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);              /* wpos 128 */
	tu_set64(ctl(&im), SHMF_C_WPOS, 68); /* P1: within range, but not a multiple of 8 */
	expect_reject(&im, SHMF_EALIGN);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_wpos_more_than_capacity_ahead_with_epos)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	tu_set64(ctl(&im), SHMF_C_WPOS, 256 + 8); /* aligned, one word past a full ring */
	expect_reject(&im, SHMF_EPOS);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_wpos_behind_rpos_with_epos)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	read_k(&im.r0, 40, 0);
	read_k(&im.r0, 40, 1);               /* rpos 128, everything consumed */
	tu_set64(ctl(&im), SHMF_C_WPOS, 64); /* wpos - rpos wraps to a huge value */
	expect_reject(&im, SHMF_EPOS);
	tu_image_free(&im);
}
END_TEST

/* ---- R2, R3: where the published end may fall ----------------------------------------------- */

START_TEST(test_reader_rejects_published_end_inside_short_tail_with_epos)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 3, 56, 0); /* three 80-byte frames: wpos 240, a 16-byte tail remains */
	for (uint64_t k = 0; k < 3; k++)
		read_k(&im.r0, 56, k);
	ck_assert_uint_eq(im.r0.pos, 240);
	tu_set64(ctl(&im), SHMF_C_WPOS, 248); /* R2: only 8 of the 16 tail bytes published */
	expect_reject(&im, SHMF_EPOS);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_published_end_inside_frame_header_with_epos)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);              /* frames at 0 and 64 */
	tu_set64(ctl(&im), SHMF_C_WPOS, 80); /* R3 at rpos 64: wpos = rpos + 16 */
	read_k(&im.r0, 40, 0);
	ck_assert_uint_eq(im.r0.pos, 64);
	expect_reject(&im, SHMF_EPOS);
	tu_image_free(&im);
}
END_TEST

/* ---- R4, R5: type, flags, reserved ---------------------------------------------------------- */

START_TEST(test_reader_rejects_unknown_frame_type_with_etype)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	tu_set16(frame_at(&im, 0), SHMF_F_TYPE, 3);
	tu_fix_frame_crc(frame_at(&im, 0));
	expect_reject(&im, SHMF_ETYPE);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_nonzero_flags_with_eflags)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	tu_set16(frame_at(&im, 0), SHMF_F_FLAGS, 1);
	tu_fix_frame_crc(frame_at(&im, 0));
	expect_reject(&im, SHMF_EFLAGS);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_nonzero_flags_high_bit_with_eflags)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	tu_set16(frame_at(&im, 64), SHMF_F_FLAGS, 0x8000);
	tu_fix_frame_crc(frame_at(&im, 64));
	read_k(&im.r0, 40, 0);
	expect_reject(&im, SHMF_EFLAGS);
	tu_image_free(&im);
}
END_TEST

/* ---- R6: length ---------------------------------------------------------------------------- */

START_TEST(test_reader_rejects_length_above_max_message_with_elength)
{
	tu_image im;

	tu_image_init(&im, 4096, 1000, 1);
	write_n(&im, 2, 1000, 0); /* two 1024-byte frames: 1001 bytes would fit tail and wpos */
	tu_set32(frame_at(&im, 0), SHMF_F_LENGTH, 1001);
	tu_fix_frame_crc(frame_at(&im, 0));
	expect_reject(&im, SHMF_ELENGTH);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_frame_extending_past_wpos_with_elength)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 1, 40, 0);                        /* one 64-byte frame, wpos 64 */
	tu_set32(frame_at(&im, 0), SHMF_F_LENGTH, 48); /* 72 bytes: past wpos, inside the tail */
	tu_fix_frame_crc(frame_at(&im, 0));
	expect_reject(&im, SHMF_ELENGTH);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_frame_extending_past_end_of_data_area_with_elength)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 72, 0); /* two 96-byte frames: position 192 */
	read_k(&im.r0, 72, 0);
	read_k(&im.r0, 72, 1);
	write_n(&im, 3, 8, 2); /* 32-byte frames at 192, 224 and 256 (offset 0): wpos 288 */
	ck_assert_uint_eq(shared_wpos(&im), 288);
	/* 72 bytes at offset 192: within the 96 published bytes, past the 64-byte tail */
	tu_set32(frame_at(&im, 192), SHMF_F_LENGTH, 48);
	tu_fix_frame_crc(frame_at(&im, 192));
	expect_reject(&im, SHMF_ELENGTH);
	tu_image_free(&im);
}
END_TEST

/* A ring whose frame at 192 is a PAD (seq 2, length 40) followed by message 2 (seq 3) at 256. */
static void image_with_pad(tu_image *im)
{
	tu_image_init(im, 256, 104, 1);
	write_n(im, 2, 72, 0); /* two 96-byte frames: position 192 */
	read_k(&im->r0, 72, 0);
	read_k(&im->r0, 72, 1);
	write_n(im, 1, 56, 2); /* 80 bytes > 64-byte tail: PAD first */
	ck_assert_uint_eq(shared_wpos(im), 336);
	ck_assert_uint_eq(tu_get32(frame_at(im, 192), SHMF_F_LENGTH), 40);
	ck_assert_uint_eq(shmf_ld16(frame_at(im, 192) + SHMF_F_TYPE), SHMF_TYPE_PAD);
}

START_TEST(test_reader_rejects_pad_not_reaching_end_exactly_with_elength)
{
	static const uint32_t lengths[] = {32, 48, 0};

	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		tu_image im;
		image_with_pad(&im);
		tu_set32(frame_at(&im, 192), SHMF_F_LENGTH, lengths[i]);
		tu_fix_frame_crc(frame_at(&im, 192));
		expect_reject(&im, SHMF_ELENGTH);
		tu_image_free(&im);
	}
}
END_TEST

START_TEST(test_reader_rejects_pad_reaching_past_wpos_with_elength)
{
	tu_image im;

	/* R6's PAD clause tail <= w - rpos: the PAD at 192 is whole and reaches the end of the data
	 * area exactly, but wpos says only 32 of its 64 bytes are published. Consuming it would put
	 * rpos past wpos, and the reader would then deliver message 2 at 256, never published. */
	image_with_pad(&im);
	tu_set64(ctl(&im), SHMF_C_WPOS, 192 + 32);
	expect_reject(&im, SHMF_ELENGTH);
	ck_assert_uint_eq(im.r0.pos, 192); /* nothing consumed */
	ck_assert_uint_eq(shared_rpos(&im), 192);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_pad_with_bad_crc_with_ecrc)
{
	tu_image im;

	image_with_pad(&im);
	tu_bump8(frame_at(&im, 192), SHMF_F_CRC + 1);
	expect_reject(&im, SHMF_ECRC);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_pad_with_wrong_seq_with_eseq)
{
	tu_image im;

	image_with_pad(&im);
	tu_set64(frame_at(&im, 192), SHMF_F_SEQ, 3);
	tu_fix_frame_crc(frame_at(&im, 192));
	expect_reject(&im, SHMF_ESEQ);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_ignores_pad_body_and_payload_alignment_bytes)
{
	tu_image im;

	image_with_pad(&im);
	tu_bump8(frame_at(&im, 192), SHMF_FRAME_HEADER + 3); /* PAD body: not covered (PROTO 4) */
	tu_bump8(frame_at(&im, 256), SHMF_FRAME_HEADER + 56 + 7); /* last alignment byte */
	read_k(&im.r0, 56, 2);
	ck_assert_uint_eq(im.r0.seq, 4);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RERRORS), 0);
	tu_image_free(&im);
}
END_TEST

/* ---- R8: CRC ------------------------------------------------------------------------------- */

START_TEST(test_reader_rejects_bumped_payload_byte_with_ecrc)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	tu_bump8(frame_at(&im, 0), SHMF_FRAME_HEADER + 5);
	expect_reject(&im, SHMF_ECRC);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_bumped_crc_byte_with_ecrc)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	tu_bump8(frame_at(&im, 64), SHMF_F_CRC + 3);
	read_k(&im.r0, 40, 0);
	expect_reject(&im, SHMF_ECRC);
	tu_image_free(&im);
}
END_TEST

/* ---- R9: sequence -------------------------------------------------------------------------- */

START_TEST(test_reader_rejects_duplicate_seq_with_eseq)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	tu_set64(frame_at(&im, 64), SHMF_F_SEQ, 0); /* a second frame numbered 0 */
	tu_fix_frame_crc(frame_at(&im, 64));
	read_k(&im.r0, 40, 0);
	expect_reject(&im, SHMF_ESEQ);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_seq_gap_with_eseq)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	tu_set64(frame_at(&im, 64), SHMF_F_SEQ, 2); /* frame 1 lost */
	tu_fix_frame_crc(frame_at(&im, 64));
	read_k(&im.r0, 40, 0);
	expect_reject(&im, SHMF_ESEQ);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_stale_frame_from_earlier_lap_with_eseq)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 4, 40, 0); /* four 64-byte frames fill one lap exactly */
	for (uint64_t k = 0; k < 4; k++)
		read_k(&im.r0, 40, k);
	ck_assert_uint_eq(im.r0.pos, 256);
	/* wpos moves over the old, valid frame 0 at offset 0 without a new one being written */
	tu_set64(ctl(&im), SHMF_C_WPOS, 256 + 64);
	expect_reject(&im, SHMF_ESEQ);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_a_wrong_position_stamp_with_eseq)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	ck_assert_uint_eq(tu_get32(frame_at(&im, 64), SHMF_F_POS), 64);
	tu_set32(frame_at(&im, 64), SHMF_F_POS, 64 + 256); /* the stamp of the next lap */
	tu_fix_frame_crc(frame_at(&im, 64));
	read_k(&im.r0, 40, 0);
	expect_reject(&im, SHMF_ESEQ);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reader_rejects_a_stale_frame_with_the_expected_seq_by_its_position_stamp)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 4, 40, 0);
	for (uint64_t k = 0; k < 4; k++)
		read_k(&im.r0, 40, k);
	/* frame 0 of the first lap, renumbered 4 (CRC fixed): only its stamp, 0 not 256, is wrong
	 */
	tu_set64(frame_at(&im, 0), SHMF_F_SEQ, 4);
	tu_fix_frame_crc(frame_at(&im, 0));
	tu_set64(ctl(&im), SHMF_C_WPOS, 256 + 64);
	expect_reject(&im, SHMF_ESEQ);
	tu_image_free(&im);
}
END_TEST

/* ---- stickiness (PROTO 6.4) ---------------------------------------------------------------- */

START_TEST(test_crc_reject_stays_after_the_byte_is_repaired)
{
	tu_image im;
	const void *msg = NULL;
	size_t n = 0;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	uint8_t orig = frame_at(&im, 0)[SHMF_FRAME_HEADER];
	tu_bump8(frame_at(&im, 0), SHMF_FRAME_HEADER);
	expect_reject(&im, SHMF_ECRC);
	tu_set8(frame_at(&im, 0), SHMF_FRAME_HEADER, orig); /* the frame is whole again */
	uint8_t buf[BIG];
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, sizeof buf, &n), SHMF_ECRC);
	ck_assert_int_eq(shmf_ring_peek(&im.r0, &msg, &n), SHMF_ECRC);
	ck_assert_uint_eq(shared_rpos(&im), 0); /* nothing consumed */
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RLASTERR), (uint32_t)-SHMF_ECRC);
	/* the writer of the ring is not affected by the reader's reject */
	write_n(&im, 1, 40, 2);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_position_reject_stays_after_wpos_is_repaired)
{
	tu_image im;
	uint8_t buf[BIG];
	size_t n = 0;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	tu_set64(ctl(&im), SHMF_C_WPOS, 68);
	expect_reject(&im, SHMF_EALIGN);
	tu_set64(ctl(&im), SHMF_C_WPOS, 128);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, sizeof buf, &n), SHMF_EALIGN);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, sizeof buf, &n), SHMF_EALIGN);
	ck_assert_uint_ge(tu_get32(ctl(&im), SHMF_C_RERRORS), 1);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RLASTERR), (uint32_t)-SHMF_EALIGN);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reject_is_counted_in_rerrors_and_rlasterr)
{
	tu_image im;
	uint8_t buf[BIG];
	size_t n = 0;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RERRORS), 0);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RLASTERR), 0);
	tu_set64(frame_at(&im, 64), SHMF_F_SEQ, 7);
	tu_fix_frame_crc(frame_at(&im, 64));
	read_k(&im.r0, 40, 0);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RERRORS), 0); /* a good frame counts nothing */
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, sizeof buf, &n), SHMF_ESEQ);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RERRORS), 1);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RLASTERR), 46);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_etoosmall_is_not_sticky_and_reports_the_needed_size)
{
	tu_image im;
	uint8_t buf[BIG];
	size_t n = 0;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 100, 0);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, 99, &n), SHMF_ETOOSMALL);
	ck_assert_uint_eq(n, 100);
	n = 0;
	ck_assert_int_eq(shmf_ring_read(&im.r0, NULL, 0, &n), SHMF_ETOOSMALL);
	ck_assert_uint_eq(n, 100);
	ck_assert_uint_eq(shared_rpos(&im), 0); /* the message stays */
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RERRORS), 0);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, 100, &n), 0); /* exactly big enough */
	ck_assert_uint_eq(n, 100);
	ck_assert(tu_check_fill(buf, n, SEED, 0));
	read_k(&im.r0, 100, 1);
	tu_image_free(&im);
}
END_TEST

/* ---- writer-side checks on rpos (PROTO 6.3, last paragraph) ---------------------------------- */

START_TEST(test_writer_rejects_misaligned_rpos_with_ealign_once_ring_looks_full)
{
	tu_image im;
	uint8_t buf[64];

	tu_image_init(&im, 256, 104, 1);
	tu_fill(buf, 40, SEED, 9);
	tu_set64(ctl(&im), SHMF_C_RPOS, 4);
	/* the writer's cached view (rpos 0) has room for four 64-byte frames: no refresh, no check
	 */
	write_n(&im, 4, 40, 0);
	ck_assert_int_eq(shmf_ring_write(&im.w0, buf, 40), SHMF_EALIGN);
	ck_assert_uint_eq(shared_wpos(&im), 256);
	/* sticky on the writer, too, and not counted in the reader's line */
	tu_set64(ctl(&im), SHMF_C_RPOS, 256);
	ck_assert_int_eq(shmf_ring_write(&im.w0, buf, 40), SHMF_EALIGN);
	ck_assert_int_eq(shmf_ring_write(&im.w0, buf, 0), SHMF_EALIGN);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RERRORS), 0);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_writer_rejects_rpos_ahead_of_wpos_with_epos_once_ring_looks_full)
{
	tu_image im;
	uint8_t buf[64];
	void *p = NULL;

	tu_image_init(&im, 256, 104, 1);
	tu_fill(buf, 40, SEED, 9);
	write_n(&im, 4, 40, 0);
	tu_set64(ctl(&im), SHMF_C_RPOS, 256 + 8); /* the reader claims to be past the writer */
	ck_assert_int_eq(shmf_ring_write(&im.w0, buf, 40), SHMF_EPOS);
	ck_assert_int_eq(shmf_ring_reserve(&im.w0, 8, &p), SHMF_EPOS);
	ck_assert_uint_eq(shared_wpos(&im), 256);
	ck_assert_uint_eq(shared_wseq(&im), 4);
	tu_image_free(&im);
}
END_TEST

/* ---- round trips --------------------------------------------------------------------------- */

START_TEST(test_zero_length_message_round_trips)
{
	tu_image im;
	uint8_t buf[8];
	size_t n = 99;

	tu_image_init(&im, 256, 104, 1);
	ck_assert_int_eq(shmf_ring_write(&im.w0, buf, 0), 0);
	ck_assert_uint_eq(shared_wpos(&im), 24); /* the header alone */
	ck_assert_int_eq(shmf_ring_read(&im.r0, NULL, 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(shared_rpos(&im), 24);
	ck_assert_uint_eq(shared_rseq(&im), 1);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_one_byte_message_round_trips)
{
	tu_image im;
	uint8_t one = 0xA5, buf[8] = {0};
	size_t n = 0;

	tu_image_init(&im, 256, 104, 1);
	ck_assert_int_eq(shmf_ring_write(&im.w0, &one, 1), 0);
	ck_assert_uint_eq(shared_wpos(&im), 32);
	/* the 7 alignment bytes are written as zero (PROTO 4) */
	for (size_t i = SHMF_FRAME_HEADER + 1; i < 32; i++)
		ck_assert_uint_eq(frame_at(&im, 0)[i], 0);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, 1, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(buf[0], 0xA5);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_max_message_round_trips)
{
	tu_image im;

	tu_image_init(&im, 4096, 2024, 1); /* 2 * align8(24 + 2024) == 4096: the largest allowed */
	write_n(&im, 2, 2024, 0);          /* two of them fill the ring */
	ck_assert_uint_eq(shared_wpos(&im), 4096);
	read_k(&im.r0, 2024, 0);
	read_k(&im.r0, 2024, 1);
	ck_assert_uint_eq(shared_rpos(&im), 4096);
	/* and the next lap still takes them, however the tail falls */
	write_n(&im, 1, 8, 2);
	read_k(&im.r0, 8, 2);
	write_n(&im, 1, 2024, 3);
	read_k(&im.r0, 2024, 3);
	write_n(&im, 1, 2024, 4); /* tail 2016 < 2048: a PAD, then the frame at offset 0 */
	read_k(&im.r0, 2024, 4);
	ck_assert_uint_eq(shared_wpos(&im), 4096 + 32 + 2048 + 2016 + 2048);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_message_above_max_message_is_refused_with_emsgsize)
{
	tu_image im;
	uint8_t buf[256] = {0};
	void *p = NULL;

	tu_image_init(&im, 256, 104, 1);
	ck_assert_int_eq(shmf_ring_write(&im.w0, buf, 105), SHMF_EMSGSIZE);
	ck_assert_int_eq(shmf_ring_reserve(&im.w0, 105, &p), SHMF_EMSGSIZE);
	ck_assert_uint_eq(shared_wpos(&im), 0);
	/* not sticky: the writer carries on */
	write_n(&im, 1, 104, 0);
	read_k(&im.r0, 104, 0);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_full_ring_refuses_write_and_empty_ring_refuses_read_with_eagain)
{
	tu_image im;
	uint8_t buf[BIG];
	const void *msg = NULL;
	size_t n = 0;

	tu_image_init(&im, 256, 104, 1);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, sizeof buf, &n), SHMF_EAGAIN);
	ck_assert_int_eq(shmf_ring_peek(&im.r0, &msg, &n), SHMF_EAGAIN);
	write_n(&im, 4, 40, 0); /* wpos - rpos == capacity: full, and still legal (P2) */
	ck_assert_int_eq(shmf_ring_write(&im.w0, buf, 0), SHMF_EAGAIN);
	ck_assert_int_eq(shmf_ring_write(&im.w0, buf, 40), SHMF_EAGAIN);
	ck_assert_uint_eq(shared_wpos(&im), 256);
	ck_assert_uint_eq(shared_wseq(&im), 4);
	read_k(&im.r0, 40, 0);
	write_n(&im, 1, 40, 4); /* room again */
	for (uint64_t k = 1; k < 5; k++)
		read_k(&im.r0, 40, k);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, sizeof buf, &n), SHMF_EAGAIN);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RERRORS), 0);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_message_not_fitting_the_tail_is_preceded_by_a_pad_frame)
{
	tu_image im;

	/* The layout of tests/vectors/segment_wrap.bin: 44-byte messages, 72-byte frames. */
	tu_image_init(&im, 256, 64, 1);
	for (uint64_t k = 0; k < 7; k++) {
		write_k(&im.w0, 44, k);
		read_k(&im.r0, 44, k);
	}
	ck_assert_uint_eq(shared_wpos(&im), 584);
	ck_assert_uint_eq(shared_wseq(&im), 9);
	ck_assert_uint_eq(shared_rpos(&im), 584);
	ck_assert_uint_eq(shared_rseq(&im), 9);
	/* the second PAD, at position 472 (offset 216), seq 7, length 16 */
	unsigned char *pad = frame_at(&im, 472);
	ck_assert_uint_eq(shmf_ld16(pad + SHMF_F_TYPE), SHMF_TYPE_PAD);
	ck_assert_uint_eq(tu_get32(pad, SHMF_F_LENGTH), 16);
	ck_assert_uint_eq(tu_get64(pad, SHMF_F_SEQ), 7);
	ck_assert_uint_eq(tu_get64(frame_at(&im, 512), SHMF_F_SEQ), 8);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_tail_shorter_than_a_header_is_skipped_without_a_frame)
{
	tu_image im;

	/* The layout of tests/vectors/segment_skip.bin: 56-byte messages, 80-byte frames. */
	tu_image_init(&im, 256, 64, 1);
	for (uint64_t k = 0; k < 3; k++) {
		write_k(&im.w0, 56, k);
		read_k(&im.r0, 56, k);
	}
	ck_assert_uint_eq(shared_wpos(&im), 240); /* a 16-byte tail remains */
	write_k(&im.w0, 56, 3);
	ck_assert_uint_eq(shared_wpos(&im), 256 + 80); /* the 16 bytes are counted, no PAD */
	ck_assert_uint_eq(shared_wseq(&im), 4);        /* and take no sequence number */
	for (size_t i = 240; i < 256; i++)
		ck_assert_uint_eq(tu_data0(&im)[i], 0); /* nothing was written there */
	ck_assert_uint_eq(tu_get64(frame_at(&im, 256), SHMF_F_SEQ), 3);
	read_k(&im.r0, 56, 3);
	ck_assert_uint_eq(shared_rpos(&im), 336);
	ck_assert_uint_eq(shared_rseq(&im), 4);
	write_k(&im.w0, 56, 4);
	read_k(&im.r0, 56, 4);
	ck_assert_uint_eq(shared_rpos(&im), 416);
	tu_image_free(&im);
}
END_TEST

/* Many messages of random sizes through a small ring, the reader interleaved: every write's
 * effect on the positions is predicted (PAD, skip, full), every read's content checked. */
static void random_round_trip(size_t cap, size_t max_message, unsigned laps, unsigned burst,
                              const char *test)
{
	enum { Q = 1024 };
	static size_t qlen[Q];
	uint64_t seed = tu_seed(test), rng = seed;
	uint64_t next_w = 0, next_r = 0;
	unsigned pads = 0, skips = 0, fulls = 0, empties = 0;
	uint8_t out[BIG], in[BIG];
	tu_image im;

	ck_assert_uint_le(max_message, sizeof out);
	tu_image_init(&im, cap, max_message, 1);
	while (im.w0.pos < (uint64_t)laps * cap) {
		unsigned nw = (unsigned)(tu_rand(&rng) % burst) + 1u;
		for (unsigned i = 0; i < nw; i++) {
			uint64_t pos = im.w0.pos, seq = im.w0.seq;
			uint64_t tail = cap - (pos & (cap - 1u));
			size_t len;
			switch (tu_rand(&rng) % 8) {
			case 0: /* leave a tail of 8 or 16 bytes after this frame, forcing a skip
			           later */
				len = (size_t)(tail - 24u - 8u * (1u + tu_rand(&rng) % 2));
				if (tail < 24u + 24u + 8u || len > max_message)
					len = (size_t)(tu_rand(&rng) % (max_message + 1));
				break;
			case 1: len = max_message; break;
			case 2: len = 0; break;
			default: len = (size_t)(tu_rand(&rng) % (max_message + 1)); break;
			}
			uint64_t size = shmf_frame_size(len);
			uint64_t need = size > tail ? tail + size : size;
			int full = pos + need - shared_rpos(&im) > cap;
			tu_fill(out, len, seed, next_w);
			int rc = shmf_ring_write(&im.w0, out, len);
			if (full) {
				ck_assert_int_eq(rc, SHMF_EAGAIN);
				ck_assert_uint_eq(im.w0.pos, pos);
				ck_assert_uint_eq(shared_wpos(&im), pos);
				ck_assert_uint_eq(shared_wseq(&im), seq);
				fulls++;
				break;
			}
			ck_assert_int_eq(rc, 0);
			if (size > tail && tail >= SHMF_FRAME_HEADER) {
				unsigned char *pad = frame_at(&im, pos);
				ck_assert_uint_eq(shmf_ld16(pad + SHMF_F_TYPE), SHMF_TYPE_PAD);
				ck_assert_uint_eq(tu_get32(pad, SHMF_F_LENGTH),
				                  tail - SHMF_FRAME_HEADER);
				ck_assert_uint_eq(tu_get64(pad, SHMF_F_SEQ), seq);
				ck_assert_uint_eq(tu_get32(pad, SHMF_F_POS), (uint32_t)pos);
				ck_assert_uint_eq(shared_wseq(&im), seq + 2);
				pads++;
			} else {
				if (size > tail)
					skips++; /* tail of 8 or 16: skipped, no number taken */
				ck_assert_uint_eq(shared_wseq(&im), seq + 1);
			}
			ck_assert_uint_eq(shared_wpos(&im), pos + need);
			ck_assert_uint_eq(tu_get64(frame_at(&im, pos + need - size), SHMF_F_SEQ),
			                  shared_wseq(&im) - 1);
			ck_assert_uint_eq(tu_get32(frame_at(&im, pos + need - size), SHMF_F_POS),
			                  (uint32_t)(pos + need - size));
			qlen[next_w % Q] = len;
			next_w++;
		}
		unsigned nr = (unsigned)(tu_rand(&rng) % burst) + 1u;
		for (unsigned i = 0; i < nr; i++) {
			size_t n = 0;
			int rc = shmf_ring_read(&im.r0, in, sizeof in, &n);
			if (next_r == next_w) {
				ck_assert_int_eq(rc, SHMF_EAGAIN);
				empties++;
				break;
			}
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(n, qlen[next_r % Q]);
			ck_assert_msg(tu_check_fill(in, n, seed, next_r),
			              "message %" PRIu64 " corrupt", next_r);
			next_r++;
		}
		ck_assert_uint_lt(next_w - next_r, Q);
	}
	while (next_r < next_w) {
		size_t n = 0;
		ck_assert_int_eq(shmf_ring_read(&im.r0, in, sizeof in, &n), 0);
		ck_assert_uint_eq(n, qlen[next_r % Q]);
		ck_assert(tu_check_fill(in, n, seed, next_r));
		next_r++;
	}
	ck_assert_uint_eq(im.r0.pos, im.w0.pos);
	ck_assert_uint_eq(im.r0.seq, im.w0.seq);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RERRORS), 0);
	ck_assert_uint_gt(pads, 0);
	ck_assert_uint_gt(skips, 0);
	ck_assert_uint_gt(fulls, 0);
	ck_assert_uint_gt(empties, 0);
	tu_image_free(&im);
}

START_TEST(test_random_sizes_round_trip_through_a_256_byte_ring_for_500_laps)
{
	random_round_trip(256, 104, 500, 6, "random_256");
}
END_TEST

START_TEST(test_random_sizes_round_trip_through_a_4096_byte_ring_for_300_laps)
{
	random_round_trip(4096, 1500, 300, 12, "random_4096");
}
END_TEST

/* ---- zero-copy ----------------------------------------------------------------------------- */

START_TEST(test_reserve_then_shorter_commit_delivers_the_committed_bytes)
{
	tu_image im;
	void *p = NULL;

	tu_image_init(&im, 256, 104, 1);
	ck_assert_int_eq(shmf_ring_reserve(&im.w0, 100, &p), 0);
	ck_assert_ptr_eq(p, frame_at(&im, 0) + SHMF_FRAME_HEADER);
	ck_assert_uint_eq(shared_wpos(&im), 0); /* nothing visible before the commit */
	tu_fill(p, 60, SEED, 0);
	ck_assert_int_eq(shmf_ring_commit(&im.w0, 60), 0);
	ck_assert_uint_eq(shared_wpos(&im), shmf_frame_size(60));
	read_k(&im.r0, 60, 0);
	write_n(&im, 1, 10, 1); /* the writer carries on after a zero-copy frame */
	read_k(&im.r0, 10, 1);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_commit_without_reserve_is_estate)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	ck_assert_int_eq(shmf_ring_commit(&im.w0, 0), SHMF_ESTATE);
	write_n(&im, 1, 10, 0);
	ck_assert_int_eq(shmf_ring_commit(&im.w0, 10), SHMF_ESTATE); /* write left no reserve */
	ck_assert_uint_eq(shared_wseq(&im), 1);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_reserve_twice_is_estate)
{
	tu_image im;
	void *p = NULL, *q = NULL;
	uint8_t buf[8] = {0};

	tu_image_init(&im, 256, 104, 1);
	ck_assert_int_eq(shmf_ring_reserve(&im.w0, 10, &p), 0);
	ck_assert_int_eq(shmf_ring_reserve(&im.w0, 10, &q), SHMF_ESTATE);
	ck_assert_int_eq(shmf_ring_write(&im.w0, buf, 8), SHMF_ESTATE);
	tu_fill(p, 10, SEED, 0);
	ck_assert_int_eq(shmf_ring_commit(&im.w0, 10), 0);
	read_k(&im.r0, 10, 0);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_commit_longer_than_reserved_is_einval)
{
	tu_image im;
	void *p = NULL;

	tu_image_init(&im, 256, 104, 1);
	ck_assert_int_eq(shmf_ring_reserve(&im.w0, 16, &p), 0);
	ck_assert_int_eq(shmf_ring_commit(&im.w0, 17), SHMF_EINVAL);
	ck_assert_uint_eq(shared_wpos(&im), 0);
	tu_fill(p, 16, SEED, 0);
	ck_assert_int_eq(shmf_ring_commit(&im.w0, 16), 0); /* the reservation still stands */
	read_k(&im.r0, 16, 0);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_peek_then_release_consumes_the_message)
{
	tu_image im;
	const void *msg = NULL;
	size_t n = 0;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 30, 0);
	ck_assert_int_eq(shmf_ring_peek(&im.r0, &msg, &n), 0);
	ck_assert_uint_eq(n, 30);
	ck_assert_ptr_eq(msg, frame_at(&im, 0) + SHMF_FRAME_HEADER);
	ck_assert(tu_check_fill(msg, n, SEED, 0));
	ck_assert_uint_eq(shared_rpos(&im), 0); /* not consumed until release */
	ck_assert_int_eq(shmf_ring_release(&im.r0), 0);
	ck_assert_uint_eq(shared_rpos(&im), shmf_frame_size(30));
	ck_assert_uint_eq(shared_rseq(&im), 1);
	read_k(&im.r0, 30, 1);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_release_without_peek_is_estate)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 1);
	ck_assert_int_eq(shmf_ring_release(&im.r0), SHMF_ESTATE);
	write_n(&im, 1, 30, 0);
	read_k(&im.r0, 30, 0);
	ck_assert_int_eq(shmf_ring_release(&im.r0), SHMF_ESTATE); /* read leaves no peek */
	ck_assert_uint_eq(shared_rpos(&im), shmf_frame_size(30));
	tu_image_free(&im);
}
END_TEST

START_TEST(test_read_or_peek_while_peeked_is_estate)
{
	tu_image im;
	const void *msg = NULL;
	uint8_t buf[BIG];
	size_t n = 0;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 30, 0);
	ck_assert_int_eq(shmf_ring_peek(&im.r0, &msg, &n), 0);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, sizeof buf, &n), SHMF_ESTATE);
	ck_assert_int_eq(shmf_ring_peek(&im.r0, &msg, &n), SHMF_ESTATE);
	ck_assert_int_eq(shmf_ring_release(&im.r0), 0);
	read_k(&im.r0, 30, 1);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_peek_on_a_corrupted_payload_is_ecrc)
{
	tu_image im;
	const void *msg = NULL;
	size_t n = 0;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 1, 30, 0);
	tu_bump8(frame_at(&im, 0), SHMF_FRAME_HEADER + 29);
	ck_assert_int_eq(shmf_ring_peek(&im.r0, &msg, &n), SHMF_ECRC);
	ck_assert_ptr_null(msg);
	ck_assert_int_eq(shmf_ring_release(&im.r0), SHMF_ESTATE);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RLASTERR), (uint32_t)-SHMF_ECRC);
	tu_image_free(&im);
}
END_TEST

/* ---- takeover repairs (PROTO 7) ------------------------------------------------------------ */

/* A writer that dies between steps 3 and 4 of PROTO 5.2: its frame and wseq are in the segment,
 * wpos is not. Simulated with a scratch copy of the writer whose publication is rolled back. */
static void die_before_publishing(tu_image *im, size_t len, uint64_t k)
{
	shmf_ring dead = im->w0;
	uint64_t w = shared_wpos(im), s = shared_wseq(im);

	write_k(&dead, len, k);
	ck_assert_uint_eq(shared_wseq(im), s + 1);
	tu_set64(ctl(im), SHMF_C_WPOS, w);
}

START_TEST(test_new_writer_reuses_the_seq_of_a_frame_that_was_never_published)
{
	tu_image im;
	shmf_ring nw;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 2, 40, 0);
	die_before_publishing(&im, 40, 2);
	ck_assert_uint_eq(shared_wseq(&im), 3);
	tu_ring_bind(&nw, im.base, 0, &im.g);
	ck_assert_int_eq(shmf_ring_writer_attach(&nw), 0);
	ck_assert_uint_eq(nw.pos, 128);
	ck_assert_uint_eq(nw.seq, 2); /* repaired */
	write_k(&nw, 16, 102);        /* overwrites the unpublished frame, with its number */
	read_k(&im.r0, 40, 0);
	read_k(&im.r0, 40, 1);
	read_k(&im.r0, 16, 102); /* unbroken sequence, and the dead writer's message is gone */
	ck_assert_uint_eq(im.r0.seq, 3);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RERRORS), 0);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_new_writer_repair_looks_past_a_skipped_short_tail)
{
	tu_image im;
	shmf_ring nw;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 3, 56, 0); /* wpos 240 */
	for (uint64_t k = 0; k < 3; k++)
		read_k(&im.r0, 56, k);
	die_before_publishing(&im, 56, 3); /* its frame went to 256, after the 16-byte skip */
	ck_assert_uint_eq(shared_wpos(&im), 240);
	tu_ring_bind(&nw, im.base, 0, &im.g);
	ck_assert_int_eq(shmf_ring_writer_attach(&nw), 0);
	ck_assert_uint_eq(nw.seq, 3);
	write_k(&nw, 56, 103);
	read_k(&im.r0, 56, 103);
	ck_assert_uint_eq(im.r0.pos, 336);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_new_reader_redelivers_a_message_whose_rpos_store_was_lost)
{
	tu_image im;
	shmf_ring nr;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 3, 40, 0);
	read_k(&im.r0, 40, 0);
	ck_assert_uint_eq(shared_rseq(&im), 1);
	/* the reader died after storing rseq = 1 and before storing rpos = 64 */
	tu_set64(ctl(&im), SHMF_C_RPOS, 0);
	tu_ring_bind(&nr, im.base, 0, &im.g);
	ck_assert_int_eq(shmf_ring_reader_attach(&nr), 0);
	ck_assert_uint_eq(nr.pos, 0);
	ck_assert_uint_eq(nr.seq, 0); /* repaired */
	read_k(&nr, 40, 0);           /* delivered again, no ESEQ */
	read_k(&nr, 40, 1);
	read_k(&nr, 40, 2);
	ck_assert_uint_eq(tu_get32(ctl(&im), SHMF_C_RERRORS), 0);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_new_reader_does_not_redeliver_a_frame_consumed_a_lap_ago)
{
	tu_image im;
	shmf_ring nr;
	uint8_t buf[BIG];
	size_t n = 0;

	tu_image_init_unchecked(&im, 256, 232); /* beyond PROTO 2.4, on purpose */
	write_n(&im, 1, 232, 0);                /* one frame fills the lap */
	read_k(&im.r0, 232, 0);                 /* rpos 256, rseq 1 */
	/* wpos claims a second lap while offset 0 still holds frame 0 (seq rseq - 1, stamp 0) */
	tu_set64(ctl(&im), SHMF_C_WPOS, 512);
	tu_ring_bind(&nr, im.base, 0, &im.g);
	ck_assert_int_eq(shmf_ring_reader_attach(&nr), 0);
	ck_assert_uint_eq(nr.seq, 1); /* no repair: the stamp says 0, not 256 */
	ck_assert_int_eq(shmf_ring_read(&nr, buf, sizeof buf, &n), SHMF_ESEQ);
	tu_image_free(&im);
}
END_TEST

START_TEST(test_attach_on_a_clean_ring_continues_the_sequence_without_repair)
{
	tu_image im;
	shmf_ring nw, nr;

	tu_image_init(&im, 256, 104, 1);
	write_n(&im, 3, 40, 0);
	read_k(&im.r0, 40, 0);
	read_k(&im.r0, 40, 1);
	tu_ring_bind(&nw, im.base, 0, &im.g);
	tu_ring_bind(&nr, im.base, 0, &im.g);
	ck_assert_int_eq(shmf_ring_writer_attach(&nw), 0);
	ck_assert_int_eq(shmf_ring_reader_attach(&nr), 0);
	ck_assert_uint_eq(nw.pos, 192);
	ck_assert_uint_eq(nw.seq, 3);
	ck_assert_uint_eq(nr.pos, 128);
	ck_assert_uint_eq(nr.seq, 2);
	write_k(&nw, 40, 3);
	read_k(&nr, 40, 2);
	read_k(&nr, 40, 3);
	/* fully drained, the ring wrapped: attach again */
	tu_ring_bind(&nw, im.base, 0, &im.g);
	tu_ring_bind(&nr, im.base, 0, &im.g);
	ck_assert_int_eq(shmf_ring_writer_attach(&nw), 0);
	ck_assert_int_eq(shmf_ring_reader_attach(&nr), 0);
	ck_assert_uint_eq(nw.seq, 4);
	ck_assert_uint_eq(nr.seq, 4);
	write_k(&nw, 40, 4);
	read_k(&nr, 40, 4);
	tu_image_free(&im);
}
END_TEST

/* Honest memory where the last committed frame sits at the offset of wpos one lap earlier: a
 * frame as large as the ring, or one that leaves only a skipped tail. Its seq is wseq - 1, so
 * only its position stamp (PROTO 4, 7) keeps the writer repair from firing. */
static void clean_attach_after_lap_sized_frame(size_t max_message, size_t len)
{
	tu_image im;
	shmf_ring nw;
	uint8_t buf[BIG];
	size_t n = 0;

	tu_image_init_unchecked(&im, 256, max_message); /* beyond PROTO 2.4, on purpose */
	write_n(&im, 1, len, 0);
	read_k(&im.r0, len, 0);
	ck_assert_uint_eq(shared_wseq(&im), 1);
	tu_ring_bind(&nw, im.base, 0, &im.g);
	ck_assert_int_eq(shmf_ring_writer_attach(&nw), 0);
	ck_assert_msg(nw.seq == 1,
	              "a clean writer attach took seq %" PRIu64 " for its next frame, "
	              "reusing the committed frame's number",
	              nw.seq);
	write_k(&nw, 8, 1);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, sizeof buf, &n), 0);
	ck_assert_uint_eq(n, 8);
	tu_image_free(&im);
}

START_TEST(test_clean_writer_attach_after_a_frame_filling_the_whole_ring_continues_the_sequence)
{
	clean_attach_after_lap_sized_frame(232, 232); /* align8(24 + 232) == 256 */
}
END_TEST

START_TEST(test_clean_writer_attach_after_a_frame_leaving_a_skipped_tail_continues_the_sequence)
{
	clean_attach_after_lap_sized_frame(232, 224); /* 248-byte frame, 8-byte tail */
}
END_TEST

/* ---- suite --------------------------------------------------------------------------------- */

static Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc;

	tc = tcase_create("rejects");
	tcase_add_test(tc, test_reader_rejects_misaligned_wpos_with_ealign);
	tcase_add_test(tc, test_reader_rejects_wpos_more_than_capacity_ahead_with_epos);
	tcase_add_test(tc, test_reader_rejects_wpos_behind_rpos_with_epos);
	tcase_add_test(tc, test_reader_rejects_published_end_inside_short_tail_with_epos);
	tcase_add_test(tc, test_reader_rejects_published_end_inside_frame_header_with_epos);
	tcase_add_test(tc, test_reader_rejects_unknown_frame_type_with_etype);
	tcase_add_test(tc, test_reader_rejects_nonzero_flags_with_eflags);
	tcase_add_test(tc, test_reader_rejects_nonzero_flags_high_bit_with_eflags);
	tcase_add_test(tc, test_reader_rejects_length_above_max_message_with_elength);
	tcase_add_test(tc, test_reader_rejects_frame_extending_past_wpos_with_elength);
	tcase_add_test(tc, test_reader_rejects_frame_extending_past_end_of_data_area_with_elength);
	tcase_add_test(tc, test_reader_rejects_pad_not_reaching_end_exactly_with_elength);
	tcase_add_test(tc, test_reader_rejects_pad_reaching_past_wpos_with_elength);
	tcase_add_test(tc, test_reader_rejects_pad_with_bad_crc_with_ecrc);
	tcase_add_test(tc, test_reader_rejects_pad_with_wrong_seq_with_eseq);
	tcase_add_test(tc, test_reader_ignores_pad_body_and_payload_alignment_bytes);
	tcase_add_test(tc, test_reader_rejects_bumped_payload_byte_with_ecrc);
	tcase_add_test(tc, test_reader_rejects_bumped_crc_byte_with_ecrc);
	tcase_add_test(tc, test_reader_rejects_duplicate_seq_with_eseq);
	tcase_add_test(tc, test_reader_rejects_seq_gap_with_eseq);
	tcase_add_test(tc, test_reader_rejects_stale_frame_from_earlier_lap_with_eseq);
	tcase_add_test(tc, test_reader_rejects_a_wrong_position_stamp_with_eseq);
	tcase_add_test(
	        tc, test_reader_rejects_a_stale_frame_with_the_expected_seq_by_its_position_stamp);
	suite_add_tcase(s, tc);

	tc = tcase_create("sticky");
	tcase_add_test(tc, test_crc_reject_stays_after_the_byte_is_repaired);
	tcase_add_test(tc, test_position_reject_stays_after_wpos_is_repaired);
	tcase_add_test(tc, test_reject_is_counted_in_rerrors_and_rlasterr);
	tcase_add_test(tc, test_etoosmall_is_not_sticky_and_reports_the_needed_size);
	tcase_add_test(tc, test_writer_rejects_misaligned_rpos_with_ealign_once_ring_looks_full);
	tcase_add_test(tc, test_writer_rejects_rpos_ahead_of_wpos_with_epos_once_ring_looks_full);
	suite_add_tcase(s, tc);

	tc = tcase_create("round_trip");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_zero_length_message_round_trips);
	tcase_add_test(tc, test_one_byte_message_round_trips);
	tcase_add_test(tc, test_max_message_round_trips);
	tcase_add_test(tc, test_message_above_max_message_is_refused_with_emsgsize);
	tcase_add_test(tc, test_full_ring_refuses_write_and_empty_ring_refuses_read_with_eagain);
	tcase_add_test(tc, test_message_not_fitting_the_tail_is_preceded_by_a_pad_frame);
	tcase_add_test(tc, test_tail_shorter_than_a_header_is_skipped_without_a_frame);
	tcase_add_test(tc, test_random_sizes_round_trip_through_a_256_byte_ring_for_500_laps);
	tcase_add_test(tc, test_random_sizes_round_trip_through_a_4096_byte_ring_for_300_laps);
	suite_add_tcase(s, tc);

	tc = tcase_create("zero_copy");
	tcase_add_test(tc, test_reserve_then_shorter_commit_delivers_the_committed_bytes);
	tcase_add_test(tc, test_commit_without_reserve_is_estate);
	tcase_add_test(tc, test_reserve_twice_is_estate);
	tcase_add_test(tc, test_commit_longer_than_reserved_is_einval);
	tcase_add_test(tc, test_peek_then_release_consumes_the_message);
	tcase_add_test(tc, test_release_without_peek_is_estate);
	tcase_add_test(tc, test_read_or_peek_while_peeked_is_estate);
	tcase_add_test(tc, test_peek_on_a_corrupted_payload_is_ecrc);
	suite_add_tcase(s, tc);

	tc = tcase_create("takeover");
	tcase_add_test(tc, test_new_writer_reuses_the_seq_of_a_frame_that_was_never_published);
	tcase_add_test(tc, test_new_writer_repair_looks_past_a_skipped_short_tail);
	tcase_add_test(tc, test_new_reader_redelivers_a_message_whose_rpos_store_was_lost);
	tcase_add_test(tc, test_new_reader_does_not_redeliver_a_frame_consumed_a_lap_ago);
	tcase_add_test(tc, test_attach_on_a_clean_ring_continues_the_sequence_without_repair);
	tcase_add_test(
	        tc,
	        test_clean_writer_attach_after_a_frame_filling_the_whole_ring_continues_the_sequence);
	tcase_add_test(
	        tc,
	        test_clean_writer_attach_after_a_frame_leaving_a_skipped_tail_continues_the_sequence);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_main_both_paths(ring_suite);
}
