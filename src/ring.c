/* ring.c - one ring's writer and reader over mapped memory (PROTO 5, 6.3, 8).
 *
 * Invariants kept here:
 *   - Our own position and sequence live in private memory (shmf_ring.pos/.seq); the shared
 *     copies are written, and read back only at attach (PROTO 6.1 rule 5).
 *   - The peer's position is read with one acquire load into a local, validated (P1, P2) and
 *     only then used; the validated value is cached in shmf_ring.peer.
 *   - A frame header is copied out once, checked R4-R6; the payload is copied out, then its CRC
 *     and sequence number are checked on the copy (R8, R9). Nothing is delivered before that.
 *   - The first reject is sticky (PROTO 6.4).
 * The only system call a first try can make is the futex wake in shmf_ring_wake(), made only when
 * the peer has flagged that it sleeps. A call with a timeout whose first try finds no room or no
 * frame continues in channel.c's wait (ring_wait.h), which sleeps, reads the clock and tests the
 * peer's lock.
 */
#include "internal.h"

#include "atomics.h"
#include "crc32c_hw.h"
#include "frame_checks.h"
#include "ring_wait.h"

#include <string.h>

/* The flag of a ring whose mapping the SIGBUS guard does not cover: nobody sets it. */
static atomic_int unguarded;

void shmf_ring_bind(shmf_ring *r, unsigned char *base, unsigned ring, const shmf_geom *g)
{
	memset(r, 0, sizeof *r);
	r->trip = &unguarded;
	r->ctl = base + SHMF_RING_CTL(ring);
	r->data = base + g->data_off[ring];
	r->cap = g->cap[ring];
	r->mask = g->cap[ring] - 1u;
	r->max_message = g->max_message;
	r->hw = shmf_crc32c_hw_available();
}

static int reject(shmf_ring *r, int err, int reader)
{
	r->err = err;
	if (reader) {
		/* Informational counters in our own line, for `shmframe inspect`. */
		uint32_t n = shmf_sh_load_relaxed32(r->ctl + SHMF_C_RERRORS);
		shmf_sh_store_relaxed32(r->ctl + SHMF_C_RERRORS, n + 1u);
		shmf_sh_store_relaxed32(r->ctl + SHMF_C_RLASTERR, (uint32_t)-err);
	}
	return err;
}

/* P1 and P2 on a snapshot pair: both multiples of 8, w - rd within [0, capacity]. */
static int check_positions(const shmf_ring *r, uint64_t w, uint64_t rd)
{
	if ((w & 7u) != 0 || (rd & 7u) != 0)
		return SHMF_EALIGN;
	if (w - rd > r->cap)
		return SHMF_EPOS;
	return 0;
}

/* Is there a whole, checksummed frame with sequence `seq` at position p, given `room` bytes that
 * may hold it? Used only by the takeover repairs of PROTO 7, on frames nobody else may touch. */
static int frame_at_has_seq(const shmf_ring *r, uint64_t p, uint64_t room, uint64_t seq)
{
	_Alignas(8) uint8_t raw[SHMF_FRAME_HEADER];
	shmf_frame_hdr h;
	uint64_t off = p & r->mask;
	uint64_t tail = r->cap - off;

	if (room < SHMF_FRAME_HEADER || tail < SHMF_FRAME_HEADER)
		return 0;
	shmf_sh_copy_out(raw, r->data + off, sizeof raw);
	shmf_frame_hdr_decode(raw, &h);
	if (shmf_frame_check_type(&h) != 0 ||
	    shmf_frame_check_length(&h, tail, room, r->max_message))
		return 0;
	/* The CRC in place: each shared byte is fetched once (atomics.h). */
	uint32_t crc = shmf_sh_copy_out_crc(0, raw, NULL, r->data + off + SHMF_FRAME_HEADER,
	                                    h.type == SHMF_TYPE_MSG ? h.length : 0);
	return crc == h.crc && shmf_frame_check_seq(&h, seq, p) == 0;
}

