/* shmdir.c - `shmframe ls` and `shmframe gc`: the shmframe segments in /dev/shm.
 *
 * A segment is recognised by its header (magic, major version and header CRC, PROTO 2.1), never
 * by its name. Names are never followed: entries are examined with fstatat(AT_SYMLINK_NOFOLLOW)
 * and opened with O_NOFOLLOW, and anything but a regular file is skipped.
 *
 * gc removes a segment only when all of these hold, each checked as late as it can be:
 *   - it is a regular file owned by our effective uid (checked on the name, then on the open
 *     descriptor, and on the name again right before unlinkat(), which must still be the same
 *     inode);
 *   - its header is an SHMF/1 header;
 *   - no live process holds either role: F_OFD_GETLK first; then, when the file can be opened
 *     for writing, gc takes both role locks itself (F_OFD_SETLK, which writes nothing) and holds
 *     them across the unlink, so that no process can attach between the check and the removal;
 *   - it is at least --min-age seconds old, counted from the later of the header's created_ns
 *     and the file's mtime (a peer can write created_ns, so the younger of the two counts).
 *
 * With --not-ready it also removes a file that a creator killed before the segment was ready
 * left behind (PROTO 9.1), under the same rules but for the header, and for the age:
 *   - the file is empty; or its size is a segment's for some geometry (PROTO 2.4) and its first
 *     128 bytes are all zero, or an SHMF/1 header of this file complete but for magic and
 *     init_state (a header complete but for init_state is an SHMF/1 header already, and goes
 *     by the rules above); and then the rest of the control area is zero but role line A;
 *   - it holds no data past the control area (SEEK_DATA from 4096 fails with ENXIO), and no
 *     lock of any kind is held on it by anyone (/proc/locks); when either cannot be told, it
 *     is kept;
 *   - it is at least --min-age seconds old by the later of its ctime and mtime (there is no
 *     created_ns to go by), and at least 100 ms whatever --min-age says: with role A's lock
 *     free, that is how attach tells a creator that died from one still at work (PROTO 9.2);
 *   - with both role locks held, the file still has the size, times and control area it was
 *     judged by, still no data past the control area, and no lock but gc's own two.
 */
#include "cli.h"
#include "image.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "layout.h"

#define SHM_DIR     "/dev/shm"
#define MAX_ENTRIES 1000000u /* a bound on memory for a directory someone fills on purpose */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **v, size_t n);

/* The names in /dev/shm, sorted, "." and ".." left out. Returns 0, or an exit code (never 0)
 * after saying why; *dp is then NULL. */
static int list_dir(const char *cmd, DIR **dp, char ***names, size_t *count)
{
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir(SHM_DIR);
	int rc;

	*dp = NULL;
	if (d == NULL) {
		rc = shmf_cli_fail(cmd, SHM_DIR, shmf_cli_errno_code(errno));
		return rc != 0 ? rc : SHMF_EXIT_SYSTEM;
	}
	while ((e = readdir(d)) != NULL && n < MAX_ENTRIES) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nv = realloc(v, nc * sizeof *nv);
			if (nv == NULL)
				goto nomem;
			v = nv;
			cap = nc;
		}
		if ((v[n] = strdup(e->d_name)) == NULL)
			goto nomem;
		n++;
	}
	if (n != 0)
		qsort(v, n, sizeof *v, cmp_names);
	*dp = d;
	*names = v;
	*count = n;
	return 0;
nomem:
	free_names(v, n);
	closedir(d);
	(void)shmf_cli_fail(cmd, SHM_DIR, SHMF_ENOMEM);
	return SHMF_EXIT_SYSTEM;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int matches(const struct shmf_cli_opts *o, const char *slashname)
{
	return o->match == NULL || fnmatch(o->match, slashname, 0) == 0;
}

