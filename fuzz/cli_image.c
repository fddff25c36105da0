/* cli_image.c - fuzz target: the segment analysis of `shmframe inspect` and `shmframe ls`,
 * shmf_img_analyse(), shmf_img_analyse_file() and shmf_img_walk() of tools/image.c (declared in
 * tools/image.h), and the file reading they do it through, shmf_cli_read_head() and the 64 KiB
 * window of shmf_cli_read_at() (tools/segfile.c).
 *
 * Input: a segment image, as for the segment target (whose seeds it shares), in a heap block of
 * exactly its size; the file is that image, owned by uid 1000. Bytes the protocol reserves and
 * readers ignore steer the harness, as in segment.c: 0xFF0 u32, if not 0, the file's permission
 * bits (& 0777), else the header's mode; 0xFF4 u32 v: the file shrinks to v % (size + 1) bytes
 * after its control area was read (the short read below); 0xFF8 u32 bit 3: the image is a copy
 * (`inspect --file`), whose owner and mode say nothing.
 *
 * The same bytes are analysed three ways: in memory (shmf_img_analyse on the heap block), then
 * as a file, as inspect and ls read one: a memfd holding the image, its control area read with
 * shmf_cli_read_head(), the frames copied through shmf_cli_read_at(), once whole (the full
 * read; then once more through shmf_cli_analyse(), the call inspect and ls make) and once after
 * the memfd was truncated to the cut (the short read: a file another process shrank while it
 * was read).
 *
 * Oracle: the in-memory analysis against model.h, the reader written from PROTOCOL.md alone:
 *   - memory-safe and bounded on any bytes; every finding has a named code and NUL-terminated
 *     texts; at most SHMF_IMG_MAX_FINDINGS kept; the same result when run twice;
 *   - the model accepts the header (A5..A15) exactly when the analysis finds no problem with
 *     the header or the file, and then the analysis knows the geometry: ring count, capacities;
 *   - for each ring the model's reader attaches to (A18 and the takeover repair of PROTO 7), the
 *     walk is the model's drain: the same messages, in order, at the same positions, then either
 *     the end of the published bytes (the model's EAGAIN) or the model's reject, which the walk
 *     reports (EPOS from R2/R3 as a finding, the others on the frame); a ring that fails A18 is
 *     reported with the model's code and not walked.
 * The file reads against the in-memory analysis:
 *   - bounded: each read the analysis asks for is 1..4096 bytes (image.c's payload chunk), inside
 *     the data areas and the file, with ahead >= n and within the file; the window never holds
 *     more than SHMF_CLI_WINDOW bytes; the bytes copied after the control area are at most
 *     the bytes published (wpos - rpos) of the rings walked, twice (the takeover repair reads
 *     the first frame once more); no read of frames fails with an errno;
 *   - the full read is the in-memory analysis: every field, finding (text included), note and
 *     frame (preview included) the same; shmf_cli_analyse() too, in one try (nothing moved);
 *   - the short read: the same header, roles and ring blocks; each ring's walk delivers exactly
 *     the frames of the full walk that end at or before the cut and stops at the first that
 *     does not (its counts those of that prefix, the bytes from it on unexamined), or, when none
 *     reaches past the cut, is the full walk; the report has the finding "the file ended at
 *     offset N while it was read" (SHMF_ESIZE, "file", cut <= N < size) once when a walk stopped
 *     short and never otherwise, and its other findings and notes are the full analysis's, in
 *     the same order, less those of the frames not reached;
 *   - shmf_cli_rpos_moved() says no reader moved (nothing did), truncated file or not.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz.h"
#include "image.h"
#include "model.h"

#define FZ_IMG_MAX      (1u << 20)
#define FZ_IMG_UID      1000u
#define FZ_CTL_FILEMODE 0xFF0u
#define FZ_CTL_CUT      0xFF4u
#define FZ_CTL_FLAGS    0xFF8u
#define FZ_FLAG_COPY    8u
#define FZ_MAX_FRAMES   (FZ_IMG_MAX / 8u + 8u) /* both rings: cap / 8 + 3 steps each */
#define FZ_READ_MAX     4096u                  /* image.c's CHUNK: its largest read */

