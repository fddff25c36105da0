/* writer.c - the tutorial's writer, rebuilt on shmframe.
 *
 * It creates the channel, sends "Hello from Writer!" ten times and waits for each reply. The
 * exchange is ordered by the channel itself (a blocking receive), not by sleeps. Every error is
 * reported with shmf_strerror(), and the name is removed at the end, on success or failure.
 *
 * usage: shmf_writer NAME   (run shmf_reader NAME alongside; examples/demo.sh does both)
 */
#include <shmframe.h>

#include <stdio.h>
#include <string.h>

#define ROUNDS     10
#define TIMEOUT_MS 10000

static int fail(const char *what, int rc)
{
	fprintf(stderr, "writer: %s: %s\n", what, shmf_strerror(rc));
	return 1;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "/shmframe-demo";
	const char *msg = "Hello from Writer!";
	char buf[256];
	shmf_channel *ch;
	shmf_config cfg;
	int rc, status = 0;

	shmf_config_init(&cfg);
	cfg.capacity = 4096;
	cfg.max_message = sizeof buf - 1;
	if ((rc = shmf_create(name, &cfg, &ch)) != 0)
		return fail("create", rc);
	for (int i = 0; i < ROUNDS && status == 0; i++) {
		size_t len;
		printf("sending : %s\n", msg);
		fflush(stdout);
		if ((rc = shmf_send(ch, msg, strlen(msg), TIMEOUT_MS)) != 0) {
			status = fail("send", rc);
			break;
		}
		if ((rc = shmf_recv(ch, buf, sizeof buf - 1, &len, TIMEOUT_MS)) != 0) {
			status = fail("recv", rc);
			break;
		}
		buf[len] = '\0';
		printf("Writer received: %s\n", buf);
		fflush(stdout);
	}
	shmf_close(ch);
	if ((rc = shmf_unlink(name)) != 0 && status == 0)
		status = fail("unlink", rc);
	return status;
}
