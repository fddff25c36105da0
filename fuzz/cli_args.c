/* cli_args.c - fuzz target: the shmframe command line, shmf_cli_parse() and the name and number
 * parsers of tools/cli_parse.c (declared in tools/cli.h).
 *
 * Input: the arguments after the program name, separated by NUL bytes ("create\0jobs\0--mode\0"
 * "0644"); one trailing NUL ends the last argument rather than adding an empty one, so "a\0\0"
 * is ["a", ""]. At most FZ_CLI_MAX_ARGS arguments are kept. Each argument lives in a heap block
 * of exactly its size, argv[0] is "shmframe" and argv[argc] is NULL, as exec gives them. The
 * stress and bench subcommands never reach this parser (main() dispatches them first).
 *
 * Oracle:
 *   - the result is 0 or SHMF_EXIT_USAGE; err is NUL-terminated inside its (exact-size) buffer,
 *     empty on success and a reason on failure;
 *   - parsing is deterministic: a second and a third call on fresh copies of the argv array, one
 *     with a short err buffer (its reason is a prefix of the first) and one with none, give the
 *     same result and the same options; the argument strings themselves are never written;
 *   - a successful parse names a command; its name (when it has one) passes shmf_name_check()
 *     and is an argument with '/' added when missing; every number is within its documented
 *     bound (cli.h, docs/shmframe.1.scd): capacity a power of two from 256 to 1 GiB with room
 *     for two frames of max_message, mode at most 0777, timeout -1 to INT_MAX, count 0 (none)
 *     or more, min-age at most SHMF_CLI_MAX_AGE; side A or B for send/recv; --binary excludes
 *     MESSAGE arguments (send) and --json (recv); every pointer it hands back points into an
 *     argument;
 *   - every argument, run through shmf_cli_name() and each number parser, gets the verdict and
 *     value of an independent reading of the contract in cli.h (below, fz_ref_*).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"
#include "layout.h"
#include "oracle.h"

#define FZ_CLI_MAX_ARGS 64
#define FZ_CLI_ERRLEN   320 /* what main() gives the parser */

/* ---- the reference readings of cli.h -------------------------------------------------------- */

/* Unsigned decimal, digits only, no overflow: 1 and *v, or 0. */
static int fz_ref_digits(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (x > UINT64_MAX / 10u || x * 10u > UINT64_MAX - (uint64_t)(s[i] - '0'))
			return 0;
		x = x * 10u + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 1;
}

static int fz_ref_u64(const char *s, uint64_t max, uint64_t *v)
{
	return fz_ref_digits(s, strlen(s), v) && *v <= max;
}

/* Digits, then at most one of K, M, G (either case) as the last byte: 2^10, 2^20, 2^30. */
static int fz_ref_size(const char *s, uint64_t max, uint64_t *v)
{
	static const char suffixes[] = "kKmMgG"; /* pairs: 2^10, 2^20, 2^30 */
	size_t n = strlen(s);
	const char *suffix = n > 0 ? memchr(suffixes, s[n - 1], sizeof suffixes - 1u) : NULL;
	unsigned shift = 0;

	if (suffix != NULL) {
		shift = 10u * (unsigned)((suffix - suffixes) / 2 + 1);
		n--;
	}
	if (!fz_ref_digits(s, n, v))
		return 0;
	if (shift != 0) {
		if (*v > (UINT64_MAX >> shift))
			return 0;
		*v <<= shift;
	}
	return *v <= max;
}

static int fz_ref_timeout(const char *s, int *v)
{
	uint64_t x;

	if (strcmp(s, "-1") == 0) {
		*v = -1;
		return 1;
	}
	if (!fz_ref_u64(s, INT_MAX, &x))
		return 0;
	*v = (int)x;
	return 1;
}

/* Octal digits, at least one, value at most 0777 (leading zeros allowed). */
static int fz_ref_mode(const char *s, unsigned *v)
{
	unsigned x = 0;

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '7')
			return 0;
		x = x * 8u + (unsigned)(*s - '0');
		if (x > 0777u)
			return 0;
	}
	*v = x;
	return 1;
}

