/* test_wake.c - no futex wake is ever lost (PROTO 8). A lost wake does not hang a channel: the
 * sleeper's 100 ms liveness slice ends the sleep, and it finds the message then. So a lost wake
 * is only latency, and a clock cannot tell it from a slow machine without a margin that either
 * misses it or fails honest runs under valgrind and TSan. These tests use no clock: they watch
 * each sleep itself.
 *
 * The linker's --wrap (tests/CMakeLists.txt, as test_os does for system calls) sends the
 * library's calls of shmf_os_futex_wait() through __wrap_shmf_os_futex_wait() below. After each
 * sleep it reads, in this order, how many calls the peer has finished (its own seq_cst counter,
 * bumped after the send or receive returned) and then the wait word:
 *   - word 0: a waker cleared it (shmf_ring_wake() stores 0 before FUTEX_WAKE), so this sleep
 *     was woken. Nothing else clears the word while the sleeper is inside the wait.
 *   - word still 1, and the peer had already finished the call this thread waits for: a LOST
 *     WAKE. It cannot happen in a correct library: the sleeper's W3 did not see that call's
 *     position store, or it would not have slept; so, by the two seq_cst fences (W2 and the one in
 *     shmf_ring_wake()), the peer's wake loaded our 1 and stored 0; the peer's counter was bumped
 *     after that (release), and we read the counter first (acquire), so we read the 0. No timing
 *     is involved: a slow or loaded machine, valgrind or TSan cannot make it fail.
 *   - word still 1, and the peer had not finished yet: the slice (or the call's timeout) ended
 *     the sleep first. Legitimate; counted, not failed.
 * With the wake removed (ci/teeth.sh no-wake), every sleep that the peer's message should have
 * ended is a lost wake, the first one at most a slice later, and the test stops there.
 *
 * Each wait really sleeps: the spin count is 0, and before each publish the peer waits until the
 * sleeper is inside the wrapper and /proc shows its thread asleep ('S'), plus 200 us. */
#include "testutil.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define SEED     0x3A4E0u
#define CAP      4096u
#define MSG      232u                /* 24 + 232 = 256-byte frames */
#define FRAMES   (CAP / 256u)        /* 16 fill the ring exactly: no PAD, one receive = room */
#define ROUNDS   200u                /* sleeps per case and direction */
#define POLL_MS  250                 /* a blocked call's timeout: looks at `stop` between */
#define PATIENCE (60 * 1000000000LL) /* ns a thread waits for its peer before giving up */
#define NAP_NS   200000L             /* after the sleeper is seen asleep, before the publish */

/* ---- the watch on shmf_os_futex_wait() ----------------------------------------------------- */

/* One thread that may sleep in the library, what ends its wait, and what its sleeps saw. */
typedef struct sleeper {
	atomic_int tid;      /* its thread id, for /proc */
	atomic_uint entered; /* futex waits begun */
	atomic_int asleep;   /* 1 while inside one */
	atomic_uint woken;   /* ended with the word cleared: a wake came */
	atomic_uint sliced;  /* ended by the slice or the timeout, the peer not finished yet */
	atomic_uint lost;    /* ended with the word set after the peer had finished: lost wake */
	atomic_ulong need;   /* *peer_done value that ends the current wait; 0 = none */
	atomic_ulong *peer_done; /* calls the peer has finished (sends or receives) */
} sleeper;

static _Thread_local sleeper *watched; /* the calling thread's, or NULL */

int __real_shmf_os_futex_wait(unsigned char *word, uint32_t expect, int64_t deadline_ns);
int __wrap_shmf_os_futex_wait(unsigned char *word, uint32_t expect, int64_t deadline_ns);
int __wrap_shmf_os_futex_wait(unsigned char *word, uint32_t expect, int64_t deadline_ns)
{
	sleeper *s = watched;
	int rc;

	if (s == NULL)
		return __real_shmf_os_futex_wait(word, expect, deadline_ns);
	atomic_fetch_add(&s->entered, 1u);
	atomic_store(&s->asleep, 1);
	rc = __real_shmf_os_futex_wait(word, expect, deadline_ns);
	atomic_store(&s->asleep, 0);
	/* The order matters (see the top): the peer's counter first, then the word. */
	unsigned long need = atomic_load(&s->need);
	unsigned long done = atomic_load(s->peer_done);
	uint32_t w = atomic_load((_Atomic uint32_t *)(void *)word);
	if (w == 0)
		atomic_fetch_add(&s->woken, 1u);
	else if (need != 0 && done >= need)
		atomic_fetch_add(&s->lost, 1u);
	else
		atomic_fetch_add(&s->sliced, 1u);
	return rc;
}

