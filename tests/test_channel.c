/* test_channel.c - the public API in one process: side A creates, side B opens; send/recv,
 * timeouts, blocking wake-ups across threads, simplex, argument checks, re-attach, peer close,
 * zero-copy and message size limits. */
#include "testutil.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#define SEED   0xC4A77E1u
#define CAP    4096u
#define MAXMSG 1000u

/* ---- helpers ------------------------------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0) {
	}
}

static void small_config(shmf_config *cfg, unsigned flags)
{
	shmf_config_init(cfg);
	cfg->capacity = CAP;
	cfg->max_message = MAXMSG;
	cfg->flags = flags;
}

/* Create `name` as side A and open it as side B. */
static void open_pair(char name[96], const char *tag, unsigned flags, shmf_channel **a,
                      shmf_channel **b)
{
	shmf_config cfg;

	small_config(&cfg, flags);
	tu_name(name, tag);
	ck_assert_int_eq(shmf_create(name, &cfg, a), 0);
	ck_assert_ptr_nonnull(*a);
	ck_assert_int_eq(shmf_open(name, b), 0);
	ck_assert_ptr_nonnull(*b);
	ck_assert_int_eq(shmf_side(*a), SHMF_SIDE_A);
	ck_assert_int_eq(shmf_side(*b), SHMF_SIDE_B);
}

static void close_pair(const char *name, shmf_channel *a, shmf_channel *b)
{
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_close(b), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}

/* Send message k: len bytes of tu_fill(SEED, k). */
static int send_k(shmf_channel *ch, size_t len, uint64_t k, int timeout_ms)
{
	uint8_t buf[MAXMSG + 8];

	ck_assert_uint_le(len, sizeof buf);
	tu_fill(buf, len, SEED, k);
	return shmf_send(ch, buf, len, timeout_ms);
}

/* Receive and check message k of len bytes. */
static void recv_k(shmf_channel *ch, size_t len, uint64_t k, int timeout_ms)
{
	uint8_t buf[MAXMSG + 8];
	size_t n = 0;

	ck_assert_int_eq(shmf_recv(ch, buf, sizeof buf, &n, timeout_ms), 0);
	ck_assert_uint_eq(n, len);
	ck_assert_msg(tu_check_fill(buf, n, SEED, k), "message %" PRIu64 " has the wrong bytes", k);
}

/* Send 100-byte messages first, first+1, ... with timeout 0 until the ring is full; returns how
 * many went in. */
static unsigned fill_ring(shmf_channel *ch, uint64_t first)
{
	unsigned n = 0;
	int rc;

	while ((rc = send_k(ch, 100, first + n, 0)) == 0)
		n++;
	ck_assert_int_eq(rc, SHMF_EAGAIN);
	ck_assert_uint_gt(n, 0);
	return n;
}

/* A helper thread: after delay_ms, send message k, receive one message, or close. */
enum { OP_SEND, OP_RECV, OP_CLOSE };
typedef struct helper {
	shmf_channel *ch;
	int delay_ms;
	int op;
	size_t len;
	uint64_t k;
	int rc;
	size_t got;
	uint8_t buf[MAXMSG];
} helper;

static void *helper_main(void *arg)
{
	helper *h = arg;

	sleep_ms(h->delay_ms);
	switch (h->op) {
	case OP_SEND: h->rc = send_k(h->ch, h->len, h->k, 0); break;
	case OP_RECV: h->rc = shmf_recv(h->ch, h->buf, sizeof h->buf, &h->got, 0); break;
	default: h->rc = shmf_close(h->ch); break;
	}
	return NULL;
}

/* ---- send and receive ---------------------------------------------------------------------- */

START_TEST(test_messages_flow_from_a_to_b_and_from_b_to_a)
{
	char name[96];
	shmf_channel *a, *b;

	open_pair(name, "both", 0, &a, &b);
	ck_assert_uint_eq(shmf_max_message(a), MAXMSG);
	ck_assert_uint_eq(shmf_max_message(b), MAXMSG);
	for (uint64_t k = 0; k < 2000; k++) {
		size_t len = (size_t)((k * 37u) % (MAXMSG + 1u));
		ck_assert_int_eq(send_k(a, len, k, 0), 0);
		ck_assert_int_eq(send_k(b, MAXMSG - len, k + 1000000u, 0), 0);
		recv_k(b, len, k, 0);
		recv_k(a, MAXMSG - len, k + 1000000u, 0);
	}
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_recv_with_timeout_0_on_an_empty_ring_is_eagain)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[16];
	const void *msg = NULL;
	size_t n = 0;

	open_pair(name, "eagain", 0, &a, &b);
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 0), SHMF_EAGAIN);
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, 0), SHMF_EAGAIN);
	ck_assert_int_eq(shmf_peek(b, &msg, &n, 0), SHMF_EAGAIN);
	ck_assert_int_eq(send_k(a, 5, 0, 0), 0);
	recv_k(b, 5, 0, 0);
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 0), SHMF_EAGAIN); /* empty again */
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_recv_with_timeout_100_on_an_empty_ring_times_out_after_about_100_ms)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[16];
	size_t n = 0;

	open_pair(name, "recvto", 0, &a, &b);
	int64_t t0 = mono_ms();
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 100), SHMF_ETIMEDOUT);
	int64_t dt = mono_ms() - t0;
	ck_assert_int_ge(dt, 90);
	ck_assert_int_lt(dt, 5000);
	close_pair(name, a, b);
}
END_TEST

