/* test_crc32c.c - CRC-32C (PROTOCOL.md 3): known vectors, chaining, hardware vs table vs bitwise.
 */
#include "testutil.h"

#include "atomics.h" /* the fused copies */

typedef uint32_t (*crc_fn)(uint32_t crc, const void *buf, size_t len);

static const struct {
	const char *name;
	crc_fn fn;
} impls[] = {
        {"shmf_crc32c", shmf_crc32c},
        {"shmf_crc32c_sw", shmf_crc32c_sw},
        {"shmf_crc32c_hw", shmf_crc32c_hw},
};
#define N_IMPLS (sizeof impls / sizeof impls[0])

/* The reference: one bit at a time, reflected polynomial 0x82F63B78, straight from the table of
 * parameters in PROTOCOL.md 3 (init 0xFFFFFFFF, final xor 0xFFFFFFFF), chaining like the library.
 */
static uint32_t ref_crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	uint32_t c = ~crc;

	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

/* Assert that every implementation gives `want` for buf. */
static void check_vector(const char *what, const uint8_t *buf, size_t len, uint32_t want)
{
	for (size_t i = 0; i < N_IMPLS; i++) {
		uint32_t got = impls[i].fn(0, buf, len);
		ck_assert_msg(got == want, "%s(%s) = 0x%08" PRIX32 ", want 0x%08" PRIX32,
		              impls[i].name, what, got, want);
	}
	ck_assert_msg(ref_crc32c(0, buf, len) == want, "the bitwise reference disagrees on %s",
	              what);
}

START_TEST(test_check_value_of_123456789_is_e3069283)
{
	const char *s = "123456789";
	check_vector("\"123456789\"", (const uint8_t *)s, strlen(s), 0xE3069283u);
}
END_TEST

START_TEST(test_empty_input_gives_zero_and_keeps_a_chained_crc)
{
	uint8_t dummy = 0xA5;
	for (size_t i = 0; i < N_IMPLS; i++) {
		ck_assert_uint_eq(impls[i].fn(0, &dummy, 0), 0);
		ck_assert_uint_eq(impls[i].fn(0xE3069283u, &dummy, 0), 0xE3069283u);
	}
}
END_TEST

START_TEST(test_rfc3720_32_zero_bytes_give_8a9136aa)
{
	uint8_t b[32];
	memset(b, 0x00, sizeof b);
	check_vector("32 x 0x00", b, sizeof b, 0x8A9136AAu);
}
END_TEST

START_TEST(test_rfc3720_32_ff_bytes_give_62a8ab43)
{
	uint8_t b[32];
	memset(b, 0xFF, sizeof b);
	check_vector("32 x 0xFF", b, sizeof b, 0x62A8AB43u);
}
END_TEST

START_TEST(test_rfc3720_incrementing_bytes_give_46dd794e)
{
	uint8_t b[32];
	for (size_t i = 0; i < sizeof b; i++)
		b[i] = (uint8_t)i;
	check_vector("0x00..0x1F", b, sizeof b, 0x46DD794Eu);
}
END_TEST

START_TEST(test_rfc3720_decrementing_bytes_give_113fdb5c)
{
	uint8_t b[32];
	for (size_t i = 0; i < sizeof b; i++)
		b[i] = (uint8_t)(31u - i);
	check_vector("0x1F..0x00", b, sizeof b, 0x113FDB5Cu);
}
END_TEST