/* Where the frame after position p starts: p itself, or the next lap when fewer than 24 bytes
 * remain (the skip rule of PROTO 5.2). */
static uint64_t skip_short_tail(const shmf_ring *r, uint64_t p)
{
	uint64_t tail = r->cap - (p & r->mask);
	return tail < SHMF_FRAME_HEADER ? p + tail : p;
}

int shmf_ring_writer_attach(shmf_ring *r)
{
	/* Our own line: no other writer can run while we hold the role lock, and taking the lock
	 * (a system call) orders us after the previous holder's last store. */
	uint64_t w = shmf_sh_load_relaxed64(r->ctl + SHMF_C_WPOS);
	uint64_t s = shmf_sh_load_relaxed64(r->ctl + SHMF_C_WSEQ);
	/* Acquire: pairs with the release of rpos in consume(). */
	uint64_t rd = shmf_sh_load_acquire64(r->ctl + SHMF_C_RPOS);
	int rc = check_positions(r, w, rd);

	if (rc != 0)
		return rc;
	r->pos = w;
	r->seq = s;
	r->peer = rd;
	r->err = 0;
	r->pending = 0;
	/* Repair (PROTO 7): a writer that died between storing wseq and publishing wpos left a
	 * whole frame with seq == wseq - 1 at wpos. It was never committed: reuse its number, and
	 * store it back before anything overwrites that frame, so that the repair outlives us: a
	 * successor of a writer that dies again before publishing finds the frame torn and no
	 * longer tells (two writer deaths in a row made the third writer skip a number, which
	 * the reader rejects with SHMF_ESEQ). */
	uint64_t p = skip_short_tail(r, w);
	if (s != 0 && p - rd <= r->cap && frame_at_has_seq(r, p, r->cap - (p - rd), s - 1u)) {
		r->seq = s - 1u;
		/* Our own field; the next holder reads it after taking the lock (a system call). */
		shmf_sh_store_relaxed64(r->ctl + SHMF_C_WSEQ, r->seq);
	}
	return 0;
}

int shmf_ring_reader_attach(shmf_ring *r)
{
	uint64_t rd = shmf_sh_load_relaxed64(r->ctl + SHMF_C_RPOS);
	uint64_t s = shmf_sh_load_relaxed64(r->ctl + SHMF_C_RSEQ);
	/* Acquire: pairs with the release of wpos in publish(). */
	uint64_t w = shmf_sh_load_acquire64(r->ctl + SHMF_C_WPOS);
	int rc = check_positions(r, w, rd);

	if (rc != 0)
		return rc;
	r->pos = rd;
	r->seq = s;
	r->peer = w;
	r->err = 0;
	r->pending = 0;
	/* Repair (PROTO 7): a reader that died between storing rseq and rpos had not returned the
	 * frame at rpos to its caller. Deliver it again. */
	uint64_t p = skip_short_tail(r, rd);
	if (s != 0 && w - rd >= p - rd && frame_at_has_seq(r, p, w - p, s - 1u))
		r->seq = s - 1u;
	return 0;
}

/* ---- the fast path's two builds ------------------------------------------------------------ */

/* The writer's and the reader's bodies below are written once and compiled twice (issue #8):
 * into write_hw/read_hw/peek_hw, built for the CRC instruction with the checksum of the header and
 * of a short payload inline (crc32c_hw.h), and into portable functions that call crc32c.c.
 * shmf_ring_bind() picks one per ring, once. At 64 B a call into crc32c.c, its CPU check and a
 * private header buffer cost more than the copy. Rare steps (the end of a lap, a refresh of the
 * peer's position, PAD frames, rejects) stay out of line in both. */
#if defined(SHMF_GCOV)
/* The coverage build (-O0) keeps each body as one function called by both instances, so that
 * gcov counts the branches of a check once, with both values of hw, not once per copy. */
#define INLINE static
#else
#define INLINE __attribute__((always_inline)) static inline
#endif
#define COLD __attribute__((noinline, cold)) static

