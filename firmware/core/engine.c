/* The model engine (docs/model-format.md): a loader that trusts nothing in the blob (it arrives over a
 * wire), and the streaming pipeline. Every check of §7 happens in hil_model_load; after it succeeds the
 * run path indexes only what was checked, so it needs no bounds tests of its own. Integer only, no
 * allocation. src/engine/blob.ts mirrors these checks in the same order with the same reasons. */
#include <stdarg.h>
#include <string.h>

#include "hil_engine.h"
#include "cost_model.h"
#include "dsp.h"
#include "kernels.h"
#include "quant.h"

/* Op codes, record layouts and limits are hil_model_format.h, generated from docs/spec/model-format.json
 * like src/spec/modelFormat.ts; the error codes a refusal maps to are the protocol's. */
#include "hil_protocol.h"
#define ERR_INVALID HIL_ERR_MODEL_INVALID
#define ERR_ARENA HIL_ERR_ARENA

/* The element-wise ops are read through MUL's offsets for in1, in2 and out; the spec must keep ADD/SUB's in
 * the same places (a negative array size fails the build otherwise; C99 has no _Static_assert). */
typedef char widening_ids_share_offsets[(HIL_OP_QUANTIZE_IN == HIL_OP_LUT16_IN && HIL_OP_QUANTIZE_OUT == HIL_OP_LUT16_OUT) ? 1 : -1];
typedef char elementwise_ids_share_offsets[(HIL_OP_MUL_IN1 == HIL_OP_ADD_IN1 && HIL_OP_MUL_IN2 == HIL_OP_ADD_IN2 &&
                                            HIL_OP_MUL_OUT == HIL_OP_ADD_OUT && HIL_OP_ADD_IN1 == HIL_OP_SUB_IN1 &&
                                            HIL_OP_ADD_OUT == HIL_OP_SUB_OUT) ? 1 : -1];

static const char *const OP_NAMES[HIL_OP_MAX_CODE + 1] = HIL_OP_NAMES_INIT;
static const uint16_t OP_RECORD_BYTES[HIL_OP_MAX_CODE + 1] = HIL_OP_RECORD_BYTES_INIT;

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static int32_t rdi32(const uint8_t *p) { return (int32_t)rd32(p); }
static int64_t rdi64(const uint8_t *p) { return (int64_t)((uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32)); }
#define DTYPE_INT8 0u
#define DTYPE_INT16 1u
static uint32_t tensor_bytes(const hil_tensor_t *t) { return (uint32_t)t->length * (t->dtype == DTYPE_INT16 ? 2u : 1u); }
static const char *dtype_name(uint8_t d) { return d == DTYPE_INT16 ? "int16" : "int8"; }
static uint32_t round16(uint32_t v) { return (v + 15u) & ~15u; }
static uint64_t ceil_div64(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* --- the reason string: a tiny formatter (%u uint32, %d int32, %s), so the loader needs no stdio --- */
typedef struct {
  char *buf;
  uint32_t size, len;
} why_t;

static void why_put(why_t *w, char c) {
  if (w->buf && w->size && w->len + 1 < w->size) w->buf[w->len++] = c;
}
static void why_uint(why_t *w, uint32_t v) {
  char digits[10];
  int n = 0;
  do { digits[n++] = (char)('0' + v % 10u); v /= 10u; } while (v);
  while (n) why_put(w, digits[--n]);
}
static int fail(why_t *w, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  w->len = 0;
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') { why_put(w, *p); continue; }
    p++;
    if (*p == 'u') why_uint(w, va_arg(ap, uint32_t));
    else if (*p == 'd') {
      int32_t v = va_arg(ap, int32_t);
      if (v < 0) { why_put(w, '-'); why_uint(w, 0u - (uint32_t)v); } else why_uint(w, (uint32_t)v);
    } else if (*p == 's') {
      for (const char *s = va_arg(ap, const char *); *s; s++) why_put(w, *s);
    } else { why_put(w, '%'); if (!*p) break; why_put(w, *p); }
  }
  va_end(ap);
  if (w->buf && w->size) w->buf[w->len] = 0;
  return code;
}

/* A data array: 16-byte aligned, after the op table, inside the blob. */
static int array_ok(uint32_t off, uint64_t bytes, uint32_t data_start, uint32_t total) {
  return (off & 15u) == 0 && off >= data_start && (uint64_t)off + bytes <= total;
}

static int multiplier_ok(int32_t m, int32_t shift) { return m >= 0 && shift >= -31 && shift <= 31; }

/* Weight-stream layout sizes of docs/model-format.md §6. */
static uint64_t block_index_bytes(uint32_t nbr, uint32_t nnzb) {
  return ((2u * ((uint64_t)nbr + 1u + nnzb)) + 15u) & ~(uint64_t)15u;
}
static uint64_t csr_index_bytes(uint32_t out) { return ((2u * (uint64_t)out) + 3u) & ~(uint64_t)3u; }
/* CSR4's codes are each row's ceil(codes / 2) bytes; escapes (code 0) move the column this far. */
#define CSR4_ESCAPE_STEP 15u

