#!/usr/bin/env python3
"""Independent SHMF/1 encoder and golden test-vector generator for shmframe.

This program is written from docs/PROTOCOL.md alone (it does not look at the C
sources): it builds frames (PROTOCOL.md section 4), formats segments (section
2), appends messages to a ring as a writer does (section 5.2, with the PAD and
skip rules), consumes them as a reader does (sections 5.4 and 6.3), and writes
the golden vectors that the C test `vectors` loads from tests/vectors/.

Python 3 standard library only.

Usage:
    encoder.py --write DIR       write every vector (*.bin) into DIR
    encoder.py --check DIR       exit 0 if DIR's vectors match byte for byte, else 1
    encoder.py --markdown        print the Markdown body of PROTOCOL.md section 11
    encoder.py --check-doc PATH  exit 0 if PATH's text between the lines
                                 <!-- BEGIN VECTORS --> and <!-- END VECTORS -->
                                 equals the --markdown output, else print a diff, 1

At startup the CRC-32C implementation checks itself against the vectors of
PROTOCOL.md section 3 (and the layout fingerprint of section 2.1) and exits 1
on any mismatch.
"""

import argparse
import difflib
import hashlib
import os
import struct
import sys

# ---------------------------------------------------------------------------
# Section 3: CRC-32C, bitwise, reflected polynomial 0x82F63B78.

CRC32C_POLY_REFLECTED = 0x82F63B78


def crc32c(data, crc=0):
    """CRC-32C of `data`; pass a previous result as `crc` to continue it
    ("the CRC of A then B" = crc32c(B, crc32c(A)))."""
    c = crc ^ 0xFFFFFFFF
    for byte in data:
        c ^= byte
        for _ in range(8):
            if c & 1:
                c = (c >> 1) ^ CRC32C_POLY_REFLECTED
            else:
                c >>= 1
    return c ^ 0xFFFFFFFF


# Section 2.1: the fingerprint string and its documented CRC.
FINGERPRINT_TEXT = b"SHMF/1 header=128 role=64 ringctl=256 ctlarea=4096 frame=24 align=8"
FINGERPRINT = 0x9D825D65

CRC_SELF_TESTS = [
    ("ASCII '123456789'", b"123456789", 0xE3069283),
    ("RFC 3720 B.4: 32 x 0x00", bytes(32), 0x8A9136AA),
    ("RFC 3720 B.4: 32 x 0xFF", b"\xff" * 32, 0x62A8AB43),
    ("RFC 3720 B.4: 0x00..0x1F", bytes(range(32)), 0x46DD794E),
    ("RFC 3720 B.4: 0x1F..0x00", bytes(range(31, -1, -1)), 0x113FDB5C),
    ("section 2.1 fingerprint (67 bytes)", FINGERPRINT_TEXT, FINGERPRINT),
]


def crc_self_check():
    ok = True
    for name, data, want in CRC_SELF_TESTS:
        got = crc32c(data)
        if got != want:
            print("CRC-32C self-check FAILED for %s: got 0x%08X, want 0x%08X"
                  % (name, got, want), file=sys.stderr)
            ok = False
    # "The CRC of A then B" is one CRC over A || B: chaining must agree.
    if crc32c(b"56789", crc32c(b"1234")) != 0xE3069283:
        print("CRC-32C self-check FAILED: chained CRC", file=sys.stderr)
        ok = False
    if len(FINGERPRINT_TEXT) != 67:
        print("fingerprint text is %d bytes, not 67" % len(FINGERPRINT_TEXT), file=sys.stderr)
        ok = False
    return ok


# ---------------------------------------------------------------------------
# Section 1 / 2: constants and helpers.

PAGE = 4096
CTL_SIZE = 4096
HEADER_SIZE = 128
ROLE_LINE_OFF = (0x80, 0xC0)
ROLE_LINE_SIZE = 64
RING_CTL_BASE = 0x100
RING_CTL_SIZE = 0x100
FRAME_HDR = 24

MAGIC = 0x464D4853            # bytes 53 48 4D 46, "SHMF"
VERSION_MAJOR = 1
VERSION_MINOR = 0
INIT_READY = 0x59444552       # bytes 52 45 44 59, "REDY"

