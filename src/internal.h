/* internal.h - interfaces between the library's source files. Not installed.
 *
 * The architecture, one file per job:
 *   crc32c.c   CRC-32C, hardware and table, pure
 *   frame.c    the frame codec (PROTO 4, 6.3), pure: a fuzzer drives it alone
 *   segment.c  header format and validation (PROTO 2, 6.2), pure
 *   name.c     name validation (PROTO 9.4), pure
 *   ring.c     one ring's reader and writer over mapped memory (PROTO 5, 6.3, 8)
 *   channel.c  the public API: roles, waiting, liveness (PROTO 7, 8, 9)
 *   os_linux.c every system call the library makes
 *   errors.c   shmf_strerror
 */
#ifndef SHMF_INTERNAL_H
#define SHMF_INTERNAL_H

#include "shmframe.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"

#define SHMF_HIDDEN __attribute__((visibility("hidden")))

/* ---- crc32c.c ------------------------------------------------------------------------------ */
/* crc is the CRC of the bytes before buf (0 for none), so that calls chain like zlib's crc32(). */
SHMF_HIDDEN uint32_t shmf_crc32c(uint32_t crc, const void *buf, size_t len);
SHMF_HIDDEN uint32_t shmf_crc32c_sw(uint32_t crc, const void *buf, size_t len);
SHMF_HIDDEN uint32_t shmf_crc32c_hw(uint32_t crc, const void *buf, size_t len);
SHMF_HIDDEN int shmf_crc32c_hw_available(void);

/* ---- frame.c (PROTO 4, 6.3) ---------------------------------------------------------------- */
typedef struct shmf_frame_hdr {
	uint32_t crc;
	uint32_t length;
	uint64_t seq;
	uint16_t type;
	uint16_t flags;
	uint32_t pos; /* low 32 bits of the frame's ring position */
} shmf_frame_hdr;

SHMF_HIDDEN void shmf_frame_hdr_decode(const uint8_t raw[SHMF_FRAME_HEADER], shmf_frame_hdr *h);
/* Encode a header with its CRC, for a frame at ring position pos. payload is read only for MSG
 * frames. */
SHMF_HIDDEN void shmf_frame_hdr_encode(uint8_t raw[SHMF_FRAME_HEADER], uint16_t type,
                                       uint32_t length, uint64_t seq, uint64_t pos,
                                       const void *payload);
/* The frame CRC given the CRC of its payload (shmf_crc32c(0, payload, len), 0 for none). */
SHMF_HIDDEN uint32_t shmf_frame_crc(const uint8_t raw[SHMF_FRAME_HEADER], const void *payload,
                                    size_t len);
SHMF_HIDDEN int shmf_frame_check_type(const shmf_frame_hdr *h); /* R4, R5 */
SHMF_HIDDEN int shmf_frame_check_length(const shmf_frame_hdr *h, uint64_t tail, uint64_t avail,
                                        uint32_t max_message); /* R6 */
SHMF_HIDDEN int shmf_frame_check_crc(const shmf_frame_hdr *h, const uint8_t raw[SHMF_FRAME_HEADER],
                                     const void *payload); /* R8 */
/* R9: the sequence number and the position the frame claims are the ones expected. */
SHMF_HIDDEN int shmf_frame_check_seq(const shmf_frame_hdr *h, uint64_t expect_seq, uint64_t pos);
/* R3..R9 on a frame at ring position pos, at the start of a private buffer of len bytes, which
 * stands for both the room to the end of the data area and the published bytes. On success *payload
 * points into buf. */
SHMF_HIDDEN int shmf_frame_decode(const uint8_t *buf, size_t len, uint32_t max_message,
                                  uint64_t expect_seq, uint64_t pos, shmf_frame_hdr *h,
                                  const uint8_t **payload);

/* ---- segment.c (PROTO 2, 6.2) -------------------------------------------------------------- */
typedef struct shmf_geom {
	uint32_t ring_count;
	uint32_t max_message;
	uint64_t total_size;
	uint64_t data_off[2];
	uint64_t cap[2];
	uint32_t creator_uid;
	uint32_t mode;
	uint64_t created_ns;
} shmf_geom;

SHMF_HIDDEN int shmf_geom_from_config(const shmf_config *cfg, shmf_geom *g);
/* Write the header into a zeroed control area and publish it (init_state last, release). */
SHMF_HIDDEN void shmf_segment_format(unsigned char *base, const shmf_geom *g);
/* Take the header snapshot of PROTO 6.2: init_state (acquire), then the other bytes. */
SHMF_HIDDEN void shmf_header_snapshot(unsigned char *base, uint8_t hdr[SHMF_HEADER_SIZE]);
/* Checks A6..A15 on a private snapshot and the file's facts. */
SHMF_HIDDEN int shmf_header_validate(const uint8_t hdr[SHMF_HEADER_SIZE], uint64_t file_size,
                                     uint32_t file_uid, uint32_t file_mode, shmf_geom *g);

