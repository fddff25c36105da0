/* shmframe.h - framed, checksummed messages between two processes through POSIX shared memory.
 *
 * The wire format is SHMF/1, specified byte by byte in docs/PROTOCOL.md.
 *
 * Conventions
 * -----------
 * 1. Errors. Every function that returns int returns 0 (or a documented non-negative count) on
 *    success, or a negative SHMF_E... code on failure. shmf_strerror() gives one line for each.
 *    SHMF_ESYS means a system call failed; errno then holds that call's error, preserved across
 *    the cleanup the library does before returning.
 * 2. The library never prints, never exits or aborts, and never raises a signal, whatever the
 *    peer wrote into the segment or the caller passed in. It installs a signal handler and keeps
 *    process-global state only when asked to, by shmf_sigbus_guard(1); otherwise it has no global
 *    mutable state.
 * 3. Ownership. shmf_create() and shmf_attach() allocate a shmf_channel and hand it to the caller,
 *    who releases it, and everything it holds (mapping, descriptor, role lock), with shmf_close().
 *    The library keeps no pointer to caller memory after a call returns. Buffers passed in stay
 *    the caller's.
 * 4. NULL. Pointer arguments must not be NULL unless a function says otherwise; a NULL is
 *    answered with SHMF_EINVAL, not a crash. shmf_close(NULL) is a no-op that returns 0.
 * 5. Concurrency. A channel has two directions. One thread may send (shmf_send, shmf_reserve,
 *    shmf_commit) while another receives (shmf_recv, shmf_peek, shmf_release) on the same
 *    channel; two threads must never use the same direction at once, and shmf_close() must not
 *    run concurrently with any other call on that channel. Across processes, each role (side A,
 *    side B) is held by at most one live process (PROTOCOL.md section 7).
 * 6. Timeouts. timeout_ms is 0 for "do not wait" (SHMF_EAGAIN when nothing can be done), -1 for
 *    "wait forever", and N > 0 for "at most N milliseconds" on CLOCK_MONOTONIC (SHMF_ETIMEDOUT).
 *    A blocked call also returns SHMF_EPEERGONE within 100 ms of the peer's death, and
 *    SHMF_EPEERCLOSED when the peer detached (after any data it left has been received).
 * 7. Trust. The peer is untrusted. Every byte a receive call returns was copied out of the segment
 *    and then checked (length, CRC-32C, sequence number) on that private copy. A failed check is a
 *    "reject" (PROTOCOL.md 6.4): sticky for that direction until shmf_close(). The exception is
 *    the zero-copy read shmf_peek(): its payload is verified in place, and stays shared memory
 *    that the peer can change after the check. Use it only for data you can afford to see change.
 * 8. Never: use a channel after shmf_close(); fork and keep using a channel in both processes; map
 *    or write the segment behind the library's back; call shmf_commit() or shmf_release() without
 *    the matching shmf_reserve() or shmf_peek(). A forked child shares its parent's role locks
 *    (PROTOCOL.md 7): the parent's roles then stay alive, and cannot be taken over, until the
 *    child exits or execs (descriptors are close-on-exec). The child must not shmf_close() the
 *    parent's channels either: that would tell the peer the role detached.
 */
#ifndef SHMFRAME_H
#define SHMFRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SHMF_STATIC_DEFINE) || !defined(__GNUC__)
#define SHMF_API
#else
#define SHMF_API __attribute__((visibility("default")))
#endif

#define SHMF_VERSION_STRING "1.0.0"
#define SHMF_PROTOCOL_MAJOR 1
#define SHMF_PROTOCOL_MINOR 0