static int validate_fc(why_t *w, hil_model_t *m, uint32_t i, const uint8_t *r, uint32_t data_start) {
  const uint8_t *b = m->blob;
  const uint32_t total = m->blob_bytes;
  const uint16_t tin = rd16(r + HIL_OP_FC_IN), tout = rd16(r + HIL_OP_FC_OUT), in = rd16(r + HIL_OP_FC_IN_FEATURES),
                 out = rd16(r + HIL_OP_FC_OUT_FEATURES);
  const int32_t act_min = (int8_t)r[HIL_OP_FC_ACT_MIN], act_max = (int8_t)r[HIL_OP_FC_ACT_MAX];
  const uint8_t per_channel = r[HIL_OP_FC_PER_CHANNEL], enc = r[HIL_OPREC_ENCODING], br = r[HIL_OP_FC_BR], bc = r[HIL_OP_FC_BC];
  const uint32_t w_off = rd32(r + HIL_OP_FC_WEIGHTS), w_bytes = rd32(r + HIL_OP_FC_WEIGHTS_BYTES),
                 bias_off = rd32(r + HIL_OP_FC_BIAS_EFF), m_off = rd32(r + HIL_OP_FC_MULT), s_off = rd32(r + HIL_OP_FC_SHIFT),
                 nnz = rd32(r + HIL_OP_FC_NNZ);
  if (in != m->tensors[tin].length || out != m->tensors[tout].length)
    return fail(w, ERR_INVALID, "op %u (FC): in_features %u / out_features %u do not match tensor lengths %u / %u", i,
                (uint32_t)in, (uint32_t)out, (uint32_t)m->tensors[tin].length, (uint32_t)m->tensors[tout].length);
  if (tin == tout) return fail(w, ERR_INVALID, "op %u (FC): output is its own input", i);
  if (act_min > act_max) return fail(w, ERR_INVALID, "op %u (FC): act_min %d > act_max %d", i, act_min, act_max);
  if (per_channel > 1) return fail(w, ERR_INVALID, "op %u (FC): per_channel %u invalid", i, (uint32_t)per_channel);
  const uint32_t n_mult = per_channel ? out : 1u;
  if (!array_ok(bias_off, 4u * (uint64_t)out, data_start, total))
    return fail(w, ERR_INVALID, "op %u (FC): %s array outside the data area or misaligned", i, "bias_eff");
  if (!array_ok(m_off, 4u * (uint64_t)n_mult, data_start, total))
    return fail(w, ERR_INVALID, "op %u (FC): %s array outside the data area or misaligned", i, "M");
  if (!array_ok(s_off, n_mult, data_start, total))
    return fail(w, ERR_INVALID, "op %u (FC): %s array outside the data area or misaligned", i, "shift");
  for (uint32_t c = 0; c < n_mult; c++)
    if (!multiplier_ok(rdi32(b + m_off + 4u * c), (int8_t)b[s_off + c]))
      return fail(w, ERR_INVALID, "op %u (FC): multiplier out of range at channel %u", i, c);
  if (!array_ok(w_off, w_bytes, data_start, total))
    return fail(w, ERR_INVALID, "op %u (FC): %s array outside the data area or misaligned", i, "weights");
  const uint8_t *wt = b + w_off;
  uint64_t expected;
  if (enc == HIL_ENC_DENSE) {
    expected = (uint64_t)out * in;
    if (w_bytes != expected) return fail(w, ERR_INVALID, "op %u (FC): weights bytes %u (expected %u)", i, w_bytes, (uint32_t)expected);
    if (nnz != expected) return fail(w, ERR_INVALID, "op %u (FC): nnz %u (expected %u for dense)", i, nnz, (uint32_t)expected);
  } else if (enc == HIL_ENC_BLOCK) {
    if (br < 1 || br > HIL_MAX_BLOCK_DIM || bc < 1 || bc > HIL_MAX_BLOCK_DIM)
      return fail(w, ERR_INVALID, "op %u (FC): block %ux%u outside [1, 16]", i, (uint32_t)br, (uint32_t)bc);
    const uint32_t nbr = (uint32_t)ceil_div64(out, br), nbc = (uint32_t)ceil_div64(in, bc);
    expected = block_index_bytes(nbr, nnz) + (uint64_t)nnz * br * bc;
    if (w_bytes != expected)
      return fail(w, ERR_INVALID, "op %u (FC): weights bytes %u (expected %u)", i, w_bytes, (uint32_t)expected);
    const uint8_t *row_ptr = wt, *col_idx = wt + 2u * (nbr + 1u);
    if (rd16(row_ptr) != 0) return fail(w, ERR_INVALID, "op %u (FC): block row_ptr invalid at block row %u", i, 0u);
    for (uint32_t rb = 0; rb < nbr; rb++) {
      const uint32_t lo = rd16(row_ptr + 2u * rb), hi = rd16(row_ptr + 2u * (rb + 1u));
      if (hi < lo || hi > nnz || (rb + 1u == nbr && hi != nnz))
        return fail(w, ERR_INVALID, "op %u (FC): block row_ptr invalid at block row %u", i, rb + 1u);
      for (uint32_t k = lo; k < hi; k++) {
        const uint32_t col = rd16(col_idx + 2u * k);
        if (col >= nbc || (k > lo && col <= rd16(col_idx + 2u * (k - 1u))))
          return fail(w, ERR_INVALID, "op %u (FC): block col_idx invalid at block %u", i, k);
      }
    }
  } else if (enc == HIL_ENC_CSR) {
    expected = csr_index_bytes(out) + 2u * (uint64_t)nnz;
    if (w_bytes != expected)
      return fail(w, ERR_INVALID, "op %u (FC): weights bytes %u (expected %u)", i, w_bytes, (uint32_t)expected);
    uint64_t sum = 0;
    for (uint32_t o = 0; o < out; o++) sum += rd16(wt + 2u * o);
    if (sum != nnz) return fail(w, ERR_INVALID, "op %u (FC): CSR row lengths sum to %u (expected nnz %u)", i, (uint32_t)sum, nnz);
    const uint8_t *delta = wt + csr_index_bytes(out);
    uint32_t k = 0;
    for (uint32_t o = 0; o < out; o++) {
      uint32_t col = 0;
      for (uint32_t e = 0; e < rd16(wt + 2u * o); e++, k++) {
        col += delta[k];
        if (col >= in) return fail(w, ERR_INVALID, "op %u (FC): CSR column out of range in row %u", i, o);
      }
    }
  } else if (enc == HIL_ENC_CSR4) {
    const uint64_t index = csr_index_bytes(out);
    if (w_bytes < index + nnz)
      return fail(w, ERR_INVALID, "op %u (FC): weights bytes %u too few for the CSR4 row table and nnz %u values", i, w_bytes, nnz);
    uint64_t code_bytes = 0;
    for (uint32_t o = 0; o < out; o++) code_bytes += (rd16(wt + 2u * o) + 1u) / 2u;
    expected = index + code_bytes + nnz;
    if (w_bytes != expected)
      return fail(w, ERR_INVALID, "op %u (FC): weights bytes %u (expected %u for CSR4)", i, w_bytes, (uint32_t)expected);
    const uint8_t *codes = wt + index;
    uint32_t values = 0;
    for (uint32_t o = 0; o < out; o++) {
      const uint32_t n = rd16(wt + 2u * o);
      uint32_t col = UINT32_MAX; /* column -1: a first code d is column d - 1 */
      for (uint32_t e = 0; e < n; e++) {
        const uint32_t code = (codes[e >> 1] >> (4u * (e & 1u))) & 15u;
        if (code == 0u) {
          if (e + 1u == n) return fail(w, ERR_INVALID, "op %u (FC): CSR4 row %u ends in an escape code", i, o);
          col += CSR4_ESCAPE_STEP;
        } else {
          col += code;
          values++;
          if (col >= in) return fail(w, ERR_INVALID, "op %u (FC): CSR4 column out of range in row %u", i, o);
        }
      }
      if ((n & 1u) && (codes[n >> 1] >> 4)) return fail(w, ERR_INVALID, "op %u (FC): CSR4 row %u pad nibble not zero", i, o);
      codes += (n + 1u) / 2u;
    }
    if (values != nnz) return fail(w, ERR_INVALID, "op %u (FC): CSR4 codes hold %u weights (expected nnz %u)", i, values, nnz);
  } else {
    return fail(w, ERR_INVALID, "op %u (FC): unknown encoding %u", i, (uint32_t)enc);
  }
  return 0;
}

