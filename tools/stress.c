/* stress.c - `shmframe stress` (issue #6): a seeded duplex stress run over the public API, with
 * faults injected, that checks every message is delivered exactly once, in order and intact.
 *
 * Processes. The supervisor (this process) creates a fresh channel and closes it, then forks a
 * side A process and a side B process that attach to its roles (PROTO 7), and in the scribble and
 * truncate modes a third process that damages the segment. Each side runs a sender thread and a
 * receiver thread: the contract allows one thread per direction (shmframe.h rule 5), both
 * directions then carry traffic at once and each blocks on its own (futex sleeps, PROTO 8), and
 * no schedule can deadlock the way one thread alternating blocking calls can (both sides blocked
 * in send on full rings). "Writer" and "reader" therefore name threads, not processes: a kill
 * always takes a whole side (both of its roles' directions, as kill -9 does); --kill-writer picks
 * a moment when the victim's sender thread is inside shmf_send(), --kill-reader one when its
 * receiver thread is inside shmf_recv(). The supervisor then waits for the survivor to report
 * SHMF_EPEERGONE (the bound of PROTO 7) and starts a replacement that takes the role over.
 *
 * Ledger. What the processes share besides the channel lives in one MAP_SHARED|MAP_ANONYMOUS
 * mapping made before the first fork (struct ledger): the exactly-once records, the counters, the
 * supervisor's announcements (kills, stalls, stop) and the text of the first failure. It outlives
 * every side, so a replacement learns from it where its dead predecessor stood.
 *
 * Exactly once. For each direction the sender keeps a record {next, tx}: the index of the next
 * message to send and shmf_positions()'s tx before it; the receiver keeps {next, rx}. A record is
 * written to the spare one of two slots and then selected with one atomic store, so that a SIGKILL
 * never leaves half of one. A replacement knows that its predecessor's send of message `next` was
 * committed exactly when its own tx >= record.tx + shmf_frame_bytes(len(next)) (shmframe.h): it
 * then moves on to next + 1, else it sends `next` again. The receiver's side is the mirror image:
 * a message the dead receiver consumed but never recorded was delivered to it. No slack: the
 * receiver must then see exactly the next index.
 *
 * Messages. Message k of direction d has a length and bytes that are a function of (seed, d, k);
 * from 16 bytes on it starts with k and its send time (CLOCK_MONOTONIC ns, for the latency). The
 * receiver checks the length, the index (exactly the next one) and every byte.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(SHMF_KILL_POINTS) && SHMF_KILL_POINTS
#define HAVE_KP 1
#else
#define HAVE_KP 0
#endif

#define CMD        "stress"
#define MS         1000000LL /* ns */
#define HDR        16u       /* index + send time, in messages of at least 16 bytes */
#define NBUCKET    496       /* latency histogram: 8 buckets per power of two of ns */
#define NERR       64        /* error tallies, by -code */
#define SEND_TO_MS 1000      /* a sender's default timeout: it must see "stop" now and then */
#define RECV_TO_MS 200       /* a receiver's: it must see the sender's "done" */

/* The kill points of src/internal.h, by name (only the kill-point build has them). */
static const char *const kp_names[] = {"after-reserve", "mid-copy", "before-publish",
                                       "seq-published", "pad",      "consume"};
#define NKP ((int)(sizeof kp_names / sizeof kp_names[0]))

enum { SZ_FIXED, SZ_RANGE, SZ_MIX };
/* --scribble-target: where the scribbler writes */
enum {
	SCRIBBLE_ALL,
	SCRIBBLE_HEADER,
	SCRIBBLE_ROLES,
	SCRIBBLE_CONTROL,
	SCRIBBLE_POSITIONS,
	SCRIBBLE_FRAMES
};
static const char *const target_names[] = {"all",     "header",    "roles",
                                           "control", "positions", "frames"};

struct st_cfg {
	double duration_s;           /* 0: none */
	uint64_t messages;           /* per direction and episode; 0: none */
	uint64_t cycles;             /* kill-restart cycles in all; 0: not the cycles mode */
	uint64_t cycles_per_channel; /* a fresh channel after that many cycles */
	int sz_kind;
	uint64_t sz_lo, sz_hi;
	uint64_t capacity, max_message;
	uint64_t seed;
	int jitter, json;
	double kill_writer, kill_reader; /* kills a second */
	int kp;                          /* 1 + index in kp_names, 0: none */
	uint64_t kp_every;               /* a kill-point victim dies at hit 1 .. 2 * kp_every */
	double scribble;                 /* writes a second */
	int target;                      /* SCRIBBLE_ALL or one region */
	int concurrent;                  /* both sides attach at once (--sequential-start: 0) */
	int truncate;
	int stall;
	uint64_t stall_ms;
	uint64_t gone_bound_ms;
	double cpu_max; /* a fraction of the stall's wall time */
	uint64_t episode_ms;
	uint64_t hang_ms;
};

/* ---- the ledger (shared by every process of the run) ----------------------------------------- */

struct rec {
	_Atomic uint64_t next, pos;
};
struct recpair {
	struct rec slot[2];
	atomic_uint sel;
};

struct dir_ep { /* one direction (d: sent by side d), one episode */
	struct recpair srec, rrec;
	atomic_int in_send, in_recv;
	atomic_int sender_done;
	_Atomic uint64_t sent_final;
};

struct side_ep {
	atomic_int ready;            /* the spawn number of the process that attached */
	_Atomic uint64_t gone_epoch; /* the latest kill this side saw as SHMF_EPEERGONE */
	/* The supervisor's word on this side's deaths: `down` from the announcement of a death
	 * (dead_epoch, dead_ns) until the replacement has attached (ready_ns, set by it). Only
	 * then may the peer be told SHMF_EPEERGONE. */
	atomic_int down;
	atomic_int dead_kp; /* the death was at a kill point: dead_ns is when it was reaped */
	_Atomic uint64_t dead_epoch;
	_Atomic int64_t dead_ns, ready_ns;
};

struct episode {
	atomic_int stop; /* the supervisor: finish, drain, close */
	atomic_int end;  /* anyone: stop now (a failure, or the named error of a damage episode) */
	atomic_int end_code;
	atomic_int faulted;          /* the damager has written (or truncated): damage may show */
	_Atomic uint64_t trunc_to;   /* the size the damager truncated the file to, + 1; 0 none */
	_Atomic uint64_t kill_epoch; /* one more for each side death the supervisor announces */
	_Atomic int64_t kill_ns;     /* when it happened (or was seen, for a kill point) */
	atomic_int stall_side;       /* the side whose receiver stalls, -1 none */
	_Atomic uint64_t stall_seq;
	_Atomic int64_t stall_start, stall_end;
	struct dir_ep d[2];
	struct side_ep s[2];
};

struct dir_tot {
	_Atomic uint64_t sent, delivered, bytes, dead_committed, dead_consumed;
	_Atomic uint64_t lat_n, lat_max;
	_Atomic uint64_t hist[NBUCKET];
};

struct ledger {
	atomic_int failed; /* 0, 1 writing the text, 2 text complete */
	char fail_msg[768];
	_Atomic uint64_t errs[NERR];
	_Atomic uint64_t gone_n, gone_max_ns;
	_Atomic uint64_t overruns, overrun_max_ns, excused, excused_cpu, lag_max_ns;
	_Atomic uint64_t scribbles, truncations;
	_Atomic uint64_t stalls_measured, stalls_unblocked, stall_cpu_max_ppm;
	_Atomic uint64_t progress;    /* messages delivered both ways: the watchdog's pulse */
	_Atomic int64_t reap_pass_ns; /* when the supervisor's last finished reap() began */
	int64_t t0_ns;                /* the run's start: the origin of the send times */
	struct dir_tot t[2];
	struct episode ep;
};

/* ---- small helpers --------------------------------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts;

	if (ns <= 0)
		return;
	ts.tv_sec = (time_t)(ns / 1000000000LL);
	ts.tv_nsec = (long)(ns % 1000000000LL);
	nanosleep(&ts, NULL);
}

static uint64_t mix64(uint64_t z)
{
	z += 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* xorshift64*: the jitter's and the scribbler's randomness (not the payload's). */
static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x != 0 ? x : 0x2545F4914F6CDD1Dull;
	return x * 0x2545F4914F6CDD1Dull;
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return n == 0 ? 0 : rnd(s) % n;
}

/* A pause of mean 1/rate seconds, uniform in [0, 2/rate]. */
static int64_t rnd_interval(uint64_t *s, double rate)
{
	double u = (double)(rnd(s) >> 11) / 9007199254740992.0;
	return (int64_t)(2.0 * u / rate * 1e9);
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void atomic_max(_Atomic uint64_t *a, uint64_t v)
{
	uint64_t cur = atomic_load(a);

	while (v > cur && !atomic_compare_exchange_weak(a, &cur, v))
		;
}

static struct ledger *L; /* the shared ledger; set once before the first fork */
static const struct st_cfg *C;

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
	int zero = 0;

	if (atomic_compare_exchange_strong(&L->failed, &zero, 1)) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(L->fail_msg, sizeof L->fail_msg, fmt, ap);
		va_end(ap);
		atomic_store(&L->failed, 2);
	}
	atomic_store(&L->ep.end, 1);
}

static const struct {
	int code;
	const char *name;
} err_names[] = {
        {SHMF_EINVAL, "SHMF_EINVAL"},
        {SHMF_ENAME, "SHMF_ENAME"},
        {SHMF_ENOMEM, "SHMF_ENOMEM"},
        {SHMF_ESYS, "SHMF_ESYS"},
        {SHMF_EEXIST, "SHMF_EEXIST"},
        {SHMF_ENOENT, "SHMF_ENOENT"},
        {SHMF_EACCES, "SHMF_EACCES"},
        {SHMF_ENOSPC, "SHMF_ENOSPC"},
        {SHMF_EAGAIN, "SHMF_EAGAIN"},
        {SHMF_ETIMEDOUT, "SHMF_ETIMEDOUT"},
        {SHMF_EPEERGONE, "SHMF_EPEERGONE"},
        {SHMF_EPEERCLOSED, "SHMF_EPEERCLOSED"},
        {SHMF_EROLEBUSY, "SHMF_EROLEBUSY"},
        {SHMF_EMSGSIZE, "SHMF_EMSGSIZE"},
        {SHMF_ETOOSMALL, "SHMF_ETOOSMALL"},
        {SHMF_ENOTSUP, "SHMF_ENOTSUP"},
        {SHMF_ESTATE, "SHMF_ESTATE"},
        {SHMF_EFILETYPE, "SHMF_EFILETYPE"},
        {SHMF_EOWNER, "SHMF_EOWNER"},
        {SHMF_EMODE, "SHMF_EMODE"},
        {SHMF_ESIZE, "SHMF_ESIZE"},
        {SHMF_EMAGIC, "SHMF_EMAGIC"},
        {SHMF_EVERSION, "SHMF_EVERSION"},
        {SHMF_EHDRCRC, "SHMF_EHDRCRC"},
        {SHMF_ELAYOUT, "SHMF_ELAYOUT"},
        {SHMF_EFEATURE, "SHMF_EFEATURE"},
        {SHMF_ENOTREADY, "SHMF_ENOTREADY"},
        {SHMF_EROLE, "SHMF_EROLE"},
        {SHMF_ESEALS, "SHMF_ESEALS"},
        {SHMF_EPEERCRED, "SHMF_EPEERCRED"},
        {SHMF_ETRUNCATED, "SHMF_ETRUNCATED"},
        {SHMF_EPOS, "SHMF_EPOS"},
        {SHMF_EALIGN, "SHMF_EALIGN"},
        {SHMF_ELENGTH, "SHMF_ELENGTH"},
        {SHMF_ETYPE, "SHMF_ETYPE"},
        {SHMF_EFLAGS, "SHMF_EFLAGS"},
        {SHMF_ECRC, "SHMF_ECRC"},
        {SHMF_ESEQ, "SHMF_ESEQ"},
};

static const char *err_name(int code)
{
	for (size_t i = 0; i < sizeof err_names / sizeof err_names[0]; i++)
		if (err_names[i].code == code)
			return err_names[i].name;
	return "unknown";
}

static void tally(int rc)
{
	if (rc < 0 && rc > -NERR)
		atomic_fetch_add(&L->errs[-rc], 1);
}

/* The errors by which damage to the segment may show, at attach (PROTO 6.2) or on a frame (6.3,
 * 9.6), plus a faked "closed" (a role line is only a word the peer can write). */
static int is_damage_error(int rc)
{
	/* the rejects and header checks the command maps to "damage" (exit 1), and the rest */
	return shmf_cli_exit_code(rc) == SHMF_EXIT_DAMAGE || rc == SHMF_EPEERCLOSED ||
	       rc == SHMF_ESIZE || rc == SHMF_ENOTREADY || rc == SHMF_EMODE || rc == SHMF_EOWNER;
}

static int damage_mode(void)
{
	return C->scribble > 0 || C->truncate;
}

static int kill_mode(void)
{
	return C->kill_writer > 0 || C->kill_reader > 0 || C->kp != 0 || C->cycles != 0;
}

