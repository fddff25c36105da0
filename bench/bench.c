/* bench.c - `shmframe bench` (issue #8): throughput and latency of shmframe against pipe,
 * AF_UNIX SOCK_SEQPACKET, POSIX mq and (where built in) Boost.Interprocess message_queue, with
 * the cache-line round trip as the latency floor and memcpy and CRC-32C in one process as the
 * throughput ceilings. A bare skeleton of the protocol's ring (no CRC, no checks) and the CRC
 * instruction's peak show which targets the protocol itself could reach on this machine.
 *
 * The baselines run in the same invocation, interleaved rep by rep (for each rep: for each mode:
 * for each size: for each transport: one run), so that a change in the machine's load hits every
 * transport of a rep alike. Output: a table of medians with their spread and per-rep ratios, and
 * every repetition in CSV and JSON; --plot adds SVG plots through bench/plot.gp.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char *const mode_names[MODE_COUNT] = {"throughput", "pingpong", "paced", "ceiling"};
static const char *const tr_names[] = {
        "shm",         "shm-busy",       "shm-block",    "shm-batch", "shm-zc",    "shm-zc-busy",
        "pipe",        "seqpacket",      "mq",           "boost-mq",  "cacheline", "futex",
        "futex-slice", "ring",           "ring-nofence", "ring-crc",  "ring-zc",   "ring-block",
        "ring-batch",  "ring-crc-batch", "memcpy",       "crc32c",    "crc32-peak"};
_Static_assert(sizeof tr_names / sizeof *tr_names == TR_COUNT, "a name for every transport");

const char *bench_mode_name(enum bench_mode m)
{
	return m < MODE_COUNT ? mode_names[m] : "?";
}

const char *bench_tr_name(enum bench_transport t)
{
	return t < TR_COUNT ? tr_names[t] : "?";
}

/* Which transports each mode runs. */
static uint64_t mode_transports(enum bench_mode m)
{
	switch (m) {
	case MODE_THROUGHPUT:
		return 1u << TR_SHM | 1u << TR_SHM_BATCH | 1u << TR_SHM_ZC | 1u << TR_RING |
		       1u << TR_RING_NOFENCE | 1u << TR_RING_CRC | 1u << TR_RING_ZC |
		       1u << TR_RING_BATCH | 1u << TR_RING_CRC_BATCH | 1u << TR_PIPE |
		       1u << TR_SEQPACKET | 1u << TR_MQ | 1u << TR_BOOST_MQ;
	case MODE_PINGPONG:
		return 1u << TR_SHM_BUSY | 1u << TR_SHM | 1u << TR_SHM_BLOCK |
		       1u << TR_SHM_ZC_BUSY | 1u << TR_RING | 1u << TR_RING_NOFENCE |
		       1u << TR_RING_CRC | 1u << TR_RING_ZC | 1u << TR_RING_BLOCK | 1u << TR_PIPE |
		       1u << TR_SEQPACKET | 1u << TR_MQ | 1u << TR_BOOST_MQ | 1u << TR_CACHELINE |
		       1u << TR_FUTEX | 1u << TR_FUTEX_SLICE;
	case MODE_PACED:
		return 1u << TR_SHM | 1u << TR_SHM_BLOCK | 1u << TR_SHM_BATCH | 1u << TR_RING |
		       1u << TR_PIPE | 1u << TR_SEQPACKET | 1u << TR_MQ | 1u << TR_BOOST_MQ;
	case MODE_CEILING: return 1u << TR_MEMCPY | 1u << TR_CRC32C | 1u << TR_CRC32_PEAK;
	default: return 0;
	}
}