START_TEST(test_rfc3720_iscsi_read_command_pdu_gives_d9963a56)
{
	static const uint8_t b[48] = {
	        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
	        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	check_vector("iSCSI read command PDU", b, sizeof b, 0xD9963A56u);
}
END_TEST

START_TEST(test_layout_fingerprint_is_the_crc_of_its_description)
{
	/* PROTOCOL.md 2.1: the fingerprint is the CRC-32C of these 67 ASCII bytes. */
	const char *s = "SHMF/1 header=128 role=64 ringctl=256 ctlarea=4096 frame=24 align=8";
	ck_assert_uint_eq(strlen(s), 67);
	check_vector("the layout description", (const uint8_t *)s, strlen(s), SHMF_FINGERPRINT);
	ck_assert_uint_eq(SHMF_FINGERPRINT, 0x9D825D65u);
}
END_TEST

START_TEST(test_crc_of_a_then_b_equals_crc_of_b_chained_on_crc_of_a)
{
	uint8_t buf[300];
	uint64_t s = 0x5EED5EEDu;

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)tu_rand(&s);
	for (size_t f = 0; f < N_IMPLS; f++) {
		crc_fn fn = impls[f].fn;
		uint32_t whole = fn(0, buf, sizeof buf);
		ck_assert_uint_eq(whole, ref_crc32c(0, buf, sizeof buf));
		for (size_t cut = 0; cut <= sizeof buf; cut++) {
			uint32_t a = fn(0, buf, cut);
			uint32_t ab = fn(a, buf + cut, sizeof buf - cut);
			ck_assert_msg(ab == whole,
			              "%s: split at %zu gives 0x%08" PRIX32 ", whole 0x%08" PRIX32,
			              impls[f].name, cut, ab, whole);
		}
		/* Three pieces too, and a chain across implementations. */
		uint32_t c = shmf_crc32c(0, buf, 5);
		c = shmf_crc32c_sw(c, buf + 5, 100);
		c = fn(c, buf + 105, sizeof buf - 105);
		ck_assert_uint_eq(c, whole);
	}
}
END_TEST

START_TEST(test_chaining_matches_the_check_value_split_anywhere)
{
	const uint8_t *s = (const uint8_t *)"123456789";
	for (size_t cut = 0; cut <= 9; cut++)
		ck_assert_uint_eq(shmf_crc32c(shmf_crc32c(0, s, cut), s + cut, 9 - cut),
		                  0xE3069283u);
}
END_TEST

START_TEST(test_hardware_and_table_agree_on_random_misaligned_buffers)
{
	enum { MAXLEN = 4096, SLACK = 64, CASES = 12000 };
	uint64_t s = tu_seed("test_hardware_and_table_agree_on_random_misaligned_buffers");
	uint8_t *mem = aligned_alloc(64, MAXLEN + SLACK);

	ck_assert_ptr_nonnull(mem);
	if (!shmf_crc32c_hw_available())
		fprintf(stderr,
		        "test_crc32c: no CRC-32C instruction on this CPU; shmf_crc32c_hw falls "
		        "back to the table, so this test compares the table with itself\n");
	for (int n = 0; n < CASES; n++) {
		size_t off = (size_t)(tu_rand(&s) % SLACK);
		size_t len = (size_t)(tu_rand(&s) % (MAXLEN + 1));
		uint32_t init = (n & 1) ? (uint32_t)tu_rand(&s) : 0;
		uint8_t *p = mem + off;

		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)tu_rand(&s);
		uint32_t sw = shmf_crc32c_sw(init, p, len);
		uint32_t hw = shmf_crc32c_hw(init, p, len);
		uint32_t any = shmf_crc32c(init, p, len);
		ck_assert_msg(hw == sw && any == sw,
		              "case %d (offset %zu, length %zu, init 0x%08" PRIX32
		              "): sw 0x%08" PRIX32 " hw 0x%08" PRIX32 " crc32c 0x%08" PRIX32,
		              n, off, len, init, sw, hw, any);
		/* The bitwise reference is slow: hold every eighth case, and all the short ones, to
		 * it. */
		if ((n & 7) == 0 || len < 64)
			ck_assert_msg(ref_crc32c(init, p, len) == sw,
			              "case %d (offset %zu, length %zu): table disagrees with the "
			              "bitwise "
			              "reference",
			              n, off, len);
	}
	free(mem);
}
END_TEST

