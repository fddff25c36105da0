/* model.h - a reader of SHMF/1 segment images written from docs/PROTOCOL.md alone: the attach
 * checks of section 6.2 (A5..A15, A17, A18 and the reader's takeover repair of section 7) and the
 * per-frame checks of section 6.3, on a private copy of the image.
 *
 * The segment targets replay every call they make to the library against this model and demand
 * the same result, error for error and byte for byte. That is sound because the harness is the
 * only process that touches the image, and the library's own stores during a session (rpos,
 * rseq, rerrors, rlasterr, the wait words, its role line) never land on a byte a reader reads
 * again in that session.
 */
#ifndef SHMF_FUZZ_MODEL_H
#define SHMF_FUZZ_MODEL_H

#include "oracle.h"

#define FZ_PAGE        4096u
#define FZ_HDR_SIZE    128u
#define FZ_MAGIC       0x464D4853u
#define FZ_READY       0x59444552u
#define FZ_FINGERPRINT 0x9D825D65u
#define FZ_ROLE(side)  (0x80u + 0x40u * (unsigned)(side))
#define FZ_CTL(ring)   (0x100u + 0x100u * (unsigned)(ring))
#define FZ_C_WPOS      0x00u
#define FZ_C_WSEQ      0x08u
#define FZ_C_RPOS      0x80u
#define FZ_C_RSEQ      0x88u
#define FZ_C_RERRORS   0x90u
#define FZ_C_RLASTERR  0x94u

typedef struct fz_geom {
	uint32_t ring_count;
	uint32_t max_message;
	uint64_t total_size;
	uint64_t data[2];
	uint64_t cap[2];
} fz_geom;

static inline uint64_t fz_round_page(uint64_t x)
{
	return (x + (FZ_PAGE - 1u)) & ~(uint64_t)(FZ_PAGE - 1u);
}

static inline int fz_cap_ok(uint64_t c)
{
	return c >= 256u && c <= (1u << 30) && (c & (c - 1u)) == 0;
}

/* A5..A15 on the image (the first 128 bytes are the header snapshot) and the file's facts. */
static inline int fz_header_check(const uint8_t *img, uint64_t file_size, uint32_t file_uid,
                                  uint32_t file_mode, fz_geom *g)
{
	if (file_size < FZ_PAGE)
		return file_size == 0 ? SHMF_ENOTREADY : SHMF_ESIZE; /* A5 */
	uint32_t magic = fz_ld32(img);
	uint32_t state = fz_ld32(img + 0x7C);
	if (magic == 0 && state == 0)
		return SHMF_ENOTREADY; /* A6: still being created */
	if (magic != FZ_MAGIC)
		return SHMF_EMAGIC; /* A6 */
	if (state != FZ_READY)
		return SHMF_ENOTREADY; /* A7 */
	if (fz_ld16(img + 0x04) != 1)
		return SHMF_EVERSION; /* A8 */
	if (fz_crc32c(0, img, 0x78) != fz_ld32(img + 0x78))
		return SHMF_EHDRCRC; /* A9 */
	if (fz_ld32(img + 0x0C) != FZ_FINGERPRINT || fz_ld32(img + 0x18) != FZ_PAGE)
		return SHMF_ELAYOUT; /* A10 */
	if (fz_ld32(img + 0x08) != 0)
		return SHMF_EFEATURE; /* A11 */

	/* A12: section 2.4 */
	fz_geom m;
	memset(&m, 0, sizeof m);
	m.ring_count = fz_ld32(img + 0x1C);
	m.max_message = fz_ld32(img + 0x20);
	m.data[0] = fz_ld64(img + 0x38);
	m.cap[0] = fz_ld64(img + 0x40);
	m.data[1] = fz_ld64(img + 0x48);
	m.cap[1] = fz_ld64(img + 0x50);
	uint32_t mode = fz_ld32(img + 0x28);
	/* two maximum-size frames fit a ring: a writer at the end of a lap can always pad and
	 * write (PROTO 2.4) */
	uint64_t need = 2u * fz_align8(FZ_FRAME_HDR + (uint64_t)m.max_message);
	if (m.ring_count != 1 && m.ring_count != 2)
		return SHMF_ELAYOUT;
	if (!fz_cap_ok(m.cap[0]) || need > m.cap[0] || m.data[0] != FZ_PAGE)
		return SHMF_ELAYOUT;
	if (m.ring_count == 2) {
		if (!fz_cap_ok(m.cap[1]) || need > m.cap[1] ||
		    m.data[1] != FZ_PAGE + fz_round_page(m.cap[0]))
			return SHMF_ELAYOUT;
	} else if (m.data[1] != 0 || m.cap[1] != 0) {
		return SHMF_ELAYOUT;
	}
	if ((mode & ~0777u) != 0)
		return SHMF_ELAYOUT;
	/* A13 */
	unsigned last = m.ring_count - 1u;
	m.total_size = m.data[last] + fz_round_page(m.cap[last]);
	if (fz_ld64(img + 0x10) != m.total_size || file_size != m.total_size)
		return SHMF_ESIZE;
	if (fz_ld32(img + 0x24) != file_uid)
		return SHMF_EOWNER; /* A14 */
	if ((file_mode & 0777u & ~mode) != 0)
		return SHMF_EMODE; /* A15 */
	if (g != NULL)
		*g = m;
	return 0;
}

