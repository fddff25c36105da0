/* test_liveness.c - what a waiting call concludes about its peer, at the instants where a
 * conclusion can go wrong (PROTO 7, "The peer's liveness"; PROTO 9.2).
 *
 * A waiting call reads its peer's epoch and state, and where the state is 1 (attached) tests the
 * peer's role lock. A peer that closes stores state 2 and then closes its descriptor, which drops
 * the lock; a successor takes the lock, stores state 1 and then its new epoch. A close or an
 * attach that falls between the waiter's reads and its lock test must not pass for a death, and
 * a close just after them must not be slept through. An attach that waits for a segment to
 * become ready must not take a creator that finished and left for one that died.
 *
 * Here the timing is made, not waited for: the linker's --wrap (tests/CMakeLists.txt) sends the
 * library's calls of shmf_os_lock_free() through __wrap_shmf_os_lock_free() below, which runs an
 * armed action just before or just after the real lock test, its calls of shmf_ring_wait_word()
 * (just before W1) through one that runs another, and its futex sleeps through
 * __wrap_shmf_os_futex_wait(), which counts them. No outcome depends on how fast the machine is:
 * the clock only ages a file past SHMF_ORPHAN_NS, passes a 1 ms deadline, and puts a death 50 ms
 * into a spin that would otherwise last a minute.
 */
#include "testutil.h"

#include <limits.h>
#include <pthread.h>

#define CAP 4096u

/* ---- the hooks ------------------------------------------------------------------------------ */

typedef void (*action)(void *);
static action before_lock_test, after_lock_test; /* each run once, then disarmed */
static action before_wait_flag;                  /* between the liveness check and W1 */
static void *hook_arg;
static unsigned lock_tests; /* lock tests made, armed or not */
static unsigned sleeps;     /* futex sleeps begun */

static void run_once(action *a)
{
	action fn = *a;

	*a = NULL;
	if (fn != NULL)
		fn(hook_arg);
}

int __real_shmf_os_lock_free(int fd, uint64_t offset);
int __wrap_shmf_os_lock_free(int fd, uint64_t offset);
int __wrap_shmf_os_lock_free(int fd, uint64_t offset)
{
	lock_tests++;
	run_once(&before_lock_test);
	int rc = __real_shmf_os_lock_free(fd, offset);
	run_once(&after_lock_test);
	return rc;
}

/* wait_step() asks for the wait word just before it flags that it sleeps (W1), after its look at
 * the peer's role line; shmf_close() asks for it too, to wake. */
unsigned char *__real_shmf_ring_wait_word(shmf_ring *r, int reader);
unsigned char *__wrap_shmf_ring_wait_word(shmf_ring *r, int reader);
unsigned char *__wrap_shmf_ring_wait_word(shmf_ring *r, int reader)
{
	run_once(&before_wait_flag);
	return __real_shmf_ring_wait_word(r, reader);
}

/* Every test starts with nothing armed, whatever an earlier one left (CK_FORK=no runs them all in
 * one process). */
static void disarm(void)
{
	before_lock_test = after_lock_test = before_wait_flag = NULL;
	hook_arg = NULL;
	lock_tests = sleeps = 0;
}

int __real_shmf_os_futex_wait(unsigned char *word, uint32_t expect, int64_t deadline_ns);
int __wrap_shmf_os_futex_wait(unsigned char *word, uint32_t expect, int64_t deadline_ns);
int __wrap_shmf_os_futex_wait(unsigned char *word, uint32_t expect, int64_t deadline_ns)
{
	sleeps++;
	return __real_shmf_os_futex_wait(word, expect, deadline_ns);
}