/* ---- ring.c (PROTO 5, 6.3, 8) -------------------------------------------------------------- */
typedef struct shmf_ring {
	unsigned char *ctl;  /* the shared control block */
	unsigned char *data; /* the shared data area */
	uint64_t cap;
	uint64_t mask;
	uint32_t max_message;
	int err; /* sticky reject, 0 if none (PROTO 6.4) */
	int hw;  /* the fast path built for the CRC instruction, which this CPU has (ring.c) */
	/* private state: the positions are ours, the shared copies are only written (PROTO 6.1) */
	uint64_t pos;  /* writer: wpos; reader: rpos */
	uint64_t seq;  /* writer: next seq; reader: expected seq */
	uint64_t peer; /* latest validated snapshot of the peer's position */
	/* zero-copy state */
	int pending;       /* a reserve or peek is outstanding */
	uint64_t pend_len; /* reserved or peeked payload length */
	/* reader: the latest receive or peek of the channel found its frame on the first try
	 * (shmf_set_batch(); set by ring.c, used and cleared by channel.c's wait) */
	int hot;
	/* The SIGBUS guard's flag for the mapping (PROTO 9.6), set by its handler when the file
	 * shrank under us; never NULL (a flag nobody sets when the mapping is not guarded). */
	atomic_int *trip;
} shmf_ring;

SHMF_HIDDEN void shmf_ring_bind(shmf_ring *r, unsigned char *base, unsigned ring,
                                const shmf_geom *g);
/* Every call below that touches the mapping ends by testing r->trip: a truncation the guard saw
 * during the call makes its result SHMF_ETRUNCATED, sticky like a reject, and no output is set. */
/* Attach as this ring's writer or reader: adopt the shared positions, check P1-P2, repair after a
 * dead predecessor (PROTO 7). */
SHMF_HIDDEN int shmf_ring_writer_attach(shmf_ring *r);
SHMF_HIDDEN int shmf_ring_reader_attach(shmf_ring *r);
/* Writer. reserve returns SHMF_EAGAIN when the ring lacks room. */
SHMF_HIDDEN int shmf_ring_reserve(shmf_ring *r, size_t len, void **payload);
SHMF_HIDDEN int shmf_ring_commit(shmf_ring *r, size_t len);
SHMF_HIDDEN int shmf_ring_write(shmf_ring *r, const void *msg,
                                size_t len); /* reserve+copy+commit */
/* Reader. SHMF_EAGAIN when empty. */
SHMF_HIDDEN int shmf_ring_read(shmf_ring *r, void *buf, size_t cap, size_t *len);
SHMF_HIDDEN int shmf_ring_peek(shmf_ring *r, const void **msg, size_t *len);
SHMF_HIDDEN int shmf_ring_release(shmf_ring *r);
/* The peer's position now (an acquire load; not validated: only to compare), and whether it
 * moved since our last validated snapshot. */
SHMF_HIDDEN uint64_t shmf_ring_peer_pos(shmf_ring *r, int reader);
SHMF_HIDDEN int shmf_ring_peer_moved(shmf_ring *r, int reader);
/* The wait word this side sleeps on, and the one the peer sleeps on. */
SHMF_HIDDEN unsigned char *shmf_ring_wait_word(shmf_ring *r, int reader);
/* Wake the peer if it flagged that it sleeps (PROTO 8, S2-S3). */
SHMF_HIDDEN void shmf_ring_wake(unsigned char *word);

/* ---- channel.c test seam ------------------------------------------------------------------ */
/* Attach `side` of the segment `name` reusing the mapping of `peer` (a channel of the same
 * segment in this process) instead of mapping the file again: two threads then share one
 * mapping, which ThreadSanitizer needs (it tracks addresses). The new channel still opens its own
 * descriptor and holds its own role lock. The peer must outlive it. Tests only. */
SHMF_HIDDEN int shmf_attach_same_map(const shmf_channel *peer, const char *name, int side,
                                     shmf_channel **out);

/* Attach `side` to the segment behind an open descriptor (a memfd, a copied image), with every
 * check of PROTO 6.2 from A3 on. The descriptor is duplicated; the caller keeps its own. Used by
 * the segment fuzz targets; issue #7's sealed-memfd API will build on it. */
SHMF_HIDDEN int shmf_attach_fd_internal(int fd, int side, shmf_channel **out);

/* ---- os_linux.c ---------------------------------------------------------------------------- */
typedef struct shmf_os_stat {
	uint64_t size;
	uint32_t uid;
	uint32_t mode; /* permission bits */
	int regular;
	int64_t ctime_ns; /* last status change, CLOCK_REALTIME */
} shmf_os_stat;

