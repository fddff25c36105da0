/* bench_run.c - the transports and the timed loops of `shmframe bench` (bench.h).
 *
 * One case is one fork of two processes, side A on one CPU and side B on another, which meet at
 * a barrier in a shared control page and then run one loop:
 *   throughput  A sends as fast as it can, B receives; B stops the clock at the last message;
 *   pingpong    A sends one message and waits for B's echo; A times every round trip;
 *   paced       A sends message i at t0 + i / rate (spinning until then), B receives and
 *               records now - (t0 + i / rate): latency from the scheduled send, so that a
 *               transport that falls behind shows it (no coordinated omission).
 * Every received message is checked (index and tail pattern, bench.h); the first bad one fails
 * the run. The parent waits with a deadline and kills what does not finish.
 *
 * `ring` is the protocol's ring stripped to its bones (positions, frame geometry, ordering and
 * the wake check's fence; no CRC, no checks) in a shared mapping of its own: what any
 * implementation of SHMF/1 pays at least on this machine. `ring-crc` adds the one piece of work
 * per byte that the protocol demands (PROTOCOL.md 4, 6.3 R8): each frame's CRC-32C, made while
 * the writer copies in and checked while the reader copies out, by the library's own fused
 * copy-and-CRC (crc32c.c); still no other check. `ring-zc` is `ring-crc` without the copies: the
 * writer writes the payload where it lies (every byte, fill_zc()) and checksums it there, the
 * reader checksums it and checks it in place before it hands the space back, as the zero-copy path
 * (shm-zc) does. `ring-block` is `ring` with the sleeping wait of PROTOCOL.md 8 at once (no spin,
 * no timeout, no liveness check): what a ring's blocking round trip costs at least, where `futex`
 * moves a word and not a frame.
 */
#include "bench.h"

#include <errno.h>
#include <linux/futex.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BENCH_TSC 1
#endif

#include "atomics.h"   /* shmf_crc32c_copy_in/out, for ring-crc */
#include "crc32c_hw.h" /* the library's inline copy-and-CRC of short payloads, for ring-crc */
#include "internal.h"  /* shmf_crc32c, for the CRC ceiling */
#include "shmframe.h"

/* ---- the clock ----------------------------------------------------------------------------- */

static double tsc_ns_per_tick; /* 0: use CLOCK_MONOTONIC */
static uint64_t tsc_base;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int tsc_invariant(void)
{
	char line[4096];
	int ok = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "flags", 5) == 0) {
			ok = strstr(line, " constant_tsc") != NULL &&
			     strstr(line, " nonstop_tsc") != NULL;
			break;
		}
	}
	(void)fclose(f);
	return ok;
}

void bench_clock_init(void)
{
#ifdef BENCH_TSC
	if (!tsc_invariant())
		return;
	uint64_t m0 = mono_ns(), t0 = __rdtsc();
	struct timespec d = {0, 20000000};
	nanosleep(&d, NULL);
	uint64_t m1 = mono_ns(), t1 = __rdtsc();
	if (t1 > t0 && m1 > m0) {
		tsc_ns_per_tick = (double)(m1 - m0) / (double)(t1 - t0);
		tsc_base = t0;
	}
#endif
}

uint64_t bench_now_ns(void)
{
#ifdef BENCH_TSC
	if (tsc_ns_per_tick > 0)
		return (uint64_t)((double)(__rdtsc() - tsc_base) * tsc_ns_per_tick);
#endif
	return mono_ns();
}

static inline void relax(void)
{
#ifdef BENCH_TSC
	_mm_pause();
#endif
}

/* ---- CPUs ---------------------------------------------------------------------------------- */

void bench_cpus(int *cpu_a, int *cpu_b)
{
	cpu_set_t set;

	*cpu_a = *cpu_b = -1;
	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET((size_t)c, &set))
			continue;
		if (*cpu_a < 0) {
			*cpu_a = c;
		} else {
			*cpu_b = c;
			return;
		}
	}
	*cpu_a = -1;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET((size_t)cpu, &set);
	(void)sched_setaffinity(0, sizeof set, &set);
}

/* ---- the control page shared by the two sides ----------------------------------------------- */

/* The padding is the point: the bounced line sits alone on its cache lines. */
struct ctl { // NOLINT(clang-analyzer-optin.performance.Padding)
	_Atomic uint32_t ready;
	_Atomic uint64_t t0; /* throughput: A's start; paced: the schedule's start */
	uint64_t t1;         /* throughput: B's end */
	uint64_t count;      /* messages B counted (throughput), round trips A timed */
	uint64_t nsamples;
	int failed[2];
	char note[2][160];
	_Alignas(128) uint32_t line; /* the cache-line floor's word (__atomic builtins) */
	_Alignas(128) uint32_t word; /* the futex floor's word */
	_Alignas(128) char pad[128];
};

/* ---- the ring skeleton (TR_RING, TR_RING_NOFENCE, TR_RING_CRC, TR_RING_ZC, TR_RING_BLOCK,
 * TR_RING_BATCH, TR_RING_CRC_BATCH) ----------------------------------------------------------- */

/* One direction's control words, where PROTOCOL.md 2.3 puts them: each on a cache line of its
 * own, wpos and rpos 128 bytes apart. The wait words stay 0 but in ring-block; the wake check
 * loads them (8, S3). */
struct skel_ctl { // NOLINT(clang-analyzer-optin.performance.Padding)
	_Alignas(64) _Atomic uint64_t wpos;
	_Alignas(64) _Atomic uint32_t rwait;
	_Alignas(64) _Atomic uint64_t rpos;
	_Alignas(64) _Atomic uint32_t wwait;
};

/* A frame header's 24 bytes (PROTOCOL.md 4); only len and seq are written. */
struct skel_hdr {
	uint32_t crc; /* not computed */
	uint32_t len; /* SKEL_PAD: the rest of the lap is skipped */
	uint64_t seq;
	uint64_t rest; /* type, flags, pos: left 0 */
};

#define SKEL_HDR      24u
#define SKEL_PAD      UINT32_MAX
#define SKEL_CTL_AREA 4096u /* the two control blocks; data area i at SKEL_CTL_AREA + i * cap */
_Static_assert(sizeof(struct skel_hdr) == SKEL_HDR, "the protocol's frame header");

/* One side's view of the skeleton: it writes tx and reads rx (A: ring 0 and 1, B the mirror). */
struct skel_ep {
	struct skel_ctl *tx, *rx;
	unsigned char *txd, *rxd; /* the data areas */
	size_t cap;
	uint64_t wpos, rcache; /* writer: its position, the last rpos it loaded */
	uint64_t rpos, wcache; /* reader: its position, the last wpos it loaded */
	uint64_t seq;
	uint64_t wakes; /* wait words seen nonzero: only in ring-block */
	int fence;      /* 0: ring-nofence */
	int crc;        /* ring-crc, ring-zc */
	int zc;         /* ring-zc: no copies */
	int hw; /* ring-crc, ring-zc: this CPU has the CRC instruction (shmf_crc32c_hw_available())
	         */
	int block;      /* ring-block: sleep at once instead of polling */
	uint64_t batch; /* ring-batch: bytes the reader holds for, as shmf_set_batch() */
	int hot;        /* ring-batch: the last receive found its frame without waiting */
};

