/* bench_report.c - what `shmframe bench` prints and writes (bench.h): latency statistics, the
 * table of medians with their spread and ratios, the targets of issue #8, every repetition as
 * CSV and JSON, and the data files and gnuplot run behind the SVG plots.
 *
 * Ratios are taken rep by rep (the baselines ran in the same repetition, interleaved), then the
 * median and the worst of those per-rep ratios are shown: a noisy neighbour then shifts both
 * sides of a ratio, not one.
 */
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define CDF_POINTS 400

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least q of the samples at or below it. */
static uint64_t quantile(const uint64_t *s, size_t n, double q)
{
	double x = q * (double)n;
	size_t k = (size_t)x;

	if ((double)k < x)
		k++; /* ceil, without libm */
	return s[k == 0 ? 0 : (k > n ? n - 1 : k - 1)];
}

/* The quantiles the distribution plot uses: 1 - 10^(-4 k / CDF_POINTS), k = 0 .. CDF_POINTS - 1,
 * so that the points are dense towards the tail (up to p99.99). */
static double cdf_q(int k)
{
	double tail = 1.0;

	for (int i = 0; i < k; i++)
		tail *= 0.977237220955810658; /* 10^(-4 / CDF_POINTS) with CDF_POINTS = 400 */
	return 1.0 - tail;
}

void bench_lat_stats(uint64_t *s, size_t n, struct bench_result *res)
{
	double sum = 0;

	res->nlat = n;
	if (n == 0)
		return;
	qsort(s, n, sizeof *s, cmp_u64);
	for (size_t i = 0; i < n; i++)
		sum += (double)s[i];
	res->lat[LAT_MIN] = (double)s[0];
	res->lat[LAT_P50] = (double)quantile(s, n, 0.5);
	res->lat[LAT_P99] = (double)quantile(s, n, 0.99);
	res->lat[LAT_P999] = (double)quantile(s, n, 0.999);
	res->lat[LAT_MAX] = (double)s[n - 1];
	res->lat[LAT_MEAN] = sum / (double)n;
}

/* ---- the latency distribution kept for the plot -------------------------------------------- */

static double cdf[TR_COUNT][CDF_POINTS];
static int cdf_have[TR_COUNT];

void bench_keep_cdf(enum bench_transport tr, const uint64_t *sorted, size_t n)
{
	if (n == 0)
		return;
	for (int k = 0; k < CDF_POINTS; k++) {
		cdf[tr][k] = (double)quantile(sorted, n, cdf_q(k));
	}
	cdf_have[tr] = 1;
}

/* ---- aggregation --------------------------------------------------------------------------- */

static const struct bench_result *find(const struct bench_result *r, size_t n, unsigned rep,
                                       enum bench_mode m, enum bench_transport t, size_t size)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].rep == rep && r[i].mode == m && r[i].tr == t && r[i].size == size &&
		    r[i].status == 0)
			return &r[i];
	return NULL;
}

/* The metric a table row is about. */
static double metric(const struct bench_result *x, int which)
{
	return which < 0 ? x->msg_s : x->lat[which];
}

struct agg {
	int n;
	double med, min, max;
};

static struct agg aggregate(double *v, int n)
{
	struct agg a = {n, 0, 0, 0};

	if (n == 0)
		return a;
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	a.min = v[0];
	a.max = v[n - 1];
	a.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return a;
}

/* Over the reps: the metric of (m, t, size). */
static struct agg over_reps(const struct bench_result *r, size_t n, unsigned reps,
                            enum bench_mode m, enum bench_transport t, size_t size, int which)
{
	double v[256];
	int k = 0;

	for (unsigned rep = 1; rep <= reps && k < 256; rep++) {
		const struct bench_result *x = find(r, n, rep, m, t, size);
		if (x != NULL)
			v[k++] = metric(x, which);
	}
	return aggregate(v, k);
}

/* Over the reps: metric(t) / metric(base) in the same rep. */
static struct agg ratio_reps(const struct bench_result *r, size_t n, unsigned reps,
                             enum bench_mode m, enum bench_transport t, enum bench_transport base,
                             size_t size, int which, size_t base_size)
{
	double v[256];
	int k = 0;

	for (unsigned rep = 1; rep <= reps && k < 256; rep++) {
		const struct bench_result *x = find(r, n, rep, m, t, size);
		const struct bench_result *y = find(r, n, rep, m, base, base_size);
		if (x != NULL && y != NULL && metric(y, which) > 0)
			v[k++] = metric(x, which) / metric(y, which);
	}
	return aggregate(v, k);
}

static int ran(const struct bench_opts *o, enum bench_mode m, enum bench_transport t)
{
	return (o->modes & (1u << m)) && (o->transports & (1ull << t));
}

