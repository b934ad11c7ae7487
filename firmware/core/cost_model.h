/* The modelled-latency formula of docs/cost-model.md, shared by the engine and the protocol code. */
#ifndef HIL_COST_MODEL_H
#define HIL_COST_MODEL_H

#include <stdint.h>
#include "hil_engine.h"

/* Cycles of one op. is_fc selects the FC roofline; other ops are element-wise (elements only).
 * A rate of 0 (a CONFIG that should have been refused) makes its term 0 instead of dividing by 0. */
uint64_t hil_cost_op_cycles(const hil_cost_params_t *p, int is_fc, uint32_t macs, uint32_t weight_bytes,
                            uint32_t elements);
/* frontend_cycles + sum of op cycles, saturated to uint32. */
uint32_t hil_cost_saturate(uint64_t cycles);

#endif
