/* segment.c - fuzz target: a whole segment image, attached through the real channel API.
 *
 * The input is the segment's bytes. The harness puts them in a memfd of exactly that size
 * (ftruncate + write), attaches as side B with shmf_attach_fd_internal() (every check of
 * PROTOCOL.md 6.2 from A3 on, then the rings), drains its receive ring with shmf_recv(timeout 0)
 * (or shmf_peek + shmf_release) until a call returns non-zero, closes; then attaches as side A
 * to what B left in the memfd and drains ring 1 the same way.
 *
 * Sizes: an input over 1 MiB is skipped (the .options file caps libFuzzer at that). An input
 * under 4096 bytes is still put in a memfd of its exact size: the attach must then fail with
 * SHMF_ESIZE (or SHMF_ENOTREADY for 0 bytes) without mapping anything (A5).
 *
 * Harness conventions, so that one file can reach every check:
 *   - creator_uid 1000 (the uid of the test vectors) stands for "the caller's uid": the harness
 *     writes geteuid() there, and fixes the header CRC if it was right before. Any other value is
 *     kept, which is how an input reaches SHMF_EOWNER (A14).
 *   - bytes 0xFF0..0xFFF of the control area, reserved by the protocol and ignored by readers,
 *     steer the harness (when the input has them):
 *       0xFF0 u32  if not 0, the memfd's permission bits (& 0777); else the header's mode & 0777
 *                  (a non-zero value broader than the header's mode reaches SHMF_EMODE, A15)
 *       0xFF4 u32  if not 0, the first receive buffer holds value - 1 bytes (SHMF_ETOOSMALL);
 *                  after an SHMF_ETOOSMALL, and otherwise, the buffer holds max_message bytes
 *       0xFF8 u32  bit 0: drain with shmf_peek/shmf_release instead of shmf_recv
 *
 * Oracle (model.h, written from the spec alone, replayed on the same bytes):
 *   - each attach returns exactly the model's code (when both rings fail A18, either ring's);
 *   - each receive returns exactly the model's code, SHMF_ETOOSMALL with the model's length, and
 *     each delivered message has the model's length (<= max_message) and the model's bytes, i.e.
 *     the payload at the reader's position in the image, whose independent CRC matched;
 *   - a reject is sticky: one more call returns the same code;
 *   - after close, the reader's control block holds the rpos/rseq of the last consumed frame
 *     (PROTO 5.4), rerrors counts the one reject and rlasterr names it (6.4), and the role line
 *     says detached with the epoch one higher (7);
 *   - the drain makes progress: at most size / 8 + 16 calls per session (no hang).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "model.h"
#include "internal.h"

#define FZ_SEG_MAX      (1u << 20)
#define FZ_SYMBOLIC_UID 1000u
#define FZ_CTL_FILEMODE 0xFF0u
#define FZ_CTL_RECVCAP  0xFF4u
#define FZ_CTL_FLAGS    0xFF8u

static int trace; /* SHMF_FUZZ_VERBOSE: say what each session did */

/* A private copy of the memfd's bytes, exact size. */
static uint8_t *read_back(int fd, size_t size)
{
	uint8_t *img = malloc(size != 0 ? size : 1);
	size_t done = 0;

	FZ_CHECK(img != NULL, "out of memory");
	while (done < size) {
		ssize_t n = pread(fd, img + done, size - done, (off_t)done);
		FZ_CHECK(n > 0, "pread");
		done += (size_t)n;
	}
	return img;
}

/* One attach as `side`, drain its receive ring, close: checked against the model run on `img`,
 * the memfd's bytes before the attach. */