/* The fused copies of the fast path (atomics.h): copy in, copy out, and checksum in place, each
 * with and without a frame header, at every alignment and across the lengths where the code
 * switches between byte, word, 32-byte and three-stream steps. The CRC must be the frame CRC of
 * PROTOCOL.md 4 (header bytes 4..24, then the payload) and the bytes must arrive intact. */
START_TEST(test_fused_copies_give_the_frame_crc_and_the_bytes)
{
	enum { MAXLEN = 7 * 1024, SLACK = 64 }; /* aligned_alloc: a multiple of 64 */
	static const size_t lens[] = {0,   1,   3,    4,    7,    8,    9,    31,   32,
	                              33,  191, 192,  193,  215,  216,  255,  256,  767,
	                              768, 769, 1023, 3071, 3072, 3073, 3095, 3096, 6200};
	uint64_t s = tu_seed("test_fused_copies_give_the_frame_crc_and_the_bytes");
	uint8_t *src = aligned_alloc(64, MAXLEN + SLACK);
	uint8_t *dst = aligned_alloc(64, MAXLEN + SLACK);
	_Alignas(8) uint8_t hdr[24];

	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(dst);
	for (size_t i = 0; i < sizeof hdr; i++)
		hdr[i] = (uint8_t)tu_rand(&s);
	for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
		for (size_t so = 0; so < 8; so++) {
			size_t n = lens[li], dof = (so * 3) % 8;
			uint8_t *p = src + so, *q = dst + dof;
			uint32_t init = (so & 1) ? (uint32_t)tu_rand(&s) : 0;

			for (size_t i = 0; i < n; i++)
				p[i] = (uint8_t)tu_rand(&s);
			for (int with_hdr = 0; with_hdr < 2; with_hdr++) {
				const uint8_t *h = with_hdr ? hdr : NULL;
				uint32_t want = ref_crc32c(
				        h != NULL ? ref_crc32c(init, hdr + 4, 20) : init, p, n);
				memset(q, 0xA5, n + 1);
				ck_assert_uint_eq(shmf_crc32c_copy_in(init, h, q, p, n), want);
				ck_assert_int_eq(memcmp(q, p, n), 0);
				ck_assert_int_eq(q[n], 0xA5); /* not one byte more */
				memset(q, 0x5A, n + 1);
				ck_assert_uint_eq(shmf_crc32c_copy_out(init, h, q, p, n), want);
				ck_assert_int_eq(memcmp(q, p, n), 0);
				ck_assert_int_eq(q[n], 0x5A);
				ck_assert_uint_eq(shmf_crc32c_copy_out(init, h, NULL, p, n), want);
			}
		}
	}
	free(src);
	free(dst);
}
END_TEST

/* The lengths where the three streams' split changes: every length up to 3,200 (each block size
 * of the last set of three, any multiple of 8 up to 1024 where they are joined by carry-less
 * multiplication, 256 and 1024 where by lookups, with every tail of 0-23 bytes after it), and 200
 * lengths spread over the next 3,200, after a first 3 KiB set. Every pass (plain, copy in, copy
 * out, in place) against the table. */
START_TEST(test_every_length_of_the_three_stream_split_matches_the_table)
{
	enum { FIRST = 3200, SECOND = 200, BASE = 3 * 1024, MAXLEN = BASE + 3200 };
	uint64_t s = tu_seed("test_every_length_of_the_three_stream_split_matches_the_table");
	uint8_t *src = aligned_alloc(64, MAXLEN + 64);
	uint8_t *dst = aligned_alloc(64, MAXLEN + 64);
	_Alignas(8) uint8_t hdr[24];

	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(dst);
	for (size_t i = 0; i < MAXLEN + 64; i++)
		src[i] = (uint8_t)tu_rand(&s);
	for (size_t i = 0; i < sizeof hdr; i++)
		hdr[i] = (uint8_t)tu_rand(&s);
	for (size_t k = 0; k < FIRST + SECOND; k++) {
		size_t n = k < FIRST ? k : BASE + (k - FIRST) * 16 + k % 16;
		uint32_t init = (uint32_t)tu_rand(&s);
		uint32_t want = shmf_crc32c_sw(init, src, n);
		uint32_t want_h = shmf_crc32c_sw(shmf_crc32c_sw(init, hdr + 4, 20), src, n);

		ck_assert_msg(shmf_crc32c_hw(init, src, n) == want, "length %zu", n);
		ck_assert_msg(shmf_crc32c_copy_in(init, hdr, dst, src, n) == want_h,
		              "copy in, length %zu", n);
		ck_assert_int_eq(memcmp(dst, src, n), 0);
		ck_assert_msg(shmf_crc32c_copy_out(init, hdr, dst, src, n) == want_h,
		              "copy out, length %zu", n);
		ck_assert_msg(shmf_crc32c_copy_out(init, NULL, NULL, src, n) == want,
		              "in place, length %zu", n);
	}
	free(src);
	free(dst);
}
END_TEST