/* The end of every call that touched the mapping (internal.h): if the SIGBUS guard caught a
 * truncation meanwhile, whatever was made of the zero pages it mapped becomes SHMF_ETRUNCATED. */
INLINE int guarded(shmf_ring *r, int rc)
{
	/* The handler runs in this thread, inside an access above: keep every access to the mapping
	 * before the flag's load (a compiler barrier; no instruction). */
	shmf_signal_fence();
	if (atomic_load(r->trip) != 0) {
		r->err = SHMF_ETRUNCATED;
		return SHMF_ETRUNCATED;
	}
	return rc;
}

/* A frame header as three little-endian words, private (PROTO 4): crc | length << 32, seq,
 * type | flags << 16 | pos << 32. */
typedef struct hdr_words {
	uint64_t w0, w1, w2;
} hdr_words;

static void words_to_raw(const hdr_words *hw, uint8_t raw[SHMF_FRAME_HEADER])
{
	uint64_t w[3] = {SHMF_LE64(hw->w0), SHMF_LE64(hw->w1), SHMF_LE64(hw->w2)};

	memcpy(raw, w, sizeof w);
}

/* The CRC of a frame (PROTO 4) whose header is h (its crc field ignored) and whose payload is the
 * n bytes at src. m says whose bytes they are: SHMF_PASS_COPY_IN the caller's, copied into the
 * ring at dst on the way (the writer); SHMF_PASS_COPY_OUT the peer's, copied out to dst (the
 * reader; the CRC is that of the copy); SHMF_PASS_SHARED the peer's, checked in place (peek);
 * SHMF_PASS_CRC ours, in the ring (the zero-copy commit). */
INLINE uint32_t frame_crc(int hw, const hdr_words *h, unsigned char *dst, const unsigned char *src,
                          size_t n, enum shmf_pass m)
{
	uint8_t raw[SHMF_FRAME_HEADER];
	const uint8_t *hdr = raw;
	uint32_t crc = 0;

#if defined(SHMF_CRC_HW) && !defined(SHMF_FUZZ_HOSTILE_LOADS)
	if (hw) {
		shmf_crc_reg c = shmf_crc_hw_header(~(uint32_t)0, h->w0, h->w1, h->w2);
		if (n < SHMF_CRC_INLINE_MAX)
			return ~(uint32_t)shmf_crc_hw_short(
			        c, dst, src, n, m == SHMF_PASS_CRC ? SHMF_PASS_SHARED : m);
		crc = ~(uint32_t)c;
		hdr = NULL;
	} else
#else
	(void)hw;
#endif
	{
		words_to_raw(h, raw);
	}
	switch (m) {
	case SHMF_PASS_COPY_IN: return shmf_sh_copy_in_crc(crc, hdr, dst, src, n);
	case SHMF_PASS_COPY_OUT: return shmf_sh_copy_out_crc(crc, hdr, dst, src, n);
	case SHMF_PASS_SHARED: return shmf_sh_copy_out_crc(crc, hdr, NULL, src, n);
	default: return shmf_sh_own_crc(crc, hdr, src, n);
	}
}

/* ---- writer -------------------------------------------------------------------------------- */

/* PROTO 5.2 steps 3 and 4 for a frame of `size` bytes already written at pos. */
static inline void publish(shmf_ring *r, uint64_t size)
{
	unsigned char *ctl = r->ctl;
	uint64_t seq = r->seq + 1u, pos = r->pos + size;

	r->seq = seq;
	r->pos = pos;
	shmf_sh_store_release64(ctl + SHMF_C_WSEQ, seq);
	SHMF_KILL_POINT(SHMF_KP_SEQ_PUBLISHED);
	/* Release: pairs with the acquire load of wpos in refresh_data() and the attaches. */
	shmf_sh_store_release64(ctl + SHMF_C_WPOS, pos);
}