/* "q" is "/q"; then PROTO 9.4 (oracle.h). 1 and the name, or 0. */
static int fz_ref_name(const char *arg, char out[SHMF_NAME_MAX + 2])
{
	size_t n = strlen(arg);

	if (n > SHMF_NAME_MAX)
		return 0;
	if (arg[0] == '/') {
		memcpy(out, arg, n + 1);
	} else {
		out[0] = '/';
		memcpy(out + 1, arg, n + 1);
	}
	return strlen(out) <= SHMF_NAME_MAX && fz_name_valid(out);
}

/* ---- one argument through every parser --------------------------------------------------- */

static const struct {
	const char *name;
	int (*lib)(const char *, uint64_t, uint64_t *); /* 0 or -1 */
	int (*ref)(const char *, uint64_t, uint64_t *); /* 1 or 0 */
} u64_parsers[] = {{"shmf_cli_parse_u64", shmf_cli_parse_u64, fz_ref_u64},
                   {"shmf_cli_parse_size", shmf_cli_parse_size, fz_ref_size}};

static void check_parsers(const char *s)
{
	static const uint64_t maxes[] = {UINT64_MAX, SHMF_CLI_MAX_AGE, INT_MAX, SHMF_MAX_CAPACITY,
	                                 0};
	char name[SHMF_NAME_MAX + 1], ref[SHMF_NAME_MAX + 2];
	uint64_t v, rv;
	unsigned m, rm;
	int t, rt, rc, ok;

	for (size_t i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
		for (size_t k = 0; k < sizeof u64_parsers / sizeof u64_parsers[0]; k++) {
			rc = u64_parsers[k].lib(s, maxes[i], &v);
			ok = u64_parsers[k].ref(s, maxes[i], &rv);
			FZ_CHECK(rc == (ok ? 0 : -1), "%s('%.40s', %llu) = %d", u64_parsers[k].name,
			         s, (unsigned long long)maxes[i], rc);
			FZ_CHECK(!ok || v == rv, "%s('%.40s') = %llu, want %llu",
			         u64_parsers[k].name, s, (unsigned long long)v,
			         (unsigned long long)rv);
		}
	}

	t = -2;
	rc = shmf_cli_parse_timeout(s, &t);
	ok = fz_ref_timeout(s, &rt);
	FZ_CHECK(rc == (ok ? 0 : -1), "parse_timeout('%.40s') = %d", s, rc);
	FZ_CHECK(!ok || t == rt, "parse_timeout('%.40s') gave %d", s, t);

	m = 01000u;
	rc = shmf_cli_parse_mode(s, &m);
	ok = fz_ref_mode(s, &rm);
	FZ_CHECK(rc == (ok ? 0 : -1), "parse_mode('%.40s') = %d", s, rc);
	FZ_CHECK(!ok || m == rm, "parse_mode('%.40s') gave %o", s, m);

	rc = shmf_cli_name(s, name);
	ok = fz_ref_name(s, ref);
	FZ_CHECK(rc == 0 || rc == SHMF_ENAME, "shmf_cli_name returned %d", rc);
	FZ_CHECK((rc == 0) == ok, "shmf_cli_name('%.40s') = %d, PROTO 9.4 says %s", s, rc,
	         ok ? "valid" : "invalid");
	FZ_CHECK(!ok || strcmp(name, ref) == 0, "shmf_cli_name('%.40s') gave '%s'", s, name);
	FZ_CHECK(!ok || shmf_name_check(name) == 0, "shmf_cli_name passed a name 9.4 refuses");
}

/* ---- the parse --------------------------------------------------------------------------- */

struct fz_args {
	int n;
	char *arg[FZ_CLI_MAX_ARGS + 1]; /* [0] is "shmframe" */
	size_t len[FZ_CLI_MAX_ARGS + 1];
	char *copy[FZ_CLI_MAX_ARGS + 1]; /* a copy of each, to see that nothing writes them */
};

