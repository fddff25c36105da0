/* reader.c - the tutorial's reader, rebuilt on shmframe.
 *
 * It attaches to the writer's channel (waiting for it to appear), receives ten messages and
 * answers each with "Hello from Reader!". Every error is reported with shmf_strerror().
 *
 * usage: shmf_reader NAME
 */
#include <shmframe.h>

#include <stdio.h>
#include <string.h>

#define ROUNDS     10
#define TIMEOUT_MS 10000

static int fail(const char *what, int rc)
{
	fprintf(stderr, "reader: %s: %s\n", what, shmf_strerror(rc));
	return 1;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "/shmframe-demo";
	const char *msg = "Hello from Reader!";
	char buf[256];
	shmf_channel *ch;
	int rc, status = 0;

	if ((rc = shmf_attach(name, SHMF_SIDE_B, TIMEOUT_MS, &ch)) != 0)
		return fail("attach", rc);
	for (int i = 0; i < ROUNDS; i++) {
		size_t len;
		if ((rc = shmf_recv(ch, buf, sizeof buf - 1, &len, TIMEOUT_MS)) != 0) {
			status = fail("recv", rc);
			break;
		}
		buf[len] = '\0';
		printf("Reader received: %s\n", buf);
		printf("sending : %s\n", msg);
		fflush(stdout);
		if ((rc = shmf_send(ch, msg, strlen(msg), TIMEOUT_MS)) != 0) {
			status = fail("send", rc);
			break;
		}
	}
	shmf_close(ch);
	return status;
}