static void owner_name(uint32_t uid, char *buf, size_t n)
{
	struct passwd *pw = getpwuid((uid_t)uid);

	if (pw != NULL && pw->pw_name != NULL)
		snprintf(buf, n, "%s", pw->pw_name);
	else
		snprintf(buf, n, "%u", uid);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- ls ------------------------------------------------------------------------------------ */

struct row {
	char name[SHMF_NAME_MAX + 2];
	int segment;
	uint64_t size;
	uint32_t uid, mode;
	char owner[40];
	char status[96];
	/* segments only */
	uint16_t vmaj, vmin;
	uint32_t ring_count;
	uint32_t role_state[2];
	int role_lock[2];
	uint64_t waiting[2];
	uint32_t rerrors[2], rlasterr[2];
	unsigned problems;
};

static const char *role_word(uint32_t state, int lock)
{
	if (lock == 1)
		return "live";
	switch (state) {
	case SHMF_ROLE_NEVER: return "-";
	case SHMF_ROLE_ATTACHED: return lock == 0 ? "dead" : "attached";
	case SHMF_ROLE_DETACHED: return "closed";
	default: return "bad";
	}
}

/* Examine one entry. Returns 1 when it is a row to print (a segment, or with --all another
 * regular file), 0 to skip it. */
static int examine(const struct shmf_cli_opts *o, int dfd, const char *entry, struct row *r)
{
	struct shmf_cli_file *f = NULL;
	struct shmf_img *im = NULL;
	struct stat st;
	int rc = 0, fd, keep = 0, stable;

	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "/%s", entry);
	if (!matches(o, r->name))
		return 0;
	if (fstatat(dfd, entry, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
		return 0;
	r->size = (uint64_t)st.st_size;
	r->uid = (uint32_t)st.st_uid;
	r->mode = (uint32_t)(st.st_mode & 07777);
	owner_name(r->uid, r->owner, sizeof r->owner);
	fd = shmf_cli_open_ro(dfd, entry, 1, &rc);
	if (fd < 0) {
		snprintf(r->status, sizeof r->status, "unreadable: %s", shmf_strerror(rc));
		return o->all;
	}
	/* the control area only: most files in /dev/shm are not segments, and of a segment ls
	 * needs no more than that and the frames waiting, which the walks copy a window at a
	 * time */
	if ((f = calloc(1, sizeof *f)) == NULL || (im = malloc(sizeof *im)) == NULL)
		rc = SHMF_ENOMEM;
	if (rc == 0)
		rc = shmf_cli_read_head(fd, f);
	if (rc == 0) {
		shmf_img_analyse_file(im, f->head, f->n, f->size, f->uid, f->mode, 0, NULL, NULL);
		if (im->recognised)
			rc = shmf_cli_analyse(f, im, 0, 5, &stable);
		if (rc == 0 && f->err != 0)
			rc = shmf_cli_errno_code(f->err);
	}
	if (rc != 0) {
		snprintf(r->status, sizeof r->status, "unreadable: %s", shmf_strerror(rc));
		keep = o->all;
		goto out;
	}
	if (!im->recognised) {
		snprintf(r->status, sizeof r->status, "not a shmframe segment");
		keep = o->all;
		goto out;
	}
	r->segment = 1;
	r->size = f->size;
	r->vmaj = im->version_major;
	r->vmin = im->version_minor;
	r->ring_count = im->geometry_ok ? im->ring_count : 0;
	for (int s = 0; s < 2; s++) {
		r->role_state[s] = im->role[s].state;
		r->role_lock[s] = im->role[s].present ? shmf_cli_role_locked(fd, s) : -1;
	}
	for (unsigned i = 0; i < 2; i++) {
		r->waiting[i] = im->ring[i].messages;
		r->rerrors[i] = im->ring[i].rerrors;
		r->rlasterr[i] = im->ring[i].rlasterr;
	}
	r->problems = im->nfindings;
	if (im->nfindings == 0)
		snprintf(r->status, sizeof r->status, "ok");
	else
		snprintf(r->status, sizeof r->status, "damaged: %s%s",
		         shmf_strerror(im->findings[0].code),
		         im->nfindings > 1 ? " (and more)" : "");
	keep = 1;
out:
	if (f != NULL)
		shmf_cli_file_free(f);
	free(f);
	free(im);
	close(fd);
	return keep;
}

static void ring_pair(char *buf, size_t n, const struct row *r, const uint64_t v[2])
{
	if (r->ring_count == 0)
		snprintf(buf, n, "?");
	else if (r->ring_count == 1)
		snprintf(buf, n, "%llu,-", (unsigned long long)v[0]);
	else
		snprintf(buf, n, "%llu,%llu", (unsigned long long)v[0], (unsigned long long)v[1]);
}

static void print_text(const struct row *rows, size_t n)
{
	int w = 4;

	for (size_t i = 0; i < n; i++) {
		int len = (int)strlen(rows[i].name);
		if (len > w)
			w = len;
	}
	printf("%-*s  %10s  %-8s  %-4s  %-3s  %-6s  %-6s  %-7s  %-7s  %s\n", w, "NAME", "SIZE",
	       "OWNER", "MODE", "VER", "A", "B", "WAITING", "REJECTS", "STATUS");
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char ver[16], wait[48], rej[48];
		uint64_t re[2] = {r->rerrors[0], r->rerrors[1]};
		int pad = w - (int)strlen(r->name);

		shmf_text_bytes(stdout, r->name);
		printf("%*s  %10llu  %-8.8s  %04o  ", pad > 0 ? pad : 0, "",
		       (unsigned long long)r->size, r->owner, r->mode);
		if (!r->segment) {
			printf("%-3s  %-6s  %-6s  %-7s  %-7s  %s\n", "-", "-", "-", "-", "-",
			       r->status);
			continue;
		}
		snprintf(ver, sizeof ver, "%u.%u", r->vmaj, r->vmin);
		ring_pair(wait, sizeof wait, r, r->waiting);
		ring_pair(rej, sizeof rej, r, re);
		printf("%-3s  %-6s  %-6s  %-7s  %-7s  %s\n", ver,
		       role_word(r->role_state[0], r->role_lock[0]),
		       role_word(r->role_state[1], r->role_lock[1]), wait, rej, r->status);
	}
}

static void print_json(const struct row *rows, size_t n)
{
	printf("{\"schema\":1,\"directory\":\"%s\",\"entries\":[", SHM_DIR);
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		printf("%s{\"name\":", i ? "," : "");
		shmf_json_cstr(stdout, r->name);
		printf(",\"segment\":%s,\"size\":%llu,\"uid\":%u,\"owner\":",
		       r->segment ? "true" : "false", (unsigned long long)r->size, r->uid);
		shmf_json_cstr(stdout, r->owner);
		printf(",\"mode\":\"%04o\"", r->mode);
		if (r->segment) {
			printf(",\"version\":\"%u.%u\",\"roles\":[", r->vmaj, r->vmin);
			for (int s = 0; s < 2; s++)
				printf("%s{\"side\":\"%c\",\"state\":\"%s\",\"lock\":\"%s\","
				       "\"alive\":%s,"
				       "\"summary\":\"%s\"}",
				       s ? "," : "", s ? 'B' : 'A',
				       shmf_img_role_state(r->role_state[s]),
				       r->role_lock[s] < 0 ? "unknown"
				       : r->role_lock[s]   ? "held"
				                           : "free",
				       r->role_lock[s] == 1 ? "true" : "false",
				       role_word(r->role_state[s], r->role_lock[s]));
			printf("],\"rings\":[");
			for (unsigned k = 0; k < r->ring_count && k < 2; k++)
				printf("%s{\"index\":%u,\"messages_waiting\":%llu,\"rerrors\":%u,"
				       "\"rlasterr\":%u}",
				       k ? "," : "", k, (unsigned long long)r->waiting[k],
				       r->rerrors[k], r->rlasterr[k]);
			printf("],\"problems\":%u,\"consistent\":%s", r->problems,
			       r->problems == 0 ? "true" : "false");
		}
		printf(",\"status\":");
		shmf_json_cstr(stdout, r->status);
		putchar('}');
	}
	printf("]}\n");
}

