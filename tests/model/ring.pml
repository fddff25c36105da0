/*
 * ring.pml - SPIN model of one SHMF/1 ring: docs/PROTOCOL.md sections 5 (positions, frames,
 * PAD/skip at the wrap, sequence numbers and position stamps, consuming), 7 (takeover and its
 * two repairs) and 8 (futex sleep/wake), following src/ring.c and wait_step() in src/channel.c.
 *
 * One writer and one reader. Each may be killed before any of its steps (Killer) and is then
 * replaced by a new process that attaches with the repair of PROTOCOL.md 7 and carries on. The
 * writer app sends messages 0..N-1 and, after a takeover, resends every message not committed;
 * the reader app receives until it has N. README.md says what is abstracted and what is checked.
 *
 * Data area, in units of 8 bytes:
 *   CAP     capacity (default 6 units)
 *   HDR     a frame header takes 2 units (really 24 bytes = 3 units; 2 keeps the state small and
 *           still leaves tails shorter than a header, which are skipped)
 *   MSG     MINSZ..MAXSZ units (default 2..3): header, then payload units
 *   PAD     the whole tail, header only
 * PROTOCOL.md 2.4 requires 2 * MAXSZ <= CAP (the largest frame is at most half the ring). With
 * CAP 6 and sizes {2,3}, frames start at offsets 0, 2, 3, 4 and 5: offset 5 (tail 1) is a
 * skip, a size-3 frame at offset 4 (tail 2) needs a PAD. Other geometries can be set with -D
 * (check.sh runs some that break 2.4, on purpose).
 *
 * The first unit of a frame holds its header record {typ, seq, sz, val, stp, inc}; a payload
 * unit holds {typ 0, val = message id, inc}; the second unit of a header holds {typ 0, val GARB,
 * inc 0}. inc is the incarnation of the writer that wrote the unit: 0, then one more at each
 * takeover (a PAD, which names no message, has inc 0). A header is written and copied as one
 * record. The CRC is abstracted as "every payload unit carries the id and the incarnation the
 * header names": a whole frame passes, a mix of two frames does not, even when a new writer
 * resends the message a dead one left unpublished (the app may send other bytes, so the CRC
 * does not match; were they the same bytes, the frame would stay whole, which the model
 * already has from a kill just before the copy).
 *
 * Every access to shared memory is one atomic step, in the order the C code makes them; private
 * work and the checks on private copies are folded into a neighbouring step (d_step/atomic).
 * SPIN interleaves with sequential consistency; the C code's release/acquire pairs and its two
 * seq_cst fences (W2, S2) give that order for every pair the protocol relies on (README.md).
 *
 * Switches (spin -DNAME[=value]):
 *   N CAP MINSZ MAXSZ WKILLS RKILLS  bounds (defaults 4 6 2 3 1 1)
 *   FAILCLOSED     a reject ends the reader (sticky) instead of failing an assertion: what is
 *                  left to check is "nothing wrong is ever delivered" (pan -E: a writer left
 *                  blocked by the dead reader is not a deadlock)
 *   NO_SLICE       no sleep ever ends at its 100 ms slice, not even after the peer died
 *   FIX_PAD_FIRST  the alternative fix of the stall that 2.4 rules out (README.md); not the
 *                  protocol, not gated; FIX_NO_PAD_WAKE drops its wake after the PAD
 *   REACH=k        reachability probe: assert(false) when event k happens, so that a violation
 *                  proves the event is reachable (1 PAD published, 2 writer skip, 3 reader skip,
 *                  4 writer waits for tail + size, 5 writer repair fires, 6 reader repair fires,
 *                  7 a new writer finds at p a frame torn by its predecessors: the header of one
 *                  incarnation, the payload of another; needs WKILLS >= 2)
 *   MUTANT_*       one ordering or check removed (README.md has the list); MUTANT_REPAIR_PRIVATE
 *                  is the writer repair as shmframe 1.0.0 had it, without the store of wseq
 */

#ifndef N
#define N 4
#endif
#ifndef CAP
#define CAP 6
#endif
#ifndef MINSZ
#define MINSZ 2
#endif
#ifndef MAXSZ
#define MAXSZ 3
#endif
#ifndef WKILLS
#define WKILLS 1
#endif
#ifndef RKILLS
#define RKILLS 1
#endif
#define HDR 2

