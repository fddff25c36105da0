/* test_os.c - every system call failing where it can, through the linker's --wrap: each error
 * maps to its SHMF code, errno survives where it is the explanation, and a failed create leaves
 * no name behind. */
#include "testutil.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/socket.h>

/* ---- the fault plan: make the n-th call of one function fail with one errno ---------------- */

/* Counters for the fast-path test: calls the library makes while counting is on. */
static int counting;
static unsigned n_syscall, n_calloc, n_clock;

static const char *fault_fn; /* which function, or NULL */
static int fault_countdown;  /* calls to let through before failing */
static int fault_errno;

static void arm(const char *fn, int skip, int err)
{
	fault_fn = fn;
	fault_countdown = skip;
	fault_errno = err;
}

static int hit(const char *fn)
{
	if (fault_fn == NULL || strcmp(fault_fn, fn) != 0)
		return 0;
	if (fault_countdown-- > 0)
		return 0;
	fault_fn = NULL;
	return 1;
}

int __real_shm_open(const char *name, int oflag, mode_t mode);
int __wrap_shm_open(const char *name, int oflag, mode_t mode);
int __wrap_shm_open(const char *name, int oflag, mode_t mode)
{
	if (hit("shm_open")) {
		errno = fault_errno;
		return -1;
	}
	return __real_shm_open(name, oflag, mode);
}

int __real_fchmod(int fd, mode_t mode);
int __wrap_fchmod(int fd, mode_t mode);
int __wrap_fchmod(int fd, mode_t mode)
{
	if (hit("fchmod")) {
		errno = fault_errno;
		return -1;
	}
	return __real_fchmod(fd, mode);
}

int __real_fstat(int fd, struct stat *st);
int __wrap_fstat(int fd, struct stat *st);
int __wrap_fstat(int fd, struct stat *st)
{
	if (hit("fstat")) {
		errno = fault_errno;
		return -1;
	}
	return __real_fstat(fd, st);
}

int __real_ftruncate(int fd, off_t len);
int __wrap_ftruncate(int fd, off_t len);
int __wrap_ftruncate(int fd, off_t len)
{
	if (hit("ftruncate")) {
		errno = fault_errno;
		return -1;
	}
	return __real_ftruncate(fd, len);
}

/* Another process, acting on the name while a creator is between two steps (PROTO 9.1): run once
 * when the creator takes its role lock, or when it allocates. */
static void (*on_lock)(void);
static void (*on_allocate)(void);
static char hook_name[96];

static void run_once(void (**hook)(void))
{
	void (*h)(void) = *hook;

	*hook = NULL;
	if (h != NULL)
		h();
}

int __real_posix_fallocate(int fd, off_t off, off_t len);
int __wrap_posix_fallocate(int fd, off_t off, off_t len);
int __wrap_posix_fallocate(int fd, off_t off, off_t len)
{
	run_once(&on_allocate);
	if (hit("posix_fallocate"))
		return fault_errno; /* it returns the error, errno untouched */
	return __real_posix_fallocate(fd, off, len);
}

/* pread fails with pread_errno on every call while it is set (the attach retries every 1 ms). */
static int pread_errno;

ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
	if (pread_errno != 0) {
		errno = pread_errno;
		return -1;
	}
	return __real_pread(fd, buf, n, off);
}

void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (hit("mmap")) {
		errno = fault_errno;
		return MAP_FAILED;
	}
	return __real_mmap(addr, len, prot, flags, fd, off);
}

