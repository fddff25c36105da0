/* test_takeover.c - roles across process death (PROTOCOL.md 7): a blocked side learns "peer gone"
 * within the stated bound, and a new process takes a dead side's role over with nothing committed
 * lost or repeated. */
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define BOUND_MS 500 /* PROTOCOL.md 7: 100 ms after the lock is released; tests allow 500 */

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Payload of message k: k itself, then bytes derived from it. */
static size_t make_msg(uint8_t *buf, uint64_t k)
{
	size_t n = 8 + (size_t)(k % 300);
	shmf_st64(buf, k);
	tu_fill(buf + 8, n - 8, 77, k);
	return n;
}

static int check_msg(const uint8_t *buf, size_t n, uint64_t k)
{
	return n == 8 + (size_t)(k % 300) && shmf_ld64(buf) == k &&
	       tu_check_fill(buf + 8, n - 8, 77, k);
}

static shmf_channel *create_small(const char *name, size_t capacity)
{
	shmf_config cfg;
	shmf_channel *ch;

	shmf_config_init(&cfg);
	cfg.capacity = capacity;
	cfg.max_message = 1024;
	ck_assert_int_eq(shmf_create(name, &cfg, &ch), 0);
	return ch;
}

/* Child: attach as `side`, report the moment just before it dies through the pipe, then die of
 * SIGKILL after `delay_ms`. The lock is released by the kernel at exit, as after kill -9. */
static pid_t spawn_victim(const char *name, int side, int fill_ring, int pipefd)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		shmf_channel *ch;
		uint8_t buf[2048];
		if (shmf_attach(name, side, 5000, &ch) != 0)
			tu_exit(3);
		if (fill_ring) { /* fill the peer's inbound ring so that the peer's reads have data
			          */
			uint64_t k = 0;
			while (shmf_send(ch, buf, make_msg(buf, k), 0) == 0)
				k++;
		}
		struct timespec d = {0, 200 * 1000000};
		nanosleep(&d, NULL);
		int64_t t = mono_ns();
		if (write(pipefd, &t, sizeof t) != (ssize_t)sizeof t)
			tu_exit(4);
		raise(SIGKILL);
		tu_exit(5);
	}
	return pid;
}