/* The in-memory walks of ring 0, then ring 1: the reference for the file reads. */
struct fz_walk {
	unsigned n;
	unsigned start[2], count[2];
	struct shmf_img_frame f[FZ_MAX_FRAMES];
};

static void record(void *ctx, const struct shmf_img_frame *f)
{
	struct fz_walk *w = ctx;

	FZ_CHECK(w->n < FZ_MAX_FRAMES, "more frames than a ring can hold");
	w->f[w->n++] = *f;
}

/* A walk through the file, replayed against the reference walk of the same ring as it goes. */
struct fz_replay {
	const struct fz_walk *ref;
	unsigned ring;
	unsigned k;   /* frames delivered so far */
	uint64_t cut; /* the file's size while it is read */
};

/* The last file offset the walk copied for frame f, plus one: its header, and a MSG's payload
 * once the header passed R4-R6. */
static uint64_t frame_end(const struct shmf_img_frame *f)
{
	return f->offset + FZ_FRAME_HDR + (f->header_ok && f->type == FZ_TYPE_MSG ? f->length : 0u);
}

static int frame_eq(const struct shmf_img_frame *a, const struct shmf_img_frame *b)
{
	return a->ring == b->ring && a->pos == b->pos && a->offset == b->offset &&
	       a->expect_seq == b->expect_seq && a->seq == b->seq && a->length == b->length &&
	       a->crc == b->crc && a->crc_calc == b->crc_calc && a->type == b->type &&
	       a->flags == b->flags && a->stamp == b->stamp && a->header_ok == b->header_ok &&
	       a->status == b->status && a->after_reject == b->after_reject &&
	       a->preview_len == b->preview_len && a->preview_len <= SHMF_IMG_PREVIEW &&
	       memcmp(a->preview, b->preview, a->preview_len) == 0;
}

static void replay(void *ctx, const struct shmf_img_frame *f)
{
	struct fz_replay *r = ctx;
	const struct shmf_img_frame *want;

	FZ_CHECK(r->k < r->ref->count[r->ring],
	         "ring %u: the file read delivers frame %u at position %llu, the in-memory walk "
	         "has %u frames",
	         r->ring, r->k, (unsigned long long)f->pos, r->ref->count[r->ring]);
	want = &r->ref->f[r->ref->start[r->ring] + r->k];
	FZ_CHECK(frame_end(want) <= r->cut,
	         "ring %u: frame %u at offset %llu ends at %llu, past the end of the file (%llu "
	         "bytes), yet it was delivered (status %d, crc 0x%08x computed)",
	         r->ring, r->k, (unsigned long long)want->offset,
	         (unsigned long long)frame_end(want), (unsigned long long)r->cut, f->status,
	         f->crc_calc);
	FZ_CHECK(frame_eq(f, want),
	         "ring %u: frame %u read from the file differs from the in-memory one: position "
	         "%llu/%llu, status %d/%d, length %u/%u, crc computed 0x%08x/0x%08x",
	         r->ring, r->k, (unsigned long long)f->pos, (unsigned long long)want->pos,
	         f->status, want->status, f->length, want->length, f->crc_calc, want->crc_calc);
	r->k++;
}

