#!/usr/bin/env python3
"""Differential test: reader.py (written from PROTOCOL.md alone) against libshmframe's reader.

The C side is a small harness (HARNESS_C below, compiled on the fly against the library's
static archive and src/internal.h) that, for each image, puts it in a memfd, attaches as side B
with shmf_attach_fd_internal() (PROTO 6.2 from A3 on) and drains ring 0 with shmf_recv(timeout
0), then does the same as side A on a fresh copy for ring 1. It reads each message's seq as
rseq - 1 from the control block (PROTO 5.4). The file facts of A14/A15 are neutralised:
creator_uid is set to the harness's euid (the header CRC re-fixed when it was right) and the
memfd's mode is the header's `mode & 0777`.

Unless --no-inspect, each image is also run through `shmframe inspect --file PATH --json`,
and its frames' seqs and verdict are compared too.

Images: tests/vectors/segment_*.bin and frame_*.bin, fuzz/corpus/{segment,segment_guard,
cli_image}/* (whole segment images; their bytes 0xFF0..0xFFF steer those harnesses and are
reserved bytes that readers ignore), and images generated here with a seeded generator: valid
rings (duplex/simplex, several capacities and max_message, start positions near 0, 2^32 and
2^64, laps with PAD frames and skipped tails, pending frames), then mutations (bit flips, header
fields with the CRC re-fixed, positions, sequence numbers, frame fields with the frame CRC
re-fixed, MSG <-> PAD, truncation and extension, role states, reader rewound for the takeover
repair).

Compared per ring: the delivered payloads (exact bytes, in order), their seqs, and the verdict
(the first reject's SHMF_E code, or "ok" = the library's SHMF_EAGAIN), including the attach's
result. Any disagreement not in KNOWN exits 1.

Usage:
    differential.py --build DIR [--seed N] [--count N] [--no-inspect] [--keep DIR] [-v]
        DIR: a configured and built build directory of this repo (libshmframe.a, and
        tools/shmframe, compared too when it exists). Exit 0: no disagreement outside KNOWN;
        1: a disagreement; 2: the harness could not be built or run.
"""

import argparse
import base64
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import reader  # noqa: E402

U64 = (1 << 64) - 1
CODES = reader.CODES
NAMES = reader.NAMES

HARNESS_C = r'''
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "shmframe.h"
#include "internal.h"

static uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void session(const uint8_t *img, size_t size, int side, int first)
{
	unsigned ring = side == SHMF_SIDE_B ? 0 : 1;
	uint32_t mode = size >= 0x2C ? (ld32(img + 0x28) & 0777u) : 0600u;
	int fd = memfd_create("shmf-differential", MFD_CLOEXEC);
	shmf_channel *ch = NULL;
	int rc;

	if (fd < 0) { perror("memfd"); exit(9); }
	if (ftruncate(fd, (off_t)size) != 0) { perror("ftruncate"); exit(9); }
	for (size_t done = 0; done < size;) {
		ssize_t n = pwrite(fd, img + done, size - done, (off_t)done);
		if (n <= 0) { perror("pwrite"); exit(9); }
		done += (size_t)n;
	}
	if (fchmod(fd, mode) != 0) { perror("fchmod"); exit(9); }
	printf("%s{\"side\":\"%c\",\"ring\":%u", first ? "" : ",", side ? 'B' : 'A', ring);
	rc = shmf_attach_fd_internal(fd, side, &ch);
	printf(",\"attach\":%d", rc);
	if (rc == 0) {
		uint8_t *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		size_t cap = shmf_max_message(ch);
		uint8_t *buf = malloc(cap ? cap : 1);
		unsigned long n = 0;
		if (map == MAP_FAILED) { perror("mmap"); exit(9); }
		printf(",\"msgs\":[");
		for (;;) {
			size_t len = 0;
			rc = shmf_recv(ch, buf, cap, &len, 0);
			if (rc != 0)
				break;
			uint64_t rseq = ld64(map + 0x100 + 0x100 * ring + 0x88);
			printf("%s[\"%llu\",\"", n++ ? "," : "", (unsigned long long)(rseq - 1));
			for (size_t i = 0; i < len; i++)
				printf("%02x", buf[i]);
			printf("\"]");
			if (n > size) { rc = 999; break; }
		}
		printf("],\"end\":%d", rc);
		if (rc != SHMF_ENOTSUP && rc != SHMF_EAGAIN && rc != 999) {
			size_t len = 0;
			printf(",\"again\":%d", shmf_recv(ch, buf, cap, &len, 0));
		}
		free(buf);
		shmf_close(ch);
		munmap(map, size);
	}
	printf("}");
	close(fd);
}

int main(void)
{
	static char path[8192];
	while (fgets(path, sizeof path, stdin)) {
		path[strcspn(path, "\n")] = 0;
		FILE *f = fopen(path, "rb");
		if (!f) { printf("{\"error\":\"open\"}\n"); fflush(stdout); continue; }
		fseek(f, 0, SEEK_END);
		long sz = ftell(f);
		fseek(f, 0, SEEK_SET);
		uint8_t *img = malloc(sz ? (size_t)sz : 1);
		if (sz && fread(img, 1, (size_t)sz, f) != (size_t)sz) { perror("fread"); exit(9); }
		fclose(f);
		printf("{\"size\":%ld,\"sessions\":[", sz);
		session(img, (size_t)sz, SHMF_SIDE_B, 1);
		session(img, (size_t)sz, SHMF_SIDE_A, 0);
		printf("]}\n");
		fflush(stdout);
		free(img);
	}
	return 0;
}
'''

