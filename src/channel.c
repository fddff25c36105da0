/* channel.c - the public API: create, attach, send, receive, close (PROTO 7, 8, 9).
 *
 * A channel owns one descriptor (which carries the role's OFD lock), one mapping, and the
 * private state of its two rings. Fast paths (shmf_send, shmf_recv with room or data) make no
 * system call and allocate nothing; the slow path spins, then sleeps on a futex in slices of at
 * most 100 ms so that a dead peer is noticed (PROTO 7).
 */
#include "internal.h"

#include "atomics.h"
#include "bytes.h"
#include "ring_wait.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLICE_NS        100000000LL /* PROTO 7: the liveness bound */
#define ATTACH_POLL_NS  1000000     /* PROTO 9.2 */
#define DEFAULT_SPIN    2000u
/* A spin reads the clock once every SPIN_CLOCK_MASK + 1 polls (never with the default spin). */
#define SPIN_CLOCK_MASK 4095u
/* The stream hold of shmf_set_batch(): at most HOLD_POLLS polls, ended early once the writer has
 * published nothing for HOLD_IDLE polls in a row (a paused writer costs a reader about that many
 * polls, under a microsecond here). */
#define HOLD_POLLS      200u
#define HOLD_IDLE       8u

struct shmf_channel {
	int fd;
	unsigned char *base;
	uint64_t size;
	int side;
	unsigned spin;
	shmf_geom g;
	shmf_ring tx, rx;
	int has_tx, has_rx;
	int borrowed;             /* base belongs to another channel (shmf_attach_same_map) */
	int guard;                /* SIGBUS guard slot, or -1 (PROTO 9.6) */
	uint32_t unlock_pid;      /* nonzero: ch->fd shares the caller's description (the fallback
	                             of shmf_attach_fd), so destroy() releases the role lock itself
	                             when run by this process (not by a forked child) */
	unsigned char *role;      /* our role line */
	unsigned char *peer_role; /* the peer's role line */
	uint64_t peer_lock;       /* file offset of the peer's lock byte */
	uint32_t peer_epoch0;     /* the peer's epoch when we attached */
	int peer_seen;            /* the peer was attached when we attached; never changes after,
	                             so the send and receive threads may both read it */
	/* When each direction (0 send, 1 receive) next tests the peer's lock (PROTO 7), on
	 * CLOCK_MONOTONIC: kept per channel, not per call, so that a call that waits a moment for
	 * every message (blocking ping-pong) does not pay a system call each time. Each is written
	 * only by its own direction's thread. */
	int64_t next_lock_check[2];
	/* shmf_set_batch(): bytes a receive waits for after a streak, 0 = off (rx.hot: the
	 * latest receive call found its frame without waiting). Both belong to the receiving
	 * thread. */
	uint64_t batch;
};

void shmf_config_init(shmf_config *cfg)
{
	if (cfg == NULL)
		return;
	memset(cfg, 0, sizeof *cfg);
	cfg->capacity = SHMF_DEFAULT_CAPACITY;
	cfg->max_message = SHMF_DEFAULT_MAX_MESSAGE;
	cfg->mode = 0600;
	cfg->flags = 0;
	cfg->spin = DEFAULT_SPIN;
}

/* Release everything ch holds; errno survives (convention 1). */
static void destroy(shmf_channel *ch)
{
	int e = errno;

	if (ch == NULL)
		return;
	shmf_os_guard_unregister(ch->guard);
	if (ch->unlock_pid != 0 && ch->unlock_pid == shmf_os_pid())
		shmf_os_unlock(ch->fd, SHMF_ROLE_LOCK_OFFSET(ch->side));
	if (!ch->borrowed)
		shmf_os_unmap(ch->base, ch->size);
	shmf_os_close(ch->fd);
	free(ch);
	errno = e;
}

static shmf_channel *alloc_channel(void)
{
	shmf_channel *ch = calloc(1, sizeof *ch);

	if (ch != NULL) {
		ch->fd = -1;
		ch->guard = -1;
		ch->spin = DEFAULT_SPIN;
	}
	return ch;
}

/* Side A writes ring 0 and reads ring 1; side B the mirror (PROTO 1). */
static int bind_rings(shmf_channel *ch)
{
	unsigned out = ch->side == SHMF_SIDE_A ? 0u : 1u;
	unsigned in = 1u - out;
	int rc;

	ch->role = ch->base + SHMF_ROLE_LINE(ch->side);
	ch->peer_role = ch->base + SHMF_ROLE_LINE(1 - ch->side);
	ch->peer_lock = SHMF_ROLE_LOCK_OFFSET(1 - ch->side);
	ch->has_tx = out < ch->g.ring_count;
	ch->has_rx = in < ch->g.ring_count;
	if (ch->has_tx) {
		shmf_ring_bind(&ch->tx, ch->base, out, &ch->g);
		if (ch->guard >= 0)
			ch->tx.trip = shmf_os_guard_flag(ch->guard);
		if ((rc = shmf_ring_writer_attach(&ch->tx)) != 0)
			return rc;
	}
	if (ch->has_rx) {
		shmf_ring_bind(&ch->rx, ch->base, in, &ch->g);
		if (ch->guard >= 0)
			ch->rx.trip = shmf_os_guard_flag(ch->guard);
		if ((rc = shmf_ring_reader_attach(&ch->rx)) != 0)
			return rc;
		/* The ring we read stays writable though we never write it: mapped read-only, it
		 * cost 46% of the throughput at 4 KiB and 28% at 64 KiB (PROTO 9.7). */
	}
	return 0;
}