/* A spin longer than the timeout (shmf_set_spin) ends at the deadline too. UINT_MAX polls take
 * a minute or more here (each an acquire load and a pause); the call must time out after its
 * 100 ms all the same. */
START_TEST(test_a_spin_longer_than_the_timeout_ends_at_the_deadline)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[16];
	size_t n = 0;

	open_pair(name, "longspin", 0, &a, &b);
	ck_assert_int_eq(shmf_set_spin(b, UINT_MAX), 0);
	int64_t t0 = mono_ms();
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 100), SHMF_ETIMEDOUT);
	int64_t dt = mono_ms() - t0;
	ck_assert_int_ge(dt, 90);
	ck_assert_int_lt(dt, 10000);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_send_on_a_full_ring_is_eagain_with_timeout_0_and_etimedout_with_timeout_100)
{
	char name[96];
	shmf_channel *a, *b;

	open_pair(name, "sendto", 0, &a, &b);
	unsigned n = fill_ring(a, 0);
	ck_assert_int_eq(send_k(a, 100, n, 0), SHMF_EAGAIN);
	int64_t t0 = mono_ms();
	ck_assert_int_eq(send_k(a, 100, n, 100), SHMF_ETIMEDOUT);
	int64_t dt = mono_ms() - t0;
	ck_assert_int_ge(dt, 90);
	ck_assert_int_lt(dt, 5000);
	/* nothing was lost or added: B finds exactly the n messages */
	for (uint64_t k = 0; k < n; k++)
		recv_k(b, 100, k, 0);
	uint8_t buf[16];
	size_t got = 0;
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &got, 0), SHMF_EAGAIN);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_blocking_recv_is_woken_by_the_peers_send_from_another_thread)
{
	char name[96];
	shmf_channel *a, *b;
	pthread_t t;
	helper h;

	open_pair(name, "wakerecv", 0, &a, &b);
	memset(&h, 0, sizeof h);
	h.ch = b;
	h.delay_ms = 50;
	h.op = OP_SEND;
	h.len = 77;
	h.k = 7;
	int64_t t0 = mono_ms();
	ck_assert_int_eq(pthread_create(&t, NULL, helper_main, &h), 0);
	recv_k(a, 77, 7, -1);
	int64_t dt = mono_ms() - t0;
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(h.rc, 0);
	ck_assert_int_ge(dt, 45);
	ck_assert_int_lt(dt, 5000);
	close_pair(name, a, b);
}
END_TEST

/* Start a helper that sends message k (40 bytes) on ch after 50 ms. */
static void send_late(pthread_t *t, helper *h, shmf_channel *ch, uint64_t k)
{
	memset(h, 0, sizeof *h);
	h->ch = ch;
	h->delay_ms = 50;
	h->op = OP_SEND;
	h->len = 40;
	h->k = k;
	ck_assert_int_eq(pthread_create(t, NULL, helper_main, h), 0);
}

static void join_late(pthread_t t, const helper *h, int64_t t0)
{
	int64_t dt = mono_ms() - t0;

	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(h->rc, 0);
	ck_assert_int_ge(dt, 45);
	ck_assert_int_lt(dt, 5000);
}

/* shmf_set_batch(): a receive that follows one that did not wait (a streak) holds only while the
 * writer keeps publishing; with the writer quiet it goes on to wait as usual, and the late
 * message arrives whole and in order. shmf_peek holds the same way. */
