/* test_guard.c - the SIGBUS guard (PROTOCOL.md 9.6): a segment truncated under the mapping, to
 * zero or to half, while a call waits or copies, 1,000 times, gives SHMF_ETRUNCATED and never a
 * death; a SIGBUS outside our mappings still reaches the previous handler or kills. */
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#define CAP    (128u << 10)
#define MAXMSG (60u << 10)

static uint8_t big[MAXMSG];

typedef struct cutter {
	const char *name;
	off_t size;
	unsigned delay_us;
} cutter;

static void *cut(void *arg)
{
	cutter *c = arg;
	int fd = shm_open(c->name, O_RDWR, 0);

	if (c->delay_us)
		usleep(c->delay_us);
	if (fd >= 0) {
		if (ftruncate(fd, c->size) != 0)
			perror("ftruncate");
		close(fd);
	}
	return NULL;
}

/* One round: a channel, a truncation from another thread at a chosen moment, and calls on both
 * sides that must each end in success or SHMF_ETRUNCATED. Returns how many calls were refused. */
static int round_trip(uint64_t *rng, int round)
{
	char name[96];
	shmf_config cfg;
	shmf_channel *a, *b;
	pthread_t t;
	size_t n;
	int refused = 0;
	static uint8_t got[MAXMSG];

	shmf_config_init(&cfg);
	cfg.capacity = CAP;
	cfg.max_message = MAXMSG;
	tu_name(name, "guard");
	ck_assert_int_eq(shmf_create(name, &cfg, &a), 0);
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 0, &b), 0);
	size_t len = (size_t)(tu_rand(rng) % MAXMSG);
	tu_fill(big, len, 5, (uint64_t)round);
	ck_assert_int_eq(shmf_send(a, big, len, 0), 0);
	/* To zero or to half (the header stays, the rings go), now or while the reader copies or
	 * waits. */
	struct stat st;
	int fd = shm_open(name, O_RDWR, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	close(fd);
	cutter c = {name, (round & 1) ? st.st_size / 2 : 0, (unsigned)(tu_rand(rng) % 200)};
	ck_assert_int_eq(pthread_create(&t, NULL, cut, &c), 0);
	for (int k = 0; k < 3; k++) {
		int rc = shmf_recv(b, got, sizeof got, &n, 1);
		if (rc == 0) {
			ck_assert_uint_eq(n, len); /* whatever is delivered is whole and checked */
			ck_assert(tu_check_fill(got, n, 5, (uint64_t)round));
		} else if (rc == SHMF_ETRUNCATED) {
			refused++;
		} else {
			ck_assert_msg(rc == SHMF_ETIMEDOUT, "round %d: recv %s", round,
			              shmf_strerror(rc));
		}
	}
	pthread_join(t, NULL);
	/* Ring 1's data area is gone in both cuts: B's send must touch it and report the cut,
	 * and from then on B's calls in both directions say so. */
	int rc = shmf_send(b, big, 16, 0);
	ck_assert_msg(rc == SHMF_ETRUNCATED, "round %d: send after the cut: %s", round,
	              shmf_strerror(rc));
	ck_assert_int_eq(shmf_send(b, big, 16, 0), SHMF_ETRUNCATED); /* sticky */
	rc = shmf_recv(b, got, sizeof got, &n, 0);
	ck_assert_msg(rc == SHMF_ETRUNCATED || (rc == 0 && n == len),
	              "round %d: recv after the cut: %s", round, shmf_strerror(rc));
	/* A's own mapping: whatever it touches of the lost pages is reported, never fatal. */
	rc = shmf_recv(a, got, sizeof got, &n, 0);
	ck_assert_msg(rc == SHMF_EAGAIN || rc == SHMF_ETRUNCATED, "round %d: A recv: %s", round,
	              shmf_strerror(rc));
	rc = shmf_send(a, big, 16, 0);
	ck_assert_msg(rc == 0 || rc == SHMF_ETRUNCATED, "round %d: A send: %s", round,
	              shmf_strerror(rc));
	shmf_close(b);
	shmf_close(a);
	shmf_unlink(name);
	return refused;
}

START_TEST(test_truncation_1000_times_never_kills)
{
	uint64_t rng = tu_seed("guard");
	int refused = 0;

	ck_assert_int_eq(shmf_sigbus_guard(1), 0);
	ck_assert_int_eq(shmf_sigbus_guard(1), 0); /* idempotent */
	for (int round = 0; round < 1000; round++)
		refused += round_trip(&rng, round);
	fprintf(stderr, "guard: 1000 truncations, %d receives refused with SHMF_ETRUNCATED\n",
	        refused);
	ck_assert_int_eq(shmf_sigbus_guard(0), 0);
}
END_TEST

/* Map a file, shrink it, touch the lost page: a SIGBUS at an address no channel owns. */
static void foreign_sigbus(void)
{
	char path[] = "/tmp/shmf-guard-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || ftruncate(fd, 8192) != 0)
		tu_exit(90);
	volatile unsigned char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		tu_exit(91);
	unlink(path);
	if (ftruncate(fd, 0) != 0)
		tu_exit(92);
	(void)p[4096]; /* SIGBUS */
	tu_exit(93);
}

static void on_bus(int sig)
{
	(void)sig;
	tu_exit(42);
}