static const char *skip_note(const struct bench_result *r, size_t n, enum bench_mode m,
                             enum bench_transport t, size_t size)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].mode == m && r[i].tr == t && r[i].size == size && r[i].status != 0)
			return r[i].note;
	return NULL;
}

static void fmt_size(char *b, size_t n, size_t size)
{
	if (size >= 1024 && size % 1024 == 0)
		(void)snprintf(b, n, "%zu KiB", size / 1024);
	else
		(void)snprintf(b, n, "%zu B", size);
}

/* ---- the table ----------------------------------------------------------------------------- */

static const enum bench_transport tput_order[] = {
        TR_SHM,       TR_SHM_BATCH, TR_SHM_ZC,     TR_RING,           TR_RING_NOFENCE,
        TR_RING_CRC,  TR_RING_ZC,   TR_RING_BATCH, TR_RING_CRC_BATCH, TR_PIPE,
        TR_SEQPACKET, TR_MQ,        TR_BOOST_MQ};
static const enum bench_transport pp_order[] = {
        TR_SHM_BUSY, TR_SHM,       TR_SHM_BLOCK,  TR_SHM_ZC_BUSY, TR_RING,      TR_RING_NOFENCE,
        TR_RING_CRC, TR_RING_ZC,   TR_RING_BLOCK, TR_PIPE,        TR_SEQPACKET, TR_MQ,
        TR_BOOST_MQ, TR_CACHELINE, TR_FUTEX,      TR_FUTEX_SLICE};
static const enum bench_transport paced_order[] = {
        TR_SHM, TR_SHM_BLOCK, TR_SHM_BATCH, TR_RING, TR_PIPE, TR_SEQPACKET, TR_MQ, TR_BOOST_MQ};

static void table_throughput(FILE *f, const struct bench_opts *o, const struct bench_result *r,
                             size_t n)
{
	(void)fprintf(f,
	              "\nOne-way throughput: median of %u reps [min - max], per-rep ratio to pipe "
	              "(median, worst rep)\n",
	              o->reps);
	(void)fprintf(f, "%-8s %-14s %9s %21s %10s %9s %7s\n", "size", "transport", "Mmsg/s",
	              "[min - max]", "MB/s", "x pipe", "worst");
	for (unsigned si = 0; si < o->nsizes; si++) {
		size_t size = o->sizes[si];
		char sz[32];
		fmt_size(sz, sizeof sz, size);
		for (size_t ti = 0; ti < sizeof tput_order / sizeof *tput_order; ti++) {
			enum bench_transport t = tput_order[ti];
			if (!ran(o, MODE_THROUGHPUT, t))
				continue;
			struct agg a = over_reps(r, n, o->reps, MODE_THROUGHPUT, t, size, -1);
			if (a.n == 0) {
				const char *why = skip_note(r, n, MODE_THROUGHPUT, t, size);
				(void)fprintf(f, "%-8s %-14s %9s  %s\n", sz, bench_tr_name(t), "-",
				              why != NULL ? why : "no data");
				continue;
			}
			struct agg q = ratio_reps(r, n, o->reps, MODE_THROUGHPUT, t, TR_PIPE, size,
			                          -1, size);
			(void)fprintf(f, "%-8s %-14s %9.3f   [%7.3f - %7.3f] %10.0f", sz,
			              bench_tr_name(t), a.med / 1e6, a.min / 1e6, a.max / 1e6,
			              a.med * (double)size / 1e6);
			if (q.n > 0 && t != TR_PIPE)
				(void)fprintf(f, " %8.2fx %6.2fx\n", q.med, q.min);
			else
				(void)fprintf(f, "\n");
		}
		for (enum bench_transport t = TR_MEMCPY; t <= TR_CRC32_PEAK; t++) {
			if (!ran(o, MODE_CEILING, t))
				continue;
			struct agg a = over_reps(r, n, o->reps, MODE_CEILING, t, size, -1);
			const char *why = skip_note(r, n, MODE_CEILING, t, size);
			if (a.n > 0)
				(void)fprintf(
				        f,
				        "%-8s %-14s %9.3f   [%7.3f - %7.3f] %10.0f  (ceiling, one "
				        "process)\n",
				        sz, bench_tr_name(t), a.med / 1e6, a.min / 1e6, a.max / 1e6,
				        a.med * (double)size / 1e6);
			else if (why != NULL)
				(void)fprintf(f, "%-8s %-14s %9s  %s\n", sz, bench_tr_name(t), "-",
				              why);
		}
	}
}

