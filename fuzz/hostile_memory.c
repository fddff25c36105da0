/* hostile_memory.c - fuzz target: shared memory that changes under every load.
 *
 * Linked against a copy of the library built with -DSHMF_FUZZ_HOSTILE_LOADS, where every load
 * from the segment (src/atomics.h: the shmf_sh_load_* words and shmf_sh_copy_out bulk copies)
 * calls shmf_fuzz_hostile_fill() below instead of reading memory. It hands out the next bytes of
 * the fuzzer's input (zeros once the input is used up), so no two loads of one field agree: a
 * "double fetch", a value checked on one load and used from another, turns into an unchecked
 * value and, sooner or later, into an access ASan reports. Stores still go to real memory.
 *
 * Setup: a real duplex segment formatted by the library (shmf_segment_format) in an exact-size
 * heap block, with a geometry chosen by input byte 0 (capacity 256 << (b & 7), max_message
 * {0, 13, 100, the largest allowed}[(b >> 3) & 3], the largest being capacity / 2 - 24). A reader
 * is bound to ring 0 and a writer to ring 1 (shmf_ring_bind; the header is not re-read, PROTO 6.1
 * rule 4) and both attach (their loads are hostile too). Then up to 64 operations, each chosen by
 * the next input byte (taken from the same stream): 0 read into a max_message buffer   1 read into
 * a buffer of the next byte's size 2 peek                              3 release 4 write (length
 * from 2 bytes)       5 reserve (length from 2 bytes) 6 commit the reservation            7
 * shmf_ring_peer_moved on both rings
 *
 * Oracle (no crash and no sanitizer report are implied):
 *   - return codes come from the documented set of each call; attaches give 0, SHMF_EALIGN or
 *     SHMF_EPOS;
 *   - sticky rejects (PROTO 6.4): once a read or peek returned a reject (anything but 0,
 *     SHMF_EAGAIN, SHMF_ETOOSMALL, SHMF_ESTATE), every later read and peek returns that same
 *     code; the same for the writer's SHMF_EALIGN/SHMF_EPOS;
 *   - a read that returns 0 delivered len <= min(max_message, buffer) bytes, and the last 24
 *     bytes the library loaded as a frame header before copying the payload are a MSG header
 *     with that length, flags 0, the sequence and position stamp the reader just consumed, and a
 *     crc field equal to the independent CRC over those header bytes and the delivered payload;
 *     SHMF_ETOOSMALL reports a length above the buffer and within max_message;
 *   - a peek that returns 0 points inside ring 0's data area, len bytes included;
 *   - the reader's private positions stay aligned with peer - pos <= capacity; a reservation lies
 *     inside ring 1's data area; a frame the writer wrote (real memory) decodes with the
 *     independent decoder, with the payload that was sent;
 *   - bounded work: the library may load at most 100000 times past the end of the input.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "oracle.h"
#include "internal.h"
#include "atomics.h"

#define FZ_OPS 64

static const uint8_t *hs_data;
static size_t hs_len, hs_off;
static const void *hs_payload_dst; /* the current receive buffer */
static uint8_t hs_hdr[FZ_FRAME_HDR];
static int hs_have_hdr;
static unsigned long hs_overrun; /* loads served past the end of the input */
static int trace;                /* SHMF_FUZZ_VERBOSE: say what each operation returned */

void shmf_fuzz_hostile_fill(void *dst, size_t n)
{
	uint8_t *d = dst;
	size_t k = hs_len - hs_off < n ? hs_len - hs_off : n;

	if (k != 0)
		memcpy(d, hs_data + hs_off, k);
	if (n > k) {
		memset(d + k, 0, n - k);
		hs_overrun++;
		FZ_CHECK(hs_overrun < 100000u, "unbounded loads from shared memory");
	}
	hs_off += k;
	if (n == FZ_FRAME_HDR && dst != hs_payload_dst) {
		memcpy(hs_hdr, d, FZ_FRAME_HDR);
		hs_have_hdr = 1;
	}
}

