/* shmframe.c - the shmframe command: main(), help, and the commands that use the public API
 * (create, send, recv, unlink). inspect, ls and gc live in inspect.c and shmdir.c.
 *
 * Waiting is done in slices of at most 100 ms, so that SIGINT, SIGTERM and SIGHUP stop a
 * waiting command within one slice; it then detaches cleanly (shmf_close) and exits 130, except
 * `recv --follow`, for which a signal is the normal end (exit 0). Signals that were ignored when
 * the program started stay ignored, as for any well-behaved command (nohup, background jobs).
 *
 * The commands that map a segment turn the library's SIGBUS guard on first: a peer that shrinks
 * the file under the mapping then makes the calls fail with SHMF_ETRUNCATED (exit 1) instead of
 * killing this process.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLICE_MS  100
#define CLI_EINTR 1000 /* neither a library code nor an exit code: "interrupted by a signal" */

volatile sig_atomic_t shmf_cli_interrupted;

/* ---- help ---------------------------------------------------------------------------------- */

static const char help_main[] =
        "usage: shmframe COMMAND [OPTIONS] [ARGUMENTS]\n"
        "\n"
        "Framed, CRC-32C-checked messages between two processes through POSIX shared memory\n"
        "(protocol SHMF/1).\n"
        "\n"
        "commands:\n"
        "  create NAME             create a segment, and leave it in place\n"
        "  send NAME [MESSAGE...]  send each MESSAGE, or standard input, one message a line\n"
        "  recv NAME               receive messages and print them, one a line\n"
        "  inspect NAME            report on a segment without touching it (--file: an image)\n"
        "  ls                      list the shmframe segments in /dev/shm\n"
        "  gc                      remove segments that no live process holds\n"
        "  unlink NAME             remove a segment's name\n"
        "  stress                  a seeded duplex stress run, with faults injected\n"
        "  bench                   throughput and latency against pipe, socketpair and mq\n"
        "  help [COMMAND]          this text, or a command's\n"
        "\n"
        "NAME is /NAME or NAME: 1 to 254 printable ASCII characters, no '/'.\n"
        "'shmframe COMMAND --help' lists a command's options; --version prints the version.\n"
        "\n"
        "exit status: 0 ok, 1 damage or corrupt data, 2 usage, 3 not found, 4 permission,\n"
        "5 timeout, 6 peer gone or closed, 7 exists, 8 no space, 9 system error, 10 role busy,\n"
        "11 message too large, 130 interrupted. See shmframe(1).\n";

static const char help_create[] =
        "usage: shmframe create NAME [--capacity BYTES] [--max-message BYTES] [--simplex]\n"
        "                            [--mode OCTAL]\n"
        "\n"
        "Create the segment NAME and detach from it, leaving the name in place.\n"
        "\n"
        "  --capacity BYTES     bytes per ring: a power of two from 256 to 1G (default 4M);\n"
        "                       K, M and G suffixes are powers of 1024\n"
        "  --max-message BYTES  the largest message (default 64K, or the largest the\n"
        "                       capacity allows: 2 * (24 + BYTES, rounded up to 8) <= capacity)\n"
        "  --simplex            one ring, side A to side B (default: duplex, two rings)\n"
        "  --mode OCTAL         permission bits (default 0600), whatever the umask\n";

static const char help_send[] =
        "usage: shmframe send NAME [--side a|b] [--timeout MS] [--binary] [--] [MESSAGE...]\n"
        "\n"
        "Attach as side A (or --side b) and send each MESSAGE as one message. Without\n"
        "MESSAGE, read standard input: one message a line (without its newline), or with\n"
        "--binary a stream of records, each a 4-byte little-endian length and that many bytes.\n"
        "Messages stay in the ring after send exits. Put -- before messages that start with -.\n"
        "\n"
        "  -s, --side a|b      the side to attach as (default a)\n"
        "  -t, --timeout MS    the longest to wait for the segment to appear and for room\n"
        "                      for each message (default: no wait for the segment, and wait\n"
        "                      for room as long as the reader lives, or, with no reader\n"
        "                      attached, until one comes); -1 waits for ever\n"
        "  -b, --binary        read length-prefixed records from standard input\n";