TYPE_MSG = 1
TYPE_PAD = 2

# Ring control block field offsets (section 2.3).
RC_WPOS = 0x00
RC_WSEQ = 0x08
RC_RWAIT = 0x40
RC_RPOS = 0x80
RC_RSEQ = 0x88
RC_RERRORS = 0x90
RC_RLASTERR = 0x94
RC_WWAIT = 0xC0

U64 = (1 << 64) - 1


def align8(x):
    return (x + 7) & ~7


def round_page(x):
    return (x + PAGE - 1) // PAGE * PAGE


def is_pow2(x):
    return x > 0 and (x & (x - 1)) == 0


class ProtocolError(Exception):
    pass


# ---------------------------------------------------------------------------
# Section 4: frames.

def frame_header(length, seq, ftype, pos):
    """The 24 header bytes with the crc field still zero. `pos` is the frame's
    ring position; the header keeps its low 32 bits (section 4)."""
    return bytearray(struct.pack("<IIQHHI", 0, length, seq, ftype, 0, pos & 0xFFFFFFFF))


def encode_msg(seq, payload, pos=0):
    """A complete MSG frame: header, payload, zero padding to align8(24+length).
    CRC = CRC-32C of header bytes 0x04-0x17 then the payload."""
    payload = bytes(payload)
    hdr = frame_header(len(payload), seq, TYPE_MSG, pos)
    crc = crc32c(payload, crc32c(hdr[4:24]))
    struct.pack_into("<I", hdr, 0, crc)
    size = align8(FRAME_HDR + len(payload))
    return bytes(hdr) + payload + bytes(size - FRAME_HDR - len(payload))


def encode_pad_header(seq, length, pos):
    """The 24 header bytes of a PAD frame; its CRC covers header bytes
    0x04-0x17 only. The body (length bytes) is not part of this."""
    hdr = frame_header(length, seq, TYPE_PAD, pos)
    struct.pack_into("<I", hdr, 0, crc32c(hdr[4:24]))
    return bytes(hdr)


def encode_pad(seq, length, pos, body=None):
    """A whole PAD frame of 24 + length bytes. The protocol leaves the body
    as whatever the data area held; a stand-alone vector needs explicit
    bytes, zero unless `body` is given."""
    if body is None:
        body = bytes(length)
    if len(body) != length:
        raise ValueError("PAD body must be %d bytes" % length)
    return encode_pad_header(seq, length, pos) + bytes(body)


def decode_frame_header(hdr):
    crc, length, seq, ftype, flags, pos32 = struct.unpack("<IIQHHI", bytes(hdr[:24]))
    return crc, length, seq, ftype, flags, pos32


# ---------------------------------------------------------------------------
# Section 2: segment formatting.

class Geometry:
    def __init__(self, capacities, max_message):
        if len(capacities) not in (1, 2):
            raise ProtocolError("ring_count must be 1 or 2")
        for cap in capacities:
            if not is_pow2(cap) or cap < 256 or cap > (1 << 30):
                raise ProtocolError("capacity %d is not a power of two in [256, 2^30]" % cap)
            if 2 * align8(FRAME_HDR + max_message) > cap:
                raise ProtocolError("max_message %d too large for capacity %d" % (max_message, cap))
        self.capacities = list(capacities)
        self.max_message = max_message
        self.ring_count = len(capacities)
        self.ring_data = [CTL_SIZE]
        if self.ring_count == 2:
            self.ring_data.append(CTL_SIZE + round_page(capacities[0]))
        self.total_size = self.ring_data[-1] + round_page(capacities[-1])