/* PROTO 7, "Attaching": our role line, the epoch last. A peer reads the epoch, then the state;
 * had we stored the new epoch first, it could see it beside our old state 2 from a previous
 * detach, which reads as "attached and closed since" (SHMF_EPEERCLOSED while we were only
 * attaching: issue #6's stress run, seed 14366188554445035268). */
static void role_attach(shmf_channel *ch)
{
	/* A peer that has seen our state 1 must find our lock held (its dead_peer()): the lock was
	 * taken by a system call before this; keep every store below after it on any machine. */
	shmf_fence_seq_cst();
	uint32_t epoch = shmf_sh_load_relaxed32(ch->role + SHMF_R_EPOCH);

	shmf_sh_store_relaxed32(ch->role + SHMF_R_PID, shmf_os_pid());
	shmf_sh_store_relaxed64(ch->role + SHMF_R_ATTACHED_NS, shmf_os_wall_ns());
	shmf_sh_store_relaxed32(ch->role + SHMF_R_STATE, SHMF_ROLE_ATTACHED);
	/* Release: pairs with the acquire load of the epoch in peer_status() and in the peer's
	 * role_attach(); whoever sees the new epoch sees state 1 (or a later 2). */
	shmf_sh_store_release32(ch->role + SHMF_R_EPOCH, epoch + 1u);

	/* The peer's epoch, then its state, in the order peer_status() reads them. Acquire:
	 * pairs with the peer's release of its epoch (role_attach) and of its state (close). */
	ch->peer_epoch0 = shmf_sh_load_acquire32(ch->peer_role + SHMF_R_EPOCH);
	uint32_t ps = shmf_sh_load_acquire32(ch->peer_role + SHMF_R_STATE);
	ch->peer_seen = ps == SHMF_ROLE_ATTACHED;
}

/* Put ch's mapping under the SIGBUS guard when the guard is on (PROTO 9.6). A channel the guard
 * cannot cover is refused rather than left exposed. */
static int guard_mapping(shmf_channel *ch)
{
	ch->guard = shmf_os_guard_register(ch->base, ch->size);
	return ch->guard == -2 ? SHMF_ENOMEM : 0;
}

/* A new channel for side A with the geometry of cfg (NULL: defaults). */
static int new_creator(const shmf_config *cfg, shmf_channel **out)
{
	shmf_config defaults;
	shmf_channel *ch;
	int rc;

	if (cfg == NULL) {
		shmf_config_init(&defaults);
		cfg = &defaults;
	}
	if ((ch = alloc_channel()) == NULL)
		return SHMF_ENOMEM;
	if ((rc = shmf_geom_from_config(cfg, &ch->g)) != 0) {
		destroy(ch);
		return rc;
	}
	ch->g.creator_uid = shmf_os_euid();
	ch->g.created_ns = shmf_os_wall_ns();
	ch->side = SHMF_SIDE_A;
	ch->spin = cfg->spin;
	ch->size = ch->g.total_size;
	*out = ch;
	return 0;
}

/* PROTO 9.1 step 4: map, format, publish. The file is sized and allocated, role A's lock held. */
static int format_and_attach(shmf_channel *ch)
{
	int rc;

	if ((rc = shmf_os_map(ch->fd, ch->size, &ch->base)) != 0)
		return rc;
	if ((rc = guard_mapping(ch)) != 0)
		return rc;
	if ((rc = bind_rings(ch)) != 0)
		return rc; /* GCOVR_EXCL_LINE: fresh rings are all zero, so P1 and P2 hold */
	role_attach(ch);
	shmf_segment_format(ch->base, &ch->g); /* publishes init_state last (PROTO 9.1) */
	return 0;
}

/* 0 while name is still the file open at fd; SHMF_ENOENT once the name is gone, SHMF_EEXIST when
 * another file has it now (PROTO 9.1), or the error that kept us from telling. */
static int still_named(const char *name, int fd)
{
	int r = shmf_os_names(name, fd);

	if (r == SHMF_OS_OURS)
		return 0;
	if (r == SHMF_OS_GONE)
		return SHMF_ENOENT;
	return r == SHMF_OS_OTHER ? SHMF_EEXIST : r;
}