# Known, explained differences. Each is a place where PROTOCOL.md is silent or ambiguous and
# reader.py and the library chose differently; READER.md has the details.
#
# (K1, the reader repair at a shared rseq of 0, is gone: PROTOCOL.md 7 now says that the repairs
# apply only when rseq / wseq > 0, as the library always did, and reader.py follows it.)
#
# (K2, inspect not reporting SHMF_ESIZE for a file of 128 to 4095 bytes whose header it did not
# recognise, is gone: tools/image.c reports A5 before the header now, as an attach does.)
KNOWN = {}


# --------------------------------------------------------------------------------------------
# Building valid images (an independent writer, PROTOCOL.md 2 and 5.2).

def put32(b, o, v):
    struct.pack_into("<I", b, o, v & 0xFFFFFFFF)


def put64(b, o, v):
    struct.pack_into("<Q", b, o, v & U64)


def get64(b, o):
    return struct.unpack_from("<Q", b, o)[0]


def fix_header_crc(img):
    put32(img, 0x78, reader.crc32c(bytes(img[:0x78])))


def fix_frame_crc(img, off, msg_len=None):
    """Recompute the CRC of the frame header at absolute offset off (MSG: + payload)."""
    hdr = bytes(img[off:off + 24])
    length, ftype = struct.unpack_from("<I", hdr, 4)[0], struct.unpack_from("<H", hdr, 16)[0]
    c = reader.crc32c(hdr[4:24])
    if ftype == 1:
        n = length if msg_len is None else msg_len
        c = reader.crc32c(bytes(img[off + 24:off + 24 + n]), c)
    put32(img, off, c)


def format_segment(caps, max_message, mode=0o600, uid=1000):
    ring_count = len(caps)
    datas = [4096] + ([4096 + reader.round_page(caps[0])] if ring_count == 2 else [])
    total = datas[-1] + reader.round_page(caps[-1])
    img = bytearray(total)
    struct.pack_into("<IHHII", img, 0, reader.MAGIC, 1, 0, 0, reader.FINGERPRINT)
    struct.pack_into("<QII", img, 0x10, total, 4096, ring_count)
    struct.pack_into("<IIII", img, 0x20, max_message, uid, mode, 0)
    struct.pack_into("<QQQQQ", img, 0x30, 1767225600000000000, datas[0], caps[0],
                     datas[1] if ring_count == 2 else 0, caps[1] if ring_count == 2 else 0)
    fix_header_crc(img)
    put32(img, 0x7C, reader.INIT_READY)
    return img, datas


