/* os_linux.c - every system call libshmframe makes, and nothing else.
 *
 * Each function maps the kernel's answer to an SHMF code; where errno adds detail it is left set
 * (SHMF_ESYS). Nothing here interprets segment contents. A port to another kernel replaces this
 * file alone.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* errno of any call but shm_open/shm_unlink, as an SHMF code. */
static int from_errno(int e)
{
	switch (e) {
	case EACCES:
	case EPERM: return SHMF_EACCES;
	case ENOSPC: return SHMF_ENOSPC;
	case ENOMEM: return SHMF_ENOMEM;
	default: errno = e; return SHMF_ESYS;
	}
}

/* errno of shm_open/shm_unlink: these also speak about the name and what sits under it. */
static int name_errno(int e)
{
	switch (e) {
	case EEXIST: return SHMF_EEXIST;
	case ENOENT: return SHMF_ENOENT;
	case ELOOP: /* a symbolic link under the name (O_NOFOLLOW) */
	case EISDIR:
	case ENXIO:
	case ENODEV:
	case ENOTDIR:
	/* glibc's shm_open turns EISDIR into EINVAL; our names already passed shmf_name_check(),
	 * so EINVAL means something other than a file is there. */
	case EINVAL: return SHMF_EFILETYPE;
	case ENAMETOOLONG: return SHMF_ENAME;
	default: return from_errno(e);
	}
}

/* A descriptor the library keeps is never 0, 1 or 2. A process that runs with one of those closed
 * (a CI step started with stdout closed) would otherwise get the segment there, and its next
 * printf would write into shared memory. -1 with errno on failure, f closed either way. */
static int above_stdio(int f)
{
	if (f < 0 || f > 2)
		return f;
	int g = fcntl(f, F_DUPFD_CLOEXEC, 3);
	int e = errno;
	close(f);
	errno = e;
	return g;
}

int shmf_os_create(const char *name, unsigned mode, int *fd)
{
	int f = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	                 (mode_t)(mode & 0777u));
	if (f < 0)
		return name_errno(errno);
	if ((f = above_stdio(f)) < 0) {
		int e = errno;
		shm_unlink(name);
		return from_errno(e);
	}
	/* The umask may have removed bits the caller asked for; set them exactly (PROTO 9.1). */
	if (fchmod(f, (mode_t)(mode & 0777u)) != 0) {
		int e = errno;
		if (shmf_os_names(name, f) == SHMF_OS_OURS) /* see shmf_create() */
			shm_unlink(name);
		close(f);
		return from_errno(e);
	}
	*fd = f;
	return 0;
}

int shmf_os_open(const char *name, int *fd)
{
	/* O_NONBLOCK: a FIFO squatting on the name must not block the open. */
	int f = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
	if (f < 0)
		return name_errno(errno);
	if ((f = above_stdio(f)) < 0)
		return from_errno(errno);
	*fd = f;
	return 0;
}

int shmf_os_dup(int fd, int *out)
{
	int f = fcntl(fd, F_DUPFD_CLOEXEC, 3); /* never 0, 1 or 2: see above_stdio() */

	if (f < 0)
		return from_errno(errno);
	*out = f;
	return 0;
}

/* The memfd transport (PROTO 9.5). */
#define SHMF_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

int shmf_os_memfd(unsigned mode, int *fd)
{
	int f = above_stdio(memfd_create("shmframe", MFD_CLOEXEC | MFD_ALLOW_SEALING));

	if (f < 0)
		return from_errno(errno);
	if (fchmod(f, (mode_t)(mode & 0777u)) != 0) {
		int e = errno;
		close(f);
		return from_errno(e);
	}
	*fd = f;
	return 0;
}

int shmf_os_seal(int fd)
{
	if (fcntl(fd, F_ADD_SEALS, SHMF_SEALS) != 0)
		return from_errno(errno);
	return 0;
}

int shmf_os_check_seals(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	/* EINVAL: not a file that supports seals (a named segment, a pipe, ...). */
	if (seals < 0)
		return errno == EINVAL ? SHMF_ESEALS : from_errno(errno);
	return (seals & SHMF_SEALS) == SHMF_SEALS ? 0 : SHMF_ESEALS;
}