/* The cached snapshot of rpos showed too little room for `need` bytes: take a fresh one. */
COLD int refresh_room(shmf_ring *r, uint64_t need)
{
	/* Acquire: pairs with the release of rpos in consume(). */
	uint64_t rd = shmf_sh_load_acquire64(r->ctl + SHMF_C_RPOS);
	int rc = check_positions(r, r->pos, rd);

	if (rc != 0)
		return reject(r, rc, 0);
	r->peer = rd;
	return r->pos + need - rd > r->cap ? SHMF_EAGAIN : 0;
}

/* End the lap (PROTO 5.2 step 1): a PAD frame over the tail, or a skip when it is too short. */
COLD void end_lap(shmf_ring *r, uint64_t tail)
{
	if (tail >= SHMF_FRAME_HEADER) {
		uint8_t raw[SHMF_FRAME_HEADER];
		shmf_frame_hdr_encode(raw, SHMF_TYPE_PAD, (uint32_t)(tail - SHMF_FRAME_HEADER),
		                      r->seq, r->pos, NULL);
		shmf_sh_copy_in(r->data + (r->pos & r->mask), raw, sizeof raw);
		SHMF_KILL_POINT(SHMF_KP_PAD);
		publish(r, tail);
	} else {
		r->pos += tail;
	}
}

/* PROTO 5.2 steps 1 and 2: room at r->pos for a frame of len bytes, the lap ended if needed. */
INLINE int room(shmf_ring *r, size_t len)
{
	if ((r->err | r->pending) != 0) /* one test on the fast path */
		return r->err != 0 ? r->err : SHMF_ESTATE;
	if (len > r->max_message)
		return SHMF_EMSGSIZE;

	uint64_t size = shmf_frame_size(len);
	uint64_t tail = r->cap - (r->pos & r->mask);
	uint64_t need = size > tail ? tail + size : size;

	/* The cached snapshot of rpos first: it only lags, so room it shows is really free. */
	if (r->pos + need - r->peer > r->cap) {
		int rc = refresh_room(r, need);
		if (rc != 0)
			return rc;
	}
	if (size > tail)
		end_lap(r, tail);
	SHMF_KILL_POINT(SHMF_KP_AFTER_RESERVE);
	return 0;
}

int shmf_ring_reserve_to(shmf_ring *r, size_t len, void **payload, int timeout_ms)
{
	int rc = guarded(r, room(r, len));

	if (rc != 0) {
		if (rc == SHMF_EAGAIN && timeout_ms != 0)
			return shmf_chan_wait_reserve(r, len, payload, timeout_ms);
		return rc;
	}
	r->pending = 1;
	r->pend_len = len;
	*payload = r->data + (r->pos & r->mask) + SHMF_FRAME_HEADER;
	return 0;
}

int shmf_ring_reserve(shmf_ring *r, size_t len, void **payload)
{
	return shmf_ring_reserve_to(r, len, payload, 0);
}

/* The header of a MSG frame of len bytes at r->pos (PROTO 4), its crc field 0. */
INLINE hdr_words msg_words(const shmf_ring *r, uint64_t len)
{
	hdr_words h = {len << 32, r->seq,
	               (uint64_t)SHMF_TYPE_MSG | (uint64_t)(uint32_t)r->pos << 32};

	return h;
}

/* PROTO 5.2 steps 3-5 for the frame at f, whose payload and alignment bytes are in place: write
 * the header with its CRC, publish, and wake a reader that sleeps. */
INLINE void finish(shmf_ring *r, unsigned char *f, const hdr_words *h, uint32_t crc, uint64_t size)
{
	shmf_sh_store_relaxed64(f + SHMF_F_SEQ, h->w1);
	shmf_sh_store_relaxed64(f + SHMF_F_TYPE, h->w2);
	shmf_sh_store_relaxed64(f + SHMF_F_CRC, h->w0 | crc);
	SHMF_KILL_POINT(SHMF_KP_BEFORE_PUBLISH);
	publish(r, size);
	shmf_ring_wake(r->ctl + SHMF_C_RWAIT);
}

/* Zero-copy: the payload is already in the ring. Its CRC is computed where it sits: the bytes are
 * ours, and a peer that changes them only spoils its own frame. */