class Ring:
    """Writer and (private) consumer of one ring of an image, from the spec."""

    def __init__(self, img, datas, caps, max_message, ring, start_pos, start_seq):
        self.img, self.ring = img, ring
        self.data, self.cap, self.maxm = datas[ring], caps[ring], max_message
        self.ctl = 0x100 + 0x100 * ring
        self.wpos = self.rpos = start_pos & U64
        self.wseq = self.rseq = start_seq & U64
        self.frames = []  # pending frames: (pos, size, seq)
        self.store()

    def store(self):
        put64(self.img, self.ctl + 0x00, self.wpos)
        put64(self.img, self.ctl + 0x08, self.wseq)
        put64(self.img, self.ctl + 0x80, self.rpos)
        put64(self.img, self.ctl + 0x88, self.rseq)

    def used(self):
        return (self.wpos - self.rpos) & U64

    def consume_one(self):
        pos, size, seq = self.frames.pop(0)
        self.rpos = (pos + size) & U64
        self.rseq = (seq + 1) & U64

    def write(self, payload, pad_body_random=None):
        size = reader.align8(24 + len(payload))
        tail = self.cap - (self.wpos % self.cap)
        need = size if size <= tail else tail + size
        while self.used() + need > self.cap:
            self.consume_one()
        if size > tail:
            if tail >= 24:
                off = self.data + self.wpos % self.cap
                hdr = bytearray(struct.pack("<IIQHHI", 0, tail - 24, self.wseq, 2, 0,
                                            self.wpos & 0xFFFFFFFF))
                put32(hdr, 0, reader.crc32c(bytes(hdr[4:24])))
                self.img[off:off + 24] = hdr
                self.frames.append((self.wpos, tail, self.wseq))
                self.wseq = (self.wseq + 1) & U64
            # a skip (tail < 24) consumes no seq; the reader skips it with the next frame,
            # so bind the skipped bytes to the frame that follows
            else:
                self.frames.append((self.wpos, tail, None))
            self.wpos = (self.wpos + tail) & U64
        off = self.data + self.wpos % self.cap
        hdr = bytearray(struct.pack("<IIQHHI", 0, len(payload), self.wseq, 1, 0,
                                    self.wpos & 0xFFFFFFFF))
        put32(hdr, 0, reader.crc32c(payload, reader.crc32c(bytes(hdr[4:24]))))
        self.img[off:off + size] = bytes(hdr) + payload + bytes(size - 24 - len(payload))
        self.frames.append((self.wpos, size, self.wseq))
        self.wseq = (self.wseq + 1) & U64
        self.wpos = (self.wpos + size) & U64
        # merge a skip with the frame after it, so that consume_one never stops inside a skip
        if len(self.frames) >= 2 and self.frames[-2][2] is None:
            spos, ssize, _ = self.frames[-2]
            self.frames[-2:] = [(spos, ssize + size, self.frames[-1][2])]
        self.store()


def build_base(rng):
    """A valid image with pending frames (sometimes none), in a random geometry."""
    duplex = rng.random() < 0.6
    caps = [rng.choice([256, 256, 512, 1024, 4096, 8192])]
    if duplex:
        caps.append(rng.choice([256, 512, 1024, caps[0]]))
    lim = min(caps) // 2 - 24
    maxm = rng.choice([0, 1, 7, 8, 16, 40, 44, 56, 64, lim - 7, lim])
    maxm = max(0, min(maxm, lim))
    img, datas = format_segment(caps, maxm)
    rings = []
    for r in range(len(caps)):
        start = rng.choice([0, 0, 8 * rng.randrange(1 << 10), (1 << 32) - 8 * rng.randrange(64),
                            (1 << 64) - 8 * rng.randrange(1, 200), 8 * rng.randrange(1 << 40)])
        start -= start % 8
        sseq = rng.choice([0, 0, rng.randrange(1 << 20), (1 << 64) - rng.randrange(1, 20)])
        ring = Ring(img, datas, caps, maxm, r, start, sseq)
        for _ in range(rng.randrange(0, 40)):
            n = rng.choice([0, maxm, rng.randrange(maxm + 1), rng.randrange(maxm + 1)])
            ring.write(bytes(rng.randrange(256) for _ in range(n)))
        # keep only the last k frames pending
        keep = rng.randrange(0, 6)
        while len(ring.frames) > keep:
            ring.consume_one()
        ring.store()
        rings.append(ring)
    for side in (0, 1):
        if rng.random() < 0.3:
            put32(img, 0x80 + 0x40 * side, rng.choice([1, 2]))
            put32(img, 0x84 + 0x40 * side, rng.randrange(1, 5))
    return img, rings


