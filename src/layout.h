/* layout.h - the byte layout of an SHMF/1 segment, in one place.
 *
 * This file is docs/PROTOCOL.md section 2 and 4 in code form: every field of shared memory, with
 * its byte offset, size and meaning. All multi-byte fields are little-endian and naturally
 * aligned. Nothing here reads or writes memory; src/atomics.h and src/bytes.h do that.
 *
 *   offset  0x0000 +----------------------------------------+
 *                  | segment header (128 B)        PROTO 2.1|  written once by the creator
 *          0x0080  | role line A (64 B)            PROTO 2.2|  written by the holder of role A
 *          0x00C0  | role line B (64 B)            PROTO 2.2|  written by the holder of role B
 *          0x0100  | ring 0 control block (256 B)  PROTO 2.3|  A -> B
 *          0x0200  | ring 1 control block (256 B)  PROTO 2.3|  B -> A (zero when simplex)
 *          0x0300  | reserved, zero                         |
 *          0x1000  +----------------------------------------+
 *                  | ring 0 data area (capacity0 bytes)     |
 *                  +----------------------------------------+  (page-rounded)
 *                  | ring 1 data area (capacity1 bytes)     |
 *                  +----------------------------------------+  total_size
 */
#ifndef SHMF_LAYOUT_H
#define SHMF_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* ---- segment header (PROTOCOL.md 2.1) ------------------------------------------------------ */
#define SHMF_H_MAGIC         0x00u /* u32  0x464D4853, bytes "SHMF"                          */
#define SHMF_H_VERSION_MAJOR 0x04u /* u16  1                                                 */
#define SHMF_H_VERSION_MINOR 0x06u /* u16  0                                                 */
#define SHMF_H_FEATURES      0x08u /* u32  feature bits; none defined in 1.0, must be 0      */
#define SHMF_H_FINGERPRINT   0x0Cu /* u32  layout fingerprint, SHMF_FINGERPRINT              */
#define SHMF_H_TOTAL_SIZE    0x10u /* u64  size of the whole segment in bytes                */
#define SHMF_H_CTL_SIZE      0x18u /* u32  size of the control area, 4096                    */
#define SHMF_H_RING_COUNT    0x1Cu /* u32  1 (simplex) or 2 (duplex)                         */
#define SHMF_H_MAX_MESSAGE   0x20u /* u32  largest payload a frame may carry                 */
#define SHMF_H_CREATOR_UID   0x24u /* u32  effective uid of the creator                      */
#define SHMF_H_MODE          0x28u /* u32  permission bits the creator asked for             */
#define SHMF_H_RESERVED0     0x2Cu /* u32  zero                                              */
#define SHMF_H_CREATED_NS    0x30u /* u64  CLOCK_REALTIME at creation, ns (informational)    */
#define SHMF_H_RING0_DATA    0x38u /* u64  offset of ring 0's data area, 4096                */
#define SHMF_H_RING0_CAP     0x40u /* u64  capacity of ring 0's data area                    */
#define SHMF_H_RING1_DATA    0x48u /* u64  offset of ring 1's data area, 0 when simplex      */
#define SHMF_H_RING1_CAP     0x50u /* u64  capacity of ring 1's data area, 0 when simplex    */
#define SHMF_H_RESERVED1     0x58u /* 32 B zero, up to 0x77                                  */
#define SHMF_H_HEADER_CRC    0x78u /* u32  CRC-32C of bytes 0x00..0x77                       */
#define SHMF_H_INIT_STATE    0x7Cu /* u32  0 while being initialised, SHMF_STATE_READY after */
#define SHMF_HEADER_SIZE     0x80u
#define SHMF_HEADER_CRC_LEN  0x78u

#define SHMF_MAGIC          0x464D4853u /* "SHMF" in little-endian byte order */
#define SHMF_VERSION_MAJOR  1u
#define SHMF_VERSION_MINOR  0u
#define SHMF_STATE_INIT     0u
#define SHMF_STATE_READY    0x59444552u /* "REDY" */
#define SHMF_FEATURES_KNOWN 0u
/* CRC-32C of the ASCII string
 * "SHMF/1 header=128 role=64 ringctl=256 ctlarea=4096 frame=24 align=8" (PROTOCOL.md 2.1). */
#define SHMF_FINGERPRINT    0x9D825D65u

/* ---- role lines (PROTOCOL.md 2.2) ---------------------------------------------------------- */
#define SHMF_ROLE_LINE(side)        (0x80u + 0x40u * (unsigned)(side)) /* side 0 = A, 1 = B */
#define SHMF_R_STATE                0x00u /* u32  SHMF_ROLE_NEVER / _ATTACHED / _DETACHED            */
#define SHMF_R_EPOCH                0x04u /* u32  number of attaches to this role so far            */
#define SHMF_R_PID                  0x08u /* u32  pid of the latest holder; informational only      */
#define SHMF_R_RESERVED             0x0Cu /* u32  zero                                              */
#define SHMF_R_ATTACHED_NS          0x10u /* u64  CLOCK_REALTIME of the latest attach, informational */
#define SHMF_ROLE_NEVER             0u
#define SHMF_ROLE_ATTACHED          1u
#define SHMF_ROLE_DETACHED          2u
/* The liveness lock of a role is an OFD write lock on the one byte of the file at the role
 * line's offset (PROTOCOL.md 7). */
#define SHMF_ROLE_LOCK_OFFSET(side) SHMF_ROLE_LINE(side)