/* REACH=k: event k must be reachable (check.sh expects an assertion violation) */
#ifdef REACH
#define REACHED_IF(k, c) assert(REACH != (k) || !(c))
#else
#define REACHED_IF(k, c) skip
#endif
#define REACHED(k) REACHED_IF(k, true)

#define T_MSG 1
#define T_PAD 2
#define GARB  255

/* ---- shared memory ------------------------------------------------------------------------ */
byte wpos, wseq, rpos, rseq;    /* control block; positions free-running, never reduced */
byte rwait, wwait;              /* futex words */
byte utyp[CAP], useq[CAP], usz[CAP], uval[CAP], ustp[CAP];   /* data area */
byte uinc[CAP];                 /* the writer incarnation whose bytes these are (abstract CRC) */

/* ---- kernel ------------------------------------------------------------------------------- */
bit rsleep, wsleep;             /* asleep in futex_wait; only futex_wake (or a kill) clears them */
bit rslice, wslice;             /* one sleep may end at its 100 ms slice (see the kill handlers) */

/* ---- ghosts, not part of the protocol ------------------------------------------------------ */
byte ncommitted;                /* MSG frames committed (wpos stored): the app's resend point */
byte delivered;                 /* MSG frames delivered (rpos stored) = the next id expected */
byte gwhole[CAP];               /* p+1: unit o starts the whole frame of position p; 0: not */
bit wowes, rowes;               /* from a position store to the end of its wake */
bit wkill, rkill, wdone, rdone, rejected;

/* R4-R8 on the frame at offset o, given tail t and room rm (frame_at_has_seq without R9) */
#define FRAME_OK(o, t, rm) \
	(rm >= HDR && t >= HDR && \
	 ((utyp[o] == T_MSG && usz[o] >= HDR && usz[o] <= MAXSZ && usz[o] <= t && usz[o] <= rm && \
	   (usz[o] < 3 || (uval[(o + 2) % CAP] == uval[o] && uinc[(o + 2) % CAP] == uinc[o])) && \
	   (usz[o] < 4 || (uval[(o + 3) % CAP] == uval[o] && uinc[(o + 3) % CAP] == uinc[o]))) || \
	  (utyp[o] == T_PAD && usz[o] == t && t <= rm)))

/* R9 in the writer repair: seq == wseq - 1 and stamp == p */
#if defined(MUTANT_REPAIR_NO_SEQ)
#define WREPAIR_R9(o, s, p) (ustp[o] == (p))
#elif defined(MUTANT_REPAIR_NO_STAMP)
#define WREPAIR_R9(o, s, p) (useq[o] == (s) - 1)
#else
#define WREPAIR_R9(o, s, p) (useq[o] == (s) - 1 && ustp[o] == (p))
#endif
#ifdef MUTANT_READER_REPAIR_NO_STAMP
#define RREPAIR_R9(o, s, p) (useq[o] == (s) - 1)
#else
#define RREPAIR_R9(o, s, p) (useq[o] == (s) - 1 && ustp[o] == (p))
#endif

/* R4-R6 on the private header copy, R8 on the private copies, R9 */
#define R4R6 ((ht == T_MSG && hz >= HDR && hz <= MAXSZ && hz <= tail && hz <= avail) || \
              (ht == T_PAD && hz == tail && tail <= avail))
#ifdef MUTANT_NO_SEQ_CHECK
#define R9 true
#else
#define R9 (hs == seq && hp == pos)
#endif
/* A reject. With honest peers none may ever happen: it is sticky and kills the ring. In the
 * FAILCLOSED mode it ends the reader instead. */
#ifdef FAILCLOSED
#define REQUIRE(c) if :: (c) -> skip :: else -> rejected = 1; goto dead fi
#define WHOLE(o, p) skip
#else
#define REQUIRE(c) assert(c)
/* ghost: the unit being copied belongs to the whole, written frame of position p */
#define WHOLE(o, p) assert(gwhole[o] == (p) + 1)
#endif

/* copy_out of the payload of the MSG at offset o, size hz, into pv: the message id, or GARB if
 * the units are not all of the id and the incarnation the header copy (hv, hi) names */