/* A named error in a damage episode ends it, counted as detected; anywhere else it fails. */
static void named_error(int side, const char *what, int rc, uint64_t k)
{
	if (damage_mode() && is_damage_error(rc)) {
		int zero = 0;
		/* before the episode's first fault, damage cannot show: the library is wrong */
		if (!atomic_load(&L->ep.faulted)) {
			failf("side %c: %s of message %llu: %s (%s) before any fault was injected "
			      "in this episode",
			      'A' + side, what, (unsigned long long)k, err_name(rc),
			      shmf_strerror(rc));
			return;
		}
		if (atomic_compare_exchange_strong(&L->ep.end_code, &zero, rc) &&
		    C->scribble <= 0 && rc != SHMF_ETRUNCATED) {
			/* --truncate alone: PROTOCOL.md 9.6, every call after the trip says so */
			failf("side %c: %s of message %llu after a truncation: %s (%s), not "
			      "SHMF_ETRUNCATED",
			      'A' + side, what, (unsigned long long)k, err_name(rc),
			      shmf_strerror(rc));
			return;
		}
		atomic_store(&L->ep.end, 1);
		return;
	}
	failf("side %c: %s of message %llu: %s (%s)", 'A' + side, what, (unsigned long long)k,
	      err_name(rc), shmf_strerror(rc));
}

/* ---- messages -------------------------------------------------------------------------------- */

static uint64_t msg_key(int dir, uint64_t k)
{
	return mix64(C->seed ^ mix64(k * 2u + (uint64_t)dir + 1u));
}

static size_t msg_len(int dir, uint64_t k)
{
	uint64_t h = mix64(msg_key(dir, k) ^ 0x51ED);

	switch (C->sz_kind) {
	case SZ_FIXED: return (size_t)C->sz_lo;
	case SZ_RANGE: return (size_t)(C->sz_lo + h % (C->sz_hi - C->sz_lo + 1u));
	default:
		switch (h & 15u) {
		case 0: return (size_t)C->max_message;
		case 1: return 0;
		case 2: return (size_t)((h >> 8) % 16u); /* shorter than the index header */
		case 3:
		case 4:
		case 5:
		case 6:
		case 7: return (size_t)((h >> 8) % (C->max_message < 64 ? C->max_message + 1 : 64));
		default: return (size_t)((h >> 8) % (C->max_message + 1u));
		}
	}
}

static void fill_body(unsigned char *p, size_t n, uint64_t key)
{
	uint64_t s = key | 1u;

	while (n >= 8) {
		put64(p, rnd(&s));
		p += 8;
		n -= 8;
	}
	if (n != 0) {
		uint64_t v = rnd(&s);
		for (size_t i = 0; i < n; i++)
			p[i] = (unsigned char)(v >> (8 * i));
	}
}

/* Bytes 8-15 of a message of HDR bytes or more: the send time, 48 bits of ns since the run's
 * start (78 hours before it wraps), and 16 bits of a hash of it and the message's key, so that
 * the receiver can check these bytes too (a change shows, but for 1 in 65536). */
#define T48 ((1ull << 48) - 1u)

static uint64_t time_word(uint64_t key, uint64_t t48)
{
	return t48 | (mix64(key ^ t48 ^ 0x7153) & ~T48);
}

static void msg_make(unsigned char *buf, size_t len, int dir, uint64_t k, int64_t t)
{
	uint64_t key = msg_key(dir, k);

	if (len >= HDR) {
		put64(buf, k);
		put64(buf + 8, time_word(key, (uint64_t)(t - L->t0_ns) & T48));
		fill_body(buf + HDR, len - HDR, key);
	} else {
		fill_body(buf, len, key);
	}
}

/* 0 when buf (n bytes) is message k of dir; else a failure is recorded. scratch: max bytes. */
static int msg_check(const unsigned char *buf, size_t n, int dir, uint64_t k,
                     unsigned char *scratch)
{
	size_t want = msg_len(dir, k);
	const char *d = dir == 0 ? "A->B" : "B->A";

	if (n >= HDR && get64(buf) != k) {
		uint64_t got = get64(buf);
		failf("%s: expected message %llu, got index %llu (%s), %zu bytes", d,
		      (unsigned long long)k, (unsigned long long)got,
		      got < k ? "a duplicate or stale message" : "messages lost", n);
		return -1;
	}
	if (n != want) {
		failf("%s: message %llu has %zu bytes, expected %zu (lost, repeated or corrupt)", d,
		      (unsigned long long)k, n, want);
		return -1;
	}
	if (n >= HDR) {
		uint64_t w = get64(buf + 8);
		if (w != time_word(msg_key(dir, k), w & T48)) {
			failf("%s: message %llu (%zu bytes) is corrupt: bytes 8-15 (the send time) "
			      "are 0x%016llx, whose check bits are wrong",
			      d, (unsigned long long)k, n, (unsigned long long)w);
			return -1;
		}
	}
	size_t off = n >= HDR ? HDR : 0;
	fill_body(scratch, n - off, msg_key(dir, k));
	if (memcmp(buf + off, scratch, n - off) != 0) {
		size_t i = 0;
		while (i + 1 < n - off && buf[off + i] == scratch[i])
			i++;
		failf("%s: message %llu (%zu bytes) is corrupt: byte %zu is 0x%02x, expected "
		      "0x%02x",
		      d, (unsigned long long)k, n, off + i, buf[off + i], scratch[i]);
		return -1;
	}
	return 0;
}

static unsigned bucket(uint64_t v)
{
	if (v < 8)
		return (unsigned)v;
	unsigned b = 63u - (unsigned)__builtin_clzll(v);
	unsigned sub = (unsigned)(v >> (b - 3u)) & 7u;
	return (b - 2u) * 8u + sub;
}

static uint64_t bucket_top(unsigned i)
{
	if (i < 8)
		return i;
	unsigned b = i / 8u + 2u, sub = i % 8u;
	return ((uint64_t)(9u + sub) << (b - 3u)) - 1u;
}

/* ---- records (exactly once) ------------------------------------------------------------------ */

static void rec_put(struct recpair *r, uint64_t next, uint64_t pos)
{
	unsigned s = 1u - atomic_load(&r->sel);

	atomic_store(&r->slot[s].next, next);
	atomic_store(&r->slot[s].pos, pos);
	atomic_store(&r->sel, s); /* the one store that makes the record current */
}

static void rec_get(struct recpair *r, uint64_t *next, uint64_t *pos)
{
	unsigned s = atomic_load(&r->sel);

	*next = atomic_load(&r->slot[s].next);
	*pos = atomic_load(&r->slot[s].pos);
}

/* ---- a side ---------------------------------------------------------------------------------- */

struct side {
	int side; /* sends direction `side`, receives direction 1 - side */
	int spawn;
	shmf_channel *ch;
	uint64_t tx_next, rx_next;
	pthread_t tx_thr, rx_thr;
	atomic_int tx_done, rx_done;
	uint64_t gone_seen[2]; /* per thread: the latest kill epoch it measured */
};

/* The machine's own stalls. A side's main thread sleeps 5 ms at a time and records each time it
 * woke more than 20 ms late: then no thread of this process ran, for reasons outside the
 * library (two cores shared with other work). A time bound is checked on the time the machine
 * gave us: the call's duration minus the stalls that overlap it. */
#define NLAG 64
static struct {
	_Atomic int64_t at, lag; /* the stall was [at - lag, at] */
} lags[NLAG];
static atomic_uint nlag;

static void monitor_sleep(void)
{
	int64_t t0 = now_ns();

	sleep_ns(5 * MS);
	int64_t over = now_ns() - t0 - 5 * MS;
	if (over > 20 * MS) {
		unsigned i = atomic_fetch_add(&nlag, 1) % NLAG;
		atomic_store(&lags[i].lag, 0);
		atomic_store(&lags[i].at, t0 + 5 * MS + over);
		atomic_store(&lags[i].lag, over);
		atomic_max(&L->lag_max_ns, (uint64_t)over);
	}
}

/* How much of [t0, t1] the machine stalled this process, as the monitor saw it. */
static int64_t stalled_within(int64_t t0, int64_t t1)
{
	int64_t sum = 0;

	for (unsigned i = 0; i < NLAG; i++) {
		int64_t lag = atomic_load(&lags[i].lag), at = atomic_load(&lags[i].at);
		int64_t a = at - lag > t0 ? at - lag : t0, b = at < t1 ? at : t1;
		if (lag > 0 && b > a)
			sum += b - a;
	}
	return sum;
}

/* The calling thread's own wait for a CPU. The monitor sees only stalls of the whole process: a
 * thread that is runnable but kept off the CPU while the monitor runs on time (more runnable
 * threads than cores) is invisible to it. The kernel counts that wait per thread, in ns: the
 * second field of /proc/thread-self/schedstat (sched_info's run_delay). Reading it costs a
 * system call, so each sending and receiving thread marks it at most every RQ_MARK_NS, as a
 * call starts (rq_mark), and reads it again only for a call that came back late. Both readings
 * are the thread's own, taken while it runs, so their difference is exactly its wait between
 * them (the kernel adds each wait as it ends). Only a bound of the wait within the late
 * interval [a, b] is taken off: that difference, less the time from the mark to a and from b
 * to the second reading, where the wait may have lain instead. So a call that sleeps or spins
 * past its bound is not excused by wait elsewhere in it, and a mark up to RQ_MARK_NS old costs
 * at most that much of the excuse. (A monitor that sampled the threads' counters would place
 * a wait where it ends, not where it was, and could excuse wait from before a.) Where the
 * file is missing, or the kernel does not account the wait, nothing is excused by it. */
#define RQ_MARK_NS (10 * MS)
static _Thread_local int rq_fd = -1;          /* -1: not open (yet, or not available) */
static _Thread_local int64_t rq_at, rq_delay; /* the mark: run_delay, read at or after rq_at;
                                               * rq_at == 0: no mark */

/* run_delay from a schedstat file: its second field. -1 when unreadable. */
static int64_t schedstat_delay(int fd)
{
	char b[96];

	if (fd < 0)
		return -1;
	ssize_t n = pread(fd, b, sizeof b - 1, 0);
	if (n <= 0)
		return -1;
	b[n] = '\0';
	char *p = strchr(b, ' ');
	if (p == NULL)
		return -1;
	char *end;
	long long v = strtoll(p + 1, &end, 10);
	return end == p + 1 || v < 0 ? -1 : (int64_t)v;
}

static void rq_open(void)
{
	rq_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	rq_at = 0;
}

static void rq_close(void)
{
	if (rq_fd >= 0)
		close(rq_fd);
	rq_fd = -1;
}

/* As a call starts, at `now` (taken before the reading). */
static void rq_mark(int64_t now)
{
	if (rq_fd < 0 || (rq_at != 0 && now - rq_at < RQ_MARK_NS))
		return;
	int64_t d = schedstat_delay(rq_fd);
	if (d >= 0) {
		rq_at = now;
		rq_delay = d;
	} else {
		rq_at = 0; /* an old mark would widen the window */
	}
}

/* At least how long the calling thread waited for a CPU within [a, b] (b is past). */
static int64_t rq_waited_within(int64_t a, int64_t b)
{
	if (rq_at == 0)
		return 0;
	int64_t d = schedstat_delay(rq_fd), now = now_ns();
	if (d < rq_delay)
		return 0;
	int64_t w = d - rq_delay - (a > rq_at ? a - rq_at : 0) - (now > b ? now - b : 0);
	return w > 0 ? w : 0;
}

/* Is `late` (ns past a bound; [a, b] is when it was late) more than the bound allows once the
 * machine's own stalls over [a, b], or the calling thread's own wait for a CPU within it,
 * whichever is longer, are taken off? Counts what they excused; *st and *own say what they
 * were, for the failure message. */
static int too_late(int64_t late, int64_t a, int64_t b, int64_t *st, int64_t *own)
{
	int64_t bound = (int64_t)C->gone_bound_ms * MS;

	*st = 0;
	*own = 0;
	if (late <= bound)
		return 0;
	*own = rq_waited_within(a, b); /* first: the time from b to its reading is taken off */
	*st = stalled_within(a, b + 20 * MS);
	if (late - (*st > *own ? *st : *own) > bound) {
		/* the monitor records a stall only once it runs again: give it the time to */
		sleep_ns(50 * MS);
		*st = stalled_within(a, b + 20 * MS);
	}
	if (late - *st <= bound) {
		atomic_fetch_add(&L->excused, 1);
		return 0;
	}
	if (late - *own <= bound) {
		atomic_fetch_add(&L->excused, 1);
		atomic_fetch_add(&L->excused_cpu, 1); /* the stalls alone did not */
		return 0;
	}
	return 1;
}

/* A call that waited past its timeout by more than the bound is a hang. */
static void check_overrun(int side, const char *what, int timeout_ms, int64_t t0, int64_t t1)
{
	int64_t limit = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * MS, dur = t1 - t0, st, own;

	if (limit < 0 || dur <= limit)
		return;
	atomic_max(&L->overrun_max_ns, (uint64_t)(dur - limit));
	if (too_late(dur - limit, t0 + limit, t1, &st, &own)) {
		atomic_fetch_add(&L->overruns, 1);
		failf("side %c: %s with a timeout of %d ms returned after %.1f ms (of the time "
		      "past the timeout, the machine stalled this process for %.1f ms, and the "
		      "thread waited %.1f ms for a CPU)",
		      'A' + side, what, timeout_ms, (double)dur / 1e6, (double)st / 1e6,
		      (double)own / 1e6);
	}
}

/* Is a death of side p outstanding for a call that started at t0, as seen right after it
 * returned: announced and not yet replaced, or replaced only after the call began (it may
 * have looked before)? A kill is announced before the signal is sent, so it is seen here. */