/* A new open file description of the same file: the peer must not share ours, or it would share
 * our role lock too (OFD locks belong to the description, PROTO 7). */
int shmf_os_reopen(int fd, int *out)
{
	char path[64];
	int f;

	if (snprintf(path, sizeof path, "/proc/self/fd/%d", fd) >= (int)sizeof path)
		return SHMF_EINVAL; /* GCOVR_EXCL_LINE: an int always fits */
	f = above_stdio(open(path, O_RDWR | O_CLOEXEC));
	if (f < 0)
		return from_errno(errno);
	*out = f;
	return 0;
}

int shmf_os_send_fd(int sock, int fd)
{
	char byte = 'S';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {0};
	struct cmsghdr *c;

	memset(&u, 0, sizeof u);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof u.buf;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != 1)
		return from_errno(errno);
	return 0;
}

int shmf_os_recv_fd(int sock, int64_t allowed_uid, int *fd)
{
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union { /* room for a few descriptors, and credentials if the caller set SO_PASSCRED */
		char buf[CMSG_SPACE(sizeof(int) * 4) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {0};
	struct cmsghdr *c;
	struct ucred cred;
	socklen_t clen = sizeof cred;
	int got = -1;
	size_t total = 0; /* descriptors that came */
	ssize_t n;

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
		return from_errno(errno);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof u.buf;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return from_errno(errno);
	/* Take every descriptor that came, so none leaks, and keep the first. */
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
			total++;
			if (got < 0)
				got = f;
			else
				close(f);
		}
	}
	if (n == 0 && got < 0)
		return SHMF_EPEERCLOSED;
	if ((int64_t)cred.uid != allowed_uid) {
		if (got >= 0)
			close(got);
		return SHMF_EPEERCRED;
	}
	/* PROTO 9.5: exactly one byte, "S", and exactly one descriptor. MSG_TRUNC: a longer message
	 * on a socket that keeps message boundaries; MSG_CTRUNC: more descriptors than fit. */
	if (total != 1 || n != 1 || byte != 'S' ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
		if (got >= 0)
			close(got);
		return SHMF_EINVAL;
	}
	*fd = got;
	return 0;
}

int shmf_os_fstat(int fd, shmf_os_stat *st)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return from_errno(errno);
	st->regular = S_ISREG(sb.st_mode) ? 1 : 0;
	st->uid = (uint32_t)sb.st_uid;
	st->mode = (uint32_t)(sb.st_mode & 07777);
	st->size = sb.st_size < 0 ? 0 : (uint64_t)sb.st_size;
	st->ctime_ns = (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec;
	return 0;
}

int shmf_os_allocate(int fd, uint64_t size)
{
	int e;

	/* size <= 4096 + 2 * 2^30 (PROTO 2.4), so it fits off_t. */
	if (ftruncate(fd, (off_t)size) != 0)
		return from_errno(errno);
	/* Reserve every page now: a full /dev/shm fails here, not with SIGBUS at first touch. */
	e = posix_fallocate(fd, 0, (off_t)size);
	if (e != 0)
		return from_errno(e);
	return 0;
}

int shmf_os_map(int fd, uint64_t size, unsigned char **base)
{
	void *p;

#if SIZE_MAX < UINT64_MAX
	if (size > (uint64_t)SIZE_MAX)
		return SHMF_ENOMEM; /* a 32-bit process cannot map it */
#endif
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return from_errno(errno);
	*base = p;
	return 0;
}

/* Fill in our page tables for [p, p + len) now, so that a ring's first lap takes no page faults
 * (one costs microseconds, a round trip's p99.9: PERFORMANCE.md). Only when every page of the
 * file is allocated already, as an honest creator's posix_fallocate leaves it: populating a
 * sparse file would allocate its holes, charged to us, for a peer that may never write there
 * (SHMF_ENOTSUP). MADV_POPULATE_READ even where we write: on a shared tmpfs mapping, which
 * keeps no dirty bits, a read fault maps the page writable, so a later store takes no fault
 * (measured on Linux 6.18). On pages written before, as an attacher finds them, it costs half
 * of MADV_POPULATE_WRITE; on pages fresh from fallocate, 1.4 times as much (populate.c in
 * docs/perf/prefault-optin-2026-11-27). It fails without a signal on a file truncated under
 * the mapping (EFAULT: SHMF_ESYS), and a kernel before 5.14 refuses the advice (EINVAL:
 * SHMF_ENOTSUP). */