def mutate(rng, img, rings):
    """One or more mutations of a valid image; returns a short description."""
    what = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        ring = rng.choice(rings)
        kind = rng.randrange(19)
        pending = [f for f in ring.frames if f[2] is not None]
        if kind == 0:   # bit flip anywhere in the control area, weighted to the live words
            off = rng.choice([rng.randrange(0x80), rng.randrange(0x80, 0x300),
                              ring.ctl + rng.choice([0, 8, 0x80, 0x88]) + rng.randrange(8)])
            img[off] ^= 1 << rng.randrange(8)
            what.append("flip ctl 0x%x" % off)
        elif kind == 1:   # header field changed, CRC re-fixed
            f = rng.choice([(0x06, "H"), (0x08, "I"), (0x10, "Q"), (0x1C, "I"), (0x20, "I"),
                            (0x28, "I"), (0x2C, "I"), (0x38, "Q"), (0x40, "Q"), (0x48, "Q"),
                            (0x50, "Q"), (0x58, "Q"), (0x18, "I"), (0x04, "H")])
            size = struct.calcsize("<" + f[1])
            old = struct.unpack_from("<" + f[1], img, f[0])[0]
            new = rng.choice([old + 1, old - 1, old * 2, old // 2, old ^ (1 << rng.randrange(8 * size)),
                              0, (1 << (8 * size)) - 1, rng.randrange(1 << (8 * size)),
                              old + 4096, old - 4096, old + 8, old - 8])
            new &= (1 << (8 * size)) - 1
            struct.pack_into("<" + f[1], img, f[0], new)
            fix_header_crc(img)
            what.append("hdr 0x%x=%d" % (f[0], new))
        elif kind == 2:   # wpos
            d = rng.choice([8, -8, 16, -16, 24, -24, 1, -4, ring.cap, -ring.cap, ring.cap + 8,
                            rng.randrange(-64, 64) * 8])
            put64(img, ring.ctl, get64(img, ring.ctl) + d)
            what.append("wpos%+d r%d" % (d, ring.ring))
        elif kind == 3:   # rpos
            d = rng.choice([8, -8, 16, -16, 24, 1, -ring.cap, rng.randrange(-64, 64) * 8])
            put64(img, ring.ctl + 0x80, get64(img, ring.ctl + 0x80) + d)
            what.append("rpos%+d r%d" % (d, ring.ring))
        elif kind == 4:   # rseq
            d = rng.choice([1, -1, 2, -2, 1 << 32])
            put64(img, ring.ctl + 0x88, get64(img, ring.ctl + 0x88) + d)
            what.append("rseq%+d r%d" % (d, ring.ring))
        elif kind == 5 and ring.frames:   # reader rewound by one frame (died between rseq/rpos)
            # the consumed frame before rpos is gone from the list: rewind to a pending
            # frame's start and keep rseq one ahead, as a reader that died after storing rseq
            pos, size, seq = ring.frames[0]
            if seq is not None:
                put64(img, ring.ctl + 0x80, pos)
                put64(img, ring.ctl + 0x88, seq + 1)
                what.append("rseq-ahead r%d" % ring.ring)
        elif kind in (6, 7, 8, 9, 10) and pending:   # a frame field, CRC re-fixed (or not)
            pos, size, seq = rng.choice(pending)
            off = ring.data + pos % ring.cap
            if get64(img, ring.ctl + 0x80) % ring.cap == pos % ring.cap:
                pass
            # a skipped tail before the frame: the frame starts at the next lap's offset 0
            t = ring.cap - pos % ring.cap
            if t < 24:
                off = ring.data
            field = rng.choice([(4, "I"), (8, "Q"), (16, "H"), (18, "H"), (20, "I")])
            old = struct.unpack_from("<" + field[1], img, off + field[0])[0]
            bits = 8 * struct.calcsize("<" + field[1])
            new = rng.choice([old + 1, old - 1, old + 8, old - 8, 0, 1, 2, 3,
                              old ^ (1 << rng.randrange(bits)), (1 << bits) - 1,
                              old + ring.cap, old - ring.cap, old + 16, old - 24])
            new &= (1 << bits) - 1
            struct.pack_into("<" + field[1], img, off + field[0], new)
            if rng.random() < 0.85:
                fix_frame_crc(img, off, msg_len=min(new, ring.cap) if field[0] == 4 else None)
            what.append("frame@%d +0x%x=%d r%d" % (pos, field[0], new, ring.ring))
        elif kind == 11 and pending:   # payload byte flip
            pos, size, seq = rng.choice(pending)
            off = ring.data + (pos % ring.cap if ring.cap - pos % ring.cap >= 24 else 0)
            b = off + rng.randrange(24, max(25, min(size, ring.cap - (off - ring.data))))
            if b < ring.data + ring.cap:
                img[b] ^= 1 << rng.randrange(8)
            what.append("payload flip r%d" % ring.ring)
        elif kind == 12:   # truncate or extend the file
            n = rng.choice([0, 1, 127, 128, 4095, 4096, len(img) - 8, len(img) - 4096,
                            len(img) + 8, len(img) + 4096])
            if n < len(img):
                del img[max(0, n):]
            else:
                img.extend(bytes(n - len(img)))
            what.append("size %d" % len(img))
            return ", ".join(what)
        elif kind == 13:   # role state
            side = rng.randrange(2)
            put32(img, 0x80 + 0x40 * side, rng.choice([0, 1, 2, 3, 0xFFFFFFFF]))
            what.append("role%d" % side)
        elif kind == 14 and pending:   # MSG <-> PAD, or a PAD written at the frame
            pos, size, seq = rng.choice(pending)
            if ring.cap - pos % ring.cap < 24:
                continue
            off = ring.data + pos % ring.cap
            tail = ring.cap - pos % ring.cap
            length = rng.choice([tail - 24, tail - 16, tail - 32, size - 24,
                                 struct.unpack_from("<I", img, off + 4)[0]])
            length &= 0xFFFFFFFF
            newtype = rng.choice([1, 2])
            struct.pack_into("<IH", img, off + 4, length, 0)
            struct.pack_into("<H", img, off + 16, newtype)
            fix_frame_crc(img, off, msg_len=min(length, ring.cap))
            what.append("type%d len%d @%d r%d" % (newtype, length, pos, ring.ring))
        elif kind == 16 and ring.frames:   # wpos at a frame boundary (a PAD published alone,
            # the end of a skipped tail, inside a skip), or just around one
            pos, size, seq = rng.choice(ring.frames)
            t = ring.cap - pos % ring.cap
            cut = rng.choice([pos, pos + size, pos + t if t < size else pos + 8,
                              pos + size - 8, pos + 8, pos + 16, pos + 24])
            put64(img, ring.ctl, cut)
            what.append("wpos=%d r%d" % (cut, ring.ring))
        elif kind == 17:   # the reader's informational words, and the wait words
            put32(img, ring.ctl + rng.choice([0x90, 0x94, 0x40, 0xC0, 0x10, 0x98]),
                  rng.choice([1, 46, 0xFFFFFFFF]))
            what.append("info r%d" % ring.ring)
        elif kind == 18 and pending:   # a huge length, CRC re-fixed over what is there
            pos, size, seq = rng.choice(pending)
            off = ring.data + (pos % ring.cap if ring.cap - pos % ring.cap >= 24 else 0)
            n = rng.choice([0xFFFFFFFF, 0xFFFFFFF8, 0xFFFFFFE8, 0x80000000, ring.maxm + 1,
                            ring.cap, ring.cap - 24])
            put32(img, off + 4, n)
            fix_frame_crc(img, off, msg_len=min(n, ring.data + ring.cap - off - 24))
            what.append("len=%d @%d r%d" % (n, pos, ring.ring))
        elif kind == 15:   # magic / init_state
            off = rng.choice([0x00, 0x7C])
            put32(img, off, rng.choice([0, reader.MAGIC, reader.INIT_READY, 0x12345678]))
            what.append("word 0x%x" % off)
    return ", ".join(what) or "none"


