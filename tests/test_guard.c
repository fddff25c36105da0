/* test_guard.c - the SIGBUS guard (PROTOCOL.md 9.6): a segment truncated under the mapping, to
 * zero or to half, while a call waits or copies, 1,000 times, gives SHMF_ETRUNCATED and never a
 * death; a SIGBUS outside our mappings, or one that a process sent whatever address it names,
 * still reaches the previous handler, is ignored or kills, as it would without the guard; a full
 * table refuses new channels. */
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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
	/* Every call says so, even one that would have been refused for another reason: nothing
	 * was peeked or reserved here (SHMF_ESTATE otherwise). */
	ck_assert_int_eq(shmf_release(b), SHMF_ETRUNCATED);
	ck_assert_int_eq(shmf_commit(b, 0), SHMF_ETRUNCATED);
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

/* ---- a SIGBUS that a process sent --------------------------------------------------------
 *
 * A SIGBUS from kill(2) or sigqueue(3) (si_code <= 0) reports no fault of ours, whatever address
 * its si_addr names: any process of our uid can send one, with the address of a channel's
 * mapping in it. It must neither trip that channel nor turn the guard off; it goes where it
 * would have gone without the guard. Each case runs in a child; its exit code names the step
 * that went wrong (60 and up). */

typedef struct sent_case {
	shmf_channel *a, *b;
	int fd;           /* the segment's file, kept to truncate it at the end */
	uintptr_t inside; /* an address inside B's mapping of the segment */
} sent_case;

/* In the child: the guard on, a channel with both sides and its name already removed. */
static void sent_setup(sent_case *sc)
{
	char name[96];
	shmf_config cfg;
	const void *msg = NULL;
	size_t n;

	shmf_config_init(&cfg);
	cfg.capacity = 4096;
	cfg.max_message = 64;
	if (shmf_sigbus_guard(1) != 0)
		tu_exit(60);
	if (shmf_create(tu_name(name, "sent"), &cfg, &sc->a) != 0)
		tu_exit(61);
	sc->fd = shm_open(name, O_RDWR, 0);
	if (shmf_attach(name, SHMF_SIDE_B, 0, &sc->b) != 0 || shmf_unlink(name) != 0 || sc->fd < 0)
		tu_exit(62);
	/* A zero-copy receive points into the mapping: the address the spoofed SIGBUS names. */
	if (shmf_send(sc->a, "p", 1, 0) != 0 || shmf_peek(sc->b, &msg, &n, 0) != 0)
		tu_exit(63);
	sc->inside = (uintptr_t)msg;
	if (shmf_release(sc->b) != 0)
		tu_exit(64);
}

/* A SIGBUS as sigqueue(3) sends it (si_code SI_QUEUE) to this thread, its si_addr set to addr
 * as a fault's would be: what the audit's reproducer sent from another process of our uid. */
static void sigqueue_naming(uintptr_t addr)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	si.si_signo = SIGBUS;
	si.si_code = SI_QUEUE;
	si.si_addr = (void *)addr;
	if (syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGBUS, &si) != 0)
		tu_exit(65);
}

/* Both directions still carry messages (no SHMF_ETRUNCATED), then a real truncation is caught:
 * the guard is still on. Exits on the first step that fails. */
static void sent_check_channel(sent_case *sc)
{
	char c;
	size_t n;

	if (shmf_send(sc->a, "q", 1, 0) != 0)
		tu_exit(70);
	if (shmf_recv(sc->b, &c, 1, &n, 0) != 0 || c != 'q')
		tu_exit(71);
	if (shmf_send(sc->b, "r", 1, 0) != 0)
		tu_exit(72);
	if (shmf_recv(sc->a, &c, 1, &n, 0) != 0 || c != 'r')
		tu_exit(73);
	if (ftruncate(sc->fd, 0) != 0)
		tu_exit(74);
	if (shmf_send(sc->b, "s", 1, 0) != SHMF_ETRUNCATED) /* ring 1's data area is gone */
		tu_exit(75);
}

