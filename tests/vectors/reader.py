#!/usr/bin/env python3
"""Independent SHMF/1 *reader* of segment images, written from docs/PROTOCOL.md alone.

It was written without reading src/, include/, tools/ or fuzz/ (only PROTOCOL.md, and
encoder.py / README.md of this directory, which were themselves written from the spec).
Every place where the specification was ambiguous or silent and this reader had to choose is
marked `CHOICE` below and listed in READER.md.

Input: a whole segment image (the bytes of a segment file, as `shmframe inspect --file` reads).
It does what an attaching reader does (PROTOCOL.md 6.2, 7, 6.3):

  1. The attach checks of section 6.2 that can be applied to bytes alone: A5 (size), A6 (magic),
     A7 (init_state), A8 (version), A9 (header CRC), A10 (fingerprint, ctl_size), A11 (features),
     A12 (geometry, mode), A13 (total_size). A1-A4, A14-A16 need a name, a file owner, file
     permissions or a lock: they do not apply to an image. A failure here is the verdict of every
     ring.
  2. For each ring, the attach of the side that READS it (ring 0: side B, ring 1: side A):
     A17 (that side's role line `state`), A18 (P1-P2 on every ring that side uses: duplex both,
     simplex ring 0 only), then the reader's takeover repair of section 7 (applied on every
     attach, as section 7 says the library does).
  3. Consume every published frame from `rpos` to `wpos` with P1-P2 and R1-R9 (R7 never fires:
     the buffer is unbounded), stopping at the first reject.

Output: per ring, the delivered payloads with their seq, and the verdict: "ok" (the ring was
drained, R1: SHMF_EAGAIN, not a reject) or the first reject's code name (SHMF_E...) with the rule
id that raised it (A5..A18, P1, P2, R2..R9).

Usage:
    reader.py IMAGE            human-readable report
    reader.py IMAGE --json     one JSON object (see read_image())

Python 3 standard library only.
"""

import json
import struct
import sys

# --------------------------------------------------------------------------------------------
# Section 3: CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, table-driven.

_POLY = 0x82F63B78
_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)
del _i, _c


def crc32c(data, crc=0):
    """CRC-32C of data; crc32c(B, crc32c(A)) is "the CRC of A then B"."""
    c = crc ^ 0xFFFFFFFF
    t = _TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _crc_self_check():
    vec = [(b"123456789", 0xE3069283), (bytes(32), 0x8A9136AA), (b"\xff" * 32, 0x62A8AB43),
           (bytes(range(32)), 0x46DD794E), (bytes(range(31, -1, -1)), 0x113FDB5C),
           (b"SHMF/1 header=128 role=64 ringctl=256 ctlarea=4096 frame=24 align=8", 0x9D825D65)]
    for data, want in vec:
        if crc32c(data) != want:
            raise SystemExit("reader.py: CRC-32C self-check failed")
    if crc32c(b"56789", crc32c(b"1234")) != 0xE3069283:
        raise SystemExit("reader.py: CRC-32C chaining self-check failed")


_crc_self_check()

# --------------------------------------------------------------------------------------------
# Sections 1, 2, 4, 10: constants.

PAGE = 4096
CTL_SIZE = 4096
MAGIC = 0x464D4853
INIT_READY = 0x59444552
FINGERPRINT = 0x9D825D65
FRAME_HDR = 24
TYPE_MSG, TYPE_PAD = 1, 2
U64 = (1 << 64) - 1
ROLE_LINE = (0x80, 0xC0)          # side A, side B
RING_CTL = (0x100, 0x200)         # ring 0, ring 1
RC_WPOS, RC_WSEQ, RC_RPOS, RC_RSEQ = 0x00, 0x08, 0x80, 0x88