/* A process's role lock, taken by hand on a description of its own (PROTO 7): -1 if refused. */
static int take_role_lock(const char *name, int side)
{
	struct flock fl = {0};
	int fd = shm_open(name, O_RDWR, 0);

	ck_assert_int_ge(fd, 0);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = SHMF_ROLE_LOCK_OFFSET(side);
	fl.l_len = 1;
	if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Side B played by hand, as a process that attached (its lock held, state 1, epoch 1): the
 * descriptor whose close is B's death. */
static int play_attached_b(const char *name, unsigned char *seg)
{
	int fd = take_role_lock(name, SHMF_SIDE_B);

	ck_assert_int_ge(fd, 0);
	tu_set32(seg, SHMF_ROLE_LINE(SHMF_SIDE_B) + SHMF_R_STATE, SHMF_ROLE_ATTACHED);
	tu_set32(seg, SHMF_ROLE_LINE(SHMF_SIDE_B) + SHMF_R_EPOCH, 1);
	return fd;
}

static void close_channel(void *ch)
{
	ck_assert_int_eq(shmf_close(ch), 0);
}

/* Side A of a new segment: small rings, no spin (every wait goes to the futex path at once). */
static void create_a(char name[96], const char *tag, shmf_channel **a)
{
	shmf_config cfg;

	shmf_config_init(&cfg);
	cfg.capacity = CAP;
	cfg.max_message = 256;
	cfg.spin = 0;
	tu_name(name, tag);
	ck_assert_int_eq(shmf_create(name, &cfg, a), 0);
}

static void open_pair(char name[96], const char *tag, shmf_channel **a, shmf_channel **b)
{
	create_a(name, tag, a);
	ck_assert_int_eq(shmf_open(name, b), 0);
}

/* ---- tests --------------------------------------------------------------------------------- */

/* The peer closes cleanly between the receiver's reads of its role line and the receiver's lock
 * test: the lock is free, but the peer detached; that is SHMF_EPEERCLOSED, not a death. */
START_TEST(test_a_close_during_the_lock_test_is_a_close_not_a_death)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[16];
	size_t n = 0;

	open_pair(name, "closing", &a, &b);
	before_lock_test = close_channel;
	hook_arg = b;
	lock_tests = 0;
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, 5000), SHMF_EPEERCLOSED);
	ck_assert_ptr_null(before_lock_test); /* the close ran inside the lock test */
	ck_assert_uint_ge(lock_tests, 1u);
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

/* The same close during a sender's wait for room: SHMF_EPEERCLOSED, and the frames already sent
 * stay where they were (nothing is read or discarded on the sender's side). */
START_TEST(test_a_close_during_a_senders_lock_test_is_a_close_not_a_death)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t msg[200];
	int rc, sent = 0;

	open_pair(name, "closing-tx", &a, &b);
	memset(msg, 0x5a, sizeof msg);
	while ((rc = shmf_send(a, msg, sizeof msg, 0)) == 0)
		sent++;
	ck_assert_int_eq(rc, SHMF_EAGAIN);
	ck_assert_int_gt(sent, 0);
	before_lock_test = close_channel;
	hook_arg = b;
	ck_assert_int_eq(shmf_send(a, msg, sizeof msg, 5000), SHMF_EPEERCLOSED);
	ck_assert_ptr_null(before_lock_test);
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

/* A successor between its lock and its epoch. B closes just before the receiver's lock test
 * (which finds the lock free); just after it, a new B takes the lock and stores state 1, as
 * role_attach() does before it stores the new epoch. The receiver's second look finds the epoch
 * and the state it read first: only the second lock test, held, shows that a live process holds
 * the role. The call waits on, and times out. */
static struct successor {
	const char *name;
	unsigned char *seg;
	int lock_fd;
} succ;

static void successor_half_attached(void *unused)
{
	(void)unused;
	succ.lock_fd = take_role_lock(succ.name, SHMF_SIDE_B);
	ck_assert_int_ge(succ.lock_fd, 0);
	tu_set32(succ.seg, SHMF_ROLE_LINE(SHMF_SIDE_B) + SHMF_R_STATE, SHMF_ROLE_ATTACHED);
}

START_TEST(test_a_successor_that_has_not_stored_its_epoch_is_alive)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[16];
	size_t n = 0, size;

	open_pair(name, "successor", &a, &b);
	succ.name = name;
	succ.seg = tu_map(name, &size);
	before_lock_test = close_channel;
	after_lock_test = successor_half_attached;
	hook_arg = b;
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, 300), SHMF_ETIMEDOUT);
	ck_assert_ptr_null(after_lock_test);
	close(succ.lock_fd);
	tu_unmap(succ.seg, size);
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

