/* inspect.c - `shmframe inspect`: a read-only report on one segment, or on an image of one.
 *
 * It never takes a role and never writes a byte: the file is opened O_RDONLY (O_NOFOLLOW for a
 * name), its control area and the frames waiting are copied into private memory with pread()
 * (segfile.c; never the rest, so memory stays bounded whatever the segment's size), and only
 * the copies are analysed (image.c), so that a peer that rewrites the segment meanwhile can
 * change nothing but the verdict. The only other questions asked of the kernel are F_OFD_GETLK
 * on the two role bytes, which tells which roles a live process holds (PROTO 7), and the
 * file's ctime, which with role A's lock tells a segment being created from one whose creator
 * died (PROTO 9.2).
 */
#include "cli.h"
#include "image.h"

#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"

#define SHM_DIR "/dev/shm/"

struct report {
	const struct shmf_cli_opts *o;
	struct shmf_img *im;
	struct shmf_cli_file *f;
	FILE *out;
	int first;         /* JSON: no comma before the first frame */
	int lock_a;        /* role A's lock: -1 unknown (an image), 0 free, 1 held */
	int being_created; /* set by conclude(): not ready, and its creator may still finish */
};

static const char *type_name(uint16_t t)
{
	return t == SHMF_TYPE_MSG ? "MSG" : t == SHMF_TYPE_PAD ? "PAD" : "?";
}

static const char *lock_name(int lock)
{
	return lock < 0 ? "unknown" : lock ? "held" : "free";
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What the report can say only once the rings are walked, before its notes: whether a reader
 * moved meanwhile, and whether a segment that is not ready (its only problem) may still become
 * ready, which makes the status 3 (not found, or still being created) rather than 1. */
static void conclude(struct report *r)
{
	struct shmf_img *im = r->im;
	int not_ready = im->nfindings != 0 && im->nfindings <= SHMF_IMG_MAX_FINDINGS;
	uint64_t now, age;

	if (shmf_cli_rpos_moved(r->f))
		shmf_img_note(im, "a reader moved while the frames were read: the frames shown may "
		                  "come from a torn copy; inspect it again");
	for (unsigned k = 0; not_ready && k < im->nfindings; k++)
		not_ready = im->findings[k].code == SHMF_ENOTREADY;
	if (!not_ready || im->is_copy)
		return; /* a copy is not being made by anyone: it stays as it is */
	now = wall_ns();
	age = now > r->f->ctime_ns ? now - r->f->ctime_ns : 0;
	if (r->lock_a == 0 && age >= SHMF_ORPHAN_NS) { /* PROTO 9.2 (layout.h) */
		char text[160];
		snprintf(text, sizeof text,
		         "role A's lock is free and the file last changed %llu ms ago: its creator "
		         "died before it was ready, so it never will be (PROTOCOL.md 9.2)",
		         (unsigned long long)(age / 1000000u));
		shmf_img_note(im, text);
		return;
	}
	r->being_created = 1;
}

/* ---- text ---------------------------------------------------------------------------------- */

static void text_preview(FILE *out, const struct shmf_img_frame *f)
{
	const uint8_t *p = f->preview;
	uint32_t n = f->preview_len; /* at most SHMF_IMG_PREVIEW */

	fputc(' ', out);
	for (uint32_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '\\')
			fputc(p[i], out);
		else
			fprintf(out, "\\x%02x", p[i]);
	}
	if (n < f->length)
		fputs("...", out);
}

static void text_frame(void *ctx, const struct shmf_img_frame *f)
{
	struct report *r = ctx;
	FILE *out = r->out;

	fprintf(out, "  %8llu  %10llu  0x%08llx  %-4s  %10u  0x%08x %-3s  %-12s",
	        (unsigned long long)f->seq, (unsigned long long)f->pos,
	        (unsigned long long)f->offset, type_name(f->type), f->length, f->crc,
	        !f->header_ok           ? "-"
	        : f->crc_calc == f->crc ? "ok"
	                                : "bad",
	        f->status == 0 ? "ok" : shmf_img_code_name(f->status));
	if (f->header_ok && f->type == SHMF_TYPE_MSG)
		text_preview(out, f);
	fputc('\n', out);
}

