/* test_threads.c - one writer thread and one reader thread per direction on one shared mapping,
 * 10^6 messages of mixed sizes each way through small rings, spinning and sleeping; the race
 * test that ThreadSanitizer checks (ci/check.sh tsan). SHMF_THREAD_MESSAGES sets the count. */
#include "testutil.h"

#include <pthread.h>

#define MAXMSG 512u

typedef struct job {
	shmf_channel *ch;
	uint64_t seed, count;
	int rc;
	uint64_t at;
} job;

static size_t size_of(uint64_t seed, uint64_t k)
{
	uint64_t s = seed ^ (k * 0x9E3779B97F4A7C15ull) ^ 0x5555;
	uint64_t r = tu_rand(&s);
	return (r & 15) == 0 ? MAXMSG : (size_t)(r % 64); /* mostly tiny, sometimes the maximum */
}

static void *send_all(void *p)
{
	job *j = p;
	uint8_t buf[MAXMSG];

	for (uint64_t k = 0; k < j->count; k++) {
		size_t n = size_of(j->seed, k);
		tu_fill(buf, n, j->seed, k);
		if ((j->rc = shmf_send(j->ch, buf, n, 30000)) != 0) {
			j->at = k;
			break;
		}
	}
	return NULL;
}

static void *recv_all(void *p)
{
	job *j = p;
	uint8_t buf[MAXMSG];

	for (uint64_t k = 0; k < j->count; k++) {
		size_t n;
		if ((j->rc = shmf_recv(j->ch, buf, sizeof buf, &n, 30000)) != 0 ||
		    (n != size_of(j->seed, k) && (j->rc = 1)) ||
		    (!tu_check_fill(buf, n, j->seed, k) && (j->rc = 1))) {
			j->at = k;
			break;
		}
	}
	return NULL;
}

static void run(unsigned spin_a, unsigned spin_b, size_t batch)
{
	char name[96];
	const char *env = getenv("SHMF_THREAD_MESSAGES");
	uint64_t count = env ? strtoull(env, NULL, 0) : 1000000u;
	uint64_t seed = tu_seed("threads");
	shmf_config cfg;
	shmf_channel *a, *b;
	pthread_t t[4];

	tu_name(name, "threads");
	shmf_config_init(&cfg);
	cfg.capacity = 4096;
	cfg.max_message = MAXMSG;
	ck_assert_int_eq(shmf_create(name, &cfg, &a), 0);
	ck_assert_int_eq(shmf_attach_same_map(a, name, SHMF_SIDE_B, &b), 0);
	shmf_set_spin(a, spin_a);
	shmf_set_spin(b, spin_b);
	ck_assert_int_eq(shmf_set_batch(a, batch), 0);
	ck_assert_int_eq(shmf_set_batch(b, batch), 0);
	job ab_tx = {a, seed, count, 0, 0}, ab_rx = {b, seed, count, 0, 0};
	job ba_tx = {b, seed + 1, count, 0, 0}, ba_rx = {a, seed + 1, count, 0, 0};
	ck_assert_int_eq(pthread_create(&t[0], NULL, send_all, &ab_tx), 0);
	ck_assert_int_eq(pthread_create(&t[1], NULL, recv_all, &ab_rx), 0);
	ck_assert_int_eq(pthread_create(&t[2], NULL, send_all, &ba_tx), 0);
	ck_assert_int_eq(pthread_create(&t[3], NULL, recv_all, &ba_rx), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	shmf_close(b);
	shmf_close(a);
	shmf_unlink(name);
	ck_assert_msg(ab_tx.rc == 0 && ba_tx.rc == 0, "send: %s / %s", shmf_strerror(ab_tx.rc),
	              shmf_strerror(ba_tx.rc));
	ck_assert_msg(ab_rx.rc == 0, "A->B message %llu: %s", (unsigned long long)ab_rx.at,
	              ab_rx.rc == 1 ? "wrong content" : shmf_strerror(ab_rx.rc));
	ck_assert_msg(ba_rx.rc == 0, "B->A message %llu: %s", (unsigned long long)ba_rx.at,
	              ba_rx.rc == 1 ? "wrong content" : shmf_strerror(ba_rx.rc));
}

START_TEST(test_two_threads_each_way_spinning)
{
	run(2000, 2000, 0);
}
END_TEST

/* No spinning: every wait goes through the futex sleep/wake protocol. */
START_TEST(test_two_threads_each_way_sleeping)
{
	run(0, 0, 0);
}
END_TEST

/* shmf_set_batch() on both readers: receives after a streak hold for 1 KiB (of the 4 KiB ring)
 * while the writer streams; nothing is lost, repeated or reordered. */
START_TEST(test_two_threads_each_way_batched)
{
	run(2000, 2000, 1024);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("threads");
	TCase *tc = tcase_create("threads");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_two_threads_each_way_spinning);
	tcase_add_test(tc, test_two_threads_each_way_sleeping);
	tcase_add_test(tc, test_two_threads_each_way_batched);
	suite_add_tcase(s, tc);
	return tu_main(s);
}