static int child_status(int with_user_handler, int guard)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (with_user_handler)
			signal(SIGBUS, on_bus);
		if (guard && shmf_sigbus_guard(1) != 0)
			tu_exit(89);
		foreign_sigbus();
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

START_TEST(test_foreign_sigbus_still_kills)
{
	int status = child_status(0, 1);

	/* Death by SIGBUS; under AddressSanitizer its own handler reports it and exits non-zero,
	 * or aborts (ASAN_OPTIONS=abort_on_error=1). */
	int by_signal =
	        WIFSIGNALED(status) && (WTERMSIG(status) == SIGBUS || WTERMSIG(status) == SIGABRT);
	int by_report = WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) < 89;
	ck_assert_msg(by_signal || by_report, "status 0x%x", status);
}
END_TEST

START_TEST(test_foreign_sigbus_reaches_the_previous_handler)
{
	int status = child_status(1, 1);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 42, "status 0x%x", status);
}
END_TEST

static void on_bus_info(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	tu_exit(si != NULL && si->si_signo == SIGBUS ? 43 : 44);
}

START_TEST(test_foreign_sigbus_reaches_a_previous_siginfo_handler)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_bus_info;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGBUS, &sa, NULL);
		if (shmf_sigbus_guard(1) != 0)
			tu_exit(89);
		foreign_sigbus();
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 43, "status 0x%x", status);
}
END_TEST

/* Off is idempotent; past the guard's 64 slots a channel still works, unguarded. */
START_TEST(test_guard_off_twice_and_a_full_table)
{
	char names[70][96];
	shmf_config cfg;
	shmf_channel *ch[70];

	ck_assert_int_eq(shmf_sigbus_guard(0), 0);
	ck_assert_int_eq(shmf_sigbus_guard(0), 0);
	ck_assert_int_eq(shmf_sigbus_guard(1), 0);
	shmf_config_init(&cfg);
	cfg.capacity = 256;
	cfg.max_message = 64;
	for (int i = 0; i < 70; i++)
		ck_assert_int_eq(shmf_create(tu_name(names[i], "many"), &cfg, &ch[i]), 0);
	shmf_channel *b;
	char c = 'x';
	size_t n;
	ck_assert_int_eq(shmf_attach(names[69], SHMF_SIDE_B, 0, &b), 0);
	ck_assert_int_eq(shmf_send(ch[69], &c, 1, 0), 0);
	ck_assert_int_eq(shmf_recv(b, &c, 1, &n, 0), 0);
	shmf_close(b);
	for (int i = 0; i < 70; i++) {
		shmf_close(ch[i]);
		shmf_unlink(names[i]);
	}
	ck_assert_int_eq(shmf_sigbus_guard(0), 0);
}
END_TEST

/* Without the guard, a truncated named segment kills: what the guard is for. */
START_TEST(test_without_the_guard_truncation_kills)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char name[96];
		shmf_channel *a;
		char c;
		size_t n;
		shmf_config cfg;
		shmf_config_init(&cfg);
		cfg.capacity = 4096;
		cfg.max_message = 64;
		if (shmf_create(tu_name(name, "unguarded"), &cfg, &a) != 0)
			tu_exit(80);
		int fd = shm_open(name, O_RDWR, 0);
		shm_unlink(name);
		if (fd < 0 || ftruncate(fd, 0) != 0)
			tu_exit(81);
		shmf_recv(a, &c, 1, &n, 0);
		tu_exit(82);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) >= 80), "status 0x%x", status);
}
END_TEST

/* PROTOCOL.md 9.7: the data area of the ring a side reads is mapped read-only, the rest not. */
START_TEST(test_the_ring_we_read_is_mapped_read_only)
{
	char name[96], line[512];
	shmf_config cfg;
	shmf_channel *a;
	int ro = 0, rw = 0;

	shmf_config_init(&cfg);
	cfg.capacity = 8192;
	cfg.max_message = 64;
	ck_assert_int_eq(shmf_create(tu_name(name, "ro"), &cfg, &a), 0);
	FILE *f = fopen("/proc/self/maps", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strstr(line, name + 1) == NULL)
			continue;
		unsigned long lo, hi;
		char perms[8];
		ck_assert_int_eq(sscanf(line, "%lx-%lx %7s", &lo, &hi, perms), 3);
		if (strcmp(perms, "r--s") == 0) {
			ro++;
			ck_assert_uint_eq(hi - lo, 8192); /* exactly ring 1's data area */
		} else if (strcmp(perms, "rw-s") == 0) {
			rw++;
		}
	}
	fclose(f);
	ck_assert_int_eq(ro, 1);
	ck_assert_int_ge(rw, 1);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guard");
	TCase *tc = tcase_create("guard");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_truncation_1000_times_never_kills);
	tcase_add_test(tc, test_foreign_sigbus_still_kills);
	tcase_add_test(tc, test_foreign_sigbus_reaches_the_previous_handler);
	tcase_add_test(tc, test_foreign_sigbus_reaches_a_previous_siginfo_handler);
	tcase_add_test(tc, test_guard_off_twice_and_a_full_table);
	tcase_add_test(tc, test_without_the_guard_truncation_kills);
	tcase_add_test(tc, test_the_ring_we_read_is_mapped_read_only);
	suite_add_tcase(s, tc);
	return tu_main(s);
}