# Section 10: the numbers are part of the ABI.
CODES = {
    "SHMF_OK": 0, "SHMF_EINVAL": -1, "SHMF_ENAME": -2, "SHMF_ENOMEM": -3, "SHMF_ESYS": -4,
    "SHMF_EEXIST": -5, "SHMF_ENOENT": -6, "SHMF_EACCES": -7, "SHMF_ENOSPC": -8,
    "SHMF_EAGAIN": -9, "SHMF_ETIMEDOUT": -10, "SHMF_EPEERGONE": -11, "SHMF_EPEERCLOSED": -12,
    "SHMF_EROLEBUSY": -13, "SHMF_EMSGSIZE": -14, "SHMF_ETOOSMALL": -15, "SHMF_ENOTSUP": -16,
    "SHMF_ESTATE": -17, "SHMF_EFILETYPE": -20, "SHMF_EOWNER": -21, "SHMF_EMODE": -22,
    "SHMF_ESIZE": -23, "SHMF_EMAGIC": -24, "SHMF_EVERSION": -25, "SHMF_EHDRCRC": -26,
    "SHMF_ELAYOUT": -27, "SHMF_EFEATURE": -28, "SHMF_ENOTREADY": -29, "SHMF_EROLE": -30,
    "SHMF_ESEALS": -31, "SHMF_EPEERCRED": -32, "SHMF_ETRUNCATED": -33, "SHMF_EPOS": -40,
    "SHMF_EALIGN": -41, "SHMF_ELENGTH": -42, "SHMF_ETYPE": -43, "SHMF_EFLAGS": -44,
    "SHMF_ECRC": -45, "SHMF_ESEQ": -46,
}
NAMES = {v: k for k, v in CODES.items()}


def align8(x):
    return (x + 7) & ~7


def round_page(x):
    return (x + PAGE - 1) // PAGE * PAGE


def is_pow2(x):
    return x > 0 and (x & (x - 1)) == 0


class Reject(Exception):
    """A failed check: `code` is the spec's name (SHMF_E...), `rule` its rule id."""

    def __init__(self, code, rule, detail=""):
        super().__init__("%s (%s) %s" % (code, rule, detail))
        self.code, self.rule, self.detail = code, rule, detail


def _u16(b, o):
    return struct.unpack_from("<H", b, o)[0]


def _u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def _u64(b, o):
    return struct.unpack_from("<Q", b, o)[0]


# --------------------------------------------------------------------------------------------
# Section 6.2, A5-A13: the header.

class Geometry:
    pass