static const char help_recv[] =
        "usage: shmframe recv NAME [--side a|b] [--count N] [--timeout MS] [--follow]\n"
        "                          [--binary | --json]\n"
        "\n"
        "Attach as side B (or --side a) and print each message received, one a line.\n"
        "Without --count or --follow, print the messages waiting now and exit 0.\n"
        "\n"
        "  -s, --side a|b      the side to attach as (default b)\n"
        "  -n, --count N       stop after N messages; fewer before a timeout is exit 5, and\n"
        "                      fewer before a sender that was attached leaves is exit 6\n"
        "                      (with none attached, recv waits for one)\n"
        "  -t, --timeout MS    the longest to wait for each message, and for the segment to\n"
        "                      appear (default: the segment must exist; messages: for ever\n"
        "                      with --count or --follow, else 0; without either, a timeout\n"
        "                      ends the draining with exit 0)\n"
        "  -f, --follow        keep receiving as senders come and go, until --count (exit 0),\n"
        "                      the --timeout since the last message (exit 5), or\n"
        "                      SIGINT/SIGTERM (exit 0)\n"
        "  -b, --binary        write records: a 4-byte little-endian length, then the bytes\n"
        "  -j, --json          write JSON Lines: {\"index\":I,\"length\":L,\"encoding\":\"utf-8\"\n"
        "                      or \"base64\",\"payload\":\"...\"}; index counts from 0 in this "
        "run\n";

static const char help_inspect[] =
        "usage: shmframe inspect NAME [--json]\n"
        "       shmframe inspect --file PATH [--json]\n"
        "\n"
        "Report on a segment, or on a copy of one in PATH, without touching it: it opens the\n"
        "file read-only, copies its control area and the frames waiting into private memory\n"
        "(never the rest of it, whatever its size), and checks the copies: header, role\n"
        "lines, ring positions, and every frame waiting in each ring. Exit 0 when it is\n"
        "consistent, 1 when it found damage (each problem is named, with its offset), 3 when\n"
        "the segment is still being created (not ready while its creator lives).\n"
        "\n"
        "  --file PATH         inspect a segment image (owner and mode are not checked)\n"
        "  -j, --json          one JSON object (\"schema\": 1)\n";

static const char help_ls[] =
        "usage: shmframe ls [--json] [--all] [--match GLOB]\n"
        "\n"
        "List the shmframe segments in /dev/shm, recognised by their header: name, size,\n"
        "owner, mode, protocol version, roles (live, dead, closed), messages waiting in each\n"
        "ring, reader rejects, and status.\n"
        "\n"
        "  -a, --all           list the other regular files too\n"
        "  --match GLOB        only names that match GLOB (fnmatch, e.g. '/jobs-*')\n"
        "  -j, --json          one JSON object (\"schema\": 1)\n";

static const char help_gc[] =
        "usage: shmframe gc [--dry-run] [--min-age SECONDS] [--match GLOB] [--not-ready]\n"
        "                   [--verbose]\n"
        "\n"
        "Remove the shmframe segments in /dev/shm that are yours, that no live process holds,\n"
        "and that are at least --min-age old, and print each name removed. It never removes\n"
        "a file that is not a segment (--not-ready: but for what a dying creator left),\n"
        "another user's file, or a segment with a live holder.\n"
        "\n"
        "  --dry-run           print what would be removed, remove nothing\n"
        "  --min-age SECONDS   the youngest segment to remove (default 60); the age counts\n"
        "                      from the later of its creation time and its file's mtime\n"
        "  --match GLOB        only names that match GLOB (fnmatch, e.g. '/jobs-*')\n"
        "  --not-ready         also remove the files of creators that died before their\n"
        "                      segment was ready: empty, or of a segment's size with a\n"
        "                      header all zero or complete but for its magic, when no role\n"
        "                      lock is held and the later of the file's ctime and mtime is\n"
        "                      --min-age old (100 ms at least)\n"
        "  -v, --verbose       also print why each segment was kept\n";