INLINE int commit_body(shmf_ring *r, size_t len, int hw)
{
	static const uint8_t zeros[SHMF_FRAME_ALIGN];

	if (!r->pending)
		return SHMF_ESTATE;
	if (len > r->pend_len)
		return SHMF_EINVAL;

	unsigned char *f = r->data + (r->pos & r->mask);
	uint64_t size = shmf_frame_size(len);
	hdr_words h = msg_words(r, len);
	/* Zero the alignment bytes, so nothing stale or private rides along (PROTO 4). */
	shmf_sh_copy_in(f + SHMF_FRAME_HEADER + len, zeros,
	                (size_t)(size - SHMF_FRAME_HEADER - len));
	r->pending = 0;
	finish(r, f, &h, frame_crc(hw, &h, NULL, f + SHMF_FRAME_HEADER, len, SHMF_PASS_CRC), size);
	return 0;
}

/* Copying send: the payload is copied from the caller's private buffer into the ring and
 * checksummed in the same pass (each source word loaded once). */
INLINE int write_body(shmf_ring *r, const void *msg, size_t len, int hw)
{
	int rc = room(r, len);

	if (rc != 0)
		return rc;

	unsigned char *f = r->data + (r->pos & r->mask);
	uint64_t size = shmf_frame_size(len);
	hdr_words h = msg_words(r, len);
	uint32_t crc;
	/* The alignment bytes are the end of the frame's last word: zero it first, and the payload
	 * then covers all but them (PROTO 4). */
	if (size != SHMF_FRAME_HEADER + len)
		shmf_sh_store_relaxed64(f + size - 8u, 0);
#if defined(SHMF_KILL_POINTS) && SHMF_KILL_POINTS
	/* Two passes, so that a test can stop the writer in the middle. */
	crc = frame_crc(hw, &h, f + SHMF_FRAME_HEADER, msg, len / 2, SHMF_PASS_COPY_IN);
	SHMF_KILL_POINT(SHMF_KP_MID_COPY);
	crc = shmf_sh_copy_in_crc(crc, NULL, f + SHMF_FRAME_HEADER + len / 2,
	                          (const unsigned char *)msg + len / 2, len - len / 2);
#else
	crc = frame_crc(hw, &h, f + SHMF_FRAME_HEADER, msg, len, SHMF_PASS_COPY_IN);
#endif
	finish(r, f, &h, crc, size);
	return 0;
}

/* An instance: the first try, then the wait of channel.c where the caller asked for one (a
 * tail call: this frame is gone before the wait starts). */
INLINE int write_out(shmf_ring *r, const void *msg, size_t len, int hw, int timeout_ms)
{
	int rc = guarded(r, write_body(r, msg, len, hw));

	if (rc == SHMF_EAGAIN && timeout_ms != 0)
		return shmf_chan_wait_write(r, msg, len, timeout_ms);
	return rc;
}

#if defined(SHMF_CRC_HW)
SHMF_HW static int write_hw(shmf_ring *r, const void *msg, size_t len, int timeout_ms)
{
	return write_out(r, msg, len, 1, timeout_ms);
}

SHMF_HW static int commit_hw(shmf_ring *r, size_t len)
{
	return guarded(r, commit_body(r, len, 1));
}
#endif

__attribute__((noinline)) static int write_any(shmf_ring *r, const void *msg, size_t len,
                                               int timeout_ms)
{
	return write_out(r, msg, len, 0, timeout_ms);
}

__attribute__((noinline)) static int commit_any(shmf_ring *r, size_t len)
{
	return guarded(r, commit_body(r, len, 0));
}

int shmf_ring_write_to(shmf_ring *r, const void *msg, size_t len, int timeout_ms)
{
#if defined(SHMF_CRC_HW)
	if (r->hw)
		return write_hw(r, msg, len, timeout_ms);
#endif
	return write_any(r, msg, len, timeout_ms);
}

int shmf_ring_write(shmf_ring *r, const void *msg, size_t len)
{
	return shmf_ring_write_to(r, msg, len, 0);
}

