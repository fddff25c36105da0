/* api_ops.c - fuzz target: a program of public API calls on a real channel, in one process,
 * checked against a model of both rings.
 *
 * Setup: shmf_create (side A) then shmf_open (side B) of a fresh name "/shmf-fuzz-api-PID-N", and
 * shmf_unlink at once (the channels keep working; nothing is left behind). Input byte 0 chooses
 * the geometry: capacity 256 << (b & 3), max_message {0, 8, 100, capacity/2 - 24}[(b >> 2) & 3],
 * simplex when bit 4 is set, B batching (shmf_set_batch(capacity / 2), spin 1: the final drain
 * below then runs the stream hold) when bit 5 is set, both sides' rings prefaulted
 * (shmf_prefault, which must succeed) when bit 6 is set. Then up to 256 operations, each an input
 * byte (op & 7) and its arguments, all with timeout 0:
 *   0 A sends L bytes          (L: 2 bytes, modulo max_message + 2, so EMSGSIZE happens)
 *   1 B sends L bytes          (ENOTSUP on a simplex channel)
 *   2 B receives               (buffer: next byte c, c == 0 ? max_message : c - 1 bytes)
 *   3 A receives               (same)
 *   4 B peeks                  5 B releases
 *   6 A reserves L bytes       7 A commits K bytes (next byte; K > L gives EINVAL)
 * Finally A closes, and B drains ring 0 with no timeout (-1): it must get every message still in
 * the ring, then SHMF_EPEERCLOSED at once (PROTOCOL.md 7: data first, then the peer's
 * departure); a receive that failed to notice would hang, which the engines report.
 *
 * Model: per ring, the writer's private position, the reader's last stored rpos, and the queue of
 * published frames (PAD or MSG, with their end positions), following PROTOCOL.md 5.2 (room,
 * PAD, skipped tails) and 5.4 (rpos stored at each consume). Oracle: every call returns the
 * model's code; every payload received (copied or peeked) has the model's length and the bytes
 * that were sent; SHMF_ETOOSMALL reports the model's length; the zero-copy pointers lie inside
 * the reservation's room.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "oracle.h"

#define FZ_MAX_OPS 256
#define FZ_QUEUE   1024

typedef struct fz_entry {
	int pad;
	uint64_t end; /* ring position after the frame */
	uint32_t len;
	uint32_t tag; /* payload byte i is (tag + i * 7) & 0xFF */
} fz_entry;

typedef struct fz_ring {
	uint64_t cap;
	uint64_t wpriv;   /* the writer's private position (skips included) */
	uint64_t rshared; /* the rpos the reader last stored */
	fz_entry q[FZ_QUEUE];
	size_t head, n;
	int reserved;
	size_t reserved_len;
	uint32_t reserved_tag;
	int peeked;
	uint32_t tags;
} fz_ring;

static const uint8_t *in;
static size_t in_len, in_off;

static unsigned take(size_t n)
{
	unsigned v = 0;
	for (size_t i = 0; i < n && in_off < in_len; i++)
		v |= (unsigned)in[in_off++] << (8u * i);
	return v;
}

static void fill(uint8_t *p, size_t n, uint32_t tag)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((tag + i * 7u) & 0xFFu);
}

static int same(const uint8_t *p, size_t n, uint32_t tag)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)((tag + i * 7u) & 0xFFu))
			return 0;
	return 1;
}

static void push(fz_ring *r, int pad, uint64_t end, uint32_t len, uint32_t tag)
{
	FZ_CHECK(r->n < FZ_QUEUE, "model queue full");
	fz_entry *e = &r->q[(r->head + r->n) % FZ_QUEUE];
	e->pad = pad;
	e->end = end;
	e->len = len;
	e->tag = tag;
	r->n++;
}

/* PROTO 5.2 steps 1-2: room for `len`, then the end of the lap. 0 or SHMF_EAGAIN. */
static int model_reserve(fz_ring *r, size_t len)
{
	uint64_t size = fz_align8(FZ_FRAME_HDR + len);
	uint64_t tail = r->cap - (r->wpriv & (r->cap - 1u));
	uint64_t need = size <= tail ? size : tail + size;

	if (r->wpriv + need - r->rshared > r->cap)
		return SHMF_EAGAIN;
	if (size > tail) {
		if (tail >= FZ_FRAME_HDR)
			push(r, 1, r->wpriv + tail, 0, 0); /* a PAD, published on its own */
		r->wpriv += tail;
	}
	return 0;
}