def format_segment(capacities, max_message, features, creator_uid, mode, created_ns):
    """The segment image as section 2 lays it out, right after the creator
    formatted it: header complete (header_crc, then init_state ready), role
    lines and control blocks zero, data areas zero (a fresh ftruncate).

    Note: section 9.1 has the creator also write role line A (it attaches to
    role A while creating); this function leaves both role lines zero, as the
    vectors ask; see README.md."""
    g = Geometry(capacities, max_message)
    seg = bytearray(g.total_size)
    ring1_data = g.ring_data[1] if g.ring_count == 2 else 0
    ring1_cap = g.capacities[1] if g.ring_count == 2 else 0
    struct.pack_into("<IHHII", seg, 0x00, MAGIC, VERSION_MAJOR, VERSION_MINOR, features, FINGERPRINT)
    struct.pack_into("<QII", seg, 0x10, g.total_size, CTL_SIZE, g.ring_count)
    struct.pack_into("<IIII", seg, 0x20, max_message, creator_uid, mode & 0o777, 0)
    struct.pack_into("<QQQQQ", seg, 0x30, created_ns, g.ring_data[0], g.capacities[0],
                     ring1_data, ring1_cap)
    # 0x58..0x77 reserved1: zero already.
    struct.pack_into("<I", seg, 0x78, crc32c(seg[0x00:0x78]))
    struct.pack_into("<I", seg, 0x7C, INIT_READY)   # last word written (9.1)
    return seg


def read_geometry(seg):
    """Re-read and validate the header (the attach checks of 6.2 that apply
    to an image: A6, A7, A8, A9, A10, A11, A12, A13)."""
    h = bytes(seg[:HEADER_SIZE])
    magic, vmaj, _vmin, features, fp = struct.unpack_from("<IHHII", h, 0)
    total, ctl, rc = struct.unpack_from("<QII", h, 0x10)
    maxm = struct.unpack_from("<I", h, 0x20)[0]
    r0d, r0c, r1d, r1c = struct.unpack_from("<QQQQ", h, 0x38)
    hcrc, init = struct.unpack_from("<II", h, 0x78)
    if magic != MAGIC:
        raise ProtocolError("EMAGIC")
    if init != INIT_READY:
        raise ProtocolError("ENOTREADY")
    if vmaj != VERSION_MAJOR:
        raise ProtocolError("EVERSION")
    if hcrc != crc32c(h[:0x78]):
        raise ProtocolError("EHDRCRC")
    if fp != FINGERPRINT or ctl != CTL_SIZE:
        raise ProtocolError("ELAYOUT")
    if features != 0:
        raise ProtocolError("EFEATURE")
    if rc == 1:
        caps = [r0c]
        if r1d != 0 or r1c != 0:
            raise ProtocolError("ELAYOUT")
    elif rc == 2:
        caps = [r0c, r1c]
    else:
        raise ProtocolError("ELAYOUT")
    g = Geometry(caps, maxm)
    if r0d != g.ring_data[0] or (rc == 2 and r1d != g.ring_data[1]):
        raise ProtocolError("ELAYOUT")
    if total != g.total_size or total != len(seg):
        raise ProtocolError("ESIZE")
    return g


# ---------------------------------------------------------------------------
# Section 5: rings.

def _ctl(ring):
    return RING_CTL_BASE + RING_CTL_SIZE * ring


def _get_u64(seg, off):
    return struct.unpack_from("<Q", seg, off)[0]


def _put_u64(seg, off, value):
    struct.pack_into("<Q", seg, off, value & U64)


