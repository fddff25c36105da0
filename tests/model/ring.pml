/*
 * ring.pml - SPIN model of one SHMF/1 ring: docs/PROTOCOL.md sections 5 (positions, frames,
 * PAD/skip at the wrap, sequence numbers, consuming), 7 (takeover and its two repairs) and 8
 * (futex sleep/wake), following src/ring.c and wait_step() in src/channel.c step by step.
 *
 * One writer and one reader. Each may be killed at any step (Killer) and is then replaced by a
 * new process that attaches with the repair of PROTOCOL.md 7 and carries on. The writer app
 * sends messages 0..N-1 and, after a takeover, resends every message not yet committed; the
 * reader app receives until it has N. README.md says what is abstracted and what is checked.
 *
 * Data area, in units of 8 bytes:
 *   CAP     capacity in units (default 5)
 *   HDR     a frame header takes 2 units (really 24 bytes = 3 units; 2 keeps the state small
 *           and still leaves "tail < header" tails, which are skipped)
 *   MSG     size MINSZ..MAXSZ units (default 2..3): header, then payload units
 *   PAD     the whole tail, header only
 * With CAP 5 and sizes {2,3}, frames start at offsets 0, 2, 3 and 4; offset 4 (tail 1) is a
 * skip and a size-3 frame at offset 3 (tail 2) needs a PAD.
 *
 * A unit holds either a header record {typ, seq, sz, val, stp} in its first unit (typ != 0), or
 * payload (typ == 0, val = message id) / the header's second unit (typ == 0, val = GARB). A
 * header is written and copied as one atomic record; the CRC is abstracted as "every payload
 * unit carries the id the header names" (a whole frame always passes, a mixed one never does).
 *
 * Every access to shared memory is its own atomic step, in the order the C code makes them;
 * private computation is folded into a neighbouring step (d_step). SPIN's interleaving is
 * sequentially consistent; the C code's release/acquire pairs and the seq_cst fences W2/S2 give
 * that order for every pair the protocol relies on (README.md).
 *
 * Switches (spin -DNAME[=value]):
 *   N CAP MINSZ MAXSZ WKILLS RKILLS   bounds (defaults 4 5 2 3 1 1)
 *   FAILCLOSED    a reject ends the reader (sticky) instead of failing an assertion; what is
 *                 left to check is "nothing wrong is ever delivered" (pan -E: a writer blocked
 *                 on a dead channel is not a deadlock)
 *   FIX_PAD_FIRST a proposed fix of the room check of PROTOCOL.md 5.2 step 1 (README.md);
 *                 FIX_NO_PAD_WAKE drops its wake after the PAD
 *   MUTANT_*      one ordering or check removed (README.md has the list)
 */

#ifndef N
#define N 4
#endif
#ifndef CAP
#define CAP 5
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

#define T_MSG 1
#define T_PAD 2
#define GARB  255

/* A check of PROTOCOL.md 6.3. With honest peers none may ever fail: a reject is sticky and the
 * ring is dead, so in the normal mode it is an assertion. */
#ifdef FAILCLOSED
#define REQUIRE(c) if :: (c) -> skip :: else -> rejected = 1; goto dead fi
#define WHOLE(o, p) skip
#else
#define REQUIRE(c) assert(c)
/* ghost: the unit the reader copies belongs to the whole, written frame that starts at p */
#define WHOLE(o, p) assert(gwhole[o] == (p) + 1)
#endif

/* ---- shared memory ------------------------------------------------------------------------ */
byte wpos, wseq, rpos, rseq;    /* control block; positions free-running, never reduced */
byte rwait, wwait;              /* futex words */
byte utyp[CAP], useq[CAP], usz[CAP], uval[CAP], ustp[CAP];   /* data area */

/* ---- kernel ------------------------------------------------------------------------------- */
bit rsleep, wsleep;             /* asleep in futex_wait (only futex_wake clears these) */
bit rslice, wslice;             /* one sleep may end at its 100 ms slice (see the kill handlers) */

