/* name.c - segment names (PROTO 9.4). Pure. */
#include "internal.h"

#include <string.h>

int shmf_name_check(const char *name)
{
	size_t n;

	if (name == NULL || name[0] != '/')
		return SHMF_ENAME;
	n = strnlen(name, SHMF_NAME_MAX + 1);
	if (n < 2 || n > SHMF_NAME_MAX)
		return SHMF_ENAME;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x21 || c > 0x7E || c == '/')
			return SHMF_ENAME;
	}
	if (strcmp(name, "/.") == 0 || strcmp(name, "/..") == 0)
		return SHMF_ENAME;
	return 0;
}