def check_header(img):
    """A5-A13 on the image; returns the private Geometry (rule 4 of 6.1) or raises Reject."""
    size = len(img)
    # A5. A size of 0 means "still being created": without waiting, SHMF_ENOTREADY.
    if size == 0:
        raise Reject("SHMF_ENOTREADY", "A5", "empty file")
    if size < CTL_SIZE:
        raise Reject("SHMF_ESIZE", "A5", "size %d < 4096" % size)
    # Snapshot: init_state first, then the 128 header bytes (6.2, last paragraph).
    init_state = _u32(img, 0x7C)
    hdr = bytes(img[:128])
    magic = _u32(hdr, 0x00)
    # A6. magic 0 with init_state 0 is "still being created".
    if magic != MAGIC:
        if magic == 0 and init_state == 0:
            raise Reject("SHMF_ENOTREADY", "A6", "magic 0, init_state 0")
        raise Reject("SHMF_EMAGIC", "A6", "magic 0x%08X" % magic)
    # A7. CHOICE: any value other than "REDY" is "not ready" (no wait on an image).
    if init_state != INIT_READY:
        raise Reject("SHMF_ENOTREADY", "A7", "init_state 0x%08X" % init_state)
    # A8. Only the major version; any minor version is accepted (2.1).
    if _u16(hdr, 0x04) != 1:
        raise Reject("SHMF_EVERSION", "A8", "major %d" % _u16(hdr, 0x04))
    # A9.
    if crc32c(hdr[:0x78]) != _u32(hdr, 0x78):
        raise Reject("SHMF_EHDRCRC", "A9")
    # A10.
    if _u32(hdr, 0x0C) != FINGERPRINT or _u32(hdr, 0x18) != CTL_SIZE:
        raise Reject("SHMF_ELAYOUT", "A10", "fingerprint/ctl_size")
    # A11. No feature is defined in 1.0.
    if _u32(hdr, 0x08) != 0:
        raise Reject("SHMF_EFEATURE", "A11", "features 0x%08X" % _u32(hdr, 0x08))
    # A12. Section 2.4 and the mode bits. CHOICE: reserved0 / reserved1 are not checked
    # ("Readers check the ones this document names": no check of 6.2 names them).
    ring_count = _u32(hdr, 0x1C)
    max_message = _u32(hdr, 0x20)
    mode = _u32(hdr, 0x28)
    r0d, r0c, r1d, r1c = (_u64(hdr, 0x38), _u64(hdr, 0x40), _u64(hdr, 0x48), _u64(hdr, 0x50))
    if ring_count not in (1, 2):
        raise Reject("SHMF_ELAYOUT", "A12", "ring_count %d" % ring_count)
    caps = [r0c] if ring_count == 1 else [r0c, r1c]
    for cap in caps:
        if not is_pow2(cap) or cap < 256 or cap > (1 << 30):
            raise Reject("SHMF_ELAYOUT", "A12", "capacity %d" % cap)
        if 2 * align8(FRAME_HDR + max_message) > cap:
            raise Reject("SHMF_ELAYOUT", "A12", "max_message %d vs capacity %d" % (max_message, cap))
    if r0d != CTL_SIZE:
        raise Reject("SHMF_ELAYOUT", "A12", "ring0_data %d" % r0d)
    if ring_count == 2:
        if r1d != CTL_SIZE + round_page(r0c):
            raise Reject("SHMF_ELAYOUT", "A12", "ring1_data %d" % r1d)
        datas = [r0d, r1d]
    else:
        # 2.1: ring1_data and ring1_capacity are 0 when simplex. CHOICE: A12 checks them.
        if r1d != 0 or r1c != 0:
            raise Reject("SHMF_ELAYOUT", "A12", "simplex with ring 1 fields")
        datas = [r0d]
    if mode & ~0o777:
        raise Reject("SHMF_ELAYOUT", "A12", "mode 0%o" % mode)
    # A13.
    total = _u64(hdr, 0x10)
    if total != datas[-1] + round_page(caps[-1]) or total != size:
        raise Reject("SHMF_ESIZE", "A13", "total_size %d, file %d" % (total, size))
    g = Geometry()
    g.ring_count, g.max_message, g.caps, g.datas, g.mode = ring_count, max_message, caps, datas, mode
    g.version_minor = _u16(hdr, 0x06)
    return g


# --------------------------------------------------------------------------------------------
# Sections 6.2 (A17-A18), 7 (reader repair), 6.3 (P1-P2, R1-R9).

def positions(img, ring):
    base = RING_CTL[ring]
    return _u64(img, base + RC_WPOS), _u64(img, base + RC_WSEQ), \
        _u64(img, base + RC_RPOS), _u64(img, base + RC_RSEQ)


def check_p1_p2(w, r, cap):
    """A18 on one ring. CHOICE: at attach both positions of the ring must be multiples of 8
    (P1 names `w` for a reader and `r` for a writer; 5.1 says every position is one), P1
    before P2."""
    if w % 8:
        raise Reject("SHMF_EALIGN", "P1", "wpos %d" % w)
    if r % 8:
        raise Reject("SHMF_EALIGN", "P1", "rpos %d" % r)
    if (w - r) & U64 > cap:
        raise Reject("SHMF_EPOS", "P2", "wpos %d rpos %d" % (w, r))