static const char usage[] =
        "usage: shmframe bench [options]\n"
        "\n"
        "Throughput and latency of shmframe between two processes pinned to two CPUs, against\n"
        "pipe, AF_UNIX SOCK_SEQPACKET, POSIX mq and (where built in) Boost.Interprocess\n"
        "message_queue in the same run (interleaved rep by rep), with one cache line bounced\n"
        "between the processes as the latency floor and memcpy and CRC-32C in one process as\n"
        "the ceilings. Every received message is checked (index and pattern); a run with a\n"
        "wrong message fails and is not counted.\n"
        "\n"
        "  --reps N             repetitions of every case (default 5)\n"
        "  --duration SEC       length of each run (default 0.25; paced: messages = rate x SEC)\n"
        "  --messages N         a fixed count per run instead of a duration\n"
        "  --sizes LIST         message sizes, e.g. 8,64,512,4K,64K (default; 8 B .. 1 MiB)\n"
        "  --capacity SIZE      shmframe ring capacity (default: the library's, 4 MiB)\n"
        "  --rate N             paced stream: messages per second (default 20000)\n"
        "  --modes LIST         throughput,pingpong,paced,ceiling (default: all)\n"
        "  --transports LIST    a subset of shm,shm-busy,shm-block,shm-batch,shm-zc,\n"
        "                       shm-zc-busy,pipe,seqpacket,mq,boost-mq,cacheline,futex,\n"
        "                       futex-slice,ring,ring-nofence,ring-crc,ring-zc,ring-block,\n"
        "                       ring-batch,ring-crc-batch,memcpy,crc32c,crc32-peak\n"
        "                       (default: all that this binary has)\n"
        "  --quick              a few short runs (for tests): 2 reps, 64 B and 4 KiB, 20 ms\n"
        "  --csv FILE           every repetition as CSV\n"
        "  --json FILE          every repetition as JSON\n"
        "  --out DIR            bench.txt (the table), bench.csv and bench.json in DIR\n"
        "  --plot DIR           the above in DIR, plus plot data and SVGs (needs gnuplot)\n"
        "  --quiet              no progress lines on stderr\n"
        "\n"
        "Ping-pong wait strategies: shm-busy polls (timeout 0), shm-block sleeps at once\n"
        "(spin 0: futex), shm spins then sleeps (the library default); shm-batch is shm with\n"
        "shmf_set_batch(4 KiB) on the receiver (throughput, paced); -zc: reserve/commit and\n"
        "peek/release, the writer writing every byte in place. Beside pipe, seqpacket and mq\n"
        "(POSIX; depth 10 or what RLIMIT_MSGQUEUE allows; sizes the system refuses are skipped\n"
        "with a note), the optional baseline:\n";

/* Whether this binary has boost-mq: tools/CMakeLists.txt builds boost_mq.cpp where it finds
 * Boost.Interprocess (tests/bench/quick.sh reads this line of the help). */
static const char usage_boost[] =
#ifdef SHMF_BENCH_BOOST
        "  boost-mq      built in: two Boost.Interprocess message_queues, 10 messages deep\n";
#else
        "  boost-mq      not built: it needs libboost-dev and a C++ compiler at build time\n";
#endif

/* after usage[] and usage_boost[] */
static const char usage_tail[] =
        "What the protocol itself allows, for the targets of issue #8:\n"
        "  futex         ping-pong on one shared futex word: the floor of a sleeping wait\n"
        "  futex-slice   the same, each sleep ending at a deadline 100 ms away, as a waiter\n"
        "                that must see a dead peer within a slice (PROTOCOL.md 7) sleeps\n"
        "  ring          the protocol's ring as a bare skeleton: no CRC, no checks, busy-polls\n"
        "  ring-nofence  the same without the wake check's fence: what that fence costs\n"
        "  ring-crc      the skeleton plus each frame's CRC-32C, made and checked by the\n"
        "                library's fused copy-and-CRC: the protocol's per-byte work alone\n"
        "  ring-zc       the same with no copies: each CRC made and checked where the frame\n"
        "                lies, as shm-zc does: the zero-copy path's per-byte work alone\n"
        "  ring-block    the skeleton sleeping at once, by the wake protocol (PROTOCOL.md 8):\n"
        "                the floor of a blocking wait for a ring (ping-pong)\n"
        "  ring-batch    the bare skeleton whose reader, having caught up, holds for 4 KiB\n"
        "                as shmf_set_batch(4096) does: what the protocol allows shm-batch\n"
        "  ring-crc-batch  the same plus each frame's CRC, as ring-crc (meant as shm-batch's\n"
        "                floor with the per-byte work; at 64 B it has run below shm-batch)\n"
        "  crc32-peak    ceiling: the crc32q instruction alone, 6 streams (x86-64 only)\n"
        "Build with -DCMAKE_BUILD_TYPE=Release (bench/run.sh does).\n"
        "Exit: 0, 1 when a run failed its checks, 2 usage, 9 system error.\n";