int shmf_create(const char *name, const shmf_config *cfg, shmf_channel **out)
{
	shmf_channel *ch = NULL;
	int created = 0;
	int rc, lrc;

	if (out == NULL || name == NULL)
		return SHMF_EINVAL;
	*out = NULL;
	if ((rc = shmf_name_check(name)) != 0)
		return rc;
	if ((rc = new_creator(cfg, &ch)) != 0)
		return rc;
	if ((rc = shmf_os_create(name, cfg != NULL ? cfg->mode : 0600u, &ch->fd)) != 0)
		goto out;
	created = 1;
	/* Role A's lock first (PROTO 9.1 step 2), so that a file that is not ready while nobody
	 * holds it was left by a creator that died (9.2). A creator stalled before it took the
	 * lock looks dead too: the name may have been removed (gc --not-ready, unlink) and even
	 * made anew by another creator meanwhile. So it checks the name once it holds the lock,
	 * and again at the end, and fails rather than return a segment without a name. */
	lrc = shmf_os_lock(ch->fd, SHMF_ROLE_LOCK_OFFSET(SHMF_SIDE_A));
	if ((rc = still_named(name, ch->fd)) != 0 || (rc = lrc) != 0)
		goto out;
	if ((rc = shmf_os_allocate(ch->fd, ch->size)) != 0)
		goto out;
	if ((rc = format_and_attach(ch)) != 0 || (rc = still_named(name, ch->fd)) != 0)
		goto out;
	*out = ch;
	return 0;
out:
	/* Remove the name only while it is still ours: another creator's is not ours to remove. */
	if (created) {
		int e = errno;
		if (still_named(name, ch->fd) == 0)
			shmf_os_unlink(name);
		errno = e;
	}
	destroy(ch);
	return rc;
}

int shmf_create_memfd(const shmf_config *cfg, shmf_channel **out)
{
	shmf_channel *ch = NULL;
	int rc;

	if (out == NULL)
		return SHMF_EINVAL;
	*out = NULL;
	if ((rc = new_creator(cfg, &ch)) != 0)
		return rc;
	if ((rc = shmf_os_memfd(cfg != NULL ? cfg->mode : 0600u, &ch->fd)) != 0)
		goto out;
	if ((rc = shmf_os_lock(ch->fd, SHMF_ROLE_LOCK_OFFSET(SHMF_SIDE_A))) != 0)
		goto out; /* GCOVR_EXCL_LINE: nobody else holds a new memfd */
	if ((rc = shmf_os_allocate(ch->fd, ch->size)) != 0)
		goto out;
	/* Sealed before anyone else can hold it: no shrink (no SIGBUS under our mapping), no
	 * grow, and no unsealing (PROTO 9.5). */
	if ((rc = shmf_os_seal(ch->fd)) != 0)
		goto out;
	if ((rc = format_and_attach(ch)) != 0)
		goto out;
	*out = ch;
	return 0;
out:
	destroy(ch);
	return rc;
}

int shmf_send_fd(const shmf_channel *ch, int sock)
{
	int fresh, rc;

	if (ch == NULL || sock < 0)
		return SHMF_EINVAL;
	/* A description of its own, so that the peer's role lock is not ours (PROTO 7). */
	if ((rc = shmf_os_reopen(ch->fd, &fresh)) != 0)
		return rc;
	rc = shmf_os_send_fd(sock, fresh);
	shmf_os_close(fresh);
	return rc;
}

int shmf_recv_fd(int sock, int allowed_uid, int *fd)
{
	if (fd == NULL || sock < 0 || allowed_uid < -1)
		return SHMF_EINVAL;
	return shmf_os_recv_fd(sock, allowed_uid == -1 ? (int64_t)shmf_os_euid() : allowed_uid, fd);
}

/* PROTO 6.2 A3-A18 on an open descriptor, which the channel takes over (closed on failure).
 * With `share` set, use its mapping instead of mapping again. named: A4 applies (a name in
 * /dev/shm can be squatted by anyone; a descriptor handed over a checked socket cannot).
 * shared_desc: fd is a dup of the caller's descriptor, so closing it does not release the lock. */