START_TEST(test_blocked_recv_sees_peer_gone_within_bound)
{
	char name[96];
	int p[2];
	int64_t died, seen;
	shmf_channel *a;
	uint8_t buf[64];
	size_t n;
	int status;

	tu_name(name, "gone-recv");
	a = create_small(name, 4096);
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = spawn_victim(name, SHMF_SIDE_B, 0, p[1]);
	int rc = shmf_recv(a, buf, sizeof buf, &n, -1); /* blocks until B dies */
	seen = mono_ns();
	ck_assert_int_eq(rc, SHMF_EPEERGONE);
	ck_assert_int_eq(read(p[0], &died, sizeof died), (ssize_t)sizeof died);
	waitpid(pid, &status, 0);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	fprintf(stderr, "recv: peer gone seen %.1f ms after the kill\n",
	        (double)(seen - died) / 1e6);
	ck_assert_int_lt(seen - died, (int64_t)BOUND_MS * 1000000);
	close(p[0]);
	close(p[1]);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

START_TEST(test_blocked_send_sees_peer_gone_within_bound)
{
	char name[96];
	int p[2];
	int64_t died, seen;
	shmf_channel *a;
	uint8_t buf[1024] = {0};
	int status, rc;

	tu_name(name, "gone-send");
	a = create_small(name, 4096);
	while ((rc = shmf_send(a, buf, 500, 0)) == 0) {
	}
	ck_assert_int_eq(rc, SHMF_EAGAIN); /* ring 0 is full */
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = spawn_victim(name, SHMF_SIDE_B, 0, p[1]);
	rc = shmf_send(a, buf, 500, -1); /* blocks until B dies */
	seen = mono_ns();
	ck_assert_int_eq(rc, SHMF_EPEERGONE);
	ck_assert_int_eq(read(p[0], &died, sizeof died), (ssize_t)sizeof died);
	waitpid(pid, &status, 0);
	fprintf(stderr, "send: peer gone seen %.1f ms after the kill\n",
	        (double)(seen - died) / 1e6);
	ck_assert_int_lt(seen - died, (int64_t)BOUND_MS * 1000000);
	close(p[0]);
	close(p[1]);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

/* Data a dead writer committed is still delivered, in full, before "peer gone". */
START_TEST(test_dead_writer_data_is_drained_before_peer_gone)
{
	char name[96];
	int p[2];
	shmf_channel *a;
	uint8_t buf[2048];
	size_t n;
	uint64_t k = 0;
	int rc, status;

	tu_name(name, "drain");
	a = create_small(name, 8192);
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = spawn_victim(name, SHMF_SIDE_B, 1, p[1]);
	waitpid(pid, &status, 0);
	while ((rc = shmf_recv(a, buf, sizeof buf, &n, 2000)) == 0) {
		ck_assert_msg(check_msg(buf, n, k), "message %llu", (unsigned long long)k);
		k++;
	}
	ck_assert_int_eq(rc, SHMF_EPEERGONE);
	ck_assert_uint_gt(k, 5);
	close(p[0]);
	close(p[1]);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

/* Side A writer: attach (take over) and send k = start, start+1, ... until killed. */
static pid_t spawn_writer(const char *name, int create, uint64_t start)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		shmf_channel *ch;
		uint8_t buf[2048];
		int rc;
		if (create) {
			shmf_config cfg;
			shmf_config_init(&cfg);
			cfg.capacity = 4096;
			cfg.max_message = 1024;
			rc = shmf_create(name, &cfg, &ch);
		} else {
			rc = shmf_attach(name, SHMF_SIDE_A, 5000, &ch);
		}
		if (rc != 0) {
			fprintf(stderr, "writer: %s\n", shmf_strerror(rc));
			tu_exit(3);
		}
		for (uint64_t k = start;; k++)
			if ((rc = shmf_send(ch, buf, make_msg(buf, k), 10000)) != 0)
				tu_exit(4);
	}
	return pid;
}

/* kill -9 side A at random moments mid-stream, 25 times; each time a new process takes role A
 * over and goes on. The reader sees one unbroken stream: every message, once, in order. */
START_TEST(test_writer_takeover_loses_and_repeats_nothing)
{
	char name[96];
	uint64_t seed = tu_seed("takeover");
	shmf_channel *b = NULL;
	uint8_t buf[2048];
	uint64_t next = 0;
	size_t n;
	int rc, status;

	tu_name(name, "takeover");
	pid_t pid = spawn_writer(name, 1, 0);
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 5000, &b), 0);
	for (int cycle = 0; cycle < 25; cycle++) {
		/* Read a random number of messages while the writer streams, then kill it. */
		uint64_t want = next + 50 + tu_rand(&seed) % 500;
		int64_t until = mono_ns() + 20 * 1000000000LL;
		while (next < want) {
			rc = shmf_recv(b, buf, sizeof buf, &n, 10000);
			if (rc == SHMF_EPEERGONE && mono_ns() < until) {
				usleep(1000); /* the new writer has not attached yet: role A is
				                 still dead */
				continue;
			}
			ck_assert_msg(rc == 0, "cycle %d: recv: %s", cycle, shmf_strerror(rc));
			ck_assert_msg(check_msg(buf, n, next), "cycle %d: message %llu", cycle,
			              (unsigned long long)next);
			next++;
		}
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		/* Drain what the dead writer committed: it must continue the stream exactly. */
		while ((rc = shmf_recv(b, buf, sizeof buf, &n, 5000)) == 0) {
			ck_assert_msg(check_msg(buf, n, next), "cycle %d: drained message %llu",
			              cycle, (unsigned long long)next);
			next++;
		}
		ck_assert_msg(rc == SHMF_EPEERGONE, "cycle %d: %s", cycle, shmf_strerror(rc));
		pid = spawn_writer(name, 0, next);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	shmf_close(b);
	shmf_unlink(name);
	fprintf(stderr, "takeover: %llu messages over 25 writer deaths\n",
	        (unsigned long long)next);
}
END_TEST

