/* image.h - analysis of an SHMF/1 segment from private copies of its bytes, for inspect and ls.
 *
 * Pure: the analysis reads only the buffer it is given, never past buf + n, and the frames
 * either from that buffer or through a read function of the caller's (which copies them out of
 * the file); it allocates nothing, makes no system call, and every loop is bounded (a ring walk
 * by capacity / 8 steps, each frame's payload in chunks of a fixed size). So its memory does not
 * depend on the segment's size, and it reads no more of the file than the control area and the
 * frames waiting. It applies the checks of PROTO 6.2 (A5-A15, A17-A18) and 6.3 (P1-P2, R2-R9)
 * through the library's own frame checks, and, unlike the library, it carries on after the
 * first problem where it can, so that it can say everything that is wrong. A fuzzer can drive
 * shmf_img_analyse() and shmf_img_walk() on any bytes.
 */
#ifndef SHMF_CLI_IMAGE_H
#define SHMF_CLI_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define SHMF_IMG_MAX_FINDINGS 32
#define SHMF_IMG_MAX_NOTES    16

/* The largest file that can be a segment: two rings of 1 GiB after the control area. */
#define SHMF_IMG_MAX_SIZE (4096ull + 2ull * (1ull << 30))

/* The payload bytes a frame carries into the report (inspect's preview column). */
#define SHMF_IMG_PREVIEW 24u

/* Copy n bytes at file offset off into dst; return how many were copied, fewer only where the
 * file ends (it shrank) or cannot be read. ahead >= n is how many bytes from off on the walk
 * will ask for next, in order: a reader may copy that much at once, and need copy no more. */
typedef size_t (*shmf_img_read_fn)(void *ctx, uint64_t off, void *dst, size_t n, uint64_t ahead);

struct shmf_img_finding {
	int code;       /* the SHMF_E... a reader would reject with */
	int64_t offset; /* file offset of the damaged field, -1 when there is none */
	char where[24]; /* "header", "role A", "ring 0", "file" */
	char detail[224];
};

struct shmf_img_role {
	int present; /* the role line is inside the image */
	uint32_t state, epoch, pid;
	uint64_t attached_ns;
	int lock; /* filled in by the caller: -1 unknown, 0 free, 1 held by a live process */
};

struct shmf_img_ring {
	int present;  /* the header says this ring exists */
	int readable; /* its control block is inside the image */
	int walkable; /* positions passed P1-P2 and the data area is inside the image */
	uint64_t data_off, cap;
	uint64_t wpos, wseq, rpos, rseq;
	uint32_t rerrors, rlasterr, rwait, wwait;
	/* filled in by shmf_img_walk() */
	int walked;
	uint64_t frames, messages, msg_bytes, pads, skips;
	uint64_t rejects;    /* frames that failed a check */
	uint64_t unexamined; /* published bytes after a frame whose extent is unknown */
	uint64_t end_seq;    /* the sequence number expected after the last frame */
};

struct shmf_img {
	const uint8_t *buf;
	size_t n;           /* bytes in buf */
	uint64_t file_size; /* the file's size when it was read */
	/* Where the ring walks get frames: from buf when read is NULL, else through read. extent is
	 * how much of the file they may ask for: n, or the file's size. */
	shmf_img_read_fn read;
	void *read_ctx;
	uint64_t extent;
	int shrank; /* a read came back short: said once, as a finding */
	uint32_t file_uid, file_mode;
	int is_copy; /* an image file: its owner and mode say nothing about the segment */

	int have_header; /* n >= 128 */
	uint32_t magic, features, fingerprint, ctl_size, ring_count, max_message;
	uint32_t creator_uid, mode, reserved0, header_crc, header_crc_calc, init_state;
	uint16_t version_major, version_minor;
	uint64_t total_size, created_ns;
	uint64_t ring_data[2], ring_cap[2];
	int recognised;  /* magic, version and header CRC are SHMF/1's: this is a segment */
	int geometry_ok; /* PROTO 2.4 holds: the rings can be located */

	struct shmf_img_role role[2];
	struct shmf_img_ring ring[2];

	unsigned nfindings; /* all of them; the first SHMF_IMG_MAX_FINDINGS are kept */
	struct shmf_img_finding findings[SHMF_IMG_MAX_FINDINGS];
	unsigned nnotes;
	char notes[SHMF_IMG_MAX_NOTES][160];
};

struct shmf_img_frame {
	unsigned ring;
	uint64_t pos;    /* ring position */
	uint64_t offset; /* file offset */
	uint64_t expect_seq;
	uint64_t seq;
	uint32_t length, crc;
	uint32_t crc_calc; /* the CRC computed over the private copy (when header_ok) */
	uint16_t type, flags;
	uint32_t stamp; /* the position stamp (PROTO 4) */
	int header_ok;  /* R4-R6 passed: the fields below describe a real extent */
	int status;     /* 0, or the check that failed */
	int after_reject;
	uint32_t preview_len; /* a MSG with header_ok: its first bytes, as they were copied */
	uint8_t preview[SHMF_IMG_PREVIEW];
};

typedef void (*shmf_img_frame_cb)(void *ctx, const struct shmf_img_frame *f);

/* Decode and check the header, the role lines and the ring control blocks of a whole image of
 * the file in buf (n bytes: all of it, or less when it could not all be read). */
void shmf_img_analyse(struct shmf_img *im, const uint8_t *buf, size_t n, uint64_t file_size,
                      uint32_t file_uid, uint32_t file_mode, int is_copy);
/* The same for a file of any size, of which head holds the first n bytes (the control area,
 * SHMF_CTL_AREA bytes, or the whole of a shorter file; fewer when it shrank meanwhile). The
 * walks read frames through rd, never at or beyond file_size, and only for a file that can be a
 * segment (at most SHMF_IMG_MAX_SIZE bytes). With rd NULL the rings are not walked. */
void shmf_img_analyse_file(struct shmf_img *im, const uint8_t *head, size_t n, uint64_t file_size,
                           uint32_t file_uid, uint32_t file_mode, int is_copy, shmf_img_read_fn rd,
                           void *ctx);
/* Walk ring i from rpos to wpos with the reader's checks, calling cb (may be NULL) for each
 * frame. Does nothing for a ring that is not walkable. */
void shmf_img_walk(struct shmf_img *im, unsigned i, shmf_img_frame_cb cb, void *ctx);
/* Add a note (not a problem) to the report. */
void shmf_img_note(struct shmf_img *im, const char *text);
/* Walk every ring without a callback. */
void shmf_img_walk_all(struct shmf_img *im);

/* "SHMF_ECRC" for SHMF_ECRC, etc. */
const char *shmf_img_code_name(int code);
/* "never", "attached", "detached", "corrupt". */
const char *shmf_img_role_state(uint32_t state);

#endif