static void table_latency(FILE *f, const struct bench_opts *o, const struct bench_result *r,
                          size_t n, enum bench_mode m)
{
	const enum bench_transport *order = m == MODE_PINGPONG ? pp_order : paced_order;
	size_t norder = m == MODE_PINGPONG ? sizeof pp_order / sizeof *pp_order
	                                   : sizeof paced_order / sizeof *paced_order;

	if (m == MODE_PINGPONG)
		(void)fprintf(f,
		              "\nPing-pong round trip, ns: median over %u reps of each rep's "
		              "percentile [min - max of p50]; max: the largest of all reps; ratios "
		              "of p50, per rep\n",
		              o->reps);
	else
		(void)fprintf(
		        f,
		        "\nPaced stream at %.0f msg/s, one-way latency from the scheduled send, "
		        "ns: median over %u reps [min - max of p50]\n",
		        o->rate, o->reps);
	(void)fprintf(f, "%-8s %-13s %8s %17s %8s %8s %9s %8s %8s\n", "size", "transport", "p50",
	              "[min - max]", "p99", "p99.9", "max", "x pipe", "x floor");
	for (unsigned si = 0; si < o->nsizes; si++) {
		size_t size = o->sizes[si];
		char sz[32];
		fmt_size(sz, sizeof sz, size);
		for (size_t ti = 0; ti < norder; ti++) {
			enum bench_transport t = order[ti];
			if (!ran(o, m, t))
				continue;
			/* the floors ran at the first size only (bench.c) */
			if ((t == TR_CACHELINE || t == TR_FUTEX || t == TR_FUTEX_SLICE) && si != 0)
				continue;
			struct agg p50 = over_reps(r, n, o->reps, m, t, size, LAT_P50);
			if (p50.n == 0) {
				const char *why = skip_note(r, n, m, t, size);
				(void)fprintf(f, "%-8s %-13s %8s  %s\n", sz, bench_tr_name(t), "-",
				              why != NULL ? why : "no data");
				continue;
			}
			struct agg p99 = over_reps(r, n, o->reps, m, t, size, LAT_P99);
			struct agg p999 = over_reps(r, n, o->reps, m, t, size, LAT_P999);
			struct agg mx = over_reps(r, n, o->reps, m, t, size, LAT_MAX);
			(void)fprintf(f, "%-8s %-13s %8.0f   [%5.0f - %6.0f] %8.0f %8.0f %9.0f", sz,
			              bench_tr_name(t), p50.med, p50.min, p50.max, p99.med,
			              p999.med, mx.max);
			struct agg xp =
			        ratio_reps(r, n, o->reps, m, t, TR_PIPE, size, LAT_P50, size);
			if (xp.n > 0 && t != TR_PIPE)
				(void)fprintf(f, " %7.2fx", xp.med);
			else
				(void)fprintf(f, " %8s", "");
			if (m == MODE_PINGPONG && t != TR_CACHELINE) {
				/* the floor does not depend on the size: it ran once per rep */
				struct agg xf = ratio_reps(r, n, o->reps, m, t, TR_CACHELINE, size,
				                           LAT_P50, o->sizes[0]);
				if (xf.n > 0)
					(void)fprintf(f, " %7.2fx", xf.med);
			}
			(void)fprintf(f, "\n");
		}
	}
}

static size_t pick_size(const struct bench_opts *o, size_t want)
{
	for (unsigned i = 0; i < o->nsizes; i++)
		if (o->sizes[i] == want)
			return want;
	return 0;
}

static void target(FILE *f, int ok, const char *what, const char *got)
{
	(void)fprintf(f, "  %-4s %-52s %s\n", ok ? "MET" : "MISS", what, got);
}