static void watch(sleeper *s, atomic_ulong *peer_done)
{
	s->peer_done = peer_done;
	atomic_store(&s->tid, (int)gettid());
	watched = s;
}

/* ---- helpers ------------------------------------------------------------------------------- */

/* The test's own failures, besides SHMF's negative errors. */
enum { E_BYTES = 1, E_NOSLEEP, E_LOST, E_STOPPED };

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void nap(long ns)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};

	while (nanosleep(&ts, &ts) != 0) {
	}
}

/* The scheduler state of thread tid ('S' asleep, 'R' running, ...), '?' without /proc. */
static char thread_state(int tid)
{
	char path[64], buf[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return '?';
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	const char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
	return (p != NULL && p[1] == ' ') ? p[2] : '?';
}

/* Wait until s sleeps in a futex wait begun after the *seen-th, and record it. 0 when it does,
 * -1 on `stop` or after PATIENCE. */
static int wait_asleep(sleeper *s, unsigned *seen, atomic_int *stop)
{
	int64_t give_up = now_ns() + PATIENCE;

	for (;;) {
		unsigned e = atomic_load(&s->entered);
		if (atomic_load(&s->asleep) && e > *seen) {
			char st = thread_state(atomic_load(&s->tid));
			if (st == 'S' || st == '?') {
				*seen = e;
				nap(NAP_NS);
				return 0;
			}
		}
		if (atomic_load(stop) || now_ns() > give_up)
			return -1;
		nap(20000);
	}
}

/* Send message k (MSG bytes), waiting as long as it takes (E_STOPPED once `stop` is raised). */
static int send_k(shmf_channel *ch, uint64_t k, atomic_int *stop)
{
	uint8_t buf[MSG];
	int64_t give_up = now_ns() + PATIENCE;
	int rc;

	tu_fill(buf, sizeof buf, SEED, k);
	while ((rc = shmf_send(ch, buf, sizeof buf, POLL_MS)) == SHMF_ETIMEDOUT) {
		if (atomic_load(stop))
			return E_STOPPED;
		if (now_ns() > give_up)
			break;
	}
	return rc;
}

/* Receive message k and check it: 0, an SHMF error, E_BYTES or E_STOPPED. */
static int recv_k(shmf_channel *ch, uint64_t k, atomic_int *stop)
{
	uint8_t buf[MSG + 8];
	int64_t give_up = now_ns() + PATIENCE;
	size_t n = 0;
	int rc;

	while ((rc = shmf_recv(ch, buf, sizeof buf, &n, POLL_MS)) == SHMF_ETIMEDOUT) {
		if (atomic_load(stop))
			return E_STOPPED;
		if (now_ns() > give_up)
			break;
	}
	if (rc == 0 && (n != MSG || !tu_check_fill(buf, n, SEED, k)))
		rc = E_BYTES;
	return rc;
}

/* A segment of two CAP-byte rings, side B on side A's mapping (TSan tracks addresses), spin 0. */
static void open_pair(char name[96], const char *tag, shmf_channel **a, shmf_channel **b)
{
	shmf_config cfg;

	shmf_config_init(&cfg);
	cfg.capacity = CAP;
	cfg.max_message = MSG;
	tu_name(name, tag);
	ck_assert_int_eq(shmf_create(name, &cfg, a), 0);
	ck_assert_int_eq(shmf_attach_same_map(*a, name, SHMF_SIDE_B, b), 0);
	ck_assert_int_eq(shmf_set_spin(*a, 0), 0);
	ck_assert_int_eq(shmf_set_spin(*b, 0), 0);
}

static void close_pair(const char *name, shmf_channel *a, shmf_channel *b)
{
	ck_assert_int_eq(shmf_close(b), 0);
	ck_assert_int_eq(shmf_close(a), 0);
	ck_assert_int_eq(shmf_unlink(name), 0);
}

/* What one thread of a case did. */
typedef struct side {
	shmf_channel *ch;
	sleeper me;
	struct side *peer;
	atomic_ulong done; /* calls finished: sends (ping-pong, race) or receives (room) */
	atomic_int *stop;  /* raised by whichever side fails first, so that the other ends soon */
	int rc;            /* first failure: an SHMF error or one of E_* */
	uint64_t at;       /* at which message */
	atomic_ulong end;  /* race: how many messages the writer sends */
} side;

/* Record the first failure (E_STOPPED: only the other side's) and stop both sides. */
static void stop_with(side *s, int rc, uint64_t k)
{
	if (s->rc == 0 && rc != E_STOPPED) {
		s->rc = rc;
		s->at = k;
	}
	atomic_store(s->stop, 1);
}

/* Zero two sides, open their pair (x is side A) and tie them together. */
static void open_sides(char name[96], const char *tag, side *x, side *y, atomic_int *stop)
{
	memset(x, 0, sizeof *x);
	memset(y, 0, sizeof *y);
	open_pair(name, tag, &x->ch, &y->ch);
	x->peer = y;
	y->peer = x;
	x->stop = y->stop = stop;
}

static const char *why(int rc)
{
	switch (rc) {
	case E_BYTES: return "wrong bytes";
	case E_NOSLEEP: return "the peer never fell asleep";
	case E_LOST: return "a lost wake";
	default: return shmf_strerror(rc);
	}
}

static void report(const char *what, const char *who, sleeper *s)
{
	fprintf(stderr, "wake: %s: %s slept %u times: %u woken, %u ended by the slice, %u lost\n",
	        what, who, atomic_load(&s->entered), atomic_load(&s->woken),
	        atomic_load(&s->sliced), atomic_load(&s->lost));
}

/* No thread may have lost a wake (checked first: a lost wake also stops the other side), none
 * may have failed, each must have slept `sleeps` times at least (its peer waited for each of
 * those), and wakes must have ended some of them: a library that never wakes has woken 0. */
static void check(const char *what, const char *who[2], side *s[2], const unsigned sleeps[2])
{
	for (int i = 0; i < 2; i++)
		report(what, who[i], &s[i]->me);
	for (int i = 0; i < 2; i++)
		ck_assert_msg(atomic_load(&s[i]->me.lost) == 0,
		              "%s: %s: %u lost wake(s): slept on after the peer had sent and woken",
		              what, who[i], atomic_load(&s[i]->me.lost));
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(s[i]->rc == 0, "%s: %s, message %llu: %s", what, who[i],
		              (unsigned long long)s[i]->at, why(s[i]->rc));
		ck_assert_msg(atomic_load(&s[i]->me.entered) >= sleeps[i],
		              "%s: %s slept %u times, not %u", what, who[i],
		              atomic_load(&s[i]->me.entered), sleeps[i]);
		if (sleeps[i] > 0)
			ck_assert_msg(atomic_load(&s[i]->me.woken) > 0,
			              "%s: %s: none of %u sleeps was woken", what, who[i],
			              atomic_load(&s[i]->me.entered));
	}
}