int __real_fcntl(int fd, int cmd, ...);
int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (cmd == F_OFD_SETLK)
		run_once(&on_lock);
	if (hit("fcntl")) {
		errno = fault_errno;
		return -1;
	}
	return __real_fcntl(fd, cmd, arg);
}

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	if (counting)
		n_calloc++;
	if (hit("calloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

long __real_syscall(long nr, ...);
long __wrap_syscall(long nr, ...);
long __wrap_syscall(long nr, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (counting)
		n_syscall++;
	return __real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int __real_clock_gettime(clockid_t clk, struct timespec *ts);
int __wrap_clock_gettime(clockid_t clk, struct timespec *ts);
int __wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (counting)
		n_clock++;
	return __real_clock_gettime(clk, ts);
}

int __real_memfd_create(const char *name, unsigned flags);
int __wrap_memfd_create(const char *name, unsigned flags);
int __wrap_memfd_create(const char *name, unsigned flags)
{
	if (hit("memfd_create")) {
		errno = fault_errno;
		return -1;
	}
	return __real_memfd_create(name, flags);
}

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = (mode_t)va_arg(ap, unsigned);
	va_end(ap);
	if (hit("open")) {
		errno = fault_errno;
		return -1;
	}
	return __real_open(path, flags, mode);
}

static int name_exists(const char *name)
{
	char path[200];
	struct stat st;

	snprintf(path, sizeof path, "/dev/shm%s", name);
	return lstat(path, &st) == 0;
}

static shmf_config small(void)
{
	shmf_config cfg;

	shmf_config_init(&cfg);
	cfg.capacity = 4096;
	cfg.max_message = 256;
	return cfg;
}

/* Create with one call failing: the expected code, errno where it explains, no name left. */
static void create_fails(const char *fn, int skip, int err, int want, int want_errno)
{
	char name[96];
	shmf_config cfg = small();
	shmf_channel *ch = (shmf_channel *)&cfg; /* must be reset to NULL */

	tu_name(name, fn);
	arm(fn, skip, err);
	int rc = shmf_create(name, &cfg, &ch);
	int e = errno;
	ck_assert_msg(rc == want, "%s failing with %s: got %d (%s), want %d", fn, strerror(err), rc,
	              shmf_strerror(rc), want);
	if (want_errno)
		ck_assert_int_eq(e, want_errno);
	ck_assert_ptr_null(ch);
	ck_assert_msg(!name_exists(name), "%s failure left %s behind", fn, name);
}

START_TEST(test_create_maps_shm_open_failures)
{
	create_fails("shm_open", 0, EACCES, SHMF_EACCES, 0);
	create_fails("shm_open", 0, EEXIST, SHMF_EEXIST, 0);
	create_fails("shm_open", 0, ENAMETOOLONG, SHMF_ENAME, 0);
	create_fails("shm_open", 0, EMFILE, SHMF_ESYS, EMFILE);
}
END_TEST

START_TEST(test_create_that_cannot_set_the_mode_leaves_no_name)
{
	create_fails("fchmod", 0, EPERM, SHMF_EACCES, 0);
}
END_TEST

START_TEST(test_create_that_cannot_size_the_file_keeps_errno)
{
	create_fails("ftruncate", 0, EFBIG, SHMF_ESYS, EFBIG);
}
END_TEST

/* A full /dev/shm fails at create time with its own code, not with SIGBUS later. */
START_TEST(test_create_on_a_full_dev_shm_gives_enospc_and_no_name)
{
	create_fails("posix_fallocate", 0, ENOSPC, SHMF_ENOSPC, 0);
}
END_TEST

START_TEST(test_create_that_cannot_map_gives_enomem)
{
	create_fails("mmap", 0, ENOMEM, SHMF_ENOMEM, 0);
}
END_TEST

START_TEST(test_create_that_cannot_lock_its_role_fails_cleanly)
{
	create_fails("fcntl", 0, EAGAIN, SHMF_EROLEBUSY, 0);
	create_fails("fcntl", 0, ENOLCK, SHMF_ESYS, ENOLCK);
}
END_TEST

/* What the hooks do to the name. */
static void remove_name(void)
{
	shm_unlink(hook_name);
}

static void make_name_anew(void)
{
	shm_unlink(hook_name);
	int fd = shm_open(hook_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void make_name_anew_and_hold_the_lock(void)
{
	make_name_anew();
	arm("fcntl", 0, EAGAIN); /* the creator's own lock then fails, as when gc holds it */
}

/* A creator whose name is removed, or removed and made anew by someone else, while it creates
 * (a stall before its lock makes it look dead: gc --not-ready, unlink) fails with a code that
 * says so, and never removes the other one's file. */
static void create_loses_its_name(void (**hook)(void), void (*what)(void), int want)
{
	shmf_config cfg = small();
	shmf_channel *ch = (shmf_channel *)&cfg;
	int other = what != remove_name;

	tu_name(hook_name, "renamed");
	*hook = what;
	int rc = shmf_create(hook_name, &cfg, &ch);
	*hook = NULL;
	ck_assert_msg(rc == want, "got %d (%s), want %d", rc, shmf_strerror(rc), want);
	ck_assert_ptr_null(ch);
	ck_assert_msg(name_exists(hook_name) == other, "the other creator's file %s",
	              other ? "was removed" : "appeared");
	shm_unlink(hook_name);
}

START_TEST(test_create_whose_name_is_taken_away_says_so_and_spares_the_new_one)
{
	create_loses_its_name(&on_lock, remove_name, SHMF_ENOENT);
	create_loses_its_name(&on_lock, make_name_anew, SHMF_EEXIST);
	create_loses_its_name(&on_lock, make_name_anew_and_hold_the_lock, SHMF_EEXIST);
	create_loses_its_name(&on_allocate, remove_name, SHMF_ENOENT);
	create_loses_its_name(&on_allocate, make_name_anew, SHMF_EEXIST);
}
END_TEST

START_TEST(test_create_without_memory_for_the_handle_gives_enomem)
{
	create_fails("calloc", 0, ENOMEM, SHMF_ENOMEM, 0);
}
END_TEST

/* Attach with one call failing: the expected code, and the segment still usable after. */
static void attach_fails(const char *fn, int err, int want)
{
	char name[96];
	shmf_config cfg = small();
	shmf_channel *a, *b = (shmf_channel *)&cfg;

	tu_name(name, fn);
	ck_assert_int_eq(shmf_create(name, &cfg, &a), 0);
	arm(fn, 0, err);
	int rc = shmf_attach(name, SHMF_SIDE_B, 0, &b);
	ck_assert_msg(rc == want, "%s failing: got %d, want %d", fn, rc, want);
	ck_assert_ptr_null(b);
	/* Nothing was held: the role can be taken now. */
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 0, &b), 0);
	shmf_close(b);
	shmf_close(a);
	shmf_unlink(name);
}

START_TEST(test_attach_maps_each_failing_call)
{
	attach_fails("shm_open", EACCES, SHMF_EACCES);
	attach_fails("shm_open", ELOOP, SHMF_EFILETYPE);
	attach_fails("fstat", EIO, SHMF_ESYS);
	attach_fails("mmap", ENOMEM, SHMF_ENOMEM);
	attach_fails("fcntl", ENOLCK, SHMF_ESYS);
	attach_fails("calloc", ENOMEM, SHMF_ENOMEM);
}
END_TEST

START_TEST(test_attach_fd_maps_a_failing_dup)
{
	char name[96];
	shmf_config cfg = small();
	shmf_channel *a, *b;

	tu_name(name, "dup");
	ck_assert_int_eq(shmf_create(name, &cfg, &a), 0);
	int fd = shm_open(name, O_RDWR, 0);
	ck_assert_int_ge(fd, 0);
	arm("fcntl", 0, EMFILE);
	ck_assert_int_eq(shmf_attach_fd_internal(fd, SHMF_SIDE_B, &b), SHMF_ESYS);
	ck_assert_int_eq(errno, EMFILE);
	ck_assert_int_eq(shmf_attach_fd_internal(fd, 7, &b), SHMF_EINVAL);
	ck_assert_int_eq(shmf_attach_fd_internal(fd, SHMF_SIDE_B, NULL), SHMF_EINVAL);
	ck_assert_int_eq(shmf_attach_fd_internal(fd, SHMF_SIDE_B, &b), 0);
	close(fd); /* the channel has its own duplicate */
	ck_assert_int_eq(shmf_send(a, "x", 1, 0), 0);
	size_t n;
	char c;
	ck_assert_int_eq(shmf_recv(b, &c, 1, &n, 0), 0);
	shmf_close(b);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

/* A liveness probe that fails is not taken for a death: the peer stays "alive" and the call
 * times out instead of reporting a peer that may well be there. */
START_TEST(test_failing_liveness_probe_is_not_a_death)
{
	char name[96];
	shmf_config cfg = small();
	shmf_channel *a, *b;
	char c;
	size_t n;

	tu_name(name, "probe");
	ck_assert_int_eq(shmf_create(name, &cfg, &a), 0);
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 0, &b), 0);
	arm("fcntl", 0, ENOLCK);
	ck_assert_int_eq(shmf_recv(a, &c, 1, &n, 50), SHMF_ETIMEDOUT);
	shmf_close(b);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

/* The same for a creator's: a file that is not ready, whose role A lock is free and whose status
 * is old, was left by a dead creator (PROTOCOL.md 9.2), unless it has become ready since, which the
 * attach reads (pread of init_state) after its lock test. A read that fails tells neither: the
 * attach waits on to its deadline (SHMF_ENOTREADY), where with the read it says SHMF_EPEERGONE. */
START_TEST(test_failing_readiness_read_is_not_a_death)
{
	char name[96];
	shmf_channel *b = NULL;
	struct timespec age = {0, 150000000L}; /* past SHMF_ORPHAN_NS */
	int fd = shm_open(tu_name(name, "orphan-read"), O_RDWR | O_CREAT | O_EXCL, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0600), 0);
	close(fd);
	nanosleep(&age, NULL);
	pread_errno = EIO;
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 100, &b), SHMF_ENOTREADY);
	pread_errno = 0;
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 100, &b), SHMF_EPEERGONE);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