def frame_checks(img, g, ring, rpos, rseq, w):
    """R2-R9 on the frame at private position rpos (R2's skip applied). Returns
    (new_rpos, new_rseq, delivered) where delivered is (seq, payload) or None for a PAD;
    or raises Reject. Assumes P1-P2 held and w != rpos (R1)."""
    cap = g.caps[ring]
    data = g.datas[ring]
    tail = cap - (rpos & (cap - 1))
    # R2: a tail too short for a header is skipped by the same rule as the writer's.
    if tail < FRAME_HDR:
        if ((w - rpos) & U64) < tail:
            raise Reject("SHMF_EPOS", "R2", "rpos %d tail %d w %d" % (rpos, tail, w))
        return (rpos + tail) & U64, rseq, "skip"
    avail = (w - rpos) & U64
    # R3
    if avail < FRAME_HDR:
        raise Reject("SHMF_EPOS", "R3", "avail %d" % avail)
    off = data + (rpos & (cap - 1))
    hdr = bytes(img[off:off + FRAME_HDR])      # private copy of the header
    crc, length, seq, ftype, flags, pos32 = struct.unpack("<IIQHHI", hdr)
    # R4
    if ftype not in (TYPE_MSG, TYPE_PAD):
        raise Reject("SHMF_ETYPE", "R4", "type %d" % ftype)
    # R5
    if flags != 0:
        raise Reject("SHMF_EFLAGS", "R5", "flags 0x%04X" % flags)
    # R6
    if ftype == TYPE_MSG:
        size = align8(FRAME_HDR + length)
        if length > g.max_message or size > tail or size > avail:
            raise Reject("SHMF_ELENGTH", "R6", "MSG length %d tail %d avail %d" % (length, tail, avail))
    else:
        size = tail
        if FRAME_HDR + length != tail or tail > avail or tail >= align8(FRAME_HDR + g.max_message):
            raise Reject("SHMF_ELENGTH", "R6", "PAD length %d tail %d avail %d" % (length, tail, avail))
    # R7 never fires: our buffer is unbounded.
    # R8: CRC of the private header bytes 0x04-0x17, then of the private payload copy (MSG).
    payload = bytes(img[off + FRAME_HDR:off + FRAME_HDR + length]) if ftype == TYPE_MSG else b""
    c = crc32c(hdr[4:24])
    if ftype == TYPE_MSG:
        c = crc32c(payload, c)
    if c != crc:
        raise Reject("SHMF_ECRC", "R8", "crc 0x%08X want 0x%08X" % (crc, c))
    # R9
    if seq != rseq or pos32 != (rpos & 0xFFFFFFFF):
        raise Reject("SHMF_ESEQ", "R9", "seq %d pos 0x%08X, expected %d at 0x%08X"
                     % (seq, pos32, rseq, rpos & 0xFFFFFFFF))
    # 5.4: rseq = seq + 1, rpos = end of the frame.
    new_rseq = (seq + 1) & U64
    new_rpos = (rpos + size) & U64
    return new_rpos, new_rseq, ((seq, payload) if ftype == TYPE_MSG else None)


def reader_repair(img, g, ring, rpos, rseq, w):
    """Section 7, "As the reader of a ring": p = rpos after the skip rule; if the frame at p
    passes R4-R8 with avail = w - p and R9 with the expected values rseq - 1 and p, then
    rseq = rseq - 1. Returns the (possibly) repaired rseq. Section 7 (since c457df0): only when
    rseq > 0, and nothing to repair when the skip rule itself would fail (w - rpos < tail) or
    fewer than 24 bytes are published at p (the normal read then meets the reject)."""
    if w == rpos or rseq == 0:
        return rseq
    cap = g.caps[ring]
    p = rpos
    tail = cap - (p & (cap - 1))
    if tail < FRAME_HDR:
        if ((w - p) & U64) < tail:
            return rseq
        p = (p + tail) & U64
    if w == p:
        return rseq
    try:
        frame_checks(img, g, ring, p, (rseq - 1) & U64, w)
    except Reject:
        return rseq
    return (rseq - 1) & U64