def edge_images():
    """Hand-made images for rules random mutation rarely reaches."""
    out = []

    def simplex(msgs, length, maxm=64, keep=0):
        img, datas = format_segment([256], maxm)
        ring = Ring(img, datas, [256], maxm, 0, 0, 0)
        for k in range(msgs):
            ring.write(bytes((k * 16 + i) & 0xFF for i in range(length)))
        while len(ring.frames) > keep:
            ring.consume_one()
        ring.store()
        return img, ring

    # 56-byte payloads: 80-byte frames, a 16-byte tail at 240 is skipped.
    img, ring = simplex(3, 56)                        # rpos = wpos = 240
    for w, what in ((248, "R2: wpos inside a skipped tail"),
                    (256, "skip, then empty"), (264, "skip, then R3")):
        b = bytearray(img)
        put64(b, 0x100, w)
        out.append(("edge/" + what, bytes(b)))
    img, ring = simplex(4, 56, keep=1)                # skip + frame pending from 240
    out.append(("edge/skip then frame", bytes(img)))
    b = bytearray(img)
    put64(b, 0x188, get64(b, 0x188) + 1)              # reader died after rseq: repair over skip
    out.append(("edge/repair after a skip", bytes(b)))
    # 44-byte payloads: 72-byte frames, a PAD of 16 at 216.
    img, ring = simplex(4, 44, keep=2)                # PAD + MSG pending
    out.append(("edge/PAD then MSG", bytes(img)))
    b = bytearray(img)
    put64(b, 0x100, 256)                              # the PAD published alone (5.2 step 2)
    out.append(("edge/PAD published alone", bytes(b)))
    b = bytearray(img)
    put64(b, 0x188, get64(b, 0x188) + 1)              # repair where the frame at p is a PAD
    out.append(("edge/repair of a PAD", bytes(b)))
    b = bytearray(img)
    put32(b, 0x80, 1)
    put32(b, 0xC0, 1)                                 # both roles "attached", locks free
    out.append(("edge/takeover, roles attached", bytes(b)))
    # max_message 0: a channel of empty messages; 24-byte frames, tails of 16 skipped.
    img, ring = simplex(23, 0, maxm=0, keep=5)
    out.append(("edge/empty messages", bytes(img)))
    # largest max_message for 256: 2 * align8(24 + 104) = 256.
    img, ring = simplex(5, 104, maxm=104, keep=2)
    out.append(("edge/max_message at the bound", bytes(img)))
    b = bytearray(img)
    struct.pack_into("<I", b, 0x20, 105)
    fix_header_crc(b)
    out.append(("edge/max_message one over", bytes(b)))
    b = bytearray(img)
    struct.pack_into("<I", b, 0x20, 0xFFFFFFFF)
    fix_header_crc(b)
    out.append(("edge/max_message 2^32-1", bytes(b)))
    # still being created / never ready
    b = bytearray(img)
    put32(b, 0, 0)
    put32(b, 0x7C, 0)
    out.append(("edge/magic 0, init_state 0", bytes(b)))
    b = bytearray(img)
    put32(b, 0, 0)
    out.append(("edge/magic 0, ready", bytes(b)))
    b = bytearray(img)
    put32(b, 0x7C, 0x12345678)
    out.append(("edge/init_state garbage", bytes(b)))
    b = bytearray(img)
    struct.pack_into("<H", b, 6, 7)
    fix_header_crc(b)
    out.append(("edge/version 1.7", bytes(b)))
    out.append(("edge/empty file", b""))
    # PROTOCOL.md 7 (c457df0): no repair at rseq 0, even over a frame whose seq is 2^64 - 1
    # (the literal text before it gave rseq = 2^64 - 1 and delivered it).
    img, datas = format_segment([256], 64)
    ring = Ring(img, datas, [256], 64, 0, 0, U64)
    ring.write(b"K1")
    ring.store()
    put64(img, ring.ctl + 0x88, 0)
    out.append(("edge/rseq 0, frame seq 2^64-1 at rpos", bytes(img)))
    # PROTOCOL.md 6.2 A18 (c457df0): both rings bad, each differently: a side reports the ring
    # it writes (side A: ring 0, side B: ring 1).
    img, datas = format_segment([256, 256], 64)
    for r in (0, 1):
        Ring(img, datas, [256, 256], 64, r, 0, 0)
    put64(img, 0x100, 4)                              # ring 0: wpos not a multiple of 8
    put64(img, 0x200, 512)                            # ring 1: wpos - rpos > capacity
    out.append(("edge/A18 on both rings", bytes(img)))
    return out


