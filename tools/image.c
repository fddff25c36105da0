/* image.c - analysis of an SHMF/1 segment from private copies of its bytes (see image.h).
 *
 * Rules kept here:
 *   - Every read is from a private buffer, at an offset checked against n (the header and the
 *     control area) or extent (frames) first, with 64-bit arithmetic that cannot overflow
 *     (positions are only compared by unsigned difference, and every size involved is at most
 *     2^31 + 4096).
 *   - Frames are copied out, then checked (PROTO 6.3): each header into a local once, each
 *     payload in chunks of CHUNK bytes that the CRC runs over, so that no length from the
 *     segment sizes a buffer, and a file that shrinks meanwhile gives a short copy, never SIGBUS.
 *   - The frame checks are the library's own (shmf_frame_check_*), in the reader's order.
 *   - Every loop is bounded: the ring walk advances at least 8 bytes a step and stops after
 *     capacity / 8 + 2 steps whatever the bytes say.
 */
#include "image.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "bytes.h"

#define CHUNK 4096u /* payload bytes copied at a time for the CRC */

static void finding(struct shmf_img *im, int code, int64_t offset, const char *where,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void finding(struct shmf_img *im, int code, int64_t offset, const char *where,
                    const char *fmt, ...)
{
	if (im->nfindings < SHMF_IMG_MAX_FINDINGS) {
		va_list ap;
		struct shmf_img_finding *f = &im->findings[im->nfindings];
		f->code = code;
		f->offset = offset;
		snprintf(f->where, sizeof f->where, "%s", where);
		va_start(ap, fmt);
		vsnprintf(f->detail, sizeof f->detail, fmt, ap);
		va_end(ap);
	}
	if (im->nfindings < UINT32_MAX)
		im->nfindings++;
}

static void note(struct shmf_img *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct shmf_img *im, const char *fmt, ...)
{
	va_list ap;

	if (im->nnotes >= SHMF_IMG_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(im->notes[im->nnotes], sizeof im->notes[0], fmt, ap);
	va_end(ap);
	im->nnotes++;
}

void shmf_img_note(struct shmf_img *im, const char *text)
{
	note(im, "%s", text);
}

const char *shmf_img_code_name(int code)
{
	switch (code) {
	case SHMF_ENOTREADY: return "SHMF_ENOTREADY";
	case SHMF_ESIZE: return "SHMF_ESIZE";
	case SHMF_EMAGIC: return "SHMF_EMAGIC";
	case SHMF_EVERSION: return "SHMF_EVERSION";
	case SHMF_EHDRCRC: return "SHMF_EHDRCRC";
	case SHMF_ELAYOUT: return "SHMF_ELAYOUT";
	case SHMF_EFEATURE: return "SHMF_EFEATURE";
	case SHMF_EOWNER: return "SHMF_EOWNER";
	case SHMF_EMODE: return "SHMF_EMODE";
	case SHMF_EROLE: return "SHMF_EROLE";
	case SHMF_EPOS: return "SHMF_EPOS";
	case SHMF_EALIGN: return "SHMF_EALIGN";
	case SHMF_ELENGTH: return "SHMF_ELENGTH";
	case SHMF_ETYPE: return "SHMF_ETYPE";
	case SHMF_EFLAGS: return "SHMF_EFLAGS";
	case SHMF_ECRC: return "SHMF_ECRC";
	case SHMF_ESEQ: return "SHMF_ESEQ";
	case SHMF_EFILETYPE: return "SHMF_EFILETYPE";
	default: return "SHMF_E?";
	}
}

const char *shmf_img_role_state(uint32_t state)
{
	switch (state) {
	case SHMF_ROLE_NEVER: return "never";
	case SHMF_ROLE_ATTACHED: return "attached";
	case SHMF_ROLE_DETACHED: return "detached";
	default: return "corrupt";
	}
}

static uint64_t round_page(uint64_t x)
{
	return (x + (SHMF_PAGE - 1u)) & ~(uint64_t)(SHMF_PAGE - 1u);
}

static int capacity_ok(uint64_t cap)
{
	return cap >= SHMF_MIN_CAPACITY && cap <= SHMF_MAX_CAPACITY && (cap & (cap - 1u)) == 0;
}

static void decode_header(struct shmf_img *im)
{
	const uint8_t *h = im->buf;

	im->magic = shmf_ld32(h + SHMF_H_MAGIC);
	im->version_major = shmf_ld16(h + SHMF_H_VERSION_MAJOR);
	im->version_minor = shmf_ld16(h + SHMF_H_VERSION_MINOR);
	im->features = shmf_ld32(h + SHMF_H_FEATURES);
	im->fingerprint = shmf_ld32(h + SHMF_H_FINGERPRINT);
	im->total_size = shmf_ld64(h + SHMF_H_TOTAL_SIZE);
	im->ctl_size = shmf_ld32(h + SHMF_H_CTL_SIZE);
	im->ring_count = shmf_ld32(h + SHMF_H_RING_COUNT);
	im->max_message = shmf_ld32(h + SHMF_H_MAX_MESSAGE);
	im->creator_uid = shmf_ld32(h + SHMF_H_CREATOR_UID);
	im->mode = shmf_ld32(h + SHMF_H_MODE);
	im->reserved0 = shmf_ld32(h + SHMF_H_RESERVED0);
	im->created_ns = shmf_ld64(h + SHMF_H_CREATED_NS);
	im->ring_data[0] = shmf_ld64(h + SHMF_H_RING0_DATA);
	im->ring_cap[0] = shmf_ld64(h + SHMF_H_RING0_CAP);
	im->ring_data[1] = shmf_ld64(h + SHMF_H_RING1_DATA);
	im->ring_cap[1] = shmf_ld64(h + SHMF_H_RING1_CAP);
	im->header_crc = shmf_ld32(h + SHMF_H_HEADER_CRC);
	im->init_state = shmf_ld32(h + SHMF_H_INIT_STATE);
	im->header_crc_calc = shmf_crc32c(0, h, SHMF_HEADER_CRC_LEN);
	im->have_header = 1;
	im->recognised = im->magic == SHMF_MAGIC && im->version_major == SHMF_VERSION_MAJOR &&
	                 im->header_crc == im->header_crc_calc;
}

/* A12: the geometry of PROTO 2.4, field by field. Returns 1 when the rings can be located. */
static int check_geometry(struct shmf_img *im)
{
	int ok = 1;
	uint64_t total;

	if (im->ring_count != 1 && im->ring_count != 2) {
		finding(im, SHMF_ELAYOUT, SHMF_H_RING_COUNT, "header",
		        "ring_count is %u, not 1 (simplex) or 2 (duplex)", im->ring_count);
		return 0;
	}
	for (unsigned i = 0; i < im->ring_count; i++) {
		if (!capacity_ok(im->ring_cap[i])) {
			finding(im, SHMF_ELAYOUT, i ? SHMF_H_RING1_CAP : SHMF_H_RING0_CAP, "header",
			        "ring%u_capacity %llu is not a power of two from 256 to 2^30", i,
			        (unsigned long long)im->ring_cap[i]);
			ok = 0;
		} else if (2u * shmf_frame_size(im->max_message) > im->ring_cap[i]) {
			finding(im, SHMF_ELAYOUT, SHMF_H_MAX_MESSAGE, "header",
			        "max_message %u: two largest frames (2 x %llu bytes) do not fit "
			        "ring "
			        "%u's capacity %llu",
			        im->max_message,
			        (unsigned long long)shmf_frame_size(im->max_message), i,
			        (unsigned long long)im->ring_cap[i]);
			ok = 0;
		}
	}
	if (im->ring_count == 1 && (im->ring_cap[1] != 0 || im->ring_data[1] != 0)) {
		finding(im, SHMF_ELAYOUT, SHMF_H_RING1_DATA, "header",
		        "simplex segment with ring1_data %llu and ring1_capacity %llu (want 0 and "
		        "0)",
		        (unsigned long long)im->ring_data[1], (unsigned long long)im->ring_cap[1]);
		ok = 0;
	}
	if (im->ring_data[0] != SHMF_CTL_AREA) {
		finding(im, SHMF_ELAYOUT, SHMF_H_RING0_DATA, "header",
		        "ring0_data is %llu, not 4096", (unsigned long long)im->ring_data[0]);
		ok = 0;
	}
	if (!ok)
		return 0;
	if (im->ring_count == 2) {
		uint64_t want1 = SHMF_CTL_AREA + round_page(im->ring_cap[0]);
		if (im->ring_data[1] != want1) {
			finding(im, SHMF_ELAYOUT, SHMF_H_RING1_DATA, "header",
			        "ring1_data is %llu, not %llu (4096 + ring 0's rounded capacity)",
			        (unsigned long long)im->ring_data[1], (unsigned long long)want1);
			return 0;
		}
		total = want1 + round_page(im->ring_cap[1]);
	} else {
		total = SHMF_CTL_AREA + round_page(im->ring_cap[0]);
	}
	if (im->total_size != total)
		finding(im, SHMF_ESIZE, SHMF_H_TOTAL_SIZE, "header",
		        "total_size is %llu, but the geometry gives %llu",
		        (unsigned long long)im->total_size, (unsigned long long)total);
	/* a file smaller than the control area was reported as such by analyse() already (A5) */
	if (im->file_size != total && im->file_size >= SHMF_CTL_AREA)
		finding(im, SHMF_ESIZE, -1, "file",
		        "the file is %llu bytes, the geometry gives %llu",
		        (unsigned long long)im->file_size, (unsigned long long)total);
	for (unsigned i = 0; i < im->ring_count; i++) {
		im->ring[i].present = 1;
		im->ring[i].data_off = im->ring_data[i];
		im->ring[i].cap = im->ring_cap[i];
	}
	return 1;
}

/* A6-A15, reporting every problem rather than the first. Returns 1 when the rest of the image
 * (roles, rings) can be interpreted. */
static int check_header(struct shmf_img *im)
{
	int go_on = 1;

	if (im->magic == 0 && im->init_state == SHMF_STATE_INIT) {
		finding(im, SHMF_ENOTREADY, SHMF_H_MAGIC, "header",
		        "magic and init_state are 0: still being created, or its creator died "
		        "before it was ready");
		return 0;
	}
	if (im->magic != SHMF_MAGIC) {
		finding(im, SHMF_EMAGIC, SHMF_H_MAGIC, "header",
		        "magic is 0x%08x, not 0x%08x (\"SHMF\")", im->magic, SHMF_MAGIC);
		/* Without the magic only the layout fingerprint can still say "SHMF/1". */
		if (im->fingerprint != SHMF_FINGERPRINT)
			return 0;
		note(im,
		     "the layout fingerprint at 0x0c is SHMF/1's: analysing the rest as SHMF/1");
	}
	if (im->init_state != SHMF_STATE_READY)
		finding(im, SHMF_ENOTREADY, SHMF_H_INIT_STATE, "header",
		        "init_state is 0x%08x, not ready (0x%08x)", im->init_state,
		        SHMF_STATE_READY);
	if (im->version_major != SHMF_VERSION_MAJOR) {
		finding(im, SHMF_EVERSION, SHMF_H_VERSION_MAJOR, "header",
		        "version %u.%u: this tool reads major version %u only", im->version_major,
		        im->version_minor, SHMF_VERSION_MAJOR);
		return 0;
	}
	if (im->header_crc != im->header_crc_calc)
		finding(im, SHMF_EHDRCRC, SHMF_H_HEADER_CRC, "header",
		        "header_crc is 0x%08x, the CRC-32C of bytes 0x00-0x77 is 0x%08x",
		        im->header_crc, im->header_crc_calc);
	if (im->fingerprint != SHMF_FINGERPRINT) {
		finding(im, SHMF_ELAYOUT, SHMF_H_FINGERPRINT, "header",
		        "fingerprint is 0x%08x, not SHMF/1's 0x%08x", im->fingerprint,
		        SHMF_FINGERPRINT);
		go_on = 0;
	}
	if (im->ctl_size != SHMF_CTL_AREA) {
		finding(im, SHMF_ELAYOUT, SHMF_H_CTL_SIZE, "header", "ctl_size is %u, not 4096",
		        im->ctl_size);
		go_on = 0;
	}
	if ((im->features & ~SHMF_FEATURES_KNOWN) != 0)
		finding(im, SHMF_EFEATURE, SHMF_H_FEATURES, "header",
		        "features 0x%08x has bits SHMF/1.0 does not define", im->features);
	if (!go_on)
		return 0;
	if ((im->mode & ~0777u) != 0)
		finding(im, SHMF_ELAYOUT, SHMF_H_MODE, "header", "mode 0%o has bits outside 0777",
		        im->mode);
	im->geometry_ok = check_geometry(im);
	if (!im->is_copy) {
		if (im->creator_uid != im->file_uid)
			finding(im, SHMF_EOWNER, SHMF_H_CREATOR_UID, "header",
			        "creator_uid is %u, but the file's owner is %u", im->creator_uid,
			        im->file_uid);
		if ((im->file_mode & 0777u & ~im->mode) != 0)
			finding(im, SHMF_EMODE, SHMF_H_MODE, "file",
			        "the file's mode 0%03o grants more than the header's mode 0%03o",
			        im->file_mode & 0777u, im->mode & 0777u);
	}
	if (im->reserved0 != 0)
		note(im, "reserved0 (0x2c) is 0x%08x, not 0", im->reserved0);
	for (unsigned i = SHMF_H_RESERVED1; i < SHMF_H_HEADER_CRC; i++) {
		if (im->buf[i] != 0) {
			note(im, "reserved bytes 0x58-0x77 are not all zero (0x%02x at 0x%02x)",
			     im->buf[i], i);
			break;
		}
	}
	return 1;
}

static void read_roles(struct shmf_img *im)
{
	for (unsigned s = 0; s < 2; s++) {
		struct shmf_img_role *r = &im->role[s];
		uint64_t off = SHMF_ROLE_LINE(s);
		char where[16];

		r->lock = -1;
		if (off + 0x40u > im->n)
			continue;
		r->present = 1;
		r->state = shmf_ld32(im->buf + off + SHMF_R_STATE);
		r->epoch = shmf_ld32(im->buf + off + SHMF_R_EPOCH);
		r->pid = shmf_ld32(im->buf + off + SHMF_R_PID);
		r->attached_ns = shmf_ld64(im->buf + off + SHMF_R_ATTACHED_NS);
		snprintf(where, sizeof where, "role %c", s ? 'B' : 'A');
		if (r->state > SHMF_ROLE_DETACHED) /* A17 */
			finding(im, SHMF_EROLE, (int64_t)(off + SHMF_R_STATE), where,
			        "state is %u, not 0 (never), 1 (attached) or 2 (detached)",
			        r->state);
	}
}

/* The control block of ring i, and A18 (P1-P2) on its positions. */
static void read_ring(struct shmf_img *im, unsigned i)
{
	struct shmf_img_ring *r = &im->ring[i];
	uint64_t ctl = SHMF_RING_CTL(i);
	char where[16];

	snprintf(where, sizeof where, "ring %u", i);
	if (ctl + SHMF_RING_CTL_SIZE > im->n)
		return;
	r->readable = 1;
	r->wpos = shmf_ld64(im->buf + ctl + SHMF_C_WPOS);
	r->wseq = shmf_ld64(im->buf + ctl + SHMF_C_WSEQ);
	r->rpos = shmf_ld64(im->buf + ctl + SHMF_C_RPOS);
	r->rseq = shmf_ld64(im->buf + ctl + SHMF_C_RSEQ);
	r->rerrors = shmf_ld32(im->buf + ctl + SHMF_C_RERRORS);
	r->rlasterr = shmf_ld32(im->buf + ctl + SHMF_C_RLASTERR);
	r->rwait = shmf_ld32(im->buf + ctl + SHMF_C_RWAIT);
	r->wwait = shmf_ld32(im->buf + ctl + SHMF_C_WWAIT);
	if (r->rerrors != 0)
		note(im, "ring %u: its reader has met %u reject(s), the latest: %s", i, r->rerrors,
		     shmf_strerror(-(int)(r->rlasterr & 0x7fffffffu)));
	if ((r->wpos & 7u) != 0) {
		finding(im, SHMF_EALIGN, (int64_t)(ctl + SHMF_C_WPOS), where,
		        "wpos %llu is not a multiple of 8", (unsigned long long)r->wpos);
		return;
	}
	if ((r->rpos & 7u) != 0) {
		finding(im, SHMF_EALIGN, (int64_t)(ctl + SHMF_C_RPOS), where,
		        "rpos %llu is not a multiple of 8", (unsigned long long)r->rpos);
		return;
	}
	if (r->wpos - r->rpos > r->cap) {
		finding(im, SHMF_EPOS, (int64_t)(ctl + SHMF_C_WPOS), where,
		        "wpos %llu - rpos %llu is not within [0, capacity %llu]",
		        (unsigned long long)r->wpos, (unsigned long long)r->rpos,
		        (unsigned long long)r->cap);
		return;
	}
	if (r->data_off > im->extent || r->cap > im->extent - r->data_off)
		return; /* the file is short: reported as a size problem already */
	r->walkable = 1;
}

static void analyse(struct shmf_img *im)
{
	if (im->extent < im->file_size)
		finding(im, SHMF_ESIZE, -1, "file",
		        "read %llu of its %llu bytes: the file shrank while it was read, or is "
		        "larger "
		        "than any segment",
		        (unsigned long long)im->extent, (unsigned long long)im->file_size);
	if (im->n < SHMF_HEADER_SIZE) {
		if (im->n == 0)
			finding(im, SHMF_ENOTREADY, -1, "file",
			        "the file is empty: a segment still being created, or not one");
		else
			finding(im, SHMF_ESIZE, -1, "file",
			        "%llu bytes: too small for the 128-byte header",
			        (unsigned long long)im->n);
		return;
	}
	decode_header(im);
	/* A5 before A6 (PROTO 6.2): a file too small for the control area says so first, whatever
	 * its header holds, as an attach would. */
	if (im->file_size < SHMF_CTL_AREA)
		finding(im, SHMF_ESIZE, -1, "file", "%llu bytes: smaller than the control area",
		        (unsigned long long)im->file_size);
	if (!check_header(im))
		return;
	read_roles(im);
	if (!im->geometry_ok)
		return;
	for (unsigned i = 0; i < im->ring_count && i < 2; i++)
		read_ring(im, i);
}

static void init(struct shmf_img *im, const uint8_t *buf, size_t n, uint64_t file_size,
                 uint32_t file_uid, uint32_t file_mode, int is_copy)
{
	memset(im, 0, sizeof *im);
	im->buf = buf;
	im->n = buf != NULL ? n : 0;
	im->file_size = file_size;
	im->file_uid = file_uid;
	im->file_mode = file_mode;
	im->is_copy = is_copy;
	im->role[0].lock = im->role[1].lock = -1;
}

void shmf_img_analyse(struct shmf_img *im, const uint8_t *buf, size_t n, uint64_t file_size,
                      uint32_t file_uid, uint32_t file_mode, int is_copy)
{
	init(im, buf, n, file_size, file_uid, file_mode, is_copy);
	im->extent = im->n;
	analyse(im);
}

void shmf_img_analyse_file(struct shmf_img *im, const uint8_t *head, size_t n, uint64_t file_size,
                           uint32_t file_uid, uint32_t file_mode, int is_copy, shmf_img_read_fn rd,
                           void *ctx)
{
	init(im, head, n, file_size, file_uid, file_mode, is_copy);
	im->extent = im->n;
	/* The frames are read only from a file that can be a segment, whose head was read whole
	 * (a shorter head means the file shrank already: what there is is analysed). */
	if (rd != NULL && head != NULL && file_size <= SHMF_IMG_MAX_SIZE &&
	    n == (file_size < SHMF_CTL_AREA ? file_size : SHMF_CTL_AREA)) {
		im->read = rd;
		im->read_ctx = ctx;
		im->extent = file_size;
	}
	analyse(im);
}

static void frame_reject(struct shmf_img *im, const struct shmf_img_frame *f, int code,
                         uint64_t tail, uint64_t avail)
{
	char where[16];
	uint64_t off = f->offset;

	snprintf(where, sizeof where, "ring %u", f->ring);
	switch (code) {
	case SHMF_ETYPE:
		finding(im, code, (int64_t)(off + SHMF_F_TYPE), where,
		        "frame at position %llu: type %u is neither MSG (1) nor PAD (2)",
		        (unsigned long long)f->pos, f->type);
		break;
	case SHMF_EFLAGS:
		finding(im, code, (int64_t)(off + SHMF_F_FLAGS), where,
		        "frame at position %llu: flags 0x%04x are not zero",
		        (unsigned long long)f->pos, f->flags);
		break;
	case SHMF_ELENGTH:
		finding(im, code, (int64_t)(off + SHMF_F_LENGTH), where,
		        "%s frame at position %llu: length %u does not fit (max_message %u, %llu "
		        "bytes to the end of the data area, %llu published)",
		        f->type == SHMF_TYPE_PAD ? "PAD" : "MSG", (unsigned long long)f->pos,
		        f->length, im->max_message, (unsigned long long)tail,
		        (unsigned long long)avail);
		break;
	case SHMF_ECRC:
		finding(im, code, (int64_t)(off + SHMF_F_CRC), where,
		        "%s frame at position %llu (seq %llu, length %u): CRC 0x%08x stored, "
		        "0x%08x computed%s",
		        f->type == SHMF_TYPE_PAD ? "PAD" : "MSG", (unsigned long long)f->pos,
		        (unsigned long long)f->seq, f->length, f->crc, f->crc_calc,
		        f->after_reject ? " (after an earlier reject)" : "");
		break;
	case SHMF_ESEQ:
		finding(im, code, (int64_t)(off + SHMF_F_SEQ), where,
		        "frame at position %llu: seq %llu with position stamp 0x%08x, expected seq "
		        "%llu and stamp 0x%08x%s",
		        (unsigned long long)f->pos, (unsigned long long)f->seq, (unsigned)f->stamp,
		        (unsigned long long)f->expect_seq, (unsigned)(uint32_t)f->pos,
		        f->after_reject ? " (after an earlier reject)" : "");
		break;
	default: break;
	}
}

/* Copy len bytes at file offset off into dst (ahead as for shmf_img_read_fn). 1, or 0 when the
 * file ended first: it shrank while it was read, which is said once. */
static int fetch(struct shmf_img *im, uint64_t off, void *dst, size_t len, uint64_t ahead)
{
	uint64_t end;
	size_t got;

	if (off > im->extent || len > im->extent - off)
		return 0; /* not reached: the walks stay inside rings that fit the extent */
	if (im->read == NULL) {
		memcpy(dst, im->buf + off, len);
		return 1;
	}
	got = im->read(im->read_ctx, off, dst, len, ahead < len ? len : ahead);
	if (got == len)
		return 1;
	end = off + (got < len ? got : len);
	if (!im->shrank) {
		/* A read that got nothing only says the file ends at or before where it began. */
		im->shrank = 1;
		finding(im, SHMF_ESIZE, -1, "file",
		        "the file ended %s offset %llu while it was read: it shrank from %llu "
		        "bytes",
		        got == 0 ? "at or before" : "at", (unsigned long long)end,
		        (unsigned long long)im->file_size);
	}
	return 0;
}

/* R8 over private copies: the CRC of the frame whose header is raw and h (R4-R6 passed, so its
 * payload lies inside the data area, at file offset at, with ahead published bytes from there
 * to the end of the data area), the payload copied CHUNK bytes at a time; its first bytes are
 * kept in f's preview when f is not NULL. 1, or 0 when the file ended first. */
static int frame_crc(struct shmf_img *im, uint64_t at, uint64_t ahead,
                     const uint8_t raw[SHMF_FRAME_HEADER], const shmf_frame_hdr *h, uint32_t *crc,
                     struct shmf_img_frame *f)
{
	uint8_t chunk[CHUNK];
	uint32_t len = h->type == SHMF_TYPE_MSG ? h->length : 0;
	uint32_t c = shmf_frame_crc(raw, NULL, 0);

	for (uint32_t done = 0; done < len;) {
		uint32_t k = len - done < CHUNK ? len - done : CHUNK;
		if (!fetch(im, at + done, chunk, k, ahead > done ? ahead - done : k))
			return 0;
		if (done == 0 && f != NULL) {
			f->preview_len = k < SHMF_IMG_PREVIEW ? k : SHMF_IMG_PREVIEW;
			memcpy(f->preview, chunk, f->preview_len);
		}
		c = shmf_crc32c(c, chunk, k);
		done += k;
	}
	*crc = c;
	return 1;
}

/* The reader's takeover repair of PROTO 7: does a whole frame with sequence `seq` and the right
 * position stamp sit at p (after the skip rule), inside the published bytes? */
static int frame_has_seq(struct shmf_img *im, const struct shmf_img_ring *r, uint64_t p, uint64_t w,
                         uint64_t seq)
{
	uint64_t mask = r->cap - 1u;
	uint64_t tail = r->cap - (p & mask);
	uint64_t at, ahead;
	uint8_t raw[SHMF_FRAME_HEADER];
	shmf_frame_hdr h;
	uint32_t crc;

	if (tail < SHMF_FRAME_HEADER) {
		if (w - p < tail)
			return 0;
		p += tail;
		tail = r->cap;
	}
	if (w - p < SHMF_FRAME_HEADER || w - p > r->cap)
		return 0;
	at = r->data_off + (p & mask);
	ahead = w - p < tail ? w - p : tail;
	if (!fetch(im, at, raw, sizeof raw, ahead))
		return 0;
	shmf_frame_hdr_decode(raw, &h);
	return shmf_frame_check_type(&h) == 0 &&
	       shmf_frame_check_length(&h, tail, w - p, im->max_message) == 0 &&
	       frame_crc(im, at + SHMF_FRAME_HEADER, ahead - SHMF_FRAME_HEADER, raw, &h, &crc,
	                 NULL) &&
	       crc == h.crc && shmf_frame_check_seq(&h, seq, p) == 0;
}

/* PROTO 6.3, R2-R9, on private copies, as a reader at rpos expecting rseq would do with the
 * snapshot wpos. */
void shmf_img_walk(struct shmf_img *im, unsigned i, shmf_img_frame_cb cb, void *ctx)
{
	struct shmf_img_ring *r;
	uint64_t p, w, seq, mask, steps;
	char where[16];

	if (i >= 2 || !im->ring[i].walkable || im->ring[i].walked)
		return;
	r = &im->ring[i];
	r->walked = 1;
	snprintf(where, sizeof where, "ring %u", i);
	mask = r->cap - 1u;
	p = r->rpos;
	w = r->wpos;
	seq = r->rseq;
	if (seq != 0 && p != w && frame_has_seq(im, r, p, w, seq - 1u)) {
		seq--;
		note(im,
		     "ring %u: rseq %llu is one ahead of the frame at rpos: a reader died between "
		     "storing rseq and rpos (the next reader delivers that frame again)",
		     i, (unsigned long long)r->rseq);
	}
	/* Each step moves p by 8 bytes at least, and w - p <= cap: cap / 8 + 2 steps suffice. */
	for (steps = 0; p != w && steps <= r->cap / 8u + 2u; steps++) {
		uint64_t off = p & mask;
		uint64_t tail = r->cap - off;
		uint64_t avail = w - p;
		uint64_t ahead = avail < tail ? avail : tail; /* published, up to the area's end */
		uint8_t raw[SHMF_FRAME_HEADER];
		struct shmf_img_frame f;
		shmf_frame_hdr h;
		uint64_t size;
		int rc;

		if (tail < SHMF_FRAME_HEADER) { /* R2: the skip rule of PROTO 5.2 */
			if (avail < tail) {
				finding(im, SHMF_EPOS, (int64_t)(SHMF_RING_CTL(i) + SHMF_C_WPOS),
				        where,
				        "wpos %llu ends inside the %llu skipped bytes at position "
				        "%llu",
				        (unsigned long long)w, (unsigned long long)tail,
				        (unsigned long long)p);
				r->unexamined = avail;
				break;
			}
			r->skips++;
			p += tail;
			continue;
		}
		if (avail < SHMF_FRAME_HEADER) { /* R3 */
			finding(im, SHMF_EPOS, (int64_t)(SHMF_RING_CTL(i) + SHMF_C_WPOS), where,
			        "wpos %llu ends inside the frame header at position %llu",
			        (unsigned long long)w, (unsigned long long)p);
			r->unexamined = avail;
			break;
		}
		if (!fetch(im, r->data_off + off, raw, sizeof raw, ahead)) {
			r->unexamined = avail;
			break;
		}
		memset(&f, 0, sizeof f);
		shmf_frame_hdr_decode(raw, &h);
		f.ring = i;
		f.pos = p;
		f.offset = r->data_off + off;
		f.expect_seq = seq;
		f.seq = h.seq;
		f.length = h.length;
		f.crc = h.crc;
		f.type = h.type;
		f.flags = h.flags;
		f.stamp = h.pos;
		f.after_reject = r->rejects != 0;
		rc = shmf_frame_check_type(&h); /* R4, R5 */
		if (rc == 0)
			rc = shmf_frame_check_length(&h, tail, avail, im->max_message); /* R6 */
		if (rc != 0) {
			/* The frame's extent is unknown: nothing after it can be located. */
			f.status = rc;
			r->rejects++;
			r->unexamined = avail;
			frame_reject(im, &f, rc, tail, avail);
			if (cb != NULL)
				cb(ctx, &f);
			break;
		}
		f.header_ok = 1;
		size = h.type == SHMF_TYPE_PAD ? tail : shmf_frame_size(h.length);
		/* R8, on the copy of the payload; the computed value is kept for the report */
		if (!frame_crc(im, f.offset + SHMF_FRAME_HEADER, ahead - SHMF_FRAME_HEADER, raw, &h,
		               &f.crc_calc, &f)) {
			r->unexamined = avail;
			break;
		}
		rc = f.crc_calc == h.crc ? 0 : SHMF_ECRC;
		if (rc == 0)
			rc = shmf_frame_check_seq(&h, seq, p); /* R9 */
		if (rc != 0) {
			f.status = rc;
			r->rejects++;
			frame_reject(im, &f, rc, tail, avail);
		}
		if (cb != NULL)
			cb(ctx, &f);
		r->frames++;
		if (h.type == SHMF_TYPE_MSG) {
			r->messages++;
			r->msg_bytes += h.length;
		} else {
			r->pads++;
		}
		seq++;
		p += size;
	}
	r->end_seq = seq;
	if (p == w && r->rejects == 0 && r->wseq != seq) {
		if (r->wseq == seq + 1u)
			note(im,
			     "ring %u: wseq %llu is one ahead of the last published frame: a "
			     "writer "
			     "died between publishing wseq and wpos (the next writer repairs it)",
			     i, (unsigned long long)r->wseq);
		else
			note(im, "ring %u: wseq is %llu, but the frames end at seq %llu", i,
			     (unsigned long long)r->wseq, (unsigned long long)seq);
	}
}

void shmf_img_walk_all(struct shmf_img *im)
{
	for (unsigned i = 0; i < 2; i++)
		shmf_img_walk(im, i, NULL, NULL);
}