/* The harness's own choices come from the same stream, without counting as loads. */
static unsigned take(size_t n)
{
	unsigned v = 0;
	for (size_t i = 0; i < n && hs_off < hs_len; i++)
		v |= (unsigned)hs_data[hs_off++] << (8u * i);
	return v;
}

static int is_reject(int rc)
{
	return rc == SHMF_EALIGN || rc == SHMF_EPOS || rc == SHMF_ELENGTH || rc == SHMF_ETYPE ||
	       rc == SHMF_EFLAGS || rc == SHMF_ECRC || rc == SHMF_ESEQ;
}

typedef struct fz_state {
	shmf_geom g;
	unsigned char *base;
	shmf_ring rd, wr;
	int rd_ok, wr_ok;
	int rd_err, wr_err;  /* sticky rejects seen so far */
	int reserved;        /* a reservation is outstanding */
	size_t reserved_len; /* its length */
	unsigned char *reserved_at;
} fz_state;

static void check_reader(const fz_state *s)
{
	FZ_CHECK((s->rd.pos & 7u) == 0 && s->rd.peer - s->rd.pos <= s->rd.cap,
	         "reader positions pos %llu peer %llu", (unsigned long long)s->rd.pos,
	         (unsigned long long)s->rd.peer);
}

static void op_read(fz_state *s, size_t cap)
{
	uint8_t *buf = cap != 0 ? malloc(cap) : NULL; /* exact size */
	size_t len = (size_t)-1;
	int rc;

	FZ_CHECK(cap == 0 || buf != NULL, "out of memory");
	hs_payload_dst = buf;
	hs_have_hdr = 0;
	rc = shmf_ring_read(&s->rd, buf, cap, &len);
	hs_payload_dst = NULL;
	if (trace)
		fprintf(stderr, "    read (cap %zu): %d, len %zu\n", cap, rc, len);
	if (s->rd.pending) {
		FZ_CHECK(rc == SHMF_ESTATE, "read with a peek outstanding: %d", rc);
	} else if (s->rd_err != 0) {
		FZ_CHECK(rc == s->rd_err, "sticky reject %d, then read %d", s->rd_err, rc);
	} else if (rc == 0) {
		fz_hdr h;
		FZ_CHECK(len <= cap && len <= s->g.max_message, "read %zu bytes (cap %zu)", len,
		         cap);
		FZ_CHECK(hs_have_hdr, "no frame header was loaded");
		fz_hdr_read(hs_hdr, &h);
		uint32_t crc = fz_crc32c(fz_crc32c(0, hs_hdr + 4, FZ_FRAME_HDR - 4u), buf, len);
		FZ_CHECK(h.type == FZ_TYPE_MSG && h.flags == 0 && h.length == len,
		         "delivered a frame of type %u flags %u length %u as %zu bytes",
		         (unsigned)h.type, (unsigned)h.flags, (unsigned)h.length, len);
		FZ_CHECK(crc == h.crc, "delivered a payload whose CRC does not match");
		FZ_CHECK(h.seq + 1u == s->rd.seq &&
		                 h.pos == (uint32_t)(s->rd.pos - fz_align8(FZ_FRAME_HDR + len)),
		         "delivered seq %llu stamp %u, reader now at seq %llu pos %llu",
		         (unsigned long long)h.seq, (unsigned)h.pos, (unsigned long long)s->rd.seq,
		         (unsigned long long)s->rd.pos);
	} else if (rc == SHMF_ETOOSMALL) {
		FZ_CHECK(len > cap && len <= s->g.max_message, "ETOOSMALL with %zu (cap %zu)", len,
		         cap);
	} else if (is_reject(rc)) {
		s->rd_err = rc;
	} else {
		FZ_CHECK(rc == SHMF_EAGAIN, "read returned %d", rc);
	}
	check_reader(s);
	free(buf);
}

