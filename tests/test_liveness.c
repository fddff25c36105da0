/* test_liveness.c - a free lock is a death only if the peer is still the one that was read
 * (PROTO 7, "The peer's liveness").
 *
 * A waiting call reads its peer's epoch and state, and where the state is 1 (attached) tests the
 * peer's role lock. A peer that closes stores state 2 and then closes its descriptor, which drops
 * the lock. If that whole close falls between the waiter's reads and its lock test, the waiter
 * holds state 1 in its hand and finds the lock free: without a second look it would report a
 * clean close as a death (SHMF_EPEERGONE). The stress tool's checks could meet this (a side that
 * closes at the end of a run while the other waits), but only by the rarest timing.
 *
 * Here the timing is made, not waited for: the linker's --wrap (tests/CMakeLists.txt) sends the
 * library's calls of shmf_os_lock_free() through __wrap_shmf_os_lock_free() below, which, when
 * armed, runs an action (the peer's close) just before the real lock test. No clock is involved.
 */
#include "testutil.h"

#define CAP 4096u

/* ---- the hook on shmf_os_lock_free() ------------------------------------------------------- */

static void (*before_lock_test)(void *); /* run once, then disarmed */
static void *before_arg;
static unsigned lock_tests; /* lock tests made, armed or not */

int __real_shmf_os_lock_free(int fd, uint64_t offset);
int __wrap_shmf_os_lock_free(int fd, uint64_t offset);
int __wrap_shmf_os_lock_free(int fd, uint64_t offset)
{
	void (*fn)(void *) = before_lock_test;

	lock_tests++;
	if (fn != NULL) {
		before_lock_test = NULL;
		fn(before_arg);
	}
	return __real_shmf_os_lock_free(fd, offset);
}

static void close_channel(void *ch)
{
	ck_assert_int_eq(shmf_close(ch), 0);
}

static void open_pair(char name[96], const char *tag, shmf_channel **a, shmf_channel **b)
{
	shmf_config cfg;

	shmf_config_init(&cfg);
	cfg.capacity = CAP;
	cfg.max_message = 256;
	cfg.spin = 0;
	tu_name(name, tag);
	ck_assert_int_eq(shmf_create(name, &cfg, a), 0);
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
	before_arg = b;
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
	before_arg = b;
	ck_assert_int_eq(shmf_send(a, msg, sizeof msg, 5000), SHMF_EPEERCLOSED);
	ck_assert_ptr_null(before_lock_test);
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
	tcase_add_test(tc, test_a_close_during_the_lock_test_is_a_close_not_a_death);
	tcase_add_test(tc, test_a_close_during_a_senders_lock_test_is_a_close_not_a_death);
	tcase_add_test(tc, test_a_live_peer_is_alive_after_a_lock_test);
	suite_add_tcase(s, tc);
	return tu_main(s);
}
