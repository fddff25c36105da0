/* segfile.c - reading segment files for inspect, ls and gc: read-only, never blocking, never
 * following a symbolic link where the caller says so.
 *
 * A segment is copied into private memory with pread(), not mapped: a file that another process
 * shrinks while we copy it gives a short read here, where a mapping would raise SIGBUS.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"

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

int shmf_cli_read_fd(int fd, uint64_t limit, struct shmf_cli_file *f)
{
	struct stat st;
	uint64_t want;
	size_t got = 0;

	f->fd = fd;
	f->buf = NULL;
	f->n = 0;
	if (fstat(fd, &st) != 0)
		return shmf_cli_errno_code(errno);
	if (!S_ISREG(st.st_mode))
		return SHMF_EFILETYPE;
	f->size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	f->uid = (uint32_t)st.st_uid;
	f->mode = (uint32_t)(st.st_mode & 07777);
	f->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	f->dev = (uint64_t)st.st_dev;
	f->ino = (uint64_t)st.st_ino;
	/* A file larger than any segment can only be reported on: its header is enough. */
	want = f->size <= limit ? f->size : (f->size < SHMF_CTL_AREA ? f->size : SHMF_CTL_AREA);
	f->buf = malloc(want != 0 ? (size_t)want : 1);
	if (f->buf == NULL)
		return SHMF_ENOMEM;
	while (got < want) {
		ssize_t k = pread(fd, f->buf + got, (size_t)want - got, (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return shmf_cli_errno_code(errno);
		if (k == 0)
			break; /* the file shrank: analyse what there is */
		got += (size_t)k;
	}
	f->n = got;
	return 0;
}

/* An honest writer writes only in [wpos, rpos + capacity) (PROTO 5.1): while no reader moves
 * rpos, the frames waiting in [rpos, wpos) cannot change. pread() copies the file from low
 * offsets to high, so the positions in the copy were read before the frames; reading the rpos
 * words again afterwards tells whether the frames copied are the ones they delimit. */
int shmf_cli_read_stable(int fd, uint64_t limit, struct shmf_cli_file *f, int *stable)
{
	static const size_t rpos_at[2] = {SHMF_RING_CTL(0) + SHMF_C_RPOS,
	                                  SHMF_RING_CTL(1) + SHMF_C_RPOS};
	uint8_t again[SHMF_RING_CTL(2)];

	*stable = 0;
	for (int attempt = 0; attempt < 5; attempt++) {
		int rc = shmf_cli_read_fd(fd, limit, f);
		if (rc != 0)
			return rc;
		if (f->n < sizeof again ||
		    pread(fd, again, sizeof again, 0) != (ssize_t)sizeof again) {
			*stable = 1; /* too short to hold rings: nothing can move */
			return 0;
		}
		if (memcmp(again + rpos_at[0], f->buf + rpos_at[0], 8) == 0 &&
		    memcmp(again + rpos_at[1], f->buf + rpos_at[1], 8) == 0) {
			*stable = 1;
			return 0;
		}
		free(f->buf);
		f->buf = NULL;
	}
	return shmf_cli_read_fd(fd, limit, f);
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