static int peer_down(int p, int64_t t0)
{
	return atomic_load(&L->ep.s[p].down) || t0 < atomic_load(&L->ep.s[p].ready_ns);
}

/* SHMF_EPEERGONE from a call that ran [t0, t1]: measure it against the announced death of the
 * peer. One that no death explains fails the run. */
static void peer_gone(struct side *x, int thread, int64_t t0, int64_t t1)
{
	int p = 1 - x->side;

	if (atomic_load(&L->ep.end))
		return; /* a damage episode ended: a peer whose mapping the guard replaced with zero
		         * pages cannot say "detached" in the segment, so it leaves as if it died */
	if (!kill_mode()) {
		failf("side %c: SHMF_EPEERGONE, but no process was killed", 'A' + x->side);
		return;
	}
	/* A death at a kill point is announced only once the supervisor has reaped the process,
	 * after this call may have seen it: wait for such an announcement (the supervisor polls
	 * every 0.5 ms) for at least 2 s, and until a reap pass that began 1 s or more after
	 * the call returned has finished without one, so that a supervisor kept off the CPU
	 * (a stalled machine, a loaded CI runner) cannot fail the run; 60 s at most. A later kill
	 * or replacement explains nothing. */
	uint64_t e0 = atomic_load(&L->ep.s[p].dead_epoch);
	int kp_possible = HAVE_KP && (C->kp != 0 || C->cycles != 0);
	int down = peer_down(p, t0);
	while (!down) {
		if (atomic_load(&L->ep.end))
			return;
		/* the pass first: one that finished announced what it reaped before it stored */
		int64_t now = now_ns(), pass = atomic_load(&L->reap_pass_ns);
		down = kp_possible && atomic_load(&L->ep.s[p].dead_epoch) != e0 &&
		       atomic_load(&L->ep.s[p].dead_kp);
		if (!down && (!kp_possible || (now > t1 + 2000 * MS &&
		                               (pass > t1 + 1000 * MS || now > t1 + 60000 * MS)))) {
			/* what tells the possible causes apart (docs/STRESS.md) */
			failf("side %c: SHMF_EPEERGONE, but side %c is alive (no death of it is "
			      "outstanding; call %.1f-%.1f ms, waited %.1f ms, the supervisor's "
			      "last "
			      "reap pass began %.1f ms after the call; peer: death epoch %llu then "
			      "%llu, down %d, at a kill point %d, ready at %.1f ms; stalled %.1f "
			      "ms)",
			      'A' + x->side, 'A' + p, (double)(t0 - L->t0_ns) / 1e6,
			      (double)(t1 - L->t0_ns) / 1e6, (double)(now - t1) / 1e6,
			      (double)(pass - t1) / 1e6, (unsigned long long)e0,
			      (unsigned long long)atomic_load(&L->ep.s[p].dead_epoch),
			      atomic_load(&L->ep.s[p].down), atomic_load(&L->ep.s[p].dead_kp),
			      (double)(atomic_load(&L->ep.s[p].ready_ns) - L->t0_ns) / 1e6,
			      (double)stalled_within(t1, now) / 1e6);
			return;
		}
		if (!down)
			sleep_ns(MS / 2);
	}
	uint64_t e = atomic_load(&L->ep.s[p].dead_epoch);
	if (e == 0 || e == x->gone_seen[thread])
		return; /* measured already: the peer is still down */
	x->gone_seen[thread] = e;
	int64_t k = atomic_load(&L->ep.s[p].dead_ns);
	int64_t lat = t1 - (t0 > k ? t0 : k);
	if (lat < 0)
		lat = 0;
	atomic_fetch_add(&L->gone_n, 1);
	atomic_max(&L->gone_max_ns, (uint64_t)lat);
	atomic_store(&L->ep.s[x->side].gone_epoch, e);
	int64_t st, own;
	if (too_late(lat, t1 - lat, t1, &st, &own))
		failf("side %c: SHMF_EPEERGONE came %.1f ms after the peer died (bound %llu ms; "
		      "the machine stalled this process for %.1f ms of it, and the thread waited "
		      "%.1f ms for a CPU)",
		      'A' + x->side, (double)lat / 1e6, (unsigned long long)C->gone_bound_ms,
		      (double)st / 1e6, (double)own / 1e6);
}

static void jitter_pause(uint64_t *rng)
{
	uint64_t r = rnd(rng);

	if ((r & 63u) == 0)
		sleep_ns((int64_t)((r >> 8) % 2000000u)); /* up to 2 ms, one call in 64 */
	else if ((r & 4095u) == 1)
		sleep_ns(10 * MS + (int64_t)((r >> 12) % 40000000u)); /* 10 to 50 ms, rarely */
}

static int pick_timeout(uint64_t *rng, int sender)
{
	if (!C->jitter)
		return sender ? SEND_TO_MS : RECV_TO_MS;
	uint64_t r = rnd(rng);
	switch (r % 8u) {
	case 0: return C->stall && sender ? 10 : 0; /* no wait: SHMF_EAGAIN */
	case 1:
	case 2: return 1 + (int)((r >> 8) % 20u);
	case 3: return 100;
	case 4:
	case 5:
		/* for ever: only where something must wake us (no damage faking a full ring) */
		return sender && !damage_mode() ? -1 : RECV_TO_MS;
	default: return sender ? SEND_TO_MS : RECV_TO_MS;
	}
}

static void *sender_main(void *p)
{
	struct side *x = p;
	int d = x->side;
	struct dir_ep *D = &L->ep.d[d];
	struct dir_tot *T = &L->t[d];
	size_t max = (size_t)C->max_message;
	unsigned char *buf = malloc(max != 0 ? max : 1);
	uint64_t rng = mix64(C->seed ^ 0x5E4D ^ ((uint64_t)x->spawn << 8) ^ (uint64_t)d);
	uint64_t k = x->tx_next;
	size_t len = 0;
	int have = 0;

	rq_open();
	if (buf == NULL) {
		failf("side %c: out of memory", 'A' + d);
		goto out;
	}
	while (!atomic_load(&L->ep.end)) {
		if (atomic_load(&L->ep.stop) || (C->messages != 0 && k >= C->messages))
			break;
		if (!have) {
			len = msg_len(d, k);
			msg_make(buf, len, d, k, now_ns());
			have = 1;
		}
		if (C->jitter)
			jitter_pause(&rng);
		int to = pick_timeout(&rng, 1);
		atomic_store(&D->in_send, 1);
		int64_t t0 = now_ns();
		rq_mark(t0);
		int rc = shmf_send(x->ch, buf, len, to);
		int64_t t1 = now_ns();
		atomic_store(&D->in_send, 0);
		check_overrun(d, "send", to, t0, t1); /* a success must be in time too */
		if (rc == 0) {
			uint64_t tx = 0;
			shmf_positions(x->ch, &tx, NULL);
			rec_put(&D->srec, k + 1u, tx);
			k++;
			have = 0;
			atomic_fetch_add(&T->sent, 1);
			continue;
		}
		tally(rc);
		if (rc == SHMF_EAGAIN || rc == SHMF_ETIMEDOUT) {
			if (rc == SHMF_EAGAIN)
				sleep_ns((int64_t)(rnd(&rng) % 200000u)); /* our own back-off */
			continue;
		}
		if (rc == SHMF_EPEERGONE) {
			peer_gone(x, 0, t0, t1);
			sleep_ns(2 * MS);
			continue;
		}
		named_error(d, "send", rc, k);
		break;
	}
	if (!atomic_load(&L->ep.end)) {
		atomic_store(&D->sent_final, k);
		atomic_store(&D->sender_done, 1);
	}
out:
	rq_close();
	free(buf);
	atomic_store(&x->tx_done, 1);
	return NULL;
}

/* After the last message of direction d (k delivered): nothing else may wait in the ring. */
static void check_drained(struct side *x, int d, uint64_t k, unsigned char *buf)
{
	size_t n = 0;
	int rc = shmf_recv(x->ch, buf, (size_t)C->max_message, &n, 0);

	if (rc == 0 || rc == SHMF_ETOOSMALL)
		failf("%s: a frame of %zu bytes after the last message (%llu sent): the ring "
		      "should be empty",
		      d == 0 ? "A->B" : "B->A", n, (unsigned long long)k);
	else if (rc != SHMF_EAGAIN && rc != SHMF_EPEERCLOSED &&
	         (rc != SHMF_EPEERGONE || !kill_mode()))
		named_error(x->side, "recv after the last", rc, k);
}

static void *receiver_main(void *p)
{
	struct side *x = p;
	int d = 1 - x->side;
	struct dir_ep *D = &L->ep.d[d];
	struct dir_tot *T = &L->t[d];
	size_t max = (size_t)C->max_message;
	unsigned char *buf = malloc(max != 0 ? max : 1);
	unsigned char *scratch = malloc(max != 0 ? max : 1);
	uint64_t rng = mix64(C->seed ^ 0x4ECF ^ ((uint64_t)x->spawn << 8) ^ (uint64_t)d);
	uint64_t k = x->rx_next;

	rq_open();
	if (buf == NULL || scratch == NULL) {
		failf("side %c: out of memory", 'A' + x->side);
		goto out;
	}
	while (!atomic_load(&L->ep.end)) {
		if (atomic_load(&D->sender_done)) {
			uint64_t fin = atomic_load(&D->sent_final);
			if (k > fin) {
				failf("%s: received %llu messages, but only %llu were sent",
				      d == 0 ? "A->B" : "B->A", (unsigned long long)k,
				      (unsigned long long)fin);
				break;
			}
			if (k == fin) {
				check_drained(x, d, k, buf);
				break;
			}
		}
		if (C->stall && atomic_load(&L->ep.stall_side) == x->side) {
			int64_t until = atomic_load(&L->ep.stall_end);
			while (now_ns() < until && !atomic_load(&L->ep.end) &&
			       !atomic_load(&L->ep.stop) &&
			       atomic_load(&L->ep.stall_side) == x->side)
				sleep_ns(5 * MS);
			continue;
		}
		if (C->jitter)
			jitter_pause(&rng);
		int to = pick_timeout(&rng, 0);
		size_t want = msg_len(d, k), cap = max, n = 0;
		if (C->jitter && want > 0 && (rnd(&rng) & 31u) == 0)
			cap = (size_t)rnd_below(&rng,
			                        want); /* too small: SHMF_ETOOSMALL, it stays */
		atomic_store(&D->in_recv, 1);
		int64_t t0 = now_ns();
		rq_mark(t0);
		int rc = shmf_recv(x->ch, buf, cap, &n, to);
		int64_t t1 = now_ns();
		atomic_store(&D->in_recv, 0);
		check_overrun(x->side, "recv", to, t0, t1); /* a success must be in time too */
		if (rc == 0) {
			if (msg_check(buf, n, d, k, scratch) != 0)
				break;
			uint64_t rx = 0;
			shmf_positions(x->ch, NULL, &rx);
			rec_put(&D->rrec, k + 1u, rx);
			k++;
			atomic_fetch_add(&T->delivered, 1);
			atomic_fetch_add(&T->bytes, n);
			atomic_fetch_add(&L->progress, 1);
			if (n >= HDR) {
				uint64_t lat = ((uint64_t)(t1 - L->t0_ns) - get64(buf + 8)) & T48;
				atomic_fetch_add(&T->hist[bucket(lat)], 1);
				atomic_fetch_add(&T->lat_n, 1);
				atomic_max(&T->lat_max, lat);
			}
			continue;
		}
		tally(rc);
		if (rc == SHMF_ETOOSMALL && cap < want) {
			if (n != want) {
				failf("%s: message %llu: SHMF_ETOOSMALL says %zu bytes, expected "
				      "%zu",
				      d == 0 ? "A->B" : "B->A", (unsigned long long)k, n, want);
				break;
			}
			continue;
		}
		if (rc == SHMF_EAGAIN || rc == SHMF_ETIMEDOUT)
			continue;
		if (rc == SHMF_EPEERGONE) {
			peer_gone(x, 1, t0, t1);
			sleep_ns(2 * MS);
			continue;
		}
		if (rc == SHMF_EPEERCLOSED && atomic_load(&D->sender_done) &&
		    k == atomic_load(&D->sent_final))
			break;
		named_error(x->side, "recv", rc, k);
		break;
	}
out:
	rq_close();
	free(buf);
	free(scratch);
	atomic_store(&x->rx_done, 1);
	return NULL;
}

/* A replacement reads its records and its positions: was the call its predecessor died in
 * committed (shmframe.h, shmf_positions)? Returns 0, or -1 when the positions contradict the
 * records (a failure, or in a damage episode a detected fault). */