def ring_write(seg, ring, payload):
    """Append one MSG to ring `ring` of the image `seg`, as the ring's writer
    does in section 5.2. Returns the list of (kind, position, seq) actions,
    kind being 'PAD', 'SKIP' or 'MSG' (seq None for a skip).

    The image stands for shared memory; the writer's private wpos/wseq are
    loaded from the control block (as at attach) and every store to the
    control block is one of the stores of steps 3 and 4."""
    g = read_geometry(seg)
    if ring >= g.ring_count:
        raise ProtocolError("ENOTSUP: no ring %d" % ring)
    payload = bytes(payload)
    if len(payload) > g.max_message:
        raise ProtocolError("EMSGSIZE")
    cap = g.capacities[ring]
    data = g.ring_data[ring]
    ctl = _ctl(ring)
    wpos = _get_u64(seg, ctl + RC_WPOS)     # private copies
    wseq = _get_u64(seg, ctl + RC_WSEQ)
    actions = []

    def free_space_ok(pos, size):
        r = _get_u64(seg, ctl + RC_RPOS)     # the peer's position snapshot (6.3)
        if r % 8:
            raise ProtocolError("EALIGN: rpos %d" % r)
        if (pos - r) & U64 > cap:
            raise ProtocolError("EPOS: wpos %d rpos %d" % (pos, r))
        # Nobody will consume while we "wait": a full ring is an error here.
        if ((pos + size - r) & U64) > cap:
            raise ProtocolError("ring %d full: would wait for the reader" % ring)

    size = align8(FRAME_HDR + len(payload))
    tail = cap - (wpos & (cap - 1))
    # Step 1: end the lap if needed.
    if size > tail:
        if tail >= FRAME_HDR:
            # A PAD frame of length tail - 24 at wpos, with the next seq,
            # published as in steps 3-4. Only its header is written: the
            # body keeps whatever the data area held (section 4).
            free_space_ok(wpos, tail)
            off = data + (wpos & (cap - 1))
            seg[off:off + FRAME_HDR] = encode_pad_header(wseq, tail - FRAME_HDR, wpos)
            actions.append(("PAD", wpos, wseq))
            wseq += 1
            _put_u64(seg, ctl + RC_WSEQ, wseq)          # step 3
            wpos += tail
            _put_u64(seg, ctl + RC_WPOS, wpos)          # step 4
        else:
            # Skip: no frame, private position moves on; published with
            # the next frame's step 4.
            actions.append(("SKIP", wpos, None))
            wpos += tail
        tail = cap - (wpos & (cap - 1))
        assert size <= tail
    # Step 2: fill.
    free_space_ok(wpos, size)
    off = data + (wpos & (cap - 1))
    seg[off:off + size] = encode_msg(wseq, payload, wpos)
    actions.append(("MSG", wpos, wseq))
    # Step 3: record the sequence.
    wseq += 1
    _put_u64(seg, ctl + RC_WSEQ, wseq)
    # Step 4: publish (counting any skipped bytes).
    wpos += size
    _put_u64(seg, ctl + RC_WPOS, wpos)
    return actions


def ring_consume_all(seg, ring):
    """Consume every published frame of ring `ring` as its reader would:
    checks P1-P2 and R1-R9 of section 6.3 on each frame, then stores
    rseq = seq + 1 and rpos = end of frame (section 5.4). Returns the
    delivered MSG payloads."""
    g = read_geometry(seg)
    cap = g.capacities[ring]
    data = g.ring_data[ring]
    ctl = _ctl(ring)
    rpos = _get_u64(seg, ctl + RC_RPOS)
    rseq = _get_u64(seg, ctl + RC_RSEQ)
    w = _get_u64(seg, ctl + RC_WPOS)        # one snapshot
    if w % 8:
        raise ProtocolError("EALIGN")
    if (w - rpos) & U64 > cap:
        raise ProtocolError("EPOS")
    delivered = []
    while True:
        avail = (w - rpos) & U64
        if avail == 0:                                       # R1
            break
        tail = cap - (rpos & (cap - 1))
        if tail < FRAME_HDR:                                 # R2
            if avail < tail:
                raise ProtocolError("EPOS (R2)")
            rpos += tail
            continue
        if avail < FRAME_HDR:                                # R3
            raise ProtocolError("EPOS (R3)")
        off = data + (rpos & (cap - 1))
        hdr = bytes(seg[off:off + FRAME_HDR])
        crc, length, seq, ftype, flags, pos32 = decode_frame_header(hdr)
        if ftype not in (TYPE_MSG, TYPE_PAD):                # R4
            raise ProtocolError("ETYPE")
        if flags:                                            # R5
            raise ProtocolError("EFLAGS")
        if ftype == TYPE_MSG:                                # R6
            size = align8(FRAME_HDR + length)
            if length > g.max_message or size > tail or size > avail:
                raise ProtocolError("ELENGTH")
            payload = bytes(seg[off + FRAME_HDR:off + FRAME_HDR + length])
        else:
            size = FRAME_HDR + length
            if size != tail or tail > avail or tail >= align8(FRAME_HDR + g.max_message):
                raise ProtocolError("ELENGTH")
            payload = b""
        if crc32c(payload, crc32c(hdr[4:24])) != crc:        # R8
            raise ProtocolError("ECRC")
        if seq != rseq or pos32 != rpos & 0xFFFFFFFF:        # R9
            raise ProtocolError("ESEQ: seq %d at %d, expected %d at %d"
                                % (seq, pos32, rseq, rpos))
        rseq = seq + 1
        _put_u64(seg, ctl + RC_RSEQ, rseq)                   # 5.4
        rpos += size
        _put_u64(seg, ctl + RC_RPOS, rpos)
        if ftype == TYPE_MSG:
            delivered.append(payload)
    return delivered