static int validate_fc16(why_t *w, hil_model_t *m, uint32_t i, const uint8_t *r, uint32_t data_start) {
  const uint8_t *b = m->blob;
  const uint32_t total = m->blob_bytes;
  const uint16_t tin = rd16(r + HIL_OP_FC16_IN), tout = rd16(r + HIL_OP_FC16_OUT), in = rd16(r + HIL_OP_FC16_IN_FEATURES),
                 out = rd16(r + HIL_OP_FC16_OUT_FEATURES);
  const int32_t act_min = (int16_t)rd16(r + HIL_OP_FC16_ACT_MIN), act_max = (int16_t)rd16(r + HIL_OP_FC16_ACT_MAX);
  const uint8_t per_channel = r[HIL_OP_FC16_PER_CHANNEL], enc = r[HIL_OPREC_ENCODING];
  const uint32_t w_off = rd32(r + HIL_OP_FC16_WEIGHTS), bias_off = rd32(r + HIL_OP_FC16_BIAS), m_off = rd32(r + HIL_OP_FC16_MULT),
                 s_off = rd32(r + HIL_OP_FC16_SHIFT);
  if (in != m->tensors[tin].length || out != m->tensors[tout].length)
    return fail(w, ERR_INVALID, "op %u (FC16): in_features %u / out_features %u do not match tensor lengths %u / %u", i,
                (uint32_t)in, (uint32_t)out, (uint32_t)m->tensors[tin].length, (uint32_t)m->tensors[tout].length);
  if (tin == tout) return fail(w, ERR_INVALID, "op %u (FC16): output is its own input", i);
  if (enc != HIL_ENC_DENSE) return fail(w, ERR_INVALID, "op %u (FC16): encoding %u unsupported (dense only)", i, (uint32_t)enc);
  if (act_min > act_max) return fail(w, ERR_INVALID, "op %u (FC16): act_min %d > act_max %d", i, act_min, act_max);
  if (per_channel > 1) return fail(w, ERR_INVALID, "op %u (FC16): per_channel %u invalid", i, (uint32_t)per_channel);
  const uint32_t n_mult = per_channel ? out : 1u;
  if (!array_ok(bias_off, 8u * (uint64_t)out, data_start, total))
    return fail(w, ERR_INVALID, "op %u (FC16): %s array outside the data area or misaligned", i, "bias");
  if (!array_ok(m_off, 4u * (uint64_t)n_mult, data_start, total))
    return fail(w, ERR_INVALID, "op %u (FC16): %s array outside the data area or misaligned", i, "M");
  if (!array_ok(s_off, n_mult, data_start, total))
    return fail(w, ERR_INVALID, "op %u (FC16): %s array outside the data area or misaligned", i, "shift");
  for (uint32_t c = 0; c < n_mult; c++) {
    const int32_t sh = (int8_t)b[s_off + c];
    if (rdi32(b + m_off + 4u * c) < 0 || sh < -31 || sh > HIL_MAX_FC16_SHIFT)
      return fail(w, ERR_INVALID, "op %u (FC16): multiplier out of range at channel %u", i, c);
  }
  if (!array_ok(w_off, (uint64_t)out * in, data_start, total))
    return fail(w, ERR_INVALID, "op %u (FC16): %s array outside the data area or misaligned", i, "weights");
  const int64_t lim = (int64_t)1 << HIL_MAX_FC16_BIAS_BITS;
  for (uint32_t o = 0; o < out; o++) {
    const int64_t v = rdi64(b + bias_off + 8u * o);
    if (v > lim || v < -lim) return fail(w, ERR_INVALID, "op %u (FC16): bias out of range at channel %u", i, o);
  }
  return 0;
}

/* QUANTIZE and LUT16 share the positions of in and out. */
static int validate_widening(why_t *w, hil_model_t *m, uint32_t i, const uint8_t *r, uint8_t code, uint32_t data_start) {
  const char *name = OP_NAMES[code];
  if (m->tensors[rd16(r + HIL_OP_QUANTIZE_IN)].length != m->tensors[rd16(r + HIL_OP_QUANTIZE_OUT)].length)
    return fail(w, ERR_INVALID, "op %u (%s): lengths differ", i, name);
  if (code == HIL_OP_QUANTIZE) {
    if (!multiplier_ok(rdi32(r + HIL_OP_QUANTIZE_M), (int8_t)r[HIL_OP_QUANTIZE_SHIFT])) return fail(w, ERR_INVALID, "op %u (%s): multiplier out of range", i, name);
    return 0;
  }
  if (r[HIL_OP_LUT16_KIND] > HIL_LUT_MAX_KIND) return fail(w, ERR_INVALID, "op %u (LUT16): kind %u unknown", i, (uint32_t)r[HIL_OP_LUT16_KIND]);
  if (!array_ok(rd32(r + HIL_OP_LUT16_TABLE), 2u * HIL_LUT16_ENTRIES, data_start, m->blob_bytes))
    return fail(w, ERR_INVALID, "op %u (LUT16): table array outside the data area or misaligned", i);
  return 0;
}

