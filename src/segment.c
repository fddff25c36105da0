/* segment.c - the segment header: geometry from a config, formatting, and the attach checks
 * A6..A15 of PROTO 6.2.
 *
 * Pure except for shmf_segment_format() and shmf_header_snapshot(), which touch the mapping only
 * through src/atomics.h. Validation works on a private 128-byte snapshot, so every field is read
 * from shared memory exactly once.
 */
#include "internal.h"

#include "atomics.h"
#include "bytes.h"

#include <string.h>

static uint64_t round_page(uint64_t x)
{
	return (x + (SHMF_PAGE - 1u)) & ~(uint64_t)(SHMF_PAGE - 1u);
}

/* A largest frame must fit twice (PROTO 2.4): a writer at the end of a lap needs room for the
 * tail it pads plus the frame, tail + size <= capacity, and the tail is less than size. Found
 * by the spin model (tests/model): with one frame up to the whole capacity, a writer could wait
 * for room that an empty ring does not have. */
static int capacity_ok(uint64_t cap)
{
	return cap >= SHMF_MIN_CAPACITY && cap <= SHMF_MAX_CAPACITY && (cap & (cap - 1u)) == 0;
}

/* Section 2.4: ring offsets and total size follow from the capacities alone. */
static void layout(shmf_geom *g)
{
	g->data_off[0] = SHMF_CTL_AREA;
	g->data_off[1] = 0;
	if (g->ring_count == 2) {
		g->data_off[1] = SHMF_CTL_AREA + round_page(g->cap[0]);
		g->total_size = g->data_off[1] + round_page(g->cap[1]);
	} else {
		g->cap[1] = 0;
		g->total_size = SHMF_CTL_AREA + round_page(g->cap[0]);
	}
}

int shmf_geom_from_config(const shmf_config *cfg, shmf_geom *g)
{
	if (cfg == NULL || g == NULL)
		return SHMF_EINVAL;
	if ((cfg->flags & ~SHMF_SIMPLEX) != 0 || (cfg->mode & ~0777u) != 0)
		return SHMF_EINVAL;
	if (!capacity_ok(cfg->capacity) || cfg->max_message > SHMF_MAX_CAPACITY ||
	    2u * shmf_frame_size(cfg->max_message) > cfg->capacity)
		return SHMF_EINVAL;
	memset(g, 0, sizeof *g);
	g->ring_count = (cfg->flags & SHMF_SIMPLEX) ? 1u : 2u;
	g->max_message = (uint32_t)cfg->max_message;
	g->cap[0] = cfg->capacity;
	g->cap[1] = cfg->capacity;
	g->mode = cfg->mode;
	layout(g);
	return 0;
}

void shmf_segment_format(unsigned char *base, const shmf_geom *g)
{
	uint8_t h[SHMF_HEADER_SIZE];

	memset(h, 0, sizeof h);
	shmf_st32(h + SHMF_H_MAGIC, SHMF_MAGIC);
	shmf_st16(h + SHMF_H_VERSION_MAJOR, SHMF_VERSION_MAJOR);
	shmf_st16(h + SHMF_H_VERSION_MINOR, SHMF_VERSION_MINOR);
	shmf_st32(h + SHMF_H_FEATURES, 0);
	shmf_st32(h + SHMF_H_FINGERPRINT, SHMF_FINGERPRINT);
	shmf_st64(h + SHMF_H_TOTAL_SIZE, g->total_size);
	shmf_st32(h + SHMF_H_CTL_SIZE, SHMF_CTL_AREA);
	shmf_st32(h + SHMF_H_RING_COUNT, g->ring_count);
	shmf_st32(h + SHMF_H_MAX_MESSAGE, g->max_message);
	shmf_st32(h + SHMF_H_CREATOR_UID, g->creator_uid);
	shmf_st32(h + SHMF_H_MODE, g->mode);
	shmf_st64(h + SHMF_H_CREATED_NS, g->created_ns);
	shmf_st64(h + SHMF_H_RING0_DATA, g->data_off[0]);
	shmf_st64(h + SHMF_H_RING0_CAP, g->cap[0]);
	shmf_st64(h + SHMF_H_RING1_DATA, g->data_off[1]);
	shmf_st64(h + SHMF_H_RING1_CAP, g->cap[1]);
	shmf_st32(h + SHMF_H_HEADER_CRC, shmf_crc32c(0, h, SHMF_HEADER_CRC_LEN));
	/* Everything but the magic first, then the magic in one word, then the state: an opener
	 * sees either magic 0 (still being created) or the whole magic, never a torn one. */
	shmf_sh_copy_in(base + 4, h + 4, SHMF_H_INIT_STATE - 4u);
	shmf_sh_store_relaxed32(base + SHMF_H_MAGIC, SHMF_MAGIC);
	/* Release: pairs with the acquire load of init_state in shmf_header_snapshot(); an opener
	 * that sees "ready" sees the whole header (PROTO 9.1). */
	shmf_sh_store_release32(base + SHMF_H_INIT_STATE, SHMF_STATE_READY);
}