static int recover(struct side *x)
{
	struct dir_ep *out = &L->ep.d[x->side], *in = &L->ep.d[1 - x->side];
	uint64_t tx = 0, rx = 0, next, pos, fb;
	const char *why = NULL;

	shmf_positions(x->ch, &tx, &rx);
	rec_get(&out->srec, &next, &pos);
	fb = shmf_frame_bytes(msg_len(x->side, next));
	if (tx < pos || tx - pos >= fb + shmf_frame_bytes((size_t)C->max_message)) {
		why = "tx";
	} else if (tx - pos >= fb) {
		next++; /* committed by the dead sender */
		atomic_fetch_add(&L->t[x->side].dead_committed, 1);
		atomic_fetch_add(&L->t[x->side].sent, 1);
	}
	rec_put(&out->srec, next, tx);
	x->tx_next = next;

	rec_get(&in->rrec, &next, &pos);
	fb = shmf_frame_bytes(msg_len(1 - x->side, next));
	if (rx < pos || rx - pos >= fb + shmf_frame_bytes((size_t)C->max_message)) {
		why = "rx";
	} else if (rx - pos >= fb) {
		next++; /* consumed by the dead receiver, never returned to it */
		atomic_fetch_add(&L->t[1 - x->side].dead_consumed, 1);
	}
	rec_put(&in->rrec, next, rx);
	x->rx_next = next;
	if (why == NULL)
		return 0;
	if (damage_mode() && atomic_load(&L->ep.faulted)) {
		int zero = 0;
		atomic_compare_exchange_strong(&L->ep.end_code, &zero, SHMF_EPOS);
		atomic_store(&L->ep.end, 1);
	} else {
		failf("side %c took over at %s %llu, which its records contradict (saved %llu)",
		      'A' + x->side, why, (unsigned long long)(why[0] == 't' ? tx : rx),
		      (unsigned long long)pos);
	}
	return -1;
}

/* --stall-reader: while the peer's receiver stalls, our sender blocks; measure its CPU time. */
static void measure_stall(struct side *x, uint64_t *seen)
{
	uint64_t seq = atomic_load(&L->ep.stall_seq);
	clockid_t cid;
	struct timespec c0, c1;
	uint64_t n0, n1, pos;

	if (seq == *seen || atomic_load(&L->ep.stall_side) != 1 - x->side)
		return;
	*seen = seq;
	int64_t start = atomic_load(&L->ep.stall_start) + 150 * MS; /* the ring fills first */
	int64_t end = atomic_load(&L->ep.stall_end) - 20 * MS;
	if (end - start < 100 * MS || pthread_getcpuclockid(x->tx_thr, &cid) != 0)
		return;
	while (now_ns() < start && !atomic_load(&L->ep.end) && !atomic_load(&L->ep.stop))
		monitor_sleep();
	rec_get(&L->ep.d[x->side].srec, &n0, &pos);
	clock_gettime(cid, &c0);
	int64_t w0 = now_ns();
	while (now_ns() < end && !atomic_load(&L->ep.end) && !atomic_load(&L->ep.stop))
		monitor_sleep();
	clock_gettime(cid, &c1);
	int64_t w1 = now_ns();
	rec_get(&L->ep.d[x->side].srec, &n1, &pos);
	if (atomic_load(&L->ep.end) || atomic_load(&L->ep.stop) || atomic_load(&x->tx_done))
		return;
	if (n1 != n0) { /* it was not blocked: the ring never filled */
		atomic_fetch_add(&L->stalls_unblocked, 1);
		return;
	}
	int64_t cpu = (int64_t)(c1.tv_sec - c0.tv_sec) * 1000000000LL + (c1.tv_nsec - c0.tv_nsec);
	uint64_t ppm = (uint64_t)(cpu > 0 ? cpu : 0) * 1000000u / (uint64_t)(w1 - w0);
	atomic_fetch_add(&L->stalls_measured, 1);
	atomic_max(&L->stall_cpu_max_ppm, ppm);
	if ((double)ppm > C->cpu_max * 1e6)
		failf("side %c: the blocked writer used %.1f%% CPU during a %.0f ms stall (limit "
		      "%.0f%%)",
		      'A' + x->side, (double)ppm / 1e4, (double)(w1 - w0) / 1e6, C->cpu_max * 100);
}

static int side_run(const char *name, int side, int spawn)
{
	struct side x;
	int rc;

	memset(&x, 0, sizeof x);
	x.side = side;
	x.spawn = spawn;
	(void)shmf_sigbus_guard(1); /* a truncated segment: SHMF_ETRUNCATED, not death by SIGBUS */
	rc = shmf_attach(name, side, 5000, &x.ch);
	if (rc != 0) {
		/* EPEERGONE: a header scribbled "not ready" while role A's lock was free reads as a
		 * creator that died before publishing (PROTOCOL.md 9.2). */
		if (damage_mode() && (is_damage_error(rc) || rc == SHMF_EPEERGONE)) {
			named_error(side, "attach before", rc, 0);
			return 0;
		}
		failf("side %c: attach %s: %s (%s)", 'A' + side, name, err_name(rc),
		      shmf_strerror(rc));
		return 1;
	}
	/* we hold the role: from now on the peer may no longer be told SHMF_EPEERGONE */
	atomic_store(&L->ep.s[side].ready_ns, now_ns());
	atomic_store(&L->ep.s[side].down, 0);
	if (C->jitter) {
		static const unsigned spins[] = {0, 50, 2000, 20000};
		static const uint64_t batches[] = {0, 0, 512, 4096};
		uint64_t b = batches[mix64(C->seed ^ (uint64_t)spawn ^ 0xBA7) % 4u];
		shmf_set_spin(x.ch, spins[mix64(C->seed ^ (uint64_t)spawn ^ 0x5B1) % 4u]);
		/* shmf_set_batch: receives after a streak poll for a batch first */
		(void)shmf_set_batch(x.ch, (size_t)(b < C->capacity / 2 ? b : C->capacity / 2));
	}
	if (recover(&x) != 0)
		goto out;
	atomic_store(&L->ep.s[side].ready, spawn);
	if (pthread_create(&x.tx_thr, NULL, sender_main, &x) != 0) {
		failf("side %c: pthread_create failed", 'A' + side);
		goto out;
	}
	if (pthread_create(&x.rx_thr, NULL, receiver_main, &x) != 0) {
		failf("side %c: pthread_create failed", 'A' + side);
		atomic_store(&L->ep.end, 1);
		pthread_join(x.tx_thr, NULL);
		goto out;
	}
	uint64_t stall_seen = 0;
	while (!atomic_load(&x.tx_done) || !atomic_load(&x.rx_done)) {
		if (C->stall)
			measure_stall(&x, &stall_seen);
		monitor_sleep();
	}
	pthread_join(x.tx_thr, NULL);
	pthread_join(x.rx_thr, NULL);
out:
	shmf_close(x.ch);
	return atomic_load(&L->failed) ? 1 : 0;
}

/* ---- the third process: scribble, or truncate -------------------------------------------------
 */

static uint64_t round_page(uint64_t n)
{
	return (n + 4095u) & ~(uint64_t)4095u;
}

static unsigned byte_at(const unsigned char *p)
{
	return atomic_load((const _Atomic unsigned char *)(const void *)p);
}

/* The most plausible lie about wpos: at the writer's position lies a frame of the previous lap,
 * whole and with a CRC that still holds, only its sequence number is old. Move wpos past it, so
 * that a reader that skipped R9 would deliver it (a stale message); the library must reject it
 * (SHMF_ESEQ). 1 when it was done, 0 when no such frame lies there. Offsets: PROTOCOL.md 4. */
static int publish_stale(const unsigned char *data, unsigned char *ctl, uint64_t cap)
{
	_Atomic uint64_t *wpos = (_Atomic uint64_t *)(void *)ctl;
	uint64_t w = atomic_load(wpos);
	uint64_t off = w & (cap - 1u), len = 0;

	if (cap - off < 24)
		return 0;
	const unsigned char *f = data + off;
	for (int i = 3; i >= 0; i--) /* the u32 length at +4, little-endian */
		len = len << 8 | byte_at(f + 4 + i);
	unsigned type = byte_at(f + 16) | byte_at(f + 17) << 8;
	uint64_t size = (24u + len + 7u) & ~(uint64_t)7u;
	if (type != 1 || len > C->max_message || size > cap - off)
		return 0;
	/* only if the writer has not moved meanwhile: never undo a real publication */
	return atomic_compare_exchange_strong(wpos, &w, w + size);
}

static int damager_run(const char *name, uint64_t seed)
{
	char path[SHMF_NAME_MAX + 16];
	struct stat st;
	uint64_t rng = mix64(seed ^ 0xDA3A6E);
	uint64_t cap = C->capacity;
	const uint64_t data[2] = {4096, 4096 + round_page(C->capacity)};
	int fd;

	snprintf(path, sizeof path, "/dev/shm%s", name);
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		failf("damager: open %s: %s", path, strerror(errno));
		return 1;
	}
	uint64_t size = (uint64_t)st.st_size;
	unsigned char *m = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		failf("damager: mmap %s: %s", path, strerror(errno));
		close(fd);
		return 1;
	}
	int64_t t_trunc = C->truncate ? now_ns() + (int64_t)rnd_below(&rng, C->episode_ms * 250000u)
	                              : INT64_MAX;
	int64_t next = C->scribble > 0 ? now_ns() + rnd_interval(&rng, C->scribble) : INT64_MAX;
	while (!atomic_load(&L->ep.end) && !atomic_load(&L->ep.stop)) {
		int64_t now = now_ns();
		if (now >= t_trunc) {
			uint64_t to = round_page(rnd_below(&rng, size - 4096u));
			atomic_store(&L->ep.trunc_to, to + 1u);
			atomic_store(&L->ep.faulted, 1); /* before the damage, never after */
			if (ftruncate(fd, (off_t)to) != 0) {
				failf("damager: ftruncate: %s", strerror(errno));
				break;
			}
			atomic_fetch_add(&L->truncations, 1);
			t_trunc = INT64_MAX;
			next = INT64_MAX; /* the pages are gone: no more scribbling */
			continue;
		}
		if (now < next) {
			int64_t wait = (next < t_trunc ? next : t_trunc) - now;
			sleep_ns(wait < 5 * MS ? wait : 5 * MS);
			continue;
		}
		next = now + rnd_interval(&rng, C->scribble);
		uint64_t r = rnd(&rng), off;
		int ring = (int)((r >> 7) & 1u);
		unsigned char *ctl = m + 0x100 + 0x100 * (size_t)ring;
		int where = C->target;
		if (where == SCRIBBLE_ALL) /* 5% header, 10% roles, 30% control, 55% frames */
			where = r % 100u < 5    ? SCRIBBLE_HEADER
			        : r % 100u < 15 ? SCRIBBLE_ROLES
			        : r % 100u < 45 ? SCRIBBLE_CONTROL
			                        : SCRIBBLE_FRAMES;
		uint64_t lim = size;            /* multi-byte writes stay inside their region */
		if (where == SCRIBBLE_HEADER) { /* seen only by a later attach */
			off = rnd_below(&rng, 0x80);
			lim = 0x80;
		} else if (where == SCRIBBLE_ROLES) {
			off = 0x80 + rnd_below(&rng, 0x80);
			lim = 0x100;
		} else if (where == SCRIBBLE_CONTROL || where == SCRIBBLE_POSITIONS) {
			/* positions, sequences, wait words */
			static const unsigned fields[] = {0x00, 0x80, 0x08, 0x88, 0x40, 0xC0};
			uint64_t f = rnd_below(&rng, where == SCRIBBLE_POSITIONS ? 2 : 8);
			off = 0x100u + 0x100u * (unsigned)ring +
			      (f < 6 ? fields[f] : rnd_below(&rng, 0x100) & ~7u);
			lim = 0x200u + 0x100u * (unsigned)ring;
			if (f == 0 && (rnd(&rng) & 1u) &&
			    (atomic_store(&L->ep.faulted, 1),
			     publish_stale(m + data[ring], ctl, cap))) {
				atomic_fetch_add(&L->scribbles, 1);
				continue;
			}
			if ((where == SCRIBBLE_POSITIONS || (rnd(&rng) & 1u)) && f < 4) {
				/* a plausible position or sequence: a small, aligned shift */
				_Atomic uint64_t *w = (_Atomic uint64_t *)(void *)(m + off);
				int64_t delta =
				        ((int64_t)rnd_below(&rng, 33) - 16) * (f < 2 ? 8 : 1);
				atomic_store(&L->ep.faulted, 1);
				atomic_fetch_add(w, (uint64_t)delta);
				atomic_fetch_add(&L->scribbles, 1);
				continue;
			}
		} else { /* a frame in flight, between rpos and wpos */
			uint64_t w = atomic_load((_Atomic uint64_t *)(void *)(ctl + 0x00));
			uint64_t rd = atomic_load((_Atomic uint64_t *)(void *)(ctl + 0x80));
			uint64_t at = w - rd - 1u < cap ? rd + rnd_below(&rng, w - rd)
			                                : rnd_below(&rng, cap);
			off = data[ring] + (at & (cap - 1u));
		}
		if (off >= size)
			continue;
		atomic_store(&L->ep.faulted, 1);
		if (rnd(&rng) & 1u) { /* flip one bit */
			_Atomic unsigned char *b = (_Atomic unsigned char *)(void *)(m + off);
			atomic_fetch_xor(b, (unsigned char)(1u << (rnd(&rng) & 7u)));
		} else { /* 1 to 8 random bytes */
			uint64_t v = rnd(&rng);
			uint64_t n = 1u + rnd_below(&rng, 8);
			for (uint64_t i = 0; i < n && off + i < lim; i++)
				atomic_store((_Atomic unsigned char *)(void *)(m + off + i),
				             (unsigned char)(v >> (8 * i)));
		}
		atomic_fetch_add(&L->scribbles, 1);
	}
	munmap(m, (size_t)size);
	close(fd);
	return 0;
}