#define COPY_PAYLOAD \
	if \
	:: hz < 3 -> pv = hv \
	:: hz == 3 && uinc[(o + 2) % CAP] == hi -> pv = uval[(o + 2) % CAP] \
	:: hz >= 4 && uval[(o + 3) % CAP] == uval[(o + 2) % CAP] && \
	   uinc[(o + 2) % CAP] == hi && uinc[(o + 3) % CAP] == hi -> pv = uval[(o + 2) % CAP] \
	:: else -> pv = GARB \
	fi

/* shmf_ring_wake(): S2 is the SC order of the steps; S3 loads the word and, if it is set,
 * clears it and calls futex_wake. The ghost "owes" ends when the wake is done or not needed. */
#define WAKE_READER \
	d_step { t = rwait; if :: t == 0 -> wowes = 0 :: else fi }; \
	if \
	:: t != 0 -> rwait = 0; d_step { rsleep = 0; wowes = 0; t = 0 } \
	:: else \
	fi
#define WAKE_WRITER \
	d_step { t = wwait; if :: t == 0 -> rowes = 0 :: else fi }; \
	if \
	:: t != 0 -> wwait = 0; d_step { wsleep = 0; rowes = 0; t = 0 } \
	:: else \
	fi

/* futex_wait(&word, 1): sleeps only if word == 1, checked atomically; wakes on futex_wake, or
 * at the end of a slice when one was granted */
#define FUTEX_WAIT(word, sleeping, slice) \
	atomic { \
		if \
		:: word == 1 -> sleeping = 1; \
			if \
			:: !sleeping \
			:: slice -> slice = 0; sleeping = 0 \
			fi \
		:: else \
		fi \
	}

/* one copy_in of a 24-byte header at offset o; one copy_in of a payload unit */
#define PUT_HEADER(o, ty, sq, size, v, stamp, in) \
	utyp[o] = ty; useq[o] = sq; usz[o] = size; uval[o] = v; ustp[o] = stamp; uinc[o] = in; \
	utyp[o + 1] = 0; useq[o + 1] = 0; usz[o + 1] = 0; uval[o + 1] = GARB; ustp[o + 1] = 0; \
	uinc[o + 1] = 0; gwhole[o + 1] = 0
#define PUT_PAYLOAD(u, v, in) \
	utyp[u] = 0; useq[u] = 0; usz[u] = 0; uval[u] = v; ustp[u] = 0; uinc[u] = in; gwhole[u] = 0

/* =============================================================================================
 * Writer: shmf_ring_writer_attach; then per message shmf_send = shmf_ring_write (reserve, copy
 * the payload in, commit) and, on EAGAIN, wait_step() on wwait.
 * =========================================================================================== */