static const char help_unlink[] = "usage: shmframe unlink NAME\n"
                                  "\n"
                                  "Remove the name. Processes attached keep working.\n";

static int print_help(enum shmf_cli_cmd cmd)
{
	switch (cmd) {
	case SHMF_CMD_CREATE: fputs(help_create, stdout); break;
	case SHMF_CMD_SEND: fputs(help_send, stdout); break;
	case SHMF_CMD_RECV: fputs(help_recv, stdout); break;
	case SHMF_CMD_INSPECT: fputs(help_inspect, stdout); break;
	case SHMF_CMD_LS: fputs(help_ls, stdout); break;
	case SHMF_CMD_GC: fputs(help_gc, stdout); break;
	case SHMF_CMD_UNLINK: fputs(help_unlink, stdout); break;
	default: fputs(help_main, stdout); break;
	}
	return SHMF_EXIT_OK;
}

/* ---- waiting ------------------------------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	shmf_cli_interrupted = 1;
}

/* No SA_RESTART: a read of standard input returns EINTR, so that send sees the signal. */
static void catch_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};

	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction sa, old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL); /* a signal ends it early, which is what we want */
}

/* One operation with the caller's timeout (-1, 0 or N ms), tried at once and then in slices of
 * at most SLICE_MS, so that a signal is noticed. The library re-checks the peer's liveness at
 * the start of every slice. */
typedef int (*timed_op)(void *ctx, int timeout_ms);

static int timed(int timeout_ms, timed_op op, void *ctx)
{
	int64_t deadline;
	int rc = op(ctx, 0);

	if (rc != SHMF_EAGAIN || timeout_ms == 0)
		return rc;
	fflush(stdout); /* whoever reads our output should not wait for us to wait */
	deadline = timeout_ms > 0 ? now_ms() + timeout_ms : -1;
	for (;;) {
		int slice = SLICE_MS;
		if (shmf_cli_interrupted)
			return CLI_EINTR;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return SHMF_ETIMEDOUT;
			if (left < slice)
				slice = (int)left;
		}
		rc = op(ctx, slice);
		if (rc != SHMF_ETIMEDOUT)
			return rc;
	}
}

struct attach_ctx {
	const struct shmf_cli_opts *o;
	shmf_channel **ch;
};

static int attach_op(void *p, int timeout_ms)
{
	struct attach_ctx *a = p;
	int rc = shmf_attach(a->o->name, a->o->side, timeout_ms, a->ch);

	/* shmf_attach() reports a segment that did not appear as ENOENT or ENOTREADY, not as a
	 * timeout: make those "try again" for timed(). */
	if ((rc == SHMF_ENOENT || rc == SHMF_ENOTREADY) && timeout_ms == 0)
		return SHMF_EAGAIN;
	if (rc == SHMF_ENOENT || rc == SHMF_ENOTREADY)
		return SHMF_ETIMEDOUT;
	return rc;
}

/* Attach, waiting for the segment only with an explicit --timeout. */
static int attach(const struct shmf_cli_opts *o, shmf_channel **ch)
{
	struct attach_ctx a = {o, ch};
	int t = o->has_timeout ? o->timeout_ms : 0;
	int rc = timed(t, attach_op, &a);

	if (rc == SHMF_EAGAIN || rc == SHMF_ETIMEDOUT) {
		/* one last try for the precise reason: ENOENT or ENOTREADY */
		rc = shmf_attach(o->name, o->side, 0, ch);
	}
	return rc;
}