static int validate_elementwise(why_t *w, hil_model_t *m, uint32_t i, const uint8_t *r, uint8_t code) {
  const char *name = OP_NAMES[code];
  int32_t act_min, act_max;
  if (code == HIL_OP_LUT) {
    if (m->tensors[rd16(r + HIL_OP_LUT_IN)].length != m->tensors[rd16(r + HIL_OP_LUT_OUT)].length)
      return fail(w, ERR_INVALID, "op %u (%s): lengths differ", i, name);
    if (r[HIL_OP_LUT_KIND] > HIL_LUT_MAX_KIND) return fail(w, ERR_INVALID, "op %u (LUT): kind %u unknown", i, (uint32_t)r[HIL_OP_LUT_KIND]);
    return 0;
  }
  /* MUL, ADD and SUB share the positions of in1, in2 and out. */
  const uint16_t len = m->tensors[rd16(r + HIL_OP_MUL_IN1)].length;
  if (m->tensors[rd16(r + HIL_OP_MUL_IN2)].length != len || m->tensors[rd16(r + HIL_OP_MUL_OUT)].length != len)
    return fail(w, ERR_INVALID, "op %u (%s): lengths differ", i, name);
  if (code == HIL_OP_MUL) {
    act_min = (int8_t)r[HIL_OP_MUL_ACT_MIN]; act_max = (int8_t)r[HIL_OP_MUL_ACT_MAX];
    if (!multiplier_ok(rdi32(r + HIL_OP_MUL_MO), (int8_t)r[HIL_OP_MUL_SHO])) return fail(w, ERR_INVALID, "op %u (%s): multiplier out of range", i, name);
  } else {
    act_min = (int8_t)r[HIL_OP_ADD_ACT_MIN]; act_max = (int8_t)r[HIL_OP_ADD_ACT_MAX];
    if (r[HIL_OP_ADD_LEFT_SHIFT] > HIL_MAX_ADD_LEFT_SHIFT)
      return fail(w, ERR_INVALID, "op %u (%s): left_shift %u above 23", i, name, (uint32_t)r[HIL_OP_ADD_LEFT_SHIFT]);
    if (!multiplier_ok(rdi32(r + HIL_OP_ADD_M1), (int8_t)r[HIL_OP_ADD_SH1]) || !multiplier_ok(rdi32(r + HIL_OP_ADD_M2), (int8_t)r[HIL_OP_ADD_SH2]) ||
        !multiplier_ok(rdi32(r + HIL_OP_ADD_MO), (int8_t)r[HIL_OP_ADD_SHO]))
      return fail(w, ERR_INVALID, "op %u (%s): multiplier out of range", i, name);
  }
  if (act_min > act_max) return fail(w, ERR_INVALID, "op %u (%s): act_min %d > act_max %d", i, name, act_min, act_max);
  return 0;
}

/* Tensor ids an op reads (up to 2) and writes. */
static uint32_t op_tensors(const uint8_t *r, uint16_t *reads, uint16_t *write) {
  const uint8_t code = r[HIL_OPREC_CODE];
  if (code == HIL_OP_FC) { reads[0] = rd16(r + HIL_OP_FC_IN); *write = rd16(r + HIL_OP_FC_OUT); return 1; }
  if (code == HIL_OP_LUT) { reads[0] = rd16(r + HIL_OP_LUT_IN); *write = rd16(r + HIL_OP_LUT_OUT); return 1; }
  if (code == HIL_OP_FC16) { reads[0] = rd16(r + HIL_OP_FC16_IN); *write = rd16(r + HIL_OP_FC16_OUT); return 1; }
  if (code == HIL_OP_QUANTIZE || code == HIL_OP_LUT16) { reads[0] = rd16(r + HIL_OP_QUANTIZE_IN); *write = rd16(r + HIL_OP_QUANTIZE_OUT); return 1; }
  reads[0] = rd16(r + HIL_OP_MUL_IN1); reads[1] = rd16(r + HIL_OP_MUL_IN2); *write = rd16(r + HIL_OP_MUL_OUT); return 2;
}

