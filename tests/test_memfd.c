/* test_memfd.c - the sealed memfd transport (PROTOCOL.md 9.5): handed over a Unix socket, sealed
 * against truncation, refused without its seals or from a user not allowed, and with roles whose
 * locks stay separate (peer gone is still seen). */
#include "testutil.h"

#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static shmf_config small(void)
{
	shmf_config cfg;

	shmf_config_init(&cfg);
	cfg.capacity = 4096;
	cfg.max_message = 256;
	return cfg;
}

/* Child: receive the segment, check the seals hold, echo `rounds` messages, exit 0. */
static void child_peer(int sock, int rounds)
{
	int fd = -1, rc;
	shmf_channel *b;
	char buf[256];
	size_t n;
	struct stat st;

	if ((rc = shmf_recv_fd(sock, -1, &fd)) != 0)
		tu_exit(10);
	if (fstat(fd, &st) != 0)
		tu_exit(11);
	/* The peer cannot shrink, grow or unseal it: 1000 tries each. */
	for (int i = 0; i < 1000; i++) {
		if (ftruncate(fd, 0) == 0 || errno != EPERM)
			tu_exit(12);
		if (ftruncate(fd, st.st_size / 2) == 0 || errno != EPERM)
			tu_exit(13);
		if (ftruncate(fd, st.st_size * 2) == 0 || errno != EPERM)
			tu_exit(14);
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0 || errno != EPERM)
		tu_exit(15);
	if ((rc = shmf_attach_fd(fd, SHMF_SIDE_B, &b)) != 0)
		tu_exit(16);
	close(fd); /* the channel holds its own */
	for (int i = 0; i < rounds; i++) {
		if (shmf_recv(b, buf, sizeof buf, &n, 10000) != 0)
			tu_exit(17);
		if (shmf_send(b, buf, n, 10000) != 0)
			tu_exit(18);
	}
	shmf_close(b);
	tu_exit(0);
}

START_TEST(test_memfd_channel_works_end_to_end_and_is_sealed)
{
	int sv[2], status;
	shmf_config cfg = small();
	shmf_channel *a;
	char buf[256];
	size_t n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		child_peer(sv[1], 100);
	}
	close(sv[1]);
	ck_assert_int_eq(shmf_create_memfd(&cfg, &a), 0);
	ck_assert_int_eq(shmf_send_fd(a, sv[0]), 0);
	for (int i = 0; i < 100; i++) {
		int len = snprintf(buf, sizeof buf, "message %d", i);
		ck_assert_int_eq(shmf_send(a, buf, (size_t)len, 10000), 0);
		char got[256];
		ck_assert_int_eq(shmf_recv(a, got, sizeof got, &n, 10000), 0);
		ck_assert_uint_eq(n, (size_t)len);
		ck_assert_mem_eq(got, buf, n);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "peer exit %d",
	              WEXITSTATUS(status));
	close(sv[0]);
	shmf_close(a);
}
END_TEST

/* The roles of a memfd channel have separate locks: a dead peer is seen as gone. */
START_TEST(test_memfd_peer_death_is_seen)
{
	int sv[2], status;
	shmf_config cfg = small();
	shmf_channel *a;
	char c;
	size_t n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd;
		shmf_channel *b;
		close(sv[0]);
		if (shmf_recv_fd(sv[1], -1, &fd) != 0 || shmf_attach_fd(fd, SHMF_SIDE_B, &b) != 0)
			tu_exit(3);
		if (write(sv[1], "r", 1) != 1)
			tu_exit(4);
		pause(); /* until killed */
		tu_exit(5);
	}
	close(sv[1]);
	ck_assert_int_eq(shmf_create_memfd(&cfg, &a), 0);
	ck_assert_int_eq(shmf_send_fd(a, sv[0]), 0);
	ck_assert_int_eq(read(sv[0], &c, 1), 1);                       /* the peer is attached */
	ck_assert_int_eq(shmf_recv(a, &c, 1, &n, 50), SHMF_ETIMEDOUT); /* alive: we wait */
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ck_assert_int_eq(shmf_recv(a, &c, 1, &n, 5000), SHMF_EPEERGONE);
	close(sv[0]);
	shmf_close(a);
}
END_TEST