/* ---- create, unlink ------------------------------------------------------------------------ */

static int cmd_create(const struct shmf_cli_opts *o)
{
	shmf_config cfg;
	shmf_channel *ch = NULL;
	int rc;

	shmf_config_init(&cfg);
	cfg.capacity = (size_t)o->capacity; /* at most 2^30: checked by shmf_cli_parse() */
	cfg.max_message = (size_t)o->max_message;
	cfg.mode = o->mode;
	cfg.flags = o->simplex ? SHMF_SIMPLEX : 0u;
	rc = shmf_create(o->name, &cfg, &ch);
	if (shmf_cli_interrupted) {
		/* Cancelled (a CI job stopped mid-way, a large segment being allocated): leave no
		 * name behind, neither a whole segment nor a half-made one. The library unlinks
		 * what it made when its own steps fail. */
		if (rc == 0) {
			shmf_close(ch);
			(void)shmf_unlink(o->name);
		}
		return SHMF_EXIT_INTERRUPTED;
	}
	if (rc != 0)
		return shmf_cli_fail("create", o->name, rc);
	shmf_close(ch);
	return SHMF_EXIT_OK;
}

static int cmd_unlink(const struct shmf_cli_opts *o)
{
	int rc = shmf_unlink(o->name);

	return rc != 0 ? shmf_cli_fail("unlink", o->name, rc) : SHMF_EXIT_OK;
}

/* ---- send ---------------------------------------------------------------------------------- */

struct send_ctx {
	shmf_channel *ch;
	const void *msg;
	size_t len;
};

static int send_op(void *p, int timeout_ms)
{
	struct send_ctx *s = p;
	return shmf_send(s->ch, s->msg, s->len, timeout_ms);
}

/* One line of standard input into buf (cap bytes), without its newline. Returns 1 for a line,
 * 0 at the end, -1 for a line longer than cap (the count read so far is in *len), -2 for a read
 * error or a signal. A last line without a newline is still a line. */
static int read_line(FILE *in, unsigned char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int c;

	while ((c = getc(in)) != EOF) {
		if (c == '\n') {
			*len = n;
			return 1;
		}
		if (n == cap) {
			*len = n + 1;
			return -1;
		}
		buf[n++] = (unsigned char)c;
	}
	if (ferror(in))
		return -2;
	*len = n;
	return n != 0 ? 1 : 0;
}

/* Read exactly n bytes; returns how many were read. */
static size_t read_full(FILE *in, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		size_t k = fread(buf + got, 1, n - got, in);
		if (k == 0)
			break;
		got += k;
	}
	return got;
}

static int send_one(const struct shmf_cli_opts *o, shmf_channel *ch, const void *msg, size_t len,
                    uint64_t index)
{
	struct send_ctx s = {ch, msg, len};
	int rc = timed(o->timeout_ms, send_op, &s);

	if (rc == CLI_EINTR || rc == 0)
		return rc;
	if (rc == SHMF_EMSGSIZE) {
		shmf_cli_err("send", o->name, "%s (message %llu: %zu bytes, the maximum is %zu)",
		             shmf_strerror(rc), (unsigned long long)index, len,
		             shmf_max_message(ch));
		return shmf_cli_exit_code(rc);
	}
	return shmf_cli_fail("send", o->name, rc);
}

