#!/usr/bin/env python3
"""Generate the seed corpora of the shmframe fuzz targets (fuzz/corpus/<target>/).

Written from docs/PROTOCOL.md (Python 3 standard library only); the outputs are committed, so
run this only to change the seeds:

    fuzz/gen_corpus.py            rewrite every generated seed (files named crash-* are kept)
    fuzz/gen_corpus.py --check    exit 1 if a committed seed differs from what this writes

Seeds per target:
  frame, frame_fixed_crc   valid MSG/PAD frames of various lengths and one input per reject of
                           PROTOCOL.md 6.3 (R3..R9), behind the harness's parameter prefix
  segment, segment_guard   the golden vectors of tests/vectors, valid segments (duplex, simplex,
                           wrapped, skipped tails, takeover repairs, peek mode, ETOOSMALL) and one
                           image per reject of 6.2 (A5..A18) and 6.3 (P1..R9)
  hostile_memory           load streams that walk the reader and writer through delivery, peek,
                           padding, rejects and reservations (the order of loads is ring.c's)
  crc32c, names            the vectors of PROTOCOL.md 3 (and frames for the fused copies) and
                           the edge cases of 9.4
  api_ops                  call programs: ping-pong, full rings, wraps with PADs and skipped
                           tails, ETOOSMALL, EMSGSIZE, peek/release, reserve/commit, simplex
  cli_image                the segment seeds the analysis of inspect/ls reads alike (not those
                           that only steer the segment harness's receives), and images marked
                           as copies (inspect --file), whose owner and mode are not checked
  cli_args                 shmframe command lines (NUL-separated arguments): valid ones for
                           every subcommand and option form, and one per usage error of
                           tools/cli_parse.c

Files named crash-* (reproducers of fixed bugs) and cov-* (inputs a campaign found that reach
new code, merged with libFuzzer's -merge=1) are not generated, and are kept.
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VECTORS = os.path.join(REPO, "tests", "vectors")

# ---- PROTOCOL.md 3 ---------------------------------------------------------------------------

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ (0x82F63B78 if _c & 1 else 0)
    _TABLE.append(_c)


def crc32c(data, crc=0):
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ _TABLE[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283

# ---- PROTOCOL.md 2 and 4 ---------------------------------------------------------------------

MAGIC, READY, FINGERPRINT = 0x464D4853, 0x59444552, 0x9D825D65
MSG, PAD = 1, 2
HDR = 24
U64 = (1 << 64) - 1
SYMBOLIC_UID = 1000  # the segment harnesses read it as "the caller's uid"
CTL_FILEMODE, CTL_RECVCAP, CTL_FLAGS = 0xFF0, 0xFF4, 0xFF8  # harness steering words


def align8(x):
    return (x + 7) & ~7


def round_page(x):
    return (x + 4095) // 4096 * 4096


def frame(ftype, payload=b"", seq=0, pos=0, length=None, flags=0, crc=None, body=None):
    """A frame: header, then the payload (MSG, zero-padded to 8) or the body (PAD)."""
    payload = bytes(payload)
    if length is None:
        length = len(payload) if ftype != PAD else len(body or b"")
    hdr = bytearray(struct.pack("<IIQHHI", 0, length, seq, ftype, flags, pos & 0xFFFFFFFF))
    if crc is None:
        crc = crc32c(payload, crc32c(hdr[4:24])) if ftype == MSG else crc32c(hdr[4:24])
    struct.pack_into("<I", hdr, 0, crc)
    if ftype == PAD:
        return bytes(hdr) + bytes(body if body is not None else bytes(length))
    return bytes(hdr) + payload + bytes(align8(HDR + len(payload)) - HDR - len(payload))


def pattern(n, k=0):
    return bytes((k * 16 + i) & 0xFF for i in range(n))


class Segment:
    """A segment image (PROTOCOL.md 2) with a writer and reader per ring (5.2, 5.4)."""

    def __init__(self, caps=(256, 256), max_message=64, mode=0o600, uid=SYMBOLIC_UID):
        self.caps = list(caps)
        self.mm = max_message
        self.data = [4096]
        if len(caps) == 2:
            self.data.append(4096 + round_page(caps[0]))
        self.total = self.data[-1] + round_page(caps[-1])
        self.b = bytearray(self.total)
        h = self.b
        struct.pack_into("<IHHII", h, 0, MAGIC, 1, 0, 0, FINGERPRINT)
        struct.pack_into("<QII", h, 0x10, self.total, 4096, len(caps))
        struct.pack_into("<IIII", h, 0x20, max_message, uid, mode, 0)
        struct.pack_into("<QQQ", h, 0x30, 1767225600000000000, 4096, caps[0])
        if len(caps) == 2:
            struct.pack_into("<QQ", h, 0x48, self.data[1], caps[1])
        self.fix_header()
        struct.pack_into("<I", h, 0x7C, READY)
        self.w = [[0, 0], [0, 0]]  # private wpos, wseq per ring

    def fix_header(self):
        struct.pack_into("<I", self.b, 0x78, crc32c(self.b[0:0x78]))

    def u32(self, off, v):
        struct.pack_into("<I", self.b, off, v & 0xFFFFFFFF)

    def u64(self, off, v):
        struct.pack_into("<Q", self.b, off, v & U64)

    def ctl(self, ring):
        return 0x100 + 0x100 * ring

    def off(self, ring, pos):
        return self.data[ring] + (pos & (self.caps[ring] - 1))

    def publish(self, ring):
        self.u64(self.ctl(ring) + 0x00, self.w[ring][0])
        self.u64(self.ctl(ring) + 0x08, self.w[ring][1])

    def write(self, ring, payload, **kw):
        """Append a MSG as the writer does (PAD or skip to end a lap first). Returns its pos."""
        cap = self.caps[ring]
        wpos, wseq = self.w[ring]
        size = align8(HDR + len(payload))
        tail = cap - (wpos & (cap - 1))
        if size > tail:
            if tail >= HDR:
                o = self.off(ring, wpos)
                self.b[o:o + HDR] = frame(PAD, seq=wseq, pos=wpos, length=tail - HDR)[:HDR]
                wseq += 1
            wpos += tail
        kw.setdefault("seq", wseq)
        kw.setdefault("pos", wpos)
        f = frame(MSG, payload, **kw)
        o = self.off(ring, wpos)
        self.b[o:o + len(f)] = f
        at = wpos
        self.w[ring] = [wpos + size, wseq + 1]
        self.publish(ring)
        return at

    def consume_all(self, ring):
        """The reader caught up: rpos = wpos, rseq = wseq."""
        self.u64(self.ctl(ring) + 0x80, self.w[ring][0])
        self.u64(self.ctl(ring) + 0x88, self.w[ring][1])

    def reader(self, ring, rpos, rseq):
        self.u64(self.ctl(ring) + 0x80, rpos)
        self.u64(self.ctl(ring) + 0x88, rseq)

    def steer(self, filemode=0, recvcap=0, flags=0):
        self.u32(CTL_FILEMODE, filemode)
        self.u32(CTL_RECVCAP, recvcap)
        self.u32(CTL_FLAGS, flags)
        return self

    def bytes(self):
        return bytes(self.b)


def traffic(caps=(256, 256), mm=64, **kw):
    """A duplex segment with unread messages both ways."""
    s = Segment(caps, mm, **kw)
    for k in range(3):
        s.write(0, pattern(10 + 9 * k, k))
    if len(caps) == 2:
        for k in range(2):
            s.write(1, pattern(5 + 20 * k, 7 + k))
    return s


def wrapped(unread_pad=True):
    """Simplex, capacity 256: the reader stops just before the end of a lap, then a PAD and a
    MSG (or a skipped tail and a MSG) are left unread."""
    s = Segment((256,), 64)
    for k in range(3):
        s.write(0, pattern(44, k))  # 72-byte frames: 216 used
    s.consume_all(0)
    if unread_pad:
        s.write(0, pattern(44, 3))  # tail 40 -> PAD then MSG
    else:
        s.write(0, pattern(20, 3))  # 48 bytes: pos 264
        s.consume_all(0)
    s.write(0, pattern(30, 4))
    return s


def skipped():
    """Simplex: the reader sits at offset 240 (tail 16 < 24): a skip, then a MSG."""
    s = Segment((256,), 64)
    for k in range(3):
        s.write(0, pattern(56, k))  # 80-byte frames: 240 used
    s.consume_all(0)
    s.write(0, pattern(56, 3))  # tail 16 -> skip, MSG at 256
    s.write(0, pattern(1, 4))
    return s


def segment_seeds():
    out = {}
    for name in ("segment_two.bin", "segment_wrap.bin", "segment_skip.bin"):
        path = os.path.join(VECTORS, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                out["vector-" + name[len("segment_"):-4]] = f.read()

    # ---- valid ----
    out["valid-empty-duplex"] = Segment().bytes()
    out["valid-traffic-duplex"] = traffic().bytes()
    out["valid-traffic-peek"] = traffic().steer(flags=3).bytes()
    out["valid-caps-differ"] = traffic(caps=(256, 512)).bytes()
    s = Segment((4096,), 1000)
    for k, n in enumerate((0, 1, 7, 8, 999, 1000, 300)):
        s.write(0, pattern(n, k))
    out["valid-simplex-4k-lengths"] = s.bytes()
    out["valid-wrap-pad-unread"] = wrapped(True).bytes()
    out["valid-skip-unread"] = skipped().bytes()
    s = Segment((256, 256), 0)
    for _ in range(5):
        s.write(0, b"")
    s.write(1, b"")
    out["valid-max-message-0"] = s.bytes()
    s = traffic()
    s.u32(0x80, 1)  # role A attached (a dead holder: takeover)
    s.u32(0xC0, 2)  # role B detached
    s.u32(0x84, 5)
    s.u32(0xC4, 3)
    out["valid-roles-takeover"] = s.bytes()
    s = traffic()
    struct.pack_into("<H", s.b, 0x06, 7)  # minor version: accepted
    s.fix_header()
    out["valid-minor-version"] = s.bytes()
    s = Segment((16384,), 4000)
    for k in range(12):
        s.write(0, pattern(1337 * k % 4001, k))
        if k < 8:
            s.consume_all(0)
    out["valid-simplex-16k"] = s.bytes()
    # the reader died between storing rseq and rpos: the frame at rpos is delivered again
    s = traffic()
    s.reader(0, 0, 1)
    out["valid-reader-repair"] = s.bytes()
    s = skipped()
    s.reader(0, 240, 4)  # repair across a skipped tail
    out["valid-reader-repair-skip"] = s.bytes()
    # the writer died between storing wseq and wpos: a whole frame with seq wseq-1 at wpos
    s = traffic()
    pos = s.w[0][0]
    f = frame(MSG, b"unpublished", seq=3, pos=pos)
    s.b[s.off(0, pos):s.off(0, pos) + len(f)] = f
    s.u64(s.ctl(0) + 0x08, 4)
    out["valid-writer-repair"] = s.bytes()
    # harness steering: a 4-byte receive buffer, then max_message
    out["valid-etoosmall"] = traffic().steer(recvcap=5).bytes()
    # guard target: write-back through reserve/commit, 50 bytes
    s = Segment((256,), 64)
    s.write(0, pattern(30))
    out["valid-writeback-reserve"] = s.steer(flags=4 | (50 << 16)).bytes()
    s = wrapped(True)  # reader caught up at 448 (tail 64): a 44-byte write needs a PAD first
    s.consume_all(0)
    s.write(0, pattern(44, 9))
    s.consume_all(0)
    out["valid-writeback-pad"] = s.steer(flags=(60 << 16)).bytes()
    s = Segment((256,), 64)  # reader caught up at 240 (tail 16): the write skips the tail
    for k in range(3):
        s.write(0, pattern(56, k))
    s.consume_all(0)
    out["valid-writeback-skip"] = s.steer(flags=4 | (20 << 16)).bytes()
    s = traffic()  # both wait words flagged on both rings: every consume wakes the writer
    for ring in (0, 1):
        s.u32(s.ctl(ring) + 0x40, 1)
        s.u32(s.ctl(ring) + 0xC0, 1)
    out["valid-wait-words"] = s.bytes()

    # ---- 6.2: attach rejects ----
    out["reject-A5-size-small"] = traffic().bytes()[:100]
    out["reject-A5-size-4095"] = Segment((256,)).bytes()[:4095]
    out["reject-A5-size-0"] = b""
    s = Segment((256,))
    s.u32(0, 0x464D4854)
    out["reject-A6-magic"] = s.bytes()
    s = Segment((256,))
    s.u32(0, 0)
    s.u32(0x7C, 0)
    out["reject-A6-magic-0-creating"] = s.bytes()
    s = Segment((256,))
    s.u32(0x7C, 0x59444553)
    out["reject-A7-not-ready"] = s.bytes()
    s = Segment((256,))
    struct.pack_into("<H", s.b, 4, 2)
    s.fix_header()
    out["reject-A8-version"] = s.bytes()
    s = Segment((256,))
    s.u32(0x78, crc32c(s.b[:0x78]) ^ 1)
    out["reject-A9-header-crc"] = s.bytes()
    s = Segment((256,))
    s.u32(0x0C, FINGERPRINT ^ 0x100)
    s.fix_header()
    out["reject-A10-fingerprint"] = s.bytes()
    s = Segment((256,))
    s.u32(0x18, 8192)
    s.fix_header()
    out["reject-A10-ctl-size"] = s.bytes()
    s = Segment((256,))
    s.u32(0x08, 1)
    s.fix_header()
    out["reject-A11-feature"] = s.bytes()
    s = Segment((256,))
    s.u32(0x1C, 3)
    s.fix_header()
    out["reject-A12-ring-count"] = s.bytes()
    s = Segment((256,))
    s.u64(0x40, 384)
    s.fix_header()
    out["reject-A12-capacity"] = s.bytes()
    s = Segment((256,))
    s.u32(0x20, 105)  # 2 * align8(24 + 105) = 272 > 256 (PROTOCOL.md 2.4)
    s.fix_header()
    out["reject-A12-max-message"] = s.bytes()
    s = Segment((256, 256), 104)  # 2 * 128 = 256: the largest allowed
    s.write(0, pattern(104))
    s.write(1, pattern(104, 1))
    out["valid-max-message-largest"] = s.bytes()
    s = Segment((256, 256))
    s.u64(0x48, 4096 + 8192)
    s.fix_header()
    out["reject-A12-ring1-offset"] = s.bytes()
    s = Segment((256,))
    s.u64(0x50, 256)
    s.fix_header()
    out["reject-A12-simplex-ring1"] = s.bytes()
    s = Segment((256,))
    s.u32(0x28, 0o1600)
    s.fix_header()
    out["reject-A12-mode-bits"] = s.bytes()
    s = Segment((256,))
    s.u64(0x10, 12288)
    s.fix_header()
    out["reject-A13-total-size"] = s.bytes()
    out["reject-A13-file-size"] = Segment((256,)).bytes() + bytes(4096)
    out["reject-A14-owner"] = Segment((256,), uid=SYMBOLIC_UID + 1).bytes()
    out["reject-A15-file-mode"] = Segment((256,)).steer(filemode=0o666).bytes()
    s = traffic()
    s.u32(0xC0, 3)
    out["reject-A17-role-b"] = s.bytes()
    s = traffic()
    s.u32(0x80, 0xFFFFFFFF)
    out["reject-A17-role-a"] = s.bytes()
    s = traffic()
    s.u64(s.ctl(0), s.w[0][0] + 4)
    out["reject-A18-wpos-align"] = s.bytes()
    s = traffic()
    s.reader(0, 4, 0)
    out["reject-A18-rpos-align"] = s.bytes()
    s = traffic()
    s.u64(s.ctl(0), 264)
    out["reject-A18-wpos-range"] = s.bytes()
    s = traffic()
    s.reader(1, s.w[1][0] + 8, 0)  # rpos ahead of wpos on ring 1: B's tx, A's rx
    out["reject-A18-ring1-rpos-ahead"] = s.bytes()

    # ---- 6.3: rejects while reading (ring 0, side B) ----
    def one(payload_len=18, **kw):
        s = Segment((256,), 64)
        s.write(0, pattern(payload_len), **kw)
        return s

    s = skipped()
    s.u64(s.ctl(0), 248)  # rpos 240, tail 16, only 8 published
    s.u64(s.ctl(0) + 8, 4)
    out["reject-R2-skip-beyond-wpos"] = s.bytes()
    s = one()
    s.u64(s.ctl(0), 16)
    out["reject-R3-partial-header"] = s.bytes()
    s = Segment((256,), 64)
    f = bytearray(frame(MSG, pattern(18)))
    struct.pack_into("<H", f, 16, 3)
    struct.pack_into("<I", f, 0, crc32c(pattern(18), crc32c(f[4:24])))
    s.b[4096:4096 + len(f)] = f
    s.u64(s.ctl(0), len(f))
    out["reject-R4-type"] = s.bytes()
    out["reject-R5-flags"] = one(flags=1).bytes()
    out["reject-R6-length-max"] = one(length=65).bytes()
    s = Segment((256,), 64)
    s.write(0, pattern(56))
    s.write(0, pattern(56))
    s.write(0, pattern(56))
    s.consume_all(0)
    f = frame(MSG, pattern(8), seq=3, pos=240 - 8)  # a frame at 232 that runs past the end
    s.reader(0, 232, 3)
    s.b[4096 + 232:4096 + 256] = f[:24]
    s.u64(s.ctl(0), 232 + 40)
    s.u64(s.ctl(0) + 8, 4)
    out["reject-R6-length-tail"] = s.bytes()
    s = one(payload_len=40)
    s.u64(s.ctl(0), 40)
    out["reject-R6-length-avail"] = s.bytes()
    s = wrapped(True)
    o = 4096 + 216
    struct.pack_into("<I", s.b, o + 4, 8)  # PAD length 8 instead of 16
    struct.pack_into("<I", s.b, o, crc32c(s.b[o + 4:o + 24]))
    out["reject-R6-pad-length"] = s.bytes()
    s = wrapped(True)
    s.u64(s.ctl(0), 216 + 32)  # the PAD reaches past wpos
    s.u64(s.ctl(0) + 8, 4)
    out["reject-R6-pad-avail"] = s.bytes()
    out["reject-R8-crc"] = one(crc=0xDEADBEEF).bytes()
    s = wrapped(True)
    s.b[4096 + 216] ^= 0x40
    out["reject-R8-pad-crc"] = s.bytes()
    out["reject-R9-seq"] = one(seq=1).bytes()
    out["reject-R8-crc-peek"] = one(crc=0xDEADBEEF).steer(flags=1).bytes()
    out["reject-R9-seq-peek"] = one(seq=1).steer(flags=1).bytes()
    out["reject-R9-pos-stamp"] = one(pos=256).bytes()  # a frame of the previous lap
    s = traffic()
    s.b[s.data[1] + 8] ^= 1  # seq of ring 1's first frame: side A's read fails its CRC
    out["reject-R8-ring1-side-a"] = s.bytes()

    # ---- the other halves of the A6 and A12 conditions, and of the writer-repair test ----
    s = Segment((256,))
    s.u32(0, 0)  # magic 0 but ready: foreign, not being created
    out["reject-A6-magic-0-ready"] = s.bytes()
    for tag, off, val, caps, mm in [
            ("capacity-2g", 0x40, 1 << 31, (256,), 64),   # a power of two above 1 GiB
            ("capacity-128", 0x40, 128, (256,), 64),      # a power of two below 256
            ("ring1-capacity", 0x50, 384, (256, 256), 64),
            ("max-message-huge", 0x20, (1 << 30) + 1, (256,), 64),
            ("max-message-ring1", 0x20, 105, (512, 256), 64),  # fits ring 0, not ring 1
            ("ring0-offset", 0x38, 8192, (256,), 64)]:
        s = Segment(caps, mm)
        (s.u64 if off in (0x38, 0x40, 0x50) else s.u32)(off, val)
        s.fix_header()
        out["reject-A12-" + tag] = s.bytes()
    # full but for a short tail (wpos 240 of 256): the repair test has no room to look at
    s = Segment((256,), 64)
    for k in range(3):
        s.write(0, pattern(56, k))
    out["valid-full-short-tail"] = s.bytes()
    # ring 1 (B writes it, so B's attach runs the writer's repair test on it before anything
    # reads it): the reader at a short tail (rpos 240), the ring full behind it (wpos 496), so
    # the frame the repair test would look at lies past a whole lap
    s = Segment((256, 256), 64)
    for k in range(3):
        s.write(1, pattern(56, k))
    s.consume_all(1)
    for k in range(3):
        s.write(1, pattern(56, 3 + k))
    out["valid-full-reader-at-short-tail"] = s.bytes()
    # a PAD whose CRC is right and whose seq is wrong (R9 on a PAD)
    s = wrapped(True)
    o = 4096 + 216
    struct.pack_into("<Q", s.b, o + 8, 9)
    struct.pack_into("<I", s.b, o, crc32c(s.b[o + 4:o + 24]))
    out["reject-R9-pad-seq"] = s.bytes()
    return out


def guard_seeds(seg):
    """The guard target reads the same images through the ring functions. Header validation is
    the same code as in segment, so it keeps only images that pass it: wraps, skips, repairs,
    write-backs, and the ring rejects that are hardest to reach by mutation (kept small: the
    fuzzer finds the other rejects from these in seconds)."""
    keep = ("vector-wrap", "vector-skip", "valid-traffic-duplex", "valid-traffic-peek",
            "valid-wrap-pad-unread", "valid-skip-unread", "valid-reader-repair",
            "valid-writeback-", "valid-max-message-largest", "valid-simplex-4k-lengths",
            "valid-wait-words", "reject-R2-", "reject-R3-", "reject-R6-length-tail",
            "reject-R6-pad-", "reject-R8-pad-crc", "reject-R8-crc-peek", "reject-R9-pos-stamp",
            "reject-A18-wpos-range", "valid-full-", "reject-R9-pad-seq")
    return {k: v for k, v in seg.items() if k.startswith(keep)}


# ---- frames ----------------------------------------------------------------------------------


def prefix(mm=64, seq=0, pos=0):
    return struct.pack("<IQQ", mm, seq, pos)


def frame_seeds():
    out = {}
    for n in (0, 1, 7, 8, 18, 100, 1000):
        out["valid-msg-%d" % n] = prefix(1000, 5, 0x1000) + frame(MSG, pattern(n), 5, 0x1000)
    out["valid-msg-spare-bytes"] = prefix(64, 0, 0) + frame(MSG, pattern(9)) + bytes(13)
    out["valid-msg-pos-high-bits"] = prefix(64, 9, 0x500000100) + frame(MSG, b"hi", 9, 0x100)
    out["valid-msg-max-message"] = prefix(32, 1, 8) + frame(MSG, pattern(32), 1, 8)
    for n in (0, 16, 100):
        out["valid-pad-%d" % n] = prefix(64, 7, 216) + frame(PAD, seq=7, pos=216,
                                                            body=pattern(n))
    out["reject-R3-short"] = prefix() + frame(MSG, pattern(18))[:23]
    out["reject-R3-empty"] = prefix()
    out["reject-R4-type-0"] = prefix() + frame(0, pattern(8))
    out["reject-R4-type-3"] = prefix() + frame(3, pattern(8))
    out["reject-R5-flags"] = prefix() + frame(MSG, pattern(8), flags=0x8000)
    out["reject-R6-max-message"] = prefix(17) + frame(MSG, pattern(18))
    out["reject-R6-truncated"] = prefix() + frame(MSG, pattern(18))[:40]
    out["reject-R6-pad-length"] = prefix() + frame(PAD, length=16, body=bytes(16)) + bytes(8)
    out["reject-R8-crc"] = prefix() + frame(MSG, pattern(18), crc=0x12345678)
    out["reject-R8-pad-crc"] = prefix() + frame(PAD, body=bytes(8), crc=1)
    out["reject-R9-seq"] = prefix(64, 2) + frame(MSG, pattern(18), seq=3)
    out["reject-R9-pos"] = prefix(64, 0, 8) + frame(MSG, pattern(18), pos=16)
    out["reject-R9-stale-lap"] = prefix(64, 4, 256 + 48) + frame(MSG, b"x", 4, 48)
    vec = os.path.join(VECTORS, "frame_msg_hello.bin")
    if os.path.exists(vec):
        with open(vec, "rb") as f:
            out["vector-msg-hello"] = prefix(200) + f.read()
    return out


def frame_fixed_seeds(frames):
    """Control byte + the frame seeds: some untouched, some with every fix-up."""
    out = {}
    for k, v in frames.items():
        out["raw-" + k] = b"\x00" + v
    out["fix-all-msg"] = bytes([0x1D]) + prefix(64, 3, 40) + bytes(24) + pattern(18) + bytes(6)
    out["fix-all-pad"] = bytes([0x1F]) + prefix(64, 3, 40) + bytes(24) + bytes(40)
    out["fix-all-msg-spare"] = bytes([0x1D | (5 << 5)]) + prefix(100, 1, 0) + bytes(24) + \
        pattern(50)
    out["fix-crc-only-bad-type"] = b"\x00" + prefix() + frame(3, pattern(8))
    return out


# ---- hostile memory: load streams --------------------------------------------------------------
# Order of loads (src/ring.c): reader attach = rpos, rseq, wpos (8 bytes each); writer attach =
# wpos, wseq, rpos; each op is one harness byte; a read with nothing cached loads wpos, then the
# 24 header bytes, then the payload; each consume loads the writer's wait word (4 bytes).


def q(v):
    return struct.pack("<Q", v & U64)


def hostile_seeds():
    out = {}
    geo = 0x10  # capacity 256, max_message 100
    msg = frame(MSG, pattern(18), 0, 0)
    hdr, body = msg[:24], pattern(18)
    attach = bytes([geo]) + q(0) + q(0) + q(48) + q(0) + q(0) + q(0)
    out["deliver-one"] = attach + b"\x00" + hdr + body + bytes(4) + b"\x00" + q(48)
    out["peek-release"] = attach + b"\x02" + hdr + body + b"\x03" + bytes(4) + b"\x02" + q(48)
    out["etoosmall-then-read"] = attach + b"\x01\x04" + hdr + b"\x00" + hdr + body + bytes(4)
    pad = frame(PAD, seq=0, pos=200, length=32)[:24]
    m2 = frame(MSG, pattern(5), 1, 256)
    out["pad-then-msg"] = (bytes([geo]) + q(200) + q(0) + q(256 + 32) + q(0) * 3 + b"\x00" +
                           pad + bytes(4) + m2[:24] + pattern(5) + bytes(4))
    out["reject-sticky"] = (attach + b"\x00" + hdr[:16] + b"\x09\x00" + hdr[18:] + b"\x00" +
                            b"\x02" + b"\x01\x10")
    out["reject-epos"] = attach[:17] + q(4096) + q(0) * 3 + b"\x00\x00"
    out["write-reserve-commit"] = (bytes([0x1B]) + q(0) * 6 + b"\x04\x10\x00" + bytes(4) +
                                   b"\x05\x20\x00" + b"\x06\x18" + bytes(4) + b"\x06" +
                                   b"\x04\xff\x00" + q(0) + b"\x05\x00\x01" + q(8))
    out["writer-full"] = (bytes([0x18]) + q(0) * 3 + q(0) + q(0) + q(0) +
                          b"\x04\x60\x00" + bytes(4) + b"\x04\x60\x00" + bytes(4) +
                          b"\x04\x60\x00" + q(0) + b"\x04\x60\x00" + q(3))
    out["repair-attach"] = (bytes([geo]) + q(0) + q(1) + q(48) + hdr + body + q(0) * 3 +
                            b"\x00" + hdr + body + bytes(4))
    out["peer-moved"] = attach + b"\x07" + q(8) + q(8)
    # the writer died between wseq and wpos: the frame at wpos has seq wseq - 1 (PROTO 7)
    out["writer-repair-attach"] = (bytes([geo]) + q(0) * 3 + q(0) + q(1) + q(0) + hdr + body +
                                   b"\x04\x05\x00" + bytes(4))
    out["zeros"] = bytes(64)
    out["geometries"] = bytes([0xFF]) + bytes(range(256))
    return out


# ---- api_ops: programs of calls ------------------------------------------------------------------


def api_seeds():
    def send(side, n):
        return bytes([0 if side == "A" else 1]) + struct.pack("<H", n)

    def recv(side, c=0):
        return bytes([2 if side == "B" else 3, c])

    out = {}
    cap256_mm100 = 0x08
    out["ping-pong"] = bytes([cap256_mm100]) + send("A", 18) + recv("B") + send("B", 5) + \
        recv("A") + recv("B") + recv("A")
    out["fill-and-drain"] = bytes([cap256_mm100]) + send("A", 50) * 5 + recv("B") * 2 + \
        send("A", 100) * 3 + recv("B") * 6
    out["etoosmall"] = bytes([cap256_mm100]) + send("A", 30) + recv("B", 5) + recv("B", 31) + \
        recv("B", 0)
    out["msgsize"] = bytes([cap256_mm100]) + send("A", 101) + send("B", 100) + recv("A")
    out["peek-release"] = bytes([cap256_mm100]) + send("A", 7) + send("A", 9) + b"\x04" + \
        recv("B") + b"\x04\x05\x05\x04\x05" + recv("B")
    out["reserve-commit"] = bytes([cap256_mm100]) + b"\x06\x40\x00" + send("A", 3) + \
        b"\x06\x01\x00" + b"\x07\x41" + b"\x07\x20" + b"\x07\x00" + recv("B") * 3
    # 72-byte frames in a 256-byte ring: PADs at the end of each lap
    out["wrap-pad"] = bytes([cap256_mm100]) + (send("A", 44) + recv("B")) * 9
    # 80-byte frames: 16-byte tails skipped
    out["wrap-skip"] = bytes([cap256_mm100]) + (send("A", 56) + recv("B")) * 9
    out["simplex"] = bytes([0x10 | cap256_mm100]) + send("B", 4) + recv("A") + send("A", 4) + \
        recv("B")
    out["empty-messages"] = bytes([0x01]) + (send("A", 0) + send("B", 0)) * 4 + recv("A") * 3
    out["big-ring-max"] = bytes([0x0F]) + send("A", 1000) + send("A", 1000) + recv("B") + \
        b"\x06\xe8\x03" + b"\x07\xff" + recv("B") + recv("B")
    out["left-in-ring"] = bytes([cap256_mm100]) + send("A", 10) + send("A", 20) + \
        b"\x06\x10\x00"
    # B batches (bit 5, 512-byte rings): its final drain, after a streak, runs the stream hold of
    # shmf_set_batch before it sees that A closed
    out["batched-drain"] = bytes([0x20 | cap256_mm100 | 0x01]) + send("A", 16) + send("A", 32) + \
        recv("B") + send("A", 8)
    # bit 6: both sides call shmf_prefault first; the same wrap-around traffic must follow
    out["prefaulted"] = bytes([0x40 | cap256_mm100]) + (send("A", 60) + recv("B")) * 6 + \
        send("B", 7) + recv("A")
    return out


# ---- crc32c and names --------------------------------------------------------------------------


def crc_seeds():
    out = {}
    out["vector-123456789"] = bytes([0, 4, 0]) + bytes(4) + b"123456789"
    out["vector-zeros"] = bytes([1, 16, 0]) + bytes(4) + bytes(32)
    out["vector-ff"] = bytes([3, 0, 0]) + bytes(4) + b"\xff" * 32
    out["vector-ascending"] = bytes([7, 31, 0]) + struct.pack("<I", 0xE3069283) + bytes(range(32))
    out["long-unaligned"] = bytes([13, 0xE8, 0x03]) + b"\x01\x02\x03\x04" + pattern(2000)
    out["short"] = b"123456"
    out["empty"] = b""
    out["fingerprint"] = bytes([0, 0, 0]) + bytes(4) + \
        b"SHMF/1 header=128 role=64 ringctl=256 ctlarea=4096 frame=24 align=8"
    # the fused copies with a frame header: a frame as the writer builds it, payloads around the
    # fast path's block sizes (32, 3 x 256, 3 x 1024 bytes), at two misalignments
    for tag, b0, n in [("fused-frame-100", 0x10, 100), ("fused-frame-800-unaligned", 0x15, 800),
                       ("fused-frame-3100", 0x10, 3100), ("fused-nohdr-3079", 0x03, 3079)]:
        body = pattern(n, 5)
        hdr = frame(MSG, body)[:HDR] if b0 & 0x10 else b""
        out[tag] = bytes([b0, 0x40, 0x00]) + struct.pack("<I", 0x12345678) + hdr + body
    return out


def name_seeds():
    out = {}
    for tag, n in [("shortest", b"/a"), ("slash-only", b"/"), ("empty", b""), ("dot", b"/."),
                   ("dotdot", b"/.."), ("three-dots", b"/..."), ("dot-name", b"/.a"),
                   ("inner-slash", b"/a/b"), ("no-slash", b"name"), ("space", b"/a b"),
                   ("del", b"/a\x7f"), ("high-bit", b"/caf\xc3\xa9"), ("tab", b"/a\tb"),
                   ("printable-ends", b"/!~"), ("embedded-nul", b"/ab\x00cd"),
                   ("nul-after-slash", b"/\x00"), ("typical", b"/shmframe-demo.1"),
                   ("max-254", b"/" + b"x" * 254), ("over-255", b"/" + b"x" * 255),
                   ("way-over", b"/" + b"y" * 600), ("double-slash", b"//")]:
        out[tag] = n
    return out


# ---- cli_image: the segment analysis of shmframe inspect and ls (tools/image.c) -------------

CTL_FLAG_COPY = 8  # cli_image: the image is a copy (inspect --file)


def image_seeds(seg):
    steering = ("valid-traffic-peek", "valid-etoosmall", "valid-writeback-", "reject-R8-crc-peek",
                "reject-R9-seq-peek")
    out = {k: v for k, v in seg.items() if len(v) <= 12288 and not k.startswith(steering)}
    out["copy-other-owner"] = traffic(uid=SYMBOLIC_UID + 1).steer(flags=CTL_FLAG_COPY).bytes()
    out["copy-wide-mode"] = traffic().steer(filemode=0o666, flags=CTL_FLAG_COPY).bytes()
    return out


# ---- cli_args: the shmframe command line (tools/cli_parse.c) --------------------------------


def cli_seeds():
    ok = {
        # every subcommand, with each of its options in each form getopt_long takes
        "ok-help": ["--help"], "ok-help-short": ["-h"], "ok-version": ["--version"],
        "ok-version-short": ["-V"], "ok-help-cmd": ["help"], "ok-help-create": ["help", "create"],
        "ok-cmd-help": ["recv", "q", "--count", "x", "--help"], "ok-cmd-h": ["gc", "-h"],
        "ok-create": ["create", "jobs"],
        "ok-create-all": ["create", "/jobs", "--capacity", "64K", "--max-message=1000",
                          "--simplex", "--mode", "0640"],
        "ok-create-cap-only": ["create", "q", "--capacity=256"],
        "ok-create-max": ["create", "q", "--capacity", "1G", "--max-message", "536870888"],
        "ok-create-mm-default-cap": ["create", "q", "--max-message", "1k"],
        "ok-send": ["send", "jobs", "one", "two", "three"],
        "ok-send-opts": ["send", "--side", "b", "-t", "1500", "jobs", "--", "--not-an-option",
                         ""],
        "ok-send-binary": ["send", "jobs", "--binary", "-sA", "--timeout=-1"],
        "ok-recv": ["recv", "jobs"],
        "ok-recv-opts": ["recv", "jobs", "-n", "3", "--follow", "--json", "--side=a", "-t0"],
        "ok-recv-binary": ["recv", "-fb", "--count=1", "jobs"],
        "ok-inspect": ["inspect", "jobs", "--json"],
        "ok-inspect-file": ["inspect", "--file", "/dev/shm/jobs", "-j"],
        "ok-inspect-file-eq": ["inspect", "--file=img"],
        "ok-ls": ["ls"], "ok-ls-opts": ["ls", "--json", "-a", "--match", "job*"],
        "ok-gc": ["gc"], "ok-gc-opts": ["gc", "--dry-run", "--min-age", "0", "--match=*",
                                        "-v"],
        "ok-gc-max-age": ["gc", "--min-age", "10000000000"],
        "ok-unlink": ["unlink", "/" + "n" * 254],
        "ok-double-dash": ["unlink", "--", "q"],
    }
    bad = {
        # one per usage error of shmf_cli_parse()
        "err-no-command": [], "err-help-arg": ["--help", "x"], "err-version-arg": ["-V", "x"],
        "err-unknown-command": ["frobnicate"], "err-help-two": ["help", "ls", "gc"],
        "err-help-unknown": ["help", "nope"],
        "err-unknown-option": ["ls", "--bogus"], "err-unknown-short": ["recv", "q", "-x"],
        "err-missing-value": ["recv", "q", "--count"], "err-missing-short": ["send", "q", "-s"],
        "err-capacity": ["create", "q", "--capacity", "1T"],
        "err-capacity-overflow": ["create", "q", "--capacity", "18446744073709551615K"],
        "err-max-message": ["create", "q", "--max-message", "-1"],
        "err-mode": ["create", "q", "--mode", "1000"], "err-mode-digit": ["create", "q",
                                                                           "--mode", "08"],
        "err-side": ["send", "q", "--side", "c"],
        "err-timeout": ["recv", "q", "--timeout", "2147483648"],
        "err-count-zero": ["recv", "q", "--count", "0"],
        "err-count": ["recv", "q", "-n", "99999999999999999999"],
        "err-min-age": ["gc", "--min-age", "10000000001"],
        "err-ls-operand": ["ls", "extra"], "err-gc-operand": ["gc", "--", "x"],
        "err-inspect-both": ["inspect", "q", "--file", "img"],
        "err-inspect-empty-file": ["inspect", "--file", ""],
        "err-missing-name": ["unlink"], "err-bad-name": ["create", "a/b"],
        "err-name-dotdot": ["unlink", ".."], "err-name-long": ["unlink", "n" * 255],
        "err-recv-operand": ["recv", "q", "more"],
        "err-cap-not-pow2": ["create", "q", "--capacity", "1000"],
        "err-cap-small": ["create", "q", "--capacity", "128"],
        "err-max-message-fit": ["create", "q", "--capacity", "4K", "--max-message", "4K"],
        "err-max-message-huge": ["create", "q", "--max-message", "1G"],
        "err-send-binary-msgs": ["send", "q", "--binary", "m"],
        "err-recv-binary-json": ["recv", "q", "--binary", "--json"],
        "err-create-side": ["create", "q", "--side", "a"],
    }
    out = {}
    for table in (ok, bad):
        for tag, args in table.items():
            # a trailing NUL ends the last argument: an empty last one needs a second
            out[tag] = b"\0".join(a.encode() for a in args) + (b"\0" if args[-1:] == [""] else b"")
    return out


# ---- output ----------------------------------------------------------------------------------


def all_seeds():
    seg = segment_seeds()
    frames = frame_seeds()
    return {
        "frame": frames,
        "frame_fixed_crc": frame_fixed_seeds(frames),
        "segment": seg,
        "segment_guard": guard_seeds(seg),
        "hostile_memory": hostile_seeds(),
        "crc32c": crc_seeds(),
        "names": name_seeds(),
        "api_ops": api_seeds(),
        "cli_args": cli_seeds(),
        "cli_image": image_seeds(seg),
    }


def main():
    check = "--check" in sys.argv[1:]
    bad = 0
    for target, seeds in all_seeds().items():
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        if not check:
            for old in os.listdir(d):
                if not old.startswith(("crash-", "cov-")) and old not in seeds:
                    os.remove(os.path.join(d, old))
        for name, data in seeds.items():
            path = os.path.join(d, name)
            if check:
                try:
                    with open(path, "rb") as f:
                        same = f.read() == data
                except OSError:
                    same = False
                if not same:
                    print("differs: %s" % os.path.relpath(path, REPO))
                    bad += 1
            else:
                with open(path, "wb") as f:
                    f.write(data)
        if not check:
            total = sum(len(v) for v in seeds.values())
            print("%-16s %3d files %8d bytes" % (target, len(seeds), total))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