static int attach_fd(int fd, int side, const shmf_channel *share, int named, int shared_desc,
                     shmf_channel **out)
{
	uint8_t hdr[SHMF_HEADER_SIZE];
	shmf_os_stat st;
	shmf_channel *ch;
	int rc;

	if ((ch = alloc_channel()) == NULL) {
		shmf_os_close(fd);
		return SHMF_ENOMEM;
	}
	ch->side = side;
	ch->fd = fd;
	if ((rc = shmf_os_fstat(ch->fd, &st)) != 0)
		goto out;
	if (!st.regular) { /* A3 */
		rc = SHMF_EFILETYPE;
		goto out;
	}
	if (named && st.uid != shmf_os_euid()) { /* A4 */
		rc = SHMF_EOWNER;
		goto out;
	}
	if (st.size < SHMF_CTL_AREA) { /* A5 */
		rc = st.size == 0 ? SHMF_ENOTREADY : SHMF_ESIZE;
		goto out;
	}
	ch->size = st.size;
	if (share != NULL && share->size == st.size) {
		ch->base = share->base;
		ch->borrowed = 1;
	} else if ((rc = shmf_os_map(ch->fd, ch->size, &ch->base)) != 0 ||
	           (rc = guard_mapping(ch)) != 0) {
		goto out;
	}
	shmf_header_snapshot(ch->base, hdr);
	if ((rc = shmf_header_validate(hdr, st.size, st.uid, st.mode, &ch->g)) != 0) /* A6-A15 */
		goto out;
	if ((rc = shmf_os_lock(ch->fd, SHMF_ROLE_LOCK_OFFSET(side))) != 0) /* A16 */
		goto out;
	if (shared_desc)
		ch->unlock_pid = shmf_os_pid();
	/* A17. Acquire: pairs with the previous holder's release of its state. */
	uint32_t state = shmf_sh_load_acquire32(ch->base + SHMF_ROLE_LINE(side) + SHMF_R_STATE);
	if (state > SHMF_ROLE_DETACHED) {
		rc = SHMF_EROLE;
		goto out;
	}
	if ((rc = bind_rings(ch)) != 0) /* A18 and the repairs of PROTO 7 */
		goto out;
	if (shmf_os_guard_tripped(ch->guard)) { /* truncated while we looked (PROTO 9.6) */
		rc = SHMF_ETRUNCATED;
		goto out;
	}
	role_attach(ch);
	*out = ch;
	return 0;
out:
	/* A truncation while we looked: whatever its zero pages made of A6-A18 (SHMF_ENOTREADY, a
	 * reject) is SHMF_ETRUNCATED, as for every other call (PROTO 9.6). */
	if (shmf_os_guard_tripped(ch->guard))
		rc = SHMF_ETRUNCATED;
	destroy(ch);
	return rc;
}

/* One attempt at PROTO 6.2. */
static int try_attach(const char *name, int side, const shmf_channel *share, shmf_channel **out)
{
	int fd = -1;
	int rc = shmf_os_open(name, &fd); /* A2 */

	if (rc != 0)
		return rc;
	return attach_fd(fd, side, share, 1, 0, out);
}

int shmf_attach_fd_internal(int fd, int side, shmf_channel **out)
{
	int own;
	int rc;

	if (out == NULL || (side != SHMF_SIDE_A && side != SHMF_SIDE_B))
		return SHMF_EINVAL;
	*out = NULL;
	if ((rc = shmf_os_dup(fd, &own)) != 0)
		return rc;
	return attach_fd(own, side, NULL, 1, 0, out);
}

int shmf_attach_fd(int fd, int side, shmf_channel **out)
{
	int own;
	int rc;

	if (out == NULL || fd < 0 || (side != SHMF_SIDE_A && side != SHMF_SIDE_B))
		return SHMF_EINVAL;
	*out = NULL;
	if ((rc = shmf_os_check_seals(fd)) != 0) /* PROTO 9.5 */
		return rc;
	/* A description of our own (PROTO 9.5): the role lock belongs to the description, and a dup
	 * would share the caller's, so a second attach through the same fd would take the role
	 * again. Where the file's mode does not let us reopen it (a peer's memfd, another uid),
	 * fall back to a dup: then a second attach through the same description is the caller's
	 * to avoid (include/shmframe.h). */
	rc = shmf_os_reopen(fd, &own);
	if (rc == SHMF_EACCES && (rc = shmf_os_dup(fd, &own)) == 0)
		return attach_fd(own, side, NULL, 0, 1, out);
	if (rc != 0)
		return rc;
	return attach_fd(own, side, NULL, 0, 0, out);
}

/* For a file that is not ready: its creator died before it was ready. A creator takes role A's
 * lock microseconds after it made the file (PROTO 9.1 step 2), so a free lock on a file whose
 * status last changed SHMF_ORPHAN_NS ago or more (the creator's fchmod; wall clock) means that,
 * unless the file became ready after our look found it not ready and its creator has left since
 * (`shmframe create` leaves at once). Ready never goes back to not ready, so a look at init_state
 * after the lock test tells the two apart (PROTO 9.2). */
#define CREATOR_ALIVE 0 /* or no evidence either way */
#define CREATOR_GONE  1
#define CREATOR_READY 2 /* it is ready now: try again at once */
static int creator_gone(const char *name)
{
	int fd = -1, verdict = CREATOR_ALIVE;
	shmf_os_stat st;

	if (shmf_os_open(name, &fd) != 0)
		return CREATOR_ALIVE;
	if (shmf_os_fstat(fd, &st) == 0 && st.regular &&
	    (int64_t)shmf_os_wall_ns() - st.ctime_ns >= (int64_t)SHMF_ORPHAN_NS &&
	    shmf_os_lock_free(fd, SHMF_ROLE_LOCK_OFFSET(SHMF_SIDE_A)) == 1) {
		uint8_t init[4];
		shmf_fence_seq_cst(); /* the look stays after the test */
		int rc = shmf_os_read_at(fd, SHMF_H_INIT_STATE, init, sizeof init);
		if (rc == 0)
			verdict =
			        shmf_ld32(init) == SHMF_STATE_READY ? CREATOR_READY : CREATOR_GONE;
		else if (rc == SHMF_ESIZE)
			verdict = CREATOR_GONE; /* no whole header: never made ready */
		/* a read that failed is no evidence, as a lock test that failed is not */
	}
	shmf_os_close(fd);
	return verdict;
}

