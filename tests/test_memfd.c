/* test_memfd.c - the sealed memfd transport (PROTOCOL.md 9.5): handed over a Unix socket, sealed
 * against truncation, refused without its seals or from a user not allowed, and with roles whose
 * locks stay separate (peer gone is still seen). */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

static shmf_config small(void)
{
	shmf_config cfg;

	shmf_config_init(&cfg);
	cfg.capacity = 4096;
	cfg.max_message = 256;
	return cfg;
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
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
	int before = count_fds();
	ck_assert_int_eq(shmf_recv_fd(sv[1], (int)getuid() + 12345, &fd), SHMF_EPEERCRED);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(count_fds(), before); /* the descriptor that came was closed */
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

/* Send `n` descriptors in one message, as a hostile peer could. */
static void send_fds(int sock, const int *fds, int n)
{
	char byte = 'S';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {0};

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
	ck_assert_int_eq(sendmsg(sock, &msg, 0), 1);
}

/* Extra descriptors are closed, credentials messages skipped, too many descriptors refused. */
START_TEST(test_recv_fd_takes_one_descriptor_and_closes_the_rest)
{
	int sv[2], fd = -1, on = 1;
	int fds[6];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
	for (int i = 0; i < 6; i++)
		fds[i] = memfd_create("x", MFD_CLOEXEC);
	int before = count_fds();
	send_fds(sv[0], fds, 3);
	ck_assert_int_eq(shmf_recv_fd(sv[1], -1, &fd), 0);
	ck_assert_int_eq(count_fds(), before + 1); /* one kept, two closed */
	close(fd);
	send_fds(sv[0], fds, 6); /* more than the library takes: truncated, refused */
	ck_assert_int_eq(shmf_recv_fd(sv[1], -1, &fd), SHMF_EINVAL);
	ck_assert_int_eq(count_fds(), before);
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
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
	tcase_add_test(tc, test_recv_fd_takes_one_descriptor_and_closes_the_rest);
	suite_add_tcase(s, tc);
	return tu_main(s);
}