/* P1, P2 on a pair of shared positions. */
static inline int fz_positions(uint64_t w, uint64_t r, uint64_t cap)
{
	if ((w & 7u) != 0 || (r & 7u) != 0)
		return SHMF_EALIGN;
	if (w - r > cap)
		return SHMF_EPOS;
	return 0;
}

/* One ring seen by its reader. The image is never re-read for wpos: nothing moves it during a
 * session, so the snapshot at attach is every later snapshot too. */
typedef struct fz_reader {
	const uint8_t *data;
	uint64_t cap;
	uint32_t max_message;
	uint64_t w;   /* the writer's published position */
	uint64_t pos; /* private rpos */
	uint64_t seq; /* private rseq */
	int err;      /* sticky reject */
	/* what the reader must have stored into its control block by now (PROTO 5.4, 6.4) */
	uint64_t shared_pos, shared_seq;
	uint32_t rejects;
} fz_reader;

/* Is the frame at p (room bytes published from it on) one that passes R4..R9 with the expected
 * sequence seq (the repairs of PROTO 7)? */
static inline int fz_frame_at_ok(const fz_reader *m, uint64_t p, uint64_t room, uint64_t seq)
{
	uint64_t off = p & (m->cap - 1u);
	uint64_t tail = m->cap - off;
	fz_hdr h;

	if (room < FZ_FRAME_HDR || tail < FZ_FRAME_HDR)
		return 0;
	fz_hdr_read(m->data + off, &h);
	if (fz_frame_check_hdr(&h, tail, room, m->max_message) != 0)
		return 0;
	return fz_frame_check_body(m->data + off, &h, seq, p) == 0;
}

/* A18 for the reader of `ring`, then its repair. */
static inline int fz_reader_attach(fz_reader *m, const uint8_t *img, const fz_geom *g,
                                   unsigned ring)
{
	const uint8_t *ctl = img + FZ_CTL(ring);
	uint64_t rd = fz_ld64(ctl + FZ_C_RPOS);
	uint64_t s = fz_ld64(ctl + FZ_C_RSEQ);
	uint64_t w = fz_ld64(ctl + FZ_C_WPOS);
	int rc = fz_positions(w, rd, g->cap[ring]);

	memset(m, 0, sizeof *m);
	if (rc != 0)
		return rc;
	m->data = img + g->data[ring];
	m->cap = g->cap[ring];
	m->max_message = g->max_message;
	m->w = w;
	m->pos = m->shared_pos = rd;
	m->seq = m->shared_seq = s;
	/* PROTO 7, takeover as the reader: p is rpos after the skip rule. */
	uint64_t tail = m->cap - (rd & (m->cap - 1u));
	uint64_t p = tail < FZ_FRAME_HDR ? rd + tail : rd;
	if (s != 0 && p - rd <= w - rd && fz_frame_at_ok(m, p, w - p, s - 1u))
		m->seq = s - 1u;
	return 0;
}

/* A18 for the writer of `ring` (its repair changes nothing a reader sees). */
static inline int fz_writer_attach_check(const uint8_t *img, const fz_geom *g, unsigned ring)
{
	const uint8_t *ctl = img + FZ_CTL(ring);
	return fz_positions(fz_ld64(ctl + FZ_C_WPOS), fz_ld64(ctl + FZ_C_RPOS), g->cap[ring]);
}

static inline int fz_reject(fz_reader *m, int err)
{
	m->err = err;
	m->rejects++;
	return err;
}

/* One receive (PROTO 6.3): P1..R9, with a buffer of `room` bytes (SIZE_MAX for a zero-copy
 * peek, which has no R7). On success *payload and *len give the message, inside the image. On
 * SHMF_ETOOSMALL *len is the size needed. */
static inline int fz_reader_next(fz_reader *m, size_t room, const uint8_t **payload, uint32_t *len)
{
	fz_hdr h;
	int rc;

	if (m->err != 0)
		return m->err;
	for (;;) {
		uint64_t avail = m->w - m->pos;
		if (avail == 0)
			return SHMF_EAGAIN; /* R1 */
		uint64_t off = m->pos & (m->cap - 1u);
		uint64_t tail = m->cap - off;
		if (tail < FZ_FRAME_HDR) { /* R2 */
			if (avail < tail)
				return fz_reject(m, SHMF_EPOS);
			m->pos += tail;
			continue;
		}
		if (avail < FZ_FRAME_HDR)
			return fz_reject(m, SHMF_EPOS); /* R3 */
		const uint8_t *raw = m->data + off;
		fz_hdr_read(raw, &h);
		if ((rc = fz_frame_check_hdr(&h, tail, avail, m->max_message)) != 0)
			return fz_reject(m, rc); /* R4..R6 */
		if (h.type == FZ_TYPE_MSG && h.length > room) {
			*len = h.length;
			return SHMF_ETOOSMALL; /* R7 */
		}
		if ((rc = fz_frame_check_body(raw, &h, m->seq, m->pos)) != 0)
			return fz_reject(m, rc); /* R8, R9 */
		/* PROTO 5.4: consumed */
		uint64_t size = h.type == FZ_TYPE_PAD ? tail : fz_align8(FZ_FRAME_HDR + h.length);
		m->pos += size;
		m->seq++;
		m->shared_pos = m->pos;
		m->shared_seq = m->seq;
		if (h.type == FZ_TYPE_MSG) {
			*payload = raw + FZ_FRAME_HDR;
			*len = h.length;
			return 0;
		}
	}
}

#endif