static int child_wait(pid_t pid)
{
	int status;

	ck_assert_int_ge(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static volatile sig_atomic_t sent_calls, sent_code;

static void on_sent_bus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	sent_calls++;
	sent_code = si->si_code;
}

START_TEST(test_sent_sigbus_reaches_the_previous_handler_and_spares_the_channel)
{
	pid_t pid = fork();

	if (pid == 0) {
		sent_case sc;
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_sent_bus;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGBUS, &sa, NULL);
		sent_setup(&sc);
		sigqueue_naming(sc.inside);
		if (sent_calls != 1 || sent_code != SI_QUEUE)
			tu_exit(80);
		kill(getpid(), SIGBUS);
		if (sent_calls != 2 || sent_code != SI_USER)
			tu_exit(81);
		sent_check_channel(&sc);
		if (sent_calls != 2) /* the truncation was the guard's own */
			tu_exit(82);
		tu_exit(0);
	}
	int status = child_wait(pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
}
END_TEST

/* SIG_IGN before the guard: a sent SIGBUS stays ignored and the guard stays on. With
 * siginfo_flag, SIG_IGN was set with SA_SIGINFO in its flags: the disposition's handler field is
 * then SIG_IGN, not a function to call (calling it was a SIGSEGV). */
static void sent_to_ignored(int siginfo_flag)
{
	pid_t pid = fork();

	if (pid == 0) {
		sent_case sc;
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_IGN;
		sa.sa_flags = siginfo_flag ? SA_SIGINFO : 0;
		sigaction(SIGBUS, &sa, NULL);
		sent_setup(&sc);
		sigqueue_naming(sc.inside);
		kill(getpid(), SIGBUS); /* before the fix: swallowed, and the guard gone with it */
		sent_check_channel(&sc);
		tu_exit(0);
	}
	int status = child_wait(pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
}

START_TEST(test_sent_sigbus_stays_ignored_and_the_guard_stays_on)
{
	sent_to_ignored(0);
}
END_TEST

START_TEST(test_sent_sigbus_ignored_with_siginfo_flag_stays_ignored)
{
	sent_to_ignored(1);
}
END_TEST

/* With the default action before the guard, a sent SIGBUS kills, as it would have without the
 * guard: by kill(2), and by sigqueue(3) naming the channel's mapping. */
START_TEST(test_sent_sigbus_still_kills)
{
	for (int how = 0; how < 2; how++) {
		pid_t pid = fork();
		if (pid == 0) {
			sent_case sc;
			struct rlimit none = {0, 0};
			setrlimit(RLIMIT_CORE, &none); /* no core file */
			signal(SIGBUS, SIG_DFL);
			sent_setup(&sc);
			if (how == 0)
				kill(getpid(), SIGBUS);
			else
				sigqueue_naming(sc.inside);
			/* Survived: the signal was swallowed (91: and it tripped the channel). */
			tu_exit(shmf_send(sc.b, "q", 1, 0) == SHMF_ETRUNCATED ? 91 : 90);
		}
		int status = child_wait(pid);
		/* As in test_foreign_sigbus_still_kills: death by SIGBUS, or, should
		 * AddressSanitizer get to report it, its exit or abort. */
		int by_signal = WIFSIGNALED(status) &&
		                (WTERMSIG(status) == SIGBUS || WTERMSIG(status) == SIGABRT);
		int by_report =
		        WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) < 60;
		ck_assert_msg(by_signal || by_report, "%s: status 0x%x", how ? "sigqueue" : "kill",
		              status);
	}
}
END_TEST

#define GUARD_SLOTS_EXPECTED 1024 /* the mappings the guard covers at once (shmframe.h) */

static int name_exists(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof path, "/dev/shm%s", name);
	return lstat(path, &st) == 0;
}

