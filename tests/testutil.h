/* testutil.h - shared helpers for the Check test suites: unique segment names that are cleaned
 * up even when a test fails, segment images in private memory, and named byte edits
 * (LevelDB log_test style: set a byte, bump a byte, fix up a checksum) so that each reject test
 * reads like a sentence. Header-only; every suite includes it once.
 */
#ifndef SHMF_TESTUTIL_H
#define SHMF_TESTUTIL_H

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shmframe.h"
#include "internal.h"
#include "bytes.h"

/* ---- exiting from forked children ----------------------------------------------------------- */

#ifdef SHMF_GCOV
void __gcov_dump(void); /* gcc's runtime: write coverage counters now */
#endif

/* _exit() for a child a test forked, which keeps its coverage counters in coverage builds. */
static inline void tu_exit(int code)
{
#ifdef SHMF_GCOV
	__gcov_dump();
#endif
	_exit(code);
}

/* ---- names --------------------------------------------------------------------------------- */

/* Set by tu_main() before any test runs; forked test processes inherit it. */
static pid_t tu_runner_pid;
static unsigned tu_name_counter;

/* A fresh name: "/shmft-<runner>-<pid>-<n>-<tag>". tu_main() removes every name of its runner
 * that a failed test left behind. */
static inline const char *tu_name(char buf[96], const char *tag)
{
	snprintf(buf, 96, "/shmft-%ld-%ld-%u-%s", (long)tu_runner_pid, (long)getpid(),
	         tu_name_counter++, tag);
	return buf;
}

/* Remove names left by this runner; returns how many there were. */
static inline int tu_cleanup_names(void)
{
	char prefix[64];
	int n = 0;
	DIR *d = opendir("/dev/shm");
	struct dirent *e;

	if (d == NULL)
		return 0;
	snprintf(prefix, sizeof prefix, "shmft-%ld-", (long)tu_runner_pid);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			char path[300];
			snprintf(path, sizeof path, "/%s", e->d_name);
			shm_unlink(path);
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Run a suite; exit 1 on any failure, or when a test left a name in /dev/shm. */
static inline int tu_main(Suite *s)
{
	SRunner *sr;
	int failed, left;

	tu_runner_pid = getpid();
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	left = tu_cleanup_names();
	if (left != 0)
		fprintf(stderr, "%d segment name(s) were left in /dev/shm (removed now)\n", left);
	return (failed == 0 && left == 0) ? 0 : 1;
}

/* ---- descriptors ---------------------------------------------------------------------------- */

/* How many descriptors this process has open: a call that failed must leave as many as before. */
static inline int tu_count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* not the one opendir() held */
}

/* ---- mapping a segment from the test's side ---------------------------------------------- */

/* Map a segment by name, read-write, as an attacker with our uid would. */
static inline unsigned char *tu_map(const char *name, size_t *size)
{
	struct stat st;
	int fd = shm_open(name, O_RDWR, 0);
	void *p;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	*size = (size_t)st.st_size;
	p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	close(fd);
	return p;
}

static inline void tu_unmap(unsigned char *p, size_t size)
{
	munmap(p, size);
}

/* ---- named byte edits ---------------------------------------------------------------------- */

static inline void tu_set8(unsigned char *p, size_t off, uint8_t v)
{
	p[off] = v;
}
static inline void tu_bump8(unsigned char *p, size_t off)
{
	p[off] = (uint8_t)(p[off] + 1u);
}
static inline void tu_set16(unsigned char *p, size_t off, uint16_t v)
{
	shmf_st16(p + off, v);
}
static inline void tu_set32(unsigned char *p, size_t off, uint32_t v)
{
	shmf_st32(p + off, v);
}
static inline void tu_set64(unsigned char *p, size_t off, uint64_t v)
{
	shmf_st64(p + off, v);
}
static inline uint32_t tu_get32(const unsigned char *p, size_t off)
{
	return shmf_ld32(p + off);
}
static inline uint64_t tu_get64(const unsigned char *p, size_t off)
{
	return shmf_ld64(p + off);
}

/* Recompute the header CRC after an edit, so that the check behind it is the one that fires. */
static inline void tu_fix_header_crc(unsigned char *seg)
{
	shmf_st32(seg + SHMF_H_HEADER_CRC, shmf_crc32c(0, seg, SHMF_HEADER_CRC_LEN));
}

/* Recompute the CRC of the frame at `frame` (a MSG covers its payload, a PAD only its header). */
static inline void tu_fix_frame_crc(unsigned char *frame)
{
	uint32_t len = shmf_ld32(frame + SHMF_F_LENGTH);
	uint16_t type = shmf_ld16(frame + SHMF_F_TYPE);
	uint32_t crc = shmf_crc32c(0, frame + SHMF_F_LENGTH, SHMF_FRAME_HEADER - SHMF_F_LENGTH);
	if (type == SHMF_TYPE_MSG)
		crc = shmf_crc32c(crc, frame + SHMF_FRAME_HEADER, len);
	shmf_st32(frame + SHMF_F_CRC, crc);
}