static int parse_list(const char *arg, const char *const *names, int count, uint64_t *out)
{
	char buf[512];
	char *save = NULL;

	*out = 0;
	(void)snprintf(buf, sizeof buf, "%s", arg);
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		int found = 0;
		for (int i = 0; i < count; i++)
			if (strcmp(t, names[i]) == 0) {
				*out |= 1ull << i;
				found = 1;
			}
		if (!found)
			return -1;
	}
	return *out != 0 ? 0 : -1;
}

static int parse_sizes(const char *arg, struct bench_opts *o)
{
	char buf[512];
	char *save = NULL;

	o->nsizes = 0;
	(void)snprintf(buf, sizeof buf, "%s", arg);
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		if (o->nsizes == BENCH_MAX_SIZES ||
		    shmf_cli_parse_size(t, BENCH_MAX_SIZE, &v) != 0 || v < BENCH_MIN_SIZE)
			return -1;
		o->sizes[o->nsizes++] = (size_t)v;
	}
	return o->nsizes > 0 ? 0 : -1;
}

static int parse_seconds(const char *arg, double *out)
{
	char *end;

	errno = 0;
	double v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v > 0) || v > 3600)
		return -1;
	*out = v;
	return 0;
}

static void defaults(struct bench_opts *o)
{
	static const size_t sizes[] = {8, 64, 512, 4096, 65536};

	memset(o, 0, sizeof *o);
	o->reps = 5;
	o->warmup = BENCH_WARMUP_SAMPLES;
	o->duration_s = 0.25;
	o->rate = 20000;
	o->nsizes = sizeof sizes / sizeof *sizes;
	memcpy(o->sizes, sizes, sizeof sizes);
	o->modes = (1u << MODE_COUNT) - 1u;
	o->transports = (1ull << TR_COUNT) - 1u;
}

/* 0, or an exit code; *done when --help was answered. */
static int parse(int argc, char **argv, struct bench_opts *o, int *done)
{
	enum {
		O_REPS = 256,
		O_DUR,
		O_MSGS,
		O_SIZES,
		O_CAP,
		O_RATE,
		O_MODES,
		O_TR,
		O_QUICK,
		O_CSV,
		O_JSON,
		O_OUT,
		O_PLOT,
		O_QUIET,
		O_HELP
	};
	static const struct option opts[] = {{"reps", required_argument, NULL, O_REPS},
	                                     {"duration", required_argument, NULL, O_DUR},
	                                     {"messages", required_argument, NULL, O_MSGS},
	                                     {"sizes", required_argument, NULL, O_SIZES},
	                                     {"capacity", required_argument, NULL, O_CAP},
	                                     {"rate", required_argument, NULL, O_RATE},
	                                     {"modes", required_argument, NULL, O_MODES},
	                                     {"transports", required_argument, NULL, O_TR},
	                                     {"quick", no_argument, NULL, O_QUICK},
	                                     {"csv", required_argument, NULL, O_CSV},
	                                     {"json", required_argument, NULL, O_JSON},
	                                     {"out", required_argument, NULL, O_OUT},
	                                     {"plot", required_argument, NULL, O_PLOT},
	                                     {"quiet", no_argument, NULL, O_QUIET},
	                                     {"help", no_argument, NULL, O_HELP},
	                                     {NULL, 0, NULL, 0}};
	int c, sizes_set = 0, reps_set = 0, dur_set = 0;
	uint64_t v;

	*done = 0;
	defaults(o);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char *bad = NULL;
		switch (c) {
		case O_REPS:
			if (shmf_cli_parse_u64(optarg, 1000, &v) != 0 || v == 0)
				bad = "--reps wants 1 .. 1000";
			o->reps = (unsigned)v;
			reps_set = 1;
			break;
		case O_DUR:
			if (parse_seconds(optarg, &o->duration_s) != 0)
				bad = "--duration wants seconds, > 0";
			dur_set = 1;
			break;
		case O_MSGS:
			if (shmf_cli_parse_u64(optarg, 1000000000, &o->messages) != 0 ||
			    o->messages == 0)
				bad = "--messages wants 1 .. 10^9";
			break;
		case O_SIZES:
			if (parse_sizes(optarg, o) != 0)
				bad = "--sizes wants up to 16 sizes from 8 B to 1M, e.g. 64,4K";
			sizes_set = 1;
			break;
		case O_CAP:
			if (shmf_cli_parse_size(optarg, (uint64_t)1 << 30, &v) != 0)
				bad = "--capacity wants a size";
			o->capacity = (size_t)v;
			break;
		case O_RATE:
			if (shmf_cli_parse_u64(optarg, 10000000, &v) != 0 || v == 0)
				bad = "--rate wants 1 .. 10^7 messages per second";
			o->rate = (double)v;
			break;
		case O_MODES: {
			uint64_t m;
			if (parse_list(optarg, mode_names, MODE_COUNT, &m) != 0)
				bad = "--modes wants throughput,pingpong,paced,ceiling";
			o->modes = (unsigned)m;
			break;
		}
		case O_TR:
			if (parse_list(optarg, tr_names, TR_COUNT, &o->transports) != 0)
				bad = "--transports: unknown name";
			o->transports_set = 1;
			break;
		case O_QUICK: o->quick = 1; break;
		case O_CSV: o->csv = optarg; break;
		case O_JSON: o->json = optarg; break;
		case O_OUT: o->out_dir = optarg; break;
		case O_PLOT: o->plot_dir = optarg; break;
		case O_QUIET: o->quiet = 1; break;
		case O_HELP:
			(void)fputs(usage, stdout);
			(void)fputs(usage_boost, stdout);
			(void)fputs(usage_tail, stdout);
			*done = 1;
			return 0;
		default: bad = "unknown option"; break;
		}
		if (bad != NULL) {
			shmf_cli_err("bench", NULL, "%s (see shmframe help bench)", bad);
			return SHMF_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		shmf_cli_err("bench", argv[optind], "unexpected argument");
		return SHMF_EXIT_USAGE;
	}
	/* by default what this binary has; a missing one named in --transports: skipped runs */
	if (!o->transports_set && !bench_boost_built(NULL, 0))
		o->transports &= ~(1ull << TR_BOOST_MQ);
	if (o->quick) {
		o->warmup = 5;
		if (!reps_set)
			o->reps = 2;
		if (!dur_set)
			o->duration_s = 0.02;
		if (!sizes_set) {
			o->nsizes = 2;
			o->sizes[0] = 64;
			o->sizes[1] = 4096;
		}
	}
	return 0;
}