# ---------------------------------------------------------------------------
# The vectors.

HELLO = b"Hello from Writer!"
AGAIN = b"Hello again"
UID = 1000
MODE = 0o600
CREATED_NS = 1767225600000000000

WRAP_COUNT, WRAP_LEN = 7, 44    # 40 gives 64-byte frames that tile 256: no PAD
SKIP_COUNT, SKIP_LEN = 5, 56    # 80-byte frames: the tail at 240 is 16 < 24


def pattern_payload(k, n):
    return bytes(((k * 16 + i) & 0xFF) for i in range(n))


def _check_segment(seg, ring, want_payloads):
    """Sanity: an independent reader pass over a copy recovers the payloads."""
    copy = bytearray(seg)
    ctl = _ctl(ring)
    _put_u64(copy, ctl + RC_RPOS, 0)
    _put_u64(copy, ctl + RC_RSEQ, 0)
    # Only possible when nothing was overwritten: used for segment_two.
    got = ring_consume_all(copy, ring)
    assert got == want_payloads, (got, want_payloads)


def build_segment_two():
    seg = format_segment([256, 256], 104, 0, UID, MODE, CREATED_NS)
    ring_write(seg, 0, HELLO)
    ring_write(seg, 0, AGAIN)
    _check_segment(seg, 0, [HELLO, AGAIN])
    return seg


def _build_lapping(count, length, expect_kind):
    seg = format_segment([256], 64, 0, UID, MODE, CREATED_NS)
    kinds = []
    for k in range(count):
        payload = pattern_payload(k, length)
        kinds += [a[0] for a in ring_write(seg, 0, payload)]
        # The reader consumes everything after every message (5.4).
        got = ring_consume_all(seg, 0)
        assert got == [payload], (k, got)
        ctl = _ctl(0)
        assert _get_u64(seg, ctl + RC_RPOS) == _get_u64(seg, ctl + RC_WPOS)
        assert _get_u64(seg, ctl + RC_RSEQ) == _get_u64(seg, ctl + RC_WSEQ)
    if expect_kind not in kinds:
        raise AssertionError("vector never produced a %s" % expect_kind)
    return seg


def build_segment_wrap():
    return _build_lapping(WRAP_COUNT, WRAP_LEN, "PAD")


def build_segment_skip():
    return _build_lapping(SKIP_COUNT, SKIP_LEN, "SKIP")


VECTORS = [
    ("frame_msg_hello.bin", "frame", lambda: encode_msg(0, HELLO, 0),
     'A `MSG` frame with seq 0 at ring position 0 carrying the 18 ASCII bytes "Hello from Writer!", '
     "followed by its 6 zero padding bytes (48 bytes in all)."),
    ("frame_msg_empty.bin", "frame", lambda: encode_msg(5, b"", 0x12345678),
     "A `MSG` frame with seq 5 at ring position 0x12345678 and a zero-length payload: "
     "the 24-byte header alone."),
    ("frame_pad_40.bin", "frame", lambda: encode_pad(7, 16, 216),
     "A `PAD` frame with seq 7 at ring position 216 and `length` 16, occupying 40 bytes, "
     "its 16 body bytes "
     "written as zero for this vector (the CRC covers the header only)."),
    ("segment_two.bin", "segment", build_segment_two,
     "A duplex segment (both capacities 256, `max_message` 104, uid 1000, mode 0600, "
     "`created_ns` 1767225600000000000, role lines zero) after side A wrote "
     '"Hello from Writer!" (seq 0) and "Hello again" (seq 1) into ring 0: '
     "ring 0 `wpos` 88 and `wseq` 2, every other position zero."),
    ("segment_wrap.bin", "segment", build_segment_wrap,
     "A simplex segment (capacity 256, `max_message` 64) after side A wrote 7 messages of "
     "44 bytes (byte i of message k is `(k*16 + i) & 0xFF`, 72-byte frames) with the reader "
     "consuming everything after each: `PAD` frames (length 16) at positions 216 (seq 3) "
     "and 472 (seq 7), final `wpos` = `rpos` = 584, `wseq` = `rseq` = 9."),
    ("segment_skip.bin", "segment", build_segment_skip,
     "The same simplex segment after side A wrote 5 messages of 56 bytes (same pattern, "
     "80-byte frames) with the reader consuming everything after each: the 16-byte tail "
     "at position 240 is skipped without a frame, final `wpos` = `rpos` = 416, "
     "`wseq` = `rseq` = 5."),
]