/* ---- endpoints ----------------------------------------------------------------------------- */

struct ep {
	enum bench_transport tr;
	int side; /* 0 = A, 1 = B */
	shmf_channel *ch;
	int busy; /* poll with timeout 0 */
	int rfd, wfd;
	mqd_t mq_in, mq_out;
	struct bench_bmq *bmq_in, *bmq_out;
	uint32_t *line, *word;
	uint32_t word_last; /* the value we stored or saw last */
	unsigned char *buf; /* private message buffer */
	size_t size;
	struct skel_ep sk;
};

struct setup {
	char shm_name[64];
	char mq_name[2][64];
	int pipe_ab[2], pipe_ba[2];
	int sp[2];
	mqd_t mq[2];              /* mq[0]: A -> B, mq[1]: B -> A */
	struct bench_bmq *bmq[2]; /* boost-mq, the same way round */
	void *skel; /* the ring skeleton's mapping: two control blocks, two data areas */
	size_t skel_len;
};

static int is_shm(enum bench_transport t)
{
	return t <= TR_SHM_ZC_BUSY;
}

static int is_skel(enum bench_transport t)
{
	return t == TR_RING || t == TR_RING_NOFENCE || t == TR_RING_CRC || t == TR_RING_ZC ||
	       t == TR_RING_BLOCK || t == TR_RING_BATCH || t == TR_RING_CRC_BATCH;
}

static size_t skel_cap(const struct bench_opts *o)
{
	return o->capacity != 0 ? o->capacity : SHMF_DEFAULT_CAPACITY;
}

static uint64_t skel_frame(uint64_t len)
{
	return (SKEL_HDR + len + 7) & ~(uint64_t)7;
}

/* The protocol's geometry (PROTOCOL.md 2.4): a power of two, two frames in it. */
static int skel_fits(const struct bench_opts *o, size_t size, char *note, size_t n)
{
	size_t cap = skel_cap(o);

	if (cap >= 256 && (cap & (cap - 1)) == 0 && 2 * skel_frame(size) <= cap)
		return 1;
	(void)snprintf(note, n,
	               "ring: %zu B frames do not fit twice in a power-of-two capacity %zu", size,
	               cap);
	return 0;
}

static void fill(unsigned char *p, size_t size, uint64_t idx)
{
	uint64_t tail = idx ^ BENCH_TAIL_KEY;

	memcpy(p, &idx, 8);
	if (size >= 16)
		memcpy(p + size - 8, &tail, 8);
}

/* A zero-copy writer builds its message where it will be sent, so it writes every byte of it each
 * time: here with plain word stores, as an application's own code would (fill_zc). Writing only
 * the index and the tail there, as fill() does into a private buffer that the library then copies
 * in full, left the rest of the frame as the previous lap had it and spared the writer the cost of
 * taking the frame's lines back from the reader's cache: the zero-copy rows ran about twice as
 * fast at 4 and 64 KiB as a real writer could (docs/PERFORMANCE.md, "Zero-copy"). */
static void fill_zc(unsigned char *p, size_t size, uint64_t idx)
{
	for (size_t i = 8; i + 16 <= size; i += 8) {
		uint64_t w = idx + i;
		memcpy(p + i, &w, 8);
	}
	fill(p, size, idx);
}

/* The message check: length, then the tail pattern; the index goes back to the caller, who
 * checks the sequence. -1 when the message is wrong. */
static int check(const unsigned char *p, size_t got, size_t size, uint64_t *idx)
{
	uint64_t tail;

	if (got != size)
		return -1;
	memcpy(idx, p, 8);
	if (size >= 16 && *idx != BENCH_END) {
		memcpy(&tail, p + size - 8, 8);
		if (tail != (*idx ^ BENCH_TAIL_KEY))
			return -1;
	}
	return 0;
}