# --------------------------------------------------------------------------------------------
# Comparing.

def expect_sessions(res):
    """Our prediction of the harness's two sessions: for side s, (attach_code, msgs, end_code)
    or None when it cannot be predicted (simplex side A after a good header)."""
    hdr = res["header"]
    out = {}
    for side, ring in (("B", 0), ("A", 1)):
        if hdr != "ok":
            out[side] = ([CODES[hdr]], None, None, res["rule"])
            continue
        if ring >= res["ring_count"]:
            out[side] = None
            continue
        r = res["rings"][ring]
        if r["rule"] and r["rule"].split("/")[0] in ("A17", "A18"):
            out[side] = ([CODES[c] for c in r.get("a18_codes", [r["verdict"]])], None, None,
                         r["rule"])
        else:
            end = CODES["SHMF_EAGAIN"] if r["verdict"] == "ok" else CODES[r["verdict"]]
            out[side] = ([0], [(str(s), p.hex()) for s, p in r["delivered"]], end, r["rule"])
    return out


def compare(res, c):
    """List of disagreement strings between reader.py's result and the harness's line."""
    diffs = []
    exp = expect_sessions(res)
    for s in c["sessions"]:
        e = exp[s["side"]]
        if e is None:
            continue
        att, msgs, end, rule = e
        if s["attach"] not in att:
            diffs.append("side %s attach: C %s, reader %s (%s)" % (
                s["side"], NAMES.get(s["attach"], s["attach"]),
                "/".join(NAMES.get(x, str(x)) for x in att), rule))
            continue
        if att != [0]:
            continue
        cm = [tuple(m) for m in s["msgs"]]
        if cm != msgs:
            n = 0
            while n < min(len(cm), len(msgs)) and cm[n] == msgs[n]:
                n += 1
            diffs.append("side %s delivered: C %d msgs, reader %d, first difference at #%d: C %s, reader %s"
                         % (s["side"], len(cm), len(msgs), n,
                            (cm[n][0], cm[n][1][:40]) if n < len(cm) else None,
                            (msgs[n][0], msgs[n][1][:40]) if n < len(msgs) else None))
        if s["end"] != end:
            diffs.append("side %s verdict: C %s, reader %s (%s)" % (
                s["side"], NAMES.get(s["end"], s["end"]), NAMES.get(end, end), rule))
        elif "again" in s and s["again"] != s["end"]:
            diffs.append("side %s: reject %s not sticky (then %s)" % (
                s["side"], NAMES.get(s["end"]), NAMES.get(s["again"], s["again"])))
    return diffs


