/* test_multiproc.c - two processes, duplex: 100,000 messages of random sizes each way, every
 * byte checked against a function of (seed, direction, sequence number). */
#include "testutil.h"

#include <pthread.h>
#include <sys/wait.h>

#define MESSAGES   100000u
#define MAXMSG     2048u
#define TIMEOUT_MS 20000

typedef struct dir_args {
	shmf_channel *ch;
	uint64_t seed;
	unsigned dir; /* 0: A -> B, 1: B -> A */
	int rc;       /* 0, or the failing call's error code, or 1 for bad content */
	uint64_t at;  /* message number of the failure */
} dir_args;

static size_t msg_size(uint64_t seed, unsigned dir, uint64_t k)
{
	uint64_t s = seed ^ ((uint64_t)dir << 62) ^ (k * 0x9E3779B97F4A7C15ull);
	/* Mostly small, sometimes zero, sometimes the maximum. */
	uint64_t r = tu_rand(&s);
	if (r % 97 == 0)
		return 0;
	if (r % 89 == 0)
		return MAXMSG;
	return (size_t)(tu_rand(&s) % (r % 3 == 0 ? MAXMSG : 200u));
}

static void *sender(void *p)
{
	dir_args *a = p;
	static _Thread_local uint8_t buf[MAXMSG];

	for (uint64_t k = 0; k < MESSAGES; k++) {
		size_t n = msg_size(a->seed, a->dir, k);
		tu_fill(buf, n, a->seed + a->dir, k);
		int rc = shmf_send(a->ch, buf, n, TIMEOUT_MS);
		if (rc != 0) {
			a->rc = rc;
			a->at = k;
			return NULL;
		}
	}
	return NULL;
}

static void *receiver(void *p)
{
	dir_args *a = p;
	static _Thread_local uint8_t buf[MAXMSG];

	for (uint64_t k = 0; k < MESSAGES; k++) {
		size_t n = 0;
		int rc = shmf_recv(a->ch, buf, sizeof buf, &n, TIMEOUT_MS);
		if (rc != 0) {
			a->rc = rc;
			a->at = k;
			return NULL;
		}
		if (n != msg_size(a->seed, a->dir, k) ||
		    !tu_check_fill(buf, n, a->seed + a->dir, k)) {
			a->rc = 1;
			a->at = k;
			return NULL;
		}
	}
	return NULL;
}

/* Run one side: send `out` and receive `in` at the same time, from two threads. */
static int run_side(shmf_channel *ch, uint64_t seed, unsigned out, unsigned in)
{
	dir_args s = {ch, seed, out, 0, 0}, r = {ch, seed, in, 0, 0};
	pthread_t ts, tr;

	if (pthread_create(&ts, NULL, sender, &s) != 0 ||
	    pthread_create(&tr, NULL, receiver, &r) != 0)
		return 2;
	pthread_join(ts, NULL);
	pthread_join(tr, NULL);
	if (s.rc != 0)
		fprintf(stderr, "side %u: send #%llu: %s\n", out, (unsigned long long)s.at,
		        shmf_strerror(s.rc));
	if (r.rc != 0)
		fprintf(stderr, "side %u: recv #%llu: %s\n", out, (unsigned long long)r.at,
		        r.rc == 1 ? "wrong size or content" : shmf_strerror(r.rc));
	return s.rc != 0 || r.rc != 0;
}

static void duplex(size_t capacity)
{
	char name[96];
	uint64_t seed = tu_seed("duplex");
	shmf_config cfg;
	shmf_channel *a;
	pid_t pid;
	int status;

	tu_name(name, "duplex");
	shmf_config_init(&cfg);
	cfg.capacity = capacity;
	cfg.max_message = MAXMSG;
	ck_assert_int_eq(shmf_create(name, &cfg, &a), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Side B in its own process: attach by name, never through the parent's handle. */
		shmf_channel *b;
		int rc = shmf_attach(name, SHMF_SIDE_B, 5000, &b);
		if (rc != 0) {
			fprintf(stderr, "attach: %s\n", shmf_strerror(rc));
			tu_exit(3);
		}
		rc = run_side(b, seed, 1, 0);
		shmf_close(b);
		tu_exit(rc);
	}
	int rc = run_side(a, seed, 0, 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	shmf_close(a);
	shmf_unlink(name);
	ck_assert_msg(rc == 0, "side A failed (seed %llu)", (unsigned long long)seed);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "side B failed (seed %llu)",
	              (unsigned long long)seed);
}

/* A ring that holds many messages: mostly the non-blocking fast path. */
START_TEST(test_duplex_100k_random_sizes_large_ring)
{
	duplex(1u << 20);
}
END_TEST

/* A ring that holds two maximum messages: constant wrapping, full rings, sleeping and waking. */
START_TEST(test_duplex_100k_random_sizes_small_ring)
{
	duplex(8192);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("multiproc");
	TCase *tc = tcase_create("duplex");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_duplex_100k_random_sizes_large_ring);
	tcase_add_test(tc, test_duplex_100k_random_sizes_small_ring);
	suite_add_tcase(s, tc);
	return tu_main(s);
}
