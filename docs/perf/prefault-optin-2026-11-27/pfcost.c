/* pfcost.c - what create, attach and shmf_prefault() take, 21 cycles of the default segment in
 * one process; medians and ranges in ms (summary.txt beside it). Not part of the build:
 *   gcc -O2 -Iinclude docs/perf/prefault-optin-2026-11-27/pfcost.c build/libshmframe.a */
#include "shmframe.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
static int cmp(const void *a, const void *b)
{
	double x = *(double *)a, y = *(double *)b;
	return x < y ? -1 : x > y;
}
int main(void)
{
	enum { R = 21 };
	double c[R], at[R], pa[R], pb[R];
	for (int i = 0; i < R; i++) {
		shmf_channel *a, *b;
		double t0 = now();
		if (shmf_create("/pfcost", NULL, &a))
			return 1;
		double t1 = now();
		if (shmf_attach("/pfcost", SHMF_SIDE_B, 0, &b))
			return 1;
		double t2 = now();
		int r1 = shmf_prefault(a);
		double t3 = now();
		int r2 = shmf_prefault(b);
		double t4 = now();
		if (r1 || r2)
			return 2;
		c[i] = t1 - t0;
		at[i] = t2 - t1;
		pa[i] = t3 - t2;
		pb[i] = t4 - t3;
		shmf_close(b);
		shmf_close(a);
		shmf_unlink("/pfcost");
	}
	qsort(c, R, 8, cmp);
	qsort(at, R, 8, cmp);
	qsort(pa, R, 8, cmp);
	qsort(pb, R, 8, cmp);
	printf("median of %d (min-max): create %.3f (%.3f-%.3f) ms, attach %.3f (%.3f-%.3f), "
	       "prefault A %.3f (%.3f-%.3f), prefault B %.3f (%.3f-%.3f)\n",
	       R, c[R / 2], c[0], c[R - 1], at[R / 2], at[0], at[R - 1], pa[R / 2], pa[0],
	       pa[R - 1], pb[R / 2], pb[0], pb[R - 1]);
}
