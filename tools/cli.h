/* cli.h - the shmframe command: options, exit codes, and the interfaces between its files.
 *
 *   cli_parse.c  command-line parsing, name and number validation, the exit-code table; pure
 *                (no I/O, no exit, no allocation), so that a fuzzer can drive it (issue #5)
 *   image.c      analysis of a segment from private copies of its bytes (PROTO 2, 6.2, 6.3);
 *                pure
 *   shmframe.c   main(), help, create, send, recv, unlink
 *   inspect.c    inspect: read-only report on one segment or image
 *   shmdir.c     ls and gc: the shmframe segments in /dev/shm
 *   out.c        output helpers: JSON strings, base64, errors on stderr
 *   stress*.c    stress: a seeded duplex stress run with fault injection (issue #6)
 *   bench/ (*.c) bench: throughput and latency against pipe, socketpair, mq (issue #8)
 *
 * The library never prints; this program does, and it must never crash on any input: command
 * lines, standard input, or segment bytes that a hostile peer wrote.
 */
#ifndef SHMF_CLI_H
#define SHMF_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shmframe.h"

/* The exit codes, one table for every subcommand (docs/shmframe.1.scd, EXIT STATUS). 77 is
 * ctest's "skipped" and is never used. */
enum shmf_cli_exit {
	SHMF_EXIT_OK = 0,
	SHMF_EXIT_DAMAGE = 1,       /* inspect found damage; recv met a corrupt frame; bad input */
	SHMF_EXIT_USAGE = 2,        /* bad command line or name */
	SHMF_EXIT_NOTFOUND = 3,     /* no such segment (or not ready) */
	SHMF_EXIT_PERM = 4,         /* permission, ownership, mode or file type refused */
	SHMF_EXIT_TIMEOUT = 5,      /* timed out, or nothing to do with --timeout 0 */
	SHMF_EXIT_PEER = 6,         /* the peer died or closed before the work was done */
	SHMF_EXIT_EXISTS = 7,       /* create: the name exists */
	SHMF_EXIT_NOSPACE = 8,      /* no space for the segment */
	SHMF_EXIT_SYSTEM = 9,       /* any other system error, out of memory, write error */
	SHMF_EXIT_BUSY = 10,        /* the role is held by a live process */
	SHMF_EXIT_MSGSIZE = 11,     /* a message is larger than the segment's max_message */
	SHMF_EXIT_INTERRUPTED = 130 /* SIGINT, SIGTERM or SIGHUP; detached cleanly */
};

/* The exit code for a library error code (0 for 0). */
int shmf_cli_exit_code(int shmf_err);

enum shmf_cli_cmd {
	SHMF_CMD_NONE = 0,
	SHMF_CMD_HELP,
	SHMF_CMD_VERSION,
	SHMF_CMD_CREATE,
	SHMF_CMD_SEND,
	SHMF_CMD_RECV,
	SHMF_CMD_INSPECT,
	SHMF_CMD_LS,
	SHMF_CMD_GC,
	SHMF_CMD_UNLINK
};

#define SHMF_CLI_GC_MIN_AGE 60u            /* seconds: gc's default --min-age */
#define SHMF_CLI_MAX_AGE    10000000000ull /* seconds: --min-age limit, keeps ns in a u64 */

struct shmf_cli_opts {
	enum shmf_cli_cmd cmd;
	enum shmf_cli_cmd help_cmd;   /* SHMF_CMD_HELP: the command to explain, NONE for all */
	char name[SHMF_NAME_MAX + 1]; /* the segment name, '/' added when missing */
	int has_name;
	const char *file; /* inspect --file PATH (points into argv) */
	/* create */
	uint64_t capacity;
	uint64_t max_message;
	unsigned mode;
	int has_capacity, has_max_message, simplex;
	/* send, recv */
	int side;       /* SHMF_SIDE_A or SHMF_SIDE_B */
	int timeout_ms; /* -1 forever, 0 no wait, N ms */
	int has_timeout;
	int binary, json, follow;
	uint64_t count; /* 0: no --count */
	/* ls, gc */
	int all, dry_run, verbose;
	int not_ready; /* gc --not-ready: also files whose creator died before they were ready */
	uint64_t min_age_s;
	const char *match; /* --match GLOB (points into argv) */
	/* send: the messages, pointers into argv */
	char **msgs;
	int nmsgs;
};

/* Parse a command line (argv[0] is the program). Returns 0 and fills *out, or SHMF_EXIT_USAGE
 * with a one-line reason in err (always NUL-terminated when errlen > 0). Writes nothing, exits
 * never, allocates nothing; it reorders argv's pointers as getopt_long does, and resets getopt's
 * state, so that it may be called again. */
int shmf_cli_parse(int argc, char **argv, struct shmf_cli_opts *out, char *err, size_t errlen);

/* A segment name from an argument: "q" becomes "/q"; then PROTO 9.4. 0 or SHMF_ENAME. */
int shmf_cli_name(const char *arg, char out[SHMF_NAME_MAX + 1]);
/* Unsigned decimal with an optional K, M or G suffix (powers of 1024), at most max. 0 or -1. */
int shmf_cli_parse_size(const char *s, uint64_t max, uint64_t *out);
/* Unsigned decimal without suffix, at most max. 0 or -1. */
int shmf_cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Milliseconds: -1 (forever) or 0 .. INT_MAX. 0 or -1. */
int shmf_cli_parse_timeout(const char *s, int *out);
/* Permission bits in octal, at most 0777. 0 or -1. */
int shmf_cli_parse_mode(const char *s, unsigned *out);