static void table_targets(FILE *f, const struct bench_opts *o, const struct bench_result *r,
                          size_t n)
{
	char got[96];
	unsigned R = o->reps;
	size_t s64 = pick_size(o, 64), s4k = pick_size(o, 4096), s64k = pick_size(o, 65536);

	(void)fprintf(f, "\nTargets of issue #8 (medians of this run; informational)\n");
	if (ran(o, MODE_THROUGHPUT, TR_SHM) && ran(o, MODE_THROUGHPUT, TR_PIPE)) {
		if (s64) {
			struct agg q =
			        ratio_reps(r, n, R, MODE_THROUGHPUT, TR_SHM, TR_PIPE, 64, -1, 64);
			(void)snprintf(got, sizeof got, "%.2fx, worst %.2fx", q.med, q.min);
			target(f, q.n > 0 && q.med >= 14 && q.min >= 8,
			       "64 B throughput >= 14x pipe, no rep below 8x", got);
			if (ran(o, MODE_THROUGHPUT, TR_SHM_BATCH)) {
				q = ratio_reps(r, n, R, MODE_THROUGHPUT, TR_SHM_BATCH, TR_PIPE, 64,
				               -1, 64);
				(void)snprintf(got, sizeof got, "%.2fx, worst %.2fx", q.med, q.min);
				target(f, q.n > 0 && q.med >= 14 && q.min >= 8,
				       "  the same with shmf_set_batch (shm-batch)", got);
			}
		}
		if (s4k) {
			struct agg q = ratio_reps(r, n, R, MODE_THROUGHPUT, TR_SHM, TR_PIPE, 4096,
			                          -1, 4096);
			(void)snprintf(got, sizeof got, "%.2fx, worst %.2fx", q.med, q.min);
			target(f, q.n > 0 && q.med >= 3, "4 KiB throughput >= 3x pipe", got);
		}
		if (s64k) {
			struct agg q = ratio_reps(r, n, R, MODE_THROUGHPUT, TR_SHM, TR_PIPE, 65536,
			                          -1, 65536);
			(void)snprintf(got, sizeof got, "%.2fx, worst %.2fx", q.med, q.min);
			target(f, q.n > 0 && q.med >= 13, "64 KiB throughput >= 13x pipe", got);
		}
		static const struct {
			enum bench_transport base;
			const char *what;
		} peers[] = {{TR_SEQPACKET, "every size >= SEQPACKET"},
		             {TR_MQ, "every size >= POSIX mq (where mq ran)"},
		             {TR_BOOST_MQ, "every size >= Boost mq (where built in)"}};
		for (size_t b = 0; b < sizeof peers / sizeof *peers; b++) {
			enum bench_transport base = peers[b].base;
			if (!ran(o, MODE_THROUGHPUT, base) ||
			    (base == TR_BOOST_MQ && !bench_boost_built(NULL, 0)))
				continue;
			double worst = 1e300;
			int all = 1, any = 0;
			for (unsigned i = 0; i < o->nsizes; i++) {
				struct agg q = ratio_reps(r, n, R, MODE_THROUGHPUT, TR_SHM, base,
				                          o->sizes[i], -1, o->sizes[i]);
				if (q.n == 0)
					continue;
				any = 1;
				if (q.med < worst)
					worst = q.med;
				if (q.med < 1)
					all = 0;
			}
			(void)snprintf(got, sizeof got, "lowest median ratio %.2fx",
			               any ? worst : 0);
			target(f, any && all, peers[b].what, got);
		}
	}
	if (s64 && ran(o, MODE_PINGPONG, TR_CACHELINE)) {
		if (ran(o, MODE_PINGPONG, TR_SHM_BUSY)) {
			struct agg q = ratio_reps(r, n, R, MODE_PINGPONG, TR_SHM_BUSY, TR_CACHELINE,
			                          64, LAT_P50, o->sizes[0]);
			struct agg p = over_reps(r, n, R, MODE_PINGPONG, TR_SHM_BUSY, 64, LAT_P999);
			(void)snprintf(got, sizeof got, "%.2fx", q.med);
			target(f, q.n > 0 && q.med <= 2, "64 B busy-poll ping-pong p50 <= 2x floor",
			       got);
			(void)snprintf(got, sizeof got, "%.0f ns", p.med);
			target(f, p.n > 0 && p.med <= 1000,
			       "64 B busy-poll ping-pong p99.9 <= 1 us", got);
		}
		if (ran(o, MODE_PINGPONG, TR_SHM)) {
			struct agg q = ratio_reps(r, n, R, MODE_PINGPONG, TR_SHM, TR_CACHELINE, 64,
			                          LAT_P50, o->sizes[0]);
			(void)snprintf(got, sizeof got, "%.2fx", q.med);
			target(f, q.n > 0 && q.med <= 3,
			       "64 B default-wait ping-pong p50 <= 3x floor", got);
		}
		/* On the Zen 3 machine of docs/PERFORMANCE.md the cache line took 110-130 ns in
		 * most reps; on the Zen 4 one it takes 50-70 ns in most, and there by the median no
		 * ring, floors included, comes within 2x of it: say so, so that such a run is not
		 * read as a regression. */
		struct agg cl = over_reps(r, n, R, MODE_PINGPONG, TR_CACHELINE, 64, LAT_P50);
		if (cl.n > 0 && cl.med < 80)
			(void)fprintf(
			        f,
			        "  note: the cache line's round trip took %.0f ns (under 80), "
			        "as on the Zen 4\n"
			        "  machine of docs/PERFORMANCE.md (\"The machine\"), where by "
			        "the median no ring,\n"
			        "  floors included, comes within 2x of it: compare shm-busy "
			        "with ring-crc in the\n"
			        "  same run\n",
			        cl.med);
	}
	if (s64 && ran(o, MODE_PINGPONG, TR_SHM_BLOCK) && ran(o, MODE_PINGPONG, TR_PIPE)) {
		struct agg q =
		        ratio_reps(r, n, R, MODE_PINGPONG, TR_SHM_BLOCK, TR_PIPE, 64, LAT_P50, 64);
		(void)snprintf(got, sizeof got, "%.2fx pipe", q.med);
		target(f, q.n > 0 && q.med <= 1, "64 B blocking ping-pong p50 <= pipe's", got);
		if (ran(o, MODE_PINGPONG, TR_FUTEX)) {
			q = ratio_reps(r, n, R, MODE_PINGPONG, TR_FUTEX, TR_PIPE, o->sizes[0],
			               LAT_P50, 64);
			(void)snprintf(got, sizeof got, "%.2fx pipe", q.med);
			target(f, q.n > 0 && q.med <= 1, "  the futex floor (one word, no ring)",
			       got);
		}
		if (ran(o, MODE_PINGPONG, TR_FUTEX_SLICE)) {
			q = ratio_reps(r, n, R, MODE_PINGPONG, TR_FUTEX_SLICE, TR_PIPE, o->sizes[0],
			               LAT_P50, 64);
			(void)snprintf(got, sizeof got, "%.2fx pipe", q.med);
			target(f, q.n > 0 && q.med <= 1,
			       "  the same, each sleep bounded by a slice (futex-slice)", got);
		}
		if (ran(o, MODE_PINGPONG, TR_RING_BLOCK)) {
			q = ratio_reps(r, n, R, MODE_PINGPONG, TR_RING_BLOCK, TR_PIPE, 64, LAT_P50,
			               64);
			(void)snprintf(got, sizeof got, "%.2fx pipe", q.med);
			target(f, q.n > 0 && q.med <= 1,
			       "  the ring skeleton, sleeping (ring-block)", got);
		}
	}
}