/* ---- ghosts, not part of the protocol ------------------------------------------------------ */
byte ncommitted;                /* MSG frames committed (wpos stored): the app's resend point */
byte delivered;                 /* MSG frames delivered (rpos stored) = next id expected */
byte gwhole[CAP];               /* p+1: unit o starts the whole frame at position p; 0: not */
bit wowes, rowes;               /* between a position store and the end of its wake */
bit wkill, rkill, wdone, rdone, rejected;

/* Frame at offset o whole, given tail t and room rm (R4-R8; frame_at_has_seq without R9). */
#define FRAME_OK(o, t, rm) \
	(rm >= HDR && t >= HDR && \
	 ((utyp[o] == T_MSG && usz[o] >= HDR && usz[o] <= MAXSZ && usz[o] <= t && usz[o] <= rm && \
	   (usz[o] < 3 || uval[(o + 2) % CAP] == uval[o]) && \
	   (usz[o] < 4 || uval[(o + 3) % CAP] == uval[o])) || \
	  (utyp[o] == T_PAD && usz[o] == t && t <= rm)))

/* R9 as the writer repair uses it: seq == wseq - 1 and stamp == p */
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

/* shmf_ring_wake(): S2 (the SC order of the steps), S3: load the word; if set, clear it and
 * futex_wake. The ghost "owes" ends when the wake is done or not needed. */
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

/* Write a header record at offset o (one copy_in of 24 bytes) */
#define PUT_HEADER(o, ty, sq, size, v, stamp) \
	utyp[o] = ty; useq[o] = sq; usz[o] = size; uval[o] = v; ustp[o] = stamp; \
	utyp[o + 1] = 0; useq[o + 1] = 0; usz[o + 1] = 0; uval[o + 1] = GARB; ustp[o + 1] = 0; \
	gwhole[o + 1] = 0
#define PUT_PAYLOAD(u, v) \
	utyp[u] = 0; useq[u] = 0; usz[u] = 0; uval[u] = v; ustp[u] = 0; gwhole[u] = 0

/* =============================================================================================
 * Writer: shmf_ring_writer_attach; then per message shmf_send = shmf_ring_write (reserve, copy
 * the payload in, commit) and, on EAGAIN, wait_step() on wwait.
 * =========================================================================================== */