/* The reader dies while blocked; a new reader takes role B over and carries on where it was. */
START_TEST(test_reader_takeover_continues_the_stream)
{
	char name[96];
	shmf_channel *a;
	uint8_t buf[2048];
	int status;

	tu_name(name, "rtakeover");
	a = create_small(name, 8192);
	for (int round = 0; round < 5; round++) {
		uint64_t first = (uint64_t)round * 10;
		for (uint64_t k = first; k < first + 10; k++)
			ck_assert_int_eq(shmf_send(a, buf, make_msg(buf, k), 5000), 0);
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			shmf_channel *b;
			size_t n;
			if (shmf_attach(name, SHMF_SIDE_B, 5000, &b) != 0)
				tu_exit(3);
			for (uint64_t k = first; k < first + 10; k++)
				if (shmf_recv(b, buf, sizeof buf, &n, 5000) != 0 ||
				    !check_msg(buf, n, k))
					tu_exit(4);
			/* Block on the empty ring until killed: no message in flight. */
			shmf_recv(b, buf, sizeof buf, &n, -1);
			tu_exit(5);
		}
		/* Wait until the reader consumed all 10 (ring 0 empty again), then kill it. */
		int64_t until = mono_ns() + 10 * 1000000000LL;
		size_t sz;
		unsigned char *seg = tu_map(name, &sz);
		while (tu_get64(seg, SHMF_RING_CTL(0) + SHMF_C_RPOS) !=
		       tu_get64(seg, SHMF_RING_CTL(0) + SHMF_C_WPOS)) {
			ck_assert_int_lt(mono_ns(), until);
			usleep(1000);
		}
		tu_unmap(seg, sz);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ck_assert_msg(WIFSIGNALED(status), "reader %d exited %d", round,
		              WEXITSTATUS(status));
	}
	/* A last reader takes over and gets the next message, number 50. */
	shmf_channel *b;
	size_t n;
	ck_assert_int_eq(shmf_send(a, buf, make_msg(buf, 50), 5000), 0);
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 5000, &b), 0);
	ck_assert_int_eq(shmf_recv(b, buf, sizeof buf, &n, 5000), 0);
	ck_assert(check_msg(buf, n, 50));
	shmf_close(b);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

/* A role held by a live process cannot be taken, even after the holder's peer died. */
START_TEST(test_live_role_cannot_be_taken)
{
	char name[96];
	shmf_channel *a, *b, *b2 = NULL;

	tu_name(name, "busy");
	a = create_small(name, 4096);
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 0, &b), 0);
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 0, &b2), SHMF_EROLEBUSY);
	ck_assert_ptr_null(b2);
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_A, 0, &b2), SHMF_EROLEBUSY);
	shmf_close(b);
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 0, &b2), 0);
	shmf_close(b2);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("takeover");
	TCase *tc = tcase_create("takeover");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_blocked_recv_sees_peer_gone_within_bound);
	tcase_add_test(tc, test_blocked_send_sees_peer_gone_within_bound);
	tcase_add_test(tc, test_dead_writer_data_is_drained_before_peer_gone);
	tcase_add_test(tc, test_writer_takeover_loses_and_repeats_nothing);
	tcase_add_test(tc, test_reader_takeover_continues_the_stream);
	tcase_add_test(tc, test_live_role_cannot_be_taken);
	suite_add_tcase(s, tc);
	return tu_main(s);
}