static int validate(hil_model_t *m, why_t *w, uint32_t arena_capacity, uintptr_t arena_addr) {
  const uint8_t *b = m->blob;
  const uint32_t n = m->blob_bytes;
  if (n < HIL_BLOB_HEADER_BYTES) return fail(w, ERR_INVALID, "blob too short for the header (%u bytes)", n);
  if (((uintptr_t)b & 15u) != 0) return fail(w, ERR_INVALID, "blob is not 16-byte aligned in memory (port bug)");
  if (memcmp(b + HIL_HDR_MAGIC, HIL_BLOB_MAGIC, 4) != 0) return fail(w, ERR_INVALID, "bad magic (not a hil model blob)");
  if (rd16(b + HIL_HDR_FORMAT_VERSION) != HIL_BLOB_FORMAT_VERSION)
    return fail(w, ERR_INVALID, "format version %u unsupported (expected %u)", (uint32_t)rd16(b + HIL_HDR_FORMAT_VERSION), HIL_BLOB_FORMAT_VERSION);
  if (rd16(b + HIL_HDR_HEADER_SIZE) != HIL_BLOB_HEADER_BYTES)
    return fail(w, ERR_INVALID, "header size %u unsupported (expected %u)", (uint32_t)rd16(b + HIL_HDR_HEADER_SIZE), HIL_BLOB_HEADER_BYTES);
  if (rd32(b + HIL_HDR_TOTAL_BYTES) != n) return fail(w, ERR_INVALID, "total size %u does not match the %u bytes received", rd32(b + HIL_HDR_TOTAL_BYTES), n);
  if (hil_crc32(0, b + HIL_HDR_FLAGS, n - HIL_HDR_FLAGS) != rd32(b + HIL_HDR_CRC32)) return fail(w, ERR_INVALID, "CRC mismatch (blob corrupted in transfer or storage)");
  if (rd32(b + HIL_HDR_FLAGS) != 0) return fail(w, ERR_INVALID, "flags %u unsupported (expected 0)", rd32(b + HIL_HDR_FLAGS));
  m->n_fft = rd16(b + HIL_HDR_N_FFT);
  m->hop = rd16(b + HIL_HDR_HOP);
  if (m->n_fft != HIL_FFT_N) return fail(w, ERR_INVALID, "n_fft %u unsupported (expected 512)", (uint32_t)m->n_fft);
  if (m->hop != 128 && m->hop != 256) return fail(w, ERR_INVALID, "hop %u unsupported (expected 128 or 256)", (uint32_t)m->hop);
  if (rd32(b + HIL_HDR_SAMPLE_RATE) != HIL_BLOB_SAMPLE_RATE)
    return fail(w, ERR_INVALID, "sample rate %u unsupported (expected %u)", rd32(b + HIL_HDR_SAMPLE_RATE), HIL_BLOB_SAMPLE_RATE);
  m->n_bins = (uint16_t)(m->n_fft / 2u + 1u);
  m->n_tensors = rd16(b + HIL_HDR_N_TENSORS);
  m->n_ops = rd16(b + HIL_HDR_N_OPS);
  if (m->n_tensors < 1 || m->n_tensors > HIL_MAX_TENSORS) return fail(w, ERR_INVALID, "n_tensors %u out of range [1, 128]", (uint32_t)m->n_tensors);
  if (m->n_ops < 1 || m->n_ops > HIL_MAX_OPS) return fail(w, ERR_INVALID, "n_ops %u out of range [1, 128]", (uint32_t)m->n_ops);
  m->input_id = rd16(b + HIL_HDR_INPUT_ID);
  m->output_id = rd16(b + HIL_HDR_OUTPUT_ID);
  if (m->input_id >= m->n_tensors) return fail(w, ERR_INVALID, "input tensor id %u out of range", (uint32_t)m->input_id);
  if (m->output_id >= m->n_tensors) return fail(w, ERR_INVALID, "output tensor id %u out of range", (uint32_t)m->output_id);
  const uint32_t tt = rd32(b + HIL_HDR_TENSOR_TABLE), ot = rd32(b + HIL_HDR_OP_TABLE);
  const uint64_t tt_end = (uint64_t)tt + HIL_TENSOR_RECORD_BYTES * m->n_tensors;
  if ((tt & 15u) || tt < HIL_BLOB_HEADER_BYTES || tt_end > n) return fail(w, ERR_INVALID, "tensor table outside the blob or misaligned");
  if ((ot & 15u) || ot < tt_end || ot > n) return fail(w, ERR_INVALID, "op table outside the blob, misaligned or overlapping the tensor table");
  uint32_t pos = ot;
  for (uint32_t i = 0; i < m->n_ops; i++) {
    if ((uint64_t)pos + 4u > n) return fail(w, ERR_INVALID, "op %u: record outside the blob", i);
    const uint8_t code = b[pos + HIL_OPREC_CODE];
    if (code < HIL_OP_FC || code > HIL_OP_MAX_CODE) return fail(w, ERR_INVALID, "op %u: unknown code %u", i, (uint32_t)code);
    const uint16_t size = rd16(b + pos + HIL_OPREC_SIZE);
    if (size != OP_RECORD_BYTES[code])
      return fail(w, ERR_INVALID, "op %u (%s): record size %u (expected %u)", i, OP_NAMES[code], (uint32_t)size, (uint32_t)OP_RECORD_BYTES[code]);
    if ((uint64_t)pos + size > n) return fail(w, ERR_INVALID, "op %u: record outside the blob", i);
    m->ops[i] = b + pos;
    pos += size;
  }
  const uint32_t data_start = pos;
  const uint32_t wa = rd32(b + HIL_HDR_WIN_A), ws = rd32(b + HIL_HDR_WIN_S);
  if (!array_ok(wa, 2u * m->n_fft, data_start, n)) return fail(w, ERR_INVALID, "win_a outside the data area or misaligned");
  if (!array_ok(ws, 2u * m->n_fft, data_start, n)) return fail(w, ERR_INVALID, "win_s outside the data area or misaligned");
  m->win_a = (const int16_t *)(const void *)(b + wa);
  m->win_s = (const int16_t *)(const void *)(b + ws);
  m->feat_mult = rdi32(b + HIL_HDR_FEAT_MULT);
  m->feat_shift = (int8_t)b[HIL_HDR_FEAT_SHIFT];
  if (!multiplier_ok(m->feat_mult, m->feat_shift))
    return fail(w, ERR_INVALID, "feature multiplier out of range (M %d, shift %d)", m->feat_mult, (int32_t)m->feat_shift);
  m->model_id = rd32(b + HIL_HDR_MODEL_ID);

  for (uint32_t t = 0; t < m->n_tensors; t++) {
    const uint8_t *r = b + tt + HIL_TENSOR_RECORD_BYTES * t;
    hil_tensor_t *x = &m->tensors[t];
    x->length = rd16(r + HIL_TENSOR_LENGTH);
    x->flags = r[HIL_TENSOR_FLAGS];
    x->zero_point = rdi32(r + HIL_TENSOR_ZERO_POINT);
    x->next = rd16(r + HIL_TENSOR_NEXT);
    x->ptr = 0;
    if (x->length == 0) return fail(w, ERR_INVALID, "tensor %u: length 0", t);
    if (x->flags & ~(HIL_TENSOR_FLAG_STATE | HIL_TENSOR_FLAG_INT16)) return fail(w, ERR_INVALID, "tensor %u: unknown flags %u", t, (uint32_t)x->flags);
    x->dtype = (x->flags & HIL_TENSOR_FLAG_INT16) ? DTYPE_INT16 : DTYPE_INT8;
    if (x->dtype == DTYPE_INT8 && (x->zero_point < -128 || x->zero_point > 127))
      return fail(w, ERR_INVALID, "tensor %u: zero point %d outside [-128, 127]", t, x->zero_point);
    if (x->dtype == DTYPE_INT16 && x->zero_point != 0) return fail(w, ERR_INVALID, "tensor %u: int16 zero point %d (expected 0)", t, x->zero_point);
    if (x->dtype == DTYPE_INT16 && (x->flags & HIL_TENSOR_FLAG_STATE)) return fail(w, ERR_INVALID, "tensor %u: a state tensor must be int8", t);
  }
  for (uint32_t t = 0; t < m->n_tensors; t++) {
    const hil_tensor_t *x = &m->tensors[t];
    if (!(x->flags & HIL_TENSOR_FLAG_STATE)) {
      if (x->next != HIL_NO_TENSOR) return fail(w, ERR_INVALID, "tensor %u: next %u set on a non-state tensor", t, (uint32_t)x->next);
      continue;
    }
    if (x->next >= m->n_tensors) return fail(w, ERR_INVALID, "tensor %u: state's next %u out of range", t, (uint32_t)x->next);
    const hil_tensor_t *nx = &m->tensors[x->next];
    if (nx->length != x->length || nx->zero_point != x->zero_point ||
        rd32(b + tt + HIL_TENSOR_RECORD_BYTES * x->next + HIL_TENSOR_SCALE) != rd32(b + tt + HIL_TENSOR_RECORD_BYTES * t + HIL_TENSOR_SCALE))
      return fail(w, ERR_INVALID, "tensor %u: state's next %u differs in length, scale or zero point", t, (uint32_t)x->next);
    if (nx->dtype != DTYPE_INT8) return fail(w, ERR_INVALID, "tensor %u: state's next %u is not int8", t, (uint32_t)x->next);
  }
  const hil_tensor_t *tin = &m->tensors[m->input_id], *tout = &m->tensors[m->output_id];
  if (tin->length != m->n_bins) return fail(w, ERR_INVALID, "input tensor length %u (expected %u)", (uint32_t)tin->length, (uint32_t)m->n_bins);
  if (tin->flags & HIL_TENSOR_FLAG_STATE) return fail(w, ERR_INVALID, "input tensor is a state tensor");
  if (tin->dtype != DTYPE_INT8) return fail(w, ERR_INVALID, "input tensor must be int8");
  const uint32_t out_scale = rd32(b + tt + HIL_TENSOR_RECORD_BYTES * m->output_id + HIL_TENSOR_SCALE);
  if (tout->dtype == DTYPE_INT16) {
    if (tout->length != m->n_bins || out_scale != HIL_OUTPUT16_SCALE_BITS)
      return fail(w, ERR_INVALID, "int16 output tensor must have length %u and scale 1/32768", (uint32_t)m->n_bins);
  } else if (tout->length != m->n_bins || tout->zero_point != -128 || out_scale != HIL_OUTPUT_SCALE_BITS)
    return fail(w, ERR_INVALID, "output tensor must have length %u, zero point -128 and scale 1/256", (uint32_t)m->n_bins);

  /* Ops: ids, data flow, then per-code checks. `ready` marks tensors holding this frame's values. */
  uint8_t ready[HIL_MAX_TENSORS];
  for (uint32_t t = 0; t < m->n_tensors; t++) ready[t] = (m->tensors[t].flags & HIL_TENSOR_FLAG_STATE) || t == m->input_id;
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const uint8_t *r = m->ops[i];
    const uint8_t code = r[HIL_OPREC_CODE];
    uint16_t reads[2], out;
    const uint32_t nr = op_tensors(r, reads, &out);
    for (uint32_t k = 0; k < nr; k++)
      if (reads[k] >= m->n_tensors) return fail(w, ERR_INVALID, "op %u (%s): tensor id %u out of range", i, OP_NAMES[code], (uint32_t)reads[k]);
    if (out >= m->n_tensors) return fail(w, ERR_INVALID, "op %u (%s): tensor id %u out of range", i, OP_NAMES[code], (uint32_t)out);
    for (uint32_t k = 0; k < nr; k++)
      if (!ready[reads[k]]) return fail(w, ERR_INVALID, "op %u (%s): reads tensor %u before it is written", i, OP_NAMES[code], (uint32_t)reads[k]);
    if ((m->tensors[out].flags & HIL_TENSOR_FLAG_STATE) || out == m->input_id)
      return fail(w, ERR_INVALID, "op %u (%s): writes tensor %u, the input or a state tensor", i, OP_NAMES[code], (uint32_t)out);
    /* The 16-bit ops are the only ones that touch int16 tensors (§5). */
    const uint8_t want_in = (code == HIL_OP_FC16 || code == HIL_OP_LUT16) ? DTYPE_INT16 : DTYPE_INT8;
    const uint8_t want_out = code >= HIL_OP_FC16 ? DTYPE_INT16 : DTYPE_INT8;
    for (uint32_t k = 0; k < nr; k++)
      if (m->tensors[reads[k]].dtype != want_in)
        return fail(w, ERR_INVALID, "op %u (%s): tensor %u is %s (expected %s)", i, OP_NAMES[code], (uint32_t)reads[k],
                    dtype_name(m->tensors[reads[k]].dtype), dtype_name(want_in));
    if (m->tensors[out].dtype != want_out)
      return fail(w, ERR_INVALID, "op %u (%s): tensor %u is %s (expected %s)", i, OP_NAMES[code], (uint32_t)out,
                  dtype_name(m->tensors[out].dtype), dtype_name(want_out));
    const int rc = code == HIL_OP_FC     ? validate_fc(w, m, i, r, data_start)
                   : code == HIL_OP_FC16 ? validate_fc16(w, m, i, r, data_start)
                   : (code == HIL_OP_QUANTIZE || code == HIL_OP_LUT16) ? validate_widening(w, m, i, r, code, data_start)
                                                                        : validate_elementwise(w, m, i, r, code);
    if (rc) return rc;
    ready[out] = 1;
  }

  /* Arena (§8): inbuf, ola, re, im, then the tensors, each 16-byte aligned, tensors with 16 bytes of slack. */
  uint32_t a = 0;
  a += round16(2u * m->n_fft);
  a += 3u * round16(4u * m->n_fft);
  for (uint32_t t = 0; t < m->n_tensors; t++) a += round16(tensor_bytes(&m->tensors[t])) + 16u;
  m->arena_bytes = a;
  const uint32_t pad = (uint32_t)((16u - (arena_addr & 15u)) & 15u);
  const uint32_t usable = arena_capacity > pad ? arena_capacity - pad : 0u;
  if (a > usable) return fail(w, ERR_ARENA, "arena needs %u bytes, capacity %u", a, usable);
  return 0;
}