/* ---- blocking ping-pong -------------------------------------------------------------------- */

/* ROUNDS round trips. Each side receives with spin 0, so it sleeps; the other waits until it
 * does, then sends. A lost wake ends the test a slice later. Receiving message k ends the wait
 * once the peer has sent k + 1 messages. */
static int pingpong_recv(side *s, uint64_t k)
{
	int rc;

	atomic_store(&s->me.need, k + 1);
	if ((rc = recv_k(s->ch, k, s->stop)) != 0)
		return rc;
	return atomic_load(&s->me.lost) != 0 ? E_LOST : 0;
}

static void pingpong_round(side *s, uint64_t k, int first, unsigned *seen)
{
	int rc;

	if (!first && (rc = pingpong_recv(s, k)) != 0) {
		stop_with(s, rc, k);
		return;
	}
	if (atomic_load(s->stop))
		return;
	if (wait_asleep(&s->peer->me, seen, s->stop) != 0) {
		stop_with(s, atomic_load(s->stop) ? E_STOPPED : E_NOSLEEP, k);
		return;
	}
	if ((rc = send_k(s->ch, k, s->stop)) != 0) {
		stop_with(s, rc, k);
		return;
	}
	atomic_fetch_add(&s->done, 1u);
	if (first && (rc = pingpong_recv(s, k)) != 0)
		stop_with(s, rc, k);
}

static void *pingpong_b(void *arg)
{
	side *s = arg;
	unsigned seen = 0;

	watch(&s->me, &s->peer->done);
	for (uint64_t k = 0; k < ROUNDS && !atomic_load(s->stop); k++)
		pingpong_round(s, k, 0, &seen);
	watched = NULL;
	return NULL;
}