/* p points into (or is) one of the arguments. */
static int in_args(const struct fz_args *a, const char *p)
{
	for (int i = 0; i < a->n; i++)
		if (p >= a->arg[i] && p <= a->arg[i] + a->len[i])
			return 1;
	return 0;
}

static int is_valid_cmd(enum shmf_cli_cmd c)
{
	return c >= SHMF_CMD_HELP && c <= SHMF_CMD_UNLINK;
}

static uint64_t frame_size(uint64_t len)
{
	return (SHMF_FRAME_HEADER + len + SHMF_FRAME_ALIGN - 1u) &
	       ~(uint64_t)(SHMF_FRAME_ALIGN - 1u);
}

/* argv has room for a->n + 1 pointers and outlives o: o->msgs points into it. */
static int call_parse(const struct fz_args *a, char **argv, struct shmf_cli_opts *o, char *err,
                      size_t errlen)
{
	memcpy(argv, a->arg, (size_t)a->n * sizeof argv[0]);
	argv[a->n] = NULL;
	memset(o, 0x5A, sizeof *o); /* the parser must set every field it hands back */
	return shmf_cli_parse(a->n, argv, o, err, errlen);
}

static void check_success(const struct fz_args *a, const struct shmf_cli_opts *o)
{
	const char *cn = shmf_cli_cmd_name(o->cmd);

	FZ_CHECK(is_valid_cmd(o->cmd), "cmd %d", (int)o->cmd);
	FZ_CHECK(cn != NULL && cn[0] != '\0', "no name for cmd %d", (int)o->cmd);
	if (o->cmd == SHMF_CMD_HELP)
		FZ_CHECK(o->help_cmd == SHMF_CMD_NONE ||
		                 (is_valid_cmd(o->help_cmd) && o->help_cmd != SHMF_CMD_VERSION),
		         "help_cmd %d", (int)o->help_cmd);
	if (o->has_name) {
		int found = 0;
		FZ_CHECK(memchr(o->name, '\0', sizeof o->name) != NULL, "name not terminated");
		FZ_CHECK(shmf_name_check(o->name) == 0, "name '%s' fails PROTO 9.4", o->name);
		for (int i = 2; i < a->n && !found; i++)
			found = strcmp(o->name, a->copy[i]) == 0 ||
			        (a->copy[i][0] != '/' && strcmp(o->name + 1, a->copy[i]) == 0);
		FZ_CHECK(found, "name '%s' is no argument", o->name);
	}
	switch (o->cmd) {
	case SHMF_CMD_CREATE:
	case SHMF_CMD_SEND:
	case SHMF_CMD_RECV:
	case SHMF_CMD_UNLINK: FZ_CHECK(o->has_name, "%s without a name", cn); break;
	case SHMF_CMD_INSPECT:
		FZ_CHECK(o->has_name != (o->file != NULL), "inspect: a name xor a file");
		FZ_CHECK(o->file == NULL || (in_args(a, o->file) && o->file[0] != '\0'),
		         "inspect: --file");
		break;
	case SHMF_CMD_LS:
	case SHMF_CMD_GC: FZ_CHECK(!o->has_name, "%s with a name", cn); break;
	default: break;
	}
	if (o->cmd == SHMF_CMD_CREATE) {
		uint64_t cap = o->capacity;
		FZ_CHECK(cap >= SHMF_MIN_CAPACITY && cap <= SHMF_MAX_CAPACITY &&
		                 (cap & (cap - 1u)) == 0,
		         "capacity %llu", (unsigned long long)cap);
		FZ_CHECK(2u * frame_size(o->max_message) <= cap, "max_message %llu, capacity %llu",
		         (unsigned long long)o->max_message, (unsigned long long)cap);
		FZ_CHECK(o->has_max_message || o->max_message <= SHMF_DEFAULT_MAX_MESSAGE,
		         "default max_message %llu", (unsigned long long)o->max_message);
		FZ_CHECK(o->has_capacity || cap == SHMF_DEFAULT_CAPACITY, "default capacity");
		FZ_CHECK(o->mode <= 0777u, "mode %o", o->mode);
	}
	if (o->cmd == SHMF_CMD_SEND || o->cmd == SHMF_CMD_RECV) {
		FZ_CHECK(o->side == SHMF_SIDE_A || o->side == SHMF_SIDE_B, "side %d", o->side);
		FZ_CHECK(o->timeout_ms >= -1, "timeout %d", o->timeout_ms);
	}
	if (o->cmd == SHMF_CMD_SEND) {
		FZ_CHECK(o->nmsgs >= 0 && o->nmsgs <= a->n - 3, "nmsgs %d of %d args", o->nmsgs,
		         a->n);
		FZ_CHECK(!(o->binary && o->nmsgs > 0), "--binary with MESSAGEs");
		for (int i = 0; i < o->nmsgs; i++)
			FZ_CHECK(in_args(a, o->msgs[i]), "message %d is no argument", i);
	}
	if (o->cmd == SHMF_CMD_RECV)
		FZ_CHECK(!(o->binary && o->json), "--binary with --json");
	if (o->cmd == SHMF_CMD_GC)
		FZ_CHECK(o->min_age_s <= SHMF_CLI_MAX_AGE, "min-age %llu",
		         (unsigned long long)o->min_age_s);
	if (o->cmd == SHMF_CMD_LS || o->cmd == SHMF_CMD_GC)
		FZ_CHECK(o->match == NULL || in_args(a, o->match), "--match");
}