int shmf_attach(const char *name, int side, int timeout_ms, shmf_channel **out)
{
	int64_t deadline = 0;
	int rc;

	if (out == NULL || name == NULL)
		return SHMF_EINVAL;
	*out = NULL;
	if (side != SHMF_SIDE_A && side != SHMF_SIDE_B)
		return SHMF_EINVAL;
	if (timeout_ms < -1)
		return SHMF_EINVAL;
	if ((rc = shmf_name_check(name)) != 0)
		return rc;
	if (timeout_ms > 0)
		deadline = shmf_os_now_ns() + (int64_t)timeout_ms * 1000000;
	for (int again = 0;;) {
		rc = try_attach(name, side, NULL, out);
		if (rc != SHMF_ENOENT && rc != SHMF_ENOTREADY)
			return rc;
		if (timeout_ms == 0)
			return rc;
		/* Never going to be ready: say so rather than wait on (PROTO 9.2). Found ready
		 * since our look: once, try again at once, whatever the deadline. */
		int verdict = rc == SHMF_ENOTREADY ? creator_gone(name) : CREATOR_ALIVE;
		if (verdict == CREATOR_GONE)
			return SHMF_EPEERGONE;
		if (verdict == CREATOR_READY && !again) {
			again = 1;
			continue;
		}
		int64_t nap = ATTACH_POLL_NS;
		if (timeout_ms > 0) {
			int64_t left = deadline - shmf_os_now_ns();
			if (left <= 0)
				return rc;
			nap = left < nap ? left : nap; /* never past the deadline */
		}
		shmf_os_sleep_ns(nap);
	}
}

int shmf_attach_same_map(const shmf_channel *peer, const char *name, int side, shmf_channel **out)
{
	int rc;

	if (peer == NULL || name == NULL || out == NULL ||
	    (side != SHMF_SIDE_A && side != SHMF_SIDE_B))
		return SHMF_EINVAL;
	*out = NULL;
	if ((rc = shmf_name_check(name)) != 0)
		return rc;
	return try_attach(name, side, peer, out);
}

int shmf_open(const char *name, shmf_channel **out)
{
	return shmf_attach(name, SHMF_SIDE_B, 0, out);
}

/* ---- the SIGBUS guard (PROTO 9.6) -------------------------------------------------------- */

int shmf_sigbus_guard(int enable)
{
	return enable ? shmf_os_guard_install() : shmf_os_guard_remove();
}

/* After a call on direction r: if the guard caught a truncation of our mapping, whatever the ring
 * code made of the zero pages becomes SHMF_ETRUNCATED, sticky like any reject. Only r's own
 * error is set, so that the send and receive threads never write each other's state. */
static int trip_check(const shmf_channel *ch, shmf_ring *r, int rc)
{
	if (ch->guard >= 0 && shmf_os_guard_tripped(ch->guard)) {
		r->err = SHMF_ETRUNCATED;
		return SHMF_ETRUNCATED;
	}
	return rc;
}

/* ---- waiting (PROTO 7, 8) ------------------------------------------------------------------ */

/* After the peer's role line read (epoch, state 1) and a lock test that found the lock free: is
 * that peer dead? A free lock proves a death only if the peer is still the one we read (PROTO 7):
 * a peer that closes stores state 2 before its close drops the lock, so a close that fell between
 * the read and the test passes for a death. Hence a full fence (the reads stay after the test)
 * and the line again. Unchanged is still not enough: a successor may have taken the lock and
 * stored its state 1 (that of the dead or closed one, to us) but not yet its new epoch, as
 * role_attach() stores the epoch last. It holds the lock from before that store to after it
 * stores its epoch, so a second test and a third look settle it: free and still unchanged is a
 * death (of the one we read, or of a successor that died before its epoch). 1 dead, 0 alive
 * (the lock held, or a test that failed, which is no evidence), -1 the line changed. */
static int dead_peer(shmf_channel *ch, uint32_t epoch, uint32_t state)
{
	for (int look = 0; look < 2; look++) {
		if (look > 0 && shmf_os_lock_free(ch->fd, ch->peer_lock) != 1)
			return 0;
		shmf_fence_seq_cst();
		/* Acquire: pairs with the releases of role_attach() and shmf_close(), as below. */
		if (shmf_sh_load_acquire32(ch->peer_role + SHMF_R_EPOCH) != epoch ||
		    shmf_sh_load_acquire32(ch->peer_role + SHMF_R_STATE) != state)
			return -1;
	}
	return 1;
}