/* One byte from `from` to `to`, on channels the test holds. */
static void one_byte(shmf_channel *from, shmf_channel *to)
{
	char c = 'x';
	size_t n;

	ck_assert_int_eq(shmf_send(from, &c, 1, 0), 0);
	ck_assert_int_eq(shmf_recv(to, &c, 1, &n, 0), 0);
	ck_assert_uint_eq(n, 1);
}

/* Off is idempotent. With the guard on, its table covers 1024 mappings: once they are taken,
 * every way to a new channel fails with SHMF_ENOMEM and leaves no descriptor and no name behind,
 * rather than hand out a channel that a truncation would kill; closing a channel frees its slot.
 * With the guard off there is no such limit. */
START_TEST(test_guard_off_twice_and_a_full_table)
{
	static char names[GUARD_SLOTS_EXPECTED][96];
	static shmf_channel *ch[GUARD_SLOTS_EXPECTED];
	char extra[96];
	struct rlimit rl, saved;
	shmf_config cfg;
	shmf_channel *m, *x = NULL, *y = NULL, *yb = NULL;
	int sv[2], mfd = -1;
	const int named = GUARD_SLOTS_EXPECTED - 1; /* and m */

	ck_assert_int_eq(shmf_sigbus_guard(0), 0);
	ck_assert_int_eq(shmf_sigbus_guard(0), 0);
	/* A descriptor for each of the 1024 channels: more than the usual soft limit allows. */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < GUARD_SLOTS_EXPECTED + 76) {
		fprintf(stderr,
		        "guard: RLIMIT_NOFILE's hard limit is %llu, below %d: the full table "
		        "is not tested\n",
		        (unsigned long long)saved.rlim_max, GUARD_SLOTS_EXPECTED + 76);
		return;
	}
	rl = saved;
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	int fds_at_start = tu_count_fds();

	ck_assert_int_eq(shmf_sigbus_guard(1), 0);
	shmf_config_init(&cfg);
	cfg.capacity = 256;
	cfg.max_message = 64;
	/* A memfd channel, and a descriptor of its file to attach through later: one slot. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(shmf_create_memfd(&cfg, &m), 0);
	ck_assert_int_eq(shmf_send_fd(m, sv[0]), 0);
	ck_assert_int_eq(shmf_recv_fd(sv[1], -1, &mfd), 0);
	/* The other 1023 slots. */
	for (int i = 0; i < named; i++)
		ck_assert_int_eq(shmf_create(tu_name(names[i], "many"), &cfg, &ch[i]), 0);

	/* Full: create, create_memfd, attach and attach_fd fail, and leave nothing behind. */
	int fds = tu_count_fds();
	ck_assert_int_eq(shmf_create(tu_name(extra, "extra"), &cfg, &x), SHMF_ENOMEM);
	ck_assert_ptr_null(x);
	ck_assert(!name_exists(extra));
	ck_assert_int_eq(shmf_create_memfd(&cfg, &x), SHMF_ENOMEM);
	ck_assert_ptr_null(x);
	ck_assert_int_eq(shmf_attach(names[2], SHMF_SIDE_B, 0, &x), SHMF_ENOMEM);
	ck_assert_ptr_null(x);
	ck_assert_int_eq(shmf_attach_fd(mfd, SHMF_SIDE_B, &x), SHMF_ENOMEM);
	ck_assert_ptr_null(x);
	ck_assert_int_eq(tu_count_fds(), fds);

	/* Closing a channel frees its slot, once each. */
	ck_assert_int_eq(shmf_close(ch[0]), 0);
	ck_assert_int_eq(shmf_unlink(names[0]), 0);
	ck_assert_int_eq(shmf_create(tu_name(names[0], "again"), &cfg, &ch[0]), 0);
	ck_assert_int_eq(shmf_attach_fd(mfd, SHMF_SIDE_B, &x), SHMF_ENOMEM);
	ck_assert_int_eq(shmf_close(ch[1]), 0);
	ck_assert_int_eq(shmf_unlink(names[1]), 0);
	ch[1] = NULL;
	ck_assert_int_eq(shmf_attach_fd(mfd, SHMF_SIDE_B, &x), 0);
	one_byte(m, x);
	ck_assert_int_eq(shmf_close(x), 0);
	/* The attach refused above left role B free. */
	ck_assert_int_eq(shmf_attach(names[2], SHMF_SIDE_B, 0, &x), 0);
	one_byte(ch[2], x);
	ck_assert_int_eq(shmf_create(tu_name(extra, "extra"), &cfg, &y), SHMF_ENOMEM);
	ck_assert(!name_exists(extra));

	/* Guard off: a channel beyond the table, both sides, unguarded as without the guard. */
	ck_assert_int_eq(shmf_sigbus_guard(0), 0);
	ck_assert_int_eq(shmf_create(tu_name(extra, "extra"), &cfg, &y), 0);
	ck_assert_int_eq(shmf_attach(extra, SHMF_SIDE_B, 0, &yb), 0);
	one_byte(y, yb);
	one_byte(yb, y);

	ck_assert_int_eq(shmf_close(yb), 0);
	ck_assert_int_eq(shmf_close(y), 0);
	ck_assert_int_eq(shmf_unlink(extra), 0);
	ck_assert_int_eq(shmf_close(x), 0);
	for (int i = 0; i < named; i++) {
		if (ch[i] == NULL)
			continue;
		ck_assert_int_eq(shmf_close(ch[i]), 0);
		ck_assert_int_eq(shmf_unlink(names[i]), 0);
	}
	ck_assert_int_eq(shmf_close(m), 0);
	close(mfd);
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(tu_count_fds(), fds_at_start);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
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

