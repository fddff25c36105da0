/* consumer.c - builds against an installed shmframe and sends one message to itself. */
#include <shmframe.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char name[64], buf[16];
	shmf_channel *a, *b;
	size_t len = 0;
	int rc;

	snprintf(name, sizeof name, "/shmframe-consumer-%ld", (long)getpid());
	if ((rc = shmf_create(name, NULL, &a)) != 0 || (rc = shmf_open(name, &b)) != 0) {
		fprintf(stderr, "consumer: %s\n", shmf_strerror(rc));
		shmf_unlink(name);
		return 1;
	}
	rc = shmf_send(a, "ping", 4, 0);
	if (rc == 0)
		rc = shmf_recv(b, buf, sizeof buf, &len, 0);
	shmf_close(b);
	shmf_close(a);
	shmf_unlink(name);
	if (rc != 0 || len != 4 || memcmp(buf, "ping", 4) != 0) {
		fprintf(stderr, "consumer: %s\n", shmf_strerror(rc));
		return 1;
	}
	printf("consumer: shmframe %s works\n", shmf_version());
	return 0;
}