active proctype Writer()
{
	byte pos, seq, peer, m, sz, tail, need, p, o, t;
	byte inc;                       /* this writer's incarnation: 0, then +1 at each takeover */
	bit fin;

restart:
	{
		/* ---- attach (PROTOCOL.md 7): own words, then rpos (acquire), P1-P2 ---- */
		/* own words: no one else writes them (one step each would change nothing) */
		d_step { pos = wpos; seq = wseq; m = ncommitted };  /* the app resends what is not committed */
		d_step { peer = rpos; assert(pos >= peer && pos - peer <= CAP) };
#ifndef MUTANT_NO_REPAIR
		/* repair: died between storing wseq and wpos -> a whole frame with seq wseq - 1 and
		 * stamp p at p = skip(wpos) (one header copy, one payload copy: no one else writes
		 * there, so one step): reuse its number */
		d_step {
			p = pos;
			if :: CAP - p % CAP < HDR -> p = p + CAP - p % CAP :: else fi;
			o = p % CAP;
			REACHED_IF(7, utyp[o] == T_MSG && usz[o] >= 3 && usz[o] <= CAP - o &&
			              uinc[(o + 2) % CAP] != uinc[o]);
			if
			:: seq != 0 && p >= peer && p - peer <= CAP &&
			   FRAME_OK(o, CAP - o, CAP - (p - peer)) && WREPAIR_R9(o, seq, p) ->
				seq = seq - 1; REACHED(5);
#ifndef MUTANT_REPAIR_PRIVATE
				t = 1
#endif
			:: else
			fi;
			p = 0; o = 0
		};
		/* ... and store it into our own wseq before writing any byte of a frame (4b8603f): the
		 * frame that told us is about to be overwritten, and a successor of ours would find it
		 * torn. A kill may land between the check and this store. */
		d_step { if :: t != 0 -> wseq = seq :: else fi; t = 0 };
#endif
		do
		:: m >= N -> break
		:: atomic {
				m < N ->
				/* shmf_ring_reserve; the app picks this message's size */
				if
				:: sz = MINSZ
#if MAXSZ > MINSZ
				:: sz = MINSZ + 1
#endif
#if MAXSZ > MINSZ + 1
				:: sz = MINSZ + 2
#endif
				fi;
				tail = CAP - pos % CAP;
#ifdef FIX_PAD_FIRST
				if :: sz > tail && tail >= HDR -> need = tail :: sz > tail && tail < HDR -> need = tail + sz :: else -> need = sz fi
#else
				if :: sz > tail -> need = tail + sz :: else -> need = sz fi   /* 5.2 step 1 */
#endif
			};
room:
			if
			:: pos + need - peer > CAP ->
				d_step { peer = rpos; assert(pos >= peer && pos - peer <= CAP);     /* acquire; P1-P2 */
				         REACHED_IF(4, sz > tail && pos + need - peer > CAP) };
				if
				:: pos + need - peer > CAP ->           /* EAGAIN -> wait_step(wwait) */
#ifdef MUTANT_NO_FENCE_SLEEPER
					t = rpos;                           /* W3 before W1 (no W2 fence) */
					wwait = 1;
#else
					wwait = 1;                          /* W1; W2 */
#ifdef MUTANT_NO_RECHECK
					t = peer;
#else
					t = rpos;                           /* W3 */
#endif
#endif
					if
					:: t != peer -> d_step { wwait = 0; t = 0 }
					:: else -> t = 0; FUTEX_WAIT(wwait, wsleep, wslice); wwait = 0   /* W4 */
					fi;
					goto room
				:: else
				fi
			:: else
			fi;
			/* end the lap (5.2 step 2) */
			if
			:: sz > tail && tail >= HDR ->
				d_step { o = pos % CAP; PUT_HEADER(o, T_PAD, seq, tail, 0, pos, 0); gwhole[o] = pos + 1; REACHED(1) };
				d_step { seq++; wseq = seq };           /* publish(tail), no wake */
#ifndef FIX_PAD_FIRST
				d_step { pos = pos + tail; wpos = pos; o = 0 }
#else
				/* FIX: then wait for room for the frame alone, at the start of the next lap */
#ifdef FIX_NO_PAD_WAKE
				d_step { pos = pos + tail; wpos = pos; o = 0; tail = CAP; need = sz };
#else
				d_step { pos = pos + tail; wpos = pos; o = 0; tail = CAP; need = sz; wowes = 1 };
				WAKE_READER;                            /* the reader must see the PAD */
#endif
				goto room
#endif
			:: sz > tail && tail < HDR ->
				d_step { pos = pos + tail; REACHED(2) } /* skip: private position only */
			:: else
			fi;
			d_step { tail = 0; need = 0; o = pos % CAP };
#ifdef MUTANT_PUBLISH_EARLY
			/* publish(size) before the frame is written */
			d_step { seq++; wseq = seq };
			d_step { wpos = pos + sz; ncommitted++; wowes = 1 };
			WAKE_READER;
			d_step { seq = seq - 1 };
#endif
			/* fill: shmf_ring_write copies the payload in, then commit() writes the header */
			if
			:: sz >= 3 ->
				d_step {
					gwhole[o] = 0;
					PUT_PAYLOAD(o + 2, m, inc);
					if :: sz >= 4 -> PUT_PAYLOAD(o + 3, m, inc) :: else fi
				}
			:: else
			fi;
			d_step { PUT_HEADER(o, T_MSG, seq, sz, m, pos, inc); gwhole[o] = pos + 1 };
#ifdef MUTANT_PUBLISH_EARLY
			d_step { seq++; pos = pos + sz; o = 0; m++; sz = 0 }
#else
			/* publish(size): wseq, then wpos with release (5.2 steps 4-5) */
#ifdef MUTANT_WAKE_BEFORE_PUBLISH
			t = rwait;                                  /* S3 before S1 (no S2 fence) */
#endif
			d_step { seq++; wseq = seq; o = 0 };
			d_step { pos = pos + sz; wpos = pos; ncommitted++; wowes = 1; m++; sz = 0 };
#if defined(MUTANT_NO_WAITER_FLAG)
			wowes = 0                                   /* never looks at rwait, never wakes */
#elif defined(MUTANT_WAKE_BEFORE_PUBLISH)
			if
			:: t != 0 -> rwait = 0; d_step { rsleep = 0; wowes = 0; t = 0 }
			:: else -> wowes = 0
			fi
#else
			WAKE_READER                                 /* shmf_ring_wake(rwait) */
#endif
#endif
		od;
		fin = 1
	} unless { wkill };
	if
	:: fin -> wdone = 1
	:: else ->
		/* killed: the kernel drops the lock and the futex wait; a new writer attaches. A reader
		 * asleep on a wake this writer still owed wakes at the end of its 100 ms slice. */
		d_step {
			wkill = 0; wsleep = 0;
#ifndef NO_SLICE
			if :: wowes -> rslice = 1; wowes = 0 :: else fi;
#endif
			wowes = 0;
			pos = 0; seq = 0; peer = 0; m = 0; sz = 0; tail = 0; need = 0;
			p = 0; o = 0; t = 0; inc++
		};
		goto restart
	fi
}