const char *shmf_cli_cmd_name(enum shmf_cli_cmd cmd);

/* ---- shmframe.c ---------------------------------------------------------------------------- */
/* Set by the signal handler; the loops that wait poll it between bounded slices. */
extern volatile sig_atomic_t shmf_cli_interrupted;

/* ---- out.c --------------------------------------------------------------------------------- */
/* "shmframe: CMD: WHAT: TEXT" on stderr (WHAT may be NULL). */
void shmf_cli_err(const char *cmd, const char *what, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The same with shmf_strerror(rc) (and errno's text for SHMF_ESYS) as TEXT; returns the exit
 * code for rc. */
int shmf_cli_fail(const char *cmd, const char *what, int rc);
/* A JSON string literal, quotes included. Valid UTF-8 is kept, control characters are escaped,
 * and each byte of an invalid sequence becomes U+FFFD. */
void shmf_json_str(FILE *f, const void *s, size_t n);
static inline void shmf_json_cstr(FILE *f, const char *s)
{
	shmf_json_str(f, s, strlen(s));
}
/* 1 when buf holds valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
int shmf_utf8_valid(const unsigned char *buf, size_t n);
/* Base64 (RFC 4648, with padding), quotes included. */
void shmf_json_base64(FILE *f, const unsigned char *buf, size_t n);
/* Bytes for a text column: printable ASCII kept, others as \xNN. */
void shmf_text_bytes(FILE *f, const char *s);
/* ISO 8601 UTC for CLOCK_REALTIME ns, into buf; "-" for 0. */
const char *shmf_fmt_time(uint64_t ns, char *buf, size_t n);

/* ---- segfile.c: reading segment files, read-only ----------------------------------------- */
#define SHMF_CLI_HEAD   4096u  /* the control area: header, role lines, ring controls */
#define SHMF_CLI_WINDOW 65536u /* frames are copied through a window of this size */

struct shmf_img;

struct shmf_cli_file {
	int fd;
	size_t n;      /* bytes in head */
	uint64_t size; /* st_size at fstat */
	uint32_t uid, mode;
	uint64_t mtime_ns, ctime_ns;
	uint64_t dev, ino;
	uint64_t bytes_read; /* bytes copied from the file: the head, then the frames since */
	int err;             /* errno of a read of frames that failed, else 0 */
	uint8_t *win;        /* malloc'd when first needed (SHMF_CLI_WINDOW bytes), or NULL */
	uint64_t win_off;    /* the file offset of win[0] */
	size_t win_n;        /* bytes in win */
	uint8_t head[SHMF_CLI_HEAD]; /* the file's first n bytes */
};

/* fstat fd, refuse anything but a regular file (SHMF_EFILETYPE), then copy the file's first
 * SHMF_CLI_HEAD bytes (all of a shorter file) into f->head, with pread(). 0 or an SHMF code
 * (errno kept for SHMF_ESYS). f->win must be NULL or the window of an earlier call; the caller
 * calls shmf_cli_file_free() and closes f->fd. */
int shmf_cli_read_head(int fd, struct shmf_cli_file *f);
/* The shmf_img_read_fn of a file whose head was read: frames copied through the window, never
 * past the file's size at fstat, counted in f->bytes_read. */
size_t shmf_cli_read_at(void *ctx, uint64_t off, void *dst, size_t n, uint64_t ahead);
/* Forget the window, so that the next walk copies its frames again; bytes_read back to n. */
void shmf_cli_rewind(struct shmf_cli_file *f);
/* Did a reader move either ring's rpos since the head was read? 1 or 0. */
int shmf_cli_rpos_moved(const struct shmf_cli_file *f);
/* Analyse the file whose head was read and walk every ring, without a callback, until no
 * reader moved meanwhile, reading the head again for each of at most tries tries; *stable is 0
 * when every try saw a move. 0 or an SHMF code from reading the head again. */
int shmf_cli_analyse(struct shmf_cli_file *f, struct shmf_img *im, int is_copy, int tries,
                     int *stable);
void shmf_cli_file_free(struct shmf_cli_file *f);
/* Open an existing name or path read-only, never creating, never blocking on a FIFO; with
 * nofollow, never following a symbolic link. -1 with an SHMF code in *rc. */
int shmf_cli_open_ro(int dirfd, const char *path, int nofollow, int *rc);
/* Is side's role lock (PROTO 7) held? F_OFD_GETLK on a read-only descriptor: 1 held, 0 free,
 * -1 unknown. */
int shmf_cli_role_locked(int fd, int side);
/* errno of open() as an SHMF code. */
int shmf_cli_errno_code(int e);

/* ---- the commands -------------------------------------------------------------------------- */
int shmf_cmd_inspect(const struct shmf_cli_opts *o);
int shmf_cmd_ls(const struct shmf_cli_opts *o);
int shmf_cmd_gc(const struct shmf_cli_opts *o);
/* stress and bench parse their own options: argv[0] is the command's name ("stress", "bench").
 * Each returns an exit code from the table above. */
int shmf_cmd_stress(int argc, char **argv);
int shmf_cmd_bench(int argc, char **argv);

#endif