/* ---- the supervisor -------------------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct child {
	pid_t pid;
	int alive;  /* running (not reaped) */
	int killed; /* we sent it SIGKILL */
	int armed;  /* a kill point is armed in it */
	int spawn;  /* spawn number, from 1 */
	int exited; /* exited by itself, with exit_code */
	int exit_code;
	int64_t died_ns; /* when it died, for the restart */
	int gone_wait;   /* waiting for the survivor to report SHMF_EPEERGONE */
	uint64_t epoch;  /* the kill epoch of its death */
};

struct sup {
	char prefix[64];
	char name[SHMF_NAME_MAX + 1];
	int have_name;
	struct child side[2];
	pid_t damager;
	uint64_t rng;
	int spawns;
	/* tallies */
	uint64_t episodes, kills_writer, kills_reader, kills_in_call, kills_both, kp_deaths,
	        takeovers, cycles_done, stalls, ended_by[NERR], stall_episodes, probes_ok,
	        probes_err, clean_episodes, gone_confirmed, no_survivor, committed[2];
	int both_pending; /* side A was just replaced after a kill of both: B's takeover is the
	                   * same cycle's */
	int64_t t0;
	int sys_exit; /* the exit code when the channel could not be created */
	char sys_msg[SHMF_NAME_MAX + 160];
};

/* fork(), with stdio flushed first (a child exits through exit(), which flushes again); the
 * child ignores the terminal's SIGINT (the supervisor ends it) and dies with the supervisor. */
static pid_t fork_child(void)
{
	pid_t parent = getpid();

	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1); /* the supervisor died before the line above */
	}
	return pid;
}

/* Fork side `s` of the current channel; arm a kill point in it when asked. */
static int spawn_side(struct sup *S, int s, int arm_kp, uint64_t arm_n)
{
	struct child *c = &S->side[s];
	int spawn = ++S->spawns;
	pid_t pid = fork_child();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (arm_kp > 0) {
			char v[64];
			snprintf(v, sizeof v, "%s:%llu", kp_names[arm_kp - 1],
			         (unsigned long long)arm_n);
			setenv("SHMF_KILL_POINT", v, 1);
		}
		exit(side_run(S->name, s, spawn));
	}
	memset(c, 0, sizeof *c);
	c->pid = pid;
	c->alive = 1;
	c->armed = arm_kp > 0;
	c->spawn = spawn;
	return 0;
}

static int spawn_damager(struct sup *S)
{
	uint64_t seed = rnd(&S->rng); /* drawn here: each episode's damager gets its own */
	pid_t pid = fork_child();

	if (pid < 0)
		return -1;
	if (pid == 0)
		exit(damager_run(S->name, seed));
	S->damager = pid;
	return 0;
}

/* Choose the kill point and the hit count for a new side process. */
static int kp_arm(struct sup *S, uint64_t *n)
{
	if (!HAVE_KP)
		return 0;
	if (C->cycles != 0) {
		if (rnd(&S->rng) & 1u)
			return 0; /* half the cycles end in a kill at a random moment instead */
		int any = 1 + (int)rnd_below(&S->rng, NKP);
		*n = 1u + rnd_below(&S->rng, strcmp(kp_names[any - 1], "pad") == 0 ? 3u : 48u);
		return any;
	}
	int kp = C->kp;
	if (kp == 0)
		return 0;
	uint64_t every = C->kp_every;
	if (strcmp(kp_names[kp - 1], "pad") == 0)
		every = every / 20u + 1u; /* a PAD comes once a lap, not once a message */
	*n = 1u + rnd_below(&S->rng, 2u * every);
	return kp;
}

/* Side s died (or is about to be killed): its peer may now be told SHMF_EPEERGONE. `down`
 * before the epoch: peer_gone() reads the epoch, then `down`, and one that sees the new epoch
 * must see the death outstanding (it waits only for an epoch that changes after its read). */
static void announce_death(int s, uint64_t epoch, int64_t at, int kp)
{
	atomic_store(&L->ep.s[s].dead_kp, kp);
	atomic_store(&L->ep.s[s].dead_ns, at);
	atomic_store(&L->ep.s[s].down, 1);
	atomic_store(&L->ep.s[s].dead_epoch, epoch);
}

/* The status of a side that died or exited: -1 when that is a failure (recorded). */
static int judge_exit(struct sup *S, int s, int status)
{
	struct child *c = &S->side[s];

	c->alive = 0;
	c->died_ns = now_ns();
	if (WIFEXITED(status)) {
		c->exited = 1;
		c->exit_code = WEXITSTATUS(status);
		if (c->exit_code != 0 && !atomic_load(&L->failed))
			failf("side %c (pid %d) exited with status %d", 'A' + s, (int)c->pid,
			      c->exit_code);
		return c->exit_code == 0 ? 0 : -1;
	}
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (sig == SIGKILL && (c->killed || c->armed)) {
		if (!c->killed) {
			/* it died at its kill point: announce it now (PROTO 7 bound from here) */
			S->kp_deaths++;
			atomic_store(&L->ep.kill_ns, c->died_ns);
			c->epoch = atomic_fetch_add(&L->ep.kill_epoch, 1) + 1u;
			announce_death(s, c->epoch, c->died_ns, 1);
		}
		c->gone_wait = 1;
		return 0;
	}
	failf("side %c (pid %d) died of signal %d (%s)", 'A' + s, (int)c->pid, sig, strsignal(sig));
	return -1;
}

/* The damager's status: it must exit 0 by itself (a crashed one would leave a run that
 * passes with no damage done). */
static void judge_damager(struct sup *S, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		S->damager = 0;
		return;
	}
	if (!atomic_load(&L->failed)) {
		if (WIFEXITED(status))
			failf("the damager (pid %d) exited with status %d", (int)S->damager,
			      WEXITSTATUS(status));
		else
			failf("the damager (pid %d) died of signal %d (%s)", (int)S->damager,
			      WTERMSIG(status), strsignal(WTERMSIG(status)));
	}
	S->damager = 0;
}

static void reap(struct sup *S)
{
	int64_t start = now_ns();

	for (int s = 0; s < 2; s++) {
		int status;
		if (!S->side[s].alive)
			continue;
		pid_t p = waitpid(S->side[s].pid, &status, WNOHANG);
		if (p == S->side[s].pid)
			judge_exit(S, s, status);
	}
	if (S->damager > 0) {
		int status;
		if (waitpid(S->damager, &status, WNOHANG) == S->damager)
			judge_damager(S, status);
	}
	atomic_store(&L->reap_pass_ns, start); /* peer_gone() waits for a pass that found nothing */
}

static void kill_all(struct sup *S)
{
	/* a side that is writing the text of a failure must finish it before it dies: a SIGKILL
	 * between failf()'s claim and its text left an empty "FAILED: " */
	for (int64_t lim = now_ns() + 1000 * MS; atomic_load(&L->failed) == 1 && now_ns() < lim;)
		sleep_ns(MS / 10);
	for (int s = 0; s < 2; s++) {
		if (S->side[s].alive) {
			int status;
			kill(S->side[s].pid, SIGKILL);
			waitpid(S->side[s].pid, &status, 0);
			S->side[s].alive = 0;
		}
	}
	if (S->damager > 0) {
		/* once the episode is over it leaves by itself (it looks every 5 ms): judge that */
		int status;
		int64_t limit = now_ns() + 2000 * MS;
		atomic_store(&L->ep.stop, 1); /* the sides are gone: the episode is over */
		while (!atomic_load(&L->failed) && !interrupted && now_ns() < limit) {
			if (waitpid(S->damager, &status, WNOHANG) == S->damager) {
				judge_damager(S, status);
				return;
			}
			sleep_ns(MS / 2);
		}
		kill(S->damager, SIGKILL);
		waitpid(S->damager, &status, 0);
		S->damager = 0;
	}
}

/* Wait (bounded) until side s of this spawn has attached and recovered. */
static int wait_ready(struct sup *S, int s)
{
	int64_t limit = now_ns() + 10000 * MS;

	while (atomic_load(&L->ep.s[s].ready) != S->side[s].spawn) {
		if (atomic_load(&L->failed) || atomic_load(&L->ep.end) || interrupted)
			return -1;
		if (!S->side[s].alive)
			return -1;
		reap(S);
		if (now_ns() > limit) {
			failf("side %c did not attach within 10 s", 'A' + s);
			return -1;
		}
		sleep_ns(MS / 2);
	}
	return 0;
}

/* SIGKILL side s now: at a moment its sender (writer) or receiver (reader) is inside a call. */
static void kill_side(struct sup *S, int s, int reader)
{
	atomic_int *flag = reader ? &L->ep.d[1 - s].in_recv : &L->ep.d[s].in_send;
	int64_t limit = now_ns() + 100 * MS;
	int status;

	while (!atomic_load(flag) && now_ns() < limit)
		;
	struct child *c = &S->side[s];
	int64_t at = now_ns();
	atomic_store(&L->ep.kill_ns, at);
	c->epoch = atomic_fetch_add(&L->ep.kill_epoch, 1) + 1u;
	/* an armed side may have died at its kill point already, unseen: as for a kill point */
	announce_death(s, c->epoch, at, c->armed);
	c->killed = 1;
	int inside = atomic_load(flag); /* read as close to the kill as we can */
	kill(c->pid, SIGKILL);
	if (waitpid(c->pid, &status, 0) == c->pid)
		judge_exit(S, s, status);
	if (!c->gone_wait) {
		/* it had exited by itself (or failed) before the signal: no kill to count */
		atomic_store(&L->ep.s[s].down, 0);
		return;
	}
	S->kills_in_call += inside != 0;
	if (reader)
		S->kills_reader++;
	else
		S->kills_writer++;
}