int hil_model_load(hil_model_t *m, const uint8_t *blob, uint32_t blob_bytes, uint8_t *arena, uint32_t arena_capacity,
                   char *why, uint32_t why_size) {
  why_t w = {why, why_size, 0};
  memset(m, 0, sizeof *m);
  m->blob = blob;
  m->blob_bytes = blob_bytes;
  if (why && why_size) why[0] = 0;
  const int rc = validate(m, &w, arena_capacity, (uintptr_t)arena);
  if (rc) {
    m->blob = 0; /* an invalid model never runs */
    m->n_ops = 0;
    return rc;
  }
  uint8_t *base = arena + ((16u - ((uintptr_t)arena & 15u)) & 15u);
  memset(base, 0, m->arena_bytes); /* includes the slack block kernels may read */
  uint32_t a = 0;
  m->inbuf = (int16_t *)(void *)(base + a); a += round16(2u * m->n_fft);
  m->ola = (int32_t *)(void *)(base + a); a += round16(4u * m->n_fft);
  m->re = (int32_t *)(void *)(base + a); a += round16(4u * m->n_fft);
  m->im = (int32_t *)(void *)(base + a); a += round16(4u * m->n_fft);
  for (uint32_t t = 0; t < m->n_tensors; t++) {
    m->tensors[t].ptr = base + a;
    a += round16(tensor_bytes(&m->tensors[t])) + 16u;
  }
  hil_model_reset_stream(m);
  hil_dsp_init(); /* the FFT's one-time set-up, so that no frame pays for it */
  return 0;
}