START_TEST(test_batched_receive_after_a_streak_still_waits_for_a_late_message)
{
	char name[96];
	shmf_channel *a, *b;
	pthread_t t;
	helper h;
	const void *m;
	size_t n;
	int64_t t0;

	open_pair(name, "batch", 0, &a, &b);
	ck_assert_int_eq(shmf_set_batch(a, CAP / 2), 0);
	ck_assert_int_eq(send_k(b, 40, 0, 0), 0);
	recv_k(a, 40, 0, -1); /* found at once: a streak */
	t0 = mono_ms();
	send_late(&t, &h, b, 1);
	recv_k(a, 40, 1, -1);
	join_late(t, &h, t0);

	ck_assert_int_eq(send_k(b, 40, 2, 0), 0);
	ck_assert_int_eq(shmf_peek(a, &m, &n, -1), 0);
	ck_assert_msg(n == 40 && tu_check_fill(m, n, SEED, 2), "peeked message 2");
	ck_assert_int_eq(shmf_release(a), 0);
	t0 = mono_ms();
	send_late(&t, &h, b, 3);
	ck_assert_int_eq(shmf_peek(a, &m, &n, 5000), 0);
	ck_assert_msg(n == 40 && tu_check_fill(m, n, SEED, 3), "peeked message 3");
	ck_assert_int_eq(shmf_release(a), 0);
	join_late(t, &h, t0);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_blocking_send_on_a_full_ring_is_woken_when_the_peer_receives)
{
	char name[96];
	shmf_channel *a, *b;
	pthread_t t;
	helper h;

	open_pair(name, "wakesend", 0, &a, &b);
	unsigned n = fill_ring(a, 0);
	memset(&h, 0, sizeof h);
	h.ch = b;
	h.delay_ms = 50;
	h.op = OP_RECV;
	int64_t t0 = mono_ms();
	ck_assert_int_eq(pthread_create(&t, NULL, helper_main, &h), 0);
	ck_assert_int_eq(send_k(a, 100, n, -1), 0);
	int64_t dt = mono_ms() - t0;
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(h.rc, 0);
	ck_assert_uint_eq(h.got, 100);
	ck_assert(tu_check_fill(h.buf, h.got, SEED, 0));
	ck_assert_int_ge(dt, 45);
	ck_assert_int_lt(dt, 5000);
	for (uint64_t k = 1; k <= n; k++)
		recv_k(b, 100, k, 0);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_blocking_recv_is_woken_by_the_peer_closing_from_another_thread)
{
	char name[96];
	shmf_channel *a, *b;
	pthread_t t;
	helper h;
	uint8_t buf[16];
	size_t n = 0;

	open_pair(name, "wakeclose", 0, &a, &b);
	memset(&h, 0, sizeof h);
	h.ch = b;
	h.delay_ms = 50;
	h.op = OP_CLOSE;
	int64_t t0 = mono_ms();
	ck_assert_int_eq(pthread_create(&t, NULL, helper_main, &h), 0);
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, -1), SHMF_EPEERCLOSED);
	int64_t dt = mono_ms() - t0;
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(h.rc, 0);
	ck_assert_int_ge(dt, 45);
	ck_assert_int_lt(dt, 5000);
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

/* Ping-pong with the main thread blocked in every round: a helper acts 5 ms after it sees the
 * main thread's progress, long after the main thread stopped spinning and went to sleep. Were the
 * futex wake missing, every round would last until the end of a 100 ms sleep slice. */
enum { ROUNDS = 10 };
typedef struct pinger {
	shmf_channel *ch;
	atomic_uint progress; /* rounds the main thread has completed */
	int recv;             /* the helper receives (else it sends) */
	int rc;
} pinger;

static void *pinger_main(void *arg)
{
	pinger *p = arg;
	uint8_t buf[MAXMSG];
	size_t n = 0;

	for (unsigned i = 0; i < ROUNDS && p->rc == 0; i++) {
		while (atomic_load(&p->progress) < i)
			sleep_ms(1);
		sleep_ms(5);
		if (p->recv) {
			p->rc = shmf_recv(p->ch, buf, sizeof buf, &n, 0);
			if (p->rc == 0 && (n != 100 || !tu_check_fill(buf, n, SEED, i)))
				p->rc = -1000;
		} else {
			p->rc = send_k(p->ch, 60, 500 + i, 0);
		}
	}
	return NULL;
}

START_TEST(test_blocking_recv_is_woken_promptly_not_at_the_end_of_a_sleep_slice)
{
	char name[96];
	shmf_channel *a, *b;
	pthread_t t;
	pinger p;

	open_pair(name, "promptrecv", 0, &a, &b);
	memset(&p, 0, sizeof p);
	p.ch = b;
	atomic_init(&p.progress, 0);
	int64_t t0 = mono_ms();
	ck_assert_int_eq(pthread_create(&t, NULL, pinger_main, &p), 0);
	for (unsigned i = 0; i < ROUNDS; i++) {
		recv_k(a, 60, 500 + i, 5000);
		atomic_store(&p.progress, i + 1);
	}
	int64_t dt = mono_ms() - t0;
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(p.rc, 0);
	ck_assert_msg(dt < 600, "%d rounds took %" PRId64 " ms", ROUNDS, dt);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_blocking_send_is_woken_promptly_not_at_the_end_of_a_sleep_slice)
{
	char name[96];
	shmf_channel *a, *b;
	pthread_t t;
	pinger p;

	open_pair(name, "promptsend", 0, &a, &b);
	unsigned n = fill_ring(a, 0); /* 100-byte messages: 128-byte frames fill 4096 exactly */
	ck_assert_uint_eq(n, CAP / 128);
	memset(&p, 0, sizeof p);
	p.ch = b;
	p.recv = 1;
	atomic_init(&p.progress, 0);
	int64_t t0 = mono_ms();
	ck_assert_int_eq(pthread_create(&t, NULL, pinger_main, &p), 0);
	for (unsigned i = 0; i < ROUNDS; i++) {
		ck_assert_int_eq(send_k(a, 100, n + i, 5000), 0); /* the ring is full: this waits */
		atomic_store(&p.progress, i + 1);
	}
	int64_t dt = mono_ms() - t0;
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(p.rc, 0);
	ck_assert_msg(dt < 600, "%d rounds took %" PRId64 " ms", ROUNDS, dt);
	for (uint64_t k = ROUNDS; k < n + ROUNDS; k++)
		recv_k(b, 100, k, 0);
	close_pair(name, a, b);
}
END_TEST