/* ---- the machine --------------------------------------------------------------------------- */

/* The first three fields of /proc/loadavg. */
static void load_avg(char *out, size_t n)
{
	char b[128] = "";
	FILE *f = fopen("/proc/loadavg", "r");

	(void)snprintf(out, n, "unknown");
	if (f == NULL)
		return;
	if (fgets(b, sizeof b, f) != NULL) {
		char *sp = b;
		for (int k = 0; k < 3 && sp != NULL; k++)
			sp = strchr(sp + 1, ' ');
		if (sp != NULL)
			*sp = '\0';
		(void)snprintf(out, n, "%s", b);
	}
	(void)fclose(f);
}

/* The CPU as /proc/cpuinfo names its first one: the model name, and family, model and stepping,
 * which tell apart CPUs that share a name (a KVM guest's "AMD EPYC" was a Zen 3, family 25
 * model 1, on one machine these figures came from, and a Zen 4, model 17, on the next). */
static void cpu_ident(char *out, size_t size)
{
	char name[96] = "unknown CPU", fam[16] = "", model[16] = "", step[16] = "";
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (f != NULL) {
		char line[256];
		struct {
			const char *key;
			char *dst;
			size_t size;
		} want[] = {{"model name", name, sizeof name},
		            {"cpu family", fam, sizeof fam},
		            {"model", model, sizeof model},
		            {"stepping", step, sizeof step}};
		/* The first processor's block: it ends at the first empty line. */
		while (fgets(line, sizeof line, f) != NULL && line[0] != '\n') {
			char *v = strchr(line, ':');
			if (v == NULL)
				continue;
			size_t k = (size_t)(v - line);
			while (k > 0 && (line[k - 1] == ' ' || line[k - 1] == '\t'))
				k--;
			v += 1 + strspn(v + 1, " \t");
			v[strcspn(v, "\n")] = '\0';
			for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
				if (strlen(want[i].key) == k && strncmp(line, want[i].key, k) == 0)
					(void)snprintf(want[i].dst, want[i].size, "%s", v);
		}
		(void)fclose(f);
	}
	if (fam[0] != '\0' && model[0] != '\0')
		(void)snprintf(out, size, "%s (family %s model %s stepping %s)", name, fam, model,
		               step[0] != '\0' ? step : "?");
	else
		(void)snprintf(out, size, "%s", name);
}