/* Error codes (PROTOCOL.md section 10). The values are part of the ABI. */
enum shmf_error {
	SHMF_OK = 0,
	SHMF_EINVAL = -1,       /* invalid argument */
	SHMF_ENAME = -2,        /* invalid segment name */
	SHMF_ENOMEM = -3,       /* out of memory */
	SHMF_ESYS = -4,         /* system call failed; see errno */
	SHMF_EEXIST = -5,       /* the name already exists */
	SHMF_ENOENT = -6,       /* no such segment */
	SHMF_EACCES = -7,       /* permission denied */
	SHMF_ENOSPC = -8,       /* no space for the segment */
	SHMF_EAGAIN = -9,       /* would block */
	SHMF_ETIMEDOUT = -10,   /* timed out */
	SHMF_EPEERGONE = -11,   /* the peer died without detaching */
	SHMF_EPEERCLOSED = -12, /* the peer detached */
	SHMF_EROLEBUSY = -13,   /* the role is held by a live process */
	SHMF_EMSGSIZE = -14,    /* message larger than the segment's maximum */
	SHMF_ETOOSMALL = -15,   /* receive buffer too small; the message stays in the ring */
	SHMF_ENOTSUP = -16,     /* not available on this channel (simplex) */
	SHMF_ESTATE = -17,      /* call out of order */
	SHMF_EFILETYPE = -20,   /* not a regular file */
	SHMF_EOWNER = -21,      /* owned by another user */
	SHMF_EMODE = -22,       /* permissions broader than the creator asked */
	SHMF_ESIZE = -23,       /* size disagrees with the header */
	SHMF_EMAGIC = -24,      /* bad magic */
	SHMF_EVERSION = -25,    /* unsupported protocol version */
	SHMF_EHDRCRC = -26,     /* header checksum mismatch */
	SHMF_ELAYOUT = -27,     /* layout mismatch */
	SHMF_EFEATURE = -28,    /* unknown feature bits */
	SHMF_ENOTREADY = -29,   /* segment not ready */
	SHMF_EROLE = -30,       /* role line corrupt */
	SHMF_ESEALS = -31,      /* descriptor lacks the seals of the memfd transport */
	SHMF_EPEERCRED = -32,   /* the socket's peer is not the user allowed */
	SHMF_ETRUNCATED = -33,  /* the segment was truncated under the mapping (SIGBUS guard) */
	SHMF_EPOS = -40,        /* position out of range */
	SHMF_EALIGN = -41,      /* misaligned position */
	SHMF_ELENGTH = -42,     /* frame length out of range */
	SHMF_ETYPE = -43,       /* unknown frame type */
	SHMF_EFLAGS = -44,      /* reserved frame bits set */
	SHMF_ECRC = -45,        /* frame CRC mismatch */
	SHMF_ESEQ = -46         /* sequence gap, duplicate or stale frame */
};

/* Sides (roles). Side A creates the segment, writes ring 0 and reads ring 1. */
enum shmf_side { SHMF_SIDE_A = 0, SHMF_SIDE_B = 1 };

/* Config flags. */
#define SHMF_SIMPLEX 0x1u /* one ring, A -> B only */

#define SHMF_DEFAULT_CAPACITY    ((size_t)4 << 20)
#define SHMF_DEFAULT_MAX_MESSAGE ((size_t)64 << 10)
#define SHMF_NAME_MAX            255 /* bytes, including the leading '/' */

typedef struct shmf_channel shmf_channel; /* opaque */

typedef struct shmf_config {
	size_t capacity;    /* bytes per ring data area: a power of two, 256 .. 2^30 */
	size_t max_message; /* largest payload; 2 * align8(24 + max_message) <= capacity */
	unsigned mode;      /* permission bits of the segment, default 0600; umask is ignored */
	unsigned flags;     /* SHMF_SIMPLEX */
	unsigned spin;      /* busy-poll iterations before sleeping on a futex; default 2000 */
} shmf_config;

/* Fill in the defaults: 4 MiB per ring, 64 KiB messages, mode 0600, duplex, 2000 spins. */
SHMF_API void shmf_config_init(shmf_config *cfg);

/* Create the segment `name` ("/name", PROTOCOL.md 9.4) and attach to it as side A. Refuses an
 * existing name (SHMF_EEXIST). cfg may be NULL for the defaults. A creator whose name is removed
 * while it creates (it stalled long enough to look dead: `shmframe gc --not-ready`, an unlink)
 * fails with SHMF_ENOENT, or SHMF_EEXIST when another creator has made the name anew meanwhile,
 * and never removes that other creator's file (PROTOCOL.md 9.1). It can also fail with
 * SHMF_EROLEBUSY: another process held role A's lock of the new file already (`shmframe gc`
 * removing it). */
SHMF_API int shmf_create(const char *name, const shmf_config *cfg, shmf_channel **out);

/* Attach to an existing segment as side B, without waiting. */
SHMF_API int shmf_open(const char *name, shmf_channel **out);

/* Attach to an existing segment as `side`, waiting up to timeout_ms for it to exist and be ready.
 * Attaching to a role whose holder died takes it over (PROTOCOL.md 7); a role held by a live
 * process gives SHMF_EROLEBUSY. A segment whose creator died before it was ready will never be:
 * a waiting attach says so with SHMF_EPEERGONE once the file is 100 ms old, even with timeout
 * -1 (PROTOCOL.md 9.2). */
SHMF_API int shmf_attach(const char *name, int side, int timeout_ms, shmf_channel **out);

/* Send one message of len bytes (0 is allowed) on this side's outgoing ring. */
SHMF_API int shmf_send(shmf_channel *ch, const void *msg, size_t len, int timeout_ms);