static void op_peek(fz_state *s)
{
	const void *p = NULL;
	size_t len = (size_t)-1;
	int pending = s->rd.pending;
	int rc = shmf_ring_peek(&s->rd, &p, &len);

	if (trace)
		fprintf(stderr, "    peek: %d, len %zu\n", rc, len);

	if (pending) {
		FZ_CHECK(rc == SHMF_ESTATE, "second peek: %d", rc);
	} else if (s->rd_err != 0) {
		FZ_CHECK(rc == s->rd_err, "sticky reject %d, then peek %d", s->rd_err, rc);
	} else if (rc == 0) {
		const unsigned char *q = p;
		FZ_CHECK(len <= s->g.max_message, "peeked %zu bytes", len);
		FZ_CHECK(q >= s->rd.data + FZ_FRAME_HDR && q + len <= s->rd.data + s->rd.cap,
		         "peek points outside ring 0's data area");
		FZ_CHECK(s->rd.pending, "peek left nothing pending");
	} else if (is_reject(rc)) {
		s->rd_err = rc;
	} else {
		FZ_CHECK(rc == SHMF_EAGAIN, "peek returned %d", rc);
	}
	check_reader(s);
}

/* The frame the writer just published ends at wr.pos; it must decode independently. */
static void check_written(const fz_state *s, const uint8_t *msg, size_t n)
{
	uint64_t size = fz_align8(FZ_FRAME_HDR + n);
	uint64_t at = s->wr.pos - size;
	const uint8_t *frame = s->wr.data + (at & s->wr.mask);
	fz_hdr h;
	int rc;

	FZ_CHECK((at & s->wr.mask) + size <= s->wr.cap, "frame crosses the end of the ring");
	rc = fz_frame_decode(frame, (size_t)size, s->g.max_message, s->wr.seq - 1u, at, &h);
	FZ_CHECK(rc == 0 && h.length == n, "written frame: model says %d, length %u", rc,
	         (unsigned)h.length);
	FZ_CHECK(msg == NULL || n == 0 || memcmp(frame + FZ_FRAME_HDR, msg, n) == 0,
	         "written payload differs");
}

static void writer_result(fz_state *s, int rc, const char *what)
{
	if (trace)
		fprintf(stderr, "    %s: %d\n", what, rc);
	if (s->wr_err != 0) {
		FZ_CHECK(rc == s->wr_err, "writer sticky %d, then %s %d", s->wr_err, what, rc);
		return;
	}
	if (rc == SHMF_EALIGN || rc == SHMF_EPOS)
		s->wr_err = rc;
	else
		FZ_CHECK(rc == 0 || rc == SHMF_EAGAIN || rc == SHMF_EMSGSIZE || rc == SHMF_ESTATE,
		         "%s returned %d", what, rc);
	FZ_CHECK(s->wr.pos - s->wr.peer <= s->wr.cap,
	         "writer ahead of the reader by more than a lap");
}

static void op_write(fz_state *s)
{
	size_t n = take(2) % (s->g.max_message + 2u); /* max_message + 1 tests EMSGSIZE */
	uint8_t *msg = malloc(n != 0 ? n : 1);
	int rc;

	FZ_CHECK(msg != NULL, "out of memory");
	for (size_t i = 0; i < n; i++)
		msg[i] = (uint8_t)(i ^ 0x5Au);
	rc = shmf_ring_write(&s->wr, msg, n);
	writer_result(s, rc, "write");
	if (rc == 0)
		check_written(s, msg, n);
	if (s->reserved)
		FZ_CHECK(rc == SHMF_ESTATE || rc == s->wr_err, "write during a reservation: %d",
		         rc);
	free(msg);
}

static void op_reserve(fz_state *s)
{
	size_t n = take(2) % (s->g.max_message + 2u);
	void *v = NULL;
	int rc = shmf_ring_reserve(&s->wr, n, &v);
	unsigned char *p = v;

	writer_result(s, rc, "reserve");
	if (rc == 0) {
		FZ_CHECK(!s->reserved, "two reservations at once");
		FZ_CHECK(p >= s->wr.data + FZ_FRAME_HDR && p + n <= s->wr.data + s->wr.cap,
		         "reservation outside ring 1's data area");
		memset(p, 0xA5, n);
		s->reserved = 1;
		s->reserved_len = n;
		s->reserved_at = p;
	}
}

