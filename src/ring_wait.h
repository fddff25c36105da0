/* ring_wait.h - the entries of the public calls into ring.c, and the waits of channel.c they
 * continue into (issue #8). Included by ring.c and channel.c only, and kept out of internal.h
 * on purpose: shmf_chan_wait_*() finds its channel from the ring's address (offsetof), so every
 * ring given to a shmf_ring_*_to() entry with a timeout other than 0 must be a channel's own tx
 * or rx ring. Tests and fuzzers drive standalone rings through internal.h's timeout-0 calls.
 */
#ifndef SHMF_RING_WAIT_H
#define SHMF_RING_WAIT_H

#include "internal.h"

/* The public calls' entries (channel.c only, on a channel's own tx or rx ring): the same first
 * try, and, when it finds no room or no frame and timeout_ms is not 0, the wait of channel.c,
 * entered from ring.c as a tail call, so that a call that does not have to wait pays no layer
 * for the one that does (issue #8). A receive or peek sets r->hot as it ends. */
SHMF_HIDDEN int shmf_ring_write_to(shmf_ring *r, const void *msg, size_t len, int timeout_ms);
SHMF_HIDDEN int shmf_ring_reserve_to(shmf_ring *r, size_t len, void **payload, int timeout_ms);
SHMF_HIDDEN int shmf_ring_read_to(shmf_ring *r, void *buf, size_t cap, size_t *len, int timeout_ms);
SHMF_HIDDEN int shmf_ring_peek_to(shmf_ring *r, const void **msg, size_t *len, int timeout_ms);
/* channel.c: the rest of a call with a timeout, after its first try returned SHMF_EAGAIN. */
SHMF_HIDDEN int shmf_chan_wait_write(shmf_ring *r, const void *msg, size_t len, int timeout_ms);
SHMF_HIDDEN int shmf_chan_wait_reserve(shmf_ring *r, size_t len, void **payload, int timeout_ms);
SHMF_HIDDEN int shmf_chan_wait_read(shmf_ring *r, void *buf, size_t cap, size_t *len,
                                    int timeout_ms);
SHMF_HIDDEN int shmf_chan_wait_peek(shmf_ring *r, const void **msg, size_t *len, int timeout_ms);

#endif