int shmf_cmd_ls(const struct shmf_cli_opts *o)
{
	DIR *d = NULL;
	char **names = NULL;
	size_t n = 0, nrows = 0;
	struct row *rows;
	int rc = list_dir("ls", &d, &names, &n);

	if (rc != 0 || d == NULL)
		return rc != 0 ? rc : SHMF_EXIT_SYSTEM;
	rows = calloc(n != 0 ? n : 1, sizeof *rows);
	if (rows == NULL) {
		rc = shmf_cli_fail("ls", NULL, SHMF_ENOMEM);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (examine(o, dirfd(d), names[i], &rows[nrows]))
			nrows++;
	if (o->json)
		print_json(rows, nrows);
	else
		print_text(rows, nrows);
	free(rows);
out:
	free_names(names, n);
	closedir(d);
	return rc;
}

/* ---- gc ------------------------------------------------------------------------------------ */

static int take_lock(int fd, int side)
{
	struct flock fl = {0};

	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)SHMF_ROLE_LOCK_OFFSET(side);
	fl.l_len = 1;
	fl.l_pid = 0;
	return fcntl(fd, F_OFD_SETLK, &fl);
}

static int same_file(int dfd, const char *entry, uint64_t dev, uint64_t ino, uid_t euid)
{
	struct stat st;

	return fstatat(dfd, entry, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	       st.st_uid == euid && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}

static void kept(const struct shmf_cli_opts *o, const char *name, const char *why)
{
	if (!o->verbose)
		return;
	fputs("kept ", stdout);
	shmf_text_bytes(stdout, name);
	printf(": %s\n", why);
}

static uint64_t round_page(uint64_t x)
{
	return (x + (SHMF_PAGE - 1u)) & ~(uint64_t)(SHMF_PAGE - 1u);
}

/* Is size the total_size of some geometry (PROTO 2.4)? 4096 + round_page(capacity0), plus
 * round_page(capacity1) when duplex, each capacity a power of two from 256 to 2^30; a duplex
 * segment's two may differ, and max_message 0 fits any capacity. */
static int geometry_size(uint64_t size)
{
	for (uint64_t c0 = SHMF_MIN_CAPACITY; c0 <= SHMF_MAX_CAPACITY; c0 *= 2u) {
		uint64_t simplex = SHMF_CTL_AREA + round_page(c0);
		if (size == simplex)
			return 1;
		for (uint64_t c1 = SHMF_MIN_CAPACITY; c1 <= SHMF_MAX_CAPACITY; c1 *= 2u)
			if (size == simplex + round_page(c1))
				return 1;
	}
	return 0;
}

/* The control area past the header as a creator that died before the segment was ready leaves
 * it: zero but for role line A, which 9.1 step 4 writes first (state, epoch, pid, attached_ns).
 * Role line B, both ring control blocks and the rest of f->head must be zero: a peer attached,
 * a message went through, or another program's data is there otherwise. Returns 0, or the
 * offset of the first byte that is not zero. */
static size_t rest_not_left(const struct shmf_cli_file *f)
{
	for (size_t i = SHMF_ROLE_LINE(SHMF_SIDE_B); i < f->n; i++)
		if (f->head[i] != 0)
			return i;
	return 0;
}

/* What a creator that died before the segment was ready leaves (PROTO 9.1): an empty file (it
 * died before ftruncate, step 3), a file of the full size whose header is all zero (before the
 * header, step 4), or a header written but for magic and init_state (step 4 writes every other
 * field, header_crc included, before the magic). Returns which, or NULL for anything else, with
 * the reason in why. im holds the analysis of f's head, which did not recognise an SHMF/1
 * header; it is used for the analysis of a copy of the head with the two missing words put in,
 * which must find nothing wrong: the header, role lines and ring controls are then those of a
 * segment of this very file (size, owner and mode included), short of being ready. */
static const char *never_ready(struct shmf_cli_file *f, struct shmf_img *im, char *why,
                               size_t whylen)
{
	const char *kind = "header all zero", *seen = "its header is all zero";
	size_t i;

	if (f->size == 0 && f->n == 0)
		return "empty file";
	/* magic 0 with init_state 0 is image.c's "still being created" (PROTO 6.2 A6) */
	if (!im->have_header || im->magic != 0 || im->init_state != SHMF_STATE_INIT) {
		snprintf(why, whylen, "not a shmframe segment");
		return NULL;
	}
	for (i = 0; i < SHMF_HEADER_SIZE && f->head[i] == 0; i++)
		;
	if (i == SHMF_HEADER_SIZE) {
		if (!geometry_size(f->size)) {
			snprintf(why, whylen,
			         "not a shmframe segment: its header is all zero, but no "
			         "segment is %llu bytes",
			         (unsigned long long)f->size);
			return NULL;
		}
	} else {
		uint8_t head[SHMF_CLI_HEAD];

		memcpy(head, f->head, f->n);
		shmf_st32(head + SHMF_H_MAGIC, SHMF_MAGIC);
		shmf_st32(head + SHMF_H_INIT_STATE, SHMF_STATE_READY);
		/* a read function, so that the analysis knows the file's extent; it walks no
		 * ring */
		shmf_img_analyse_file(im, head, f->n, f->size, f->uid, f->mode, 0, shmf_cli_read_at,
		                      f);
		if (!im->recognised || !im->geometry_ok || im->nfindings != 0 || im->nnotes != 0) {
			snprintf(why, whylen,
			         "not a shmframe segment: magic and init_state are 0, but the rest "
			         "is not the SHMF/1 header of this file");
			return NULL;
		}
		kind = "header without magic";
		seen = "magic and init_state are 0";
	}
	if ((i = rest_not_left(f)) != 0) {
		snprintf(why, whylen,
		         "not a shmframe segment: %s, but byte 0x%zx of the control area is not",
		         seen, i);
		return NULL;
	}
	return kind;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/* With the role locks held: does the file still have the size, times and control area that
 * never_ready() judged? A file a creator abandoned never changes again; one that does has a
 * writer, which gc must leave alone. (Writes through a mapping change no time stamp: the bytes
 * themselves are compared.) */
static int unchanged(int fd, const struct shmf_cli_file *f)
{
	uint8_t head[SHMF_CLI_HEAD];
	struct stat st;

	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != f->size ||
	    ts_ns(&st.st_mtim) != f->mtime_ns || ts_ns(&st.st_ctim) != f->ctime_ns)
		return 0;
	return pread(fd, head, f->n, 0) == (ssize_t)f->n && memcmp(head, f->head, f->n) == 0;
}

/* A number of /proc/locks in base (16 for the device, 10 else) ending at *s == stop; 0 or -1.
 * *s is moved past stop. */
static int locks_num(const char **s, int base, char stop, unsigned long long *v)
{
	char *end;

	if (!(base == 16 ? isxdigit((unsigned char)**s) : isdigit((unsigned char)**s)))
		return -1;
	errno = 0;
	*v = strtoull(*s, &end, base);
	if (errno != 0 || *end != stop)
		return -1;
	*s = stop != '\0' ? end + 1 : end;
	return 0;
}

/* Is the /proc/locks range START END a role-lock byte (PROTO 7)? */
static int role_byte(const char *start, const char *end)
{
	unsigned long long a, b;

	return locks_num(&start, 10, '\0', &a) == 0 && locks_num(&end, 10, '\0', &b) == 0 &&
	       a == b &&
	       (a == SHMF_ROLE_LOCK_OFFSET(SHMF_SIDE_A) || a == SHMF_ROLE_LOCK_OFFSET(SHMF_SIDE_B));
}

/* Is any lock of any kind (flock, POSIX, OFD, lease; granted or waited for) held on the file
 * (dev, ino), by anyone? /proc/locks is the only place that lists them all: F_OFD_GETLK sees
 * neither flock() nor locks on other bytes than the role locks'. A creator that died holds no
 * lock. With ours, gc holds both role locks itself (F_OFD_SETLK, write): those two entries are
 * not counted (nobody else can hold a conflicting one on those bytes). Returns NULL when there
 * is none, else why the file must be kept: a lock, or /proc/locks unreadable (fail safe). */
static const char *locked_by_anyone(uint64_t dev, uint64_t ino, int ours, char *why, size_t whylen)
{
	FILE *fp = fopen("/proc/locks", "re");
	char line[256];
	const char *res = NULL;

	if (fp == NULL) {
		snprintf(why, whylen, "cannot read /proc/locks (%s): a lock may be held on it",
		         strerror(errno));
		return why;
	}
	while (res == NULL && fgets(line, sizeof line, fp) != NULL) {
		char *tok[9], *save = NULL, *p;
		const char *q;
		unsigned long long maj, min, lino;
		int n = 0;

		for (p = strtok_r(line, " \t\n", &save); p != NULL && n < 9;
		     p = strtok_r(NULL, " \t\n", &save))
			if (strcmp(p, "->") != 0) /* a waiter's line: counted like a holder's */
				tok[n++] = p;
		/* N: TYPE MODE ACCESS PID MAJ:MIN:INODE START END */
		if (n < 8)
			continue;
		q = tok[5];
		if (locks_num(&q, 16, ':', &maj) != 0 || locks_num(&q, 16, ':', &min) != 0 ||
		    locks_num(&q, 10, '\0', &lino) != 0)
			continue;
		if ((uint64_t)lino != ino || maj != major((dev_t)dev) || min != minor((dev_t)dev))
			continue;
		if (ours && strcmp(tok[1], "OFDLCK") == 0 && strcmp(tok[3], "WRITE") == 0 &&
		    role_byte(tok[6], tok[7]))
			continue;
		snprintf(why, whylen, "a lock is held on it (/proc/locks: %s %s, pid %s)", tok[1],
		         tok[3], tok[4]);
		res = why;
	}
	if (res == NULL && ferror(fp)) {
		snprintf(why, whylen, "cannot read /proc/locks: a lock may be held on it");
		res = why;
	}
	fclose(fp);
	return res;
}

/* The evidence beyond the control area that a file judged never ready is in use after all:
 * data past the control area (on tmpfs, pages posix_fallocate reserved and nobody wrote are
 * holes, so SEEK_DATA finds data only where something was written: a message, another
 * program's bytes, or the rings a ready segment's side mapped in with shmf_prefault(), which
 * needs a ready segment), or any lock held on it. NULL when there is none,
 * else why to keep it. */
static const char *in_use(int fd, const struct shmf_cli_file *f, int ours, char *why, size_t whylen)
{
	off_t at = lseek(fd, (off_t)SHMF_CTL_AREA, SEEK_DATA);

	if (at >= 0) {
		snprintf(why, whylen, "it holds data past the control area, at byte %lld",
		         (long long)at);
		return why;
	}
	if (errno != ENXIO) {
		snprintf(why, whylen,
		         "cannot tell whether it holds data past the control area (SEEK_DATA: %s)",
		         strerror(errno));
		return why;
	}
	return locked_by_anyone(f->dev, f->ino, ours, why, whylen);
}

/* Consider one entry; returns 0, or an exit code when a removal failed. */
static int collect(const struct shmf_cli_opts *o, int dfd, const char *entry, uid_t euid)
{
	struct shmf_cli_file *f = NULL;
	struct shmf_img *im = NULL;
	char name[SHMF_NAME_MAX + 2];
	char why[224];
	char use[160];
	char pre[48] = ""; /* "not ready (...): " before each reason for a never-ready file */
	const char *nr = NULL;
	struct stat st;
	int rc = 0, fd, rw = -1, ret = 0;
	uint64_t now, born;

	snprintf(name, sizeof name, "/%s", entry);
	if (strlen(entry) + 1 > SHMF_NAME_MAX || shmf_name_check(name) != 0 || !matches(o, name))
		return 0; /* not a name the library could have made */
	if (fstatat(dfd, entry, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	if (!S_ISREG(st.st_mode)) {
		kept(o, name, "not a regular file");
		return 0;
	}
	if (st.st_uid != euid) {
		snprintf(why, sizeof why, "owned by uid %u, not %u", (unsigned)st.st_uid,
		         (unsigned)euid);
		kept(o, name, why);
		return 0;
	}
	fd = shmf_cli_open_ro(dfd, entry, 1, &rc);
	if (fd < 0) {
		snprintf(why, sizeof why, "cannot open: %s", shmf_strerror(rc));
		kept(o, name, why);
		return 0;
	}
	/* the header is all gc needs */
	if ((f = calloc(1, sizeof *f)) == NULL || (im = malloc(sizeof *im)) == NULL)
		rc = SHMF_ENOMEM;
	if (rc == 0)
		rc = shmf_cli_read_head(fd, f);
	if (rc != 0) {
		snprintf(why, sizeof why, "cannot read: %s", shmf_strerror(rc));
		kept(o, name, why);
		goto out;
	}
	/* the descriptor must be the file we stat'ed, still ours */
	if (f->uid != (uint32_t)euid || f->dev != (uint64_t)st.st_dev ||
	    f->ino != (uint64_t)st.st_ino) {
		kept(o, name, "changed while being examined");
		goto out;
	}
	shmf_img_analyse_file(im, f->head, f->n, f->size, f->uid, f->mode, 0, NULL, NULL);
	if (!im->recognised) {
		if ((nr = never_ready(f, im, why, sizeof why)) == NULL) {
			kept(o, name, why);
			goto out;
		}
		snprintf(pre, sizeof pre, "not ready (%s): ", nr);
	}
	for (int s = 0; s < 2; s++) {
		if (shmf_cli_role_locked(fd, s) != 0) {
			snprintf(why, sizeof why,
			         "%sside %c is held by a live process (or unknown)", pre,
			         s ? 'B' : 'A');
			kept(o, name, why);
			goto out;
		}
	}
	if (nr != NULL && in_use(fd, f, 0, use, sizeof use) != NULL) {
		snprintf(why, sizeof why, "%s%s", pre, use);
		kept(o, name, why);
		goto out;
	}
	now = wall_ns();
	if (nr == NULL) {
		born = im->created_ns > f->mtime_ns ? im->created_ns : f->mtime_ns;
	} else {
		/* No created_ns to go by; the creator's fchmod, ftruncate and posix_fallocate set
		 * the ctime, a write through its mapping may set the mtime. */
		born = f->ctime_ns > f->mtime_ns ? f->ctime_ns : f->mtime_ns;
		if (born > now || now - born < SHMF_ORPHAN_NS) {
			snprintf(why, sizeof why,
			         "%schanged less than 100 ms ago, or in the future: its creator "
			         "may be at work",
			         pre);
			kept(o, name, why);
			goto out;
		}
	}
	if (born > now || now - born < o->min_age_s * 1000000000u) {
		if (nr != NULL && !o->not_ready)
			snprintf(why, sizeof why,
			         "never ready (%s), its creator is gone: --not-ready removes it "
			         "once it is %llu s old",
			         nr, (unsigned long long)o->min_age_s);
		else
			snprintf(why, sizeof why, "%syounger than %llu s", pre,
			         (unsigned long long)o->min_age_s);
		kept(o, name, why);
		goto out;
	}
	if (nr != NULL && !o->not_ready) {
		snprintf(why, sizeof why,
		         "never ready (%s), its creator is gone: --not-ready removes it", nr);
		kept(o, name, why);
		goto out;
	}
	if (o->dry_run) {
		fputs("would remove ", stdout);
		shmf_text_bytes(stdout, name);
		putchar('\n');
		goto out;
	}
	/* Hold both role locks across the unlink when we can open the file for writing, so that
	 * nobody attaches between the check and the removal; otherwise check the locks again. */
	rw = openat(dfd, entry, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (rw >= 0) {
		struct stat st2;
		if (fstat(rw, &st2) != 0 || (uint64_t)st2.st_dev != f->dev ||
		    (uint64_t)st2.st_ino != f->ino) {
			kept(o, name, "changed while being examined");
			goto out;
		}
		if (take_lock(rw, SHMF_SIDE_A) != 0 || take_lock(rw, SHMF_SIDE_B) != 0) {
			kept(o, name, "a process attached meanwhile");
			goto out;
		}
	} else if (shmf_cli_role_locked(fd, SHMF_SIDE_A) != 0 ||
	           shmf_cli_role_locked(fd, SHMF_SIDE_B) != 0) {
		kept(o, name, "a process attached meanwhile");
		goto out;
	}
	if (nr != NULL && !unchanged(rw >= 0 ? rw : fd, f)) {
		kept(o, name, "changed while being examined");
		goto out;
	}
	if (nr != NULL && in_use(fd, f, rw >= 0, use, sizeof use) != NULL) {
		snprintf(why, sizeof why, "%s%s", pre, use);
		kept(o, name, why);
		goto out;
	}
	if (!same_file(dfd, entry, f->dev, f->ino, euid)) {
		kept(o, name, "changed while being examined");
		goto out;
	}
	if (unlinkat(dfd, entry, 0) != 0) {
		ret = shmf_cli_fail("gc", name, shmf_cli_errno_code(errno));
		goto out;
	}
	fputs("removed ", stdout);
	shmf_text_bytes(stdout, name);
	putchar('\n');
out:
	if (rw >= 0)
		close(rw); /* drops the role locks */
	free(im);
	free(f);
	close(fd);
	return ret;
}

int shmf_cmd_gc(const struct shmf_cli_opts *o)
{
	DIR *d = NULL;
	char **names = NULL;
	size_t n = 0;
	uid_t euid = geteuid();
	int rc = list_dir("gc", &d, &names, &n);

	if (rc != 0 || d == NULL)
		return rc != 0 ? rc : SHMF_EXIT_SYSTEM;
	for (size_t i = 0; i < n; i++) {
		int r = collect(o, dirfd(d), names[i], euid);
		if (r != 0 && rc == 0)
			rc = r;
	}
	free_names(names, n);
	closedir(d);
	return rc;
}
