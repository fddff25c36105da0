/* boost_mq.cpp - the boost-mq transport of `shmframe bench` (issue #8's optional baseline):
 * Boost.Interprocess message_queue, behind the small C interface in bench.h.
 *
 * Compiled into the shmframe command only where CMake found the Boost.Interprocess headers and a
 * C++ compiler (tools/CMakeLists.txt); the library never sees it. bench_run.c creates two queues
 * before the fork, one a direction as for POSIX mq, and both sides use them through the mapping
 * they inherit. A queue lives in POSIX shared memory under its name (/dev/shm); the name holds
 * the bench's pid, and bench_bmq_destroy removes it however the run ended.
 *
 * No exception crosses into C: each entry point catches everything and answers with its return
 * value (NULL or -1), with Boost's reason in the note where there is one.
 */
#include "bench.h"

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <cstdio>
#include <new>
#include <string>

namespace bip = boost::interprocess;

struct bench_bmq {
	std::string name;
	bip::message_queue *mq = nullptr;
};

extern "C" struct bench_bmq *bench_bmq_create(const char *name, size_t depth, size_t size,
                                              char *note, size_t n)
{
	bench_bmq *q = nullptr;

	try {
		q = new bench_bmq;
		q->name = name;
		/* only a dead run of a process with this pid can have left this name */
		(void)bip::message_queue::remove(name);
		q->mq = new bip::message_queue(bip::create_only, name, depth, size,
		                               bip::permissions(0600));
		return q;
	} catch (const std::exception &ex) {
		(void)std::snprintf(note, n, "boost-mq: %s: %s", name, ex.what());
	} catch (...) {
		(void)std::snprintf(note, n, "boost-mq: %s: unknown exception", name);
	}
	delete q; /* q->mq is null here: its constructor threw, or was never reached */
	(void)bip::message_queue::remove(name);
	return nullptr;
}

extern "C" int bench_bmq_send(struct bench_bmq *q, const void *p, size_t len)
{
	try {
		q->mq->send(p, len, 0);
		return 0;
	} catch (...) {
		return -1;
	}
}

extern "C" int bench_bmq_recv(struct bench_bmq *q, void *p, size_t cap, size_t *got)
{
	try {
		bip::message_queue::size_type k = 0;
		unsigned int prio = 0;
		q->mq->receive(p, cap, k, prio);
		*got = k;
		return 0;
	} catch (...) {
		return -1;
	}
}

extern "C" void bench_bmq_destroy(struct bench_bmq *q)
{
	if (q == nullptr)
		return;
	try {
		delete q->mq;
		(void)bip::message_queue::remove(q->name.c_str());
	} catch (...) {
		/* nothing more to do, and no one to tell: the run's result stands */
	}
	delete q;
}