/* Standard input: lines, or --binary records. Returns an exit code, or CLI_EINTR. */
static int send_stdin(const struct shmf_cli_opts *o, shmf_channel *ch)
{
	size_t max = shmf_max_message(ch);
	unsigned char *buf = malloc(max != 0 ? max : 1);
	uint64_t index = 0;
	int rc = 0;

	if (buf == NULL)
		return shmf_cli_fail("send", o->name, SHMF_ENOMEM);
	for (;; index++) {
		size_t len = 0;
		if (shmf_cli_interrupted) {
			rc = CLI_EINTR;
			break;
		}
		if (o->binary) {
			unsigned char hdr[4];
			size_t k = read_full(stdin, hdr, sizeof hdr);
			if (k == 0 && !ferror(stdin))
				break;
			if (k < sizeof hdr) {
				rc = ferror(stdin) ? -2 : -3;
				len = k;
			} else {
				uint32_t n32 = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 |
				               (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
				if (n32 > max) {
					shmf_cli_err(
					        "send", o->name,
					        "%s (record %llu on standard input: %lu bytes, the "
					        "maximum is %zu)",
					        shmf_strerror(SHMF_EMSGSIZE),
					        (unsigned long long)index, (unsigned long)n32, max);
					rc = SHMF_EXIT_MSGSIZE;
					break;
				}
				len = read_full(stdin, buf, n32);
				if (len < n32)
					rc = ferror(stdin) ? -2 : -4;
			}
		} else {
			rc = read_line(stdin, buf, max, &len);
			if (rc == 0)
				break;
			if (rc == 1)
				rc = 0;
		}
		if (rc == -1) {
			shmf_cli_err("send", o->name,
			             "%s (line %llu on standard input is longer than %zu bytes)",
			             shmf_strerror(SHMF_EMSGSIZE), (unsigned long long)index + 1u,
			             max);
			rc = SHMF_EXIT_MSGSIZE;
			break;
		}
		if (rc == -2) {
			if (shmf_cli_interrupted) {
				rc = CLI_EINTR;
			} else {
				shmf_cli_err("send", o->name, "standard input: %s",
				             strerror(errno));
				rc = SHMF_EXIT_SYSTEM;
			}
			break;
		}
		if (rc == -3 || rc == -4) {
			shmf_cli_err("send", o->name,
			             "standard input: record %llu is truncated (%s: %zu bytes)",
			             (unsigned long long)index, rc == -3 ? "length" : "payload",
			             len);
			rc = SHMF_EXIT_DAMAGE;
			break;
		}
		if ((rc = send_one(o, ch, buf, len, index)) != 0)
			break;
	}
	free(buf);
	return rc;
}

static int cmd_send(const struct shmf_cli_opts *o)
{
	shmf_channel *ch = NULL;
	int rc = attach(o, &ch);

	if (rc != 0)
		return rc == CLI_EINTR ? SHMF_EXIT_INTERRUPTED : shmf_cli_fail("send", o->name, rc);
	if (o->nmsgs > 0) {
		for (int i = 0; i < o->nmsgs && rc == 0; i++)
			rc = send_one(o, ch, o->msgs[i], strlen(o->msgs[i]), (uint64_t)i);
	} else {
		rc = send_stdin(o, ch);
	}
	shmf_close(ch);
	return rc == CLI_EINTR ? SHMF_EXIT_INTERRUPTED : rc;
}

/* ---- recv ---------------------------------------------------------------------------------- */

struct recv_ctx {
	shmf_channel *ch;
	unsigned char *buf;
	size_t cap;
	size_t len;
};

static int recv_op(void *p, int timeout_ms)
{
	struct recv_ctx *r = p;
	return shmf_recv(r->ch, r->buf, r->cap, &r->len, timeout_ms);
}

static void put_le32(FILE *f, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	fwrite(b, 1, sizeof b, f);
}

static void print_message(const struct shmf_cli_opts *o, const unsigned char *buf, size_t len,
                          uint64_t index)
{
	if (o->binary) {
		put_le32(stdout, (uint32_t)len); /* len <= max_message < 2^30 */
		fwrite(buf, 1, len, stdout);
	} else if (o->json) {
		int text = shmf_utf8_valid(buf, len);
		printf("{\"index\":%llu,\"length\":%zu,\"encoding\":\"%s\",\"payload\":",
		       (unsigned long long)index, len, text ? "utf-8" : "base64");
		if (text)
			shmf_json_str(stdout, buf, len);
		else
			shmf_json_base64(stdout, buf, len);
		fputs("}\n", stdout);
	} else {
		fwrite(buf, 1, len, stdout);
		fputc('\n', stdout);
	}
	/* Each message out before the next is taken: a receive consumes it, so output that
	 * fails (a closed pipe: recv | head -1) must stop recv at the message it could not
	 * write, not a stdio buffer later (the CLI audit saw 1,859 consumed and lost). */
	fflush(stdout);
}

static int cmd_recv(const struct shmf_cli_opts *o)
{
	struct recv_ctx r = {0};
	uint64_t index = 0;
	int drain = o->count == 0 && !o->follow;
	int out = fcntl(STDOUT_FILENO, F_GETFL);
	int rc;

	/* A receive consumes: with nowhere to write (closed, reopened read-only), take nothing. */
	if (out == -1 || (out & O_ACCMODE) == O_RDONLY) {
		shmf_cli_err("recv", o->name, "standard output is closed: nothing received");
		return SHMF_EXIT_SYSTEM;
	}
	rc = attach(o, &r.ch);
	int64_t idle_since = now_ms(); /* --follow: the --timeout counts from the last message */

	if (rc != 0)
		return rc == CLI_EINTR ? SHMF_EXIT_INTERRUPTED : shmf_cli_fail("recv", o->name, rc);
	r.cap = shmf_max_message(r.ch);
	r.buf = malloc(r.cap != 0 ? r.cap : 1);
	if (r.buf == NULL) {
		shmf_close(r.ch);
		return shmf_cli_fail("recv", o->name, SHMF_ENOMEM);
	}
	for (;;) {
		if (o->count != 0 && index >= o->count) {
			rc = 0;
			break;
		}
		if (ferror(stdout)) {
			rc = 0; /* reported below */
			break;
		}
		rc = timed(o->timeout_ms, recv_op, &r);
		if (rc == 0) {
			print_message(o, r.buf, r.len, index++);
			idle_since = now_ms();
			continue;
		}
		if (rc == CLI_EINTR)
			break;
		if (o->follow && (rc == SHMF_EPEERGONE || rc == SHMF_EPEERCLOSED) &&
		    o->timeout_ms > 0 && now_ms() - idle_since >= o->timeout_ms) {
			rc = SHMF_ETIMEDOUT; /* no writer came back within the --timeout */
			break;
		}
		if (o->follow && rc == SHMF_EPEERGONE) {
			/* wait for a new writer to take the dead one's role over */
			sleep_ms(SLICE_MS);
			if (!shmf_cli_interrupted)
				continue;
			rc = CLI_EINTR;
			break;
		}
		if (o->follow && rc == SHMF_EPEERCLOSED) {
			/* attach afresh, so that "closed" means the next writer's close */
			shmf_close(r.ch);
			r.ch = NULL;
			sleep_ms(10);
			rc = shmf_attach(o->name, o->side, 0, &r.ch);
			if (rc == 0)
				continue;
			break;
		}
		if (drain && (rc == SHMF_EAGAIN || rc == SHMF_ETIMEDOUT || rc == SHMF_EPEERCLOSED))
			rc = 0;
		break;
	}
	free(r.buf);
	shmf_close(r.ch);
	if (rc == CLI_EINTR)
		return o->follow ? SHMF_EXIT_OK : SHMF_EXIT_INTERRUPTED;
	if (rc != 0)
		return shmf_cli_fail("recv", o->name, rc);
	return SHMF_EXIT_OK;
}

/* ---- main ---------------------------------------------------------------------------------- */

/* What we printed must have reached its destination (a full disk, a closed pipe): every
 * command's output is checked here once, which is why the printf calls elsewhere ignore their
 * results (tools/.clang-tidy). */
static int flush_stdout(const char *cmd, int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		shmf_cli_err(cmd, NULL, "write error on standard output: %s", strerror(errno));
		if (rc == SHMF_EXIT_OK || rc == SHMF_EXIT_DAMAGE)
			rc = SHMF_EXIT_SYSTEM;
	}
	return rc;
}