static void meta_fill(struct bench_meta *m)
{
	char dir[4096], cmd[8400];
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;
	int cpu_a, cpu_b;

	memset(m, 0, sizeof *m);
	/* The git revision of the source tree this binary was built from (this file's path), or
	 * $SHMF_BENCH_GIT_SHA. */
	const char *env = getenv("SHMF_BENCH_GIT_SHA");
	if (env != NULL) {
		(void)snprintf(m->git_sha, sizeof m->git_sha, "%s", env);
	} else {
		(void)snprintf(dir, sizeof dir, "%s", __FILE__);
		char *slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0';
		(void)snprintf(
		        cmd, sizeof cmd,
		        "cd '%s' 2>/dev/null && git rev-parse --short=12 HEAD 2>/dev/null && "
		        "(git diff --quiet HEAD -- ../src ../include ../bench 2>/dev/null || "
		        "echo dirty)",
		        dir);
		/* A fixed command on this source file's directory: no user input reaches the shell.
		 */
		FILE *p = popen(cmd, "r"); // NOLINT(cert-env33-c)
		if (p != NULL) {
			char sha[48] = "", dirty[16] = "";
			if (fgets(sha, sizeof sha, p) != NULL &&
			    fgets(dirty, sizeof dirty, p) != NULL)
				dirty[strcspn(dirty, "\n")] = '\0';
			sha[strcspn(sha, "\n")] = '\0';
			(void)snprintf(m->git_sha, sizeof m->git_sha, "%s%s%s",
			               sha[0] ? sha : "unknown", dirty[0] ? "-" : "", dirty);
			pclose(p);
		}
	}
	if (m->git_sha[0] == '\0')
		(void)snprintf(m->git_sha, sizeof m->git_sha, "unknown");
#if defined(__clang__)
	(void)snprintf(m->compiler, sizeof m->compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
	snprintf(m->compiler, sizeof m->compiler, "gcc %s", __VERSION__);
#else
	snprintf(m->compiler, sizeof m->compiler, "unknown");
#endif
#ifdef __OPTIMIZE__
	m->optimized = 1;
	strncat(m->compiler, " -O", sizeof m->compiler - strlen(m->compiler) - 1);
#else
	strncat(m->compiler, " -O0", sizeof m->compiler - strlen(m->compiler) - 1);
#endif
	cpu_ident(m->cpu, sizeof m->cpu);
	m->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (uname(&u) == 0)
		(void)snprintf(m->kernel, sizeof m->kernel, "%s %s", u.sysname, u.release);
	gmtime_r(&now, &tm);
	(void)strftime(m->date, sizeof m->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
	load_avg(m->load, sizeof m->load);
	bench_cpus(&cpu_a, &cpu_b);
	if (cpu_a >= 0)
		(void)snprintf(m->pinning, sizeof m->pinning, "sides pinned to CPUs %d and %d",
		               cpu_a, cpu_b);
	else
		(void)snprintf(m->pinning, sizeof m->pinning, "one CPU: sides not pinned");
}

static int write_table(const char *path, const struct bench_opts *o, const struct bench_meta *m,
                       const struct bench_result *r, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	bench_print_table(f, o, m, r, n);
	return fclose(f) == 0 ? 0 : -1;
}

static int outputs(const struct bench_opts *o, const struct bench_meta *m,
                   const struct bench_result *r, size_t n)
{
	char path[4096];
	const char *dirs[2] = {o->out_dir, o->plot_dir};

	if (o->csv != NULL && bench_write_csv(o->csv, m, r, n) != 0) {
		shmf_cli_err("bench", o->csv, "%s", strerror(errno));
		return SHMF_EXIT_SYSTEM;
	}
	if (o->json != NULL && bench_write_json(o->json, o, m, r, n) != 0) {
		shmf_cli_err("bench", o->json, "%s", strerror(errno));
		return SHMF_EXIT_SYSTEM;
	}
	for (int i = 0; i < 2; i++) {
		if (dirs[i] == NULL ||
		    (i == 1 && o->out_dir != NULL && strcmp(o->out_dir, o->plot_dir) == 0))
			continue;
		if (mkdir(dirs[i], 0777) != 0 && errno != EEXIST) {
			shmf_cli_err("bench", dirs[i], "%s", strerror(errno));
			return SHMF_EXIT_SYSTEM;
		}
		(void)snprintf(path, sizeof path, "%s/bench.txt", dirs[i]);
		int rc = write_table(path, o, m, r, n);
		(void)snprintf(path, sizeof path, "%s/bench.csv", dirs[i]);
		rc |= bench_write_csv(path, m, r, n);
		(void)snprintf(path, sizeof path, "%s/bench.json", dirs[i]);
		rc |= bench_write_json(path, o, m, r, n);
		if (rc != 0) {
			shmf_cli_err("bench", dirs[i], "%s", strerror(errno));
			return SHMF_EXIT_SYSTEM;
		}
	}
	if (o->plot_dir != NULL && bench_plot(o->plot_dir, r, n) != 0)
		return SHMF_EXIT_SYSTEM;
	return 0;
}

int shmf_cmd_bench(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_meta m;
	struct bench_result *res;
	uint64_t *samples;
	size_t n = 0, max;
	int done, rc, failed = 0;

	if ((rc = parse(argc, argv, &o, &done)) != 0 || done)
		return rc;
	bench_clock_init();
	meta_fill(&m);
	if (!m.optimized)
		(void)fprintf(stderr,
		              "shmframe: bench: warning: built without optimisation; configure "
		              "with -DCMAKE_BUILD_TYPE=Release (bench/run.sh does)\n");
	max = (size_t)o.reps * MODE_COUNT * o.nsizes * TR_COUNT;
	res = calloc(max, sizeof *res);
	/* latency samples: shared, so that the forked side that measures can hand them back */
	samples = mmap(NULL, BENCH_MAX_SAMPLES * sizeof *samples, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == NULL || samples == MAP_FAILED) {
		shmf_cli_err("bench", NULL, "out of memory");
		free(res);
		return SHMF_EXIT_SYSTEM;
	}
	for (unsigned si = 0; si < o.nsizes; si++) {
		char note[160];
		if ((o.transports & (1ull << TR_MQ)) &&
		    !bench_mq_usable(o.sizes[si], note, sizeof note) && m.mq_note[0] == '\0')
			(void)snprintf(m.mq_note, sizeof m.mq_note, "%s", note);
	}
	if ((o.modes & ((1u << MODE_THROUGHPUT) | (1u << MODE_PINGPONG) | (1u << MODE_PACED))) &&
	    (!o.transports_set || (o.transports & (1ull << TR_BOOST_MQ))))
		(void)bench_boost_built(m.boost_note, sizeof m.boost_note);
	for (unsigned rep = 1; rep <= o.reps; rep++) {
		if (!o.quiet)
			(void)fprintf(stderr, "shmframe: bench: rep %u of %u\n", rep, o.reps);
		for (enum bench_mode mode = 0; mode < MODE_COUNT; mode++) {
			if (!(o.modes & (1u << mode)))
				continue;
			for (unsigned si = 0; si < o.nsizes; si++) {
				for (enum bench_transport t = 0; t < TR_COUNT; t++) {
					if (!(mode_transports(mode) & o.transports & (1ull << t)))
						continue;
					/* the floors do not depend on the size: once per rep */
					if ((t == TR_CACHELINE || t == TR_FUTEX ||
					     t == TR_FUTEX_SLICE) &&
					    si != 0)
						continue;
					struct bench_result *x = &res[n++];
					bench_run_case(&o, mode, t, o.sizes[si], samples, x);
					x->rep = rep;
					if (x->status == 2)
						failed = 1;
					if (mode == MODE_PINGPONG && si == 0 && x->status == 0 &&
					    rep == o.reps)
						bench_keep_cdf(t, samples, (size_t)x->nlat);
				}
			}
		}
	}
	bench_print_table(stdout, &o, &m, res, n);
	(void)fflush(stdout);
	rc = outputs(&o, &m, res, n);
	munmap(samples, BENCH_MAX_SAMPLES * sizeof *samples);
	free(res);
	if (rc != 0)
		return rc;
	return failed ? SHMF_EXIT_DAMAGE : SHMF_EXIT_OK;
}