static void op_commit(fz_state *s)
{
	size_t n = s->reserved ? take(1) % (s->reserved_len + 1u) : 0;
	int rc = shmf_ring_commit(&s->wr, n);

	if (!s->reserved) {
		FZ_CHECK(rc == SHMF_ESTATE, "commit without a reservation: %d", rc);
		return;
	}
	FZ_CHECK(rc == 0, "commit: %d", rc);
	s->reserved = 0;
	check_written(s, NULL, n);
	for (size_t i = 0; i < n; i++)
		FZ_CHECK(s->reserved_at[i] == 0xA5, "committed payload changed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t max_choice[4] = {0, 13, 100, 0xFFFFFFFFu};
	fz_state s;
	shmf_config cfg;
	int rc;

	if (size == 0)
		return 0;
	trace = getenv("SHMF_FUZZ_VERBOSE") != NULL;
	hs_data = data;
	hs_len = size;
	hs_off = 0;
	hs_overrun = 0;
	memset(&s, 0, sizeof s);

	unsigned b = take(1);
	shmf_config_init(&cfg);
	cfg.capacity = (size_t)256u << (b & 7u);
	cfg.max_message = max_choice[(b >> 3) & 3u];
	if (cfg.max_message > cfg.capacity / 2u - FZ_FRAME_HDR) /* PROTO 2.4: two frames fit */
		cfg.max_message = cfg.capacity / 2u - FZ_FRAME_HDR;
	FZ_CHECK(shmf_geom_from_config(&cfg, &s.g) == 0, "geometry");
	s.base = aligned_alloc(4096, (size_t)s.g.total_size);
	FZ_CHECK(s.base != NULL, "out of memory");
	memset(s.base, 0, (size_t)s.g.total_size);
	shmf_segment_format(s.base, &s.g);

	shmf_ring_bind(&s.rd, s.base, 0, &s.g);
	rc = shmf_ring_reader_attach(&s.rd);
	FZ_CHECK(rc == 0 || rc == SHMF_EALIGN || rc == SHMF_EPOS, "reader attach %d", rc);
	s.rd_ok = rc == 0;
	if (trace)
		fprintf(stderr, "  capacity %llu max_message %u, reader attach %d\n",
		        (unsigned long long)s.g.cap[0], (unsigned)s.g.max_message, rc);
	if (s.rd_ok)
		check_reader(&s);
	shmf_ring_bind(&s.wr, s.base, 1, &s.g);
	rc = shmf_ring_writer_attach(&s.wr);
	FZ_CHECK(rc == 0 || rc == SHMF_EALIGN || rc == SHMF_EPOS, "writer attach %d", rc);
	s.wr_ok = rc == 0;
	if (trace)
		fprintf(stderr, "  writer attach %d\n", rc);

	for (int i = 0; i < FZ_OPS && hs_off < hs_len; i++) {
		unsigned op = take(1) & 7u;
		if (op <= 3 && !s.rd_ok)
			continue;
		if (op >= 4 && op <= 6 && !s.wr_ok)
			continue;
		if (trace)
			fprintf(stderr, "  op %u at input offset %zu\n", op, hs_off);
		switch (op) {
		case 0: op_read(&s, s.g.max_message); break;
		case 1: op_read(&s, take(1)); break;
		case 2: op_peek(&s); break;
		case 3: {
			int pending = s.rd.pending;
			rc = shmf_ring_release(&s.rd);
			FZ_CHECK(rc == (pending ? 0 : SHMF_ESTATE) && !s.rd.pending, "release %d",
			         rc);
			check_reader(&s);
			break;
		}
		case 4: op_write(&s); break;
		case 5: op_reserve(&s); break;
		case 6: op_commit(&s); break;
		default:
			if (s.rd_ok)
				(void)shmf_ring_peer_moved(&s.rd, 1);
			if (s.wr_ok)
				(void)shmf_ring_peer_moved(&s.wr, 0);
			break;
		}
	}
	free(s.base);
	return 0;
}
