/* The C engine reproduces the TypeScript engine's outputs, counters, modelled cycles and arena size
 * exactly, for every blob in test/vectors/engine (dense, block 4x4 and 1x16, CSR with gaps over 255, CSR4,
 * unit-pruned, hop 128, mixed encodings). Also: a stream reset restarts the stream bit-exactly, a model
 * runs in an arena of exactly arena_bytes at any alignment, and the cost model matches
 * test/vectors/cost-model.json. */
#include <stdlib.h>
#include <string.h>

#include "cost_model.h"
#include "hil_engine.h"
#include "json_mini.h"
#include "vectors.h"

#define ARENA_MAX (256u << 10)
static uint8_t arena[ARENA_MAX + 32] __attribute__((aligned(16)));
static const hil_cost_params_t U55 = {128, 8, 8, 200, 0};

/* A clock that moves one step per read. */
#define STEP_CLOCK 1000u
static uint64_t g_clock_reads;
static uint64_t step_clock(void) { return ++g_clock_reads * STEP_CLOCK; }


static int run_vector(const vec_engine_entry_t *e, hil_model_t *m, const vec_file_t *in, const vec_file_t *out,
                      const vec_file_t *ctr, uint32_t frames, int check_counters) {
  int16_t fin[256], fout[256];
  int bad_frames = 0;
  for (uint32_t f = 0; f < frames; f++) {
    for (unsigned k = 0; k < e->hop; k++) fin[k] = vec_i16(in->data + 2u * (f * e->hop + k));
    hil_frame_counters_t c;
    hil_model_run_frame(m, fin, fout, &c);
    int bad = 0;
    for (unsigned k = 0; k < e->hop; k++) bad += fout[k] != vec_i16(out->data + 2u * (f * e->hop + k));
    if (check_counters) {
      const uint8_t *p = ctr->data + 20u * f;
      bad += c.macs != vec_u32(p) || c.weight_bytes != vec_u32(p + 4) || c.elements != vec_u32(p + 8) ||
             c.ops != vec_u32(p + 12) || c.modelled_cycles != vec_u32(p + 16);
    }
    if (bad && bad_frames++ == 0) fprintf(stderr, "%s: frame %u differs (%d mismatches)\n", e->name, f, bad);
  }
  return bad_frames;
}