/* The peer's liveness as the table of PROTO 7 defines it; *seen is the role line (epoch, state)
 * it judged, for W3. check_lock costs one system call (two when the lock is free). */
typedef struct role_seen {
	uint32_t epoch, state;
} role_seen;

static int peer_status(shmf_channel *ch, int check_lock, role_seen *seen)
{
	for (;;) {
		/* The epoch first (role_attach() says why). Acquire: pairs with the release of the
		 * peer's epoch in role_attach(), then of its state in shmf_close(). */
		uint32_t epoch = shmf_sh_load_acquire32(ch->peer_role + SHMF_R_EPOCH);
		uint32_t state = shmf_sh_load_acquire32(ch->peer_role + SHMF_R_STATE);
		int dead;

		seen->epoch = epoch;
		seen->state = state;
		switch (state) {
		case SHMF_ROLE_NEVER: return 0;
		case SHMF_ROLE_ATTACHED:
			if (!check_lock || shmf_os_lock_free(ch->fd, ch->peer_lock) != 1)
				return 0;
			if ((dead = dead_peer(ch, epoch, state)) >= 0)
				return dead ? SHMF_EPEERGONE : 0;
			check_lock = 0; /* it closed or was replaced meanwhile: judge it anew */
			continue;
		case SHMF_ROLE_DETACHED:
			/* Closed if it was there when we came, or has come (and gone) since. */
			return (ch->peer_seen || epoch != ch->peer_epoch0) ? SHMF_EPEERCLOSED : 0;
		default: return SHMF_EROLE;
		}
	}
}

typedef struct waiter {
	int timeout_ms;
	int64_t deadline; /* CLOCK_MONOTONIC ns, or -1 */
	int spun;
	int peer_err; /* the peer is gone or closed: report it once the ring is drained */
} waiter;

static void waiter_init(waiter *w, int timeout_ms)
{
	w->timeout_ms = timeout_ms;
	w->deadline = timeout_ms > 0 ? shmf_os_now_ns() + (int64_t)timeout_ms * 1000000 : -1;
	w->spun = 0;
	w->peer_err = 0;
}

/* shmf_set_batch(): the reader caught up with a writer that is streaming. Reading each frame the
 * moment it is published pulls the cache lines the writer is still writing next to it, and both
 * sides slow down (docs/PERFORMANCE.md); instead, poll the position until `bytes` wait, or the
 * writer pauses, or HOLD_POLLS run out. The snapshots are only compared; the retry that follows
 * checks everything. */
static void stream_hold(shmf_ring *r, uint64_t bytes)
{
	uint64_t last = shmf_ring_peer_pos(r, 1);
	unsigned idle = 0;

	for (unsigned i = 0; i < HOLD_POLLS && idle < HOLD_IDLE; i++) {
		shmf_cpu_relax();
		uint64_t w = shmf_ring_peer_pos(r, 1);
		if (w - r->pos >= bytes)
			return;
		if (w == last) {
			idle++;
		} else {
			last = w;
			idle = 0;
		}
	}
}

/* Called after an operation returned SHMF_EAGAIN. Returns 0 when the operation should be tried
 * again, or the error to return. */
static int wait_step(shmf_channel *ch, shmf_ring *r, int reader, waiter *w)
{
	unsigned char *word;
	int64_t now, until;
	int rc;

	if (ch->guard >= 0 && shmf_os_guard_tripped(ch->guard))
		return SHMF_ETRUNCATED;
	if (w->peer_err != 0)
		return w->peer_err; /* the ring was re-checked after the peer left: drained */
	if (w->timeout_ms == 0)
		return SHMF_EAGAIN;
	if (reader && r->hot) {
		r->hot = 0; /* once per call, and only after a call that got its message at once */
		if (ch->batch != 0 && ch->spin != 0) {
			stream_hold(r, ch->batch);
			if (shmf_ring_peer_moved(r, reader))
				return 0;
		}
	}
	if (!w->spun) {
		w->spun = 1;
		for (unsigned i = 0; i < ch->spin; i++) {
			if (shmf_ring_peer_moved(r, reader))
				return 0;
			/* a long spin (shmf_set_spin) ends at the deadline and at the next liveness
			 * check (PROTO 7), which is at most a slice away */
			if ((i & SPIN_CLOCK_MASK) == SPIN_CLOCK_MASK) {
				int64_t t = shmf_os_now_ns();
				if ((w->deadline >= 0 && t >= w->deadline) ||
				    t >= ch->next_lock_check[reader])
					break;
			}
			shmf_cpu_relax();
		}
	}
	now = shmf_os_now_ns();
	if (w->deadline >= 0 && now >= w->deadline)
		return SHMF_ETIMEDOUT;
	/* The lock at most once a slice per direction: a peer that dies is seen within a slice of
	 * its death, whether this call or an earlier one made the last test. */
	int check = now >= ch->next_lock_check[reader];
	role_seen seen;
	rc = peer_status(ch, check, &seen);
	if (check)
		ch->next_lock_check[reader] = now + SLICE_NS;
	if (rc == SHMF_EPEERGONE || rc == SHMF_EPEERCLOSED) {
		w->peer_err = rc; /* try once more: data it left is delivered first */
		return 0;
	}
	if (rc != 0)
		return rc;

	word = shmf_ring_wait_word(r, reader);
	shmf_sh_store_relaxed32(word, 1); /* W1 */
	shmf_fence_seq_cst();             /* W2: pairs with the fence in shmf_ring_wake() */
	/* W3: the position, and the peer's role line, whose state shmf_close() stores before its
	 * wake (the same pairing), so that a close between peer_status() and W1 is not slept
	 * through: the state, then the epoch, as a peer that attached and closed meanwhile leaves
	 * state 2 as it was and only a new epoch (acquire: pairs with the release of the state in
	 * shmf_close(), which follows the epoch's store in role_attach()). */
	if (shmf_ring_peer_moved(r, reader) ||
	    shmf_sh_load_acquire32(ch->peer_role + SHMF_R_STATE) != seen.state ||
	    shmf_sh_load_acquire32(ch->peer_role + SHMF_R_EPOCH) != seen.epoch) {
		shmf_sh_store_relaxed32(word, 0);
		return 0;
	}
	until = ch->next_lock_check[reader]; /* at most a slice away (set above) */
	if (w->deadline >= 0 && w->deadline < until)
		until = w->deadline;
	shmf_os_futex_wait(word, 1, until); /* W4 */
	shmf_sh_store_relaxed32(word, 0);
	return 0;
}