def read_ring(img, g, ring, repair=True, attach_scope="side"):
    """The reader of `ring` attaches (A17, A18, repair) then drains the ring."""
    out = {"ring": ring, "side": "B" if ring == 0 else "A", "delivered": [], "verdict": "ok",
           "rule": None, "detail": ""}
    side = 1 if ring == 0 else 0
    try:
        # A17: the role line of the side that reads this ring.
        state = _u32(img, ROLE_LINE[side])
        if attach_scope == "side" and state not in (0, 1, 2):
            raise Reject("SHMF_EROLE", "A17", "role %s state %d" % ("AB"[side], state))
        # A18: every ring this side uses (it reads `ring`, writes the other one if duplex).
        # A18 (since c457df0): the ring this side writes first, then the one it reads; the
        # first failure is the attach's error ("a18_codes" keeps it for differential.py).
        fails = []
        others = [x for x in range(g.ring_count) if x != ring] if attach_scope == "side" else []
        for r in others + [ring]:
            w_, _, r_, _ = positions(img, r)
            try:
                check_p1_p2(w_, r_, g.caps[r])
            except Reject as e:
                fails.append(Reject(e.code, "A18/" + e.rule, "ring %d: %s" % (r, e.detail)))
        if fails:
            out["a18_codes"] = [fails[0].code]
            raise fails[0]
        w, _wseq, rpos, rseq = positions(img, ring)   # w: the one wpos snapshot of an image
        rseq0 = rseq
        if repair:
            rseq = reader_repair(img, g, ring, rpos, rseq, w)
        out["start"] = {"rpos": rpos, "rseq": rseq, "wpos": w, "rseq_shared": rseq0}
        steps = 0
        while True:
            # P1, P2 on the snapshot (the image never changes, but the rules run every call).
            if w % 8:
                raise Reject("SHMF_EALIGN", "P1", "wpos %d" % w)
            if (w - rpos) & U64 > g.caps[ring]:
                raise Reject("SHMF_EPOS", "P2", "wpos %d rpos %d" % (w, rpos))
            # R1
            if w == rpos:
                break
            rpos, rseq, got = frame_checks(img, g, ring, rpos, rseq, w)
            if got not in (None, "skip"):
                out["delivered"].append(got)
            steps += 1
            if steps > 1 << 24:   # cannot happen: every step advances rpos towards w
                raise RuntimeError("reader loop does not terminate")
        out["end"] = {"rpos": rpos, "rseq": rseq}
    except Reject as e:
        out["verdict"], out["rule"], out["detail"] = e.code, e.rule, e.detail
    return out


def read_image(img, repair=True, attach_scope="side"):
    """attach_scope "side": each ring is read after the attach of the side that reads it
    (A17 on its role line, A18 on every ring it uses). "ring": a reader that does not attach
    (an inspector): A18 on that ring only, no A17.
    The whole report for one image:
    {"header": "ok" | code, "rule": ..., "rings": [per ring: {"ring", "side", "delivered":
    [(seq, payload bytes)], "verdict": "ok" | code, "rule", "detail"}]}."""
    res = {"header": "ok", "rule": None, "detail": "", "rings": []}
    try:
        g = check_header(img)
    except Reject as e:
        res["header"], res["rule"], res["detail"] = e.code, e.rule, e.detail
        return res
    res["ring_count"] = g.ring_count
    res["capacities"] = g.caps
    res["max_message"] = g.max_message
    for ring in range(g.ring_count):
        res["rings"].append(read_ring(img, g, ring, repair, attach_scope))
    return res


def to_json(res):
    r = dict(res)
    r["rings"] = []
    for ring in res["rings"]:
        x = dict(ring)
        x["delivered"] = [{"seq": s, "hex": p.hex()} for s, p in ring["delivered"]]
        r["rings"].append(x)
    return r


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    with open(argv[1], "rb") as f:
        img = f.read()
    res = read_image(img, repair="--no-repair" not in argv)
    if "--json" in argv:
        print(json.dumps(to_json(res), indent=1))
        return 0
    if res["header"] != "ok":
        print("header: %s (%s) %s" % (res["header"], res["rule"], res["detail"]))
        return 0
    print("header: ok, %d ring(s), capacities %s, max_message %d"
          % (res["ring_count"], res["capacities"], res["max_message"]))
    for ring in res["rings"]:
        print("ring %d (read by side %s): %d delivered, verdict %s%s"
              % (ring["ring"], ring["side"], len(ring["delivered"]), ring["verdict"],
                 " (%s) %s" % (ring["rule"], ring["detail"]) if ring["rule"] else ""))
        for seq, p in ring["delivered"]:
            print("  seq %d, %d bytes: %s" % (seq, len(p), p[:32].hex() + ("..." if len(p) > 32 else "")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
