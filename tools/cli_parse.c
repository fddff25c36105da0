/* cli_parse.c - the shmframe command line: subcommands, options, names and numbers, and the
 * exit-code table.
 *
 * Pure: nothing here prints, exits, allocates or makes a system call, so that a fuzzer can call
 * shmf_cli_parse() on any argv (issue #5). Every number is parsed strictly (digits only, no sign
 * unless documented, no overflow) and checked against its limit; every name goes through
 * shmf_name_check() (PROTO 9.4). getopt_long() is the only state kept between calls, and it is
 * reset at the start of each one.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"

int shmf_cli_exit_code(int err)
{
	switch (err) {
	case SHMF_OK: return SHMF_EXIT_OK;
	case SHMF_EINVAL:
	case SHMF_ENAME:
	case SHMF_ENOTSUP: return SHMF_EXIT_USAGE;
	case SHMF_ENOENT:
	case SHMF_ENOTREADY: return SHMF_EXIT_NOTFOUND;
	case SHMF_EACCES:
	case SHMF_EOWNER:
	case SHMF_EMODE:
	case SHMF_EFILETYPE:
	case SHMF_ESEALS:
	case SHMF_EPEERCRED: return SHMF_EXIT_PERM;
	case SHMF_EAGAIN:
	case SHMF_ETIMEDOUT: return SHMF_EXIT_TIMEOUT;
	case SHMF_EPEERGONE:
	case SHMF_EPEERCLOSED: return SHMF_EXIT_PEER;
	case SHMF_EEXIST: return SHMF_EXIT_EXISTS;
	case SHMF_ENOSPC: return SHMF_EXIT_NOSPACE;
	case SHMF_EROLEBUSY: return SHMF_EXIT_BUSY;
	case SHMF_EMSGSIZE: return SHMF_EXIT_MSGSIZE;
	case SHMF_ESIZE:
	case SHMF_EMAGIC:
	case SHMF_EVERSION:
	case SHMF_EHDRCRC:
	case SHMF_ELAYOUT:
	case SHMF_EFEATURE:
	case SHMF_EROLE:
	case SHMF_EPOS:
	case SHMF_EALIGN:
	case SHMF_ELENGTH:
	case SHMF_ETYPE:
	case SHMF_EFLAGS:
	case SHMF_ECRC:
	case SHMF_ESEQ:
	case SHMF_ETRUNCATED: return SHMF_EXIT_DAMAGE;
	default: return SHMF_EXIT_SYSTEM; /* ESYS, ENOMEM, ESTATE, ETOOSMALL, unknown */
	}
}

static const struct {
	const char *name;
	enum shmf_cli_cmd cmd;
} commands[] = {
        {"create", SHMF_CMD_CREATE},   {"send", SHMF_CMD_SEND}, {"recv", SHMF_CMD_RECV},
        {"inspect", SHMF_CMD_INSPECT}, {"ls", SHMF_CMD_LS},     {"gc", SHMF_CMD_GC},
        {"unlink", SHMF_CMD_UNLINK},   {"help", SHMF_CMD_HELP},
};

const char *shmf_cli_cmd_name(enum shmf_cli_cmd cmd)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].cmd == cmd)
			return commands[i].name;
	return "shmframe";
}

static enum shmf_cli_cmd lookup(const char *s)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, s) == 0)
			return commands[i].cmd;
	return SHMF_CMD_NONE;
}

/* ---- names and numbers --------------------------------------------------------------------- */

int shmf_cli_name(const char *arg, char out[SHMF_NAME_MAX + 1])
{
	size_t n;

	if (arg == NULL)
		return SHMF_ENAME;
	n = strnlen(arg, SHMF_NAME_MAX + 1);
	if (arg[0] == '/') {
		if (n > SHMF_NAME_MAX)
			return SHMF_ENAME;
		memcpy(out, arg, n + 1);
	} else {
		if (n + 1 > SHMF_NAME_MAX)
			return SHMF_ENAME;
		out[0] = '/';
		memcpy(out + 1, arg, n + 1);
	}
	return shmf_name_check(out) == 0 ? 0 : SHMF_ENAME;
}

/* Digits only: no sign, no spaces, no base prefix. *end is the first byte after them. */
static int parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10u)
			return -1;
		v = v * 10u + d;
	}
	*out = v;
	*end = p;
	return 0;
}

