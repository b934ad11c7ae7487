/* The smallest model blob the loader accepts: one LUT op from the quantised features straight to the mask.
 * Small enough to upload in a few MODEL_CHUNKs, so the dispatcher's tests and the serve fuzzer's seeds can
 * drive a whole upload; the engine's own tests cover real networks. */
#ifndef HIL_TEST_MINI_BLOB_H
#define HIL_TEST_MINI_BLOB_H

#include <stdint.h>

/* Bytes a mini blob takes (the same for every hop). */
#define MINI_BLOB_BYTES 2416u

/* Writes the blob into `blob` (16-byte aligned, MINI_BLOB_BYTES long) and returns its length. */
uint32_t mini_blob_build(uint8_t *blob, uint16_t hop, uint32_t model_id);

#endif