/* ---- segment images in private memory ------------------------------------------------------ */

/* A formatted segment in private (page-aligned, zeroed) memory, with both rings bound: the
 * library's own formatting and ring code, no OS involved. */
typedef struct tu_image {
	unsigned char *base;
	size_t size;
	shmf_geom g;
	shmf_ring w0, r0; /* ring 0's writer and reader */
} tu_image;

/* Nonzero: rings bound through tu_ring_bind() take the portable fast path even where the CPU has
 * the CRC instruction (src/ring.c builds each body twice), so that a suite can run both. */
static int tu_ring_portable;

static inline void tu_ring_bind(shmf_ring *r, unsigned char *base, unsigned ring,
                                const shmf_geom *g)
{
	shmf_ring_bind(r, base, ring, g);
	if (tu_ring_portable)
		r->hw = 0;
}

/* Run the suite that make() builds twice: rings on the path this CPU takes, then on the portable
 * one (tu_ring_portable). Where the CPU lacks the instruction both runs take the portable path. */
static inline int tu_main_both_paths(Suite *(*make)(void))
{
	int rc = tu_main(make());

	tu_ring_portable = 1;
	rc |= tu_main(make());
	tu_ring_portable = 0;
	return rc;
}

/* Allocate and format the image for the geometry in im->g, and bind ring 0's two ends. */
static inline void tu_image_setup(tu_image *im)
{
	im->g.creator_uid = 1000;
	im->g.created_ns = 1767225600000000000ull;
	im->size = (size_t)im->g.total_size;
	im->base = aligned_alloc(4096, im->size);
	ck_assert_ptr_nonnull(im->base);
	memset(im->base, 0, im->size);
	shmf_segment_format(im->base, &im->g);
	tu_ring_bind(&im->w0, im->base, 0, &im->g);
	tu_ring_bind(&im->r0, im->base, 0, &im->g);
	ck_assert_int_eq(shmf_ring_writer_attach(&im->w0), 0);
	ck_assert_int_eq(shmf_ring_reader_attach(&im->r0), 0);
}

static inline void tu_image_init(tu_image *im, size_t capacity, size_t max_message, int simplex)
{
	shmf_config cfg;

	shmf_config_init(&cfg);
	cfg.capacity = capacity;
	cfg.max_message = max_message;
	cfg.flags = simplex ? SHMF_SIMPLEX : 0;
	memset(im, 0, sizeof *im);
	ck_assert_int_eq(shmf_geom_from_config(&cfg, &im->g), 0);
	tu_image_setup(im);
}

/* The same, for a geometry that PROTOCOL.md 2.4 forbids (frames of more than half the
 * capacity): shmf_geom_from_config() would refuse it, so the geometry is laid out here. Only for
 * tests that check the ring code stays safe on such rings; a writer may stall on them. */
static inline void tu_image_init_unchecked(tu_image *im, size_t capacity, size_t max_message)
{
	memset(im, 0, sizeof *im);
	im->g.ring_count = 1;
	im->g.max_message = (uint32_t)max_message;
	im->g.cap[0] = capacity;
	im->g.data_off[0] = SHMF_CTL_AREA;
	im->g.total_size =
	        SHMF_CTL_AREA + ((capacity + SHMF_PAGE - 1u) & ~(uint64_t)(SHMF_PAGE - 1u));
	tu_image_setup(im);
}

static inline void tu_image_free(tu_image *im)
{
	free(im->base);
	im->base = NULL;
}

/* Address of ring 0's data area and control block in an image. */
static inline unsigned char *tu_data0(tu_image *im)
{
	return im->base + im->g.data_off[0];
}
static inline unsigned char *tu_ctl0(tu_image *im)
{
	return im->base + SHMF_RING_CTL(0);
}

/* Deterministic payload bytes: a function of (seed, seq, index). */
static inline uint8_t tu_byte(uint64_t seed, uint64_t seq, size_t i)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull ^ (seq + 1) * 0xBF58476D1CE4E5B9ull ^ (uint64_t)i;
	x ^= x >> 31;
	x *= 0x94D049BB133111EBull;
	x ^= x >> 29;
	return (uint8_t)x;
}

static inline void tu_fill(uint8_t *buf, size_t len, uint64_t seed, uint64_t seq)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = tu_byte(seed, seq, i);
}

static inline int tu_check_fill(const uint8_t *buf, size_t len, uint64_t seed, uint64_t seq)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != tu_byte(seed, seq, i))
			return 0;
	return 1;
}

/* xorshift64*: seeded, printable, reproducible. */
static inline uint64_t tu_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

/* The seed for randomised tests: SHMF_TEST_SEED from the environment, else the time. Printed, so
 * that a failure can be rerun with the same seed. */
static inline uint64_t tu_seed(const char *test)
{
	const char *env = getenv("SHMF_TEST_SEED");
	uint64_t s =
	        env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (s == 0)
		s = 1;
	fprintf(stderr, "%s: seed %" PRIu64 " (rerun with SHMF_TEST_SEED=%" PRIu64 ")\n", test, s,
	        s);
	return s;
}

#endif
