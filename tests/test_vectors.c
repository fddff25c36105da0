/* test_vectors.c - the library writes byte for byte what tests/vectors/encoder.py, an encoder
 * written from docs/PROTOCOL.md alone, wrote into the .bin files of tests/vectors/ (PROTOCOL.md
 * section 11). */
#include "testutil.h"

#define VEC_DIR SHMF_SOURCE_DIR "/tests/vectors/"

static unsigned char *load(const char *file, size_t *len)
{
	char path[512];
	FILE *f;
	unsigned char *buf;
	long n;

	snprintf(path, sizeof path, "%s%s", VEC_DIR, file);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_gt(n, 0);
	rewind(f);
	buf = malloc((size_t)n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void assert_same(const char *file, const unsigned char *got, size_t got_len)
{
	size_t want_len;
	unsigned char *want = load(file, &want_len);

	ck_assert_uint_eq(got_len, want_len);
	for (size_t i = 0; i < want_len; i++)
		ck_assert_msg(got[i] == want[i], "%s: byte 0x%zx is %02x, the vector says %02x",
		              file, i, got[i], want[i]);
	free(want);
}

/* A MSG frame as the ring writer lays it out: header, payload, zero padding. */
static void check_msg(const char *file, uint64_t seq, uint64_t pos, const char *payload)
{
	size_t len = strlen(payload);
	size_t size = (size_t)shmf_frame_size(len);
	unsigned char buf[256] = {0};

	shmf_frame_hdr_encode(buf, SHMF_TYPE_MSG, (uint32_t)len, seq, pos, payload);
	memcpy(buf + SHMF_FRAME_HEADER, payload, len);
	assert_same(file, buf, size);
}

START_TEST(test_frame_msg_hello_matches)
{
	check_msg("frame_msg_hello.bin", 0, 0, "Hello from Writer!");
}
END_TEST

START_TEST(test_frame_msg_empty_matches)
{
	check_msg("frame_msg_empty.bin", 5, 0x12345678, "");
}
END_TEST

START_TEST(test_frame_pad_matches)
{
	unsigned char buf[40] = {0};

	shmf_frame_hdr_encode(buf, SHMF_TYPE_PAD, 16, 7, 216, NULL);
	assert_same("frame_pad_40.bin", buf, sizeof buf);
}
END_TEST

START_TEST(test_segment_two_matches)
{
	tu_image im;

	tu_image_init(&im, 256, 104, 0);
	ck_assert_int_eq(shmf_ring_write(&im.w0, "Hello from Writer!", 18), 0);
	ck_assert_int_eq(shmf_ring_write(&im.w0, "Hello again", 11), 0);
	assert_same("segment_two.bin", im.base, im.size);
	tu_image_free(&im);
}
END_TEST

/* count messages of len bytes, byte i of message k = (k*16 + i) & 0xFF, the reader draining
 * after each. */
static void wrap_image(const char *file, int count, size_t len)
{
	tu_image im;
	uint8_t msg[64], got[64];

	tu_image_init(&im, 256, 64, 1);
	for (int k = 0; k < count; k++) {
		size_t n;
		for (size_t i = 0; i < len; i++)
			msg[i] = (uint8_t)(((size_t)k * 16u + i) & 0xFFu);
		ck_assert_int_eq(shmf_ring_write(&im.w0, msg, len), 0);
		ck_assert_int_eq(shmf_ring_read(&im.r0, got, sizeof got, &n), 0);
		ck_assert_uint_eq(n, len);
		ck_assert_mem_eq(got, msg, len);
	}
	assert_same(file, im.base, im.size);
	tu_image_free(&im);
}

START_TEST(test_segment_wrap_matches)
{
	wrap_image("segment_wrap.bin", 7, 44);
}
END_TEST

START_TEST(test_segment_skip_matches)
{
	wrap_image("segment_skip.bin", 5, 56);
}
END_TEST

/* The reader accepts the encoder's image: both messages come back. */
START_TEST(test_reader_decodes_encoder_image)
{
	tu_image im;
	size_t len;
	unsigned char *bin = load("segment_two.bin", &len);
	char buf[256];
	size_t n;

	tu_image_init(&im, 256, 104, 0);
	ck_assert_uint_eq(len, im.size);
	memcpy(im.base, bin, len);
	ck_assert_int_eq(shmf_ring_reader_attach(&im.r0), 0);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, sizeof buf, &n), 0);
	ck_assert_uint_eq(n, 18);
	ck_assert_mem_eq(buf, "Hello from Writer!", 18);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, sizeof buf, &n), 0);
	ck_assert_uint_eq(n, 11);
	ck_assert_mem_eq(buf, "Hello again", 11);
	ck_assert_int_eq(shmf_ring_read(&im.r0, buf, sizeof buf, &n), SHMF_EAGAIN);
	free(bin);
	tu_image_free(&im);
}
END_TEST

/* The header of the encoder's image passes every attach check. */
START_TEST(test_encoder_header_validates)
{
	size_t len;
	unsigned char *bin = load("segment_two.bin", &len);
	shmf_geom g;

	ck_assert_int_eq(shmf_header_validate(bin, len, 1000, 0600, &g), 0);
	ck_assert_uint_eq(g.cap[0], 256);
	ck_assert_uint_eq(g.max_message, 104);
	free(bin);
}
END_TEST

static Suite *vectors_suite(void)
{
	Suite *s = suite_create("vectors");
	TCase *tc = tcase_create("vectors");

	tcase_add_test(tc, test_frame_msg_hello_matches);
	tcase_add_test(tc, test_frame_msg_empty_matches);
	tcase_add_test(tc, test_frame_pad_matches);
	tcase_add_test(tc, test_segment_two_matches);
	tcase_add_test(tc, test_segment_wrap_matches);
	tcase_add_test(tc, test_segment_skip_matches);
	tcase_add_test(tc, test_reader_decodes_encoder_image);
	tcase_add_test(tc, test_encoder_header_validates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_main_both_paths(vectors_suite);
}