/* The same run's skeleton of the protocol's ring (no CRC, no checks) and crc32q's peak, beside
 * the targets: what the skeleton misses here, the protocol misses too; and a reader that checks
 * every byte's CRC cannot go faster than the instruction. */
static void table_skeleton(FILE *f, const struct bench_opts *o, const struct bench_result *r,
                           size_t n)
{
	static const struct {
		size_t size;
		int need;
	} tp[] = {{64, 14}, {4096, 3}, {65536, 13}};
	unsigned R = o->reps;
	char sz[32];

	if ((!ran(o, MODE_THROUGHPUT, TR_RING) && !ran(o, MODE_PINGPONG, TR_RING) &&
	     !ran(o, MODE_CEILING, TR_CRC32_PEAK)) ||
	    (!pick_size(o, 64) && !pick_size(o, 4096) && !pick_size(o, 65536)))
		return;
	(void)fprintf(f,
	              "What the protocol itself allows (ring: its skeleton, no CRC, no checks)\n");
	for (size_t i = 0; i < sizeof tp / sizeof *tp; i++) {
		if (!pick_size(o, tp[i].size) || !ran(o, MODE_THROUGHPUT, TR_RING) ||
		    !ran(o, MODE_THROUGHPUT, TR_PIPE))
			continue;
		struct agg q = ratio_reps(r, n, R, MODE_THROUGHPUT, TR_RING, TR_PIPE, tp[i].size,
		                          -1, tp[i].size);
		struct agg nf = ratio_reps(r, n, R, MODE_THROUGHPUT, TR_RING_NOFENCE, TR_PIPE,
		                           tp[i].size, -1, tp[i].size);
		struct agg rc = ratio_reps(r, n, R, MODE_THROUGHPUT, TR_RING_CRC, TR_PIPE,
		                           tp[i].size, -1, tp[i].size);
		struct agg rz = ratio_reps(r, n, R, MODE_THROUGHPUT, TR_RING_ZC, TR_PIPE,
		                           tp[i].size, -1, tp[i].size);
		struct agg rb = ratio_reps(r, n, R, MODE_THROUGHPUT, TR_RING_BATCH, TR_PIPE,
		                           tp[i].size, -1, tp[i].size);
		struct agg rcb = ratio_reps(r, n, R, MODE_THROUGHPUT, TR_RING_CRC_BATCH, TR_PIPE,
		                            tp[i].size, -1, tp[i].size);
		if (q.n == 0)
			continue;
		fmt_size(sz, sizeof sz, tp[i].size);
		(void)fprintf(f, "  %s: ring skeleton reaches %.2fx pipe, worst %.2fx (needs %dx)",
		              sz, q.med, q.min, tp[i].need);
		if (nf.n > 0)
			(void)fprintf(f, "; ring-nofence %.2fx", nf.med);
		if (rc.n > 0)
			(void)fprintf(f, "; ring-crc %.2fx, worst %.2fx", rc.med, rc.min);
		if (rz.n > 0)
			(void)fprintf(f, "; ring-zc %.2fx, worst %.2fx", rz.med, rz.min);
		if (rb.n > 0)
			(void)fprintf(f, "; ring-batch %.2fx, worst %.2fx", rb.med, rb.min);
		if (rcb.n > 0)
			(void)fprintf(f, "; ring-crc-batch %.2fx, worst %.2fx", rcb.med, rcb.min);
		(void)fprintf(f, "\n");
	}
	if (pick_size(o, 65536) && ran(o, MODE_THROUGHPUT, TR_PIPE) &&
	    ran(o, MODE_CEILING, TR_CRC32_PEAK)) {
		struct agg p = over_reps(r, n, R, MODE_THROUGHPUT, TR_PIPE, 65536, -1);
		struct agg c = over_reps(r, n, R, MODE_CEILING, TR_CRC32_PEAK, 65536, -1);
		double want = 13 * p.med * 65536 / 1e9, peak = c.med * 65536 / 1e9;
		if (p.n > 0 && c.n > 0)
			(void)fprintf(f, "  64 KiB: 13x pipe = %.1f GB/s, crc32 peak %.1f GB/s%s\n",
			              want, peak,
			              want > peak ? ": beyond what one core can checksum" : "");
	}
	if (pick_size(o, 64) && ran(o, MODE_PINGPONG, TR_RING) &&
	    ran(o, MODE_PINGPONG, TR_CACHELINE)) {
		struct agg q = ratio_reps(r, n, R, MODE_PINGPONG, TR_RING, TR_CACHELINE, 64,
		                          LAT_P50, o->sizes[0]);
		struct agg nf = ratio_reps(r, n, R, MODE_PINGPONG, TR_RING_NOFENCE, TR_CACHELINE,
		                           64, LAT_P50, o->sizes[0]);
		struct agg rc = ratio_reps(r, n, R, MODE_PINGPONG, TR_RING_CRC, TR_CACHELINE, 64,
		                           LAT_P50, o->sizes[0]);
		if (q.n == 0)
			return;
		(void)fprintf(f, "  busy ping-pong 64 B: ring skeleton p50 = %.2fx floor", q.med);
		if (nf.n > 0)
			(void)fprintf(f, ", ring-nofence %.2fx", nf.med);
		if (rc.n > 0)
			(void)fprintf(f, ", ring-crc %.2fx", rc.med);
		(void)fprintf(f, " (target for shm: 2x)\n");
	}
}