/* Two results of the same command line are the same options. */
static void check_same(const struct shmf_cli_opts *x, const struct shmf_cli_opts *y)
{
	FZ_CHECK(x->cmd == y->cmd && x->help_cmd == y->help_cmd, "cmd");
	FZ_CHECK(x->has_name == y->has_name && (!x->has_name || strcmp(x->name, y->name) == 0),
	         "name");
	FZ_CHECK(x->file == y->file && x->match == y->match, "file, match");
	FZ_CHECK(x->capacity == y->capacity && x->max_message == y->max_message &&
	                 x->mode == y->mode && x->has_capacity == y->has_capacity &&
	                 x->has_max_message == y->has_max_message && x->simplex == y->simplex,
	         "create options");
	FZ_CHECK(x->side == y->side && x->timeout_ms == y->timeout_ms &&
	                 x->has_timeout == y->has_timeout && x->binary == y->binary &&
	                 x->json == y->json && x->follow == y->follow && x->count == y->count,
	         "send/recv options");
	FZ_CHECK(x->all == y->all && x->dry_run == y->dry_run && x->verbose == y->verbose &&
	                 x->min_age_s == y->min_age_s && x->not_ready == y->not_ready,
	         "ls/gc options");
	FZ_CHECK(x->nmsgs == y->nmsgs, "nmsgs");
	for (int i = 0; i < x->nmsgs; i++)
		FZ_CHECK(x->msgs[i] == y->msgs[i], "message %d", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int checked;
	struct fz_args a;
	struct shmf_cli_opts o1, o2, o3;
	char *argv1[FZ_CLI_MAX_ARGS + 2], *argv2[FZ_CLI_MAX_ARGS + 2], *argv3[FZ_CLI_MAX_ARGS + 2];
	char *err1, *err2;
	size_t start = 0, errlen2;
	int rc1, rc2, rc3;

	if (!checked) {
		char *none[] = {NULL};
		char prog[] = "shmframe";
		char *only[] = {prog, NULL};
		char e[8];
		FZ_CHECK(shmf_cli_parse(0, none, &o1, e, sizeof e) == SHMF_EXIT_USAGE, "argc 0");
		FZ_CHECK(shmf_cli_parse(1, NULL, &o1, e, sizeof e) == SHMF_EXIT_USAGE, "argv NULL");
		FZ_CHECK(shmf_cli_parse(1, only, &o1, e, sizeof e) == SHMF_EXIT_USAGE,
		         "no command");
		FZ_CHECK(memchr(e, '\0', sizeof e) != NULL, "short err not NUL-terminated");
		for (int c = -64; c <= 0; c++) {
			int x = shmf_cli_exit_code(c);
			FZ_CHECK((x >= SHMF_EXIT_OK && x <= SHMF_EXIT_MSGSIZE),
			         "exit code %d for %d", x, c);
			FZ_CHECK((x == 0) == (c == 0), "exit code %d for %d", x, c);
		}
		checked = 1;
	}

	memset(&a, 0, sizeof a);
	a.arg[0] = strdup("shmframe");
	FZ_CHECK(a.arg[0] != NULL, "out of memory");
	a.len[0] = strlen(a.arg[0]);
	a.n = 1;
	while (start < size && a.n <= FZ_CLI_MAX_ARGS) {
		const uint8_t *nul = memchr(data + start, 0, size - start);
		size_t len = nul != NULL ? (size_t)(nul - (data + start)) : size - start;
		a.arg[a.n] = malloc(len + 1u);
		FZ_CHECK(a.arg[a.n] != NULL, "out of memory");
		if (len > 0)
			memcpy(a.arg[a.n], data + start, len);
		a.arg[a.n][len] = '\0';
		a.len[a.n] = len;
		a.n++;
		start += len + 1u;
	}
	for (int i = 0; i < a.n; i++) {
		a.copy[i] = malloc(a.len[i] + 1u);
		FZ_CHECK(a.copy[i] != NULL, "out of memory");
		memcpy(a.copy[i], a.arg[i], a.len[i] + 1u);
		if (i > 0)
			check_parsers(a.arg[i]);
	}

	/* The first parse as main() does it, the second with a short err (1 to 64 bytes), the
	 * third with none. */
	err1 = malloc(FZ_CLI_ERRLEN);
	errlen2 = 1u + size % 64u;
	err2 = malloc(errlen2);
	FZ_CHECK(err1 != NULL && err2 != NULL, "out of memory");
	memset(err1, 0x7F, FZ_CLI_ERRLEN);
	memset(err2, 0x7F, errlen2);
	rc1 = call_parse(&a, argv1, &o1, err1, FZ_CLI_ERRLEN);
	rc2 = call_parse(&a, argv2, &o2, err2, errlen2);
	rc3 = call_parse(&a, argv3, &o3, NULL, 0);

	FZ_CHECK(rc1 == 0 || rc1 == SHMF_EXIT_USAGE, "parse returned %d", rc1);
	FZ_CHECK(rc2 == rc1 && rc3 == rc1, "parse returned %d, then %d, then %d", rc1, rc2, rc3);
	FZ_CHECK(memchr(err1, '\0', FZ_CLI_ERRLEN) != NULL, "err not NUL-terminated");
	FZ_CHECK(memchr(err2, '\0', errlen2) != NULL, "short err not NUL-terminated");
	FZ_CHECK((rc1 == 0) == (err1[0] == '\0'), "rc %d with err '%s'", rc1, err1);
	FZ_CHECK(strncmp(err1, err2, errlen2 - 1u) == 0 &&
	                 strlen(err2) == (strlen(err1) < errlen2 ? strlen(err1) : errlen2 - 1u),
	         "short err '%s' is no prefix of '%s'", err2, err1);
	for (int i = 0; i < a.n; i++)
		FZ_CHECK(memcmp(a.arg[i], a.copy[i], a.len[i] + 1u) == 0, "argument %d written", i);
	if (rc1 == 0) {
		check_success(&a, &o1);
		check_same(&o1, &o2);
		check_same(&o1, &o3);
	}
	if (getenv("SHMF_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "cli_args: %d argument(s): rc %d, cmd %s, err '%s'\n", a.n - 1, rc1,
		        shmf_cli_cmd_name(o1.cmd), err1);

	free(err1);
	free(err2);
	for (int i = 0; i < a.n; i++) {
		free(a.arg[i]);
		free(a.copy[i]);
	}
	return 0;
}