/* ---- simplex ------------------------------------------------------------------------------- */

START_TEST(test_simplex_refuses_b_send_and_a_recv_with_enotsup)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[16] = {0};
	void *p = NULL;
	const void *msg = NULL;
	size_t n = 0;

	open_pair(name, "simplex", SHMF_SIMPLEX, &a, &b);
	ck_assert_int_eq(shmf_send(b, buf, 4, 0), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_reserve(b, 4, &p, 0), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_commit(b, 0), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, 0), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, -1), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_peek(a, &msg, &n, 0), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_release(a), SHMF_ENOTSUP);
	uint64_t pos = 0;
	ck_assert_int_eq(shmf_positions(b, &pos, NULL), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_positions(a, NULL, &pos), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_positions(a, &pos, NULL), 0);
	/* the one direction there is works */
	ck_assert_int_eq(send_k(a, 12, 0, 0), 0);
	recv_k(b, 12, 0, 0);
	close_pair(name, a, b);
}
END_TEST

/* ---- arguments ----------------------------------------------------------------------------- */

START_TEST(test_null_or_invalid_arguments_are_einval_for_every_entry_point)
{
	char name[96], other[96];
	shmf_channel *a, *b, *c;
	shmf_config bad;
	uint8_t buf[16] = {0};
	void *p = NULL;
	const void *msg = NULL;
	size_t n = 0;

	open_pair(name, "args", 0, &a, &b);
	c = a; /* a non-NULL value that a failed call must clear */

	/* create, attach, open */
	tu_name(other, "args2");
	ck_assert_int_eq(shmf_create(other, NULL, NULL), SHMF_EINVAL);
	small_config(&bad, 0);
	bad.capacity = 1000; /* not a power of two */
	ck_assert_int_eq(shmf_create(other, &bad, &c), SHMF_EINVAL);
	ck_assert_ptr_null(c);
	small_config(&bad, 0);
	bad.max_message = CAP; /* align8(24 + max_message) > capacity */
	ck_assert_int_eq(shmf_create(other, &bad, &c), SHMF_EINVAL);
	ck_assert_int_eq(shm_unlink(other), -1); /* nothing was left behind */
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 0, NULL), SHMF_EINVAL);
	ck_assert_int_eq(shmf_attach(name, 2, 0, &c), SHMF_EINVAL);
	ck_assert_int_eq(shmf_attach(name, -1, 0, &c), SHMF_EINVAL);
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, -2, &c), SHMF_EINVAL);
	ck_assert_int_eq(shmf_open(name, NULL), SHMF_EINVAL);

	/* send */
	ck_assert_int_eq(shmf_send(NULL, buf, 4, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_send(a, NULL, 4, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_send(a, buf, 4, -2), SHMF_EINVAL);
	ck_assert_int_eq(shmf_send(a, buf, 4, -1000), SHMF_EINVAL);
	/* recv */
	ck_assert_int_eq(shmf_recv(NULL, buf, sizeof buf, &n, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, NULL, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_recv(b, NULL, sizeof buf, &n, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, -2), SHMF_EINVAL);
	/* reserve, commit */
	ck_assert_int_eq(shmf_reserve(NULL, 4, &p, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_reserve(a, 4, NULL, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_reserve(a, 4, &p, -2), SHMF_EINVAL);
	ck_assert_int_eq(shmf_commit(NULL, 0), SHMF_EINVAL);
	/* peek, release */
	ck_assert_int_eq(shmf_peek(NULL, &msg, &n, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_peek(b, NULL, &n, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_peek(b, &msg, NULL, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_peek(b, &msg, &n, -2), SHMF_EINVAL);
	ck_assert_int_eq(shmf_release(NULL), SHMF_EINVAL);
	/* facts */
	ck_assert_int_eq(shmf_side(NULL), SHMF_EINVAL);
	ck_assert_uint_eq(shmf_max_message(NULL), 0);
	shmf_config_init(NULL); /* no crash */
	ck_assert_ptr_nonnull(shmf_strerror(12345));
	ck_assert_ptr_nonnull(shmf_strerror(SHMF_EINVAL));

	/* none of that disturbed the channel; a NULL message of length 0 is fine */
	ck_assert_int_eq(shmf_send(a, NULL, 0, 0), 0);
	ck_assert_int_eq(shmf_recv(b, NULL, 0, &n, 0), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(send_k(a, 16, 1, 0), 0);
	recv_k(b, 16, 1, 0);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_etoosmall_leaves_the_message_and_reports_its_size)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[MAXMSG];
	size_t n = 0;

	open_pair(name, "toosmall", 0, &a, &b);
	ck_assert_int_eq(send_k(a, 100, 0, 0), 0);
	ck_assert_int_eq(send_k(a, 3, 1, 0), 0);
	ck_assert_int_eq(shmf_recv(b, buf, 99, &n, 0), SHMF_ETOOSMALL);
	ck_assert_uint_eq(n, 100);
	n = 0;
	ck_assert_int_eq(shmf_recv(b, NULL, 0, &n, 1000), SHMF_ETOOSMALL);
	ck_assert_uint_eq(n, 100);
	ck_assert_int_eq(shmf_recv(b, buf, 100, &n, 0), 0); /* not sticky; exactly enough room */
	ck_assert_uint_eq(n, 100);
	ck_assert(tu_check_fill(buf, n, SEED, 0));
	recv_k(b, 3, 1, 0);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_close_of_null_is_a_no_op_returning_0)
{
	ck_assert_int_eq(shmf_close(NULL), 0);
}
END_TEST

/* ---- lifetime ------------------------------------------------------------------------------ */

START_TEST(test_side_b_that_closes_and_reattaches_continues_the_stream)
{
	char name[96];
	shmf_channel *a, *b;

	open_pair(name, "reattach", 0, &a, &b);
	ck_assert_int_eq(send_k(a, 10, 0, 0), 0);
	ck_assert_int_eq(send_k(a, 20, 1, 0), 0);
	ck_assert_int_eq(send_k(b, 30, 100, 0), 0);
	recv_k(b, 10, 0, 0);
	ck_assert_int_eq(shmf_close(b), 0);
	/* sent while B is away */
	ck_assert_int_eq(send_k(a, 30, 2, 0), 0);
	ck_assert_int_eq(send_k(a, 0, 3, 0), 0);
	ck_assert_int_eq(shmf_open(name, &b), 0);
	ck_assert_int_eq(shmf_side(b), SHMF_SIDE_B);
	recv_k(b, 20, 1, 0);
	recv_k(b, 30, 2, 0);
	recv_k(b, 0, 3, 0);
	uint8_t buf[16];
	size_t n = 0;
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 0), SHMF_EAGAIN);
	/* and B's own stream to A carries on across its re-attach */
	ck_assert_int_eq(send_k(b, 40, 101, 0), 0);
	recv_k(a, 30, 100, 0);
	recv_k(a, 40, 101, 0);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_positions_count_frame_bytes_and_carry_over_a_reattach)
{
	char name[96];
	shmf_channel *a, *b;
	uint64_t tx = 1, rx = 1;

	open_pair(name, "positions", 0, &a, &b);
	ck_assert_int_eq(shmf_positions(a, &tx, &rx), 0);
	ck_assert_uint_eq(tx, 0);
	ck_assert_uint_eq(rx, 0);
	ck_assert_uint_eq(shmf_frame_bytes(0), 24);
	ck_assert_uint_eq(shmf_frame_bytes(1), 32);
	ck_assert_uint_eq(shmf_frame_bytes(8), 32);
	ck_assert_uint_eq(shmf_frame_bytes(9), 40);
	ck_assert_int_eq(send_k(a, 10, 0, 0), 0);
	ck_assert_int_eq(send_k(a, 0, 1, 0), 0);
	ck_assert_int_eq(shmf_positions(a, &tx, NULL), 0);
	ck_assert_uint_eq(tx, shmf_frame_bytes(10) + shmf_frame_bytes(0));
	recv_k(b, 10, 0, 0);
	ck_assert_int_eq(shmf_positions(b, NULL, &rx), 0);
	ck_assert_uint_eq(rx, shmf_frame_bytes(10));
	/* a new B starts where the old one stopped consuming */
	ck_assert_int_eq(shmf_close(b), 0);
	ck_assert_int_eq(shmf_open(name, &b), 0);
	rx = 0;
	ck_assert_int_eq(shmf_positions(b, NULL, &rx), 0);
	ck_assert_uint_eq(rx, shmf_frame_bytes(10));
	recv_k(b, 0, 1, 0);
	ck_assert_int_eq(shmf_positions(b, &tx, &rx), 0);
	ck_assert_uint_eq(rx, tx + shmf_frame_bytes(10) + shmf_frame_bytes(0));
	ck_assert_int_eq(shmf_positions(NULL, &tx, &rx), SHMF_EINVAL);
	ck_assert_int_eq(shmf_positions(b, NULL, NULL), SHMF_EINVAL);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_after_the_peer_closes_the_reader_drains_the_ring_then_gets_epeerclosed)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[16];
	size_t n = 0;

	open_pair(name, "peerclosed", 0, &a, &b);
	for (uint64_t k = 0; k < 5; k++)
		ck_assert_int_eq(send_k(a, 50 + k, k, 0), 0);
	ck_assert_int_eq(shmf_close(a), 0);
	for (uint64_t k = 0; k < 5; k++)
		recv_k(b, 50 + k, k, 2000); /* data left behind comes first */
	int64_t t0 = mono_ms();
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 2000), SHMF_EPEERCLOSED);
	int64_t dt = mono_ms() - t0;
	ck_assert_int_lt(dt, 1000);
	ck_assert_int_eq(shmf_close(b), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

START_TEST(test_a_peer_that_never_attached_gives_etimedout_not_epeerclosed)
{
	char name[96];
	shmf_channel *a;
	shmf_config cfg;
	uint8_t buf[16];
	size_t n = 0;

	small_config(&cfg, 0);
	tu_name(name, "nopeer");
	ck_assert_int_eq(shmf_create(name, &cfg, &a), 0);
	int64_t t0 = mono_ms();
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, 100), SHMF_ETIMEDOUT);
	ck_assert_int_ge(mono_ms() - t0, 90);
	unsigned k = fill_ring(a, 0);
	t0 = mono_ms();
	ck_assert_int_eq(send_k(a, 100, k, 100), SHMF_ETIMEDOUT);
	ck_assert_int_ge(mono_ms() - t0, 90);
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

START_TEST(test_a_peer_that_attached_and_left_before_we_waited_counts_as_closed)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t buf[16];
	size_t n = 0;

	open_pair(name, "leftearly", 0, &a, &b);
	ck_assert_int_eq(shmf_close(b), 0);
	int64_t t0 = mono_ms();
	ck_assert_int_eq(shmf_recv(a, buf, sizeof buf, &n, 2000), SHMF_EPEERCLOSED);
	ck_assert_int_lt(mono_ms() - t0, 1000);
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}
END_TEST

/* ---- zero-copy and sizes ------------------------------------------------------------------- */

START_TEST(test_zero_copy_reserve_commit_peek_release_round_trip)
{
	char name[96];
	shmf_channel *a, *b;
	void *p = NULL;
	const void *msg = NULL;
	size_t n = 0;
	uint8_t buf[16];

	open_pair(name, "zerocopy", 0, &a, &b);
	ck_assert_int_eq(shmf_commit(a, 0), SHMF_ESTATE);
	ck_assert_int_eq(shmf_release(b), SHMF_ESTATE);
	ck_assert_int_eq(shmf_reserve(a, 200, &p, 0), 0);
	ck_assert_ptr_nonnull(p);
	tu_fill(p, 150, SEED, 42);
	ck_assert_int_eq(shmf_peek(b, &msg, &n, 0), SHMF_EAGAIN); /* not visible before commit */
	ck_assert_int_eq(shmf_commit(a, 150), 0);
	ck_assert_int_eq(shmf_peek(b, &msg, &n, 1000), 0);
	ck_assert_uint_eq(n, 150);
	ck_assert(tu_check_fill(msg, n, SEED, 42));
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 0), SHMF_ESTATE); /* peek outstanding */
	ck_assert_int_eq(shmf_release(b), 0);
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 0), SHMF_EAGAIN);
	/* the same the other way round, mixed with copying calls */
	ck_assert_int_eq(shmf_reserve(b, MAXMSG, &p, 0), 0);
	tu_fill(p, MAXMSG, SEED, 43);
	ck_assert_int_eq(shmf_commit(b, MAXMSG), 0);
	recv_k(a, MAXMSG, 43, 0);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_a_message_of_max_message_passes_and_one_byte_more_is_emsgsize)
{
	char name[96];
	shmf_channel *a, *b;
	uint8_t big[MAXMSG + 1] = {0};
	void *p = NULL;
	size_t n = 0;

	open_pair(name, "maxmsg", 0, &a, &b);
	ck_assert_int_eq(send_k(a, MAXMSG, 0, 0), 0);
	ck_assert_int_eq(shmf_send(a, big, MAXMSG + 1, 0), SHMF_EMSGSIZE);
	ck_assert_int_eq(shmf_send(a, big, MAXMSG + 1, 100), SHMF_EMSGSIZE);
	ck_assert_int_eq(shmf_reserve(a, MAXMSG + 1, &p, 0), SHMF_EMSGSIZE);
	recv_k(b, MAXMSG, 0, 0);
	ck_assert_int_eq(shmf_recv(b, big, sizeof big, &n, 0), SHMF_EAGAIN); /* nothing else came */
	ck_assert_int_eq(send_k(a, 1, 1, 0), 0); /* EMSGSIZE is not sticky */
	recv_k(b, 1, 1, 0);
	close_pair(name, a, b);
}
END_TEST