void bench_print_table(FILE *f, const struct bench_opts *o, const struct bench_meta *m,
                       const struct bench_result *r, size_t n)
{
	size_t failed = 0;

	(void)fprintf(f, "shmframe bench: %s, %s, %s, git %s%s\n", m->cpu, m->kernel, m->compiler,
	              m->git_sha, m->optimized ? "" : " (NOT OPTIMISED: numbers mean little)");
	(void)fprintf(f, "%s; %s; load at start: %s; %u reps, %s per run\n", m->date, m->pinning,
	              m->load, o->reps, o->messages ? "fixed message count" : "fixed duration");
	if (o->modes & (1u << MODE_THROUGHPUT))
		table_throughput(f, o, r, n);
	if (o->modes & (1u << MODE_PINGPONG))
		table_latency(f, o, r, n, MODE_PINGPONG);
	if (o->modes & (1u << MODE_PACED))
		table_latency(f, o, r, n, MODE_PACED);
	table_targets(f, o, r, n);
	table_skeleton(f, o, r, n);
	for (size_t i = 0; i < n; i++)
		if (r[i].status == 2) {
			if (failed++ == 0)
				(void)fprintf(f, "\nFailed runs:\n");
			(void)fprintf(f, "  rep %u %s %s %zu B: %s\n", r[i].rep,
			              bench_mode_name(r[i].mode), bench_tr_name(r[i].tr), r[i].size,
			              r[i].note);
		}
	if (m->mq_note[0] != '\0' || m->boost_note[0] != '\0')
		(void)fprintf(f, "\n");
	if (m->mq_note[0] != '\0')
		(void)fprintf(f, "Note: %s\n", m->mq_note);
	if (m->boost_note[0] != '\0')
		(void)fprintf(f, "Note: %s\n", m->boost_note);
}

/* ---- CSV and JSON -------------------------------------------------------------------------- */