static void text_report(struct report *r, const char *label)
{
	struct shmf_img *im = r->im;
	FILE *out = r->out;
	char t[64];

	fputs("segment ", out);
	shmf_text_bytes(out, label);
	if (im->is_copy)
		fprintf(out, " (image: %llu bytes)\n", (unsigned long long)im->file_size);
	else
		fprintf(out, " (%llu bytes, owner %u, mode 0%03o)\n",
		        (unsigned long long)im->file_size, im->file_uid, im->file_mode);
	if (im->have_header) {
		fprintf(out, "header\n");
		fprintf(out, "  magic        0x%08x%s\n", im->magic,
		        im->magic == SHMF_MAGIC ? " (SHMF)" : "");
		fprintf(out, "  version      %u.%u\n", im->version_major, im->version_minor);
		fprintf(out, "  features     0x%08x\n", im->features);
		fprintf(out, "  fingerprint  0x%08x\n", im->fingerprint);
		fprintf(out, "  total_size   %llu\n", (unsigned long long)im->total_size);
		fprintf(out, "  ctl_size     %u\n", im->ctl_size);
		fprintf(out, "  ring_count   %u%s\n", im->ring_count,
		        im->ring_count == 1   ? " (simplex)"
		        : im->ring_count == 2 ? " (duplex)"
		                              : "");
		fprintf(out, "  max_message  %u\n", im->max_message);
		fprintf(out, "  creator_uid  %u\n", im->creator_uid);
		fprintf(out, "  mode         0%03o\n", im->mode);
		fprintf(out, "  created      %s\n", shmf_fmt_time(im->created_ns, t, sizeof t));
		for (unsigned i = 0; i < 2; i++)
			fprintf(out, "  ring%u        data 0x%llx, capacity %llu\n", i,
			        (unsigned long long)im->ring_data[i],
			        (unsigned long long)im->ring_cap[i]);
		fprintf(out, "  header_crc   0x%08x (computed 0x%08x)\n", im->header_crc,
		        im->header_crc_calc);
		fprintf(out, "  init_state   0x%08x%s\n", im->init_state,
		        im->init_state == SHMF_STATE_READY ? " (ready)" : "");
	}
	if (im->role[0].present) {
		fprintf(out, "roles\n");
		for (unsigned s = 0; s < 2; s++) {
			const struct shmf_img_role *ro = &im->role[s];
			fprintf(out, "  %c  %-8s  epoch %u  pid %u  attached %s  lock %s%s\n",
			        s ? 'B' : 'A', shmf_img_role_state(ro->state), ro->epoch, ro->pid,
			        shmf_fmt_time(ro->attached_ns, t, sizeof t), lock_name(ro->lock),
			        ro->lock == 1 ? ": alive" : "");
			if (ro->state == SHMF_ROLE_ATTACHED && ro->lock == 0)
				fprintf(out,
				        "     its holder died without detaching; the next process "
				        "to attach as %c takes over\n",
				        s ? 'B' : 'A');
		}
	}
	for (unsigned i = 0; i < 2; i++) {
		struct shmf_img_ring *g = &im->ring[i];
		if (!g->present)
			continue;
		fprintf(out, "ring %u (%s)\n", i, i == 0 ? "A -> B" : "B -> A");
		if (!g->readable) {
			fprintf(out, "  control block beyond the end of the file\n");
			continue;
		}
		fprintf(out,
		        "  wpos %llu  wseq %llu  rpos %llu  rseq %llu  rerrors %u  rlasterr %u  "
		        "rwait %u  wwait %u\n",
		        (unsigned long long)g->wpos, (unsigned long long)g->wseq,
		        (unsigned long long)g->rpos, (unsigned long long)g->rseq, g->rerrors,
		        g->rlasterr, g->rwait, g->wwait);
		if (!g->walkable) {
			fprintf(out, "  frames not examined: the positions or the file size are "
			             "wrong\n");
			continue;
		}
		if (g->wpos == g->rpos) {
			fprintf(out, "  empty\n");
			shmf_img_walk(im, i, NULL, NULL);
			continue;
		}
		fprintf(out, "  %8s  %10s  %10s  %-4s  %10s  %-14s  %-12s %s\n", "SEQ", "POSITION",
		        "OFFSET", "TYPE", "LENGTH", "CRC", "STATUS", "PAYLOAD");
		shmf_img_walk(im, i, text_frame, r);
		fprintf(out, "  waiting: %llu message(s), %llu payload bytes, in %llu bytes",
		        (unsigned long long)g->messages, (unsigned long long)g->msg_bytes,
		        (unsigned long long)(g->wpos - g->rpos));
		if (g->pads != 0 || g->skips != 0)
			fprintf(out, " (%llu PAD, %llu skipped tail)", (unsigned long long)g->pads,
			        (unsigned long long)g->skips);
		fputc('\n', out);
		if (g->unexamined != 0)
			fprintf(out,
			        "  %llu published bytes from the bad frame on were not examined: "
			        "nothing after it can be located (PROTOCOL.md 6.4)\n",
			        (unsigned long long)g->unexamined);
	}
	conclude(r);
	if (im->nnotes != 0) {
		fprintf(out, "notes\n");
		for (unsigned k = 0; k < im->nnotes; k++)
			fprintf(out, "  %s\n", im->notes[k]);
	}
	if (im->nfindings != 0) {
		fprintf(out, "problems\n");
		for (unsigned k = 0; k < im->nfindings && k < SHMF_IMG_MAX_FINDINGS; k++) {
			const struct shmf_img_finding *f = &im->findings[k];
			fprintf(out, "  %s", f->where);
			if (f->offset >= 0)
				fprintf(out, " at 0x%llx", (unsigned long long)f->offset);
			fprintf(out, ": %s: %s (%s)\n", shmf_strerror(f->code), f->detail,
			        shmf_img_code_name(f->code));
		}
		if (im->nfindings > SHMF_IMG_MAX_FINDINGS)
			fprintf(out, "  ... and %u more\n", im->nfindings - SHMF_IMG_MAX_FINDINGS);
		if (r->being_created)
			fprintf(out, "verdict: not ready: still being created\n");
		else
			fprintf(out, "verdict: damaged (%u problem%s)\n", im->nfindings,
			        im->nfindings == 1 ? "" : "s");
	} else {
		fprintf(out, "verdict: consistent\n");
	}
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void json_frame(void *ctx, const struct shmf_img_frame *f)
{
	struct report *r = ctx;
	FILE *out = r->out;

	fprintf(out,
	        "%s{\"seq\":%llu,\"expected_seq\":%llu,\"position\":%llu,\"offset\":%llu,"
	        "\"type\":\"%s\",\"type_value\":%u,\"flags\":%u,\"length\":%u,\"crc\":%u,",
	        r->first ? "" : ",", (unsigned long long)f->seq, (unsigned long long)f->expect_seq,
	        (unsigned long long)f->pos, (unsigned long long)f->offset, type_name(f->type),
	        f->type, f->flags, f->length, f->crc);
	if (f->header_ok)
		fprintf(out, "\"crc_computed\":%u,\"crc_ok\":%s,", f->crc_calc,
		        f->crc_calc == f->crc ? "true" : "false");
	else
		fputs("\"crc_computed\":null,\"crc_ok\":null,", out);
	fprintf(out, "\"status\":\"%s\"}", f->status == 0 ? "ok" : shmf_img_code_name(f->status));
	r->first = 0;
}

static void json_report(struct report *r, const char *label)
{
	struct shmf_img *im = r->im;
	FILE *out = r->out;

	fputs("{\"schema\":1,\"source\":{", out);
	fputs(im->is_copy ? "\"file\":" : "\"name\":", out);
	shmf_json_cstr(out, label);
	fputs("},\"header\":", out);
	if (im->have_header) {
		fprintf(out,
		        "{\"magic\":%u,\"version_major\":%u,\"version_minor\":%u,\"features\":%u,"
		        "\"fingerprint\":%u,\"total_size\":%llu,\"ctl_size\":%u,\"ring_count\":%u,"
		        "\"max_message\":%u,\"creator_uid\":%u,\"mode\":\"0%03o\",\"created_ns\":%"
		        "llu,"
		        "\"ring0_data\":%llu,\"ring0_capacity\":%llu,\"ring1_data\":%llu,"
		        "\"ring1_capacity\":%llu,\"header_crc\":%u,\"header_crc_computed\":%u,"
		        "\"init_state\":%u,\"recognised\":%s}",
		        im->magic, im->version_major, im->version_minor, im->features,
		        im->fingerprint, (unsigned long long)im->total_size, im->ctl_size,
		        im->ring_count, im->max_message, im->creator_uid, im->mode,
		        (unsigned long long)im->created_ns, (unsigned long long)im->ring_data[0],
		        (unsigned long long)im->ring_cap[0], (unsigned long long)im->ring_data[1],
		        (unsigned long long)im->ring_cap[1], im->header_crc, im->header_crc_calc,
		        im->init_state, im->recognised ? "true" : "false");
	} else {
		fputs("null", out);
	}
	fputs(",\"roles\":[", out);
	for (unsigned s = 0; s < 2 && im->role[0].present; s++) {
		const struct shmf_img_role *ro = &im->role[s];
		fprintf(out,
		        "%s{\"side\":\"%c\",\"state\":\"%s\",\"state_value\":%u,\"epoch\":%u,"
		        "\"pid\":%u,\"attached_ns\":%llu,\"lock\":\"%s\",\"alive\":%s}",
		        s ? "," : "", s ? 'B' : 'A', shmf_img_role_state(ro->state), ro->state,
		        ro->epoch, ro->pid, (unsigned long long)ro->attached_ns,
		        lock_name(ro->lock),
		        ro->lock == 1   ? "true"
		        : ro->lock == 0 ? "false"
		                        : "null");
	}
	fputs("],\"rings\":[", out);
	for (unsigned i = 0, n = 0; i < 2; i++) {
		struct shmf_img_ring *g = &im->ring[i];
		if (!g->present)
			continue;
		fprintf(out,
		        "%s{\"index\":%u,\"direction\":\"%s\",\"data_offset\":%llu,\"capacity\":%"
		        "llu,"
		        "\"readable\":%s",
		        n++ ? "," : "", i, i == 0 ? "A->B" : "B->A",
		        (unsigned long long)g->data_off, (unsigned long long)g->cap,
		        g->readable ? "true" : "false");
		if (g->readable)
			fprintf(out,
			        ",\"wpos\":%llu,\"wseq\":%llu,\"rpos\":%llu,\"rseq\":%llu,"
			        "\"rerrors\":%u,"
			        "\"rlasterr\":%u,\"rwait\":%u,\"wwait\":%u",
			        (unsigned long long)g->wpos, (unsigned long long)g->wseq,
			        (unsigned long long)g->rpos, (unsigned long long)g->rseq,
			        g->rerrors, g->rlasterr, g->rwait, g->wwait);
		fputs(",\"frames\":[", out);
		r->first = 1;
		shmf_img_walk(im, i, json_frame, r);
		fprintf(out,
		        "],\"walked\":%s,\"frames_waiting\":%llu,\"messages_waiting\":%llu,"
		        "\"message_bytes\":%llu,\"pads\":%llu,\"skips\":%llu,\"rejects\":%llu,"
		        "\"unexamined_bytes\":%llu}",
		        g->walked ? "true" : "false", (unsigned long long)g->frames,
		        (unsigned long long)g->messages, (unsigned long long)g->msg_bytes,
		        (unsigned long long)g->pads, (unsigned long long)g->skips,
		        (unsigned long long)g->rejects, (unsigned long long)g->unexamined);
	}
	/* after the walks: bytes_read counts the frames they copied */
	conclude(r);
	fprintf(out, "],\"file\":{\"size\":%llu,\"bytes_read\":%llu",
	        (unsigned long long)im->file_size, (unsigned long long)r->f->bytes_read);
	if (!im->is_copy)
		fprintf(out, ",\"uid\":%u,\"mode\":\"0%03o\"", im->file_uid, im->file_mode);
	fputs("},\"notes\":[", out);
	for (unsigned k = 0; k < im->nnotes; k++) {
		if (k)
			fputc(',', out);
		shmf_json_cstr(out, im->notes[k]);
	}
	fputs("],\"problems\":[", out);
	for (unsigned k = 0; k < im->nfindings && k < SHMF_IMG_MAX_FINDINGS; k++) {
		const struct shmf_img_finding *f = &im->findings[k];
		fprintf(out, "%s{\"code\":\"%s\",\"error\":%d,\"message\":", k ? "," : "",
		        shmf_img_code_name(f->code), f->code);
		shmf_json_cstr(out, shmf_strerror(f->code));
		fputs(",\"where\":", out);
		shmf_json_cstr(out, f->where);
		if (f->offset >= 0)
			fprintf(out, ",\"offset\":%lld", (long long)f->offset);
		else
			fputs(",\"offset\":null", out);
		fputs(",\"detail\":", out);
		shmf_json_cstr(out, f->detail);
		fputc('}', out);
	}
	fprintf(out, "],\"problems_total\":%u,\"consistent\":%s}\n", im->nfindings,
	        im->nfindings == 0 ? "true" : "false");
}

/* ---- the command --------------------------------------------------------------------------- */

int shmf_cmd_inspect(const struct shmf_cli_opts *o)
{
	struct shmf_cli_file *f = NULL;
	struct shmf_img *im = NULL;
	struct report r = {0};
	const char *label = o->file != NULL ? o->file : o->name;
	char path[sizeof SHM_DIR + SHMF_NAME_MAX];
	int rc = 0, fd, stable = 1, live = 0;

	if (o->file != NULL) {
		fd = shmf_cli_open_ro(AT_FDCWD, o->file, 0, &rc);
	} else {
		/* the name passed PROTO 9.4: no '/' after the first, so this stays in /dev/shm */
		snprintf(path, sizeof path, SHM_DIR "%s", o->name + 1);
		fd = shmf_cli_open_ro(AT_FDCWD, path, 1, &rc);
	}
	if (fd < 0)
		return shmf_cli_fail("inspect", label, rc);
	if ((f = calloc(1, sizeof *f)) == NULL || (im = malloc(sizeof *im)) == NULL)
		rc = SHMF_ENOMEM;
	if (rc == 0)
		rc = shmf_cli_read_head(fd, f);
	if (rc != 0) {
		rc = shmf_cli_fail("inspect", label, rc);
		goto out;
	}
	r.lock_a = -1;
	if (o->file == NULL) {
		r.lock_a = shmf_cli_role_locked(fd, SHMF_SIDE_A);
		live = r.lock_a == 1 || shmf_cli_role_locked(fd, SHMF_SIDE_B) == 1;
	}
	/* A live reader may move while the frames are copied: wait (a few silent walks) for a
	 * moment when none does, and report on that head. A segment nobody holds does not move. */
	if (live && (rc = shmf_cli_analyse(f, im, 0, 5, &stable)) != 0) {
		rc = shmf_cli_fail("inspect", label, rc);
		goto out;
	}
	shmf_cli_rewind(f);
	shmf_img_analyse_file(im, f->head, f->n, f->size, f->uid, f->mode, o->file != NULL,
	                      shmf_cli_read_at, f);
	if (o->file == NULL && im->role[0].present) {
		im->role[0].lock = r.lock_a;
		im->role[1].lock = shmf_cli_role_locked(fd, SHMF_SIDE_B);
	}
	r.o = o;
	r.im = im;
	r.f = f;
	r.out = stdout;
	r.first = 1;
	if (o->json)
		json_report(&r, label);
	else
		text_report(&r, label);
	/* every problem on stderr too, in the one error format */
	for (unsigned k = 0; k < im->nfindings && k < SHMF_IMG_MAX_FINDINGS; k++) {
		const struct shmf_img_finding *fd_ = &im->findings[k];
		char where[64];
		if (fd_->offset >= 0)
			snprintf(where, sizeof where, "%s at 0x%llx", fd_->where,
			         (unsigned long long)fd_->offset);
		else
			snprintf(where, sizeof where, "%s", fd_->where);
		shmf_cli_err("inspect", label, "%s (%s: %s)", shmf_strerror(fd_->code), where,
		             fd_->detail);
	}
	if (im->nfindings > SHMF_IMG_MAX_FINDINGS)
		shmf_cli_err("inspect", label, "... and %u more problems",
		             im->nfindings - SHMF_IMG_MAX_FINDINGS);
	if (f->err != 0) {
		/* a read failed (not a short one): what the report says of the frames is partial */
		rc = shmf_cli_fail("inspect", label, shmf_cli_errno_code(f->err));
	} else if (im->nfindings == 0) {
		rc = SHMF_EXIT_OK;
	} else {
		rc = r.being_created ? SHMF_EXIT_NOTFOUND : SHMF_EXIT_DAMAGE;
	}
out:
	if (f != NULL)
		shmf_cli_file_free(f);
	free(f);
	free(im);
	close(fd);
	return rc;
}