/* =============================================================================================
 * Reader: shmf_ring_reader_attach; then shmf_recv = shmf_ring_read (next_frame, copy out,
 * verify, consume) and, on EAGAIN, wait_step() on rwait.
 * =========================================================================================== */
active proctype Reader()
{
	byte pos, seq, peer, got, p, o, tail, avail, ht, hs, hz, hv, hp, hi, pv, t;
	bit fin;

restart:
	{
		/* ---- attach (PROTOCOL.md 7): own words, then wpos (acquire), P1-P2 ---- */
		d_step { pos = rpos; seq = rseq; got = delivered };  /* the app knows how many it has */
		d_step { peer = wpos; assert(peer >= pos && peer - pos <= CAP) };
#ifndef MUTANT_NO_READER_REPAIR
		/* repair: died between storing rseq and rpos -> the frame at p = skip(rpos) has seq
		 * rseq - 1 and stamp p: deliver it again */
		d_step {
			p = pos;
			if :: CAP - p % CAP < HDR -> p = p + CAP - p % CAP :: else fi;
			o = p % CAP;
			if
			:: seq != 0 && peer >= p && FRAME_OK(o, CAP - o, peer - p) && RREPAIR_R9(o, seq, p) ->
				seq = seq - 1; REACHED(6)
			:: else
			fi;
			p = 0; o = 0
		};
#endif
		do
		:: got >= N -> break
		:: got < N ->
nf:			/* next_frame() */
			atomic { avail = peer - pos; o = pos % CAP; tail = CAP - o };
			if
			:: avail == 0 ->
				/* acquire load of wpos; P1-P2 (an honest writer never fails them) */
				d_step { peer = wpos; assert(peer >= pos && peer - pos <= CAP); avail = peer - pos };
				if
				:: avail == 0 ->                        /* R1: EAGAIN -> wait_step(rwait) */
#ifdef MUTANT_NO_FENCE_SLEEPER
					t = wpos;                           /* W3 before W1 (no W2 fence) */
					rwait = 1;
#else
					rwait = 1;                          /* W1; W2 */
#ifdef MUTANT_NO_RECHECK
					t = peer;
#else
					t = wpos;                           /* W3 */
#endif
#endif
					if
					:: t != peer -> d_step { rwait = 0; t = 0 }
					:: else -> t = 0; FUTEX_WAIT(rwait, rsleep, rslice); rwait = 0   /* W4 */
					fi;
					goto nf
				:: else
				fi
			:: else
			fi;
			if
			:: tail < HDR ->                            /* R2: skip the short tail (private) */
				d_step { assert(avail >= tail); pos = pos + tail; REACHED(3) };
				goto nf
			:: else
			fi;
			/* R3, then copy the header out; R4-R6 on the copy */
#ifdef FAILCLOSED
			d_step { assert(avail >= HDR); ht = utyp[o]; hs = useq[o]; hz = usz[o]; hv = uval[o]; hp = ustp[o];
			         hi = uinc[o] };
			REQUIRE(R4R6);
#else
			d_step { assert(avail >= HDR); ht = utyp[o]; hs = useq[o]; hz = usz[o]; hv = uval[o]; hp = ustp[o];
			         hi = uinc[o]; WHOLE(o, pos); assert(R4R6) };
#endif
			if
			:: ht == T_PAD ->                           /* R8 (header only), R9; consume(tail) */
				REQUIRE(R9);
				d_step { seq++; rseq = seq };
				d_step { pos = pos + tail; rpos = pos; rowes = 1;
				         o = 0; tail = 0; avail = 0; ht = 0; hs = 0; hz = 0; hv = 0; hp = 0; hi = 0; pv = 0 };
				WAKE_WRITER;
				goto nf
			:: else
			fi;
#ifdef MUTANT_CONSUME_EARLY
			/* hands the frame's space back before copying its payload out */
			d_step { seq++; rseq = seq };
			d_step { rpos = pos + hz; rowes = 1 };
			WAKE_WRITER;
			d_step { seq = seq - 1 };
#endif
			/* copy the payload out (pv: the message it is, GARB if torn; an empty payload is
			 * the header's message); R8 and R9 on the private copies */
#ifdef FAILCLOSED
			d_step { COPY_PAYLOAD };
#ifndef MUTANT_NO_CRC_CHECK
			REQUIRE(pv == hv);
#endif
			REQUIRE(R9);
#else
			d_step {
				COPY_PAYLOAD;
				if :: hz >= 3 -> WHOLE(o, pos) :: else fi;
				assert(pv == hv);
				assert(R9)
			};
#endif
			/* consume(size) (5.4): rseq, then rpos (release). The message counts as delivered
			 * at the rpos store: from there on a new reader will not deliver it again. */
#if defined(MUTANT_CONSUME_EARLY)
			d_step { seq++; pos = pos + hz; assert(hv == delivered && pv == delivered); delivered++; got++;
			         o = 0; tail = 0; avail = 0; ht = 0; hs = 0; hz = 0; hv = 0; hp = 0; hi = 0; pv = 0 }
#elif defined(MUTANT_RSEQ_AFTER_RPOS)
			d_step { rpos = pos + hz; assert(hv == delivered && pv == delivered); delivered++; got++; rowes = 1 };
			d_step { seq++; rseq = seq; pos = pos + hz;
			         o = 0; tail = 0; avail = 0; ht = 0; hs = 0; hz = 0; hv = 0; hp = 0; hi = 0; pv = 0 };
			WAKE_WRITER
#else
			d_step { seq++; rseq = seq };
			d_step { pos = pos + hz; rpos = pos; assert(hv == delivered && pv == delivered); delivered++; got++; rowes = 1;
			         o = 0; tail = 0; avail = 0; ht = 0; hs = 0; hz = 0; hv = 0; hp = 0; hi = 0; pv = 0 };
			WAKE_WRITER
#endif
		od;
		fin = 1
	} unless { rkill };
	if
	:: fin -> rdone = 1
	:: else ->
		/* killed; a new reader attaches. A writer asleep on a wake this reader still owed
		 * wakes at the end of its slice. */
		d_step {
			rkill = 0; rsleep = 0;
#ifndef NO_SLICE
			if :: rowes -> wslice = 1; rowes = 0 :: else fi;
#endif
			rowes = 0;
			pos = 0; seq = 0; peer = 0; got = 0; p = 0; o = 0; tail = 0; avail = 0;
			ht = 0; hs = 0; hz = 0; hv = 0; hp = 0; hi = 0; pv = 0; t = 0
		};
		goto restart
	fi;
dead:	/* FAILCLOSED: a reject is sticky; this reader is done with the ring */
	skip
}

/* kill -9 of the writer / the reader, at most WKILLS / RKILLS times, before any of its steps */
active proctype Killer()
{
	byte wk, rk;
end:
	do
	:: wk < WKILLS && !wkill && !wdone -> wkill = 1; wk++
	:: rk < RKILLS && !rkill && !rdone && !rejected -> rkill = 1; rk++
	:: break
	od
}

/* Once both apps are done: every message was delivered once, in order, and the rings agree. */
active proctype Final()
{
end:
	(wdone && rdone) ->
	assert(delivered == N && ncommitted == N && wpos == rpos && wseq == rseq)
}