void hil_model_set_cost(hil_model_t *m, const hil_cost_params_t *params) {
  m->cost = *params;
  m->has_cost = 1;
}

void hil_model_set_clock(hil_model_t *m, uint64_t (*now)(void)) { m->clock = now; }

void hil_model_reset_stream(hil_model_t *m) {
  if (!m->blob) return;
  memset(m->inbuf, 0, 2u * m->n_fft);
  memset(m->ola, 0, 4u * m->n_fft);
  for (uint32_t t = 0; t < m->n_tensors; t++)
    if (m->tensors[t].flags & HIL_TENSOR_FLAG_STATE) memset(m->tensors[t].ptr, (int)(int8_t)m->tensors[t].zero_point, m->tensors[t].length);
}

static void run_fc(hil_model_t *m, const uint8_t *r, uint32_t *macs, uint32_t *weight_bytes) {
  const uint8_t *b = m->blob;
  const hil_tensor_t *tin = &m->tensors[rd16(r + HIL_OP_FC_IN)], *tout = &m->tensors[rd16(r + HIL_OP_FC_OUT)];
  hil_fc_args_t a;
  a.x = (const int8_t *)tin->ptr;
  a.y = (int8_t *)tout->ptr;
  a.in_features = rd16(r + HIL_OP_FC_IN_FEATURES);
  a.out_features = rd16(r + HIL_OP_FC_OUT_FEATURES);
  a.act_min = (int8_t)r[HIL_OP_FC_ACT_MIN];
  a.act_max = (int8_t)r[HIL_OP_FC_ACT_MAX];
  a.per_channel = r[HIL_OP_FC_PER_CHANNEL];
  a.out_zp = tout->zero_point;
  a.bias_eff = (const int32_t *)(const void *)(b + rd32(r + HIL_OP_FC_BIAS_EFF));
  a.mult = (const int32_t *)(const void *)(b + rd32(r + HIL_OP_FC_MULT));
  a.shift = (const int8_t *)(b + rd32(r + HIL_OP_FC_SHIFT));
  const uint8_t *wt = b + rd32(r + HIL_OP_FC_WEIGHTS);
  const uint32_t nnz = rd32(r + HIL_OP_FC_NNZ), in = a.in_features, out = a.out_features;
  switch (r[HIL_OPREC_ENCODING]) {
    case HIL_ENC_DENSE:
      hil_fc_dense(&a, (const int8_t *)wt);
      *macs = out * in;
      *weight_bytes = out * in;
      break;
    case HIL_ENC_BLOCK: {
      hil_fc_block_t bw;
      bw.br = r[HIL_OP_FC_BR];
      bw.bc = r[HIL_OP_FC_BC];
      const uint32_t nbr = (out + bw.br - 1u) / bw.br;
      bw.row_ptr = (const uint16_t *)(const void *)wt;
      bw.col_idx = bw.row_ptr + nbr + 1u;
      bw.blocks = (const int8_t *)(wt + block_index_bytes(nbr, nnz));
      hil_fc_block(&a, &bw);
      *macs = nnz * bw.br * bw.bc;
      *weight_bytes = nnz * bw.br * bw.bc + 2u * (nbr + 1u + nnz);
      break;
    }
    case HIL_ENC_CSR4: {
      /* weights_bytes = row table (padded to 4) + codes + values (validated), so the values are its last nnz
       * bytes and the kernel reads all of it but the row table's padding. */
      const uint32_t w_bytes = rd32(r + HIL_OP_FC_WEIGHTS_BYTES), index = (uint32_t)csr_index_bytes(out);
      hil_fc_csr4_t cw;
      cw.row_codes = (const uint16_t *)(const void *)wt;
      cw.codes = wt + index;
      cw.value = (const int8_t *)(wt + w_bytes - nnz);
      hil_fc_csr4(&a, &cw);
      *macs = nnz;
      *weight_bytes = w_bytes - (index - 2u * out);
      break;
    }
    default: { /* HIL_ENC_CSR: the loader accepts no other encoding */
      hil_fc_csr_t cw;
      cw.row_nnz = (const uint16_t *)(const void *)wt;
      cw.delta = wt + csr_index_bytes(out);
      cw.value = (const int8_t *)(cw.delta + nnz);
      hil_fc_csr(&a, &cw);
      *macs = nnz;
      *weight_bytes = 2u * nnz + 2u * out;
      break;
    }
  }
}