/* The shmf_img_read_fn the analysis gets: shmf_cli_read_at(), held to the read contract. */
static size_t file_read(void *ctx, uint64_t off, void *dst, size_t n, uint64_t ahead)
{
	struct shmf_cli_file *f = ctx;
	size_t got;

	FZ_CHECK(n >= 1 && n <= FZ_READ_MAX, "a read of %zu bytes at offset %llu", n,
	         (unsigned long long)off);
	FZ_CHECK(off >= FZ_PAGE && off <= f->size && n <= f->size - off && ahead >= n &&
	                 ahead <= f->size - off,
	         "a read of %zu bytes (ahead %llu) at offset %llu of a %llu-byte file", n,
	         (unsigned long long)ahead, (unsigned long long)off, (unsigned long long)f->size);
	got = shmf_cli_read_at(f, off, dst, n, ahead);
	FZ_CHECK(got <= n && f->win_n <= SHMF_CLI_WINDOW, "read %zu of %zu, window %zu", got, n,
	         f->win_n);
	return got;
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

/* Ring i, which the model's reader attached to: its walk (recorded in ws) must be its drain. */
static void check_walk(const struct shmf_img *im, unsigned i, fz_reader *m,
                       const struct fz_walk *ws)
{
	const struct shmf_img_ring *r = &im->ring[i];
	const struct shmf_img_frame *f = ws->f + ws->start[i];
	unsigned n = ws->count[i];
	char where[16];
	unsigned k = 0;
	int rc;

	snprintf(where, sizeof where, "ring %u", i);
	FZ_CHECK(r->walked, "ring %u not walked", i);
	for (;;) {
		const uint8_t *payload;
		uint32_t len;
		uint64_t pos = m->pos;
		rc = fz_reader_next(m, SIZE_MAX, &payload, &len);
		if (rc != 0)
			break;
		/* PADs: the walk reports them, the model passes over them */
		while (k < n && f[k].status == 0 && f[k].type == FZ_TYPE_PAD)
			k++;
		FZ_CHECK(k < n, "ring %u: the model delivers a message the walk lacks", i);
		FZ_CHECK(f[k].status == 0 && f[k].type == FZ_TYPE_MSG && f[k].length == len &&
		                 f[k].offset + FZ_FRAME_HDR == (uint64_t)(payload - im->buf),
		         "ring %u: frame %u is status %d type %u length %u at offset %llu, the "
		         "model's message is %u bytes at position >= %llu",
		         i, k, f[k].status, f[k].type, f[k].length, (unsigned long long)f[k].offset,
		         len, (unsigned long long)pos);
		k++;
	}
	while (k < n && f[k].status == 0 && f[k].type == FZ_TYPE_PAD)
		k++;
	if (rc == SHMF_EAGAIN) {
		FZ_CHECK(k == n && r->rejects == 0 && r->unexamined == 0 &&
		                 !has_finding(im, SHMF_EPOS, where),
		         "ring %u: the model reads it clean, the walk has %u more frame(s), %llu "
		         "reject(s)",
		         i, n - k, (unsigned long long)r->rejects);
		FZ_CHECK(r->end_seq == m->seq, "ring %u: walk ends at seq %llu, model at %llu", i,
		         (unsigned long long)r->end_seq, (unsigned long long)m->seq);
		return;
	}
	if (k < n) {
		FZ_CHECK(f[k].status == rc, "ring %u: frame %u has status %d, the model %d", i, k,
		         f[k].status, rc);
	} else {
		FZ_CHECK(rc == SHMF_EPOS && has_finding(im, SHMF_EPOS, where),
		         "ring %u: the model rejects with %d, the walk reports nothing", i, rc);
	}
}

/* im, analysed from a file, as if it had been analysed from ref's buffer: the fields that say
 * where the bytes came from are ref's. */
static void as_memory(struct shmf_img *dst, const struct shmf_img *im, const struct shmf_img *ref)
{
	memcpy(dst, im, sizeof *dst);
	dst->buf = ref->buf;
	dst->n = ref->n;
	dst->read = NULL;
	dst->read_ctx = NULL;
}

static unsigned kept(const struct shmf_img *im)
{
	return im->nfindings < SHMF_IMG_MAX_FINDINGS ? im->nfindings : SHMF_IMG_MAX_FINDINGS;
}

static void show(const char *what, const struct shmf_img *im)
{
	fprintf(stderr, "%s: %u finding(s), %u note(s)\n", what, im->nfindings, im->nnotes);
	for (unsigned i = 0; i < kept(im); i++)
		fprintf(stderr, "  %s %s @%lld: %s\n", shmf_img_code_name(im->findings[i].code),
		        im->findings[i].where, (long long)im->findings[i].offset,
		        im->findings[i].detail);
	for (unsigned i = 0; i < im->nnotes && i < SHMF_IMG_MAX_NOTES; i++)
		fprintf(stderr, "  note: %s\n", im->notes[i]);
	for (unsigned i = 0; i < 2; i++)
		fprintf(stderr,
		        "  ring %u: walkable %d walked %d frames %llu messages %llu bytes %llu "
		        "pads %llu skips %llu rejects %llu unexamined %llu end_seq %llu\n",
		        i, im->ring[i].walkable, im->ring[i].walked,
		        (unsigned long long)im->ring[i].frames,
		        (unsigned long long)im->ring[i].messages,
		        (unsigned long long)im->ring[i].msg_bytes,
		        (unsigned long long)im->ring[i].pads, (unsigned long long)im->ring[i].skips,
		        (unsigned long long)im->ring[i].rejects,
		        (unsigned long long)im->ring[i].unexamined,
		        (unsigned long long)im->ring[i].end_seq);
}

static void check_same(const struct shmf_img *im, const struct shmf_img *ref, const char *what)
{
	static struct shmf_img tmp;

	as_memory(&tmp, im, ref);
	if (memcmp(&tmp, ref, sizeof tmp) != 0) {
		show("in memory", ref);
		show(what, im);
	}
	FZ_CHECK(memcmp(&tmp, ref, sizeof tmp) == 0,
	         "the %s gives another analysis than the in-memory one", what);
}

/* Analyse the file whose control area f holds, as inspect and ls do, walking ring 0 then ring 1,
 * each walk replayed against ref's as it goes (frames ending past cut may not come); delivered
 * gets how many frames each ring's walk delivered. */
static void file_analyse(struct shmf_img *im, struct shmf_cli_file *f, uint32_t mode, int copy,
                         const struct fz_walk *ref, uint64_t cut, unsigned delivered[2])
{
	uint64_t published = 0;

	shmf_cli_rewind(f);
	shmf_img_analyse_file(im, f->head, f->n, f->size, FZ_IMG_UID, mode, copy, file_read, f);
	for (unsigned i = 0; i < 2; i++) {
		struct fz_replay r = {ref, i, 0, cut};
		shmf_img_walk(im, i, replay, &r);
		delivered[i] = r.k;
		if (im->ring[i].walkable)
			published += im->ring[i].wpos - im->ring[i].rpos;
	}
	FZ_CHECK(f->err == 0, "a read of frames failed: errno %d", f->err);
	FZ_CHECK(f->bytes_read >= f->n && f->bytes_read - f->n <= 2u * published,
	         "%llu bytes copied after the control area, %llu published",
	         (unsigned long long)(f->bytes_read - f->n), (unsigned long long)published);
	FZ_CHECK(shmf_cli_rpos_moved(f) == 0, "no reader moved, yet rpos_moved says one did");
}

/* The finding of a read that came back short (image.c, fetch()): "at" where the read got some
 * bytes, "at or before" where it got none. */
#define ENDED        "the file ended at offset %llu while it was read"
#define ENDED_BEFORE "the file ended at or before offset %llu while it was read"

/* The short read: see the oracle at the top. */
static void check_short(const struct shmf_img *im, const struct shmf_img *ref,
                        const struct fz_walk *walk, const unsigned delivered[2], uint64_t cut,
                        uint64_t size)
{
	static struct shmf_img tmp;
	unsigned failed = 0, ended = 0, k;

	for (unsigned i = 0; i < 2; i++) {
		const struct shmf_img_frame *f = walk->f + walk->start[i];
		const struct shmf_img_ring *want = &ref->ring[i];
		struct shmf_img_ring e;
		unsigned j = 0;

		while (j < walk->count[i] && frame_end(&f[j]) <= cut)
			j++;
		FZ_CHECK(delivered[i] == j,
		         "ring %u: the short read delivered %u frame(s), %u end before the cut at "
		         "%llu",
		         i, delivered[i], j, (unsigned long long)cut);
		if (j == walk->count[i]) {
			if (memcmp(&im->ring[i], want, sizeof *want) != 0) {
				show("in memory", ref);
				show("short read", im);
			}
			FZ_CHECK(memcmp(&im->ring[i], want, sizeof *want) == 0,
			         "ring %u: nothing reaches past the cut at %llu, yet the walk "
			         "differs",
			         i, (unsigned long long)cut);
			continue;
		}
		/* The walk stops at frame j: what it counted is the frames before it. */
		failed = 1;
		memcpy(&e, want, sizeof e);
		e.frames = j;
		e.messages = e.msg_bytes = e.pads = e.rejects = 0;
		for (k = 0; k < j; k++) {
			if (f[k].type == FZ_TYPE_MSG) {
				e.messages++;
				e.msg_bytes += f[k].length;
			} else {
				e.pads++;
			}
			if (f[k].status != 0)
				e.rejects++;
		}
		e.unexamined = want->wpos - f[j].pos;
		e.end_seq = j == 0 ? want->rseq : f[j].expect_seq;
		FZ_CHECK(im->ring[i].skips <= want->skips, "ring %u: %llu skips, %llu in full", i,
		         (unsigned long long)im->ring[i].skips, (unsigned long long)want->skips);
		e.skips = im->ring[i].skips;
		if (memcmp(&im->ring[i], &e, sizeof e) != 0) {
			show("in memory", ref);
			show("short read", im);
		}
		FZ_CHECK(memcmp(&im->ring[i], &e, sizeof e) == 0,
		         "ring %u: the walk stopped at frame %u (position %llu; cut at %llu), "
		         "but its counts are not those of the frames before it",
		         i, j, (unsigned long long)f[j].pos, (unsigned long long)cut);
	}
	FZ_CHECK(im->shrank == (int)failed, "shrank %d, a walk stopped short: %u", im->shrank,
	         failed);
	if (!failed) {
		check_same(im, ref, "short read (nothing read past the cut)");
		return;
	}

	/* the findings: the one "file ended", and the others in the full analysis's order */
	k = 0;
	for (unsigned i = 0; i < kept(im); i++) {
		const struct shmf_img_finding *f = &im->findings[i];
		unsigned long long at;

		if (f->code == SHMF_ESIZE && strcmp(f->where, "file") == 0 &&
		    (sscanf(f->detail, ENDED, &at) == 1 ||
		     sscanf(f->detail, ENDED_BEFORE, &at) == 1)) {
			FZ_CHECK(f->offset == -1 && at >= cut && at < size,
			         "\"%s\": the file was cut at %llu of %llu bytes", f->detail,
			         (unsigned long long)cut, (unsigned long long)size);
			ended++;
			continue;
		}
		if (ref->nfindings > SHMF_IMG_MAX_FINDINGS)
			continue; /* the full list is not all there to compare with */
		while (k < kept(ref) &&
		       !(ref->findings[k].code == f->code && ref->findings[k].offset == f->offset &&
		         strcmp(ref->findings[k].where, f->where) == 0 &&
		         strcmp(ref->findings[k].detail, f->detail) == 0))
			k++;
		if (k == kept(ref)) {
			show("in memory", ref);
			show("short read", im);
		}
		FZ_CHECK(k < kept(ref),
		         "finding %u of the short read (%s: %s) is not the full one's", i, f->where,
		         f->detail);
		k++;
	}
	FZ_CHECK(im->nfindings > SHMF_IMG_MAX_FINDINGS ? ended <= 1 : ended == 1,
	         "%u \"file ended\" findings after a short read", ended);
	FZ_CHECK(im->nfindings <= ref->nfindings + 1u, "%u findings, %u in full", im->nfindings,
	         ref->nfindings);
	k = 0;
	for (unsigned i = 0; i < im->nnotes && i < SHMF_IMG_MAX_NOTES; i++) {
		while (k < ref->nnotes && k < SHMF_IMG_MAX_NOTES &&
		       strcmp(ref->notes[k], im->notes[i]) != 0)
			k++;
		FZ_CHECK(k < ref->nnotes && k < SHMF_IMG_MAX_NOTES,
		         "note %u of the short read (%s) is not the full one's", i, im->notes[i]);
		k++;
	}
	/* everything else (header, roles, ring blocks) as in full */
	as_memory(&tmp, im, ref);
	memcpy(tmp.ring, ref->ring, sizeof tmp.ring);
	memcpy(tmp.findings, ref->findings, sizeof tmp.findings);
	memcpy(tmp.notes, ref->notes, sizeof tmp.notes);
	tmp.nfindings = ref->nfindings;
	tmp.nnotes = ref->nnotes;
	tmp.shrank = ref->shrank;
	FZ_CHECK(memcmp(&tmp, ref, sizeof tmp) == 0,
	         "the short read changed the analysis of the control area");
}

/* The file reads of the image: full, then cut short (see the top). */
static void check_file(const uint8_t *img, size_t size, uint32_t mode, int copy,
                       const struct shmf_img *ref, const struct fz_walk *walk)
{
	static int fd = -1;
	static struct shmf_cli_file file;
	static struct shmf_img fim;
	unsigned delivered[2];
	uint64_t cut = size;
	int rc, stable;

	if (fd < 0) {
		fd = memfd_create("shmf-fuzz-cli-image", MFD_CLOEXEC);
		FZ_CHECK(fd >= 0, "memfd_create");
	}
	FZ_CHECK(ftruncate(fd, 0) == 0 && ftruncate(fd, (off_t)size) == 0, "ftruncate");
	for (size_t done = 0; done < size;) {
		ssize_t n = pwrite(fd, img + done, size - done, (off_t)done);
		FZ_CHECK(n > 0, "pwrite");
		done += (size_t)n;
	}
	FZ_CHECK(shmf_cli_read_head(fd, &file) == 0, "shmf_cli_read_head on a memfd");
	FZ_CHECK(file.size == size && file.n == (size < FZ_PAGE ? size : FZ_PAGE) &&
	                 memcmp(file.head, img, file.n) == 0,
	         "the control area read: %zu bytes of %llu", file.n, (unsigned long long)file.size);

	file_analyse(&fim, &file, mode, copy, walk, size, delivered);
	FZ_CHECK(delivered[0] == walk->count[0] && delivered[1] == walk->count[1],
	         "the full read delivered %u + %u frames, in memory %u + %u", delivered[0],
	         delivered[1], walk->count[0], walk->count[1]);
	check_same(&fim, ref, "full read");
	/* and as inspect and ls call it: the file's owner and mode as the harness gives them */
	file.uid = FZ_IMG_UID;
	file.mode = mode;
	rc = shmf_cli_analyse(&file, &fim, copy, 5, &stable);
	FZ_CHECK(rc == 0 && stable == 1, "shmf_cli_analyse: %d, stable %d", rc, stable);
	check_same(&fim, ref, "shmf_cli_analyse");

	if (size >= FZ_CTL_CUT + 4u)
		cut = fz_ld32(img + FZ_CTL_CUT) % ((uint64_t)size + 1u);
	if (cut < size) {
		/* the file shrinks after its control area was read, before any frame is */
		FZ_CHECK(ftruncate(fd, (off_t)cut) == 0, "ftruncate");
		file_analyse(&fim, &file, mode, copy, walk, cut, delivered);
		check_short(&fim, ref, walk, delivered, cut, size);
	}
	shmf_cli_file_free(&file);
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

	/* The walks of ring 0, then ring 1, recorded: for the model, and for the file reads. */
	walk.n = 0;
	for (unsigned i = 0; i < 2; i++) {
		walk.start[i] = walk.n;
		shmf_img_walk(&im, i, record, &walk);
		walk.count[i] = walk.n - walk.start[i];
	}

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
	/* The rings the model does not attach to were walked all the same: bounded, memory-safe. */
	check_findings(&im, size);
	check_file(img, size, mode, copy, &im, &walk);
	free(img);
	return 0;
}