/* A send 20 ms from now, from another thread: the frame a waiting receive is woken by. */
struct late_send {
	int rc;
	shmf_channel *ch;
	const uint8_t *msg;
	size_t len;
};

static void *send_late(void *arg)
{
	struct late_send *ls = arg;

	usleep(20000);
	ls->rc = shmf_send(ls->ch, ls->msg, ls->len, 0);
	return NULL;
}

/* PROTOCOL.md 9.7: a side never writes the data area of the ring it reads. The mapping does not
 * enforce it (read-only, it cost 28-46% of the throughput of large messages: PERFORMANCE.md, "The
 * read-only ring"), so this checks it. After the writer's sends, the receives a reader makes most
 * (a copy, a buffer too small, a peek and its release, a wait that times out, PAD frames and a
 * skipped tail at the end of a lap, an empty message, the stream hold of shmf_set_batch and a wait
 * woken by a frame, a CRC reject) leave that area byte for byte as the writer left it. Not
 * covered: rejects other than a CRC mismatch, a reader that took over. */
START_TEST(test_the_reader_never_writes_the_ring_it_reads)
{
	char name[96];
	shmf_config cfg;
	shmf_channel *a, *b;
	uint8_t msg[200], got[200], before[8192];
	const void *p;
	size_t n, size;
	uint64_t seq = 0, tx;

	shmf_config_init(&cfg);
	cfg.capacity = sizeof before;
	cfg.max_message = sizeof msg;
	ck_assert_int_eq(shmf_create(tu_name(name, "rw"), &cfg, &a), 0);
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 0, &b), 0);
	unsigned char *seg = tu_map(name, &size);
	unsigned char *data = seg + tu_get64(seg, SHMF_H_RING0_DATA);
	ck_assert_uint_eq(tu_get64(seg, SHMF_H_RING0_CAP), sizeof before);
	/* 4 rounds of 20 frames of 224 bytes: 17,920 bytes, over two ends of a lap */
	for (int round = 0; round < 4; round++) {
		for (int k = 0; k < 20; k++) {
			tu_fill(msg, sizeof msg, 9, seq + (uint64_t)k);
			ck_assert_int_eq(shmf_send(a, msg, sizeof msg, 0), 0);
		}
		memcpy(before, data, sizeof before);
		ck_assert_int_eq(shmf_recv(b, got, 10, &n, 0), SHMF_ETOOSMALL);
		for (int k = 0; k < 20; k += 2) {
			ck_assert_int_eq(shmf_recv(b, got, sizeof got, &n, 0), 0);
			ck_assert(n == sizeof msg && tu_check_fill(got, n, 9, seq++));
			ck_assert_int_eq(shmf_peek(b, &p, &n, 0), 0);
			ck_assert(n == sizeof msg && tu_check_fill(p, n, 9, seq++));
			ck_assert_int_eq(shmf_release(b), 0);
		}
		ck_assert_int_eq(shmf_recv(b, got, sizeof got, &n, 1), SHMF_ETIMEDOUT);
		ck_assert(memcmp(before, data, sizeof before) == 0);
	}
	/* Frames that leave a 16-byte tail, which the next one skips; then an empty message. */
	uint64_t sent = seq;
	size_t lens[40];
	int k = 0;
	for (;;) {
		ck_assert_int_eq(shmf_positions(a, &tx, NULL), 0);
		size_t tail = sizeof before - (size_t)(tx % sizeof before);
		size_t len = tail >= 40 && tail - 40 <= sizeof msg ? tail - 40 : sizeof msg;
		tu_fill(msg, len, 9, sent++);
		ck_assert_int_eq(shmf_send(a, msg, len, 0), 0);
		ck_assert_int_lt(k, 36);
		lens[k++] = len;
		if (len == tail - 40)
			break;
	}
	tu_fill(msg, sizeof msg, 9, sent++);
	ck_assert_int_eq(shmf_send(a, msg, sizeof msg, 0), 0); /* after the skip, at 0 */
	lens[k++] = sizeof msg;
	ck_assert_int_eq(shmf_send(a, msg, 0, 0), 0);
	sent++;
	lens[k++] = 0;
	memcpy(before, data, sizeof before);
	for (int i = 0; i < k; i++) {
		ck_assert_int_eq(shmf_recv(b, got, sizeof got, &n, 0), 0);
		ck_assert(n == lens[i] && tu_check_fill(got, n, 9, seq++));
	}
	ck_assert(memcmp(before, data, sizeof before) == 0);
	/* A receive that waits, after the stream hold of shmf_set_batch, and is woken by a frame.
	 * The writer writes during the wait: the frame must read back as sent, and nothing else
	 * may change. */
	ck_assert_int_eq(shmf_set_batch(b, 4096), 0);
	ck_assert_int_eq(shmf_positions(a, &tx, NULL), 0);
	size_t at = (size_t)(tx % sizeof before);
	ck_assert_uint_ge(sizeof before - at, shmf_frame_bytes(sizeof msg)); /* no lap ends */
	tu_fill(msg, sizeof msg, 9, sent++);
	memcpy(before, data, sizeof before);
	struct late_send ls = {-1, a, msg, sizeof msg};
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, send_late, &ls), 0);
	ck_assert_int_eq(shmf_recv(b, got, sizeof got, &n, 10000), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(ls.rc, 0);
	ck_assert(n == sizeof msg && tu_check_fill(got, n, 9, seq++));
	ck_assert(memcmp(before, data, at) == 0);
	ck_assert(memcmp(data + at + 24, msg, sizeof msg) == 0);
	ck_assert_uint_eq(tu_get32(data, at + 4), sizeof msg);    /* the length field */
	ck_assert_uint_eq(tu_get32(data, at + 20), (uint32_t)tx); /* the position field */
	size_t end = at + (size_t)shmf_frame_bytes(sizeof msg);
	ck_assert(memcmp(before + end, data + end, sizeof before - end) == 0);
	uint8_t frame[24 + sizeof msg]; /* the rest of the header: its CRC still holds */
	memcpy(frame, data + at, sizeof frame);
	tu_fix_frame_crc(frame);
	ck_assert_uint_eq(tu_get32(frame, 0), tu_get32(data, at));
	/* A reject: a payload byte changed behind the writer's back, before the snapshot. */
	ck_assert_int_eq(shmf_positions(a, &tx, NULL), 0);
	size_t off = (size_t)(tx % sizeof before);
	if (sizeof before - off < shmf_frame_bytes(sizeof msg))
		off = 0; /* the frame goes after a PAD, at the start of the next lap */
	ck_assert_int_eq(shmf_send(a, msg, sizeof msg, 0), 0);
	tu_bump8(data, off + 24 + 5);
	memcpy(before, data, sizeof before);
	ck_assert_int_eq(shmf_recv(b, got, sizeof got, &n, 0), SHMF_ECRC);
	ck_assert_int_eq(shmf_recv(b, got, sizeof got, &n, 0), SHMF_ECRC); /* sticky */
	ck_assert(memcmp(before, data, sizeof before) == 0);
	tu_unmap(seg, size);
	shmf_close(b);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

/* ---- a truncation while an attach looks --------------------------------------------------- */

/* The linker's --wrap (tests/CMakeLists.txt) sends the library's calls of
 * shmf_os_guard_register() through the function below: when armed with a name, it truncates that
 * file to nothing just after the attach has mapped it and put the mapping under the guard, before
 * the attach reads a byte of it. */
static const char *cut_on_register;

int __real_shmf_os_guard_register(unsigned char *base, uint64_t size);
int __wrap_shmf_os_guard_register(unsigned char *base, uint64_t size);
int __wrap_shmf_os_guard_register(unsigned char *base, uint64_t size)
{
	int slot = __real_shmf_os_guard_register(base, size);
	const char *name = cut_on_register;

	cut_on_register = NULL;
	if (name != NULL) {
		cutter c = {name, 0, 0};
		cut(&c);
	}
	return slot;
}

/* PROTOCOL.md 9.6: what an attach reads of the zero pages the guard maps (a header that is not
 * ready, a bad magic, rings out of place) is no finding about the segment: the attach reports
 * SHMF_ETRUNCATED, as every other call does, and leaves nothing mapped or open. */
START_TEST(test_a_truncation_while_an_attach_looks_is_etruncated)
{
	char name[96];
	shmf_config cfg;
	shmf_channel *a, *b = NULL;
	int fds;

	shmf_config_init(&cfg);
	cfg.capacity = 8192;
	cfg.max_message = 64;
	ck_assert_int_eq(shmf_sigbus_guard(1), 0); /* first: the creator's mapping is cut too */
	ck_assert_int_eq(shmf_create(tu_name(name, "attachcut"), &cfg, &a), 0);
	fds = tu_count_fds();
	cut_on_register = name;
	ck_assert_int_eq(shmf_attach(name, SHMF_SIDE_B, 0, &b), SHMF_ETRUNCATED);
	ck_assert_ptr_null(cut_on_register);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(tu_count_fds(), fds);
	shmf_close(a); /* its mapping was cut too: under the guard still */
	shmf_unlink(name);
	ck_assert_int_eq(shmf_sigbus_guard(0), 0);
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
	tcase_add_test(tc, test_sent_sigbus_reaches_the_previous_handler_and_spares_the_channel);
	tcase_add_test(tc, test_sent_sigbus_stays_ignored_and_the_guard_stays_on);
	tcase_add_test(tc, test_sent_sigbus_ignored_with_siginfo_flag_stays_ignored);
	tcase_add_test(tc, test_sent_sigbus_still_kills);
	tcase_add_test(tc, test_guard_off_twice_and_a_full_table);
	tcase_add_test(tc, test_without_the_guard_truncation_kills);
	tcase_add_test(tc, test_the_reader_never_writes_the_ring_it_reads);
	tcase_add_test(tc, test_a_truncation_while_an_attach_looks_is_etruncated);
	suite_add_tcase(s, tc);
	return tu_main(s);
}
