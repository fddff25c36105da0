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
 * The only system call reachable from here is the futex wake in shmf_ring_wake(), made only when
 * the peer has flagged that it sleeps.
 */
#include "internal.h"

#include "atomics.h"
#include "frame_checks.h"

#include <string.h>

void shmf_ring_bind(shmf_ring *r, unsigned char *base, unsigned ring, const shmf_geom *g)
{
	memset(r, 0, sizeof *r);
	r->ctl = base + SHMF_RING_CTL(ring);
	r->data = base + g->data_off[ring];
	r->cap = g->cap[ring];
	r->mask = g->cap[ring] - 1u;
	r->max_message = g->max_message;
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

/* ---- writer -------------------------------------------------------------------------------- */

/* PROTO 5.2 steps 3 and 4 for a frame of `size` bytes already written at pos. */
static void publish(shmf_ring *r, uint64_t size)
{
	r->seq++;
	shmf_sh_store_release64(r->ctl + SHMF_C_WSEQ, r->seq);
	SHMF_KILL_POINT(SHMF_KP_SEQ_PUBLISHED);
	r->pos += size;
	/* Release: pairs with the acquire load of wpos in next_frame() and the attaches. */
	shmf_sh_store_release64(r->ctl + SHMF_C_WPOS, r->pos);
}

/* PROTO 5.2 steps 1 and 2: room for a frame of len bytes, the lap ended if needed. On success
 * *payload is where the payload goes, at pos + 24. */
static inline int reserve(shmf_ring *r, size_t len, unsigned char **payload)
{
	if (r->err != 0)
		return r->err;
	if (r->pending)
		return SHMF_ESTATE;
	if (len > r->max_message)
		return SHMF_EMSGSIZE;

	uint64_t size = shmf_frame_size(len);
	uint64_t tail = r->cap - (r->pos & r->mask);
	uint64_t need = size > tail ? tail + size : size;

	/* The cached snapshot of rpos first: it only lags, so room it shows is really free. */
	if (r->pos + need - r->peer > r->cap) {
		/* Acquire: pairs with the release of rpos in consume(). */
		uint64_t rd = shmf_sh_load_acquire64(r->ctl + SHMF_C_RPOS);
		int rc = check_positions(r, r->pos, rd);
		if (rc != 0)
			return reject(r, rc, 0);
		r->peer = rd;
		if (r->pos + need - rd > r->cap)
			return SHMF_EAGAIN;
	}
	if (size > tail) {
		/* End the lap (PROTO 5.2 step 1). */
		if (tail >= SHMF_FRAME_HEADER) {
			uint8_t raw[SHMF_FRAME_HEADER];
			shmf_frame_hdr_encode(raw, SHMF_TYPE_PAD,
			                      (uint32_t)(tail - SHMF_FRAME_HEADER), r->seq, r->pos,
			                      NULL);
			shmf_sh_copy_in(r->data + (r->pos & r->mask), raw, sizeof raw);
			SHMF_KILL_POINT(SHMF_KP_PAD);
			publish(r, tail);
		} else {
			r->pos += tail;
		}
	}
	r->pending = 1;
	r->pend_len = len;
	*payload = r->data + (r->pos & r->mask) + SHMF_FRAME_HEADER;
	SHMF_KILL_POINT(SHMF_KP_AFTER_RESERVE);
	return 0;
}

int shmf_ring_reserve(shmf_ring *r, size_t len, unsigned char **payload)
{
	return reserve(r, len, payload);
}

/* The private header of a MSG frame at pos (PROTO 4), its crc field still 0: the CRC is computed
 * with the payload copy, which starts from these bytes. */
static inline void msg_header(uint8_t raw[SHMF_FRAME_HEADER], uint64_t len, uint64_t seq,
                              uint64_t pos)
{
	uint64_t w0 = SHMF_LE64(len << 32); /* crc 0, length */
	uint64_t w1 = SHMF_LE64(seq);
	uint64_t w2 =
	        SHMF_LE64((uint64_t)SHMF_TYPE_MSG | (uint64_t)(uint32_t)pos << 32); /* flags 0 */

	memcpy(raw + SHMF_F_CRC, &w0, 8);
	memcpy(raw + SHMF_F_SEQ, &w1, 8);
	memcpy(raw + SHMF_F_TYPE, &w2, 8);
}

/* PROTO 5.2 steps 3-5 for the frame reserved at pos, whose payload (len bytes) is in place and
 * whose header is raw with the frame's CRC: write the header and the zero padding, publish, and
 * wake a reader that sleeps. */
static void commit(shmf_ring *r, uint8_t raw[SHMF_FRAME_HEADER], size_t len, uint32_t crc)
{
	unsigned char *dst = r->data + (r->pos & r->mask);
	uint64_t size = shmf_frame_size(len);
	static const uint8_t zeros[SHMF_FRAME_ALIGN];
	uint32_t le = SHMF_LE32(crc);

	memcpy(raw + SHMF_F_CRC, &le, 4);
	shmf_sh_copy_in(dst, raw, SHMF_FRAME_HEADER);
	/* Zero the alignment bytes, so nothing stale or private rides along (PROTO 4). */
	shmf_sh_copy_in(dst + SHMF_FRAME_HEADER + len, zeros,
	                (size_t)(size - SHMF_FRAME_HEADER - len));
	r->pending = 0;
	SHMF_KILL_POINT(SHMF_KP_BEFORE_PUBLISH);
	publish(r, size);
	shmf_ring_wake(r->ctl + SHMF_C_RWAIT);
}

/* Zero-copy: the payload is already in the ring. Its CRC is computed where it sits: the bytes are
 * ours, and a peer that changes them only spoils its own frame. */
int shmf_ring_commit(shmf_ring *r, size_t len)
{
	_Alignas(8) uint8_t raw[SHMF_FRAME_HEADER];

	if (!r->pending)
		return SHMF_ESTATE;
	if (len > r->pend_len)
		return SHMF_EINVAL;
	unsigned char *p = r->data + (r->pos & r->mask) + SHMF_FRAME_HEADER;
	msg_header(raw, len, r->seq, r->pos);
	commit(r, raw, len, shmf_sh_own_crc(0, raw, p, len));
	return 0;
}

/* Copying send: the payload is copied from the caller's private buffer into the ring and
 * checksummed in the same pass (each source word loaded once). */
int shmf_ring_write(shmf_ring *r, const void *msg, size_t len)
{
	_Alignas(8) uint8_t raw[SHMF_FRAME_HEADER];
	unsigned char *p;
	uint32_t crc;
	int rc = reserve(r, len, &p);

	if (rc != 0)
		return rc;
	msg_header(raw, len, r->seq, r->pos);
#if defined(SHMF_KILL_POINTS) && SHMF_KILL_POINTS
	crc = shmf_sh_copy_in_crc(0, raw, p, msg, len / 2);
	SHMF_KILL_POINT(SHMF_KP_MID_COPY);
	crc = shmf_sh_copy_in_crc(crc, NULL, p + len / 2, (const unsigned char *)msg + len / 2,
	                          len - len / 2);
#else
	crc = shmf_sh_copy_in_crc(0, raw, p, msg, len);
#endif
	commit(r, raw, len, crc);
	return 0;
}

/* ---- reader -------------------------------------------------------------------------------- */

/* PROTO 5.4: rseq, then rpos with release, then wake a writer that waits for room. */
static void consume(shmf_ring *r, uint64_t size)
{
	r->seq++;
	r->pos += size;
	shmf_sh_store_relaxed64(r->ctl + SHMF_C_RSEQ, r->seq);
	SHMF_KILL_POINT(SHMF_KP_CONSUME);
	/* Release: pairs with the acquire load of rpos in shmf_ring_reserve() and the attaches; it
	 * also keeps the rseq store before it (PROTO 7, reader repair). */
	shmf_sh_store_release64(r->ctl + SHMF_C_RPOS, r->pos);
	shmf_ring_wake(r->ctl + SHMF_C_WWAIT);
}

/* P1, P2, R1-R6: find the next frame and check its header. On success the private header copy
 * is in raw/h, and *tail is the room from the frame to the end of the data area. */
static inline int next_frame(shmf_ring *r, uint8_t raw[SHMF_FRAME_HEADER], shmf_frame_hdr *h,
                             uint64_t *tail)
{
	int rc;

	if (r->err != 0)
		return r->err;
	for (;;) {
		uint64_t avail = r->peer - r->pos;
		if (avail == 0) {
			/* Acquire: pairs with the release of wpos in publish(). */
			uint64_t w = shmf_sh_load_acquire64(r->ctl + SHMF_C_WPOS);
			if ((w & 7u) != 0)
				return reject(r, SHMF_EALIGN, 1); /* P1 */
			if (w - r->pos > r->cap)
				return reject(r, SHMF_EPOS, 1); /* P2 */
			r->peer = w;
			avail = w - r->pos;
			if (avail == 0)
				return SHMF_EAGAIN; /* R1 */
		}
		uint64_t off = r->pos & r->mask;
		*tail = r->cap - off;
		if (*tail < SHMF_FRAME_HEADER) { /* R2 */
			if (avail < *tail)
				return reject(r, SHMF_EPOS, 1);
			r->pos += *tail;
			continue;
		}
		if (avail < SHMF_FRAME_HEADER)
			return reject(r, SHMF_EPOS, 1); /* R3 */
		shmf_sh_copy_out(raw, r->data + off, SHMF_FRAME_HEADER);
		shmf_frame_hdr_decode_inl(raw, h);
		if ((rc = shmf_frame_check_type_inl(h)) != 0) /* R4, R5 */
			return reject(r, rc, 1);
		if ((rc = shmf_frame_check_length_inl(h, *tail, avail, r->max_message)) !=
		    0) /* R6 */
			return reject(r, rc, 1);
		if (h->type == SHMF_TYPE_MSG)
			return 0;
		/* A PAD frame: its CRC covers the header only. */
		if ((rc = shmf_frame_check_crc(h, raw, NULL)) != 0 ||
		    (rc = shmf_frame_check_seq(h, r->seq, r->pos)) != 0)
			return reject(r, rc, 1);
		consume(r, *tail);
	}
}

int shmf_ring_read(shmf_ring *r, void *buf, size_t cap, size_t *len)
{
	_Alignas(8) uint8_t raw[SHMF_FRAME_HEADER];
	shmf_frame_hdr h;
	uint64_t tail;
	int rc;

	if (r->pending)
		return SHMF_ESTATE;
	if ((rc = next_frame(r, raw, &h, &tail)) != 0)
		return rc;
	*len = h.length;
	if (h.length > cap)
		return SHMF_ETOOSMALL; /* R7: the frame stays */
	/* Copy out, then verify the copy (PROTO 6.1 rule 2): one pass, in which the CRC is taken of
	 * the very words stored into buf (atomics.h). R8, then R9. */
	uint32_t crc = shmf_sh_copy_out_crc(
	        0, raw, buf, r->data + (r->pos & r->mask) + SHMF_FRAME_HEADER, h.length);
	if (crc != h.crc)
		return reject(r, SHMF_ECRC, 1);
	if ((rc = shmf_frame_check_seq_inl(&h, r->seq, r->pos)) != 0)
		return reject(r, rc, 1);
	consume(r, shmf_frame_size(h.length));
	return 0;
}

int shmf_ring_peek(shmf_ring *r, const void **msg, size_t *len)
{
	_Alignas(8) uint8_t raw[SHMF_FRAME_HEADER];
	shmf_frame_hdr h;
	uint64_t tail;
	int rc;

	if (r->pending)
		return SHMF_ESTATE;
	if ((rc = next_frame(r, raw, &h, &tail)) != 0)
		return rc;
	const unsigned char *p = r->data + (r->pos & r->mask) + SHMF_FRAME_HEADER;
	/* Verified in place (the trust rule of shmf_peek): each shared byte fetched once. */
	if (shmf_sh_copy_out_crc(0, raw, NULL, p, h.length) != h.crc)
		return reject(r, SHMF_ECRC, 1);
	if ((rc = shmf_frame_check_seq(&h, r->seq, r->pos)) != 0)
		return reject(r, rc, 1);
	r->pending = 1;
	r->pend_len = h.length;
	*msg = p;
	*len = h.length;
	return 0;
}

int shmf_ring_release(shmf_ring *r)
{
	if (!r->pending)
		return SHMF_ESTATE;
	r->pending = 0;
	consume(r, shmf_frame_size(r->pend_len));
	return 0;
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
