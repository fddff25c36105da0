/* bench.h - `shmframe bench` (issue #8): the interfaces between bench.c (options, the run order,
 * the machine), bench_run.c (the transports and the timed loops, in two forked processes) and
 * bench_report.c (statistics, the table, CSV, JSON and the plot data).
 *
 * Every run moves messages of one size between two processes pinned to two CPUs, and the
 * receiving side checks every message: its index in the first 8 bytes and a pattern in its last
 * 8 bytes, so a run that lost, repeated, reordered or mangled a message fails instead of
 * counting. Message sizes start at 8 bytes for that reason.
 */
#ifndef SHMF_BENCH_H
#define SHMF_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_MAX_SIZES      16
#define BENCH_MAX_SIZE       ((size_t)1 << 20)
#define BENCH_MIN_SIZE       8
#define BENCH_END            UINT64_MAX /* the index of the message that ends a run */
#define BENCH_TAIL_KEY       0x9E3779B97F4A7C15ull
#define BENCH_MAX_SAMPLES    ((size_t)1 << 21)
#define BENCH_WARMUP_SAMPLES 200u

enum bench_mode {
	MODE_THROUGHPUT = 0, /* one-way, saturated: messages per second */
	MODE_PINGPONG,       /* round trip, one message each way at a time: latency */
	MODE_PACED,          /* one-way at a fixed rate: latency from the scheduled send time */
	MODE_CEILING,        /* one process: memcpy and CRC-32C speed, no peer */
	MODE_COUNT
};

/* The transports. A "shm-*" transport is a shmframe channel with one wait strategy. */
enum bench_transport {
	TR_SHM = 0,   /* shmf_send/shmf_recv, library default wait (spin, then futex) */
	TR_SHM_BUSY,  /* the same, polling with timeout 0 */
	TR_SHM_BLOCK, /* the same, spin 0: straight to the futex */
	TR_SHM_BATCH, /* the default wait with shmf_set_batch(4 KiB) on the receiver */
	TR_SHM_ZC,    /* shmf_reserve/shmf_commit, shmf_peek/shmf_release, default wait */
	TR_SHM_ZC_BUSY,
	TR_PIPE,           /* two pipes */
	TR_SEQPACKET,      /* AF_UNIX SOCK_SEQPACKET socketpair */
	TR_MQ,             /* two POSIX message queues */
	TR_BOOST_MQ,       /* two Boost.Interprocess message_queues (where built in) */
	TR_CACHELINE,      /* one cache line bounced between the processes: the latency floor */
	TR_FUTEX,          /* one shared futex word: the floor of a wait that sleeps (ping-pong) */
	TR_FUTEX_SLICE,    /* the same, each sleep bounded by PROTOCOL.md 7's slice (100 ms) */
	TR_RING,           /* the protocol's ring as a bare skeleton: no CRC, no checks */
	TR_RING_NOFENCE,   /* the same without the wake check's fence: what that fence costs */
	TR_RING_CRC,       /* the skeleton plus each frame's CRC-32C, computed and checked: the
	                    * protocol's per-byte work and nothing more */
	TR_RING_ZC,        /* the same with no copies: the CRC made and checked where the frame
	                    * lies, as the zero-copy path does */
	TR_RING_BLOCK,     /* the skeleton sleeping at once on its wait words (PROTOCOL.md 8) */
	TR_RING_BATCH,     /* the skeleton whose reader holds for a batch as shmf_set_batch(4 KiB)
	                    * does: what the protocol allows shm-batch, no CRC, no checks */
	TR_RING_CRC_BATCH, /* the same plus each frame's CRC, as ring-crc: meant as shm-batch's
	                    * floor with the per-byte work (at 64 B it has run below shm-batch) */
	TR_MEMCPY,         /* ceiling: memcpy in one process */
	TR_CRC32C,         /* ceiling: the library's CRC-32C in one process */
	TR_CRC32_PEAK,     /* ceiling: the crc32q instruction alone, 6 streams (x86-64 only) */
	TR_COUNT
};

struct bench_opts {
	unsigned reps;
	double duration_s; /* per run, when messages == 0 */
	uint64_t messages; /* per run; 0: use duration */
	size_t sizes[BENCH_MAX_SIZES];
	unsigned nsizes;
	size_t capacity;     /* the shmframe ring capacity (0: library default) */
	double rate;         /* paced mode: messages per second */
	unsigned modes;      /* bit set of 1u << enum bench_mode */
	uint64_t transports; /* bit set of 1u << enum bench_transport */
	int transports_set;  /* --transports given; else all, less what is not built in */
	unsigned warmup;     /* latency samples dropped at the start of a run */
	int quick;
	int quiet;
	const char *csv, *json, *out_dir, *plot_dir;
};

