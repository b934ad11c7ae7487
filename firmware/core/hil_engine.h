/* The model engine: loads a blob (docs/model-format.md) and runs the streaming pipeline one frame at a
 * time. Implemented bit-exactly by src/engine on the host. No allocation: everything lives in the blob
 * (read-only) and the arena given at load. */
#ifndef HIL_ENGINE_H
#define HIL_ENGINE_H

#include <stdint.h>

#include "hil_model_format.h"

typedef struct {
  uint32_t macs_per_cycle;
  uint32_t weight_bytes_per_cycle;
  uint32_t elements_per_cycle;
  uint32_t op_overhead_cycles;
  uint32_t frontend_cycles;
} hil_cost_params_t;

typedef struct {
  uint32_t macs;
  uint32_t weight_bytes;
  uint32_t elements;
  uint16_t ops;
  uint32_t modelled_cycles; /* docs/cost-model.md; 0 when no cost parameters are set */
  uint32_t network_modelled_cycles; /* the same without frontend_cycles: the graph alone */
  uint64_t network_clock;   /* the model's clock over step 7 (the graph and its state copies); 0 without one */
} hil_frame_counters_t;

typedef struct {
  uint8_t *ptr;     /* into the arena */
  uint16_t length;
  uint8_t flags;
  uint8_t dtype;    /* 0 int8, 1 int16 (flags bit HIL_TENSOR_FLAG_INT16) */
  int32_t zero_point;
  uint16_t next;
} hil_tensor_t;

typedef struct {
  const uint8_t *blob;
  uint32_t blob_bytes;
  uint32_t arena_bytes;   /* used, docs/model-format.md section 8 */
  uint16_t n_fft, hop, n_bins;
  uint16_t n_tensors, n_ops;
  uint16_t input_id, output_id;
  uint32_t model_id;
  int32_t feat_mult;
  int8_t feat_shift;
  const int16_t *win_a, *win_s;
  const uint8_t *ops[HIL_MAX_OPS];      /* op records inside the blob */
  hil_tensor_t tensors[HIL_MAX_TENSORS];
  int16_t *inbuf;
  int32_t *ola, *re, *im;
  hil_cost_params_t cost;
  int has_cost;
  uint64_t (*clock)(void); /* times the graph for network_clock; NULL: not timed */
} hil_model_t;

/* Validates the whole blob and lays out the arena. Returns 0, or an error code from docs/protocol.md
 * (5 model invalid, 8 arena too small) with a one-line reason written to `why` (NUL-terminated; the same
 * text src/engine/blob.ts gives). The blob must be 16-byte aligned in memory (its arrays are read in place);
 * the arena may start anywhere (the loader aligns it, which can cost up to 15 bytes of capacity). A model
 * that failed to load runs nothing. Cost-model helpers are in cost_model.h. */
int hil_model_load(hil_model_t *m, const uint8_t *blob, uint32_t blob_bytes, uint8_t *arena,
                   uint32_t arena_capacity, char *why, uint32_t why_size);
void hil_model_set_cost(hil_model_t *m, const hil_cost_params_t *params);
/* The clock that times the graph alone (hil_frame_counters_t.network_clock), e.g. the port's latency
 * clock, read right before the first op and right after the state copies; NULL (the default after a
 * load) for none. */
void hil_model_set_clock(hil_model_t *m, uint64_t (*now)(void));
/* Zeroes the stream state (input buffer, overlap-add buffer, state tensors). */
void hil_model_reset_stream(hil_model_t *m);
/* One hop of int16 PCM in, one hop out. */
void hil_model_run_frame(hil_model_t *m, const int16_t *in, int16_t *out, hil_frame_counters_t *counters);

uint32_t hil_crc32(uint32_t crc, const uint8_t *data, uint32_t len); /* zlib-compatible; start with 0 */

#endif