int shmf_os_prefault(int fd, unsigned char *p, uint64_t len)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return SHMF_ESYS; /* GCOVR_EXCL_LINE: fstat of our own open descriptor */
	if (sb.st_size <= 0 || (uint64_t)sb.st_blocks * 512u < (uint64_t)sb.st_size)
		return SHMF_ENOTSUP;
	/* madvise wants a start on a host page: on hosts whose pages exceed the protocol's 4 KiB,
	 * begin at the page that holds p (the control area or the other ring: ours too). */
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t off = page > 0 ? (uintptr_t)p % (uintptr_t)page : 0;
	if (madvise(p - off, (size_t)(len + off), MADV_POPULATE_READ) != 0)
		return errno == EINVAL ? SHMF_ENOTSUP : SHMF_ESYS;
	return 0;
}

void shmf_os_unmap(unsigned char *base, uint64_t size)
{
	if (base != NULL)
		munmap(base, (size_t)size);
}

void shmf_os_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int shmf_os_unlink(const char *name)
{
	if (shm_unlink(name) != 0)
		return name_errno(errno);
	return 0;
}

/* glibc's shm_open keeps the names in /dev/shm (so do the CLI's ls and gc): the name is looked
 * up there without opening it (no permission needed) and without following a link. */
int shmf_os_names(const char *name, int fd)
{
	char path[sizeof "/dev/shm" + SHMF_NAME_MAX];
	struct stat ours, there;

	if (snprintf(path, sizeof path, "/dev/shm%s", name) >= (int)sizeof path)
		return SHMF_ENAME; /* GCOVR_EXCL_LINE: names passed shmf_name_check() */
	if (fstat(fd, &ours) != 0)
		return from_errno(errno); /* GCOVR_EXCL_LINE: fd is open */
	if (fstatat(AT_FDCWD, path, &there, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? SHMF_OS_GONE : from_errno(errno);
	return ours.st_dev == there.st_dev && ours.st_ino == there.st_ino ? SHMF_OS_OURS
	                                                                  : SHMF_OS_OTHER;
}

static void lock_desc(struct flock *fl, uint64_t offset)
{
	fl->l_type = F_WRLCK;
	fl->l_whence = SEEK_SET;
	fl->l_start = (off_t)offset;
	fl->l_len = 1;
	fl->l_pid = 0; /* required by F_OFD_* */
}

int shmf_os_lock(int fd, uint64_t offset)
{
	struct flock fl = {0};

	lock_desc(&fl, offset);
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return SHMF_EROLEBUSY;
	return from_errno(errno);
}

/* Release the lock through this descriptor's description. Needed when the description may be
 * shared with the caller (shmf_attach_fd's fallback): closing our descriptor alone would leave
 * the role held for as long as the caller keeps its own. */
void shmf_os_unlock(int fd, uint64_t offset)
{
	struct flock fl = {0};

	lock_desc(&fl, offset);
	fl.l_type = F_UNLCK;
	(void)fcntl(fd, F_OFD_SETLK, &fl);
}

int shmf_os_lock_free(int fd, uint64_t offset)
{
	struct flock fl = {0};

	lock_desc(&fl, offset);
	if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
		return from_errno(errno);
	return fl.l_type == F_UNLCK ? 1 : 0;
}

int shmf_os_read_at(int fd, uint64_t offset, void *buf, size_t n)
{
	ssize_t got;

	do
		got = pread(fd, buf, n, (off_t)offset);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return from_errno(errno);
	return (size_t)got == n ? 0 : SHMF_ESIZE;
}

/* Sleep while *word == expect, until woken or until the CLOCK_MONOTONIC deadline (absolute, ns;
 * negative for none). Shared futex: no FUTEX_PRIVATE_FLAG, the word lives in a MAP_SHARED mapping
 * that other processes wait on too (PROTO 8). Returns 0 whatever the reason for waking; the caller
 * re-checks everything. */
int shmf_os_futex_wait(unsigned char *word, uint32_t expect, int64_t deadline_ns)
{
	struct timespec ts, *tp = NULL;

	if (deadline_ns >= 0) {
		ts.tv_sec = (time_t)(deadline_ns / 1000000000);
		ts.tv_nsec = (long)(deadline_ns % 1000000000);
		tp = &ts;
	}
	(void)syscall(SYS_futex, (uint32_t *)(void *)word, FUTEX_WAIT_BITSET, expect, tp, NULL,
	              FUTEX_BITSET_MATCH_ANY);
	return 0;
}

void shmf_os_futex_wake(unsigned char *word)
{
	(void)syscall(SYS_futex, (uint32_t *)(void *)word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int64_t shmf_os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t shmf_os_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void shmf_os_sleep_ns(int64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000),
	                      .tv_nsec = (long)(ns % 1000000000)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

uint32_t shmf_os_euid(void)
{
	return (uint32_t)geteuid();
}

uint32_t shmf_os_pid(void)
{
	return (uint32_t)getpid();
}

#if defined(SHMF_KILL_POINTS) && SHMF_KILL_POINTS
/* ---- kill points (test builds only; internal.h) ------------------------------------------- */
static const char *const kp_names[SHMF_KP_COUNT] = {[SHMF_KP_AFTER_RESERVE] = "after-reserve",
                                                    [SHMF_KP_MID_COPY] = "mid-copy",
                                                    [SHMF_KP_BEFORE_PUBLISH] = "before-publish",
                                                    [SHMF_KP_SEQ_PUBLISHED] = "seq-published",
                                                    [SHMF_KP_PAD] = "pad",
                                                    [SHMF_KP_CONSUME] = "consume"};
static _Atomic int kp_armed = -1; /* -1 not read yet, 0 none, else the armed point */
static _Atomic long kp_left;

static void kp_read_env(void)
{
	const char *v = getenv("SHMF_KILL_POINT");
	int armed = 0;
	long n = 1;

	if (v != NULL) {
		for (int i = 1; i < SHMF_KP_COUNT; i++) {
			size_t k = strlen(kp_names[i]);
			if (strncmp(v, kp_names[i], k) == 0 && (v[k] == '\0' || v[k] == ':')) {
				armed = i;
				if (v[k] == ':')
					n = strtol(v + k + 1, NULL, 10);
				break;
			}
		}
	}
	atomic_store(&kp_left, n > 0 ? n : 1);
	atomic_store(&kp_armed, armed);
}

void shmf_os_kill_point(enum shmf_kill_point kp)
{
	if (atomic_load(&kp_armed) < 0)
		kp_read_env();
	if (atomic_load(&kp_armed) == (int)kp && atomic_fetch_sub(&kp_left, 1) == 1)
		(void)raise(SIGKILL);
}
#endif

/* ---- the SIGBUS guard (opt-in; PROTO 9.6) ------------------------------------------------------
 *
 * The one piece of process-global state in the library, because signal dispositions are
 * process-global: a fixed table of the mappings that channels registered, read by the handler
 * with atomic loads only. The handler uses only lock-free atomics, sigaction, errno and mmap;
 * mmap is not on POSIX's async-signal-safe list, but glibc's is a bare system call, and
 * libwayland's SIGBUS guard relies on the same. */

#define GUARD_SLOTS 1024
static struct guard_slot {
	_Atomic(unsigned char *) base; /* NULL: free */
	_Atomic(size_t) size;
	atomic_int tripped;
	atomic_int used;
} guard_slots[GUARD_SLOTS];
static atomic_int guard_on;
static struct sigaction guard_old; /* the disposition we chain to */

static void guard_handler(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;
	uintptr_t a = (uintptr_t)si->si_addr;
	/* A fault the kernel raised (BUS_ADRERR and kin: si_code > 0). A SIGBUS that a process sent
	 * (kill, sigqueue, tgkill: si_code <= 0) names no access of ours, whatever its si_addr
	 * says, and must not trip a healthy channel. */
	int fault = si->si_code > 0;

	for (int i = 0; fault && i < GUARD_SLOTS; i++) {
		unsigned char *b = atomic_load(&guard_slots[i].base);
		size_t n = atomic_load(&guard_slots[i].size);
		if (b != NULL && a - (uintptr_t)b < n) {
			/* Our mapping lost its pages (the file shrank). Put zero pages in their
			 * place so that the access, retried on return, reads zeros; the channel
			 * sees the flag and reports SHMF_ETRUNCATED. The flag comes first: a
			 * thread that reads those zeros and rejects them must find it set, or it
			 * would report the reject instead (issue #6's --truncate saw 59 in 3,318).
			 */
			atomic_store(&guard_slots[i].tripped, 1);
			void *p = mmap(b, n, PROT_READ | PROT_WRITE,
			               MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			errno = saved;
			if (p != MAP_FAILED)
				return;
			break; /* GCOVR_EXCL_LINE: mmap over our own mapping does not fail */
		}
	}
	/* Not ours: whoever was there before us. SIG_DFL and SIG_IGN first, whatever the flags: a
	 * disposition of SIG_IGN may carry SA_SIGINFO, and its "handler" is then (void *)1. */
	void (*old)(int) = guard_old.sa_handler;
	int custom = old != SIG_DFL && old != SIG_IGN && old != NULL;

	if (custom && (guard_old.sa_flags & SA_SIGINFO) != 0) {
		guard_old.sa_sigaction(sig, si, ctx);
	} else if (custom) {
		old(sig);
	} else if (!fault && old == SIG_IGN) {
		/* A sent SIGBUS that the process ignored before the guard: still ignored. */
	} else {
		/* Default action: restore it, so the guard is off from here on (guard_on says so).
		 * A fault repeats on return and the kernel applies the default (a SIGBUS from a
		 * fault cannot be ignored); a sent signal would not repeat, so it is sent again,
		 * now to the default action: what the process would have met without the guard.
		 * Tested by test_guard's test_foreign_sigbus_still_kills and
		 * test_sent_sigbus_still_kills, in processes that die before gcov can count. */
		struct sigaction dfl; /* GCOVR_EXCL_START */
		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGBUS, &dfl, NULL);
		atomic_store(&guard_on, 0);
		if (!fault)
			(void)raise(SIGBUS);
		/* GCOVR_EXCL_STOP */
	}
	errno = saved;
}

int shmf_os_guard_install(void)
{
	struct sigaction sa;

	if (atomic_load(&guard_on))
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = guard_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &guard_old) != 0)
		return from_errno(errno); /* GCOVR_EXCL_LINE: valid arguments do not fail */
	atomic_store(&guard_on, 1);
	return 0;
}

int shmf_os_guard_remove(void)
{
	if (!atomic_load(&guard_on))
		return 0;
	if (sigaction(SIGBUS, &guard_old, NULL) != 0)
		return from_errno(errno); /* GCOVR_EXCL_LINE: valid arguments do not fail */
	atomic_store(&guard_on, 0);
	return 0;
}

int shmf_os_guard_register(unsigned char *base, uint64_t size)
{
	if (!atomic_load(&guard_on))
		return -1;
	for (int i = 0; i < GUARD_SLOTS; i++) {
		int expect = 0;
		if (atomic_compare_exchange_strong(&guard_slots[i].used, &expect, 1)) {
			atomic_store(&guard_slots[i].tripped, 0);
			atomic_store(&guard_slots[i].size, (size_t)size);
			atomic_store(&guard_slots[i].base, base); /* last: now live */
			return i;
		}
	}
	return -2; /* table full: the caller refuses the channel (SHMF_ENOMEM) */
}

int shmf_os_guard_tripped(int slot)
{
	return slot >= 0 && slot < GUARD_SLOTS && atomic_load(&guard_slots[slot].tripped) != 0;
}

atomic_int *shmf_os_guard_flag(int slot)
{
	return slot >= 0 && slot < GUARD_SLOTS ? &guard_slots[slot].tripped : NULL;
}

void shmf_os_guard_unregister(int slot)
{
	if (slot < 0 || slot >= GUARD_SLOTS)
		return;
	atomic_store(&guard_slots[slot].base, NULL); /* first: no longer matched */
	atomic_store(&guard_slots[slot].tripped, 0);
	atomic_store(&guard_slots[slot].used, 0);
}