/* The rest of a call with a timeout whose first try (ring.c's shmf_ring_*_to) found no room or
 * no frame: ring.c jumps here as its last act, so that the first try, the call that does not
 * wait, pays no layer for this one (issue #8). r is a channel's own tx or rx ring (internal.h).
 * Each ring call tests the SIGBUS guard itself (internal.h); an error of wait_step() is checked
 * against it here, as the wait read the mapping too. */
#define CHAN_OF(r, member) ((shmf_channel *)(void *)((char *)(r)-offsetof(shmf_channel, member)))

int shmf_chan_wait_write(shmf_ring *r, const void *msg, size_t len, int timeout_ms)
{
	shmf_channel *ch = CHAN_OF(r, tx);
	waiter w;
	int rc;

	waiter_init(&w, timeout_ms);
	while ((rc = wait_step(ch, r, 0, &w)) == 0) {
		rc = shmf_ring_write(r, msg, len);
		if (rc != SHMF_EAGAIN)
			return rc;
	}
	return trip_check(ch, r, rc);
}

int shmf_chan_wait_reserve(shmf_ring *r, size_t len, void **payload, int timeout_ms)
{
	shmf_channel *ch = CHAN_OF(r, tx);
	waiter w;
	int rc;

	waiter_init(&w, timeout_ms);
	while ((rc = wait_step(ch, r, 0, &w)) == 0) {
		rc = shmf_ring_reserve(r, len, payload);
		if (rc != SHMF_EAGAIN)
			return rc;
	}
	return trip_check(ch, r, rc);
}

/* r->hot (shmf_set_batch) is 1 after a receive that found its message on its first try (ring.c
 * sets it); wait_step() uses it once, and a receive that waited ends with it 0. */
int shmf_chan_wait_read(shmf_ring *r, void *buf, size_t cap, size_t *len, int timeout_ms)
{
	shmf_channel *ch = CHAN_OF(r, rx);
	waiter w;
	int rc;

	waiter_init(&w, timeout_ms);
	while ((rc = wait_step(ch, r, 1, &w)) == 0) {
		rc = shmf_ring_read(r, buf, cap, len);
		if (rc != SHMF_EAGAIN) {
			r->hot = 0;
			return rc;
		}
	}
	r->hot = 0;
	return trip_check(ch, r, rc);
}

int shmf_chan_wait_peek(shmf_ring *r, const void **msg, size_t *len, int timeout_ms)
{
	shmf_channel *ch = CHAN_OF(r, rx);
	waiter w;
	int rc;

	waiter_init(&w, timeout_ms);
	while ((rc = wait_step(ch, r, 1, &w)) == 0) {
		rc = shmf_ring_peek(r, msg, len);
		if (rc != SHMF_EAGAIN) {
			r->hot = 0;
			return rc;
		}
	}
	r->hot = 0;
	return trip_check(ch, r, rc);
}

int shmf_send(shmf_channel *ch, const void *msg, size_t len, int timeout_ms)
{
	/* A NULL buffer (with a length: EINVAL) is rare: marked so, the common case is one branch
	 */
	if (ch == NULL || timeout_ms < -1 || (__builtin_expect(msg == NULL, 0) && len != 0))
		return SHMF_EINVAL;
	if (!ch->has_tx)
		return SHMF_ENOTSUP;
	return shmf_ring_write_to(&ch->tx, msg, len, timeout_ms);
}