/* One repetition of one case. */
struct bench_result {
	unsigned rep;
	enum bench_mode mode;
	enum bench_transport tr;
	size_t size;
	int status; /* 0 ok, 1 skipped, 2 failed */
	char note[160];
	uint64_t msgs;  /* messages (or round trips) counted */
	double seconds; /* timed part */
	double msg_s;   /* throughput: messages per second */
	double mb_s;    /* throughput: payload MB/s (10^6 bytes) */
	double lat[6];  /* latency ns: min, p50, p99, p99.9, max, mean */
	uint64_t nlat;  /* samples behind lat */
};

enum { LAT_MIN = 0, LAT_P50, LAT_P99, LAT_P999, LAT_MAX, LAT_MEAN };

struct bench_meta {
	char git_sha[96];
	char compiler[96];
	char cpu[128];
	char kernel[160];
	char date[32];
	char load[64];
	char pinning[64];
	char mq_note[160];
	char boost_note[128]; /* boost-mq not built into this binary, where the run wanted it */
	int optimized;
	long ncpu;
};

const char *bench_mode_name(enum bench_mode m);
const char *bench_tr_name(enum bench_transport t);

/* ---- bench_run.c --------------------------------------------------------------------------- */
/* The clock the timed loops use, in ns: the TSC where it is invariant, else CLOCK_MONOTONIC. */
void bench_clock_init(void);
uint64_t bench_now_ns(void);
/* CPUs to pin the two sides to; -1 when there are fewer than two. */
void bench_cpus(int *cpu_a, int *cpu_b);
/* Run one case: fork the two sides (or, for MODE_CEILING, measure in this process), wait for
 * them, fill *res. samples: scratch room for BENCH_MAX_SAMPLES latencies (shared memory). */
void bench_run_case(const struct bench_opts *o, enum bench_mode mode, enum bench_transport tr,
                    size_t size, uint64_t *samples, struct bench_result *res);
/* Whether POSIX mq can carry messages of `size` bytes here; a note when not. */
int bench_mq_usable(size_t size, char *note, size_t n);
/* Whether this binary has the boost-mq transport (boost_mq.cpp); a note when not. */
int bench_boost_built(char *note, size_t n);

/* ---- boost_mq.cpp: the boost-mq transport, compiled only where CMake found Boost.Interprocess
 * (boost/interprocess/ipc/message_queue.hpp) and a C++ compiler, which then defines
 * SHMF_BENCH_BOOST for the bench's C files. Like mq: two queues, one a direction, created before
 * the fork and used by both sides through the inherited mapping. No exception gets out: every
 * call catches them all and answers with its return value. */
#define BENCH_BOOST_MQ_DEPTH 10 /* messages a queue holds: mq's depth where msg_max is 10 */

struct bench_bmq;
#ifdef __cplusplus
extern "C" {
#endif
/* Create the queue `name` (one left under that name by a dead run is removed first) for `depth`
 * messages of up to `size` bytes; NULL with a note when it cannot be. */
struct bench_bmq *bench_bmq_create(const char *name, size_t depth, size_t size, char *note,
                                   size_t n);
/* Send len bytes; receive one message into p (cap bytes, at least the queue's size): 0 or -1. */
int bench_bmq_send(struct bench_bmq *q, const void *p, size_t len);
int bench_bmq_recv(struct bench_bmq *q, void *p, size_t cap, size_t *got);
/* Unmap the queue and remove its name; NULL does nothing. */
void bench_bmq_destroy(struct bench_bmq *q);
#ifdef __cplusplus
}
#endif

/* ---- bench_report.c ------------------------------------------------------------------------ */
/* Latency statistics of n samples (sorted in place) into res->lat. */
void bench_lat_stats(uint64_t *s, size_t n, struct bench_result *res);
/* Keep the latency distribution of a 64-byte ping-pong for the plot (quantiles of the samples). */
void bench_keep_cdf(enum bench_transport tr, const uint64_t *sorted, size_t n);
void bench_print_table(FILE *f, const struct bench_opts *o, const struct bench_meta *m,
                       const struct bench_result *r, size_t n);
int bench_write_csv(const char *path, const struct bench_meta *m, const struct bench_result *r,
                    size_t n);
int bench_write_json(const char *path, const struct bench_opts *o, const struct bench_meta *m,
                     const struct bench_result *r, size_t n);
/* Plot data (*.dat) into dir, then gnuplot with bench/plot.gp; 0, or -1 with a note on stderr.
 */
int bench_plot(const char *dir, const struct bench_result *r, size_t n);

#endif