START_TEST(test_unlink_maps_its_errors)
{
	char name[96];

	ck_assert_int_eq(shmf_unlink(tu_name(name, "missing")), SHMF_ENOENT);
}
END_TEST

/* PROTO 8 and the fast path: with room and data, and nobody asleep, send and receive
 * (copying and zero-copy) allocate nothing and make no system call, not even a clock read. */
START_TEST(test_fast_path_makes_no_system_call_and_allocates_nothing)
{
	char name[96];
	shmf_config cfg = small();
	shmf_channel *a, *b;
	char buf[256];
	size_t n;
	void *p;
	const void *m;

	tu_name(name, "fast");
	ck_assert_int_eq(shmf_create(name, &cfg, &a), 0);
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 0, &b), 0);
	counting = 1;
	for (int i = 0; i < 10000; i++) {
		size_t len = (size_t)(i % 200);
		ck_assert_int_eq(shmf_send(a, buf, len, 1000), 0);
		ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 1000), 0);
		ck_assert_int_eq(shmf_reserve(b, len, &p, 1000), 0);
		ck_assert_int_eq(shmf_commit(b, len), 0);
		ck_assert_int_eq(shmf_peek(a, &m, &n, 1000), 0);
		ck_assert_int_eq(shmf_release(a), 0);
	}
	counting = 0;
	ck_assert_uint_eq(n_syscall, 0);
	ck_assert_uint_eq(n_calloc, 0);
	ck_assert_uint_eq(n_clock, 0);
	/* ... and the counters do count: a blocking receive on an empty ring sleeps. */
	counting = 1;
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 20), SHMF_ETIMEDOUT);
	counting = 0;
	ck_assert_uint_gt(n_syscall, 0);
	ck_assert_uint_gt(n_clock, 0);
	shmf_close(b);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