START_TEST(test_pingpong_with_spin_0_every_sleep_is_woken)
{
	char name[96];
	atomic_int stop = 0;
	side a, b;
	pthread_t t;
	unsigned seen = 0;

	open_sides(name, "wakepp", &a, &b, &stop);
	watch(&a.me, &b.done);
	int64_t t0 = now_ns();
	ck_assert_int_eq(pthread_create(&t, NULL, pingpong_b, &b), 0);
	for (uint64_t k = 0; k < ROUNDS && !atomic_load(&stop); k++)
		pingpong_round(&a, k, 1, &seen);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	watched = NULL;
	fprintf(stderr, "wake: ping-pong: %lu of %u round trips in %lld ms\n", atomic_load(&b.done),
	        ROUNDS, (long long)((now_ns() - t0) / 1000000));
	close_pair(name, a.ch, b.ch);
	check("ping-pong", (const char *[2]){"A (receives pongs)", "B (receives pings)"},
	      (side *[2]){&a, &b}, (const unsigned[2]){ROUNDS, ROUNDS});
}
END_TEST

/* ---- a writer that waits for room ---------------------------------------------------------- */

/* The reader: once the writer sleeps on the full ring, take one message, which makes room for
 * exactly one more; the last FRAMES messages without waiting (the writer is done). */
static void *room_reader(void *arg)
{
	side *s = arg;
	unsigned seen = 0;
	int rc;

	for (uint64_t k = 0; k < FRAMES + ROUNDS && !atomic_load(s->stop); k++) {
		if (k < ROUNDS && wait_asleep(&s->peer->me, &seen, s->stop) != 0) {
			stop_with(s, atomic_load(s->stop) ? E_STOPPED : E_NOSLEEP, k);
			break;
		}
		if ((rc = recv_k(s->ch, k, s->stop)) != 0) {
			stop_with(s, rc, k);
			break;
		}
		atomic_fetch_add(&s->done, 1u);
	}
	return NULL;
}

START_TEST(test_writer_waiting_for_room_with_spin_0_is_woken)
{
	char name[96];
	atomic_int stop = 0;
	side w, r;
	pthread_t t;

	open_sides(name, "wakeroom", &w, &r, &stop);
	for (uint64_t k = 0; k < FRAMES; k++)
		ck_assert_int_eq(send_k(w.ch, k, &stop), 0);
	uint8_t one[MSG] = {0};
	ck_assert_int_eq(shmf_send(w.ch, one, sizeof one, 0), SHMF_EAGAIN); /* full */
	watch(&w.me, &r.done);
	int64_t t0 = now_ns();
	ck_assert_int_eq(pthread_create(&t, NULL, room_reader, &r), 0);
	for (uint64_t k = FRAMES; k < FRAMES + ROUNDS && !atomic_load(&stop); k++) {
		int rc;
		/* message k fits once the reader has taken message k - FRAMES */
		atomic_store(&w.me.need, k - FRAMES + 1);
		if ((rc = send_k(w.ch, k, &stop)) != 0)
			stop_with(&w, rc, k);
		else if (atomic_load(&w.me.lost) != 0)
			stop_with(&w, E_LOST, k);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	watched = NULL;
	fprintf(stderr, "wake: room: %lu of %u receives from a full ring in %lld ms\n",
	        atomic_load(&r.done), FRAMES + ROUNDS, (long long)((now_ns() - t0) / 1000000));
	close_pair(name, w.ch, r.ch);
	check("room", (const char *[2]){"the writer", "the reader"}, (side *[2]){&w, &r},
	      (const unsigned[2]){ROUNDS, 0});
}
END_TEST

/* ---- the publish racing the sleeper's way in ----------------------------------------------- */

/* The cases above publish long after the sleeper flagged itself (W1), so they check the wake,
 * not the fences that order it against a sleeper on its way in. Here the writer sends message k
 * the moment it sees that the reader has taken k - 1, and the reader, spin 0, pauses before it
 * asks for k: longer after a message it slept for (the publish came after its W3: it must come
 * earlier), shorter after one it found at once (the publish came before). So the publish keeps
 * landing near the reader's W1-W3, where a missing fence loses the wake. The invariant is the
 * same as above, so a correct library passes whatever the timing. A missing fence is caught only
 * when the race is really hit, which needs the threads on two CPUs: best effort, though on the
 * 2-CPU x86 machine this was written on every run caught the fence of shmf_ring_wake() removed,
 * within a few thousand messages. SHMF_WAKE_RACE_MS sets how long the race runs. */
#define RACE_MS        400 /* how long the race runs: the budget, not a bound on anything */
#define RACE_STEP_NS   8   /* the pause's adjustment per message */
#define RACE_JITTER_NS 128 /* and its random part */
#define RACE_MAX_NS    10000

/* Put the calling thread on the n-th of race_cpus, if there is one: the race needs the two
 * threads on different CPUs, where a busy machine's scheduler does not always put them. */
static cpu_set_t race_cpus; /* the main thread's CPUs before the race */

static void pin_to(int n)
{
	cpu_set_t one;

	for (size_t c = 0; c < (size_t)CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &race_cpus) && n-- == 0) {
			CPU_ZERO(&one);
			CPU_SET(c, &one);
			(void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);
			return;
		}
	}
}