static void csv_str(FILE *f, const char *s)
{
	(void)fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			(void)fputc('"', f);
		(void)fputc(*s, f);
	}
	(void)fputc('"', f);
}

static const char *status_name(int s)
{
	return s == 0 ? "ok" : s == 1 ? "skipped" : "failed";
}

int bench_write_csv(const char *path, const struct bench_meta *m, const struct bench_result *r,
                    size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	(void)fprintf(f, "rep,mode,transport,size,status,messages,seconds,msg_per_s,mb_per_s,"
	                 "lat_min_ns,lat_p50_ns,lat_p99_ns,lat_p999_ns,lat_max_ns,lat_mean_ns,"
	                 "lat_samples,note,git_sha,compiler,cpu,kernel,date,load\n");
	for (size_t i = 0; i < n; i++) {
		const struct bench_result *x = &r[i];
		(void)fprintf(
		        f,
		        "%u,%s,%s,%zu,%s,%llu,%.6f,%.1f,%.3f,%.0f,%.0f,%.0f,%.0f,%.0f,%.1f,%llu,",
		        x->rep, bench_mode_name(x->mode), bench_tr_name(x->tr), x->size,
		        status_name(x->status), (unsigned long long)x->msgs, x->seconds, x->msg_s,
		        x->mb_s, x->lat[LAT_MIN], x->lat[LAT_P50], x->lat[LAT_P99],
		        x->lat[LAT_P999], x->lat[LAT_MAX], x->lat[LAT_MEAN],
		        (unsigned long long)x->nlat);
		const char *text[] = {x->note,   m->git_sha, m->compiler, m->cpu,
		                      m->kernel, m->date,    m->load};
		for (size_t k = 0; k < sizeof text / sizeof *text; k++) {
			if (k > 0)
				(void)fputc(',', f);
			csv_str(f, text[k]);
		}
		(void)fputc('\n', f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static void json_kv(FILE *f, const char *k, const char *v, int comma)
{
	shmf_json_cstr(f, k);
	(void)fputc(':', f);
	shmf_json_cstr(f, v);
	if (comma)
		(void)fputc(',', f);
}

int bench_write_json(const char *path, const struct bench_opts *o, const struct bench_meta *m,
                     const struct bench_result *r, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	(void)fprintf(f, "{\"meta\":{");
	json_kv(f, "git_sha", m->git_sha, 1);
	json_kv(f, "compiler", m->compiler, 1);
	json_kv(f, "cpu", m->cpu, 1);
	json_kv(f, "kernel", m->kernel, 1);
	json_kv(f, "date", m->date, 1);
	json_kv(f, "load", m->load, 1);
	json_kv(f, "pinning", m->pinning, 1);
	(void)fprintf(f, "\"optimized\":%s,\"cpus\":%ld},\n", m->optimized ? "true" : "false",
	              m->ncpu);
	(void)fprintf(f,
	              "\"options\":{\"reps\":%u,\"duration_s\":%g,\"messages\":%llu,\"rate\":%g,"
	              "\"capacity\":%zu,\"sizes\":[",
	              o->reps, o->duration_s, (unsigned long long)o->messages, o->rate,
	              o->capacity);
	for (unsigned i = 0; i < o->nsizes; i++)
		(void)fprintf(f, "%s%zu", i ? "," : "", o->sizes[i]);
	(void)fprintf(f, "]},\n\"runs\":[\n");
	for (size_t i = 0; i < n; i++) {
		const struct bench_result *x = &r[i];
		(void)fprintf(f, "{\"rep\":%u,", x->rep);
		json_kv(f, "mode", bench_mode_name(x->mode), 1);
		json_kv(f, "transport", bench_tr_name(x->tr), 1);
		(void)fprintf(f, "\"size\":%zu,", x->size);
		json_kv(f, "status", status_name(x->status), 1);
		(void)fprintf(
		        f,
		        "\"messages\":%llu,\"seconds\":%.6f,\"msg_per_s\":%.1f,\"mb_per_s\":%.3f,",
		        (unsigned long long)x->msgs, x->seconds, x->msg_s, x->mb_s);
		(void)fprintf(f,
		              "\"lat_ns\":{\"min\":%.0f,\"p50\":%.0f,\"p99\":%.0f,\"p999\":%.0f,"
		              "\"max\":%.0f,\"mean\":%.1f,\"samples\":%llu},",
		              x->lat[LAT_MIN], x->lat[LAT_P50], x->lat[LAT_P99], x->lat[LAT_P999],
		              x->lat[LAT_MAX], x->lat[LAT_MEAN], (unsigned long long)x->nlat);
		json_kv(f, "note", x->note, 0);
		(void)fprintf(f, "}%s\n", i + 1 < n ? "," : "");
	}
	(void)fprintf(f, "]}\n");
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- plots --------------------------------------------------------------------------------- */

static int write_dat(const char *dir, const char *name, FILE **f)
{
	char path[4096];

	(void)snprintf(path, sizeof path, "%s/%s", dir, name);
	*f = fopen(path, "w");
	return *f != NULL ? 0 : -1;
}

int bench_plot(const char *dir, const struct bench_result *r, size_t n)
{
	char list_t[512] = "", list_c[512] = "", script[4096], cmd[8192];
	unsigned reps = 0;
	FILE *f;

	for (size_t i = 0; i < n; i++)
		if (r[i].rep > reps)
			reps = r[i].rep;
	/* throughput vs size: one file per transport, "size median min max" in MB/s */
	for (enum bench_transport t = 0; t < TR_COUNT; t++) {
		enum bench_mode m = t >= TR_MEMCPY ? MODE_CEILING : MODE_THROUGHPUT;
		char name[64];
		size_t sizes[BENCH_MAX_SIZES * 4];
		size_t ns = 0;
		for (size_t i = 0; i < n; i++) {
			int seen = 0;
			if (r[i].mode != m || r[i].tr != t || r[i].status != 0)
				continue;
			for (size_t k = 0; k < ns; k++)
				seen |= sizes[k] == r[i].size;
			if (!seen && ns < sizeof sizes / sizeof *sizes)
				sizes[ns++] = r[i].size;
		}
		if (ns == 0)
			continue;
		(void)snprintf(name, sizeof name, "tput_%s.dat", bench_tr_name(t));
		if (write_dat(dir, name, &f) != 0)
			return -1;
		(void)fprintf(f, "# size_bytes median_MBps min_MBps max_MBps (%s)\n",
		              bench_tr_name(t));
		for (size_t k = 0; k < ns; k++) {
			struct agg a = over_reps(r, n, reps, m, t, sizes[k], -1);
			double sz = (double)sizes[k] / 1e6;
			(void)fprintf(f, "%zu %.3f %.3f %.3f\n", sizes[k], a.med * sz, a.min * sz,
			              a.max * sz);
		}
		(void)fclose(f);
		strncat(list_t, bench_tr_name(t), sizeof list_t - strlen(list_t) - 2);
		strncat(list_t, " ", sizeof list_t - strlen(list_t) - 1);
	}
	/* the ping-pong latency distribution (one rep, the first size) */
	for (enum bench_transport t = 0; t < TR_COUNT; t++) {
		char name[64];
		if (!cdf_have[t])
			continue;
		(void)snprintf(name, sizeof name, "cdf_%s.dat", bench_tr_name(t));
		if (write_dat(dir, name, &f) != 0)
			return -1;
		(void)fprintf(f, "# latency_ns quantile (%s, ping-pong round trip)\n",
		              bench_tr_name(t));
		for (int k = 0; k < CDF_POINTS; k++)
			(void)fprintf(f, "%.0f %.6f\n", cdf[t][k], cdf_q(k));
		(void)fclose(f);
		strncat(list_c, bench_tr_name(t), sizeof list_c - strlen(list_c) - 2);
		strncat(list_c, " ", sizeof list_c - strlen(list_c) - 1);
	}
	/* bench/plot.gp next to this file's source (the build records the path), or
	 * $SHMF_BENCH_PLOT_GP */
	const char *env = getenv("SHMF_BENCH_PLOT_GP");
	if (env != NULL) {
		(void)snprintf(script, sizeof script, "%s", env);
	} else {
		(void)snprintf(script, sizeof script, "%s", __FILE__);
		char *slash = strrchr(script, '/');
		if (slash != NULL)
			(void)snprintf(slash + 1, sizeof script - (size_t)(slash + 1 - script),
			               "plot.gp");
	}
	if (access(script, R_OK) != 0) {
		(void)fprintf(stderr,
		              "shmframe: bench: %s not found (set SHMF_BENCH_PLOT_GP): no SVG\n",
		              script);
		return -1;
	}
	/* gnuplot -e EXPR SCRIPT, without a shell */
	(void)snprintf(cmd, sizeof cmd, "dir='%s'; tputs='%s'; cdfs='%s'", dir, list_t, list_c);
	(void)fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("gnuplot", "gnuplot", "-e", cmd, script, (char *)NULL);
		_exit(127);
	}
	int st = -1;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		(void)fprintf(
		        stderr,
		        "shmframe: bench: gnuplot failed (is gnuplot-nox installed?): no SVG\n");
		return -1;
	}
	return 0;
}