static void test_engine_vectors(void) {
  vec_engine_entry_t entries[32];
  const int n = vec_engine_index(entries, 32);
  VCHECK(n >= 6, "engine index lists %d vectors", n);
  for (int i = 0; i < n; i++) {
    const vec_engine_entry_t *e = &entries[i];
    char path[4096];
    snprintf(path, sizeof path, "test/vectors/engine/%s.hilm", e->name);
    vec_file_t blob = vec_read(path);
    snprintf(path, sizeof path, "test/vectors/engine/%s.in.bin", e->name);
    vec_file_t in = vec_read(path);
    snprintf(path, sizeof path, "test/vectors/engine/%s.out.bin", e->name);
    vec_file_t out = vec_read(path);
    snprintf(path, sizeof path, "test/vectors/engine/%s.counters.bin", e->name);
    vec_file_t ctr = vec_read(path);
    VCHECK(in.len == 2u * e->hop * e->frames && out.len == in.len && ctr.len == 20u * e->frames, "%s: file sizes", e->name);

    hil_model_t m;
    char why[160];
    int rc = hil_model_load(&m, blob.data, blob.len, arena, ARENA_MAX, why, sizeof why);
    VCHECK(rc == 0, "%s: load failed (%d): %s", e->name, rc, why);
    if (rc) continue;
    VCHECK(m.arena_bytes == e->arena_bytes, "%s: arena %u, expected %u", e->name, m.arena_bytes, e->arena_bytes);
    VCHECK(m.hop == e->hop, "%s: hop", e->name);
    hil_model_set_cost(&m, &U55);
    VCHECK(run_vector(e, &m, &in, &out, &ctr, e->frames, 1) == 0, "%s: output or counters differ", e->name);

    /* STREAM_RESET restarts the stream: the first frames come out the same again. */
    hil_model_reset_stream(&m);
    const uint32_t again = e->frames < 6 ? e->frames : 6;
    VCHECK(run_vector(e, &m, &in, &out, &ctr, again, 1) == 0, "%s: differs after reset", e->name);

    /* Exactly arena_bytes is enough, at an odd arena address too (the loader aligns it); one byte less is refused. */
    rc = hil_model_load(&m, blob.data, blob.len, arena + 16, e->arena_bytes, why, sizeof why);
    VCHECK(rc == 0, "%s: exact arena refused: %s", e->name, why);
    rc = hil_model_load(&m, blob.data, blob.len, arena + 3, e->arena_bytes + 13, why, sizeof why);
    VCHECK(rc == 0, "%s: unaligned arena refused: %s", e->name, why);
    if (rc == 0) VCHECK(run_vector(e, &m, &in, &out, &ctr, again, 0) == 0, "%s: differs in an unaligned arena", e->name);
    rc = hil_model_load(&m, blob.data, blob.len, arena, e->arena_bytes - 1, why, sizeof why);
    VCHECK(rc == 8 && strstr(why, "arena needs") != NULL, "%s: a short arena gives error 8 (%d: %s)", e->name, rc, why);
    /* Without CONFIG the modelled cycles are 0. */
    rc = hil_model_load(&m, blob.data, blob.len, arena, ARENA_MAX, why, sizeof why);
    int16_t fin[256] = {0}, fout[256];
    hil_frame_counters_t c;
    hil_model_run_frame(&m, fin, fout, &c);
    VCHECK(c.modelled_cycles == 0 && c.network_modelled_cycles == 0 && c.ops == m.n_ops,
           "%s: no cost params -> 0 modelled cycles", e->name);
    VCHECK(c.network_clock == 0, "%s: no clock -> the graph is not timed", e->name);
    /* With cost parameters, the network's modelled cycles are the frame's without frontend_cycles; with a
     * clock, the graph is timed by exactly two reads of it. */
    hil_cost_params_t cost = U55;
    cost.frontend_cycles = 5000;
    hil_model_set_cost(&m, &cost);
    hil_model_set_clock(&m, step_clock);
    const uint64_t reads = g_clock_reads;
    hil_model_run_frame(&m, fin, fout, &c);
    VCHECK(g_clock_reads == reads + 2 && c.network_clock == STEP_CLOCK, "%s: the graph timed by two reads (%llu)", e->name,
           (unsigned long long)c.network_clock);
    VCHECK(c.network_modelled_cycles > 0 && c.network_modelled_cycles + 5000u == c.modelled_cycles,
           "%s: network modelled %u, frame %u", e->name, c.network_modelled_cycles, c.modelled_cycles);
    vec_free(&blob);
    vec_free(&in);
    vec_free(&out);
    vec_free(&ctr);
  }
}

static void test_cost_model(void) {
  tj_value *v = tj_parse_file("test/vectors/cost-model.json");
  const tj_value *cases = tj_need(v, "cases", TJ_ARRAY);
  VCHECK(cases->count >= 8, "cost-model.json has %u cases", (unsigned)cases->count);
  for (size_t i = 0; i < cases->count; i++) {
    const tj_value *c = &cases->items[i];
    const tj_value *p = tj_need(c, "params", TJ_ARRAY);
    const tj_value *ops = tj_need(c, "ops", TJ_ARRAY);
    hil_cost_params_t params = {(uint32_t)p->items[0].number, (uint32_t)p->items[1].number, (uint32_t)p->items[2].number,
                                (uint32_t)p->items[3].number, (uint32_t)p->items[4].number};
    uint64_t total = params.frontend_cycles;
    for (size_t k = 0; k < ops->count; k++) {
      const tj_value *o = &ops->items[k];
      total += hil_cost_op_cycles(&params, (int)o->items[0].number, (uint32_t)o->items[1].number, (uint32_t)o->items[2].number,
                                  (uint32_t)o->items[3].number);
    }
    const uint32_t want = (uint32_t)tj_need(c, "cycles", TJ_NUMBER)->number;
    VCHECK(hil_cost_saturate(total) == want, "cost model case %s: %u, expected %u", tj_need(c, "name", TJ_STRING)->string,
           hil_cost_saturate(total), want);
  }
}

static void test_unloaded_model_is_inert(void) {
  hil_model_t m;
  char why[64];
  static const uint8_t junk[80] __attribute__((aligned(16))) = {'N', 'O', 'P', 'E'};
  VCHECK(hil_model_load(&m, junk, sizeof junk, arena, ARENA_MAX, why, sizeof why) == 5, "junk refused");
  int16_t in[256] = {0}, out[256];
  hil_frame_counters_t c = {1, 1, 1, 1, 1, 1, 1};
  hil_model_run_frame(&m, in, out, &c); /* must not touch anything */
  VCHECK(c.macs == 0 && c.ops == 0, "a refused model runs nothing");
}

int main(void) {
  test_engine_vectors();
  test_cost_model();
  test_unloaded_model_is_inert();
  return vec_summary("test_engine_vectors");
}