/* ---- ring control blocks (PROTOCOL.md 2.3) ------------------------------------------------- */
#define SHMF_RING_CTL(ring) (0x100u + 0x100u * (unsigned)(ring))
#define SHMF_RING_CTL_SIZE  0x100u
/* cache line 0: written by the ring's writer only */
#define SHMF_C_WPOS         0x00u /* u64  write position: end of the last published frame   */
#define SHMF_C_WSEQ         0x08u /* u64  sequence number of the writer's next frame        */
/* cache line 1: the reader's futex word, written by both sides on the slow path */
#define SHMF_C_RWAIT        0x40u /* u32  1 while the reader sleeps or is about to          */
/* cache line 2: written by the ring's reader only */
#define SHMF_C_RPOS         0x80u /* u64  read position: end of the last consumed frame     */
#define SHMF_C_RSEQ         0x88u /* u64  sequence number the reader expects next           */
#define SHMF_C_RERRORS      0x90u /* u32  count of rejects the reader met (informational)   */
#define SHMF_C_RLASTERR     0x94u /* u32  the latest reject, as a positive error number      */
/* cache line 3: the writer's futex word, written by both sides on the slow path */
#define SHMF_C_WWAIT        0xC0u /* u32  1 while the writer sleeps or is about to          */

#define SHMF_CTL_AREA 0x1000u /* data areas start here, page aligned */
#define SHMF_PAGE     0x1000u /* protocol page: data areas are rounded up to it */

/* ---- frames (PROTOCOL.md 4) ---------------------------------------------------------------- */
#define SHMF_F_CRC        0x00u /* u32  CRC-32C of bytes 0x04..0x17, then the payload      */
#define SHMF_F_LENGTH     0x04u /* u32  payload length in bytes                           */
#define SHMF_F_SEQ        0x08u /* u64  sequence number                                   */
#define SHMF_F_TYPE       0x10u /* u16  SHMF_TYPE_MSG or SHMF_TYPE_PAD                     */
#define SHMF_F_FLAGS      0x12u /* u16  zero                                              */
#define SHMF_F_POS        0x14u /* u32  low 32 bits of the frame's own ring position       */
#define SHMF_FRAME_HEADER 24u
#define SHMF_FRAME_ALIGN  8u
#define SHMF_TYPE_MSG     1u
#define SHMF_TYPE_PAD     2u

/* ---- geometry limits (PROTOCOL.md 2.4) ----------------------------------------------------- */
#define SHMF_MIN_CAPACITY 256u
#define SHMF_MAX_CAPACITY (1u << 30)

/* ---- times (PROTOCOL.md 7, 9.2) ------------------------------------------------------------ */
/* A file that is not ready, whose role A lock is free and whose status changed this long ago
 * was left by a creator that died (PROTOCOL.md 9.2): the library's attach, inspect and gc all
 * judge by this one figure. ns. */
#define SHMF_ORPHAN_NS 100000000ull

_Static_assert(SHMF_H_INIT_STATE + 4u == SHMF_HEADER_SIZE, "init state closes the header");
_Static_assert(SHMF_H_HEADER_CRC == SHMF_HEADER_CRC_LEN, "crc covers all that precedes it");
_Static_assert(SHMF_H_RESERVED1 + 32u == SHMF_H_HEADER_CRC, "reserved run ends at the crc");
_Static_assert(SHMF_H_TOTAL_SIZE % 8u == 0 && SHMF_H_CREATED_NS % 8u == 0 &&
                       SHMF_H_RING0_DATA % 8u == 0 && SHMF_H_RING1_CAP % 8u == 0,
               "u64 header fields are naturally aligned");
_Static_assert(SHMF_ROLE_LINE(0) == SHMF_HEADER_SIZE, "role A follows the header");
_Static_assert(SHMF_ROLE_LINE(1) + 0x40u == SHMF_RING_CTL(0), "ring 0 follows role B");
_Static_assert(SHMF_R_ATTACHED_NS + 8u <= 0x40u, "a role line fits one cache line");
_Static_assert(SHMF_C_WSEQ + 8u <= SHMF_C_RWAIT, "writer line is one cache line");
_Static_assert(SHMF_C_RWAIT % 64u == 0 && SHMF_C_RPOS % 64u == 0 && SHMF_C_WWAIT % 64u == 0,
               "words written by different sides sit on different cache lines");
_Static_assert(SHMF_C_RPOS - SHMF_C_WPOS == 128u, "hot lines 128 B apart (adjacent-line prefetch)");
_Static_assert(SHMF_C_RLASTERR + 4u <= SHMF_C_WWAIT, "reader line is one cache line");
_Static_assert(SHMF_C_WWAIT + 4u <= SHMF_RING_CTL_SIZE, "control block size");
_Static_assert(SHMF_RING_CTL(1) + SHMF_RING_CTL_SIZE <= SHMF_CTL_AREA, "control area size");
_Static_assert(SHMF_F_POS + 4u == SHMF_FRAME_HEADER, "frame header size");
_Static_assert(SHMF_FRAME_HEADER % SHMF_FRAME_ALIGN == 0, "frame header keeps alignment");
_Static_assert(SHMF_F_SEQ % 8u == 0, "seq is naturally aligned");
_Static_assert((SHMF_MIN_CAPACITY & (SHMF_MIN_CAPACITY - 1u)) == 0, "power of two");

/* Size of a frame carrying `len` payload bytes: header plus payload, rounded up to 8. The
 * caller guarantees len <= 2^32, so this cannot overflow a uint64_t. */
static inline uint64_t shmf_frame_size(uint64_t len)
{
	return (SHMF_FRAME_HEADER + len + (SHMF_FRAME_ALIGN - 1u)) &
	       ~(uint64_t)(SHMF_FRAME_ALIGN - 1u);
}

#endif