/* Receive one message into buf (cap bytes). On success *len is its length. If cap is too small,
 * returns SHMF_ETOOSMALL with *len set to the size needed, and the message stays. buf may be NULL
 * when cap is 0. On any failure the first cap bytes of buf are unspecified. */
SHMF_API int shmf_recv(shmf_channel *ch, void *buf, size_t cap, size_t *len, int timeout_ms);

/* Zero-copy send: reserve room for up to len bytes in the ring and get a pointer to it in *buf;
 * write the payload there, then shmf_commit() with the final length (<= len). Until the commit
 * nothing is visible to the peer. Bytes written there are shared memory the peer can read. */
SHMF_API int shmf_reserve(shmf_channel *ch, size_t len, void **buf, int timeout_ms);
SHMF_API int shmf_commit(shmf_channel *ch, size_t len);

/* Zero-copy receive: validate the next message in place and point *msg at its payload; release
 * it with shmf_release(). TRUST: the payload is shared memory. It passed the CRC and sequence
 * checks when shmf_peek() returned, but the peer can change it afterwards; copy what you must
 * trust, and never re-read a value you checked. */
SHMF_API int shmf_peek(shmf_channel *ch, const void **msg, size_t *len, int timeout_ms);
SHMF_API int shmf_release(shmf_channel *ch);

/* Sealed memfd transport (Linux; PROTOCOL.md 9.5), the recommended mode between processes that
 * do not trust each other: the segment has no name to squat or leak, and its size is sealed, so
 * the peer cannot truncate it under our mapping.
 *   shmf_create_memfd: create an anonymous sealed segment and attach as side A.
 *   shmf_send_fd:      hand it to the peer over a connected AF_UNIX socket (SCM_RIGHTS).
 *   shmf_recv_fd:      receive it; refuses (SHMF_EPEERCRED) a peer whose SO_PEERCRED uid is not
 *                      allowed_uid (-1: our own effective uid), and (SHMF_EINVAL) anything but
 *                      one byte "S" with one descriptor; SHMF_EPEERCLOSED when the peer hung
 *                      up (or sent an empty message without a descriptor, which looks the
 *                      same). It blocks as the socket does. *fd is the caller's to close.
 *   shmf_attach_fd:    attach to it as `side`, after checking that it carries F_SEAL_SHRINK,
 *                      F_SEAL_GROW and F_SEAL_SEAL (SHMF_ESEALS otherwise). The caller keeps
 *                      and closes its own descriptor. The channel opens the file anew (a
 *                      description of its own, so a second attach through the same fd finds
 *                      the role taken: SHMF_EROLEBUSY); where the file's mode forbids that (a
 *                      peer of another uid made it 0600) it duplicates fd instead, and then
 *                      the caller must attach through that fd only once: a lock test never
 *                      sees its own description's locks, so two sides attached through one
 *                      description would each take the other for dead. */
SHMF_API int shmf_create_memfd(const shmf_config *cfg, shmf_channel **out);
SHMF_API int shmf_send_fd(const shmf_channel *ch, int sock);
SHMF_API int shmf_recv_fd(int sock, int allowed_uid, int *fd);
SHMF_API int shmf_attach_fd(int fd, int side, shmf_channel **out);

/* The SIGBUS guard (opt-in, process-global; PROTOCOL.md 9.6). A peer that shrinks a named
 * segment's file makes the next access to the lost pages raise SIGBUS, which kills the process.
 * With the guard on, a SIGBUS inside a channel's mapping replaces that mapping with zero pages,
 * and the channel's calls return SHMF_ETRUNCATED from then on; a SIGBUS anywhere else goes to
 * the handler that was there before (or the default action: death). Only faults count: a SIGBUS
 * that a process sent (kill, sigqueue) goes to the previous handler or action whatever address
 * it names. Channels created or attached while the guard is on are covered; the guard covers
 * 1024 mappings at once, and beyond that create and attach fail with SHMF_ENOMEM rather than
 * hand out an unguarded channel. The guard installs one sigaction for SIGBUS: a program that
 * installs its own SIGBUS handler afterwards replaces it. The sealed memfd transport needs no
 * guard: its size is sealed. */
SHMF_API int shmf_sigbus_guard(int enable);

/* Detach and free the channel. The name and the rings' contents stay. */
SHMF_API int shmf_close(shmf_channel *ch);

/* Remove the name. Channels that have it attached keep working. */
SHMF_API int shmf_unlink(const char *name);

/* 0 when name is a valid segment name (PROTOCOL.md 9.4), SHMF_ENAME otherwise. */
SHMF_API int shmf_name_check(const char *name);

