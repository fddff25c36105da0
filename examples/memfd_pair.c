/* memfd_pair.c - the demo over the sealed memfd transport (PROTOCOL.md 9.5): the writer creates
 * a nameless, sealed segment and hands it to the reader over a Unix socket; they exchange the
 * tutorial's ten messages each way. Nothing is ever created in /dev/shm.
 *
 * usage: shmf_memfd_pair   (one command: it forks the reader itself)
 */
#include <shmframe.h>

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS     10
#define TIMEOUT_MS 10000

static int fail(const char *who, const char *what, int rc)
{
	fprintf(stderr, "%s: %s: %s\n", who, what, shmf_strerror(rc));
	return 1;
}

static int reader(int sock)
{
	const char *msg = "Hello from Reader!";
	char buf[256];
	shmf_channel *ch;
	int fd, rc, status = 0;

	/* Only a peer of our own uid may hand us a segment (-1). */
	if ((rc = shmf_recv_fd(sock, -1, &fd)) != 0)
		return fail("reader", "recv_fd", rc);
	rc = shmf_attach_fd(fd, SHMF_SIDE_B, &ch); /* refuses an unsealed descriptor */
	close(fd);
	if (rc != 0)
		return fail("reader", "attach_fd", rc);
	for (int i = 0; i < ROUNDS && status == 0; i++) {
		size_t len;
		if ((rc = shmf_recv(ch, buf, sizeof buf - 1, &len, TIMEOUT_MS)) != 0) {
			status = fail("reader", "recv", rc);
			break;
		}
		buf[len] = '\0';
		printf("Reader received: %s\n", buf);
		printf("sending : %s\n", msg);
		fflush(stdout);
		if ((rc = shmf_send(ch, msg, strlen(msg), TIMEOUT_MS)) != 0)
			status = fail("reader", "send", rc);
	}
	shmf_close(ch);
	return status;
}

static int writer(int sock)
{
	const char *msg = "Hello from Writer!";
	char buf[256];
	shmf_channel *ch;
	shmf_config cfg;
	int rc, status = 0;

	shmf_config_init(&cfg);
	cfg.capacity = 4096;
	cfg.max_message = sizeof buf - 1;
	if ((rc = shmf_create_memfd(&cfg, &ch)) != 0)
		return fail("writer", "create_memfd", rc);
	if ((rc = shmf_send_fd(ch, sock)) != 0) {
		shmf_close(ch);
		return fail("writer", "send_fd", rc);
	}
	for (int i = 0; i < ROUNDS && status == 0; i++) {
		size_t len;
		printf("sending : %s\n", msg);
		fflush(stdout);
		if ((rc = shmf_send(ch, msg, strlen(msg), TIMEOUT_MS)) != 0) {
			status = fail("writer", "send", rc);
			break;
		}
		if ((rc = shmf_recv(ch, buf, sizeof buf - 1, &len, TIMEOUT_MS)) != 0) {
			status = fail("writer", "recv", rc);
			break;
		}
		buf[len] = '\0';
		printf("Writer received: %s\n", buf);
		fflush(stdout);
	}
	shmf_close(ch);
	return status;
}

int main(void)
{
	int sv[2], status, rc;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		perror("socketpair");
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		_exit(reader(sv[1]));
	}
	close(sv[1]);
	rc = writer(sv[0]);
	close(sv[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = 1;
	if (rc == 0)
		printf("memfd demo: 10 messages each way, nothing in /dev/shm\n");
	return rc;
}