int shmf_cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;

	if (parse_digits(s, &v, &end) != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int shmf_cli_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;
	unsigned shift = 0;

	if (parse_digits(s, &v, &end) != 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k':
	case 'K': shift = 10; break;
	case 'm':
	case 'M': shift = 20; break;
	case 'g':
	case 'G': shift = 30; break;
	default: return -1;
	}
	if (shift != 0) {
		if (end[1] != '\0' || v > (UINT64_MAX >> shift))
			return -1;
		v <<= shift;
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int shmf_cli_parse_timeout(const char *s, int *out)
{
	uint64_t v;

	if (s != NULL && strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	if (shmf_cli_parse_u64(s, INT_MAX, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

int shmf_cli_parse_mode(const char *s, unsigned *out)
{
	unsigned v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			return -1;
		v = v * 8u + (unsigned)(*p - '0');
		if (v > 0777u)
			return -1;
	}
	*out = v;
	return 0;
}

/* ---- the command line ---------------------------------------------------------------------- */

static int usage(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int usage(char *err, size_t errlen, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return SHMF_EXIT_USAGE;
}

/* Long-only options get values from 256 up. */
enum {
	OPT_CAPACITY = 256,
	OPT_MAX_MESSAGE,
	OPT_SIMPLEX,
	OPT_MODE,
	OPT_FILE,
	OPT_DRY_RUN,
	OPT_MIN_AGE,
	OPT_MATCH,
	OPT_NOT_READY
};

static const struct option opts_create[] = {
        {"capacity", required_argument, NULL, OPT_CAPACITY},
        {"max-message", required_argument, NULL, OPT_MAX_MESSAGE},
        {"simplex", no_argument, NULL, OPT_SIMPLEX},
        {"mode", required_argument, NULL, OPT_MODE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
static const struct option opts_send[] = {{"side", required_argument, NULL, 's'},
                                          {"binary", no_argument, NULL, 'b'},
                                          {"timeout", required_argument, NULL, 't'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
static const struct option opts_recv[] = {
        {"side", required_argument, NULL, 's'},    {"count", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'}, {"follow", no_argument, NULL, 'f'},
        {"binary", no_argument, NULL, 'b'},        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
static const struct option opts_inspect[] = {{"file", required_argument, NULL, OPT_FILE},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
static const struct option opts_ls[] = {{"json", no_argument, NULL, 'j'},
                                        {"all", no_argument, NULL, 'a'},
                                        {"match", required_argument, NULL, OPT_MATCH},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
static const struct option opts_gc[] = {{"dry-run", no_argument, NULL, OPT_DRY_RUN},
                                        {"min-age", required_argument, NULL, OPT_MIN_AGE},
                                        {"match", required_argument, NULL, OPT_MATCH},
                                        {"verbose", no_argument, NULL, 'v'},
                                        {"not-ready", no_argument, NULL, OPT_NOT_READY},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
static const struct option opts_none[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

/* The leading '-' makes getopt_long return each operand in place, as the value of option 1,
 * whatever POSIXLY_CORRECT says, so that options may follow NAME ("recv q --count 3"); the ':'
 * makes it report a missing value as ':' rather than '?'. */
static void options_for(enum shmf_cli_cmd cmd, const struct option **lo, const char **so)
{
	switch (cmd) {
	case SHMF_CMD_CREATE: *lo = opts_create, *so = "-:h"; break;
	case SHMF_CMD_SEND: *lo = opts_send, *so = "-:hs:bt:"; break;
	case SHMF_CMD_RECV: *lo = opts_recv, *so = "-:hs:n:t:fbj"; break;
	case SHMF_CMD_INSPECT: *lo = opts_inspect, *so = "-:hj"; break;
	case SHMF_CMD_LS: *lo = opts_ls, *so = "-:hja"; break;
	case SHMF_CMD_GC: *lo = opts_gc, *so = "-:hv"; break;
	default: *lo = opts_none, *so = "-:h"; break;
	}
}

static uint64_t frame_size(uint64_t len)
{
	return (SHMF_FRAME_HEADER + len + (SHMF_FRAME_ALIGN - 1u)) &
	       ~(uint64_t)(SHMF_FRAME_ALIGN - 1u);
}

/* PROTO 2.4, with messages that name the fix. A --max-message without --capacity keeps the
 * default capacity; a --capacity without --max-message gets the largest max_message that fits,
 * up to the library's default. */
static int check_geometry(struct shmf_cli_opts *o, char *err, size_t errlen)
{
	uint64_t cap = o->has_capacity ? o->capacity : SHMF_DEFAULT_CAPACITY;
	/* two frames of it fill the largest ring */
	const uint64_t largest = SHMF_MAX_CAPACITY / 2u - SHMF_FRAME_HEADER;

	if (cap < SHMF_MIN_CAPACITY || cap > SHMF_MAX_CAPACITY || (cap & (cap - 1u)) != 0)
		return usage(err, errlen,
		             "--capacity must be a power of two from 256 to 1G, not %llu",
		             (unsigned long long)cap);
	if (!o->has_max_message) {
		uint64_t fit = (cap / 2u) - SHMF_FRAME_HEADER; /* cap/2 is a multiple of 8 */
		o->max_message = fit < SHMF_DEFAULT_MAX_MESSAGE ? fit : SHMF_DEFAULT_MAX_MESSAGE;
	} else if (o->max_message > largest || 2u * frame_size(o->max_message) > cap) {
		uint64_t need = SHMF_MIN_CAPACITY;
		/* Above the largest, frame_size() could wrap around (2^64 - 1 gives 24): say so
		 * before computing a capacity from it. */
		if (o->max_message > largest)
			return usage(err, errlen, "--max-message %llu is too large (at most %llu)",
			             (unsigned long long)o->max_message,
			             (unsigned long long)largest);
		while (need < 2u * frame_size(o->max_message))
			need <<= 1; /* ends by SHMF_MAX_CAPACITY: max_message <= largest */
		return usage(err, errlen,
		             "--max-message %llu needs a --capacity of at least %llu (have %llu)",
		             (unsigned long long)o->max_message, (unsigned long long)need,
		             (unsigned long long)cap);
	}
	o->capacity = cap;
	return 0;
}

/* "CMD --help" works whatever else is on the line: look for it before a "--". */
static int wants_help(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

static int parse_option(struct shmf_cli_opts *o, int c, const char *arg, const char *optname,
                        char *err, size_t errlen)
{
	switch (c) {
	case 'h': o->help_cmd = o->cmd, o->cmd = SHMF_CMD_HELP; return 0;
	case OPT_CAPACITY:
		if (shmf_cli_parse_size(arg, UINT64_MAX, &o->capacity) != 0)
			return usage(err, errlen, "--capacity: '%s' is not a size in bytes", arg);
		o->has_capacity = 1;
		return 0;
	case OPT_MAX_MESSAGE:
		if (shmf_cli_parse_size(arg, UINT64_MAX, &o->max_message) != 0)
			return usage(err, errlen, "--max-message: '%s' is not a size in bytes",
			             arg);
		o->has_max_message = 1;
		return 0;
	case OPT_SIMPLEX: o->simplex = 1; return 0;
	case OPT_MODE:
		if (shmf_cli_parse_mode(arg, &o->mode) != 0)
			return usage(err, errlen,
			             "--mode: '%s' is not octal permission bits (0-0777)", arg);
		return 0;
	case 's':
		if (strcmp(arg, "a") == 0 || strcmp(arg, "A") == 0)
			o->side = SHMF_SIDE_A;
		else if (strcmp(arg, "b") == 0 || strcmp(arg, "B") == 0)
			o->side = SHMF_SIDE_B;
		else
			return usage(err, errlen, "--side: '%s' is not a or b", arg);
		return 0;
	case 't':
		if (shmf_cli_parse_timeout(arg, &o->timeout_ms) != 0)
			return usage(
			        err, errlen,
			        "--timeout: '%s' is not milliseconds (0 to %d, or -1 for ever)",
			        arg, INT_MAX);
		o->has_timeout = 1;
		return 0;
	case 'n':
		if (shmf_cli_parse_u64(arg, UINT64_MAX, &o->count) != 0 || o->count == 0)
			return usage(err, errlen, "--count: '%s' is not a number of at least 1",
			             arg);
		return 0;
	case 'f': o->follow = 1; return 0;
	case 'b': o->binary = 1; return 0;
	case 'j': o->json = 1; return 0;
	case 'a': o->all = 1; return 0;
	case 'v': o->verbose = 1; return 0;
	case OPT_FILE: o->file = arg; return 0;
	case OPT_DRY_RUN: o->dry_run = 1; return 0;
	case OPT_MIN_AGE:
		if (shmf_cli_parse_u64(arg, SHMF_CLI_MAX_AGE, &o->min_age_s) != 0)
			return usage(err, errlen, "--min-age: '%s' is not a number of seconds",
			             arg);
		return 0;
	case OPT_MATCH: o->match = arg; return 0;
	case OPT_NOT_READY: o->not_ready = 1; return 0;
	default: return usage(err, errlen, "%s: unexpected option", optname);
	}
}

/* The name getopt_long was looking at when it failed: argv[optind - 1], or the short option. */
static void bad_option_name(int argc, char **argv, int c, char *buf, size_t n)
{
	const char *a = optind >= 1 && optind - 1 < argc ? argv[optind - 1] : NULL;

	if (optopt != 0 && optopt < 256 && (a == NULL || strncmp(a, "--", 2) != 0))
		snprintf(buf, n, "-%c", optopt);
	else if (a != NULL)
		snprintf(buf, n, "%.60s", a);
	else
		snprintf(buf, n, "-%c", c);
}

int shmf_cli_parse(int argc, char **argv, struct shmf_cli_opts *o, char *err, size_t errlen)
{
	const struct option *lo;
	const char *so;
	char **args;
	int c, rc, nargs, first, npos = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(o, 0, sizeof *o);
	o->side = -1;
	o->timeout_ms = 0;
	o->mode = 0600;
	o->min_age_s = SHMF_CLI_GC_MIN_AGE;

	if (argc < 1 || argv == NULL)
		return usage(err, errlen, "no arguments");
	if (argc < 2)
		return usage(err, errlen, "no command given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		if (argc > 2)
			return usage(err, errlen, "--help takes no argument (try: help COMMAND)");
		o->cmd = SHMF_CMD_HELP;
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		if (argc > 2)
			return usage(err, errlen, "--version takes no argument");
		o->cmd = SHMF_CMD_VERSION;
		return 0;
	}
	o->cmd = lookup(argv[1]);
	if (o->cmd == SHMF_CMD_NONE)
		return usage(err, errlen, "unknown command '%.60s'", argv[1]);
	if (o->cmd == SHMF_CMD_HELP) {
		if (argc > 3)
			return usage(err, errlen, "help takes at most one command");
		if (argc == 3) {
			o->help_cmd = lookup(argv[2]);
			if (o->help_cmd == SHMF_CMD_NONE)
				return usage(err, errlen, "help: unknown command '%.60s'", argv[2]);
		}
		return 0;
	}
	if (wants_help(argc, argv)) {
		o->help_cmd = o->cmd;
		o->cmd = SHMF_CMD_HELP;
		return 0;
	}

	/* getopt_long over argv[1..]: the command name plays argv[0]. optind = 0 makes glibc
	 * reinitialise completely, so that a second call (a fuzzer's) starts afresh. Operands are
	 * gathered, in order, at the front of args: each has been passed over when getopt_long
	 * returns it, so moving it back overwrites only entries already parsed. */
	options_for(o->cmd, &lo, &so);
	args = argv + 1;
	nargs = argc - 1;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(nargs, args, so, lo, NULL)) != -1) {
		char optname[80];
		if (c == 1) {
			args[1 + npos++] = optarg;
			continue;
		}
		if (c == '?' || c == ':') {
			bad_option_name(nargs, args, c, optname, sizeof optname);
			optind = 0;
			if (c == ':')
				return usage(err, errlen, "option %s needs a value", optname);
			return usage(err, errlen, "unknown option %s", optname);
		}
		snprintf(optname, sizeof optname, "-%c", c < 256 ? c : '?');
		if ((rc = parse_option(o, c, optarg, optname, err, errlen)) != 0) {
			optind = 0;
			return rc;
		}
		if (o->cmd == SHMF_CMD_HELP) {
			optind = 0;
			return 0;
		}
	}
	/* the operands after "--" */
	for (int i = optind; i < nargs; i++)
		args[1 + npos++] = args[i];
	optind = 0;
	first = 2; /* argv[2 .. 2 + npos) are the operands now */
	argc = first + npos;

	/* Positional arguments. */
	switch (o->cmd) {
	case SHMF_CMD_LS:
	case SHMF_CMD_GC:
		if (first < argc)
			return usage(err, errlen, "unexpected argument '%.60s'", argv[first]);
		break;
	case SHMF_CMD_INSPECT:
		if (o->file != NULL) {
			if (first < argc)
				return usage(err, errlen, "give a NAME or --file PATH, not both");
			if (o->file[0] == '\0')
				return usage(err, errlen, "--file: empty path");
			break;
		}
		/* fall through */
	default:
		if (first >= argc)
			return usage(err, errlen, "missing segment NAME");
		if (shmf_cli_name(argv[first], o->name) != 0)
			return usage(err, errlen,
			             "'%.60s' is not a valid segment name (want [/]NAME: 1-254 "
			             "printable ASCII characters, no '/')",
			             argv[first]);
		o->has_name = 1;
		first++;
		if (o->cmd == SHMF_CMD_SEND) {
			o->msgs = argv + first;
			o->nmsgs = argc - first;
		} else if (first < argc) {
			return usage(err, errlen, "unexpected argument '%.60s'", argv[first]);
		}
		break;
	}

	/* Combinations and defaults. */
	switch (o->cmd) {
	case SHMF_CMD_CREATE: return check_geometry(o, err, errlen);
	case SHMF_CMD_SEND:
		if (o->side < 0)
			o->side = SHMF_SIDE_A;
		if (o->binary && o->nmsgs > 0)
			return usage(err, errlen,
			             "--binary reads standard input: give no MESSAGE arguments");
		if (!o->has_timeout)
			o->timeout_ms = -1;
		break;
	case SHMF_CMD_RECV:
		if (o->side < 0)
			o->side = SHMF_SIDE_B;
		if (o->binary && o->json)
			return usage(err, errlen, "--binary and --json exclude each other");
		if (!o->has_timeout)
			o->timeout_ms = (o->count != 0 || o->follow) ? -1 : 0;
		break;
	default: break;
	}
	return 0;
}
