/* cli_image.c - fuzz target: the segment analysis of `shmframe inspect` and `shmframe ls`,
 * shmf_img_analyse() and shmf_img_walk() of tools/image.c (declared in tools/image.h).
 *
 * Input: a segment image, as for the segment target (whose seeds it shares), in a heap block of
 * exactly its size; the file is that image, owned by uid 1000. Bytes the protocol reserves and
 * readers ignore steer the harness, as in segment.c: 0xFF0 u32, if not 0, the file's permission
 * bits (& 0777), else the header's mode; 0xFF8 u32 bit 3: the image is a copy (`inspect
 * --file`), whose owner and mode say nothing.
 *
 * Oracle: the analysis against model.h, the reader written from PROTOCOL.md alone:
 *   - memory-safe and bounded on any bytes; every finding has a named code and NUL-terminated
 *     texts; at most SHMF_IMG_MAX_FINDINGS kept; the same result when run twice;
 *   - the model accepts the header (A5..A15) exactly when the analysis finds no problem with
 *     the header or the file, and then the analysis knows the geometry: ring count, capacities;
 *   - for each ring the model's reader attaches to (A18 and the takeover repair of PROTO 7), the
 *     walk is the model's drain: the same messages, in order, at the same positions, then either
 *     the end of the published bytes (the model's EAGAIN) or the model's reject, which the walk
 *     reports (EPOS from R2/R3 as a finding, the others on the frame); a ring that fails A18 is
 *     reported with the model's code and not walked.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "image.h"
#include "model.h"

#define FZ_IMG_MAX      (1u << 20)
#define FZ_IMG_UID      1000u
#define FZ_CTL_FILEMODE 0xFF0u
#define FZ_CTL_FLAGS    0xFF8u
#define FZ_FLAG_COPY    8u
#define FZ_MAX_FRAMES   (FZ_IMG_MAX / 8u + 4u)

struct fz_walk {
	unsigned n;
	struct shmf_img_frame f[FZ_MAX_FRAMES];
};

static void record(void *ctx, const struct shmf_img_frame *f)
{
	struct fz_walk *w = ctx;

	FZ_CHECK(w->n < FZ_MAX_FRAMES, "more frames than a ring can hold");
	w->f[w->n++] = *f;
}

/* The codes of A5..A15: a problem with the header or the file. */
static int is_file_code(int code)
{
	static const int codes[] = {SHMF_ENOTREADY, SHMF_ESIZE,   SHMF_EMAGIC,
	                            SHMF_EVERSION,  SHMF_EHDRCRC, SHMF_ELAYOUT,
	                            SHMF_EFEATURE,  SHMF_EOWNER,  SHMF_EMODE};

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i] == code)
			return 1;
	return 0;
}

static int has_finding(const struct shmf_img *im, int code, const char *where)
{
	unsigned n = im->nfindings < SHMF_IMG_MAX_FINDINGS ? im->nfindings : SHMF_IMG_MAX_FINDINGS;

	for (unsigned i = 0; i < n; i++)
		if (im->findings[i].code == code &&
		    (where == NULL || strcmp(im->findings[i].where, where) == 0))
			return 1;
	return 0;
}

static void check_findings(const struct shmf_img *im, size_t size)
{
	unsigned n = im->nfindings < SHMF_IMG_MAX_FINDINGS ? im->nfindings : SHMF_IMG_MAX_FINDINGS;

	FZ_CHECK(im->nnotes <= SHMF_IMG_MAX_NOTES, "%u notes", im->nnotes);
	for (unsigned i = 0; i < im->nnotes; i++)
		FZ_CHECK(memchr(im->notes[i], '\0', sizeof im->notes[i]) != NULL, "note %u", i);
	for (unsigned i = 0; i < n; i++) {
		const struct shmf_img_finding *f = &im->findings[i];
		FZ_CHECK(strcmp(shmf_img_code_name(f->code), "SHMF_E?") != 0, "finding %u: code %d",
		         i, f->code);
		FZ_CHECK(memchr(f->where, '\0', sizeof f->where) != NULL &&
		                 memchr(f->detail, '\0', sizeof f->detail) != NULL,
		         "finding %u: texts not terminated", i);
		FZ_CHECK(f->where[0] != '\0' && f->detail[0] != '\0', "finding %u: empty text", i);
		FZ_CHECK(f->offset >= -1 && (f->offset == -1 || (uint64_t)f->offset < size),
		         "finding %u (%s): offset %lld outside the file", i, f->detail,
		         (long long)f->offset);
	}
}

