/* docs/cost-model.md. Integer only; the engine sums these per op and saturates per frame. */
#include "cost_model.h"

static uint64_t ceil_div(uint64_t a, uint32_t b) {
  return b == 0 ? 0 : (a + b - 1) / b;
}

uint64_t hil_cost_op_cycles(const hil_cost_params_t *p, int is_fc, uint32_t macs, uint32_t weight_bytes,
                            uint32_t elements) {
  if (is_fc) {
    const uint64_t compute = ceil_div(macs, p->macs_per_cycle);
    const uint64_t stream = ceil_div(weight_bytes, p->weight_bytes_per_cycle);
    return (compute > stream ? compute : stream) + p->op_overhead_cycles;
  }
  return ceil_div(elements, p->elements_per_cycle) + p->op_overhead_cycles;
}

uint32_t hil_cost_saturate(uint64_t cycles) {
  return cycles > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)cycles;
}
