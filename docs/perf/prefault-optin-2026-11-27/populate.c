/* populate.c - MADV_POPULATE_READ against MADV_POPULATE_WRITE on 4 MiB of a shared tmpfs mapping,
 * as shmf_prefault() meets it: pages allocated by posix_fallocate and already written once (an
 * attacher's), and pages fresh from posix_fallocate (the first side to touch them, which has
 * them zeroed). Then a store to every page after each, counting minor faults. 21 reps of each,
 * alternating; medians and ranges in ms (summary.txt beside it). Not part of the build:
 *   gcc -O2 docs/perf/prefault-optin-2026-11-27/populate.c -o /tmp/populate && /tmp/populate */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define LEN  ((size_t)4 << 20)
#define REPS 21

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static long minflt(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return u.ru_minflt;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One populate of a fresh mapping of fd; *faults: minor faults of a store to every page after. */
static double one(int fd, int advice, long *faults)
{
	unsigned char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	double t0, t1;
	long f0;

	if (p == MAP_FAILED)
		exit(1);
	t0 = now_ms();
	if (madvise(p, LEN, advice) != 0)
		exit(2);
	t1 = now_ms();
	f0 = minflt();
	for (size_t i = 0; i < LEN; i += 4096)
		p[i] = 1;
	*faults = minflt() - f0;
	munmap(p, LEN);
	return t1 - t0;
}

static int new_file(void)
{
	int fd = shm_open("/populate-ab", O_CREAT | O_EXCL | O_RDWR, 0600);

	if (fd < 0 || posix_fallocate(fd, 0, LEN) != 0)
		exit(3);
	shm_unlink("/populate-ab");
	return fd;
}

static void report(const char *what, double *v, long faults)
{
	qsort(v, REPS, sizeof *v, cmp);
	printf("%-34s %.3f ms (%.3f - %.3f), faults after: %ld\n", what, v[REPS / 2], v[0],
	       v[REPS - 1], faults);
}

int main(void)
{
	double wr[REPS], ww[REPS], fr[REPS], fw[REPS];
	long f_wr = 0, f_ww = 0, f_fr = 0, f_fw = 0, f;
	int fd = new_file();

	(void)one(fd, MADV_POPULATE_WRITE, &f); /* written once: an attacher's pages */
	for (int i = 0; i < REPS; i++) {
		wr[i] = one(fd, MADV_POPULATE_READ, &f);
		f_wr += f;
		ww[i] = one(fd, MADV_POPULATE_WRITE, &f);
		f_ww += f;
		int a = new_file(), b = new_file();
		fr[i] = one(a, MADV_POPULATE_READ, &f);
		f_fr += f;
		fw[i] = one(b, MADV_POPULATE_WRITE, &f);
		f_fw += f;
		close(a);
		close(b);
	}
	close(fd);
	report("written before, POPULATE_READ", wr, f_wr);
	report("written before, POPULATE_WRITE", ww, f_ww);
	report("fresh from fallocate, POPULATE_READ", fr, f_fr);
	report("fresh from fallocate, POPULATE_WRITE", fw, f_fw);
	return 0;
}