static void model_commit(fz_ring *r, size_t len, uint32_t tag)
{
	r->wpriv += fz_align8(FZ_FRAME_HDR + len);
	push(r, 0, r->wpriv, (uint32_t)len, tag);
}

/* PADs at the head are consumed by the next receive, whatever it returns after them. */
static void model_skip_pads(fz_ring *r)
{
	while (r->n != 0 && r->q[r->head].pad) {
		r->rshared = r->q[r->head].end;
		r->head = (r->head + 1u) % FZ_QUEUE;
		r->n--;
	}
}

static fz_entry *model_front(fz_ring *r)
{
	model_skip_pads(r);
	return r->n != 0 ? &r->q[r->head] : NULL;
}

static void model_pop(fz_ring *r)
{
	r->rshared = r->q[r->head].end;
	r->head = (r->head + 1u) % FZ_QUEUE;
	r->n--;
}

static void op_send(shmf_channel *ch, fz_ring *r, int has_tx, size_t max_message)
{
	size_t len = take(2) % (max_message + 2u);
	uint8_t *msg = malloc(len != 0 ? len : 1);
	uint32_t tag = ++r->tags;
	int want;

	FZ_CHECK(msg != NULL, "out of memory");
	fill(msg, len, tag);
	if (!has_tx)
		want = SHMF_ENOTSUP;
	else if (r->reserved)
		want = SHMF_ESTATE;
	else if (len > max_message)
		want = SHMF_EMSGSIZE;
	else
		want = model_reserve(r, len);
	int rc = shmf_send(ch, msg, len, 0);
	FZ_CHECK(rc == want, "send of %zu bytes: library %d, model %d", len, rc, want);
	if (rc == 0)
		model_commit(r, len, tag);
	free(msg);
}

static void op_recv(shmf_channel *ch, fz_ring *r, int has_rx, size_t max_message, int last)
{
	unsigned c = last ? 0 : take(1);
	size_t cap = c == 0 ? max_message : c - 1u;
	uint8_t *buf = cap != 0 ? malloc(cap) : NULL;
	size_t len = (size_t)-1;
	fz_entry *e = NULL;
	int want;

	FZ_CHECK(cap == 0 || buf != NULL, "out of memory");
	if (!has_rx) {
		want = SHMF_ENOTSUP;
	} else if (r->peeked) {
		want = SHMF_ESTATE;
	} else {
		e = model_front(r);
		if (e == NULL)
			want = last ? SHMF_EPEERCLOSED : SHMF_EAGAIN;
		else
			want = e->len > cap ? SHMF_ETOOSMALL : 0;
	}
	/* The final drain waits forever: with data it must not wait, and once the ring is empty it
	 * must see at its first check that A closed; a bug there is a hang, which every engine
	 * reports. (A finite timeout could expire first on a loaded machine: SHMF_ETIMEDOUT.) */
	int rc = shmf_recv(ch, buf, cap, &len, last ? -1 : 0);
	FZ_CHECK(rc == want, "recv (cap %zu): library %d, model %d", cap, rc, want);
	if (rc == 0 || rc == SHMF_ETOOSMALL)
		FZ_CHECK(len == e->len, "length %zu, model %u", len, (unsigned)e->len);
	if (rc == 0) {
		FZ_CHECK(same(buf, len, e->tag), "payload differs from what was sent");
		model_pop(r);
	}
	free(buf);
}

static void op_peek(shmf_channel *ch, fz_ring *r)
{
	const void *p = NULL;
	size_t len = (size_t)-1;
	fz_entry *e = NULL;
	int want;

	if (r->peeked) {
		want = SHMF_ESTATE;
	} else {
		e = model_front(r);
		want = e == NULL ? SHMF_EAGAIN : 0;
	}
	int rc = shmf_peek(ch, &p, &len, 0);
	FZ_CHECK(rc == want, "peek: library %d, model %d", rc, want);
	if (rc == 0) {
		FZ_CHECK(len == e->len && same(p, len, e->tag), "peeked payload");
		r->peeked = 1;
	}
}

static void op_release(shmf_channel *ch, fz_ring *r)
{
	int rc = shmf_release(ch);
	FZ_CHECK(rc == (r->peeked ? 0 : SHMF_ESTATE), "release: %d", rc);
	if (r->peeked) {
		model_pop(r);
		r->peeked = 0;
	}
}

