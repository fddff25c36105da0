/* segfile.c - reading segment files for inspect, ls and gc: read-only, never blocking, never
 * following a symbolic link where the caller says so, and never more of the file than the
 * analysis asks for.
 *
 * Nothing is mapped: the control area is copied with pread() (shmf_cli_read_head()), and the
 * ring walks copy frames through a window of SHMF_CLI_WINDOW bytes (shmf_cli_read_at()), so
 * that memory stays bounded whatever the segment's size, and a file that another process
 * shrinks meanwhile gives a short read here, where a mapping would raise SIGBUS. No size read
 * from the segment sizes a buffer or a read: every read is capped by the window and by the
 * file's size at fstat().
 */
#include "cli.h"
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"

_Static_assert(SHMF_CLI_HEAD == SHMF_CTL_AREA, "the head is the control area");

int shmf_cli_errno_code(int e)
{
	switch (e) {
	case ENOENT: return SHMF_ENOENT;
	case EACCES:
	case EPERM: return SHMF_EACCES;
	case ELOOP: /* a symbolic link under O_NOFOLLOW */
	case EISDIR:
	case ENXIO:
	case ENODEV:
	case ENOTDIR: return SHMF_EFILETYPE;
	case ENAMETOOLONG: return SHMF_ENAME;
	case ENOMEM: return SHMF_ENOMEM;
	default: errno = e; return SHMF_ESYS;
	}
}

int shmf_cli_open_ro(int dirfd, const char *path, int nofollow, int *rc)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0);
	int fd = openat(dirfd, path, flags);

	if (fd < 0)
		*rc = shmf_cli_errno_code(errno);
	return fd;
}

/* pread() until len bytes, the end of the file, or an error (in *err). Returns the bytes read. */
static size_t pread_all(int fd, uint8_t *dst, size_t len, uint64_t off, int *err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t k = pread(fd, dst + got, len - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			*err = errno;
			break;
		}
		if (k == 0)
			break; /* the file ends here: it shrank since fstat() */
		got += (size_t)k;
	}
	return got;
}

void shmf_cli_rewind(struct shmf_cli_file *f)
{
	f->win_n = 0;
	f->bytes_read = f->n;
}

int shmf_cli_read_head(int fd, struct shmf_cli_file *f)
{
	struct stat st;
	int err = 0;

	f->fd = fd;
	f->n = 0;
	f->err = 0;
	shmf_cli_rewind(f);
	if (fstat(fd, &st) != 0)
		return shmf_cli_errno_code(errno);
	if (!S_ISREG(st.st_mode))
		return SHMF_EFILETYPE;
	f->size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	f->uid = (uint32_t)st.st_uid;
	f->mode = (uint32_t)(st.st_mode & 07777);
	f->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	f->ctime_ns = (uint64_t)st.st_ctim.tv_sec * 1000000000u + (uint64_t)st.st_ctim.tv_nsec;
	f->dev = (uint64_t)st.st_dev;
	f->ino = (uint64_t)st.st_ino;
	f->n = pread_all(fd, f->head, f->size < SHMF_CLI_HEAD ? (size_t)f->size : SHMF_CLI_HEAD, 0,
	                 &err);
	if (err != 0)
		return shmf_cli_errno_code(err);
	shmf_cli_rewind(f);
	return 0;
}

/* Copy up to want bytes at off into the window: at most SHMF_CLI_WINDOW, never past the file's
 * size at fstat(). Returns the bytes copied: 0 at the end of the file, or after an error (kept in
 * f->err). */
static size_t fill(struct shmf_cli_file *f, uint64_t off, uint64_t want)
{
	size_t len;

	f->win_n = 0;
	if (off >= f->size)
		return 0;
	if (want > f->size - off)
		want = f->size - off;
	len = want < SHMF_CLI_WINDOW ? (size_t)want : SHMF_CLI_WINDOW;
	if (f->win == NULL && (f->win = malloc(SHMF_CLI_WINDOW)) == NULL) {
		f->err = ENOMEM;
		return 0;
	}
	f->win_off = off;
	f->win_n = pread_all(f->fd, f->win, len, off, &f->err);
	f->bytes_read += f->win_n;
	return f->win_n;
}

size_t shmf_cli_read_at(void *ctx, uint64_t off, void *dst, size_t n, uint64_t ahead)
{
	struct shmf_cli_file *f = ctx;
	uint8_t *out = dst;
	size_t done = 0;

	while (done < n) {
		uint64_t at = off + done;
		size_t k;

		if (f->win_n == 0 || at < f->win_off || at - f->win_off >= f->win_n) {
			/* the walk asks in order: copy what it will ask for next, up to a window */
			uint64_t want = ahead > done ? ahead - done : 0;
			if (want < n - done)
				want = n - done;
			if (fill(f, at, want) == 0)
				break;
		}
		k = (size_t)(f->win_n - (at - f->win_off));
		if (k > n - done)
			k = n - done;
		memcpy(out + done, f->win + (at - f->win_off), k);
		done += k;
	}
	return done;
}

/* An honest writer writes only in [wpos, rpos + capacity) (PROTO 5.1): while no reader moves
 * rpos, the frames waiting in [rpos, wpos) cannot change. The head, with the positions, is read
 * before any frame; reading the rpos words again after the walk tells whether the frames
 * copied are the ones the positions delimit. */
int shmf_cli_rpos_moved(const struct shmf_cli_file *f)
{
	for (unsigned i = 0; i < 2; i++) {
		size_t at = SHMF_RING_CTL(i) + SHMF_C_RPOS;
		uint8_t again[8];
		int err = 0;

		if (at + sizeof again > f->n)
			continue; /* too short to hold this ring: nothing can move */
		if (pread_all(f->fd, again, sizeof again, at, &err) != sizeof again)
			continue; /* it shrank: the analysis says so */
		if (memcmp(again, f->head + at, sizeof again) != 0)
			return 1;
	}
	return 0;
}

int shmf_cli_analyse(struct shmf_cli_file *f, struct shmf_img *im, int is_copy, int tries,
                     int *stable)
{
	*stable = 0;
	for (int t = 1;; t++) {
		int rc;

		shmf_cli_rewind(f);
		shmf_img_analyse_file(im, f->head, f->n, f->size, f->uid, f->mode, is_copy,
		                      shmf_cli_read_at, f);
		shmf_img_walk_all(im);
		if (!shmf_cli_rpos_moved(f)) {
			*stable = 1;
			return 0;
		}
		if (t >= tries)
			return 0;
		if ((rc = shmf_cli_read_head(f->fd, f)) != 0)
			return rc;
	}
}

void shmf_cli_file_free(struct shmf_cli_file *f)
{
	free(f->win);
	f->win = NULL;
	f->win_n = 0;
}

int shmf_cli_role_locked(int fd, int side)
{
	struct flock fl = {0};

	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)SHMF_ROLE_LOCK_OFFSET(side);
	fl.l_len = 1;
	fl.l_pid = 0; /* required by F_OFD_* */
	if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
		return -1;
	return fl.l_type == F_UNLCK ? 0 : 1;
}
