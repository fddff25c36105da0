/* fuzz.h - what every shmframe fuzz target shares: the libFuzzer entry point's prototype (the
 * project builds with -Wmissing-prototypes) and the check macro that turns a failed oracle into
 * a crash every engine records (abort: libFuzzer's "deadly signal", AFL's crash, a failing ctest
 * replay).
 */
#ifndef SHMF_FUZZ_H
#define SHMF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: oracle failed: %s: ", __FILE__, __LINE__, #cond);  \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