/* ---- suite --------------------------------------------------------------------------------- */

/* Zero-copy calls wait like their copying twins: reserve for room, peek for data. */
START_TEST(test_reserve_waits_for_room_and_times_out)
{
	char name[96];
	shmf_channel *a, *b;
	void *p = NULL;
	pthread_t t;

	open_pair(name, "resw", 0, &a, &b);
	unsigned n = fill_ring(a, 0);
	int64_t t0 = mono_ms();
	ck_assert_int_eq(shmf_reserve(a, 100, &p, 60), SHMF_ETIMEDOUT);
	ck_assert_int_ge(mono_ms() - t0, 50);
	helper h = {.ch = b, .delay_ms = 30, .op = OP_RECV};
	ck_assert_int_eq(pthread_create(&t, NULL, helper_main, &h), 0);
	ck_assert_int_eq(shmf_reserve(a, 100, &p, 5000), 0); /* woken by the receive */
	pthread_join(t, NULL);
	ck_assert_int_eq(h.rc, 0);
	tu_fill(p, 100, SEED, n);
	ck_assert_int_eq(shmf_commit(a, 100), 0);
	for (unsigned k = 1; k <= n; k++)
		recv_k(b, 100, k, 0);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_peek_waits_for_data)
{
	char name[96];
	shmf_channel *a, *b;
	const void *m = NULL;
	size_t n = 0;
	pthread_t t;

	open_pair(name, "peekw", 0, &a, &b);
	ck_assert_int_eq(shmf_peek(b, &m, &n, 0), SHMF_EAGAIN);
	ck_assert_int_eq(shmf_peek(b, &m, &n, 30), SHMF_ETIMEDOUT);
	helper h = {.ch = a, .delay_ms = 30, .op = OP_SEND, .len = 40, .k = 9};
	ck_assert_int_eq(pthread_create(&t, NULL, helper_main, &h), 0);
	ck_assert_int_eq(shmf_peek(b, &m, &n, 5000), 0);
	pthread_join(t, NULL);
	ck_assert_uint_eq(n, 40);
	ck_assert(tu_check_fill(m, n, SEED, 9));
	ck_assert_int_eq(shmf_release(b), 0);
	close_pair(name, a, b);
}
END_TEST