active proctype Writer()
{
	byte pos, seq, peer, rd, m, sz, tail, need, p, o, t;
	bit fin;

restart:
	{
		/* ---- attach (PROTOCOL.md 7): own words, then rpos (acquire), P1-P2 ---- */
		d_step { pos = wpos; m = ncommitted };   /* the app resends what is not committed */
		seq = wseq;
		rd = rpos;
		assert(pos >= rd && pos - rd <= CAP);
		peer = rd;
#ifndef MUTANT_NO_REPAIR
		/* repair: died between storing wseq and wpos -> a whole frame with seq wseq-1 and
		 * stamp p at p = skip(wpos): reuse its number */
		d_step {
			p = pos;
			if :: CAP - p % CAP < HDR -> p = p + CAP - p % CAP :: else fi;
			o = p % CAP;
			if
			:: seq != 0 && p >= rd && p - rd <= CAP && FRAME_OK(o, CAP - o, CAP - (p - rd)) &&
			   WREPAIR_R9(o, seq, p) -> seq = seq - 1
			:: else
			fi;
			p = 0; o = 0
		};
#endif
		rd = 0;
		do
		:: m >= N -> break
		:: m < N ->
			/* the app picks this message's size */
			if
			:: sz = MINSZ
#if MAXSZ > MINSZ
			:: sz = MINSZ + 1
#endif
#if MAXSZ > MINSZ + 1
			:: sz = MINSZ + 2
#endif
			fi;
again:		/* shmf_ring_reserve */
			d_step {
				tail = CAP - pos % CAP;
#ifdef FIX_PAD_FIRST
				if :: sz > tail -> need = tail :: else -> need = sz fi
#else
				if :: sz > tail -> need = tail + sz :: else -> need = sz fi
#endif
			};
room:
			if
			:: pos + need - peer > CAP ->
				rd = rpos;                              /* acquire */
				assert(pos >= rd && pos - rd <= CAP);   /* P1-P2 */
				d_step { peer = rd; rd = 0 };
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
					:: else ->
						t = 0;
						atomic {                        /* W4 futex_wait(&wwait, 1) */
							if
							:: wwait == 1 -> wsleep = 1;
								if
								:: !wsleep
								:: wslice -> wslice = 0; wsleep = 0
								fi
							:: else
							fi
						};
						wwait = 0
					fi;
					goto room
				:: else
				fi
			:: else
			fi;
			/* end the lap (PROTOCOL.md 5.2 step 2) */
			if
			:: sz > tail && tail >= HDR ->
				d_step { o = pos % CAP; PUT_HEADER(o, T_PAD, seq, tail, 0, pos); gwhole[o] = pos + 1 };
				d_step { seq++; wseq = seq };           /* publish(tail) */
				d_step { pos = pos + tail; wpos = pos; o = 0 };
#if defined(FIX_PAD_FIRST) && !defined(FIX_NO_PAD_WAKE)
				wowes = 1;
				WAKE_READER;
#endif
#ifdef FIX_PAD_FIRST
				goto again
#endif
			:: sz > tail && tail < HDR ->
				pos = pos + tail;                       /* skip: private position only */
#ifdef FIX_PAD_FIRST
				goto again
#endif
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
			/* fill: shmf_ring_write copies the payload in, commit() then writes the header */
			if
			:: sz >= 3 ->
				d_step {
					gwhole[o] = 0;
					PUT_PAYLOAD(o + 2, m);
					if :: sz >= 4 -> PUT_PAYLOAD(o + 3, m) :: else fi
				}
			:: else
			fi;
			d_step { PUT_HEADER(o, T_MSG, seq, sz, m, pos); gwhole[o] = pos + 1 };
#ifdef MUTANT_PUBLISH_EARLY
			d_step { seq++; pos = pos + sz; o = 0 };
#else
			/* publish(size): wseq, then wpos with release (PROTOCOL.md 5.2 steps 4-5) */
#ifdef MUTANT_WAKE_BEFORE_PUBLISH
			t = rwait;                                  /* S3 before S1 (no S2 fence) */
#endif
			d_step { seq++; wseq = seq; o = 0 };
			d_step { pos = pos + sz; wpos = pos; ncommitted++; wowes = 1 };
#if defined(MUTANT_NO_WAITER_FLAG)
			wowes = 0;                                  /* never looks at rwait, never wakes */
#elif defined(MUTANT_WAKE_BEFORE_PUBLISH)
			if
			:: t != 0 -> rwait = 0; d_step { rsleep = 0; wowes = 0; t = 0 }
			:: else -> wowes = 0
			fi;
#else
			WAKE_READER;                                /* shmf_ring_wake(rwait) */
#endif
#endif
			d_step { m++; sz = 0 }
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
			if :: wowes -> rslice = 1; wowes = 0 :: else fi;
			pos = 0; seq = 0; peer = 0; rd = 0; m = 0; sz = 0; tail = 0; need = 0;
			p = 0; o = 0; t = 0
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
	byte pos, seq, peer, w, p, o, tail, avail, ht, hs, hz, hv, hp, t;
	bit fin, crcok;

restart:
	{
		/* ---- attach (PROTOCOL.md 7): own words, then wpos (acquire), P1-P2 ---- */
		pos = rpos;
		seq = rseq;
		w = wpos;
		REQUIRE(w >= pos && w - pos <= CAP);
		peer = w;
#ifndef MUTANT_NO_READER_REPAIR
		/* repair: died between storing rseq and rpos -> the frame at p = skip(rpos) has seq
		 * rseq-1 and stamp p: deliver it again */
		d_step {
			p = pos;
			if :: CAP - p % CAP < HDR -> p = p + CAP - p % CAP :: else fi;
			o = p % CAP;
			if
			:: seq != 0 && w >= p && FRAME_OK(o, CAP - o, w - p) && RREPAIR_R9(o, seq, p) ->
				seq = seq - 1
			:: else
			fi;
			p = 0; o = 0
		};
#endif
		w = 0;
		do
		:: delivered >= N -> break
		:: delivered < N ->
nf:			/* next_frame() */
			avail = peer - pos;
			if
			:: avail == 0 ->
				w = wpos;                               /* acquire */
				REQUIRE(w >= pos && w - pos <= CAP);    /* P1-P2 */
				d_step { peer = w; avail = w - pos; w = 0 };
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
					:: else ->
						t = 0;
						atomic {                        /* W4 futex_wait(&rwait, 1) */
							if
							:: rwait == 1 -> rsleep = 1;
								if
								:: !rsleep
								:: rslice -> rslice = 0; rsleep = 0
								fi
							:: else
							fi
						};
						rwait = 0
					fi;
					goto nf
				:: else
				fi
			:: else
			fi;
			d_step { o = pos % CAP; tail = CAP - o };
			if
			:: tail < HDR ->                            /* R2: skip the short tail */
				REQUIRE(avail >= tail);
				d_step { pos = pos + tail; o = 0; tail = 0 };
				goto nf
			:: else
			fi;
			REQUIRE(avail >= HDR);                      /* R3 */
			/* copy the header out */
			d_step { ht = utyp[o]; hs = useq[o]; hz = usz[o]; hv = uval[o]; hp = ustp[o]; WHOLE(o, pos) };
			REQUIRE(ht == T_MSG || ht == T_PAD);        /* R4-R5 */
			REQUIRE((ht == T_MSG && hz >= HDR && hz <= MAXSZ && hz <= tail && hz <= avail) ||
			        (ht == T_PAD && hz == tail && tail <= avail));              /* R6 */
			if
			:: ht == T_PAD ->                           /* CRC of the header only (R8) */
#ifndef MUTANT_NO_SEQ_CHECK
				REQUIRE(hs == seq && hp == pos);        /* R9 */
#endif
				d_step { seq++; rseq = seq };           /* consume(tail) */
				d_step { pos = pos + tail; rpos = pos; rowes = 1;
				         o = 0; tail = 0; avail = 0; ht = 0; hs = 0; hz = 0; hv = 0; hp = 0 };
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
			/* copy the payload out, then verify the private copies */
			d_step {
				crcok = (hz < 3 || uval[(o + 2) % CAP] == hv) && (hz < 4 || uval[(o + 3) % CAP] == hv);
				if :: hz >= 3 -> WHOLE(o, pos) :: else fi
			};
			REQUIRE(crcok);                             /* R8 */
#ifndef MUTANT_NO_SEQ_CHECK
			REQUIRE(hs == seq && hp == pos);            /* R9 */
#endif
			/* consume(size) (PROTOCOL.md 5.4): rseq, then rpos (release); the rpos store is
			 * where the message counts as delivered */
#if defined(MUTANT_CONSUME_EARLY)
			d_step { seq++; pos = pos + hz; assert(hv == delivered); delivered++;
			         o = 0; tail = 0; avail = 0; ht = 0; hs = 0; hz = 0; hv = 0; hp = 0; crcok = 0 }
#elif defined(MUTANT_RSEQ_AFTER_RPOS)
			d_step { rpos = pos + hz; assert(hv == delivered); delivered++; rowes = 1 };
			d_step { seq++; rseq = seq; pos = pos + hz;
			         o = 0; tail = 0; avail = 0; ht = 0; hs = 0; hz = 0; hv = 0; hp = 0; crcok = 0 };
			WAKE_WRITER
#else
			d_step { seq++; rseq = seq };
			d_step { pos = pos + hz; rpos = pos; assert(hv == delivered); delivered++; rowes = 1;
			         o = 0; tail = 0; avail = 0; ht = 0; hs = 0; hz = 0; hv = 0; hp = 0; crcok = 0 };
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
			if :: rowes -> wslice = 1; rowes = 0 :: else fi;
			pos = 0; seq = 0; peer = 0; w = 0; p = 0; o = 0; tail = 0; avail = 0;
			ht = 0; hs = 0; hz = 0; hv = 0; hp = 0; t = 0; crcok = 0
		};
		goto restart
	fi;
dead:	/* FAILCLOSED: a reject is sticky, the reader is done with this ring */
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