def compare_inspect(data, j, repair=True):
    """reader.py (as a reader that does not attach: A18 on each ring alone, no A17) against
    `shmframe inspect --json`: the header's verdict (our code among inspect's header/file
    problems, or none), then per ring the seqs of the MSG frames inspect found ok, and the
    first problem inspect reports on that ring against our verdict."""
    res = reader.read_image(data, repair=repair, attach_scope="ring")
    diffs = []
    probs = [p for p in j.get("problems", []) if isinstance(p, dict)]
    hprobs = [p["code"] for p in probs if p.get("where") in ("header", "file")]
    if res["header"] != "ok":
        if res["header"] not in hprobs:
            diffs.append("inspect header: reader %s (%s), inspect %s" % (
                res["header"], res["rule"], hprobs or "no header problem"))
        return diffs
    if hprobs:
        diffs.append("inspect header: reader ok, inspect %s" % hprobs)
        return diffs
    for r in res["rings"]:
        jr = next((x for x in j.get("rings", []) if x.get("index") == r["ring"]), None)
        if jr is None:
            diffs.append("inspect: no ring %d" % r["ring"])
            continue
        ours = [s for s, _ in r["delivered"]]
        # inspect is a diagnostic: past a frame with a bad CRC whose header is plausible it
        # walks on and shows the frames after it; a reader stops there (6.4). Compare the
        # frames before inspect's first frame that is not ok.
        theirs = []
        for f in jr.get("frames", []):
            if f.get("status") != "ok":
                break
            if f.get("type") == "MSG":
                theirs.append(f["seq"])
        if ours != theirs:
            diffs.append("inspect ring %d: reader seqs %s, inspect %s" % (
                r["ring"], ours[:8], theirs[:8]))
        rp = [p["code"] for p in probs if p.get("where") == "ring %d" % r["ring"]]
        if (r["verdict"] == "ok") != (not rp) or (rp and rp[0] != r["verdict"]):
            diffs.append("inspect ring %d: reader %s (%s), inspect %s" % (
                r["ring"], r["verdict"], r["rule"], rp or "ok"))
    return diffs


def build_harness(build, workdir):
    src = os.path.join(workdir, "harness.c")
    exe = os.path.join(workdir, "harness")
    with open(src, "w") as f:
        f.write(HARNESS_C)
    lib = os.path.join(build, "libshmframe.a")
    cc = os.environ.get("CC", "cc")
    # SHMF_HARNESS_FLAGS: what the library was built with and the link needs (a sanitizer, or
    # --coverage); ctest passes it, and CC, from the build's own configuration.
    extra = os.environ.get("SHMF_HARNESS_FLAGS", "").split()
    subprocess.check_call([cc, "-O1", "-std=c11"] + extra +
                          ["-I", os.path.join(ROOT, "include"), "-I", os.path.join(ROOT, "src"),
                           src, lib, "-lpthread", "-o", exe])
    return exe