/* The whole of n bytes through a pipe, either way. */
static int fd_xfer(int fd, unsigned char *p, size_t n, int writing)
{
	while (n > 0) {
		ssize_t k = writing ? write(fd, p, n) : read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The two floors bounce one 32-bit word: A stores 2i + 1 and waits for 2i + 2, which B stores
 * when it sees 2i + 1. Release/acquire: the same pairs a message ring needs, nothing more.
 *   cacheline  the waiting side polls: one cache line's round trip, the latency floor;
 *   futex      the waiting side sleeps on the word (FUTEX_WAIT, shared: no FUTEX_PRIVATE_FLAG,
 *              as PROTOCOL.md 8) and every store is followed by a FUTEX_WAKE: the least a
 *              transport pays that sleeps until the peer wakes it (no wait flag, no checks).
 * Ping-pong only: the word holds one message. */
#define WORD_END UINT32_MAX
#define SLICE_NS 100000000L /* PROTOCOL.md 7's liveness slice, as src/channel.c */

static int word_send(struct ep *e, uint32_t *w, uint64_t idx, int futex)
{
	uint32_t v = idx == BENCH_END ? WORD_END : (uint32_t)(2 * idx + 1 + (uint64_t)e->side);

	__atomic_store_n(w, v, __ATOMIC_RELEASE);
	e->word_last = v;
	if (futex)
		(void)syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
	return 0;
}

static int word_recv(struct ep *e, uint32_t *w, uint64_t *idx, int futex)
{
	for (;;) {
		uint32_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
		if (v == WORD_END) {
			*idx = BENCH_END;
			return 0;
		}
		if (v != e->word_last && (v & 1u) == (uint32_t)e->side) {
			*idx = (v - 1) / 2;
			e->word_last = v;
			return 0;
		}
		if (futex == 2) {
			/* futex-slice: the sleep a waiter that must notice a dead peer (PROTOCOL.md
			 * 7) takes without a thread of its own, as the library does: an absolute
			 * CLOCK_MONOTONIC deadline one slice away, read before every sleep */
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (ts.tv_nsec + SLICE_NS) / 1000000000L;
			ts.tv_nsec = (ts.tv_nsec + SLICE_NS) % 1000000000L;
			(void)syscall(SYS_futex, w, FUTEX_WAIT_BITSET, v, &ts, NULL,
			              FUTEX_BITSET_MATCH_ANY);
		} else if (futex) {
			(void)syscall(SYS_futex, w, FUTEX_WAIT, v, NULL, NULL, 0);
		} else {
			relax();
		}
	}
}

static int shm_timeout(const struct ep *e)
{
	return e->busy ? 0 : -1;
}

/* ring-crc: a frame's CRC (PROTOCOL.md 4: header bytes 4..24, then the payload) while the
 * payload is copied, in (the writer) or out (the reader, into its private buffer), the way the
 * library's fast path does it: short payloads by the inline loop ring.c uses (crc32c_hw.h),
 * inlined into send and receive compiled for the instruction (skel_send_crc_hw() below),
 * longer ones by crc32c.c's three streams. ring-zc: the same CRC of the bytes where they lie,
 * copied nowhere (dst NULL). Plain static inline, as crc32c_hw.h explains. */
enum skel_pass { SKEL_IN, SKEL_OUT, SKEL_IN_PLACE };

#if defined(SHMF_CRC_HW)
SHMF_HW static inline uint32_t skel_crc_short(uint64_t w0, uint64_t w1, uint64_t w2,
                                              unsigned char *dst, const unsigned char *src,
                                              size_t n, enum skel_pass how)
{
	shmf_crc_reg c = shmf_crc_hw_header(~(uint32_t)0, w0, w1, w2);
	if (how == SKEL_IN)
		return ~(uint32_t)shmf_crc_hw_short(c, dst, src, n, SHMF_PASS_COPY_IN);
	if (how == SKEL_OUT)
		return ~(uint32_t)shmf_crc_hw_short(c, dst, src, n, SHMF_PASS_COPY_OUT);
	return ~(uint32_t)shmf_crc_hw_short(c, NULL, src, n, SHMF_PASS_SHARED);
}
#endif

/* The header comes as its three little-endian words, in registers, as ring.c has it: a header
 * stored to the stack by one 16-byte store and checksummed from 4- and 8-byte loads of it (as the
 * reader did until 2026-11-27 16:15) may cost a store-forwarding stall a frame, as the writer's
 * struct copy did (ede8c5f). hw: the caller is compiled for the instruction and this CPU has it
 * (checked once, at setup). */
__attribute__((always_inline)) static inline uint32_t skel_crc(uint64_t w0, uint64_t w1,
                                                               uint64_t w2, unsigned char *dst,
                                                               const unsigned char *src, size_t n,
                                                               enum skel_pass how, int hw)
{
#if defined(SHMF_CRC_HW)
	if (hw && n < SHMF_CRC_INLINE_MAX)
		return skel_crc_short(w0, w1, w2, dst, src, n, how);
#else
	(void)hw;
#endif
	uint8_t raw[SKEL_HDR];
	memcpy(raw, &w0, 8);
	memcpy(raw + 8, &w1, 8);
	memcpy(raw + 16, &w2, 8);
	if (how == SKEL_IN)
		return shmf_crc32c_copy_in(0, raw, dst, src, n);
	return shmf_crc32c_copy_out(0, raw, how == SKEL_OUT ? dst : NULL, src, n);
}

/* PROTOCOL.md 8, S2-S3: a full fence (ring-nofence: only the compiler's), then the peer's
 * wait word, relaxed; one that is set is cleared and woken (only ring-block sets them). */
static inline void skel_wake_check(struct skel_ep *k, _Atomic uint32_t *wait)
{
	if (k->fence)
		atomic_thread_fence(memory_order_seq_cst);
	else
		atomic_signal_fence(memory_order_seq_cst);
	if (atomic_load_explicit(wait, memory_order_relaxed) != 0) {
		k->wakes++;
		atomic_store_explicit(wait, 0, memory_order_relaxed);
		(void)syscall(SYS_futex, wait, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
}

/* Nothing to do while *pos == seen: pause once (ring, ring-nofence, ring-crc: the caller loads
 * again), or, in ring-block, PROTOCOL.md 8 W1-W4 at once: flag, fence, look again, sleep; no
 * timeout (the parent's deadline kills a run that hangs). Returns the position last loaded
 * (acquire: pairs with the peer's release of it), or seen. */
static uint64_t skel_wait(const struct skel_ep *k, _Atomic uint64_t *pos, uint64_t seen,
                          _Atomic uint32_t *wait)
{
	if (!k->block) {
		relax();
		return seen;
	}
	atomic_store_explicit(wait, 1, memory_order_relaxed);           /* W1 */
	atomic_thread_fence(memory_order_seq_cst);                      /* W2 */
	uint64_t now = atomic_load_explicit(pos, memory_order_acquire); /* W3 */
	if (now == seen)
		(void)syscall(SYS_futex, wait, FUTEX_WAIT, 1, NULL, NULL, 0); /* W4 */
	atomic_store_explicit(wait, 0, memory_order_relaxed);
	return now != seen ? now : atomic_load_explicit(pos, memory_order_acquire);
}

/* ring-batch: the stream hold of shmf_set_batch() (src/channel.c, stream_hold), the same bounds:
 * poll wpos until k->batch bytes wait, or the writer has published nothing for 8 polls, or 200
 * polls have run. Returns the position last loaded (acquire: pairs with the writer's release). */
static uint64_t skel_hold(const struct skel_ep *k)
{
	uint64_t last = atomic_load_explicit(&k->rx->wpos, memory_order_acquire);
	unsigned idle = 0;

	for (unsigned i = 0; i < 200u && idle < 8u; i++) {
		relax();
		uint64_t w = atomic_load_explicit(&k->rx->wpos, memory_order_acquire);
		if (w - k->rpos >= k->batch)
			return w;
		if (w == last) {
			idle++;
		} else {
			last = w;
			idle = 0;
		}
	}
	return last;
}

/* The writer of PROTOCOL.md 5.2 without the CRC (ring-crc: with it): wait for room (rpos
 * reloaded, acquire, only when the cached one shows none), end the lap when the frame does not
 * fit (a pad marker where a header fits, else a plain skip: the reader's rule too), copy header
 * and payload in, publish wpos (release), then the wake check. ring-zc fills the payload where
 * it lies, as shm-zc's writer does between reserve and commit, and checksums it there. One body,
 * inlined into each variant: crc, zc and hw are constants there. */
__attribute__((always_inline)) static inline int skel_send_body(struct ep *e, uint64_t idx, int crc,
                                                                int zc, int hw)
{
	struct skel_ep *k = &e->sk;
	uint64_t cap = k->cap, size = skel_frame(e->size);
	uint64_t tail = cap - (k->wpos & (cap - 1));
	uint64_t need = size <= tail ? size : tail + size;

	if (!zc)
		fill(e->buf, e->size, idx);
	while (k->wpos + need - k->rcache > cap) {
		k->rcache = atomic_load_explicit(&k->tx->rpos, memory_order_acquire);
		if (k->wpos + need - k->rcache > cap)
			k->rcache = skel_wait(k, &k->tx->rpos, k->rcache, &k->tx->wwait);
	}
	if (size > tail) {
		if (tail >= SKEL_HDR) {
			struct skel_hdr pad = {0, SKEL_PAD, k->seq++, 0};
			memcpy(k->txd + (k->wpos & (cap - 1)), &pad, SKEL_HDR);
		}
		k->wpos += tail;
	}
	/* The header as three 8-byte words (crc | len << 32, seq, the rest left 0), as ring.c
	 * builds and stores it: gcc copied a struct with a 16-byte load over the smaller stores
	 * that built it (the CRC's among them), which the CPU cannot forward (a stall on every
	 * frame, fixed in ede8c5f; little-endian, as the bench's hosts). */
	uint64_t w[3] = {(uint64_t)(uint32_t)e->size << 32, k->seq++, 0};
	unsigned char *p = k->txd + (k->wpos & (cap - 1));
	if (zc) { /* ring-zc: the payload written in place, then its CRC taken there */
		fill_zc(p + SKEL_HDR, e->size, idx);
		w[0] |= skel_crc(w[0], w[1], w[2], NULL, p + SKEL_HDR, e->size, SKEL_IN_PLACE, hw);
	} else if (crc) /* ring-crc: header bytes 4..24, then the payload, copied on the way */
		w[0] |= skel_crc(w[0], w[1], w[2], p + SKEL_HDR, e->buf, e->size, SKEL_IN, hw);
	else
		memcpy(p + SKEL_HDR, e->buf, e->size);
	memcpy(p, &w[0], 8);
	memcpy(p + 8, &w[1], 8);
	memcpy(p + 16, &w[2], 8);
	k->wpos += size;
	atomic_store_explicit(&k->tx->wpos, k->wpos, memory_order_release);
	skel_wake_check(k, &k->tx->rwait);
	return 0;
}

/* The reader of PROTOCOL.md 5.4 without a check (ring-crc: R8 alone): wpos reloaded (acquire)
 * only when the cached one shows nothing, the end of a lap skipped as the writer did, the frame
 * copied out, the space handed back (rpos, release), then the wake check. The bench's check()
 * follows. ring-zc checksums the payload where it lies and runs the bench's check on it there
 * before it hands the space back, as shm-zc's peek, check and release do. */
__attribute__((always_inline)) static inline int skel_recv_body(struct ep *e, uint64_t *idx,
                                                                int crc, int zc, int hw)
{
	struct skel_ep *k = &e->sk;
	uint64_t cap = k->cap;
	uint64_t w0 = 0, w1 = 0, w2 = 0; /* the header's words, loaded one by one (skel_crc) */
	uint32_t len = 0;
	int waited = 0;

	for (;;) {
		while (k->rpos == k->wcache) {
			k->wcache = atomic_load_explicit(&k->rx->wpos, memory_order_acquire);
			if (k->rpos == k->wcache) {
				/* ring-batch: hold once, after a receive that did not wait, as
				 * shmf_set_batch() does; then wait as ring does */
				if (k->batch != 0 && k->hot) {
					k->hot = 0;
					k->wcache = skel_hold(k);
				} else {
					k->wcache = skel_wait(k, &k->rx->wpos, k->wcache,
					                      &k->rx->rwait);
				}
				waited = 1;
			}
		}
		uint64_t tail = cap - (k->rpos & (cap - 1));
		if (tail >= SKEL_HDR) {
			const unsigned char *f = k->rxd + (k->rpos & (cap - 1));
			memcpy(&w0, f, 8);
			memcpy(&w1, f + 8, 8);
			memcpy(&w2, f + 16, 8);
			len = (uint32_t)(w0 >> 32);
			if (len != SKEL_PAD)
				break;
		}
		k->rpos += tail;
	}
	if (len > e->size) /* the private buffer's bound, not a protocol check */
		return -1;
	const unsigned char *src = k->rxd + (k->rpos & (cap - 1)) + SKEL_HDR;
	int rc = 0;
	if (zc) { /* ring-zc: R8 on the bytes where they lie, the check there, then the release */
		if (skel_crc(w0, w1, w2, NULL, src, len, SKEL_IN_PLACE, hw) != (uint32_t)w0)
			return -1;
		rc = check(src, len, e->size, idx);
	} else if (!crc)
		memcpy(e->buf, src, len);
	else if (skel_crc(w0, w1, w2, e->buf, src, len, SKEL_OUT, hw) != (uint32_t)w0)
		return -1; /* ring-crc: the copy checked, as PROTOCOL.md 6.3 R8 */
	k->rpos += skel_frame(len);
	atomic_store_explicit(&k->rx->rpos, k->rpos, memory_order_release);
	skel_wake_check(k, &k->rx->wwait);
	k->hot = !waited;
	return zc ? rc : check(e->buf, len, e->size, idx);
}

#if defined(SHMF_CRC_HW)
SHMF_HW __attribute__((noinline)) static int skel_send_crc_hw(struct ep *e, uint64_t idx)
{
	return skel_send_body(e, idx, 1, 0, 1);
}

SHMF_HW __attribute__((noinline)) static int skel_recv_crc_hw(struct ep *e, uint64_t *idx)
{
	return skel_recv_body(e, idx, 1, 0, 1);
}

SHMF_HW __attribute__((noinline)) static int skel_send_zc_hw(struct ep *e, uint64_t idx)
{
	return skel_send_body(e, idx, 1, 1, 1);
}

SHMF_HW __attribute__((noinline)) static int skel_recv_zc_hw(struct ep *e, uint64_t *idx)
{
	return skel_recv_body(e, idx, 1, 1, 1);
}
#endif

static int skel_send(struct ep *e, uint64_t idx)
{
	if (!e->sk.crc)
		return skel_send_body(e, idx, 0, 0, 0);
#if defined(SHMF_CRC_HW)
	if (e->sk.hw)
		return e->sk.zc ? skel_send_zc_hw(e, idx) : skel_send_crc_hw(e, idx);
#endif
	return e->sk.zc ? skel_send_body(e, idx, 1, 1, 0) : skel_send_body(e, idx, 1, 0, 0);
}

static int skel_recv(struct ep *e, uint64_t *idx)
{
	if (!e->sk.crc)
		return skel_recv_body(e, idx, 0, 0, 0);
#if defined(SHMF_CRC_HW)
	if (e->sk.hw)
		return e->sk.zc ? skel_recv_zc_hw(e, idx) : skel_recv_crc_hw(e, idx);
#endif
	return e->sk.zc ? skel_recv_body(e, idx, 1, 1, 0) : skel_recv_body(e, idx, 1, 0, 0);
}

/* Send message idx. 0 or -1. */
static int ep_send(struct ep *e, uint64_t idx)
{
	int rc;

	switch (e->tr) {
	case TR_SHM:
	case TR_SHM_BUSY:
	case TR_SHM_BLOCK:
	case TR_SHM_BATCH:
		fill(e->buf, e->size, idx);
		while ((rc = shmf_send(e->ch, e->buf, e->size, shm_timeout(e))) == SHMF_EAGAIN)
			relax();
		return rc == 0 ? 0 : -1;
	case TR_SHM_ZC:
	case TR_SHM_ZC_BUSY: {
		void *p;
		while ((rc = shmf_reserve(e->ch, e->size, &p, shm_timeout(e))) == SHMF_EAGAIN)
			relax();
		if (rc != 0)
			return -1;
		fill_zc(p, e->size, idx);
		return shmf_commit(e->ch, e->size) == 0 ? 0 : -1;
	}
	case TR_PIPE: fill(e->buf, e->size, idx); return fd_xfer(e->wfd, e->buf, e->size, 1);
	case TR_CACHELINE: return word_send(e, e->line, idx, 0);
	case TR_FUTEX:
	case TR_FUTEX_SLICE: return word_send(e, e->word, idx, 1);
	case TR_RING:
	case TR_RING_NOFENCE:
	case TR_RING_CRC:
	case TR_RING_ZC:
	case TR_RING_BLOCK:
	case TR_RING_BATCH:
	case TR_RING_CRC_BATCH: return skel_send(e, idx);
	case TR_SEQPACKET:
		fill(e->buf, e->size, idx);
		for (;;) {
			ssize_t k = send(e->wfd, e->buf, e->size, 0);
			if (k < 0 && errno == EINTR)
				continue;
			return k == (ssize_t)e->size ? 0 : -1;
		}
	case TR_MQ:
		fill(e->buf, e->size, idx);
		while ((rc = mq_send(e->mq_out, (const char *)e->buf, e->size, 0)) != 0 &&
		       errno == EINTR)
			;
		return rc;
#ifdef SHMF_BENCH_BOOST
	case TR_BOOST_MQ:
		fill(e->buf, e->size, idx);
		return bench_bmq_send(e->bmq_out, e->buf, e->size);
#endif
	default: return -1;
	}
}

/* Receive one message and check it; *idx is its index. 0 or -1. */
static int ep_recv(struct ep *e, uint64_t *idx)
{
	size_t got = 0;
	int rc;

	switch (e->tr) {
	case TR_SHM:
	case TR_SHM_BUSY:
	case TR_SHM_BLOCK:
	case TR_SHM_BATCH:
		while ((rc = shmf_recv(e->ch, e->buf, e->size, &got, shm_timeout(e))) ==
		       SHMF_EAGAIN)
			relax();
		return rc == 0 ? check(e->buf, got, e->size, idx) : -1;
	case TR_SHM_ZC:
	case TR_SHM_ZC_BUSY: {
		const void *p;
		while ((rc = shmf_peek(e->ch, &p, &got, shm_timeout(e))) == SHMF_EAGAIN)
			relax();
		if (rc != 0 || check(p, got, e->size, idx) != 0)
			return -1;
		return shmf_release(e->ch) == 0 ? 0 : -1;
	}
	case TR_PIPE:
		if (fd_xfer(e->rfd, e->buf, e->size, 0) != 0)
			return -1;
		return check(e->buf, e->size, e->size, idx);
	case TR_SEQPACKET:
		for (;;) {
			ssize_t k = recv(e->rfd, e->buf, e->size, 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return -1;
			return check(e->buf, (size_t)k, e->size, idx);
		}
	case TR_MQ:
		for (;;) {
			ssize_t k = mq_receive(e->mq_in, (char *)e->buf, e->size, NULL);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return -1;
			return check(e->buf, (size_t)k, e->size, idx);
		}
#ifdef SHMF_BENCH_BOOST
	case TR_BOOST_MQ:
		if (bench_bmq_recv(e->bmq_in, e->buf, e->size, &got) != 0)
			return -1;
		return check(e->buf, got, e->size, idx);
#endif
	case TR_CACHELINE: return word_recv(e, e->line, idx, 0);
	case TR_FUTEX: return word_recv(e, e->word, idx, 1);
	case TR_FUTEX_SLICE: return word_recv(e, e->word, idx, 2);
	case TR_RING:
	case TR_RING_NOFENCE:
	case TR_RING_CRC:
	case TR_RING_ZC:
	case TR_RING_BLOCK:
	case TR_RING_BATCH:
	case TR_RING_CRC_BATCH: return skel_recv(e, idx);
	default: return -1;
	}
}

/* ---- set-up before the fork, and in each side after it -------------------------------------- */

static long read_proc_long(const char *path, long dflt)
{
	char b[64];
	long v = dflt;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return dflt;
	if (fgets(b, sizeof b, f) != NULL) {
		char *end;
		long x = strtol(b, &end, 10);
		if (end != b)
			v = x;
	}
	(void)fclose(f);
	return v;
}

/* How many messages a queue holds: the system's msg_max (at most 10), fewer when two queues of
 * that many would pass RLIMIT_MSGQUEUE (the kernel counts each message plus a pointer). */
static long mq_depth(size_t size)
{
	struct rlimit rl;
	long depth = read_proc_long("/proc/sys/fs/mqueue/msg_max", 10);

	if (depth > 10)
		depth = 10;
	if (getrlimit(RLIMIT_MSGQUEUE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		long fit = (long)(rl.rlim_cur / 2 / (size + 64));
		if (fit < depth)
			depth = fit;
	}
	return depth;
}

int bench_mq_usable(size_t size, char *note, size_t n)
{
	char name[64];
	struct mq_attr a;
	mqd_t q;

	memset(&a, 0, sizeof a);
	a.mq_maxmsg = mq_depth(size);
	a.mq_msgsize = (long)size;
	if (a.mq_maxmsg < 1) {
		(void)snprintf(note, n, "mq: RLIMIT_MSGQUEUE too small for two queues of %zu B",
		               size);
		return 0;
	}
	(void)snprintf(name, sizeof name, "/shmf-bench-probe-%ld", (long)getpid());
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	if (q == (mqd_t)-1) {
		(void)snprintf(note, n,
		               "mq: %zu B messages refused (%s; fs.mqueue.msgsize_max %ld, "
		               "msg_max %ld): skipped",
		               size, strerror(errno),
		               read_proc_long("/proc/sys/fs/mqueue/msgsize_max", -1),
		               read_proc_long("/proc/sys/fs/mqueue/msg_max", -1));
		return 0;
	}
	mq_close(q);
	mq_unlink(name);
	note[0] = '\0';
	return 1;
}

int bench_boost_built(char *note, size_t n)
{
#ifdef SHMF_BENCH_BOOST
	if (n > 0)
		note[0] = '\0';
	return 1;
#else
	(void)snprintf(note, n,
	               "boost-mq: not built into this shmframe (it needs libboost-dev "
	               "and a C++ compiler at build time)");
	return 0;
#endif
}

static int setup_before_fork(const struct bench_opts *o, enum bench_transport tr, size_t size,
                             struct setup *s, char *note, size_t n)
{
	static unsigned serial;
	long pid = (long)getpid();

	memset(s, 0, sizeof *s);
	s->pipe_ab[0] = s->pipe_ab[1] = s->pipe_ba[0] = s->pipe_ba[1] = -1;
	s->sp[0] = s->sp[1] = -1;
	s->mq[0] = s->mq[1] = (mqd_t)-1;
	serial++;
	(void)snprintf(s->shm_name, sizeof s->shm_name, "/shmf-bench-%ld-%u", pid, serial);
	switch (tr) {
	case TR_PIPE:
		if (pipe2(s->pipe_ab, O_CLOEXEC) != 0 || pipe2(s->pipe_ba, O_CLOEXEC) != 0) {
			(void)snprintf(note, n, "pipe: %s", strerror(errno));
			return -1;
		}
		return 0;
	case TR_SEQPACKET: {
		int sz = (int)(4 * size + 4096);
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->sp) != 0) {
			(void)snprintf(note, n, "socketpair: %s", strerror(errno));
			return -1;
		}
		/* Large messages need a send buffer that holds them; the default holds 64 KiB. */
		if (size > 65536)
			for (int i = 0; i < 2; i++)
				if (setsockopt(s->sp[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz) !=
				    0)
					(void)setsockopt(s->sp[i], SOL_SOCKET, SO_SNDBUFFORCE, &sz,
					                 sizeof sz);
		return 0;
	}
	case TR_MQ: {
		struct mq_attr a;
		memset(&a, 0, sizeof a);
		a.mq_maxmsg = mq_depth(size);
		a.mq_msgsize = (long)size;
		for (int i = 0; i < 2; i++) {
			(void)snprintf(s->mq_name[i], sizeof s->mq_name[i], "/shmf-bench-%ld-%u-%d",
			               pid, serial, i);
			s->mq[i] = mq_open(s->mq_name[i], O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC,
			                   0600, &a);
			if (s->mq[i] == (mqd_t)-1) {
				(void)snprintf(note, n, "mq_open: %s", strerror(errno));
				return -1;
			}
		}
		return 0;
	}
#ifdef SHMF_BENCH_BOOST
	case TR_BOOST_MQ:
		for (int i = 0; i < 2; i++) {
			char name[64];
			(void)snprintf(name, sizeof name, "shmf-bench-boost-%ld-%u-%d", pid, serial,
			               i);
			s->bmq[i] = bench_bmq_create(name, BENCH_BOOST_MQ_DEPTH, size, note, n);
			if (s->bmq[i] == NULL)
				return -1;
		}
		return 0;
#endif
	case TR_RING:
	case TR_RING_NOFENCE:
	case TR_RING_CRC:
	case TR_RING_ZC:
	case TR_RING_BLOCK:
	case TR_RING_BATCH:
	case TR_RING_CRC_BATCH:
		s->skel_len = SKEL_CTL_AREA + 2 * skel_cap(o);
		s->skel = mmap(NULL, s->skel_len, PROT_READ | PROT_WRITE,
		               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (s->skel == MAP_FAILED) {
			s->skel = NULL;
			(void)snprintf(note, n, "mmap: %s", strerror(errno));
			return -1;
		}
		return 0;
	default: return 0;
	}
}

static void setup_cleanup(struct setup *s)
{
	if (s->skel != NULL)
		munmap(s->skel, s->skel_len);
	for (int i = 0; i < 2; i++) {
		if (s->pipe_ab[i] >= 0)
			close(s->pipe_ab[i]);
		if (s->pipe_ba[i] >= 0)
			close(s->pipe_ba[i]);
		if (s->sp[i] >= 0)
			close(s->sp[i]);
		if (s->mq[i] != (mqd_t)-1) {
			mq_close(s->mq[i]);
			mq_unlink(s->mq_name[i]);
		}
#ifdef SHMF_BENCH_BOOST
		bench_bmq_destroy(s->bmq[i]);
#endif
	}
	shmf_unlink(s->shm_name);
}

static int side_init(const struct bench_opts *o, struct ep *e, struct setup *s, size_t size,
                     struct ctl *c, char *note, size_t n)
{
	e->size = size;
	e->buf = aligned_alloc(64, (size + 63) & ~(size_t)63);
	if (e->buf == NULL) {
		(void)snprintf(note, n, "out of memory");
		return -1;
	}
	memset(e->buf, 0xA5, size);
	e->line = &c->line;
	e->word = &c->word;
	e->busy = e->tr == TR_SHM_BUSY || e->tr == TR_SHM_ZC_BUSY;
	if (is_shm(e->tr)) {
		shmf_config cfg;
		int rc;
		shmf_config_init(&cfg);
		if (o->capacity != 0)
			cfg.capacity = o->capacity;
		if (size > cfg.max_message)
			cfg.max_message = size;
		if (e->side == 0)
			rc = shmf_create(s->shm_name, &cfg, &e->ch);
		else
			rc = shmf_attach(s->shm_name, SHMF_SIDE_B, 5000, &e->ch);
		if (rc != 0) {
			(void)snprintf(note, n, "%s: %s",
			               e->side == 0 ? "shmf_create" : "shmf_attach",
			               shmf_strerror(rc));
			return -1;
		}
		/* Both rings into this side's page tables before the first rep: otherwise the
		 * first lap takes a page fault per 4 KiB page, the polled p99.9
		 * (PERFORMANCE.md). A kernel that cannot (SHMF_ENOTSUP) runs without. */
		if ((rc = shmf_prefault(e->ch)) != 0 && rc != SHMF_ENOTSUP) {
			(void)snprintf(note, n, "shmf_prefault: %s", shmf_strerror(rc));
			return -1;
		}
		if (e->tr == TR_SHM_BLOCK)
			shmf_set_spin(e->ch, 0);
		if (e->tr == TR_SHM_BATCH)
			(void)shmf_set_batch(e->ch,
			                     cfg.capacity / 2 < 4096 ? cfg.capacity / 2 : 4096);
		return 0;
	}
	if (is_skel(e->tr)) {
		struct skel_ctl *ctl = s->skel;
		unsigned char *data = (unsigned char *)s->skel + SKEL_CTL_AREA;
		size_t cap = skel_cap(o);
		e->sk.cap = cap;
		e->sk.tx = &ctl[e->side];
		e->sk.rx = &ctl[1 - e->side];
		e->sk.txd = data + (size_t)e->side * cap;
		e->sk.rxd = data + (size_t)(1 - e->side) * cap;
		e->sk.fence = e->tr != TR_RING_NOFENCE;
		e->sk.crc =
		        e->tr == TR_RING_CRC || e->tr == TR_RING_ZC || e->tr == TR_RING_CRC_BATCH;
		e->sk.zc = e->tr == TR_RING_ZC;
		e->sk.hw = shmf_crc32c_hw_available();
		e->sk.block = e->tr == TR_RING_BLOCK;
		/* as the bench's shm-batch asks shmf_set_batch() for */
		e->sk.batch = e->tr == TR_RING_BATCH || e->tr == TR_RING_CRC_BATCH
		                      ? (cap / 2 < 4096 ? cap / 2 : 4096)
		                      : 0;
		/* Both rings into this side's page tables now (MADV_POPULATE_WRITE on the whole
		 * area; shmf_prefault() uses _READ on the rings, to the same effect on tmpfs):
		 * otherwise the first lap takes a page fault per 4 KiB page, which was the
		 * skeleton's polled p99.9 (10-12 us at 4 MiB, 2026-11-27 10:52). */
		(void)madvise(s->skel, s->skel_len, MADV_POPULATE_WRITE);
		return 0;
	}
	switch (e->tr) {
	case TR_PIPE:
		e->wfd = e->side == 0 ? s->pipe_ab[1] : s->pipe_ba[1];
		e->rfd = e->side == 0 ? s->pipe_ba[0] : s->pipe_ab[0];
		break;
	case TR_SEQPACKET: e->wfd = e->rfd = s->sp[e->side]; break;
	case TR_MQ:
		e->mq_out = s->mq[e->side];
		e->mq_in = s->mq[1 - e->side];
		break;
	case TR_BOOST_MQ:
		e->bmq_out = s->bmq[e->side];
		e->bmq_in = s->bmq[1 - e->side];
		break;
	default: break;
	}
	return 0;
}

/* Both sides ready, or give up after 10 s (the other side failed its set-up). */
static int barrier(struct ctl *c)
{
	uint64_t t0 = mono_ns();

	atomic_fetch_add(&c->ready, 1);
	while (atomic_load(&c->ready) < 2) {
		if (mono_ns() - t0 > 10000000000ull)
			return -1;
		sched_yield();
	}
	return 0;
}

/* ---- the loops ----------------------------------------------------------------------------- */

static uint64_t run_count(const struct bench_opts *o, enum bench_mode mode)
{
	if (o->messages != 0)
		return o->messages;
	if (mode == MODE_PACED)
		return (uint64_t)(o->rate * o->duration_s);
	return UINT64_MAX; /* until the duration ends */
}

static int loop_throughput_a(const struct bench_opts *o, struct ep *e, struct ctl *c)
{
	uint64_t n = run_count(o, MODE_THROUGHPUT);
	uint64_t t0 = bench_now_ns();
	uint64_t end = t0 + (uint64_t)(o->duration_s * 1e9);
	uint64_t i;

	atomic_store(&c->t0, t0);
	for (i = 0; i < n; i++) {
		if ((i & 63u) == 0 && o->messages == 0 && bench_now_ns() >= end)
			break;
		if (ep_send(e, i) != 0)
			return -1;
	}
	return ep_send(e, BENCH_END);
}

static int loop_throughput_b(struct ep *e, struct ctl *c)
{
	uint64_t idx, expect = 0;

	for (;;) {
		if (ep_recv(e, &idx) != 0)
			return -1;
		if (idx == BENCH_END)
			break;
		if (idx != expect)
			return -2;
		expect++;
	}
	c->t1 = bench_now_ns();
	c->count = expect;
	return 0;
}

static int loop_pingpong_a(const struct bench_opts *o, struct ep *e, struct ctl *c,
                           uint64_t *samples)
{
	uint64_t n = run_count(o, MODE_PINGPONG);
	uint64_t start = bench_now_ns();
	uint64_t end = start + (uint64_t)(o->duration_s * 1e9);
	uint64_t i, idx, k = 0;

	if (n != UINT64_MAX)
		n += o->warmup;
	for (i = 0; i < n; i++) {
		uint64_t t = bench_now_ns();
		if (o->messages == 0 && t >= end)
			break;
		if (ep_send(e, i) != 0 || ep_recv(e, &idx) != 0)
			return -1;
		if (idx != i)
			return -2;
		uint64_t rtt = bench_now_ns() - t;
		if (i >= o->warmup && k < BENCH_MAX_SAMPLES)
			samples[k++] = rtt;
	}
	c->t1 = bench_now_ns();
	atomic_store(&c->t0, start);
	c->count = k;
	c->nsamples = k;
	return ep_send(e, BENCH_END);
}

static int loop_pingpong_b(struct ep *e)
{
	uint64_t idx, expect = 0;

	for (;;) {
		if (ep_recv(e, &idx) != 0)
			return -1;
		if (idx == BENCH_END)
			return 0;
		if (idx != expect)
			return -2;
		expect++;
		if (ep_send(e, idx) != 0)
			return -1;
	}
}

static int loop_paced_a(const struct bench_opts *o, struct ep *e, struct ctl *c)
{
	uint64_t n = run_count(o, MODE_PACED);
	double period = 1e9 / o->rate;
	uint64_t t0 = bench_now_ns() + 1000000;

	atomic_store(&c->t0, t0);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t due = t0 + (uint64_t)((double)i * period);
		while (bench_now_ns() < due)
			relax();
		if (ep_send(e, i) != 0)
			return -1;
	}
	return ep_send(e, BENCH_END);
}

static int loop_paced_b(const struct bench_opts *o, struct ep *e, struct ctl *c, uint64_t *samples)
{
	double period = 1e9 / o->rate;
	uint64_t idx, expect = 0, k = 0;

	for (;;) {
		if (ep_recv(e, &idx) != 0)
			return -1;
		uint64_t now = bench_now_ns();
		if (idx == BENCH_END)
			break;
		if (idx != expect)
			return -2;
		expect++;
		uint64_t due = atomic_load(&c->t0) + (uint64_t)((double)idx * period);
		if (idx >= o->warmup && k < BENCH_MAX_SAMPLES)
			samples[k++] = now > due ? now - due : 0;
	}
	c->t1 = bench_now_ns();
	c->count = expect;
	c->nsamples = k;
	return 0;
}

static int side_main(const struct bench_opts *o, enum bench_mode mode, enum bench_transport tr,
                     size_t size, int side, int cpu, struct setup *s, struct ctl *c,
                     uint64_t *samples)
{
	struct ep e;
	int rc;

	memset(&e, 0, sizeof e);
	e.tr = tr;
	e.side = side;
	pin(cpu);
	if (side_init(o, &e, s, size, c, c->note[side], sizeof c->note[side]) != 0) {
		c->failed[side] = 1;
		return 1;
	}
	if (barrier(c) != 0) {
		(void)snprintf(c->note[side], sizeof c->note[side], "the other side never came");
		c->failed[side] = 1;
		return 1;
	}
	if (mode == MODE_THROUGHPUT)
		rc = side == 0 ? loop_throughput_a(o, &e, c) : loop_throughput_b(&e, c);
	else if (mode == MODE_PINGPONG)
		rc = side == 0 ? loop_pingpong_a(o, &e, c, samples) : loop_pingpong_b(&e);
	else
		rc = side == 0 ? loop_paced_a(o, &e, c) : loop_paced_b(o, &e, c, samples);
	if (rc != 0) {
		(void)snprintf(c->note[side], sizeof c->note[side], "%s: %s",
		               side == 0 ? "side A" : "side B",
		               rc == -2 ? "a message out of sequence" : "a send or receive failed");
		c->failed[side] = 1;
	}
	if (e.ch != NULL)
		shmf_close(e.ch);
	free(e.buf);
	return rc != 0;
}

/* ---- ceilings: one process ----------------------------------------------------------------- */

#if defined(__x86_64__)
/* n rounds of 12 crc32q, 2 on each of 6 independent registers: the instruction's peak, no
 * memory. */
static uint64_t crc_peak_rounds(uint64_t n, uint64_t c0)
{
	uint64_t c1 = 1, c2 = 2, c3 = 3, c4 = 4, c5 = 5;
	const uint64_t v = BENCH_TAIL_KEY;

	for (uint64_t i = 0; i < n; i++)
		__asm__ volatile("crc32q %6, %0\n\tcrc32q %6, %1\n\tcrc32q %6, %2\n\t"
		                 "crc32q %6, %3\n\tcrc32q %6, %4\n\tcrc32q %6, %5\n\t"
		                 "crc32q %6, %0\n\tcrc32q %6, %1\n\tcrc32q %6, %2\n\t"
		                 "crc32q %6, %3\n\tcrc32q %6, %4\n\tcrc32q %6, %5"
		                 : "+r"(c0), "+r"(c1), "+r"(c2), "+r"(c3), "+r"(c4), "+r"(c5)
		                 : "r"(v));
	return c0 ^ c1 ^ c2 ^ c3 ^ c4 ^ c5;
}
#endif

/* crc32-peak: crc32q's bytes per second (8 per instruction), given as messages of `size` bytes
 * per second so that it lines up with memcpy and crc32c; the figure does not depend on size. */
static void run_crc_peak(const struct bench_opts *o, size_t size, struct bench_result *res)
{
#if defined(__x86_64__)
	const uint64_t rounds = 1u << 14; /* between two clock readings */
	volatile uint64_t sink = 0;
	uint64_t bytes = 0, t0, t1, end;

	if (!__builtin_cpu_supports("sse4.2")) {
		res->status = 1;
		(void)snprintf(res->note, sizeof res->note, "crc32-peak: no SSE4.2 on this CPU");
		return;
	}
	t0 = bench_now_ns();
	end = t0 + (uint64_t)(o->duration_s * 1e9);
	do {
		sink = crc_peak_rounds(rounds, sink);
		bytes += rounds * 12 * 8;
		t1 = bench_now_ns();
	} while (o->messages != 0 ? bytes < o->messages * size : t1 < end);
	res->msgs = bytes / size;
	res->seconds = (double)(t1 - t0) / 1e9;
	res->mb_s = (double)bytes / res->seconds / 1e6;
	res->msg_s = res->mb_s * 1e6 / (double)size;
#else
	(void)o;
	(void)size;
	res->status = 1;
	(void)snprintf(res->note, sizeof res->note, "crc32-peak: x86-64 only");
#endif
}

static void run_ceiling(const struct bench_opts *o, enum bench_transport tr, size_t size,
                        struct bench_result *res)
{
	unsigned char *a = aligned_alloc(64, (size + 63) & ~(size_t)63);
	unsigned char *b = aligned_alloc(64, (size + 63) & ~(size_t)63);
	volatile uint32_t sink = 0;
	uint64_t n = 0, t0, t1, end;
	int cpu_a, cpu_b;

	if (a == NULL || b == NULL) {
		res->status = 2;
		(void)snprintf(res->note, sizeof res->note, "out of memory");
		goto out;
	}
	bench_cpus(&cpu_a, &cpu_b);
	memset(a, 0x5A, size);
	memset(b, 0, size);
	t0 = bench_now_ns();
	end = t0 + (uint64_t)(o->duration_s * 1e9);
	for (;;) {
		for (int k = 0; k < 16; k++) {
			if (tr == TR_MEMCPY) {
				memcpy(b, a, size);
				__asm__ __volatile__("" : : "r"(b) : "memory");
			} else {
				sink = shmf_crc32c(sink, a, size);
			}
		}
		n += 16;
		t1 = bench_now_ns();
		if (o->messages != 0 ? n >= o->messages : t1 >= end)
			break;
	}
	res->msgs = n;
	res->seconds = (double)(t1 - t0) / 1e9;
	res->msg_s = (double)n / res->seconds;
	res->mb_s = res->msg_s * (double)size / 1e6;
out:
	free(a);
	free(b);
}

/* ---- one case ------------------------------------------------------------------------------ */

static void wait_sides(pid_t pid[2], double limit_s, int *killed)
{
	uint64_t deadline = mono_ns() + (uint64_t)(limit_s * 1e9);
	int left = 2;

	*killed = 0;
	while (left > 0) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p == pid[0] || p == pid[1]) {
			left--;
			continue;
		}
		if (p < 0 && errno != EINTR)
			break;
		if (mono_ns() > deadline && !*killed) {
			for (int i = 0; i < 2; i++)
				if (pid[i] > 0)
					kill(pid[i], SIGKILL);
			*killed = 1;
		}
		struct timespec d = {0, 2000000};
		nanosleep(&d, NULL);
	}
}

void bench_run_case(const struct bench_opts *o, enum bench_mode mode, enum bench_transport tr,
                    size_t size, uint64_t *samples, struct bench_result *res)
{
	struct setup s;
	struct ctl *c;
	pid_t pid[2] = {-1, -1};
	int cpu[2], killed;

	memset(res, 0, sizeof *res);
	res->mode = mode;
	res->tr = tr;
	res->size = size;
	if (mode == MODE_CEILING) {
		if (tr == TR_CRC32_PEAK)
			run_crc_peak(o, size, res);
		else
			run_ceiling(o, tr, size, res);
		return;
	}
	if (is_skel(tr) && !skel_fits(o, size, res->note, sizeof res->note)) {
		res->status = 1;
		return;
	}
	if (tr == TR_MQ && !bench_mq_usable(size, res->note, sizeof res->note)) {
		res->status = 1;
		return;
	}
	if (tr == TR_BOOST_MQ && !bench_boost_built(res->note, sizeof res->note)) {
		res->status = 1;
		return;
	}
	c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED) {
		res->status = 2;
		(void)snprintf(res->note, sizeof res->note, "mmap: %s", strerror(errno));
		return;
	}
	memset(c, 0, sizeof *c);
	if (setup_before_fork(o, tr, size, &s, res->note, sizeof res->note) != 0) {
		res->status = 2;
		goto out;
	}
	bench_cpus(&cpu[0], &cpu[1]);
	(void)fflush(NULL);
	for (int side = 0; side < 2; side++) {
		pid[side] = fork();
		if (pid[side] == 0)
			_exit(side_main(o, mode, tr, size, side, cpu[side], &s, c, samples));
		if (pid[side] < 0) {
			(void)snprintf(res->note, sizeof res->note, "fork: %s", strerror(errno));
			res->status = 2;
			if (side == 1 && pid[0] > 0)
				kill(pid[0], SIGKILL);
		}
	}
	{
		double limit = 30.0 + 20.0 * o->duration_s;
		if (o->messages != 0)
			limit = 120.0;
		wait_sides(pid, limit, &killed);
	}
	if (res->status != 0)
		goto out;
	if (killed) {
		res->status = 2;
		(void)snprintf(res->note, sizeof res->note, "did not finish in time: killed");
	} else if (c->failed[0] || c->failed[1]) {
		res->status = 2;
		(void)snprintf(res->note, sizeof res->note, "%s",
		               c->failed[0] ? c->note[0] : c->note[1]);
	} else if (mode == MODE_THROUGHPUT) {
		uint64_t t0 = atomic_load(&c->t0);
		res->msgs = c->count;
		res->seconds = (double)(c->t1 - t0) / 1e9;
		res->msg_s = res->seconds > 0 ? (double)c->count / res->seconds : 0;
		res->mb_s = res->msg_s * (double)size / 1e6;
	} else {
		res->msgs = c->count;
		res->seconds = (double)(c->t1 - atomic_load(&c->t0)) / 1e9;
		bench_lat_stats(samples, (size_t)c->nsamples, res);
		if (c->nsamples == 0) {
			res->status = 1;
			(void)snprintf(res->note, sizeof res->note,
			               "no samples: the run was too short");
		}
		if (mode == MODE_PINGPONG && res->seconds > 0)
			res->msg_s = (double)c->count / res->seconds;
	}
out:
	setup_cleanup(&s);
	munmap(c, sizeof *c);
}