/* The control of the last: B is a process played by hand (its role line says attached, it holds
 * its lock) that dies just before the receiver's lock test, leaving state 1. Every look finds
 * the line unchanged and every test the lock free: SHMF_EPEERGONE, after two lock tests. */
static void drop_lock(void *fd)
{
	close(*(int *)fd);
}

START_TEST(test_a_peer_that_dies_before_the_lock_test_is_gone)
{
	char name[96];
	shmf_channel *a;
	uint8_t buf[16];
	size_t n = 0, size;
	int fd;

	create_a(name, "dies", &a);
	unsigned char *seg = tu_map(name, &size);
	fd = play_attached_b(name, seg);
	before_lock_test = drop_lock;
	hook_arg = &fd;
	lock_tests = 0;
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, 5000), SHMF_EPEERGONE);
	ck_assert_uint_eq(lock_tests, 2u);
	tu_unmap(seg, size);
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

/* B closes just after the receiver's lock test found it alive, before the receiver flags that it
 * sleeps: B's wake finds no flag and wakes nobody. The receiver must see the close at its last
 * look before the futex (W3), not sleep until its slice ends: no sleep at all here. */
START_TEST(test_a_close_just_after_the_lock_test_is_not_slept_through)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[16];
	size_t n = 0;

	open_pair(name, "closewake", &a, &b);
	after_lock_test = close_channel;
	hook_arg = b;
	sleeps = 0;
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, 5000), SHMF_EPEERCLOSED);
	ck_assert_ptr_null(after_lock_test);
	ck_assert_uint_eq(sleeps, 0u);
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

/* PROTO 9.2: an attach that waits for a segment that is not ready concludes that its creator died
 * when role A's lock is free. Here the creator publishes init_state and leaves (as `shmframe
 * create` does) after the attach's look found it not ready, just before its lock test. The file
 * is ready: the attach must take it, not report SHMF_EPEERGONE. */
static struct {
	unsigned char *seg;
	shmf_channel *creator;
} late;