static void session(int fd, int side, const uint8_t *img, size_t size, uint32_t file_mode,
                    uint32_t recv_cap, uint32_t flags)
{
	const uint32_t euid = (uint32_t)geteuid();
	unsigned out = side == SHMF_SIDE_A ? 0u : 1u, in = 1u - out;
	shmf_channel *ch = NULL;
	fz_reader m;
	fz_geom g = {0};
	int has_rx = 0;
	int want, alt, rc;

	memset(&m, 0, sizeof m);
	want = fz_header_check(img, size, euid, file_mode, &g);
	alt = want;
	if (want == 0 && fz_ld32(img + FZ_ROLE(side)) > 2u) {
		want = alt = SHMF_EROLE; /* A17 */
	} else if (want == 0) {
		int etx = out < g.ring_count ? fz_writer_attach_check(img, &g, out) : 0;
		int erx = 0;
		has_rx = in < g.ring_count;
		if (has_rx)
			erx = fz_reader_attach(&m, img, &g, in);
		want = etx != 0 ? etx : erx; /* A18: the rings in either order */
		alt = erx != 0 ? erx : etx;
	}
	rc = shmf_attach_fd_internal(fd, side, &ch);
	FZ_CHECK(rc == want || rc == alt, "side %d attach: library %d, model %d/%d", side, rc, want,
	         alt);
	if (trace)
		fprintf(stderr, "  side %c: attach %d\n", side == SHMF_SIDE_A ? 'A' : 'B', rc);
	if (rc != 0) {
		FZ_CHECK(ch == NULL, "a failed attach returned a channel");
		return;
	}
	FZ_CHECK(ch != NULL && shmf_side(ch) == side && shmf_max_message(ch) == g.max_message,
	         "channel facts");

	if (!has_rx) {
		size_t len = 0;
		rc = shmf_recv(ch, NULL, 0, &len, 0);
		FZ_CHECK(rc == SHMF_ENOTSUP, "recv on a simplex side A: %d", rc);
		shmf_close(ch);
		return;
	}

	const uint8_t *ctl = img + FZ_CTL(in);
	uint32_t rerrors0 = fz_ld32(ctl + FZ_C_RERRORS), rlasterr0 = fz_ld32(ctl + FZ_C_RLASTERR);
	uint32_t epoch0 = fz_ld32(img + FZ_ROLE(side) + 4);
	size_t cap = recv_cap != 0 ? (size_t)recv_cap - 1u : g.max_message;
	uint8_t *buf = NULL;
	size_t bound = size / 8u + 16u;
	int peek = (flags & 1u) != 0;

	if (cap > FZ_SEG_MAX)
		cap = FZ_SEG_MAX;
	for (size_t i = 0;; i++) {
		const uint8_t *mp = NULL;
		uint32_t mlen = 0;
		size_t len = (size_t)-1;
		const void *p = NULL;

		FZ_CHECK(i < bound, "no progress after %zu receives", i);
		if (buf == NULL && cap != 0) {
			buf = malloc(cap); /* exact size: ASan sees an overflow */
			FZ_CHECK(buf != NULL, "out of memory");
		}
		if (peek) {
			rc = shmf_peek(ch, &p, &len, 0);
			want = fz_reader_next(&m, SIZE_MAX, &mp, &mlen);
		} else {
			rc = shmf_recv(ch, buf, cap, &len, 0);
			p = buf;
			want = fz_reader_next(&m, cap, &mp, &mlen);
		}
		FZ_CHECK(rc == want, "receive %zu: library %d, model %d", i, rc, want);
		if (rc == SHMF_ETOOSMALL) {
			FZ_CHECK(len == mlen && len > cap,
			         "ETOOSMALL length %zu, model %u, cap %zu", len, (unsigned)mlen,
			         cap);
			free(buf);
			buf = NULL;
			cap = g.max_message;
			continue;
		}
		if (rc != 0)
			break;
		FZ_CHECK(len == mlen && len <= g.max_message, "length %zu, model %u", len,
		         (unsigned)mlen);
		FZ_CHECK(len == 0 || memcmp(p, mp, len) == 0, "payload differs from the image");
		if (peek)
			FZ_CHECK(shmf_release(ch) == 0, "release after peek");
	}
	if (trace)
		fprintf(stderr, "  side %c: consumed up to seq %llu pos %llu, then %d\n",
		        side == SHMF_SIDE_A ? 'A' : 'B', (unsigned long long)m.shared_seq,
		        (unsigned long long)m.pos, rc);
	if (rc != SHMF_EAGAIN) { /* a reject: sticky (PROTO 6.4) */
		size_t len = 0;
		const void *p = NULL;
		int again = peek ? shmf_peek(ch, &p, &len, 0) : shmf_recv(ch, buf, cap, &len, 0);
		FZ_CHECK(again == rc, "reject %d not sticky: then %d", rc, again);
	}
	free(buf);
	FZ_CHECK(shmf_close(ch) == 0, "close");

	/* What the reader must have left in the segment. */
	uint8_t *after = read_back(fd, size);
	const uint8_t *actl = after + FZ_CTL(in);
	FZ_CHECK(fz_ld64(actl + FZ_C_RPOS) == m.shared_pos &&
	                 fz_ld64(actl + FZ_C_RSEQ) == m.shared_seq,
	         "shared rpos/rseq %llu/%llu, model %llu/%llu",
	         (unsigned long long)fz_ld64(actl + FZ_C_RPOS),
	         (unsigned long long)fz_ld64(actl + FZ_C_RSEQ), (unsigned long long)m.shared_pos,
	         (unsigned long long)m.shared_seq);
	FZ_CHECK(fz_ld32(actl + FZ_C_RERRORS) == rerrors0 + m.rejects, "rerrors");
	FZ_CHECK(fz_ld32(actl + FZ_C_RLASTERR) == (m.rejects ? (uint32_t)-m.err : rlasterr0),
	         "rlasterr");
	FZ_CHECK(fz_ld32(after + FZ_ROLE(side)) == 2u, "role state after close");
	FZ_CHECK(fz_ld32(after + FZ_ROLE(side) + 4) == epoch0 + 1u, "role epoch");
	free(after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t euid = (uint32_t)geteuid();
	uint32_t file_mode = 0600, recv_cap = 0, flags = 0;
	uint8_t *img, *img2;
	int fd;

	if (size > FZ_SEG_MAX)
		return 0;
	trace = getenv("SHMF_FUZZ_VERBOSE") != NULL;
	img = malloc(size != 0 ? size : 1);
	FZ_CHECK(img != NULL, "out of memory");
	if (size != 0)
		memcpy(img, data, size);
	if (size >= FZ_HDR_SIZE && fz_ld32(img + 0x24) == FZ_SYMBOLIC_UID &&
	    euid != FZ_SYMBOLIC_UID) {
		int crc_ok = fz_crc32c(0, img, 0x78) == fz_ld32(img + 0x78);
		fz_st32(img + 0x24, euid);
		if (crc_ok)
			fz_st32(img + 0x78, fz_crc32c(0, img, 0x78));
	}
	if (size >= FZ_HDR_SIZE)
		file_mode = fz_ld32(img + 0x28) & 0777u;
	if (size >= FZ_PAGE) {
		if (fz_ld32(img + FZ_CTL_FILEMODE) != 0)
			file_mode = fz_ld32(img + FZ_CTL_FILEMODE) & 0777u;
		recv_cap = fz_ld32(img + FZ_CTL_RECVCAP);
		flags = fz_ld32(img + FZ_CTL_FLAGS);
	}

	fd = memfd_create("shmf-fuzz-segment", MFD_CLOEXEC);
	FZ_CHECK(fd >= 0, "memfd_create");
	FZ_CHECK(ftruncate(fd, (off_t)size) == 0, "ftruncate");
	for (size_t done = 0; done < size;) {
		ssize_t n = pwrite(fd, img + done, size - done, (off_t)done);
		FZ_CHECK(n > 0, "pwrite");
		done += (size_t)n;
	}
	FZ_CHECK(fchmod(fd, (mode_t)file_mode) == 0, "fchmod");

	session(fd, SHMF_SIDE_B, img, size, file_mode, recv_cap, flags);
	img2 = read_back(fd, size);
	session(fd, SHMF_SIDE_A, img2, size, file_mode, recv_cap, flags);

	free(img2);
	free(img);
	close(fd);
	return 0;
}