int shmf_reserve(shmf_channel *ch, size_t len, void **buf, int timeout_ms)
{
	if (ch == NULL || buf == NULL || timeout_ms < -1)
		return SHMF_EINVAL;
	if (!ch->has_tx)
		return SHMF_ENOTSUP;
	return shmf_ring_reserve_to(&ch->tx, len, buf, timeout_ms);
}

int shmf_commit(shmf_channel *ch, size_t len)
{
	if (ch == NULL)
		return SHMF_EINVAL;
	if (!ch->has_tx)
		return SHMF_ENOTSUP;
	return shmf_ring_commit(&ch->tx, len);
}

int shmf_recv(shmf_channel *ch, void *buf, size_t cap, size_t *len, int timeout_ms)
{
	if (ch == NULL || len == NULL || timeout_ms < -1 ||
	    (__builtin_expect(buf == NULL, 0) && cap != 0))
		return SHMF_EINVAL;
	if (!ch->has_rx)
		return SHMF_ENOTSUP;
	return shmf_ring_read_to(&ch->rx, buf, cap, len, timeout_ms);
}

int shmf_peek(shmf_channel *ch, const void **msg, size_t *len, int timeout_ms)
{
	if (ch == NULL || msg == NULL || len == NULL || timeout_ms < -1)
		return SHMF_EINVAL;
	if (!ch->has_rx)
		return SHMF_ENOTSUP;
	return shmf_ring_peek_to(&ch->rx, msg, len, timeout_ms);
}

int shmf_release(shmf_channel *ch)
{
	if (ch == NULL)
		return SHMF_EINVAL;
	if (!ch->has_rx)
		return SHMF_ENOTSUP;
	return shmf_ring_release(&ch->rx);
}

int shmf_close(shmf_channel *ch)
{
	if (ch == NULL)
		return 0;
	/* Release: pairs with the acquire in the peer's peer_status(); every frame we published
	 * is visible to a peer that sees "detached". */
	shmf_sh_store_release32(ch->role + SHMF_R_STATE, SHMF_ROLE_DETACHED);
	/* Wake a peer that sleeps on either ring, so it sees us leave now, not at its next slice.
	 */
	if (ch->has_tx)
		shmf_ring_wake(shmf_ring_wait_word(&ch->tx, 1));
	if (ch->has_rx)
		shmf_ring_wake(shmf_ring_wait_word(&ch->rx, 0));
	destroy(ch); /* closing the descriptor drops the role lock */
	return 0;
}

int shmf_unlink(const char *name)
{
	int rc;

	if (name == NULL)
		return SHMF_EINVAL;
	if ((rc = shmf_name_check(name)) != 0)
		return rc;
	return shmf_os_unlink(name);
}

int shmf_side(const shmf_channel *ch)
{
	return ch == NULL ? SHMF_EINVAL : ch->side;
}

int shmf_set_spin(shmf_channel *ch, unsigned spin)
{
	if (ch == NULL)
		return SHMF_EINVAL;
	ch->spin = spin;
	return 0;
}

int shmf_set_batch(shmf_channel *ch, size_t bytes)
{
	if (ch == NULL)
		return SHMF_EINVAL;
	if (!ch->has_rx)
		return SHMF_ENOTSUP;
	if (bytes > ch->rx.cap / 2)
		return SHMF_EINVAL;
	ch->batch = bytes;
	return 0;
}

/* Our rings into our page tables now, not at first touch (os_linux.c). The segment is ready: it
 * matters, since populating marks pages as data, and `shmframe gc --not-ready` takes a
 * never-ready file with data past the control area for something other than a dead creator's
 * leftovers. Every field read here is fixed at attach, so any thread may call it. */
int shmf_prefault(shmf_channel *ch)
{
	int rc = 0;

	if (ch == NULL)
		return SHMF_EINVAL;
	if (ch->has_rx)
		rc = shmf_os_prefault(ch->fd, ch->rx.data, ch->rx.cap);
	if (rc == 0 && ch->has_tx)
		rc = shmf_os_prefault(ch->fd, ch->tx.data, ch->tx.cap);
	return rc;
}

size_t shmf_max_message(const shmf_channel *ch)
{
	return ch == NULL ? 0 : ch->g.max_message;
}

int shmf_positions(const shmf_channel *ch, uint64_t *tx, uint64_t *rx)
{
	if (ch == NULL || (tx == NULL && rx == NULL))
		return SHMF_EINVAL;
	if ((tx != NULL && !ch->has_tx) || (rx != NULL && !ch->has_rx))
		return SHMF_ENOTSUP;
	/* Our own private copies (PROTO 6.1 rule 5): nothing shared is read. */
	if (tx != NULL)
		*tx = ch->tx.pos;
	if (rx != NULL)
		*rx = ch->rx.pos;
	return 0;
}