def classify(data, res, c, diffs, j=None):
    """(remaining disagreements, names of known differences that explain the others).
    j: inspect's JSON when it was compared."""
    why = []
    return diffs, why


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--no-inspect", dest="inspect", action="store_false",
                    help="do not compare `shmframe inspect --json` (on by default when "
                         "BUILD/tools/shmframe exists)")
    ap.add_argument("--keep", help="write every generated image here")
    ap.add_argument("--images", nargs="*", default=None, help="only these image files")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args(argv[1:])
    t0 = time.time()
    if a.inspect and not os.path.exists(os.path.join(a.build, "tools", "shmframe")):
        a.inspect = False
    work = tempfile.mkdtemp(prefix="shmf-diff-")
    exe = build_harness(os.path.abspath(a.build), work)

    images = []   # (name, bytes)
    if a.images is not None:
        for p in a.images:
            images.append((p, open(p, "rb").read()))
    else:
        vec = os.path.join(ROOT, "tests", "vectors")
        for n in sorted(os.listdir(vec)):
            if n.endswith(".bin"):
                images.append(("vectors/" + n, open(os.path.join(vec, n), "rb").read()))
        for corpus in ("segment", "segment_guard", "cli_image"):
            d = os.path.join(ROOT, "fuzz", "corpus", corpus)
            for n in sorted(os.listdir(d)):
                images.append(("%s/%s" % (corpus, n), open(os.path.join(d, n), "rb").read()))
        images += edge_images()
        rng = random.Random(a.seed)
        for i in range(a.count):
            img, rings = build_base(rng)
            desc = "valid" if i % 5 == 0 else mutate(rng, img, rings)
            images.append(("gen/%d %s" % (i, desc), bytes(img)))

    # A14 (creator_uid equals the file's owner) is a file fact: make every image's creator_uid
    # the harness's euid, re-fixing the header CRC when it was right, and give both readers
    # these same bytes.
    euid = os.geteuid()
    for i, (name, data) in enumerate(images):
        if len(data) >= 0x7C:
            b = bytearray(data)
            ok = reader.crc32c(bytes(b[:0x78])) == struct.unpack_from("<I", b, 0x78)[0]
            put32(b, 0x24, euid)
            if ok:
                fix_header_crc(b)
            images[i] = (name, bytes(b))
    paths = []
    for i, (name, data) in enumerate(images):
        p = os.path.join(a.keep or work, "img%05d.bin" % i)
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        paths.append(p)
    proc = subprocess.run([exe], input="\n".join(paths) + "\n", capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        print("harness failed: %d" % proc.returncode, file=sys.stderr)
        return 2
    lines = proc.stdout.splitlines()
    if len(lines) != len(images):
        print("harness printed %d lines for %d images" % (len(lines), len(images)), file=sys.stderr)
        return 2

    inspected = [None] * len(paths)
    if a.inspect:
        from concurrent.futures import ThreadPoolExecutor
        cli = os.path.join(a.build, "tools", "shmframe")

        def run(p):
            return subprocess.run([cli, "inspect", "--file", p, "--json"],
                                  capture_output=True, text=True)
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
            inspected = list(ex.map(run, paths))

    bad = 0
    stats = {}
    for (name, data), line, p, q in zip(images, lines, paths, inspected):
        res = reader.read_image(data)
        c = json.loads(line)
        diffs = compare(res, c)
        j = None
        if a.inspect:
            try:
                j = json.loads(q.stdout)
            except ValueError:
                diffs.append("inspect: no JSON (exit %d)" % q.returncode)
            else:
                diffs += compare_inspect(data, j)
                # exit status (docs/CLI.md): 0 consistent, 1 damage, 3 still being created
                want = 0 if not j.get("problems") else (3 if any(
                    x.get("code") == "SHMF_ENOTREADY" for x in j["problems"]) else 1)
                if q.returncode not in (want, 1) or (want == 0) != (q.returncode == 0):
                    diffs.append("inspect exit %d, problems %s" % (
                        q.returncode, [x.get("code") for x in j.get("problems", [])]))
        src = name.split("/")[0]
        stats.setdefault(src, [0, 0])
        stats[src][0] += 1
        left, why = classify(data, res, c, diffs, j)
        for k in why:
            stats.setdefault("known " + k, [0, 0])[0] += 1
        if left:
            stats[src][1] += 1
            bad += 1
            if bad <= 40 or a.v:
                print("DISAGREE %s\n  %s\n  image: %s" % (name, "\n  ".join(left), p))
    for k, (n, b) in sorted(stats.items()):
        print("%-14s %5d images, %d disagreeing" % (k, n, b))
    print("%d images, %d disagreements, %.1f s" % (len(images), bad, time.time() - t0))
    if not a.keep:
        for p in paths:
            os.unlink(p)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