/* The memfd transport's system calls, failing one at a time. */
static void create_memfd_fails(const char *fn, int skip, int err, int want)
{
	shmf_config cfg = small();
	shmf_channel *ch = (shmf_channel *)&cfg;

	arm(fn, skip, err);
	int rc = shmf_create_memfd(&cfg, &ch);
	ck_assert_msg(rc == want, "%s failing: got %d, want %d", fn, rc, want);
	ck_assert_ptr_null(ch);
}

START_TEST(test_create_memfd_maps_each_failing_call)
{
	create_memfd_fails("memfd_create", 0, EMFILE, SHMF_ESYS);
	create_memfd_fails("fchmod", 0, EPERM, SHMF_EACCES);
	create_memfd_fails("posix_fallocate", 0, ENOSPC, SHMF_ENOSPC);
	create_memfd_fails("fcntl", 0, EPERM, SHMF_EACCES); /* F_ADD_SEALS */
	create_memfd_fails("mmap", 0, ENOMEM, SHMF_ENOMEM);
	create_memfd_fails("calloc", 0, ENOMEM, SHMF_ENOMEM);
}
END_TEST

START_TEST(test_fd_passing_maps_each_failing_call)
{
	shmf_config cfg = small();
	shmf_channel *a;
	int sv[2], fd = -1;

	ck_assert_int_eq(shmf_create_memfd(&cfg, &a), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	arm("open", 0, EMFILE); /* the fresh description */
	ck_assert_int_eq(shmf_send_fd(a, sv[0]), SHMF_ESYS);
	ck_assert_int_eq(errno, EMFILE);
	ck_assert_int_eq(shmf_recv_fd(sv[1], -1, &fd), SHMF_ESYS); /* nothing came: EAGAIN */
	ck_assert_int_eq(errno, EAGAIN);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(shmf_recv_fd(p[0], -1, &fd), SHMF_ESYS); /* not a socket */
	shmf_channel *b = NULL;
	ck_assert_int_eq(shmf_attach_fd(p[0], SHMF_SIDE_B, &b), SHMF_ESEALS); /* no seals */
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(shmf_attach_fd(1000, SHMF_SIDE_B, &b), SHMF_ESYS); /* EBADF */
	ck_assert_ptr_null(b);
	close(sv[0]);
	close(sv[1]);
	shmf_close(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("os");
	TCase *tc = tcase_create("faults");

	tcase_add_test(tc, test_create_maps_shm_open_failures);
	tcase_add_test(tc, test_create_that_cannot_set_the_mode_leaves_no_name);
	tcase_add_test(tc, test_create_that_cannot_size_the_file_keeps_errno);
	tcase_add_test(tc, test_create_on_a_full_dev_shm_gives_enospc_and_no_name);
	tcase_add_test(tc, test_create_that_cannot_map_gives_enomem);
	tcase_add_test(tc, test_create_that_cannot_lock_its_role_fails_cleanly);
	tcase_add_test(tc, test_create_without_memory_for_the_handle_gives_enomem);
	tcase_add_test(tc, test_create_whose_name_is_taken_away_says_so_and_spares_the_new_one);
	tcase_add_test(tc, test_attach_maps_each_failing_call);
	tcase_add_test(tc, test_attach_fd_maps_a_failing_dup);
	tcase_add_test(tc, test_failing_liveness_probe_is_not_a_death);
	tcase_add_test(tc, test_failing_readiness_read_is_not_a_death);
	tcase_add_test(tc, test_unlink_maps_its_errors);
	tcase_add_test(tc, test_fast_path_makes_no_system_call_and_allocates_nothing);
	tcase_add_test(tc, test_create_memfd_maps_each_failing_call);
	tcase_add_test(tc, test_fd_passing_maps_each_failing_call);
	suite_add_tcase(s, tc);
	return tu_main(s);
}