SHMF_HIDDEN int shmf_os_create(const char *name, unsigned mode, int *fd);
SHMF_HIDDEN int shmf_os_open(const char *name, int *fd);
SHMF_HIDDEN int shmf_os_fstat(int fd, shmf_os_stat *st);
SHMF_HIDDEN int shmf_os_dup(int fd, int *out);
SHMF_HIDDEN int shmf_os_memfd(unsigned mode, int *fd);
SHMF_HIDDEN int shmf_os_seal(int fd);
SHMF_HIDDEN int shmf_os_check_seals(int fd);
SHMF_HIDDEN int shmf_os_reopen(int fd, int *out);
SHMF_HIDDEN int shmf_os_send_fd(int sock, int fd);
SHMF_HIDDEN int shmf_os_recv_fd(int sock, int64_t allowed_uid, int *fd);
/* The SIGBUS guard: register gives a slot, -1 (the guard is off) or -2 (its table is full). */
SHMF_HIDDEN int shmf_os_guard_install(void);
SHMF_HIDDEN int shmf_os_guard_remove(void);
SHMF_HIDDEN int shmf_os_guard_register(unsigned char *base, uint64_t size);
SHMF_HIDDEN int shmf_os_guard_tripped(int slot);
SHMF_HIDDEN atomic_int *shmf_os_guard_flag(int slot); /* NULL for -1 */
SHMF_HIDDEN void shmf_os_guard_unregister(int slot);
SHMF_HIDDEN int shmf_os_allocate(int fd, uint64_t size);
SHMF_HIDDEN int shmf_os_map(int fd, uint64_t size, unsigned char **base);
SHMF_HIDDEN void shmf_os_unmap(unsigned char *base, uint64_t size);
SHMF_HIDDEN int shmf_os_prefault(int fd, unsigned char *p, uint64_t len);
SHMF_HIDDEN void shmf_os_close(int fd);
SHMF_HIDDEN int shmf_os_unlink(const char *name);
/* Is `name` the file open at fd? SHMF_OS_OURS, SHMF_OS_GONE (no such name), SHMF_OS_OTHER (another
 * file has it now), or a negative code when it cannot tell. */
#define SHMF_OS_OURS  1
#define SHMF_OS_GONE  2
#define SHMF_OS_OTHER 3
SHMF_HIDDEN int shmf_os_names(const char *name, int fd);
SHMF_HIDDEN int shmf_os_lock(int fd, uint64_t offset); /* 0 or SHMF_EROLEBUSY */
SHMF_HIDDEN void shmf_os_unlock(int fd, uint64_t offset);
SHMF_HIDDEN int shmf_os_lock_free(int fd, uint64_t offset); /* 1 free, 0 held, <0 error */
/* n bytes of the file at offset (pread): 0, or <0 for an error or fewer bytes than n */
SHMF_HIDDEN int shmf_os_read_at(int fd, uint64_t offset, void *buf, size_t n);
SHMF_HIDDEN int shmf_os_futex_wait(unsigned char *word, uint32_t expect, int64_t deadline_ns);
SHMF_HIDDEN void shmf_os_futex_wake(unsigned char *word);
SHMF_HIDDEN int64_t shmf_os_now_ns(void);   /* CLOCK_MONOTONIC */
SHMF_HIDDEN uint64_t shmf_os_wall_ns(void); /* CLOCK_REALTIME */
SHMF_HIDDEN void shmf_os_sleep_ns(int64_t ns);
SHMF_HIDDEN uint32_t shmf_os_euid(void);
SHMF_HIDDEN uint32_t shmf_os_pid(void);

/* ---- kill points (issue #6): compiled only into test builds ------------------------------- */
/* Each names one step of the write path (and the reader's consume) where a process may die.
 * A build with -DSHMF_KILL_POINTS=1 (CMake: the shmframe_obj_kp objects) reads the environment
 * variable SHMF_KILL_POINT=NAME[:N] once, and sends itself SIGKILL the N-th time (default 1) it
 * reaches the point NAME. Normal builds compile every point to nothing: the library never raises
 * a signal (README, rule 2). */
enum shmf_kill_point {
	SHMF_KP_AFTER_RESERVE = 1, /* "after-reserve": room found, nothing written yet */
	SHMF_KP_MID_COPY,          /* "mid-copy": half of the payload copied into the ring */
	SHMF_KP_BEFORE_PUBLISH,    /* "before-publish": header and payload written, wseq not */
	SHMF_KP_SEQ_PUBLISHED,     /* "seq-published": wseq stored, wpos not (PROTO 7 repair) */
	SHMF_KP_PAD,               /* "pad": the PAD header written at the wrap, not published */
	SHMF_KP_CONSUME,           /* "consume": reader stored rseq, not rpos (PROTO 7 repair) */
	SHMF_KP_COUNT
};
#if defined(SHMF_KILL_POINTS) && SHMF_KILL_POINTS
SHMF_HIDDEN void shmf_os_kill_point(enum shmf_kill_point kp);
#define SHMF_KILL_POINT(kp) shmf_os_kill_point(kp)
#else
#define SHMF_KILL_POINT(kp) ((void)0)
#endif

#endif