def build_all():
    return [(name, kind, bytes(fn()), text) for name, kind, fn, text in VECTORS]


# ---------------------------------------------------------------------------
# Markdown.

def hex_rows(data, skip_zero):
    lines = []
    for off in range(0, len(data), 16):
        row = data[off:off + 16]
        if skip_zero and not any(row):
            continue
        lines.append("%04x: %s" % (off, " ".join("%02x" % b for b in row)))
    return lines


def markdown(vectors):
    out = []
    out.append("Generated by `tests/vectors/encoder.py --markdown`; the files are in "
               "`tests/vectors/`. Hex offsets, 16 bytes per row.")
    out.append("")
    out.append("### 11.1 Frames")
    for name, kind, data, text in vectors:
        if kind != "frame":
            continue
        out.append("")
        out.append("`%s`, %d bytes. %s" % (name, len(data), text))
        out.append("")
        out.append("```")
        out.extend(hex_rows(data, skip_zero=False))
        out.append("```")
    out.append("")
    out.append("### 11.2 Segments")
    out.append("")
    out.append("Only the 16-byte rows that are not all zero are listed; every other byte is zero.")
    for name, kind, data, text in vectors:
        if kind != "segment":
            continue
        out.append("")
        out.append("`%s`, %d bytes, SHA-256 `%s`. %s"
                   % (name, len(data), hashlib.sha256(data).hexdigest(), text))
        out.append("")
        out.append("```")
        out.extend(hex_rows(data, skip_zero=True))
        out.append("```")
    return "\n".join(out) + "\n"


def strip_blank(lines):
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def check_doc(path, vectors):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    try:
        b = lines.index("<!-- BEGIN VECTORS -->")
        e = lines.index("<!-- END VECTORS -->", b + 1)
    except ValueError:
        print("%s: missing <!-- BEGIN VECTORS --> / <!-- END VECTORS --> lines" % path)
        return 1
    have = strip_blank(lines[b + 1:e])
    want = strip_blank(markdown(vectors).splitlines())
    if have == want:
        return 0
    sys.stdout.writelines(difflib.unified_diff(
        [l + "\n" for l in have], [l + "\n" for l in want],
        fromfile=path, tofile="encoder.py --markdown"))
    return 1


# ---------------------------------------------------------------------------
# CLI.

def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    grp = p.add_mutually_exclusive_group(required=True)
    grp.add_argument("--write", metavar="DIR")
    grp.add_argument("--check", metavar="DIR")
    grp.add_argument("--markdown", action="store_true")
    grp.add_argument("--check-doc", metavar="PATH")
    args = p.parse_args(argv)

    if not crc_self_check():
        return 1
    vectors = build_all()

    if args.write:
        os.makedirs(args.write, exist_ok=True)
        for name, _kind, data, _text in vectors:
            with open(os.path.join(args.write, name), "wb") as f:
                f.write(data)
        return 0
    if args.check:
        bad = 0
        for name, _kind, data, _text in vectors:
            path = os.path.join(args.check, name)
            try:
                with open(path, "rb") as f:
                    have = f.read()
            except OSError as e:
                print("%s: cannot read (%s)" % (name, e.strerror))
                bad += 1
                continue
            if have != data:
                first = next((i for i in range(min(len(have), len(data)))
                              if have[i] != data[i]), min(len(have), len(data)))
                print("%s: differs (size %d, expected %d; first difference at 0x%x)"
                      % (name, len(have), len(data), first))
                bad += 1
        return 1 if bad else 0
    if args.markdown:
        sys.stdout.write(markdown(vectors))
        return 0
    return check_doc(args.check_doc, vectors)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        sys.exit(1)