START_TEST(test_every_short_length_at_every_alignment_matches_the_reference)
{
	uint8_t mem[64 + 16];
	uint64_t s = 12345;

	for (size_t i = 0; i < sizeof mem; i++)
		mem[i] = (uint8_t)tu_rand(&s);
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len <= 64; len++) {
			uint32_t want = ref_crc32c(0, mem + off, len);
			for (size_t f = 0; f < N_IMPLS; f++)
				ck_assert_msg(impls[f].fn(0, mem + off, len) == want,
				              "%s: offset %zu length %zu", impls[f].name, off, len);
		}
}
END_TEST

START_TEST(test_a_single_flipped_bit_changes_the_crc)
{
	uint8_t buf[64];
	uint64_t s = 99;

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)tu_rand(&s);
	uint32_t base = shmf_crc32c(0, buf, sizeof buf);
	for (size_t bit = 0; bit < 8 * sizeof buf; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_uint_ne(shmf_crc32c(0, buf, sizeof buf), base);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	ck_assert_uint_eq(shmf_crc32c(0, buf, sizeof buf), base);
}
END_TEST

static Suite *crc32c_suite(void)
{
	Suite *s = suite_create("crc32c");
	TCase *vec = tcase_create("vectors");
	TCase *chain = tcase_create("chaining");
	TCase *cmp = tcase_create("implementations");

	tcase_add_test(vec, test_check_value_of_123456789_is_e3069283);
	tcase_add_test(vec, test_empty_input_gives_zero_and_keeps_a_chained_crc);
	tcase_add_test(vec, test_rfc3720_32_zero_bytes_give_8a9136aa);
	tcase_add_test(vec, test_rfc3720_32_ff_bytes_give_62a8ab43);
	tcase_add_test(vec, test_rfc3720_incrementing_bytes_give_46dd794e);
	tcase_add_test(vec, test_rfc3720_decrementing_bytes_give_113fdb5c);
	tcase_add_test(vec, test_rfc3720_iscsi_read_command_pdu_gives_d9963a56);
	tcase_add_test(vec, test_layout_fingerprint_is_the_crc_of_its_description);
	suite_add_tcase(s, vec);

	tcase_add_test(chain, test_crc_of_a_then_b_equals_crc_of_b_chained_on_crc_of_a);
	tcase_add_test(chain, test_chaining_matches_the_check_value_split_anywhere);
	suite_add_tcase(s, chain);

	tcase_set_timeout(cmp, 120);
	tcase_add_test(cmp, test_hardware_and_table_agree_on_random_misaligned_buffers);
	tcase_add_test(cmp, test_every_short_length_at_every_alignment_matches_the_reference);
	tcase_add_test(cmp, test_fused_copies_give_the_frame_crc_and_the_bytes);
	tcase_add_test(cmp, test_every_length_of_the_three_stream_split_matches_the_table);
	tcase_add_test(cmp, test_a_single_flipped_bit_changes_the_crc);
	suite_add_tcase(s, cmp);
	return s;
}

int main(void)
{
	return tu_main(crc32c_suite());
}