static void ready_and_leave(void *stall_ms)
{
	tu_set32(late.seg, SHMF_H_INIT_STATE, SHMF_STATE_READY);
	ck_assert_int_eq(shmf_close(late.creator), 0);
	struct timespec ts = {0, (long)*(int *)stall_ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* An attach with `timeout_ms` that finds the file not ready, and, just before its lock test, a
 * creator that makes it ready and leaves, then a stall of `stall_ms`: the attach's result. */
static int attach_to_a_late_segment(const char *tag, int timeout_ms, int stall_ms)
{
	char name[96];
	shmf_channel *a, *b = NULL;
	size_t size;

	create_a(name, tag, &a);
	late.seg = tu_map(name, &size);
	late.creator = a;
	tu_set32(late.seg, SHMF_H_INIT_STATE, SHMF_STATE_INIT); /* outside the header's CRC */
	struct timespec age = {0, 150000000L};                  /* past SHMF_ORPHAN_NS */
	nanosleep(&age, NULL);
	before_lock_test = ready_and_leave;
	hook_arg = &stall_ms;
	int rc = shmf_attach(name, SHMF_SIDE_B, timeout_ms, &b);
	ck_assert_ptr_null(before_lock_test);
	if (rc == 0)
		ck_assert_int_eq(shmf_close(b), 0);
	tu_unmap(late.seg, size);
	ck_assert_int_eq(shmf_unlink(name), 0);
	return rc;
}

START_TEST(test_a_creator_that_finished_and_left_during_the_wait_is_not_gone)
{
	ck_assert_int_eq(attach_to_a_late_segment("lateready", 2000, 0), 0);
}
END_TEST

/* The same with the deadline passed by the time the file was found ready (a 1 ms timeout, a 20 ms
 * stall): the attach takes it all the same, as PROTO 9.2 says, rather than report it not ready. */
START_TEST(test_a_segment_found_ready_at_the_deadline_is_taken)
{
	ck_assert_int_eq(attach_to_a_late_segment("lateready-dl", 1, 20), 0);
}
END_TEST

/* The peer was attached and detached before we attached: state 2, "not there yet" (PROTO 7).
 * Between our look at its role line and W1 it attaches and closes again: state 2 as before, a
 * new epoch, and its wake found no flag. W3 must see the new epoch, not sleep until the slice
 * ends, and the call report SHMF_EPEERCLOSED. */
static struct {
	const char *name;
} again;

static void attach_and_close_a(void *unused)
{
	shmf_channel *a = NULL;

	(void)unused;
	ck_assert_int_eq(shmf_attach(again.name, SHMF_SIDE_A, 0, &a), 0);
	ck_assert_int_eq(shmf_close(a), 0);
}

START_TEST(test_a_peer_that_attaches_and_closes_before_w1_is_not_slept_through)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[16];
	size_t n = 0;

	create_a(name, "reattach", &a);
	ck_assert_int_eq(shmf_close(a), 0); /* detached before B came */
	ck_assert_int_eq(shmf_open(name, &b), 0);
	ck_assert_int_eq(shmf_set_spin(b, 0), 0);
	again.name = name;
	before_wait_flag = attach_and_close_a;
	sleeps = 0;
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 5000), SHMF_EPEERCLOSED);
	ck_assert_ptr_null(before_wait_flag);
	ck_assert_uint_eq(sleeps, 0u);
	ck_assert_int_eq(shmf_close(b), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

/* PROTO 7's bound with any spin: a peer that dies while we spin UINT_MAX polls (a minute or more)
 * with no time limit is reported gone all the same, a slice or so after its death. The peer is
 * played by hand (its lock, its state 1) and dies 50 ms into the spin. */
static void *die_later(void *fd)
{
	struct timespec ts = {0, 50000000L};

	nanosleep(&ts, NULL);
	close(*(int *)fd);
	return NULL;
}

START_TEST(test_a_peer_that_dies_during_a_long_spin_is_gone_within_a_slice_or_so)
{
	char name[96];
	shmf_channel *a;
	uint8_t buf[16];
	size_t n = 0, size;
	pthread_t t;

	create_a(name, "longspin", &a);
	unsigned char *seg = tu_map(name, &size);
	int fd = play_attached_b(name, seg);
	ck_assert_int_eq(shmf_set_spin(a, UINT_MAX), 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(pthread_create(&t, NULL, die_later, &fd), 0);
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, -1), SHMF_EPEERGONE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 10);
	tu_unmap(seg, size);
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

/* The control: with nothing run before the test, a live peer is alive. The call times out after
 * at least one lock test, which found the lock held. */
START_TEST(test_a_live_peer_is_alive_after_a_lock_test)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[16];
	size_t n = 0;

	open_pair(name, "alive", &a, &b);
	lock_tests = 0;
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, 250), SHMF_ETIMEDOUT);
	ck_assert_uint_ge(lock_tests, 1u);
	ck_assert_int_eq(shmf_close(b), 0);
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("liveness");
	TCase *tc = tcase_create("liveness");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, disarm, NULL);
	tcase_add_test(tc, test_a_close_during_the_lock_test_is_a_close_not_a_death);
	tcase_add_test(tc, test_a_close_during_a_senders_lock_test_is_a_close_not_a_death);
	tcase_add_test(tc, test_a_successor_that_has_not_stored_its_epoch_is_alive);
	tcase_add_test(tc, test_a_peer_that_dies_before_the_lock_test_is_gone);
	tcase_add_test(tc, test_a_close_just_after_the_lock_test_is_not_slept_through);
	tcase_add_test(tc, test_a_creator_that_finished_and_left_during_the_wait_is_not_gone);
	tcase_add_test(tc, test_a_segment_found_ready_at_the_deadline_is_taken);
	tcase_add_test(tc, test_a_peer_that_attaches_and_closes_before_w1_is_not_slept_through);
	tcase_add_test(tc, test_a_peer_that_dies_during_a_long_spin_is_gone_within_a_slice_or_so);
	tcase_add_test(tc, test_a_live_peer_is_alive_after_a_lock_test);
	suite_add_tcase(s, tc);
	return tu_main(s);
}