/* Restart the dead sides whose survivor has reported the death (or that have none). */
static int restarts(struct sup *S, int stopping)
{
	for (int s = 0; s < 2; s++) {
		struct child *c = &S->side[s], *o = &S->side[1 - s];
		if (c->alive || !c->gone_wait)
			continue;
		if (atomic_load(&L->ep.end))
			return 0; /* the episode is over: no replacement */
		if (o->alive) {
			if (atomic_load(&L->ep.s[1 - s].gone_epoch) < c->epoch) {
				int64_t limit = (int64_t)(2000 + C->stall_ms) * MS;
				if (now_ns() - c->died_ns > limit) {
					failf("side %c did not report SHMF_EPEERGONE within "
					      "%lld ms of side %c's death",
					      'B' - s, (long long)(limit / MS), 'A' + s);
					return -1;
				}
				continue;
			}
			S->gone_confirmed++; /* the survivor reported this death */
		} else {
			/* not again for a replacement A that died while B was still down */
			S->kills_both += (s == 0 && o->gone_wait && !S->both_pending);
			S->no_survivor++; /* confirmed only by the takeover and the final check */
		}
		uint64_t n = 0;
		int kp = stopping ? 0 : kp_arm(S, &n); /* after the stop: finish, unarmed */
		if (spawn_side(S, s, kp, n) != 0) {
			failf("fork: %s", strerror(errno));
			return -1;
		}
		S->takeovers++;
		/* a cycle is one death: a kill of both sides at once is one cycle, two takeovers */
		if (C->cycles != 0 && !(s == 1 && S->both_pending))
			S->cycles_done++;
		S->both_pending = s == 0 && !o->alive && o->gone_wait;
		if (wait_ready(S, s) != 0) {
			if (damage_mode() && atomic_load(&L->ep.end) && !atomic_load(&L->failed))
				return 0;
			return atomic_load(&L->failed) || interrupted ? -1 : 0;
		}
	}
	return 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static int count_names(const char *prefix)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static int64_t deadline_ns(const struct sup *S)
{
	return C->duration_s > 0 ? S->t0 + (int64_t)(C->duration_s * 1e9) : INT64_MAX;
}

/* The total delivered both ways, over all episodes. */
static uint64_t delivered_total(void)
{
	return atomic_load(&L->t[0].delivered) + atomic_load(&L->t[1].delivered);
}

/* Whether the whole run is over (before this episode starts another). */
static int run_over(const struct sup *S)
{
	if (interrupted || atomic_load(&L->failed))
		return 1;
	if (now_ns() >= deadline_ns(S))
		return 1;
	if (C->cycles != 0)
		return S->cycles_done >= C->cycles;
	if (C->messages != 0 && !damage_mode())
		return S->episodes >= 1;
	if (C->messages != 0)
		return delivered_total() >= 2u * C->messages;
	return 0;
}

/* After a clean episode whose sides both left by themselves: each ring must be empty, also of
 * anything a side wrote after its last message (its receiver's last look came before the
 * peer's close). The supervisor takes each role in turn and receives with timeout 0. */
static void check_rings_empty(struct sup *S)
{
	unsigned char buf[64];

	for (int s = 0; s < 2; s++) {
		shmf_channel *ch = NULL;
		size_t n = 0;
		int rc = shmf_attach(S->name, s, 1000, &ch);
		if (rc != 0) {
			failf("after the episode: attach to side %c: %s (%s)", 'A' + s,
			      err_name(rc), shmf_strerror(rc));
			return;
		}
		rc = shmf_recv(ch, buf, sizeof buf, &n, 0);
		shmf_close(ch);
		if (rc == 0 || rc == SHMF_ETOOSMALL) {
			failf("%s: a frame of %zu bytes waits after the last message (after both "
			      "sides left)",
			      s == 0 ? "B->A" : "A->B", n);
			return;
		}
		if (rc != SHMF_EAGAIN && rc != SHMF_EPEERCLOSED) {
			failf("after the episode: side %c's receive: %s (%s)", 'A' + s,
			      err_name(rc), shmf_strerror(rc));
			return;
		}
	}
}

/* After a damage episode: attaching to what is left must give a named answer, never a crash. */
static void probe_attach(struct sup *S)
{
	shmf_channel *ch = NULL;
	int rc = shmf_attach(S->name, SHMF_SIDE_B, 0, &ch);

	uint64_t trunc = atomic_load(&L->ep.trunc_to);

	/* a file cut below its header's size (PROTOCOL.md 6.2): SHMF_ESIZE, as the doc says;
	 * one cut to nothing may look like a creation in progress, and with --scribble a damaged
	 * header may answer first */
	if (trunc > 1u && C->scribble <= 0 && rc != SHMF_ESIZE && !atomic_load(&L->failed)) {
		failf("attach to the segment truncated to %llu bytes: %s, not SHMF_ESIZE",
		      (unsigned long long)(trunc - 1u), err_name(rc));
		if (rc == 0)
			shmf_close(ch);
		return;
	}
	if (rc == 0) {
		shmf_close(ch);
		S->probes_ok++;
	} else if (strcmp(err_name(rc), "unknown") != 0) {
		tally(rc);
		S->probes_err++;
	} else {
		failf("attach to the damaged segment returned %d, which has no name", rc);
	}
}

/* One episode: a fresh channel, two sides (and a damager), faults, then stop and verify.
 * Returns 0 to go on, -1 to end the run. */
static int episode(struct sup *S, const shmf_config *cfg)
{
	shmf_channel *ch = NULL;
	int rc;

	snprintf(S->name, sizeof S->name, "/%s%llu", S->prefix, (unsigned long long)S->episodes);
	S->episodes++;
	rc = shmf_create(S->name, cfg, &ch);
	if (rc != 0) {
		S->sys_exit = shmf_cli_fail(CMD, S->name, rc); /* 8 no space, 9 other, ... */
		snprintf(S->sys_msg, sizeof S->sys_msg, "create %s: %s (%s)", S->name, err_name(rc),
		         shmf_strerror(rc));
		return -2;
	}
	S->have_name = 1;
	shmf_close(ch); /* role A is free (detached) for side A's process */
	memset(&L->ep, 0, sizeof L->ep);
	atomic_store(&L->ep.stall_side, -1);
	for (int s = 0; s < 2; s++) /* before its first attach, a side may look gone */
		atomic_store(&L->ep.s[s].ready_ns, INT64_MAX);

	int result = 0, clock_stop = 0; /* clock_stop: the clock, not --messages, ended it */
	uint64_t cycles_here = 0;
	S->both_pending = 0;
	/* the first processes are armed too, so that kill points fire from the start */
	uint64_t n0 = 0, n1 = 0;
	int kp0 = kp_arm(S, &n0), kp1 = kp_arm(S, &n1);
	/* Both sides attach at once (--sequential-start: A first). A side that waits while
	 * its peer makes its first attach after the supervisor's detach once took it for a
	 * close (docs/STRESS.md, "Findings" 1, fixed in 00b0d39): the default keeps that
	 * race tested. */
	if (spawn_side(S, 0, kp0, n0) != 0 || (!C->concurrent && wait_ready(S, 0) != 0) ||
	    spawn_side(S, 1, kp1, n1) != 0) {
		if (!atomic_load(&L->failed) && !atomic_load(&L->ep.end))
			failf("fork: %s", strerror(errno));
		result = atomic_load(&L->ep.end) && !atomic_load(&L->failed) ? 0 : -1;
		goto finish;
	}
	if (wait_ready(S, 0) != 0 || wait_ready(S, 1) != 0) {
		result = atomic_load(&L->ep.end) && !atomic_load(&L->failed) ? 0 : -1;
		goto finish;
	}
	if (damage_mode() && spawn_damager(S) != 0) {
		failf("fork: %s", strerror(errno));
		result = -1;
		goto finish;
	}

	int64_t t_ep = now_ns();
	int64_t end_ep = damage_mode() ? t_ep + (int64_t)C->episode_ms * MS : INT64_MAX;
	double rate = C->kill_writer + C->kill_reader;
	int64_t next_kill = rate > 0 ? t_ep + rnd_interval(&S->rng, rate) : INT64_MAX;
	int64_t next_stall = C->stall ? t_ep + 300 * MS : INT64_MAX;
	int64_t stall_until = 0, stop_at = 0;
	uint64_t last_progress = atomic_load(&L->progress), cyc_mark = 0, cyc_target = 0;
	uint64_t cyc_done = S->cycles_done; /* the cycles counted into cycles_here */
	int64_t last_change = now_ns(), cyc_t = now_ns();
	int stopping = 0;

	for (;;) {
		int64_t now = now_ns();
		reap(S);
		if (interrupted || atomic_load(&L->failed)) {
			result = -1;
			break;
		}
		if (atomic_load(&L->ep.end)) /* a damage episode met its named error */
			break;
		if (S->side[0].exited && S->side[1].exited)
			break; /* --messages: both finished by themselves */
		if (restarts(S, stopping) != 0) {
			result = -1;
			break;
		}
		int both = S->side[0].alive && S->side[1].alive;
		uint64_t prog = atomic_load(&L->progress);
		if (prog != last_progress) {
			last_progress = prog;
			last_change = now;
		}
		if (stopping) {
			if (S->side[0].exited && S->side[1].exited)
				break;
			if (now - stop_at > 30000 * MS) {
				failf("the sides did not finish within 30 s of the stop (a "
				      "hang)");
				result = -1;
				break;
			}
			sleep_ns(MS);
			continue;
		}
		/* --messages N: each direction sends all N by itself (a stop now would cut
		 * the other one short); only the clock stops it early */
		int cycles_full = C->cycles != 0 && (cycles_here >= C->cycles_per_channel ||
		                                     S->cycles_done >= C->cycles);
		if (both && (now >= deadline_ns(S) || now >= end_ep || cycles_full ||
		             (C->messages != 0 && damage_mode() &&
		              delivered_total() >= 2u * C->messages))) {
			clock_stop = now >= deadline_ns(S) || now >= end_ep || cycles_full;
			atomic_store(&L->ep.stall_side, -1);
			atomic_store(&L->ep.stop, 1);
			stopping = 1;
			stop_at = now;
			continue;
		}
		if (!both) {
			/* a side is down (waiting for the survivor's SHMF_EPEERGONE, which
			 * restarts() bounds) or finished: the other must still make
			 * progress */
			uint64_t bound_ms = C->hang_ms + C->stall_ms;
			if (now - last_change > (int64_t)bound_ms * MS) {
				failf("no message delivered either way for %llu ms while "
				      "side %c "
				      "was down (a hang)",
				      (unsigned long long)bound_ms, S->side[0].alive ? 'B' : 'A');
				result = -1;
				break;
			}
			sleep_ns(MS / 2);
			continue;
		}
		if (now >= next_kill) {
			int victim = (int)(rnd(&S->rng) & 1u);
			int reader = rnd_below(&S->rng, 1000000) <
			             (uint64_t)(C->kill_reader / rate * 1e6);
			kill_side(S, victim, reader);
			next_kill = now_ns() + rnd_interval(&S->rng, rate);
			continue;
		}
		if (C->cycles != 0) {
			uint64_t done = S->takeovers;
			if (done != cyc_mark) { /* a side was replaced: set the next target */
				cyc_mark = done;
				cycles_here += S->cycles_done - cyc_done;
				cyc_done = S->cycles_done;
				cyc_t = now;
				cyc_target = prog + 1u + rnd_below(&S->rng, 64);
			}
			if (prog >= cyc_target || now - cyc_t > 300 * MS) {
				uint64_t r = rnd_below(&S->rng, 8);
				if (r == 0) { /* both at once: no survivor, both roles taken
					         over */
					kill_side(S, 0, 0);
					kill_side(S, 1, 1);
				} else {
					kill_side(S, (int)(r & 1u), (int)((r >> 1) & 1u));
				}
				cyc_t = now_ns();
				cyc_target = UINT64_MAX;
				continue;
			}
		}
		if (C->stall) {
			if (stall_until != 0 && now >= stall_until) {
				atomic_store(&L->ep.stall_side, -1);
				stall_until = 0;
				next_stall = now + (int64_t)(300 + rnd_below(&S->rng, 500)) * MS;
			} else if (stall_until == 0 && now >= next_stall) {
				stall_until = now + (int64_t)C->stall_ms * MS;
				atomic_store(&L->ep.stall_start, now);
				atomic_store(&L->ep.stall_end, stall_until);
				atomic_store(&L->ep.stall_side, (int)(rnd(&S->rng) & 1u));
				atomic_fetch_add(&L->ep.stall_seq, 1);
				S->stalls++;
			}
		}
		int stalled = stall_until != 0;
		if (!stalled && now - last_change > (int64_t)C->hang_ms * MS) {
			if (damage_mode() &&
			    atomic_load(&L->ep.faulted)) { /* damage can fake a full ring: a
				                              stall, by timeouts */
				S->stall_episodes++;
				int zero = 0;
				atomic_compare_exchange_strong(&L->ep.end_code, &zero,
				                               SHMF_ETIMEDOUT);
				atomic_store(&L->ep.end, 1);
				break;
			}
			failf("no message delivered either way for %llu ms (a hang)",
			      (unsigned long long)C->hang_ms);
			result = -1;
			break;
		}
		sleep_ns(MS / 2);
	}
finish:
	if (result == 0 && atomic_load(&L->ep.end)) {
		/* A damage episode ended: let the sides see it and leave (their calls are
		 * bounded).
		 */
		int64_t limit = now_ns() + 10000 * MS;
		while ((S->side[0].alive || S->side[1].alive) && now_ns() < limit) {
			reap(S);
			sleep_ns(MS);
		}
		if (S->side[0].alive || S->side[1].alive) {
			failf("the sides did not leave within 10 s of the episode's end (a "
			      "hang)");
			result = -1;
		}
		int code = atomic_load(&L->ep.end_code);
		if (!atomic_load(&L->failed) && code < 0 && code > -NERR)
			S->ended_by[-code]++;
	}
	kill_all(S);
	for (int d = 0; d < 2; d++) { /* committed: exactly what the records say */
		uint64_t next, pos;
		rec_get(&L->ep.d[d].srec, &next, &pos);
		S->committed[d] += next;
	}
	if (result == 0 && !atomic_load(&L->failed) && !atomic_load(&L->ep.end)) {
		/* Verify: everything committed each way was delivered (PROTO 7: exactly
		 * once). */
		for (int d = 0; d < 2; d++) {
			uint64_t got, pos, fin = atomic_load(&L->ep.d[d].sent_final);
			rec_get(&L->ep.d[d].rrec, &got, &pos);
			if (!atomic_load(&L->ep.d[d].sender_done) || got != fin) {
				failf("%s: %llu messages committed, %llu delivered",
				      d == 0 ? "A->B" : "B->A", (unsigned long long)fin,
				      (unsigned long long)got);
				result = -1;
			} else if (C->messages != 0 && !damage_mode() && !clock_stop &&
			           fin != C->messages) {
				failf("%s: %llu messages delivered, --messages asked for "
				      "%llu",
				      d == 0 ? "A->B" : "B->A", (unsigned long long)fin,
				      (unsigned long long)C->messages);
				result = -1;
			}
		}
		if (damage_mode() && result == 0)
			S->clean_episodes++;
		if (!damage_mode() && result == 0 && S->side[0].exited && S->side[1].exited)
			check_rings_empty(S);
	}
	if (damage_mode() && !atomic_load(&L->failed))
		probe_attach(S);
	if (shmf_unlink(S->name) == 0)
		S->have_name = 0;
	return atomic_load(&L->failed) ? -1 : result;
}

/* ---- summary
 * --------------------------------------------------------------------------------- */

static uint64_t percentile(const struct dir_tot *t, double q)
{
	uint64_t n = atomic_load(&t->lat_n), seen = 0;

	if (n == 0)
		return 0;
	uint64_t want = (uint64_t)(q * (double)n);
	if (want >= n)
		want = n - 1u;
	for (unsigned i = 0; i < NBUCKET; i++) {
		seen += atomic_load(&t->hist[i]);
		if (seen > want) {
			uint64_t top = bucket_top(i), max = atomic_load(&t->lat_max);
			return top < max ? top : max;
		}
	}
	return atomic_load(&t->lat_max);
}

static void fmt_ns(char *buf, size_t n, uint64_t ns)
{
	if (ns < 10000u)
		snprintf(buf, n, "%llu ns", (unsigned long long)ns);
	else if (ns < 10000000u)
		snprintf(buf, n, "%.1f us", (double)ns / 1e3);
	else
		snprintf(buf, n, "%.1f ms", (double)ns / 1e6);
}

static uint64_t injected(const struct sup *S)
{
	return S->kills_writer + S->kills_reader + S->kp_deaths + atomic_load(&L->scribbles) +
	       atomic_load(&L->truncations) + S->stalls;
}

static uint64_t detected(const struct sup *S)
{
	uint64_t n = S->gone_confirmed + S->no_survivor + atomic_load(&L->stalls_measured) +
	             S->stall_episodes;

	for (int i = 0; i < NERR; i++)
		n += S->ended_by[i];
	return n;
}

static void print_text(const struct sup *S, double secs, int ok, const char *failure)
{
	printf("shmframe stress: seed %llu, %.1f s, capacity %llu, max-message %llu, %s\n",
	       (unsigned long long)C->seed, secs, (unsigned long long)C->capacity,
	       (unsigned long long)C->max_message,
	       ok                                    ? "ok"
	       : strcmp(failure, "interrupted") == 0 ? "interrupted"
	                                             : "FAILED");
	for (int d = 0; d < 2; d++) {
		const struct dir_tot *t = &L->t[d];
		char p50[32], p99[32], mx[32];
		uint64_t m = atomic_load(&t->delivered), b = atomic_load(&t->bytes);
		fmt_ns(p50, sizeof p50, percentile(t, 0.50));
		fmt_ns(p99, sizeof p99, percentile(t, 0.99));
		fmt_ns(mx, sizeof mx, atomic_load(&t->lat_max));
		printf("  %s: %llu messages (%llu committed), %llu bytes, %.0f msg/s, %.2f "
		       "MiB/s; "
		       "latency p50 %s, p99 %s, max %s\n",
		       d == 0 ? "A->B" : "B->A", (unsigned long long)m,
		       (unsigned long long)S->committed[d], (unsigned long long)b, (double)m / secs,
		       (double)b / secs / 1048576.0, p50, p99, mx);
		if (atomic_load(&t->dead_committed) || atomic_load(&t->dead_consumed))
			printf("        in takeovers: %llu sends committed by a dead "
			       "sender, %llu "
			       "messages consumed by a dead receiver\n",
			       (unsigned long long)atomic_load(&t->dead_committed),
			       (unsigned long long)atomic_load(&t->dead_consumed));
	}
	printf("  faults injected: %llu (kills: %llu writer, %llu reader, %llu inside the "
	       "call; "
	       "kill points %llu; both sides at once %llu; scribbles %llu; truncations "
	       "%llu; "
	       "stalls %llu)\n",
	       (unsigned long long)injected(S), (unsigned long long)S->kills_writer,
	       (unsigned long long)S->kills_reader, (unsigned long long)S->kills_in_call,
	       (unsigned long long)S->kp_deaths, (unsigned long long)S->kills_both,
	       (unsigned long long)atomic_load(&L->scribbles),
	       (unsigned long long)atomic_load(&L->truncations), (unsigned long long)S->stalls);
	printf("  faults detected: %llu (deaths reported as SHMF_EPEERGONE %llu, by %llu "
	       "calls, "
	       "max %.1f ms after the death; deaths without a live survivor %llu; "
	       "takeovers %llu",
	       (unsigned long long)detected(S), (unsigned long long)S->gone_confirmed,
	       (unsigned long long)atomic_load(&L->gone_n),
	       (double)atomic_load(&L->gone_max_ns) / 1e6, (unsigned long long)S->no_survivor,
	       (unsigned long long)S->takeovers);
	if (C->stall)
		printf("; stalls measured %llu (not blocked %llu), writer CPU max %.2f%%",
		       (unsigned long long)atomic_load(&L->stalls_measured),
		       (unsigned long long)atomic_load(&L->stalls_unblocked),
		       (double)atomic_load(&L->stall_cpu_max_ppm) / 1e4);
	printf(")\n");
	printf("  machine stalls: longest %.1f ms; late calls excused %llu (%llu of them by the "
	       "calling thread's own wait for a CPU, not by a stall), late beyond that %llu\n",
	       (double)atomic_load(&L->lag_max_ns) / 1e6,
	       (unsigned long long)atomic_load(&L->excused),
	       (unsigned long long)atomic_load(&L->excused_cpu),
	       (unsigned long long)atomic_load(&L->overruns));
	if (damage_mode()) {
		printf("  episodes: %llu; ended by a named error:",
		       (unsigned long long)S->episodes);
		for (int i = 0; i < NERR; i++)
			if (S->ended_by[i])
				printf(" %s %llu", err_name(-i),
				       (unsigned long long)S->ended_by[i]);
		printf("; by a stall (timeouts) %llu; clean %llu; attach afterwards: ok "
		       "%llu, "
		       "named "
		       "error %llu\n",
		       (unsigned long long)S->stall_episodes, (unsigned long long)S->clean_episodes,
		       (unsigned long long)S->probes_ok, (unsigned long long)S->probes_err);
	}
	if (C->cycles != 0)
		printf("  cycles: %llu kill-restart cycles over %llu channels\n",
		       (unsigned long long)S->cycles_done, (unsigned long long)S->episodes);
	printf("  errors:");
	int any = 0;
	for (int i = 1; i < NERR; i++) {
		uint64_t n = atomic_load(&L->errs[i]);
		if (n != 0) {
			printf(" %s %llu", err_name(-i), (unsigned long long)n);
			any = 1;
		}
	}
	printf("%s\n", any ? "" : " none");
	if (!ok && strcmp(failure, "interrupted") == 0)
		printf("  interrupted (seed %llu)\n", (unsigned long long)C->seed);
	else if (!ok)
		printf("  FAILED: %s\n  reproduce with --seed %llu\n", failure,
		       (unsigned long long)C->seed);
}

static void print_json(const struct sup *S, double secs, int ok, const char *failure, int fd_leak,
                       int names_left)
{
	printf("{\"schema\":1,\"seed\":%llu,\"seconds\":%.3f,\"capacity\":%llu,\"max_"
	       "message\":%"
	       "llu,"
	       "\"result\":\"%s\",\"directions\":[",
	       (unsigned long long)C->seed, secs, (unsigned long long)C->capacity,
	       (unsigned long long)C->max_message,
	       ok                                    ? "ok"
	       : strcmp(failure, "interrupted") == 0 ? "interrupted"
	                                             : "failed");
	for (int d = 0; d < 2; d++) {
		const struct dir_tot *t = &L->t[d];
		uint64_t m = atomic_load(&t->delivered), b = atomic_load(&t->bytes);
		printf("%s{\"dir\":\"%s\",\"messages\":%llu,\"committed\":%llu,\"bytes\":%"
		       "llu,"
		       "\"msg_per_s\":%.1f,\"mib_per_s\":%.3f,\"latency_ns\":{\"p50\":%llu,"
		       "\"p99\":"
		       "%llu,\"max\":%llu},\"dead_committed\":%llu,\"dead_consumed\":%llu}",
		       d ? "," : "", d == 0 ? "A->B" : "B->A", (unsigned long long)m,
		       (unsigned long long)S->committed[d], (unsigned long long)b, (double)m / secs,
		       (double)b / secs / 1048576.0, (unsigned long long)percentile(t, 0.50),
		       (unsigned long long)percentile(t, 0.99),
		       (unsigned long long)atomic_load(&t->lat_max),
		       (unsigned long long)atomic_load(&t->dead_committed),
		       (unsigned long long)atomic_load(&t->dead_consumed));
	}
	printf("],\"errors\":{");
	int first = 1;
	for (int i = 1; i < NERR; i++) {
		uint64_t n = atomic_load(&L->errs[i]);
		if (n != 0) {
			printf("%s\"%s\":%llu", first ? "" : ",", err_name(-i),
			       (unsigned long long)n);
			first = 0;
		}
	}
	printf("},\"faults\":{\"injected\":%llu,\"detected\":%llu,\"kills_writer\":%llu,"
	       "\"kills_reader\":%llu,\"kills_in_call\":%llu,\"kill_points\":%llu,"
	       "\"kills_both\":%llu,\"scribbles\":%llu,\"truncations\":%llu,\"stalls\":%"
	       "llu,"
	       "\"peer_gone\":%llu,\"peer_gone_calls\":%llu,\"no_survivor\":%llu,"
	       "\"peer_gone_max_ms\":%.3f,\"takeovers\":%llu,"
	       "\"stalls_measured\":%llu,\"stalls_unblocked\":%llu,\"stall_cpu_max_pct\":%."
	       "3f,"
	       "\"cycles\":%llu,\"episodes\":%llu,\"stall_episodes\":%llu,\"clean_"
	       "episodes\":%llu,"
	       "\"ended_by\":{",
	       (unsigned long long)injected(S), (unsigned long long)detected(S),
	       (unsigned long long)S->kills_writer, (unsigned long long)S->kills_reader,
	       (unsigned long long)S->kills_in_call, (unsigned long long)S->kp_deaths,
	       (unsigned long long)S->kills_both, (unsigned long long)atomic_load(&L->scribbles),
	       (unsigned long long)atomic_load(&L->truncations), (unsigned long long)S->stalls,
	       (unsigned long long)S->gone_confirmed, (unsigned long long)atomic_load(&L->gone_n),
	       (unsigned long long)S->no_survivor, (double)atomic_load(&L->gone_max_ns) / 1e6,
	       (unsigned long long)S->takeovers,
	       (unsigned long long)atomic_load(&L->stalls_measured),
	       (unsigned long long)atomic_load(&L->stalls_unblocked),
	       (double)atomic_load(&L->stall_cpu_max_ppm) / 1e4, (unsigned long long)S->cycles_done,
	       (unsigned long long)S->episodes, (unsigned long long)S->stall_episodes,
	       (unsigned long long)S->clean_episodes);
	first = 1;
	for (int i = 0; i < NERR; i++) {
		if (S->ended_by[i]) {
			printf("%s\"%s\":%llu", first ? "" : ",", err_name(-i),
			       (unsigned long long)S->ended_by[i]);
			first = 0;
		}
	}
	printf("}},\"machine_stall_max_ms\":%.3f,\"late_excused\":%llu,"
	       "\"late_excused_cpu_wait\":%llu,\"late_calls\":%llu,\"overrun_max_ms\":%.3f",
	       (double)atomic_load(&L->lag_max_ns) / 1e6,
	       (unsigned long long)atomic_load(&L->excused),
	       (unsigned long long)atomic_load(&L->excused_cpu),
	       (unsigned long long)atomic_load(&L->overruns),
	       (double)atomic_load(&L->overrun_max_ns) / 1e6);
	printf(",\"fd_leak\":%d,\"shm_names_left\":%d,\"failure\":", fd_leak, names_left);
	if (ok)
		printf("null}\n");
	else {
		shmf_json_cstr(stdout, failure);
		printf("}\n");
	}
}

/* ---- options
 * --------------------------------------------------------------------------------- */

static const char help_stress[] =
        "usage: shmframe stress [--duration S | --messages N | --cycles N] [OPTIONS]\n"
        "\n"
        "A seeded duplex stress run: the supervisor forks side A and side B on a fresh "
        "channel,\n"
        "each with a sender and a receiver thread; message k of each direction has a "
        "length\n"
        "and bytes that are a function of (seed, direction, k), checked byte for byte, and "
        "the\n"
        "index must be exactly the next one. Faults are injected on request. Exit 0 only "
        "when\n"
        "every committed message was delivered exactly once, in order, intact, and every "
        "fault\n"
        "was detected as PROTOCOL.md says.\n"
        "\n"
        "  --duration S         run S seconds (default 10 without --messages or --cycles)\n"
        "  --messages N         N messages each way (per channel), all of them\n"
        "  --cycles N           N kill -9 / take-over cycles (a fresh channel every 50;\n"
        "                       a kill of both sides at once is one cycle)\n"
        "  --sizes SPEC         N, A-B, or mix (0, the maximum and between; default mix)\n"
        "  --capacity BYTES     bytes per ring (default 64K)\n"
        "  --max-message BYTES  the largest message (default 4K)\n"
        "  --seed N             the seed (default: random; printed)\n"
        "  --jitter             random pauses, timeouts, spin counts, batching and short\n"
        "                       buffers\n"
        "  --kill-writer RATE   SIGKILL a side while its sender is in shmf_send, RATE/s\n"
        "  --kill-reader RATE   SIGKILL a side while its receiver is in shmf_recv, RATE/s\n"
        "  --kill-point NAME    (kill-point build) sides die at NAME: after-reserve, "
        "mid-copy,\n"
        "                       before-publish, seq-published, pad, consume\n"
        "  --kp-every N         a side dies at hit 1 .. 2N of the kill point (default "
        "2000)\n"
        "  --scribble RATE      a third process writes random bytes into the segment, "
        "RATE/s;\n"
        "                       each episode (fresh channel) ends at the first named "
        "error\n"
        "  --scribble-target T  all (default), header, roles, control, positions "
        "(plausible\n"
        "                       shifts of wpos and rpos) or frames (bytes in flight)\n"
        "  --truncate           a third process shrinks the segment once per episode\n"
        "  --stall-reader       receivers stop for --stall-ms now and then; the blocked\n"
        "                       writer must stay under --cpu-max CPU\n"
        "  --stall-ms MS        the stall, 270 or more (default 1000)\n"
        "  --cpu-max PERCENT    the blocked writer's CPU limit (default 10)\n"
        "  --gone-bound MS      SHMF_EPEERGONE must come within MS of a death (default "
        "500)\n"
        "  --episode-ms MS      the longest damage episode (default 3000)\n"
        "  --sequential-start   start side B only once A has attached (default: both at "
        "once;\n"
        "                       --concurrent-start asks for the default)\n"
        "  --json               the summary as one JSON object\n"
        "\n"
        "exit status: 0 ok, 1 a check failed (the reason and the seed are printed), 2 "
        "usage,\n"
        "8 no space for the segment, 9 system error, 130 interrupted.\n";

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	shmf_cli_err(CMD, NULL, "%s", msg);
	fprintf(stderr, "Try 'shmframe stress --help'.\n");
	return SHMF_EXIT_USAGE;
}

