/* standalone_driver.c - a main() for the fuzz targets without a fuzzing engine.
 *
 *   fuzz_TARGET FILE|DIR...   run every file given, and every regular file of every directory
 *                             given (sorted by name, not recursive), through
 *                             LLVMFuzzerTestOneInput, each in an exact-size heap copy; print how
 *                             many ran. Exit 1 when nothing ran or a file cannot be read.
 *
 * Built with gcc or clang for the ctest replays (fuzz_replay_TARGET), and with afl-clang-fast
 * for AFL++: there, started with no argument, it runs AFL++'s shared-memory persistent loop
 * (__AFL_FUZZ_TESTCASE_BUF / __AFL_LOOP, both provided by afl-clang-fast).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

static unsigned long ran;

/* Read the whole file into an exact-size heap buffer (1 byte for an empty file, size 0). */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	struct stat st;
	size_t n;

	if (f == NULL || fstat(fileno(f), &st) != 0 || st.st_size < 0) {
		fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	n = (size_t)st.st_size;
	buf = malloc(n != 0 ? n : 1);
	if (buf == NULL || fread(buf, 1, n, f) != n) {
		fprintf(stderr, "cannot read %s\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (getenv("SHMF_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "running %s (%zu bytes)\n", path, n);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	ran++;
	return 0;
}

static int run_dir(const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	int rc = 0;

	if (n < 0) {
		fprintf(stderr, "cannot list %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (ents[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof path, "%s/%s", dir, ents[i]->d_name) <
		            sizeof path &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode) && run_file(path) != 0)
			rc = -1;
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;

#ifdef __AFL_FUZZ_TESTCASE_LEN
	if (argc < 2) {
		__AFL_INIT();
		unsigned char *shared = __AFL_FUZZ_TESTCASE_BUF;
		while (__AFL_LOOP(10000)) {
			size_t n = (size_t)__AFL_FUZZ_TESTCASE_LEN;
			unsigned char *copy = malloc(n != 0 ? n : 1);
			if (copy == NULL)
				abort();
			if (n != 0)
				memcpy(copy, shared, n);
			LLVMFuzzerTestOneInput(copy, n);
			free(copy);
		}
		return 0;
	}
#endif
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "cannot stat %s: %s\n", argv[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			rc |= run_dir(argv[i]) != 0;
		} else {
			rc |= run_file(argv[i]) != 0;
		}
	}
	printf("%s: ran %lu inputs\n", argv[0], ran);
	if (ran == 0)
		rc = 1;
	return rc;
}