int shmf_ring_commit(shmf_ring *r, size_t len)
{
#if defined(SHMF_CRC_HW)
	if (r->hw)
		return commit_hw(r, len);
#endif
	return commit_any(r, len);
}

/* ---- reader -------------------------------------------------------------------------------- */

/* PROTO 5.4: rseq, then rpos with release, then wake a writer that waits for room. */
static inline void consume(shmf_ring *r, uint64_t size)
{
	unsigned char *ctl = r->ctl;
	uint64_t seq = r->seq + 1u, pos = r->pos + size;

	r->seq = seq;
	r->pos = pos;
	shmf_sh_store_relaxed64(ctl + SHMF_C_RSEQ, seq);
	SHMF_KILL_POINT(SHMF_KP_CONSUME);
	/* Release: pairs with the acquire load of rpos in refresh_room() and the attaches; it
	 * also keeps the rseq store before it (PROTO 7, reader repair). */
	shmf_sh_store_release64(ctl + SHMF_C_RPOS, pos);
	shmf_ring_wake(ctl + SHMF_C_WWAIT);
}

/* R4-R6 on a header that is not a plain MSG, and a PAD frame's own checks (R8, R9): 0 when it was
 * a good PAD, now consumed, else the reject. */
COLD int not_a_msg(shmf_ring *r, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t tail,
                   uint64_t avail)
{
	hdr_words w = {w0, w1, w2};
	uint8_t raw[SHMF_FRAME_HEADER];
	shmf_frame_hdr h;
	int rc;

	shmf_frame_hdr_from_words(w0, w1, w2, &h);
	if ((rc = shmf_frame_check_type_inl(&h)) != 0 ||                              /* R4, R5 */
	    (rc = shmf_frame_check_length_inl(&h, tail, avail, r->max_message)) != 0) /* R6 */
		return reject(r, rc, 1);
	/* A PAD frame: its CRC covers the header only. */
	words_to_raw(&w, raw);
	if ((rc = shmf_frame_check_crc(&h, raw, NULL)) != 0 ||
	    (rc = shmf_frame_check_seq(&h, r->seq, r->pos)) != 0)
		return reject(r, rc, 1);
	consume(r, tail);
	return 0;
}

/* A new snapshot of wpos, as the cached one (r->peer == pos) is used up: P1, P2, then R1. */
INLINE int refresh_data(shmf_ring *r, uint64_t pos, uint64_t *peer)
{
	/* Acquire: pairs with the release of wpos in publish(). */
	uint64_t w = shmf_sh_load_acquire64(r->ctl + SHMF_C_WPOS);

	if ((w & 7u) != 0)
		return reject(r, SHMF_EALIGN, 1); /* P1 */
	if (w - pos > r->cap)
		return reject(r, SHMF_EPOS, 1); /* P2 */
	r->peer = w;
	*peer = w;
	return w == pos ? SHMF_EAGAIN : 0; /* R1 */
}

/* P1, P2, R1-R6: find the next MSG frame, consuming PAD frames and skipping short tails on the
 * way, and check its header, copied once into *w. On success *frame is where it is, and *size
 * its size. Works on locals: an acquire load would make the compiler reload every field. The
 * caller has tested the sticky error. */
INLINE int next_frame(shmf_ring *r, hdr_words *w, unsigned char **frame, uint64_t *size)
{
	for (;;) {
		uint64_t pos = r->pos, peer = r->peer;
		int rc;
		if (peer == pos && (rc = refresh_data(r, pos, &peer)) != 0)
			return rc;
		uint64_t avail = peer - pos;
		uint64_t off = pos & r->mask;
		uint64_t tail = r->cap - off;
		if (tail < SHMF_FRAME_HEADER) { /* R2 */
			if (avail < tail)
				return reject(r, SHMF_EPOS, 1);
			r->pos = pos + tail;
			continue;
		}
		if (avail < SHMF_FRAME_HEADER)
			return reject(r, SHMF_EPOS, 1); /* R3 */
		unsigned char *f = r->data + off;
		shmf_sh_load_frame_header(f, &w->w0, &w->w1, &w->w2);
		/* type MSG and flags 0 in one test; anything else is R4, R5 or a PAD */
		if ((uint32_t)w->w2 != SHMF_TYPE_MSG) {
			if ((rc = not_a_msg(r, w->w0, w->w1, w->w2, tail, avail)) != 0)
				return rc;
			continue;
		}
		uint32_t length = (uint32_t)(w->w0 >> 32);
		if ((rc = shmf_frame_check_msg_length_inl(length, tail, avail, r->max_message)) !=
		    0)
			return reject(r, rc, 1); /* R6 */
		*frame = f;
		*size = shmf_frame_size(length);
		return 0;
	}
}