START_TEST(test_attach_fd_refuses_an_unsealed_descriptor)
{
	char name[96];
	shmf_config cfg = small();
	shmf_channel *a, *b = NULL;

	/* A memfd without seals, with its segment formatted by a named create's bytes. */
	tu_name(name, "unsealed");
	ck_assert_int_eq(shmf_create(name, &cfg, &a), 0);
	int named = shm_open(name, O_RDWR, 0);
	ck_assert_int_ge(named, 0);
	ck_assert_int_eq(shmf_attach_fd(named, SHMF_SIDE_B, &b), SHMF_ESEALS); /* no seals at all */
	ck_assert_ptr_null(b);

	int m = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(shmf_attach_fd(m, SHMF_SIDE_B, &b), SHMF_ESEALS);
	ck_assert_int_eq(fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	ck_assert_int_eq(shmf_attach_fd(m, SHMF_SIDE_B, &b), SHMF_ESEALS); /* one of three */
	ck_assert_int_eq(fcntl(m, F_ADD_SEALS, F_SEAL_GROW), 0);
	ck_assert_int_eq(shmf_attach_fd(m, SHMF_SIDE_B, &b), SHMF_ESEALS); /* two of three */
	int u = memfd_create("u", MFD_CLOEXEC); /* sealing not allowed: F_SEAL_SEAL already set */
	ck_assert_int_ge(u, 0);
	ck_assert_int_eq(shmf_attach_fd(u, SHMF_SIDE_B, &b), SHMF_ESEALS);
	ck_assert_int_eq(shmf_attach_fd(-1, SHMF_SIDE_B, &b), SHMF_EINVAL);
	ck_assert_int_eq(shmf_attach_fd(m, 3, &b), SHMF_EINVAL);
	ck_assert_int_eq(shmf_attach_fd(m, SHMF_SIDE_B, NULL), SHMF_EINVAL);
	close(u);
	close(m);
	close(named);
	shmf_close(a);
	shmf_unlink(name);
}
END_TEST

/* A sealed descriptor still gets every check of 6.2: here an empty one (A5). */
START_TEST(test_attach_fd_still_checks_the_segment)
{
	shmf_channel *b = NULL;
	int m = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(ftruncate(m, 8192), 0);
	ck_assert_int_eq(fchmod(m, 0600), 0);
	ck_assert_int_eq(fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
	ck_assert_int_eq(shmf_attach_fd(m, SHMF_SIDE_B, &b), SHMF_ENOTREADY); /* all zero */
	ck_assert_ptr_null(b);
	close(m);
}
END_TEST

START_TEST(test_recv_fd_refuses_a_peer_of_another_uid)
{
	int sv[2], fd = -1;
	shmf_config cfg = small();
	shmf_channel *a;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(shmf_create_memfd(&cfg, &a), 0);
	ck_assert_int_eq(shmf_send_fd(a, sv[0]), 0);
	int before = tu_count_fds();
	ck_assert_int_eq(shmf_recv_fd(sv[1], (int)getuid() + 12345, &fd), SHMF_EPEERCRED);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(tu_count_fds(), before); /* the descriptor that came was closed */
	/* The allowed uid, given explicitly, is accepted. */
	ck_assert_int_eq(shmf_send_fd(a, sv[0]), 0);
	ck_assert_int_eq(shmf_recv_fd(sv[1], (int)geteuid(), &fd), 0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	shmf_close(a);
}
END_TEST

START_TEST(test_recv_fd_refuses_malformed_messages)
{
	int sv[2], fd = -1;
	shmf_config cfg = small();
	shmf_channel *a;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(send(sv[0], "S", 1, 0), 1); /* no descriptor */
	ck_assert_int_eq(shmf_recv_fd(sv[1], -1, &fd), SHMF_EINVAL);
	ck_assert_int_eq(shmf_recv_fd(sv[1], -1, NULL), SHMF_EINVAL);
	ck_assert_int_eq(shmf_recv_fd(-1, -1, &fd), SHMF_EINVAL);
	ck_assert_int_eq(shmf_recv_fd(sv[1], -7, &fd), SHMF_EINVAL);
	ck_assert_int_eq(shmf_create_memfd(&cfg, &a), 0);
	ck_assert_int_eq(shmf_send_fd(NULL, sv[0]), SHMF_EINVAL);
	ck_assert_int_eq(shmf_send_fd(a, -1), SHMF_EINVAL);
	ck_assert_int_eq(shmf_create_memfd(&cfg, NULL), SHMF_EINVAL);
	close(sv[0]);
	ck_assert_int_eq(shmf_recv_fd(sv[1], -1, &fd), SHMF_EPEERCLOSED); /* the peer hung up */
	ck_assert_int_eq(shmf_send_fd(a, sv[1]), SHMF_ESYS);              /* EPIPE, no SIGPIPE */
	ck_assert_int_eq(errno, EPIPE);
	close(sv[1]);
	shmf_close(a);
}
END_TEST

/* Send `nbytes` bytes and `n` descriptors in one message, as a hostile peer could. */
static void send_fds(int sock, const char *bytes, size_t nbytes, const int *fds, int n)
{
	char data[16];
	struct iovec iov = {.iov_base = data, .iov_len = nbytes};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {0};

	ck_assert_uint_le(nbytes, sizeof data);
	memcpy(data, bytes, nbytes);
	memset(&u, 0, sizeof u);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
	ck_assert_int_eq(sendmsg(sock, &msg, 0), (ssize_t)nbytes);
}

/* The next message on sock is refused with SHMF_EINVAL, *fd untouched, and every descriptor that
 * came is closed: `open` are open, as before it came. */
static void expect_refused(int sock, int open)
{
	int fd = -1;

	ck_assert_int_eq(shmf_recv_fd(sock, -1, &fd), SHMF_EINVAL);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(tu_count_fds(), open);
}

/* The next message on sock is taken: one descriptor more than `open`, which is closed again. */
static void expect_taken(int sock, int open)
{
	int fd = -1;

	ck_assert_int_eq(shmf_recv_fd(sock, -1, &fd), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(tu_count_fds(), open + 1);
	close(fd);
}

/* PROTOCOL.md 9.5: exactly one descriptor. Two or more are refused, not picked from, and every
 * one that came is closed; credentials messages beside a single descriptor are skipped. */
START_TEST(test_recv_fd_refuses_more_than_one_descriptor_and_closes_them_all)
{
	int sv[2], on = 1;
	int fds[6];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
	for (int i = 0; i < 6; i++)
		fds[i] = memfd_create("x", MFD_CLOEXEC);
	int before = tu_count_fds();
	send_fds(sv[0], "S", 1, fds, 2);
	expect_refused(sv[1], before);
	send_fds(sv[0], "S", 1, fds, 3);
	expect_refused(sv[1], before);
	send_fds(sv[0], "S", 1, fds, 6); /* more than the library has room for: truncated */
	expect_refused(sv[1], before);
	send_fds(sv[0], "S", 1, fds, 1); /* one, beside the credentials */
	expect_taken(sv[1], before);
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* PROTOCOL.md 9.5: exactly one byte. On a socket that keeps message boundaries (SOCK_SEQPACKET,
 * SOCK_DGRAM), a longer message ("SXYZ", its first byte the right one) or another byte is refused
 * and its descriptor closed; the next well-formed message is still taken. */
START_TEST(test_recv_fd_refuses_a_message_longer_than_one_byte_and_closes_its_descriptor)
{
	static const int types[] = {SOCK_SEQPACKET, SOCK_DGRAM};
	int m = memfd_create("x", MFD_CLOEXEC);

	ck_assert_int_ge(m, 0);
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		int sv[2];
		ck_assert_int_eq(socketpair(AF_UNIX, types[t], 0, sv), 0);
		int before = tu_count_fds();
		send_fds(sv[0], "SXYZ", 4, &m, 1);
		expect_refused(sv[1], before);
		send_fds(sv[0], "X", 1, &m, 1);
		expect_refused(sv[1], before);
		send_fds(sv[0], "S", 1, &m, 1); /* nothing of "SXYZ" is left to confuse it */
		expect_taken(sv[1], before);
		close(sv[0]);
		close(sv[1]);
	}
	close(m);
}
END_TEST

/* A memfd channel as side A, and n descriptors of its file as a peer receives them (shmf_send_fd
 * then shmf_recv_fd), each with an open file description of its own. */
static shmf_channel *memfd_and_fds(int *fds, int n)
{
	int sv[2];
	shmf_config cfg = small();
	shmf_channel *a;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(shmf_create_memfd(&cfg, &a), 0);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(shmf_send_fd(a, sv[0]), 0);
		ck_assert_int_eq(shmf_recv_fd(sv[1], -1, &fds[i]), 0);
	}
	close(sv[0]);
	close(sv[1]);
	return a;
}

/* The role lock belongs to an open file description (PROTOCOL.md 7). shmf_attach_fd attaches
 * through a description of its own, so that (1) a second attach of the same side through the same
 * fd finds the role taken, as a second process would, and (2) closing the channel gives the role
 * back, although the caller keeps its fd open: through a dup of the caller's description the
 * second attach took the role again, and the caller's description kept it after shmf_close. */
START_TEST(test_attach_fd_twice_through_one_fd_finds_the_role_taken_until_close)
{
	int fd = -1;
	shmf_channel *a = memfd_and_fds(&fd, 1), *b1 = NULL, *b2 = NULL;
	char path[64], c = 'x';
	size_t n;

	int before = tu_count_fds();
	ck_assert_int_eq(shmf_attach_fd(fd, SHMF_SIDE_B, &b1), 0);
	ck_assert_int_eq(shmf_attach_fd(fd, SHMF_SIDE_B, &b2), SHMF_EROLEBUSY);
	ck_assert_ptr_null(b2);
	ck_assert_int_eq(tu_count_fds(), before + 1); /* b1's descriptor only */
	ck_assert_int_eq(shmf_send(a, &c, 1, 0), 0);
	ck_assert_int_eq(shmf_recv(b1, &c, 1, &n, 0), 0);
	ck_assert_int_eq(shmf_close(b1), 0);
	ck_assert_int_eq(tu_count_fds(), before);

	/* Released on close: a description that nobody shared takes the role... */
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int fresh = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fresh, 0);
	ck_assert_int_eq(shmf_attach_fd(fresh, SHMF_SIDE_B, &b1), 0);
	ck_assert_int_eq(shmf_attach_fd(fd, SHMF_SIDE_B, &b2), SHMF_EROLEBUSY);
	ck_assert_ptr_null(b2);
	ck_assert_int_eq(shmf_close(b1), 0);
	close(fresh);
	/* ...and so does the caller's fd again, which it kept open all along. */
	ck_assert_int_eq(shmf_attach_fd(fd, SHMF_SIDE_B, &b1), 0);
	ck_assert_int_eq(shmf_send(b1, "y", 1, 0), 0);
	ck_assert_int_eq(shmf_recv(a, &c, 1, &n, 0), 0);
	ck_assert_int_eq(c, 'y');
	ck_assert_int_eq(shmf_close(b1), 0);
	ck_assert_int_eq(tu_count_fds(), before);
	close(fd);
	shmf_close(a);
}
END_TEST

/* Give up the capabilities that let root open a file its mode forbids (a no-op for other users).
 * 0, or -1 when they could not be dropped. */
static int drop_dac_override(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	const uint32_t dac = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);

	if (syscall(SYS_capget, &hdr, data) != 0)
		return -1;
	data[0].effective &= ~dac;
	data[0].permitted &= ~dac;
	data[0].inheritable &= ~dac;
	return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -1;
}

/* Where the file's mode forbids opening it anew (here 0400: a peer of another uid would meet its
 * creator's 0600), shmf_attach_fd falls back to a dup of the caller's descriptor, whose open file
 * description the caller keeps. The role must still come back on shmf_close, and only then: not
 * when a forked child closes its copy of the channel. A second descriptor of the file, with a
 * description of its own, sees the role as another process would. In a child, which gives up
 * root's override of file modes; its exit code names the step that went wrong. */
START_TEST(test_attach_fd_through_a_dup_gives_the_role_back_on_close_only)
{
	int fds[2], status;
	shmf_channel *a = memfd_and_fds(fds, 2);
	int fd = fds[0], other = fds[1];

	ck_assert_int_eq(fchmod(fd, 0400), 0); /* narrower than the header's 0600: A15 allows it */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		shmf_channel *b, *x = NULL;
		char path[64];
		size_t n;
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (drop_dac_override() != 0)
			tu_exit(77);
		int f = open(path, O_RDWR | O_CLOEXEC);
		if (f >= 0 || errno != EACCES) /* the file cannot be reopened: the fallback it is */
			tu_exit(f >= 0 ? 77 : 20);
		if (shmf_attach_fd(fd, SHMF_SIDE_B, &b) != 0)
			tu_exit(21);
		if (shmf_attach_fd(other, SHMF_SIDE_B, &x) != SHMF_EROLEBUSY || x != NULL)
			tu_exit(22);
		pid_t gc = fork(); /* a child's close of its copy leaves the role held */
		if (gc == 0) {
			shmf_close(b);
			tu_exit(0);
		}
		if (gc < 0 || waitpid(gc, &status, 0) != gc || status != 0)
			tu_exit(23);
		if (shmf_attach_fd(other, SHMF_SIDE_B, &x) != SHMF_EROLEBUSY)
			tu_exit(24);
		if (shmf_send(a, "m", 1, 0) != 0 || shmf_recv(b, path, 1, &n, 0) != 0 || n != 1)
			tu_exit(25);    /* and the channel still works */
		if (shmf_close(b) != 0) /* fd, and so its description, stays open */
			tu_exit(26);
		if (shmf_attach_fd(other, SHMF_SIDE_B, &x) != 0)
			tu_exit(27);
		shmf_close(x);
		if (shmf_attach_fd(fd, SHMF_SIDE_B, &b) != 0)
			tu_exit(28);
		shmf_close(b);
		tu_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		fprintf(stderr,
		        "memfd: the file could be reopened despite its mode (capabilities not "
		        "dropped?): the dup fallback is not tested\n");
	} else {
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
	}
	close(fd);
	close(other);
	shmf_close(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memfd");
	TCase *tc = tcase_create("memfd");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_memfd_channel_works_end_to_end_and_is_sealed);
	tcase_add_test(tc, test_memfd_peer_death_is_seen);
	tcase_add_test(tc, test_attach_fd_refuses_an_unsealed_descriptor);
	tcase_add_test(tc, test_attach_fd_still_checks_the_segment);
	tcase_add_test(tc, test_recv_fd_refuses_a_peer_of_another_uid);
	tcase_add_test(tc, test_recv_fd_refuses_malformed_messages);
	tcase_add_test(tc, test_recv_fd_refuses_more_than_one_descriptor_and_closes_them_all);
	tcase_add_test(
	        tc, test_recv_fd_refuses_a_message_longer_than_one_byte_and_closes_its_descriptor);
	tcase_add_test(tc, test_attach_fd_twice_through_one_fd_finds_the_role_taken_until_close);
	tcase_add_test(tc, test_attach_fd_through_a_dup_gives_the_role_back_on_close_only);
	suite_add_tcase(s, tc);
	return tu_main(s);
}