/* Ring i, which the model's reader attached to: the walk must be its drain. */
static void check_walk(struct shmf_img *im, unsigned i, fz_reader *m, struct fz_walk *w)
{
	const struct shmf_img_ring *r = &im->ring[i];
	char where[16];
	unsigned k = 0;
	int rc;

	snprintf(where, sizeof where, "ring %u", i);
	w->n = 0;
	shmf_img_walk(im, i, record, w);
	FZ_CHECK(r->walked, "ring %u not walked", i);
	for (;;) {
		const uint8_t *payload;
		uint32_t len;
		uint64_t pos = m->pos;
		rc = fz_reader_next(m, SIZE_MAX, &payload, &len);
		if (rc != 0)
			break;
		/* PADs: the walk reports them, the model passes over them */
		while (k < w->n && w->f[k].status == 0 && w->f[k].type == FZ_TYPE_PAD)
			k++;
		FZ_CHECK(k < w->n, "ring %u: the model delivers a message the walk lacks", i);
		FZ_CHECK(w->f[k].status == 0 && w->f[k].type == FZ_TYPE_MSG &&
		                 w->f[k].length == len &&
		                 w->f[k].offset + FZ_FRAME_HDR == (uint64_t)(payload - im->buf),
		         "ring %u: frame %u is status %d type %u length %u at offset %llu, the "
		         "model's message is %u bytes at position >= %llu",
		         i, k, w->f[k].status, w->f[k].type, w->f[k].length,
		         (unsigned long long)w->f[k].offset, len, (unsigned long long)pos);
		k++;
	}
	while (k < w->n && w->f[k].status == 0 && w->f[k].type == FZ_TYPE_PAD)
		k++;
	if (rc == SHMF_EAGAIN) {
		FZ_CHECK(k == w->n && r->rejects == 0 && r->unexamined == 0 &&
		                 !has_finding(im, SHMF_EPOS, where),
		         "ring %u: the model reads it clean, the walk has %u more frame(s), %llu "
		         "reject(s)",
		         i, w->n - k, (unsigned long long)r->rejects);
		FZ_CHECK(r->end_seq == m->seq, "ring %u: walk ends at seq %llu, model at %llu", i,
		         (unsigned long long)r->end_seq, (unsigned long long)m->seq);
		return;
	}
	if (k < w->n) {
		FZ_CHECK(w->f[k].status == rc, "ring %u: frame %u has status %d, the model %d", i,
		         k, w->f[k].status, rc);
	} else {
		FZ_CHECK(rc == SHMF_EPOS && has_finding(im, SHMF_EPOS, where),
		         "ring %u: the model rejects with %d, the walk reports nothing", i, rc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_walk walk;
	static struct shmf_img im, again;
	uint8_t *img;
	uint32_t mode = 0, flags = 0;
	int copy, mrc;
	fz_geom g;

	if (size > FZ_IMG_MAX)
		return 0;
	img = malloc(size != 0 ? size : 1u);
	FZ_CHECK(img != NULL, "out of memory");
	if (size != 0)
		memcpy(img, data, size);
	if (size >= FZ_CTL_FILEMODE + 4u)
		mode = fz_ld32(img + FZ_CTL_FILEMODE) & 0777u;
	if (size >= FZ_CTL_FLAGS + 4u)
		flags = fz_ld32(img + FZ_CTL_FLAGS);
	if (mode == 0 && size >= FZ_HDR_SIZE)
		mode = fz_ld32(img + 0x28) & 0777u;
	copy = (flags & FZ_FLAG_COPY) != 0;

	shmf_img_analyse(&im, img, size, size, FZ_IMG_UID, mode, copy);
	shmf_img_analyse(&again, img, size, size, FZ_IMG_UID, mode, copy);
	FZ_CHECK(memcmp(&im, &again, sizeof im) == 0, "two analyses differ");
	check_findings(&im, size);

	/* A copy's owner and mode are not checked: give the model the header's own. */
	mrc = fz_header_check(img, size,
	                      copy && size >= FZ_HDR_SIZE ? fz_ld32(img + 0x24) : FZ_IMG_UID,
	                      copy ? 0u : mode, &g);
	if (mrc != 0) {
		FZ_CHECK(im.nfindings > 0,
		         "the model rejects the header with %d, the analysis finds "
		         "nothing",
		         mrc);
	} else {
		unsigned n =
		        im.nfindings < SHMF_IMG_MAX_FINDINGS ? im.nfindings : SHMF_IMG_MAX_FINDINGS;
		for (unsigned i = 0; i < n; i++)
			FZ_CHECK(!is_file_code(im.findings[i].code),
			         "the model accepts the header, the analysis says %s: %s",
			         shmf_img_code_name(im.findings[i].code), im.findings[i].detail);
		FZ_CHECK(im.recognised && im.geometry_ok && im.ring_count == g.ring_count &&
		                 im.max_message == g.max_message,
		         "geometry");
		for (unsigned i = 0; i < g.ring_count; i++) {
			fz_reader m;
			char where[16];
			int arc = fz_reader_attach(&m, img, &g, i);
			snprintf(where, sizeof where, "ring %u", i);
			FZ_CHECK(im.ring[i].present && im.ring[i].cap == g.cap[i] &&
			                 im.ring[i].data_off == g.data[i],
			         "ring %u geometry", i);
			if (arc != 0) {
				FZ_CHECK(!im.ring[i].walkable && has_finding(&im, arc, where),
				         "ring %u: the model's attach says %d, the analysis does "
				         "not",
				         i, arc);
				continue;
			}
			FZ_CHECK(im.ring[i].walkable, "ring %u attaches but is not walkable", i);
			check_walk(&im, i, &m, &walk);
		}
	}
	shmf_img_walk_all(&im); /* whatever is left, without a model: bounded, memory-safe */
	check_findings(&im, size);
	free(img);
	return 0;
}