/* How many times a blocked call polls before it sleeps on a futex (default 2000; 0 sleeps at
 * once). Spinning trades CPU time for latency while the peer is active; a spin ends at the call's
 * deadline and at its next liveness check (at most 100 ms away, PROTOCOL.md 7). Both directions
 * read the setting: call it before the channel's threads start sending and receiving, or while
 * neither is in a call. */
SHMF_API int shmf_set_spin(shmf_channel *ch, unsigned spin);

/* Batching for a saturated stream of small messages; default 0 (off). A reader that keeps pace
 * with a streaming writer takes each frame the moment it is published, pulling the cache lines
 * the writer is still writing next to it, and both sides slow down: up to half the throughput
 * of 64-byte messages with 1 MiB rings, less at the 4 MiB default (docs/PERFORMANCE.md). With
 * bytes > 0, a receive call (shmf_recv, shmf_peek, with a timeout other than 0) that finds the
 * ring empty right after a call that got its message without waiting first polls, for at most
 * 200 polls (a few microseconds), until `bytes` are waiting or the writer has published nothing
 * for 8 polls; then it proceeds as usual. The cost: a message of a fast steady stream may wait
 * that long for the batch to fill. Receives that wait anyway (a paced stream, ping-pong) and a
 * spin of 0 are unaffected. bytes is at most half the receive ring's capacity (SHMF_EINVAL);
 * SHMF_ENOTSUP without a receive direction. Like the receive calls, call it from the receiving
 * thread, or before receiving starts. */
SHMF_API int shmf_set_batch(shmf_channel *ch, size_t bytes);

/* Map both of the channel's rings into this process's page tables now, so that their first lap
 * takes no page faults. A ring's first lap takes one per 4 KiB page, microseconds each: they
 * were the p99.9 of a polled round trip (docs/PERFORMANCE.md). Not done unless asked: for the
 * default 4 MiB duplex segment it takes about 1 ms, and 4-5 ms on the first side to touch
 * fresh pages (they are zeroed then, which its first lap would do anyway), which a process that
 * sends or receives a few messages and exits would pay for nothing. Call it after create or
 * attach, from any thread, before the traffic whose latency matters. 0 when done; SHMF_ENOTSUP
 * when the kernel cannot (MADV_POPULATE_READ, Linux 5.14), or when the segment's file is
 * sparse, since populating it would allocate on our account memory its creator never reserved
 * (docs/SECURITY.md); SHMF_ESYS when madvise failed otherwise (a segment truncated under the
 * mapping: errno EFAULT, and no signal). Nothing is lost by a failure: pages fault in as they
 * are first touched, as without the call. */
SHMF_API int shmf_prefault(shmf_channel *ch);

/* Facts about an attached channel. */
SHMF_API int shmf_side(const shmf_channel *ch);           /* SHMF_SIDE_A or SHMF_SIDE_B */
SHMF_API size_t shmf_max_message(const shmf_channel *ch); /* the segment's max_message */

/* Stream positions (PROTOCOL.md 5): *tx is the byte position up to which this side has published
 * frames in the ring it sends on, *rx the position up to which it has consumed the ring it reads.
 * Both count from 0 at creation, only grow, and carry over a takeover: a process that takes a
 * role over starts from its predecessor's committed position. Either pointer may be NULL; read
 * tx from the sending thread and rx from the receiving one. SHMF_EINVAL when ch or both pointers
 * are NULL, SHMF_ENOTSUP when the side has no such ring (simplex).
 *
 * What it is for: exactly-once hand-over after a crash. A sender that saves tx before each send
 * (somewhere that outlives it) lets its successor learn whether the send it died in was
 * committed: it was exactly when the successor's tx is at least saved + shmf_frame_bytes(len).
 * The same holds for rx and a receiver that died inside shmf_recv, if it saved the length it
 * expected. A message that a dying receiver had consumed is gone with it; a receiver that must
 * not lose one uses shmf_peek, acts on the message, then shmf_release: a crash before the
 * release leaves the message to its successor (at least once, not exactly once). */
SHMF_API int shmf_positions(const shmf_channel *ch, uint64_t *tx, uint64_t *rx);

/* The ring bytes one message of len bytes takes: 24 + len, rounded up to a multiple of 8
 * (PROTOCOL.md 4). A PAD frame written at the wrap comes on top. */
static inline uint64_t shmf_frame_bytes(size_t len)
{
	return ((uint64_t)len + 24u + 7u) & ~(uint64_t)7u;
}

/* One line of English for any value; never NULL. */
SHMF_API const char *shmf_strerror(int err);

/* The library's version, SHMF_VERSION_STRING of the build that is linked. */
SHMF_API const char *shmf_version(void);

#ifdef __cplusplus
}
#endif
#endif