/* R9 on the frame at r->pos, once its CRC matched. */
INLINE int check_seq(const shmf_ring *r, const hdr_words *w)
{
	shmf_frame_hdr h;

	shmf_frame_hdr_from_words(w->w0, w->w1, w->w2, &h);
	return shmf_frame_check_seq_inl(&h, r->seq, r->pos);
}

/* On 0 and SHMF_ETOOSMALL, *len is the message's length. */
INLINE int read_body(shmf_ring *r, void *buf, size_t cap, size_t *len, int hw)
{
	hdr_words w;
	unsigned char *f;
	uint64_t size;
	int rc;

	if ((r->pending | r->err) != 0) /* one test on the fast path */
		return r->pending ? SHMF_ESTATE : r->err;
	if ((rc = next_frame(r, &w, &f, &size)) != 0)
		return rc;
	size_t n = (size_t)(w.w0 >> 32);
	*len = n;
	if (n > cap)
		return SHMF_ETOOSMALL; /* R7: the frame stays */
	/* Copy out, then verify the copy (PROTO 6.1 rule 2): one pass, in which the CRC is taken of
	 * the very words stored into buf (crc32c_hw.h, atomics.h). R8, then R9. */
	if (frame_crc(hw, &w, buf, f + SHMF_FRAME_HEADER, n, SHMF_PASS_COPY_OUT) != (uint32_t)w.w0)
		return reject(r, SHMF_ECRC, 1);
	if ((rc = check_seq(r, &w)) != 0)
		return reject(r, rc, 1);
	consume(r, size);
	return 0;
}

/* On 0, *msg and *len are the message in place. */
INLINE int peek_body(shmf_ring *r, const void **msg, size_t *len, int hw)
{
	hdr_words w;
	unsigned char *f;
	uint64_t size;
	int rc;

	if ((r->pending | r->err) != 0) /* one test on the fast path */
		return r->pending ? SHMF_ESTATE : r->err;
	if ((rc = next_frame(r, &w, &f, &size)) != 0)
		return rc;
	size_t n = (size_t)(w.w0 >> 32);
	const unsigned char *p = f + SHMF_FRAME_HEADER;
	/* Verified in place (the trust rule of shmf_peek): each shared byte fetched once. */
	if (frame_crc(hw, &w, NULL, p, n, SHMF_PASS_SHARED) != (uint32_t)w.w0)
		return reject(r, SHMF_ECRC, 1);
	if ((rc = check_seq(r, &w)) != 0)
		return reject(r, rc, 1);
	r->pending = 1;
	r->pend_len = n;
	*msg = p;
	*len = n;
	return 0;
}

/* The instances: the body's outputs reach the caller only when the guard saw nothing. A first
 * try that finds no frame goes on to the wait of channel.c where the caller asked for one (a
 * tail call), and leaves r->hot for it; any other end sets r->hot. */
INLINE int read_out(shmf_ring *r, void *buf, size_t cap, size_t *len, int hw, int timeout_ms)
{
	size_t n = 0;
	int rc = guarded(r, read_body(r, buf, cap, &n, hw));

	if (rc == 0) {
		*len = n;
		r->hot = 1;
		return 0;
	}
	if (rc == SHMF_EAGAIN && timeout_ms != 0)
		return shmf_chan_wait_read(r, buf, cap, len, timeout_ms);
	if (rc == SHMF_ETOOSMALL)
		*len = n;
	r->hot = 0;
	return rc;
}