void hil_model_run_frame(hil_model_t *m, const int16_t *in, int16_t *out, hil_frame_counters_t *counters) {
  hil_frame_counters_t c;
  memset(&c, 0, sizeof c);
  if (!m->blob) {
    if (counters) *counters = c;
    return;
  }
  const uint32_t hop = m->hop, nb = m->n_bins; /* n_fft is HIL_FFT_N (validated) */
  int32_t *re = m->re, *im = m->im;

  /* 1-3: shift in, window, forward FFT */
  hil_dsp_analysis(m->inbuf, in, hop, m->win_a, re, im);
  hil_fft(re, im, 0);

  /* 4-6: power, log feature, input quantisation */
  const hil_tensor_t *tin = &m->tensors[m->input_id];
  hil_dsp_features(re, im, nb, tin->zero_point, m->feat_mult, m->feat_shift, (int8_t *)tin->ptr);

  /* 7: the graph, then the state copies (timed on their own when the model has a clock) */
  const uint64_t net_t0 = m->clock ? m->clock() : 0u;
  uint64_t cycles = 0; /* the ops' modelled cycles; frontend_cycles is added below */
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const uint8_t *r = m->ops[i];
    uint32_t macs = 0, wbytes = 0, elements = 0;
    const uint8_t code = r[HIL_OPREC_CODE];
    if (code == HIL_OP_FC) {
      run_fc(m, r, &macs, &wbytes);
    } else if (code == HIL_OP_FC16) {
      hil_fc_s16_params_t p;
      p.x = (const int16_t *)(const void *)m->tensors[rd16(r + HIL_OP_FC16_IN)].ptr;
      p.y = (int16_t *)(void *)m->tensors[rd16(r + HIL_OP_FC16_OUT)].ptr;
      p.w = (const int8_t *)(m->blob + rd32(r + HIL_OP_FC16_WEIGHTS));
      p.bias = (const int64_t *)(const void *)(m->blob + rd32(r + HIL_OP_FC16_BIAS));
      p.mult = (const int32_t *)(const void *)(m->blob + rd32(r + HIL_OP_FC16_MULT));
      p.shift = (const int8_t *)(m->blob + rd32(r + HIL_OP_FC16_SHIFT));
      p.in_features = rd16(r + HIL_OP_FC16_IN_FEATURES);
      p.out_features = rd16(r + HIL_OP_FC16_OUT_FEATURES);
      p.per_channel = r[HIL_OP_FC16_PER_CHANNEL];
      p.act_min = (int16_t)rd16(r + HIL_OP_FC16_ACT_MIN);
      p.act_max = (int16_t)rd16(r + HIL_OP_FC16_ACT_MAX);
      hil_fully_connected_s16(&p);
      macs = wbytes = (uint32_t)p.out_features * p.in_features;
    } else if (code == HIL_OP_QUANTIZE || code == HIL_OP_LUT16) {
      const hil_tensor_t *x = &m->tensors[rd16(r + HIL_OP_QUANTIZE_IN)], *y = &m->tensors[rd16(r + HIL_OP_QUANTIZE_OUT)];
      if (code == HIL_OP_QUANTIZE)
        hil_quantize_s8_s16((const int8_t *)x->ptr, (int16_t *)(void *)y->ptr, y->length, x->zero_point, rdi32(r + HIL_OP_QUANTIZE_M),
                            (int8_t)r[HIL_OP_QUANTIZE_SHIFT]);
      else
        hil_lut16_s16((const int16_t *)(const void *)(m->blob + rd32(r + HIL_OP_LUT16_TABLE)), (const int16_t *)(const void *)x->ptr,
                      (int16_t *)(void *)y->ptr, y->length);
      elements = y->length;
    } else if (code == HIL_OP_LUT) {
      const hil_tensor_t *x = &m->tensors[rd16(r + HIL_OP_LUT_IN)], *y = &m->tensors[rd16(r + HIL_OP_LUT_OUT)];
      hil_lut((const int8_t *)(r + HIL_OP_LUT_TABLE), (const int8_t *)x->ptr, (int8_t *)y->ptr, y->length);
      elements = y->length;
    } else {
      /* MUL, ADD and SUB share the positions of in1, in2 and out. */
      const hil_tensor_t *x1 = &m->tensors[rd16(r + HIL_OP_MUL_IN1)], *x2 = &m->tensors[rd16(r + HIL_OP_MUL_IN2)],
                         *y = &m->tensors[rd16(r + HIL_OP_MUL_OUT)];
      if (code == HIL_OP_MUL) {
        hil_mul(x1->zero_point, x2->zero_point, y->zero_point, rdi32(r + HIL_OP_MUL_MO), (int8_t)r[HIL_OP_MUL_SHO],
                (int8_t)r[HIL_OP_MUL_ACT_MIN], (int8_t)r[HIL_OP_MUL_ACT_MAX], (const int8_t *)x1->ptr, (const int8_t *)x2->ptr,
                (int8_t *)y->ptr, y->length);
        macs = y->length;
      } else {
        hil_add_params_t p;
        p.left_shift = r[HIL_OP_ADD_LEFT_SHIFT];
        p.zp1 = x1->zero_point; p.zp2 = x2->zero_point; p.out_zp = y->zero_point;
        p.m1 = rdi32(r + HIL_OP_ADD_M1); p.sh1 = (int8_t)r[HIL_OP_ADD_SH1];
        p.m2 = rdi32(r + HIL_OP_ADD_M2); p.sh2 = (int8_t)r[HIL_OP_ADD_SH2];
        p.mo = rdi32(r + HIL_OP_ADD_MO); p.sho = (int8_t)r[HIL_OP_ADD_SHO];
        p.act_min = (int8_t)r[HIL_OP_ADD_ACT_MIN]; p.act_max = (int8_t)r[HIL_OP_ADD_ACT_MAX];
        hil_add(&p, (const int8_t *)x1->ptr, (const int8_t *)x2->ptr, (int8_t *)y->ptr, y->length, code == HIL_OP_SUB);
      }
      elements = y->length;
    }
    c.macs += macs;
    c.weight_bytes += wbytes;
    c.elements += elements;
    c.ops++;
    if (m->has_cost) cycles += hil_cost_op_cycles(&m->cost, code == HIL_OP_FC || code == HIL_OP_FC16, macs, wbytes, elements);
  }
  for (uint32_t t = 0; t < m->n_tensors; t++) {
    const hil_tensor_t *s = &m->tensors[t];
    if (s->flags & HIL_TENSOR_FLAG_STATE) memcpy(s->ptr, m->tensors[s->next].ptr, s->length);
  }
  if (m->clock) c.network_clock = m->clock() - net_t0;
  c.network_modelled_cycles = m->has_cost ? hil_cost_saturate(cycles) : 0u;
  c.modelled_cycles = m->has_cost ? hil_cost_saturate(cycles + m->cost.frontend_cycles) : 0u;

  /* 8: mask the spectrum, mirror it for the real inverse */
  if (m->tensors[m->output_id].dtype == DTYPE_INT16)
    hil_dsp_mask16(re, im, (const int16_t *)(const void *)m->tensors[m->output_id].ptr, nb);
  else
    hil_dsp_mask(re, im, (const int8_t *)m->tensors[m->output_id].ptr, nb);

  /* 9-11: inverse FFT, synthesis window, overlap-add, shift out */
  hil_fft(re, im, 1);
  hil_dsp_synthesis(m->ola, re, m->win_s, hop, out);
  if (counters) *counters = c;
}