START_TEST(test_zero_copy_calls_respect_simplex_and_null)
{
	char name[96];
	shmf_channel *a, *b;
	const void *m;
	void *p;
	size_t n;

	open_pair(name, "zcsimplex", SHMF_SIMPLEX, &a, &b);
	ck_assert_int_eq(shmf_reserve(b, 1, &p, 0), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_commit(b, 1), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_peek(a, &m, &n, 0), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_release(a), SHMF_ENOTSUP);
	ck_assert_int_eq(shmf_reserve(NULL, 1, &p, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_reserve(a, 1, NULL, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_reserve(a, 1, &p, -2), SHMF_EINVAL);
	ck_assert_int_eq(shmf_commit(NULL, 1), SHMF_EINVAL);
	ck_assert_int_eq(shmf_peek(NULL, &m, &n, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_peek(b, NULL, &n, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_peek(b, &m, NULL, 0), SHMF_EINVAL);
	ck_assert_int_eq(shmf_peek(b, &m, &n, -2), SHMF_EINVAL);
	ck_assert_int_eq(shmf_release(NULL), SHMF_EINVAL);
	ck_assert_int_eq(shmf_set_spin(NULL, 1), SHMF_EINVAL);
	ck_assert_int_eq(shmf_set_spin(a, 0), 0);
	ck_assert_int_eq(shmf_set_batch(NULL, 8), SHMF_EINVAL);
	ck_assert_int_eq(shmf_set_batch(a, 8), SHMF_ENOTSUP); /* simplex side A only sends */
	ck_assert_int_eq(shmf_set_batch(b, CAP / 2 + 1), SHMF_EINVAL);
	ck_assert_int_eq(shmf_set_batch(b, CAP / 2), 0);
	ck_assert_int_eq(shmf_set_batch(b, 0), 0);
	ck_assert_int_eq(shmf_side(NULL), SHMF_EINVAL);
	ck_assert_uint_eq(shmf_max_message(NULL), 0);
	ck_assert_uint_eq(shmf_max_message(a), MAXMSG);
	ck_assert_str_eq(shmf_version(), SHMF_VERSION_STRING);
	close_pair(name, a, b);
}
END_TEST

/* The in-process seam for two threads on one mapping refuses bad arguments and a busy role. */
START_TEST(test_attach_same_map_checks_its_arguments)
{
	char name[96];
	shmf_config cfg;
	shmf_channel *a, *b = NULL;

	small_config(&cfg, 0);
	tu_name(name, "samemap");
	ck_assert_int_eq(shmf_create(name, &cfg, &a), 0);
	ck_assert_int_eq(shmf_attach_same_map(NULL, name, SHMF_SIDE_B, &b), SHMF_EINVAL);
	ck_assert_int_eq(shmf_attach_same_map(a, NULL, SHMF_SIDE_B, &b), SHMF_EINVAL);
	ck_assert_int_eq(shmf_attach_same_map(a, name, 5, &b), SHMF_EINVAL);
	ck_assert_int_eq(shmf_attach_same_map(a, "bad", SHMF_SIDE_B, &b), SHMF_ENAME);
	ck_assert_int_eq(shmf_attach_same_map(a, name, SHMF_SIDE_A, &b), SHMF_EROLEBUSY);
	ck_assert_int_eq(shmf_attach_same_map(a, name, SHMF_SIDE_B, &b), 0);
	ck_assert_int_eq(shmf_send(a, "hi", 2, 0), 0);
	char buf[4];
	size_t n;
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 0), 0);
	ck_assert_mem_eq(buf, "hi", 2);
	shmf_close(b);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

/* A role line holding a state the protocol does not know is a named error while waiting. */
START_TEST(test_corrupt_peer_role_state_is_erole_while_waiting)
{
	char name[96];
	shmf_channel *a, *b;
	size_t sz, n;
	char c;

	open_pair(name, "rolestate", 0, &a, &b);
	unsigned char *seg = tu_map(name, &sz);
	tu_set32(seg, SHMF_ROLE_LINE(SHMF_SIDE_B) + SHMF_R_STATE, 9);
	ck_assert_int_eq(shmf_recv(a, &c, 1, &n, 50), SHMF_EROLE);
	tu_set32(seg, SHMF_ROLE_LINE(SHMF_SIDE_B) + SHMF_R_STATE, SHMF_ROLE_ATTACHED);
	ck_assert_int_eq(shmf_recv(a, &c, 1, &n, 20), SHMF_ETIMEDOUT);
	tu_unmap(seg, sz);
	close_pair(name, a, b);
}
END_TEST

static Suite *channel_suite(void)
{
	Suite *s = suite_create("channel");
	TCase *tc;

	tc = tcase_create("api");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_messages_flow_from_a_to_b_and_from_b_to_a);
	tcase_add_test(tc, test_recv_with_timeout_0_on_an_empty_ring_is_eagain);
	tcase_add_test(tc, test_simplex_refuses_b_send_and_a_recv_with_enotsup);
	tcase_add_test(tc, test_null_or_invalid_arguments_are_einval_for_every_entry_point);
	tcase_add_test(tc, test_etoosmall_leaves_the_message_and_reports_its_size);
	tcase_add_test(tc, test_close_of_null_is_a_no_op_returning_0);
	tcase_add_test(tc, test_zero_copy_reserve_commit_peek_release_round_trip);
	tcase_add_test(tc, test_a_message_of_max_message_passes_and_one_byte_more_is_emsgsize);
	suite_add_tcase(s, tc);

	tc = tcase_create("timing");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc,
	               test_recv_with_timeout_100_on_an_empty_ring_times_out_after_about_100_ms);
	tcase_add_test(tc, test_a_spin_longer_than_the_timeout_ends_at_the_deadline);
	tcase_add_test(
	        tc,
	        test_send_on_a_full_ring_is_eagain_with_timeout_0_and_etimedout_with_timeout_100);
	tcase_add_test(tc, test_blocking_recv_is_woken_by_the_peers_send_from_another_thread);
	tcase_add_test(tc, test_batched_receive_after_a_streak_still_waits_for_a_late_message);
	tcase_add_test(tc, test_blocking_send_on_a_full_ring_is_woken_when_the_peer_receives);
	tcase_add_test(tc, test_blocking_recv_is_woken_by_the_peer_closing_from_another_thread);
	tcase_add_test(tc, test_blocking_recv_is_woken_promptly_not_at_the_end_of_a_sleep_slice);
	tcase_add_test(tc, test_blocking_send_is_woken_promptly_not_at_the_end_of_a_sleep_slice);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_side_b_that_closes_and_reattaches_continues_the_stream);
	tcase_add_test(tc, test_positions_count_frame_bytes_and_carry_over_a_reattach);
	tcase_add_test(tc,
	               test_after_the_peer_closes_the_reader_drains_the_ring_then_gets_epeerclosed);
	tcase_add_test(tc, test_a_peer_that_never_attached_gives_etimedout_not_epeerclosed);
	tcase_add_test(tc, test_a_peer_that_attached_and_left_before_we_waited_counts_as_closed);
	suite_add_tcase(s, tc);

	tc = tcase_create("more");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reserve_waits_for_room_and_times_out);
	tcase_add_test(tc, test_peek_waits_for_data);
	tcase_add_test(tc, test_zero_copy_calls_respect_simplex_and_null);
	tcase_add_test(tc, test_attach_same_map_checks_its_arguments);
	tcase_add_test(tc, test_corrupt_peer_role_state_is_erole_while_waiting);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_main(channel_suite());
}