INLINE int peek_out(shmf_ring *r, const void **msg, size_t *len, int hw, int timeout_ms)
{
	const void *p = NULL;
	size_t n = 0;
	int rc = guarded(r, peek_body(r, &p, &n, hw));

	if (rc == 0) {
		*msg = p;
		*len = n;
		r->hot = 1;
		return 0;
	}
	if (rc == SHMF_EAGAIN && timeout_ms != 0)
		return shmf_chan_wait_peek(r, msg, len, timeout_ms);
	r->hot = 0;
	return rc;
}

#if defined(SHMF_CRC_HW)
SHMF_HW static int read_hw(shmf_ring *r, void *buf, size_t cap, size_t *len, int timeout_ms)
{
	return read_out(r, buf, cap, len, 1, timeout_ms);
}

SHMF_HW static int peek_hw(shmf_ring *r, const void **msg, size_t *len, int timeout_ms)
{
	return peek_out(r, msg, len, 1, timeout_ms);
}
#endif

__attribute__((noinline)) static int read_any(shmf_ring *r, void *buf, size_t cap, size_t *len,
                                              int timeout_ms)
{
	return read_out(r, buf, cap, len, 0, timeout_ms);
}

__attribute__((noinline)) static int peek_any(shmf_ring *r, const void **msg, size_t *len,
                                              int timeout_ms)
{
	return peek_out(r, msg, len, 0, timeout_ms);
}

int shmf_ring_read_to(shmf_ring *r, void *buf, size_t cap, size_t *len, int timeout_ms)
{
#if defined(SHMF_CRC_HW)
	if (r->hw)
		return read_hw(r, buf, cap, len, timeout_ms);
#endif
	return read_any(r, buf, cap, len, timeout_ms);
}

int shmf_ring_read(shmf_ring *r, void *buf, size_t cap, size_t *len)
{
	return shmf_ring_read_to(r, buf, cap, len, 0);
}

int shmf_ring_peek_to(shmf_ring *r, const void **msg, size_t *len, int timeout_ms)
{
#if defined(SHMF_CRC_HW)
	if (r->hw)
		return peek_hw(r, msg, len, timeout_ms);
#endif
	return peek_any(r, msg, len, timeout_ms);
}

int shmf_ring_peek(shmf_ring *r, const void **msg, size_t *len)
{
	return shmf_ring_peek_to(r, msg, len, 0);
}

int shmf_ring_release(shmf_ring *r)
{
	if (!r->pending)
		return guarded(r, SHMF_ESTATE);
	r->pending = 0;
	consume(r, shmf_frame_size(r->pend_len));
	return guarded(r, 0);
}

/* ---- waiting ------------------------------------------------------------------------------- */

uint64_t shmf_ring_peer_pos(shmf_ring *r, int reader)
{
	/* Acquire: pairs with the release of wpos (reader) or rpos (writer); the value is only
	 * compared, and the caller re-runs the full checks. */
	return shmf_sh_load_acquire64(r->ctl + (reader ? SHMF_C_WPOS : SHMF_C_RPOS));
}

int shmf_ring_peer_moved(shmf_ring *r, int reader)
{
	return shmf_ring_peer_pos(r, reader) != r->peer;
}

unsigned char *shmf_ring_wait_word(shmf_ring *r, int reader)
{
	return r->ctl + (reader ? SHMF_C_RWAIT : SHMF_C_WWAIT);
}

/* PROTO 8, S2-S3: the fence orders our release of the position before the load of the word; the
 * sleeper's W2 fence orders its store of the word before its load of our position. */
void shmf_ring_wake(unsigned char *word)
{
	shmf_fence_seq_cst();
	if (shmf_sh_load_relaxed32(word) != 0) {
		shmf_sh_store_relaxed32(word, 0);
		shmf_os_futex_wake(word);
	}
}