static void *race_writer(void *arg)
{
	side *s = arg;
	int rc;

	pin_to(1);
	for (uint64_t k = 0; k < atomic_load(&s->end) && !atomic_load(s->stop); k++) {
		unsigned spins = 0;
		while (atomic_load(&s->peer->done) < k && k < atomic_load(&s->end) &&
		       !atomic_load(s->stop))
			if (++spins > (1u << 20)) /* valgrind runs one thread at a time */
				sched_yield();
		if (k >= atomic_load(&s->end))
			break;
		if ((rc = send_k(s->ch, k, s->stop)) != 0) {
			stop_with(s, rc, k);
			break;
		}
		atomic_fetch_add(&s->done, 1u);
	}
	return NULL;
}

START_TEST(test_publish_racing_a_reader_on_its_way_to_sleep_loses_no_wake)
{
	char name[96];
	const char *env = getenv("SHMF_WAKE_RACE_MS");
	atomic_int stop = 0;
	side w, r;
	pthread_t t;
	uint64_t k, slept = 0, rnd = tu_seed("wake race");
	int64_t pause = 0;
	int rc;

	open_sides(name, "wakerace", &w, &r, &stop);
	atomic_store(&w.end, UINT64_MAX);
	ck_assert_int_eq(pthread_getaffinity_np(pthread_self(), sizeof race_cpus, &race_cpus), 0);
	pin_to(0);
	watch(&r.me, &w.done);
	int64_t t0 = now_ns();
	int64_t t_end = t0 + (env ? atoll(env) : RACE_MS) * 1000000;
	ck_assert_int_eq(pthread_create(&t, NULL, race_writer, &w), 0);
	for (k = 0; now_ns() < t_end; k++) {
		unsigned e = atomic_load(&r.me.entered);
		atomic_store(&r.me.need, k + 1);
		int64_t until = now_ns() + pause + (int64_t)(tu_rand(&rnd) % RACE_JITTER_NS);
		while (now_ns() < until) {
		}
		if ((rc = recv_k(r.ch, k, &stop)) != 0) {
			stop_with(&r, rc, k);
			break;
		}
		if (atomic_load(&r.me.lost) != 0) {
			stop_with(&r, E_LOST, k);
			break;
		}
		if (atomic_load(&r.me.entered) != e) {
			slept++;
			pause = pause < RACE_MAX_NS ? pause + RACE_STEP_NS : pause;
		} else {
			/* faster down than up: after the writer lost its CPU for a while */
			pause -= pause / 16 + RACE_STEP_NS;
			pause = pause > 0 ? pause : 0;
		}
		atomic_fetch_add(&r.done, 1u);
	}
	atomic_store(&w.end, k); /* the writer sends no more than the reader took */
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	pthread_setaffinity_np(pthread_self(), sizeof race_cpus, &race_cpus);
	watched = NULL;
	fprintf(stderr,
	        "wake: race: %llu messages in %lld ms, %llu slept for, the others found before the "
	        "sleep; the reader's pause ended at %lld ns\n",
	        (unsigned long long)k, (long long)((now_ns() - t0) / 1000000),
	        (unsigned long long)slept, (long long)pause);
	close_pair(name, w.ch, r.ch);
	check("race", (const char *[2]){"the writer", "the reader"}, (side *[2]){&w, &r},
	      (const unsigned[2]){0, 0});
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wake");
	TCase *tc = tcase_create("wake");

	/* Seconds natively; the limit is for valgrind and TSan on a loaded machine. */
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_pingpong_with_spin_0_every_sleep_is_woken);
	tcase_add_test(tc, test_writer_waiting_for_room_with_spin_0_is_woken);
	tcase_add_test(tc, test_publish_racing_a_reader_on_its_way_to_sleep_loses_no_wake);
	suite_add_tcase(s, tc);
	return tu_main(s);
}