void shmf_header_snapshot(unsigned char *base, uint8_t hdr[SHMF_HEADER_SIZE])
{
	/* Acquire: pairs with the release store in shmf_segment_format(). */
	uint32_t state = shmf_sh_load_acquire32(base + SHMF_H_INIT_STATE);
	shmf_sh_copy_out(hdr, base, SHMF_H_INIT_STATE);
	shmf_st32(hdr + SHMF_H_INIT_STATE, state);
}

int shmf_header_validate(const uint8_t hdr[SHMF_HEADER_SIZE], uint64_t file_size, uint32_t file_uid,
                         uint32_t file_mode, shmf_geom *g)
{
	shmf_geom want;
	uint32_t magic = shmf_ld32(hdr + SHMF_H_MAGIC);
	uint32_t state = shmf_ld32(hdr + SHMF_H_INIT_STATE);

	/* A6: magic 0 with state 0 is a segment still being created (the creator writes the magic
	 * after every other field and before the state, PROTO 9.1), not a foreign one. */
	if (magic == 0 && state == SHMF_STATE_INIT)
		return SHMF_ENOTREADY;
	if (magic != SHMF_MAGIC)
		return SHMF_EMAGIC;
	if (state != SHMF_STATE_READY)
		return SHMF_ENOTREADY; /* A7 */
	if (shmf_ld16(hdr + SHMF_H_VERSION_MAJOR) != SHMF_VERSION_MAJOR)
		return SHMF_EVERSION; /* A8 */
	if (shmf_crc32c(0, hdr, SHMF_HEADER_CRC_LEN) != shmf_ld32(hdr + SHMF_H_HEADER_CRC))
		return SHMF_EHDRCRC; /* A9 */
	if (shmf_ld32(hdr + SHMF_H_FINGERPRINT) != SHMF_FINGERPRINT ||
	    shmf_ld32(hdr + SHMF_H_CTL_SIZE) != SHMF_CTL_AREA)
		return SHMF_ELAYOUT; /* A10 */
	if ((shmf_ld32(hdr + SHMF_H_FEATURES) & ~SHMF_FEATURES_KNOWN) != 0)
		return SHMF_EFEATURE; /* A11 */

	/* A12: rebuild the geometry from the capacities and demand that the header agrees. */
	memset(&want, 0, sizeof want);
	want.ring_count = shmf_ld32(hdr + SHMF_H_RING_COUNT);
	want.max_message = shmf_ld32(hdr + SHMF_H_MAX_MESSAGE);
	want.cap[0] = shmf_ld64(hdr + SHMF_H_RING0_CAP);
	want.cap[1] = shmf_ld64(hdr + SHMF_H_RING1_CAP);
	if (want.ring_count != 1 && want.ring_count != 2)
		return SHMF_ELAYOUT;
	if (!capacity_ok(want.cap[0]) || (want.ring_count == 2 && !capacity_ok(want.cap[1])) ||
	    (want.ring_count == 1 && want.cap[1] != 0))
		return SHMF_ELAYOUT;
	if (want.max_message > SHMF_MAX_CAPACITY ||
	    2u * shmf_frame_size(want.max_message) > want.cap[0] ||
	    (want.ring_count == 2 && 2u * shmf_frame_size(want.max_message) > want.cap[1]))
		return SHMF_ELAYOUT;
	layout(&want);
	if (shmf_ld64(hdr + SHMF_H_RING0_DATA) != want.data_off[0] ||
	    shmf_ld64(hdr + SHMF_H_RING1_DATA) != want.data_off[1] ||
	    (shmf_ld32(hdr + SHMF_H_MODE) & ~0777u) != 0)
		return SHMF_ELAYOUT;
	/* A13 */
	if (shmf_ld64(hdr + SHMF_H_TOTAL_SIZE) != want.total_size || file_size != want.total_size)
		return SHMF_ESIZE;
	/* A14, A15 */
	want.creator_uid = shmf_ld32(hdr + SHMF_H_CREATOR_UID);
	want.mode = shmf_ld32(hdr + SHMF_H_MODE);
	if (want.creator_uid != file_uid)
		return SHMF_EOWNER;
	if ((file_mode & 0777u & ~want.mode) != 0)
		return SHMF_EMODE;
	want.created_ns = shmf_ld64(hdr + SHMF_H_CREATED_NS);
	if (g != NULL)
		*g = want;
	return 0;
}