static int parse_double(const char *s, double max, double *out)
{
	char *end;

	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_sizes(const char *s, struct st_cfg *c)
{
	const char *dash = strchr(s, '-');
	char lo[32];

	if (strcmp(s, "mix") == 0) {
		c->sz_kind = SZ_MIX;
		return 0;
	}
	if (dash == NULL) {
		c->sz_kind = SZ_FIXED;
		if (shmf_cli_parse_size(s, 1u << 30, &c->sz_lo) != 0)
			return -1;
		c->sz_hi = c->sz_lo;
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof lo)
		return -1;
	memcpy(lo, s, (size_t)(dash - s));
	lo[dash - s] = '\0';
	c->sz_kind = SZ_RANGE;
	if (shmf_cli_parse_size(lo, 1u << 30, &c->sz_lo) != 0 ||
	    shmf_cli_parse_size(dash + 1, 1u << 30, &c->sz_hi) != 0 || c->sz_lo > c->sz_hi)
		return -1;
	return 0;
}

enum {
	OPT_DURATION = 256,
	OPT_MESSAGES,
	OPT_CYCLES,
	OPT_SIZES,
	OPT_CAPACITY,
	OPT_MAXMSG,
	OPT_SEED,
	OPT_JITTER,
	OPT_KW,
	OPT_KR,
	OPT_KP,
	OPT_KPEVERY,
	OPT_SCRIBBLE,
	OPT_TARGET,
	OPT_TRUNCATE,
	OPT_CONCURRENT,
	OPT_SEQUENTIAL,
	OPT_STALL,
	OPT_STALLMS,
	OPT_CPUMAX,
	OPT_GONE,
	OPT_EPISODE,
	OPT_JSON,
	OPT_HELP
};

static int parse(int argc, char **argv, struct st_cfg *c)
{
	static const struct option longopts[] = {
	        {"duration", required_argument, NULL, OPT_DURATION},
	        {"messages", required_argument, NULL, OPT_MESSAGES},
	        {"cycles", required_argument, NULL, OPT_CYCLES},
	        {"sizes", required_argument, NULL, OPT_SIZES},
	        {"capacity", required_argument, NULL, OPT_CAPACITY},
	        {"max-message", required_argument, NULL, OPT_MAXMSG},
	        {"seed", required_argument, NULL, OPT_SEED},
	        {"jitter", no_argument, NULL, OPT_JITTER},
	        {"kill-writer", required_argument, NULL, OPT_KW},
	        {"kill-reader", required_argument, NULL, OPT_KR},
	        {"kill-point", required_argument, NULL, OPT_KP},
	        {"kp-every", required_argument, NULL, OPT_KPEVERY},
	        {"scribble", required_argument, NULL, OPT_SCRIBBLE},
	        {"scribble-target", required_argument, NULL, OPT_TARGET},
	        {"truncate", no_argument, NULL, OPT_TRUNCATE},
	        {"concurrent-start", no_argument, NULL, OPT_CONCURRENT}, /* the default; kept */
	        {"sequential-start", no_argument, NULL, OPT_SEQUENTIAL},
	        {"stall-reader", no_argument, NULL, OPT_STALL},
	        {"stall-ms", required_argument, NULL, OPT_STALLMS},
	        {"cpu-max", required_argument, NULL, OPT_CPUMAX},
	        {"gone-bound", required_argument, NULL, OPT_GONE},
	        {"episode-ms", required_argument, NULL, OPT_EPISODE},
	        {"json", no_argument, NULL, OPT_JSON},
	        {"help", no_argument, NULL, OPT_HELP},
	        {NULL, 0, NULL, 0}};
	int has_cap = 0, has_max = 0, has_seed = 0, opt;
	double pct = 10;

	memset(c, 0, sizeof *c);
	c->sz_kind = SZ_MIX;
	c->capacity = 64u << 10;
	c->max_message = 4u << 10;
	c->concurrent = 1;
	c->kp_every = 2000;
	c->stall_ms = 1000;
	c->gone_bound_ms = 500;
	c->episode_ms = 3000;
	c->hang_ms = 10000;
	c->cycles_per_channel = 50;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		const char *a = optarg;
		switch (opt) {
		case OPT_DURATION:
			if (parse_double(a, 1e7, &c->duration_s) != 0 || c->duration_s <= 0)
				return usage_err("--duration: a number of seconds, not '%s'", a);
			break;
		case OPT_MESSAGES:
			if (shmf_cli_parse_u64(a, UINT64_MAX / 4u, &c->messages) != 0 ||
			    c->messages == 0)
				return usage_err("--messages: a positive count, not '%s'", a);
			break;
		case OPT_CYCLES:
			if (shmf_cli_parse_u64(a, 100000000u, &c->cycles) != 0 || c->cycles == 0)
				return usage_err("--cycles: a positive count, not '%s'", a);
			break;
		case OPT_SIZES:
			if (parse_sizes(a, c) != 0)
				return usage_err("--sizes: N, A-B or mix, not '%s'", a);
			break;
		case OPT_CAPACITY:
			if (shmf_cli_parse_size(a, 1u << 30, &c->capacity) != 0)
				return usage_err("--capacity: a size, not '%s'", a);
			has_cap = 1;
			break;
		case OPT_MAXMSG:
			if (shmf_cli_parse_size(a, 1u << 29, &c->max_message) != 0)
				return usage_err("--max-message: a size, not '%s'", a);
			has_max = 1;
			break;
		case OPT_SEED:
			errno = 0;
			char *end;
			/* decimal only, as the summary prints it (base 0 read 010 as 8) */
			c->seed = strtoull(a, &end, 10);
			if (errno != 0 || end == a || *end != '\0' || a[0] < '0' || a[0] > '9')
				return usage_err("--seed: a decimal number, not '%s'", a);
			has_seed = 1;
			break;
		case OPT_JITTER: c->jitter = 1; break;
		case OPT_KW:
		case OPT_KR: {
			double *r = opt == OPT_KW ? &c->kill_writer : &c->kill_reader;
			if (parse_double(a, 1000, r) != 0 || *r <= 0)
				return usage_err("--kill-%s: kills a second, not '%s'",
				                 opt == OPT_KW ? "writer" : "reader", a);
			break;
		}
		case OPT_KP:
			for (int i = 0; i < NKP; i++)
				if (strcmp(a, kp_names[i]) == 0)
					c->kp = i + 1;
			if (c->kp == 0)
				return usage_err("--kill-point: after-reserve, mid-copy, "
				                 "before-publish, seq-published, pad or consume, "
				                 "not '%s'",
				                 a);
			if (!HAVE_KP)
				return usage_err("--kill-point needs the kill-point build "
				                 "(shmframe_kp, built with the tests)");
			break;
		case OPT_KPEVERY:
			if (shmf_cli_parse_u64(a, 1000000000u, &c->kp_every) != 0 ||
			    c->kp_every == 0)
				return usage_err("--kp-every: a positive count, not '%s'", a);
			break;
		case OPT_SCRIBBLE:
			if (parse_double(a, 1e6, &c->scribble) != 0 || c->scribble <= 0)
				return usage_err("--scribble: writes a second, not '%s'", a);
			break;
		case OPT_TARGET:
			c->target = -1;
			for (int i = 0; i < (int)(sizeof target_names / sizeof target_names[0]);
			     i++)
				if (strcmp(a, target_names[i]) == 0)
					c->target = i;
			if (c->target < 0)
				return usage_err("--scribble-target: all, header, roles, control, "
				                 "positions or frames, not '%s'",
				                 a);
			break;
		case OPT_TRUNCATE: c->truncate = 1; break;
		case OPT_CONCURRENT: c->concurrent = 1; break;
		case OPT_SEQUENTIAL: c->concurrent = 0; break;
		case OPT_STALL: c->stall = 1; break;
		case OPT_STALLMS:
			/* the writer's CPU is measured from 150 ms into the stall to 20 ms
			 * before its end, over 100 ms at least */
			if (shmf_cli_parse_u64(a, 600000, &c->stall_ms) != 0 || c->stall_ms < 270)
				return usage_err("--stall-ms: 270 to 600000, not '%s'", a);
			break;
		case OPT_CPUMAX:
			if (parse_double(a, 100, &pct) != 0)
				return usage_err("--cpu-max: a percentage, not '%s'", a);
			break;
		case OPT_GONE:
			if (shmf_cli_parse_u64(a, 600000, &c->gone_bound_ms) != 0 ||
			    c->gone_bound_ms == 0)
				return usage_err("--gone-bound: milliseconds, not '%s'", a);
			break;
		case OPT_EPISODE:
			if (shmf_cli_parse_u64(a, 3600000, &c->episode_ms) != 0 ||
			    c->episode_ms < 100)
				return usage_err("--episode-ms: 100 or more, not '%s'", a);
			break;
		case OPT_JSON: c->json = 1; break;
		case OPT_HELP: return -1;
		default: return usage_err("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_err("unexpected argument '%s'", argv[optind]);
	c->cpu_max = pct / 100.0;
	if (c->duration_s == 0 && c->messages == 0 && c->cycles == 0)
		c->duration_s = 10;
	if (c->sz_kind != SZ_MIX && c->sz_hi > c->max_message) {
		if (has_max)
			return usage_err("--sizes goes up to %llu, above --max-message %llu",
			                 (unsigned long long)c->sz_hi,
			                 (unsigned long long)c->max_message);
		c->max_message = c->sz_hi;
	}
	if (!has_cap)
		while (c->capacity < (1u << 30) &&
		       c->capacity < 8u * shmf_frame_bytes((size_t)c->max_message))
			c->capacity <<= 1;
	if ((c->capacity & (c->capacity - 1u)) != 0 || c->capacity < 256 ||
	    2u * shmf_frame_bytes((size_t)c->max_message) > c->capacity)
		return usage_err("--capacity %llu and --max-message %llu break the geometry rule "
		                 "(a power of two, 2 * align8(24 + max) <= capacity)",
		                 (unsigned long long)c->capacity,
		                 (unsigned long long)c->max_message);
	if (c->cycles != 0 && (c->scribble > 0 || c->truncate))
		return usage_err("--cycles does not combine with --scribble or --truncate");
	if (!has_seed) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		c->seed = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		                ((uint64_t)getpid() << 40));
	}
	return 0;
}

/* ---- the command
 * ----------------------------------------------------------------------------- */

int shmf_cmd_stress(int argc, char **argv)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct st_cfg cfg;
	struct sup S;
	shmf_config sc;
	int rc = parse(argc, argv, &cfg);

	if (rc < 0) {
		fputs(help_stress, stdout);
		return SHMF_EXIT_OK;
	}
	if (rc != 0)
		return rc;
	C = &cfg;
	int fds0 = count_fds();
	L = mmap(NULL, sizeof *L, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (L == MAP_FAILED) {
		shmf_cli_err(CMD, NULL, "mmap: %s", strerror(errno));
		return SHMF_EXIT_SYSTEM;
	}
	memset(L, 0, sizeof *L);
	memset(&S, 0, sizeof S);
	S.rng = mix64(cfg.seed ^ 0x50B);
	snprintf(S.prefix, sizeof S.prefix, "shmf-stress-%d-", (int)getpid());
	unsetenv("SHMF_KILL_POINT"); /* only the sides the supervisor arms have one */
	(void)shmf_sigbus_guard(1);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
	shmf_config_init(&sc);
	sc.capacity = (size_t)cfg.capacity;
	sc.max_message = (size_t)cfg.max_message;
	if (!cfg.json) {
		printf("shmframe stress: seed %llu\n", (unsigned long long)cfg.seed);
		fflush(stdout);
	}

	S.t0 = now_ns();
	L->t0_ns = S.t0; /* before the first fork: the origin of every send time */
	int sys = 0;
	while (!run_over(&S)) {
		int e = episode(&S, &sc);
		if (e == -2) {
			sys = 1;
			break;
		}
		if (e != 0)
			break;
	}
	kill_all(&S);
	if (S.have_name)
		shmf_unlink(S.name);
	double secs = (double)(now_ns() - S.t0) / 1e9;
	if (secs <= 0)
		secs = 1e-9;

	int fds1 = count_fds();
	int names = count_names(S.prefix);
	if (fds1 != fds0 && !atomic_load(&L->failed))
		failf("the supervisor holds %d descriptors, %d before the run (a leak)", fds1,
		      fds0);
	if (names != 0 && !atomic_load(&L->failed))
		failf("%d names of this run are left in /dev/shm", names);
	int failed = atomic_load(&L->failed) != 0;
	const char *failure = failed ? L->fail_msg : sys ? S.sys_msg : "";
	if (failed && atomic_load(&L->failed) != 2)
		failure = "a check failed, but its process died before it wrote why";
	int ok = !failed && !interrupted && !sys;
	/* a check that failed is the result, even if a signal came after it */
	if (!failed && !sys && interrupted)
		failure = "interrupted";
	if (cfg.json)
		print_json(&S, secs, ok, failure, fds1 - fds0, names);
	else
		print_text(&S, secs, ok, failure);
	if (failed)
		shmf_cli_err(CMD, NULL, "FAILED (seed %llu): %s", (unsigned long long)cfg.seed,
		             failure);
	munmap(L, sizeof *L);
	L = NULL;
	if (sys)
		return S.sys_exit; /* the channel could not be created: reported above */
	if (failed)
		return SHMF_EXIT_DAMAGE;
	return interrupted ? SHMF_EXIT_INTERRUPTED : SHMF_EXIT_OK;
}