/* Descriptors 0, 1 and 2 open, on /dev/null where the caller closed them: a segment must never
 * land on one, or our own printf and fgets would write and read shared memory (the library
 * keeps its descriptors above 2 as well). Opened the wrong way round (0 write-only, 1 and 2
 * read-only), as gnulib's stdopen does, so that using a closed one still fails: recv does not
 * consume messages into nowhere, send does not take a closed input for an empty one. */
static void standard_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			/* the lowest free number: fd */
			int f = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
			if (f > 2)
				close(f); /* GCOVR_EXCL_LINE: cannot happen, fd was free */
		}
	}
}

int main(int argc, char **argv)
{
	struct shmf_cli_opts o;
	char err[320];
	int rc;
	const char *self = NULL; /* stress or bench: they parse their own options (cli.h) */

	standard_fds();
	/* A closed pipe on standard output is a write error (status 9, after detaching cleanly),
	 * not death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);

	if (argc >= 2 && (strcmp(argv[1], "stress") == 0 || strcmp(argv[1], "bench") == 0)) {
		self = argv[1];
		rc = self[0] == 's' ? shmf_cmd_stress(argc - 1, argv + 1)
		                    : shmf_cmd_bench(argc - 1, argv + 1);
		return flush_stdout(self, rc);
	}
	if (argc == 3 && strcmp(argv[1], "help") == 0 &&
	    (strcmp(argv[2], "stress") == 0 || strcmp(argv[2], "bench") == 0)) {
		static char help_opt[] = "--help";
		char *h[] = {argv[2], help_opt, NULL};
		self = argv[2];
		rc = self[0] == 's' ? shmf_cmd_stress(2, h) : shmf_cmd_bench(2, h);
		return flush_stdout(self, rc);
	}

	rc = shmf_cli_parse(argc, argv, &o, err, sizeof err);

	if (rc != 0) {
		const char *cmd = o.cmd != SHMF_CMD_NONE && o.cmd != SHMF_CMD_HELP
		                          ? shmf_cli_cmd_name(o.cmd)
		                          : NULL;
		shmf_cli_err(cmd, NULL, "%s", err);
		fprintf(stderr, "Try 'shmframe %s%s--help'.\n", cmd != NULL ? cmd : "",
		        cmd != NULL ? " " : "");
		return SHMF_EXIT_USAGE;
	}
	switch (o.cmd) {
	case SHMF_CMD_HELP: rc = print_help(o.help_cmd); break;
	case SHMF_CMD_VERSION:
		printf("shmframe %s (libshmframe %s, protocol SHMF/%d.%d)\n", SHMF_VERSION_STRING,
		       shmf_version(), SHMF_PROTOCOL_MAJOR, SHMF_PROTOCOL_MINOR);
		rc = SHMF_EXIT_OK;
		break;
	case SHMF_CMD_CREATE:
		(void)shmf_sigbus_guard(1);
		catch_signals();
		rc = cmd_create(&o);
		break;
	case SHMF_CMD_SEND:
		(void)shmf_sigbus_guard(1);
		catch_signals();
		rc = cmd_send(&o);
		break;
	case SHMF_CMD_RECV:
		(void)shmf_sigbus_guard(1);
		catch_signals();
		rc = cmd_recv(&o);
		break;
	case SHMF_CMD_INSPECT: rc = shmf_cmd_inspect(&o); break;
	case SHMF_CMD_LS: rc = shmf_cmd_ls(&o); break;
	case SHMF_CMD_GC: rc = shmf_cmd_gc(&o); break;
	case SHMF_CMD_UNLINK: rc = cmd_unlink(&o); break;
	default: rc = SHMF_EXIT_USAGE; break;
	}
	return flush_stdout(shmf_cli_cmd_name(o.cmd), rc);
}
