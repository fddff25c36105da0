/* names.c - fuzz target: shmf_name_check (PROTOCOL.md 9.4).
 *
 * Input: the name's bytes; the harness appends the NUL in an exact-size heap copy (so the name
 * ends at the end of the allocation, and a NUL inside the input ends it early, as C does).
 * Oracle: the verdict equals fz_name_valid() in oracle.h, an independent reading of 9.4, and is 0
 * or SHMF_ENAME; for a name the oracle refuses, shmf_create, shmf_open, shmf_attach and
 * shmf_unlink also answer SHMF_ENAME (A1), before any system call could create or remove
 * anything, and hand back no channel.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int checked;
	char *name = malloc(size + 1u);
	int valid, rc;

	FZ_CHECK(name != NULL, "out of memory");
	if (!checked) {
		FZ_CHECK(shmf_name_check(NULL) == SHMF_ENAME, "NULL name");
		checked = 1;
	}
	if (size != 0)
		memcpy(name, data, size);
	name[size] = '\0';
	valid = fz_name_valid(name);
	rc = shmf_name_check(name);
	FZ_CHECK(rc == 0 || rc == SHMF_ENAME, "shmf_name_check returned %d", rc);
	FZ_CHECK((rc == 0) == (valid != 0), "library says %d, PROTOCOL.md 9.4 says %s (%zu bytes)",
	         rc, valid ? "valid" : "invalid", strlen(name));
	if (!valid) {
		shmf_channel *ch = (shmf_channel *)(uintptr_t)1;
		FZ_CHECK(shmf_create(name, NULL, &ch) == SHMF_ENAME && ch == NULL, "create");
		ch = (shmf_channel *)(uintptr_t)1;
		FZ_CHECK(shmf_open(name, &ch) == SHMF_ENAME && ch == NULL, "open");
		ch = (shmf_channel *)(uintptr_t)1;
		FZ_CHECK(shmf_attach(name, SHMF_SIDE_A, 0, &ch) == SHMF_ENAME && ch == NULL,
		         "attach");
		FZ_CHECK(shmf_unlink(name) == SHMF_ENAME, "unlink");
	}
	free(name);
	return 0;
}