static void op_reserve(shmf_channel *ch, fz_ring *r, size_t max_message)
{
	size_t len = take(2) % (max_message + 2u);
	void *p = NULL;
	int want;

	if (r->reserved)
		want = SHMF_ESTATE;
	else if (len > max_message)
		want = SHMF_EMSGSIZE;
	else
		want = model_reserve(r, len);
	int rc = shmf_reserve(ch, len, &p, 0);
	FZ_CHECK(rc == want, "reserve %zu: library %d, model %d", len, rc, want);
	if (rc == 0) {
		FZ_CHECK(p != NULL, "reserve gave no pointer");
		r->reserved = 1;
		r->reserved_len = len;
		r->reserved_tag = ++r->tags;
		fill(p, len, r->reserved_tag);
	}
}

static void op_commit(shmf_channel *ch, fz_ring *r)
{
	size_t len = r->reserved ? take(1) % (r->reserved_len + 2u) : 0;
	int want = !r->reserved ? SHMF_ESTATE : len > r->reserved_len ? SHMF_EINVAL : 0;
	int rc = shmf_commit(ch, len);

	FZ_CHECK(rc == want, "commit %zu: library %d, model %d", len, rc, want);
	if (rc == 0) {
		model_commit(r, len, r->reserved_tag);
		r->reserved = 0;
	}
}

static unsigned long counter;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fz_ring rings[2];
	shmf_channel *a = NULL, *b = NULL;
	shmf_config cfg;
	char name[64];
	int rc;

	if (size == 0)
		return 0;
	in = data;
	in_len = size;
	in_off = 0;

	unsigned g = take(1);
	shmf_config_init(&cfg);
	cfg.capacity = (size_t)256u << (g & 3u);
	const size_t mm[4] = {0, 8, 100, cfg.capacity / 2u - FZ_FRAME_HDR}; /* PROTO 2.4 */
	cfg.max_message = mm[(g >> 2) & 3u];
	cfg.flags = (g & 16u) ? SHMF_SIMPLEX : 0;
	cfg.spin = 0;
	int simplex = (g & 16u) != 0;

	snprintf(name, sizeof name, "/shmf-fuzz-api-%ld-%lu", (long)getpid(), counter++);
	rc = shmf_create(name, &cfg, &a);
	FZ_CHECK(rc == 0, "create %s: %d", name, rc);
	rc = shmf_open(name, &b);
	FZ_CHECK(rc == 0, "open %s: %d", name, rc);
	FZ_CHECK(shmf_unlink(name) == 0, "unlink");
	FZ_CHECK(shmf_set_spin(b, (g & 32u) ? 1 : 0) == 0, "spin");
	FZ_CHECK(shmf_set_batch(b, (g & 32u) ? cfg.capacity / 2 : 0) == 0, "batch");
	if (g & 64u)
		FZ_CHECK(shmf_prefault(a) == 0 && shmf_prefault(b) == 0, "prefault");
	FZ_CHECK(shmf_max_message(a) == cfg.max_message && shmf_max_message(b) == cfg.max_message,
	         "max_message");

	memset(rings, 0, sizeof rings);
	rings[0].cap = rings[1].cap = cfg.capacity;
	for (int i = 0; i < FZ_MAX_OPS && in_off < in_len; i++) {
		switch (take(1) & 7u) {
		case 0: op_send(a, &rings[0], 1, cfg.max_message); break;
		case 1: op_send(b, &rings[1], !simplex, cfg.max_message); break;
		case 2: op_recv(b, &rings[0], 1, cfg.max_message, 0); break;
		case 3: op_recv(a, &rings[1], !simplex, cfg.max_message, 0); break;
		case 4: op_peek(b, &rings[0]); break;
		case 5: op_release(b, &rings[0]); break;
		case 6: op_reserve(a, &rings[0], cfg.max_message); break;
		default: op_commit(a, &rings[0]); break;
		}
	}

	/* A leaves; B gets what is left in ring 0, then learns that A closed. */
	FZ_CHECK(shmf_close(a) == 0, "close A");
	if (rings[0].peeked)
		op_release(b, &rings[0]);
	for (size_t i = 0;; i++) {
		FZ_CHECK(i <= FZ_QUEUE, "drain does not end");
		int more = model_front(&rings[0]) != NULL;
		op_recv(b, &rings[0], 1, cfg.max_message, 1);
		if (!more)
			break;
	}
	FZ_CHECK(shmf_close(b) == 0, "close B");
	return 0;
}
